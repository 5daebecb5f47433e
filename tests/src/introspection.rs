//! A schema rebuilt from an introspection answer, compared with an SDL text: both are turned into
//! the same set of lines — one per type, field, argument, input field, enum value, union member,
//! interface and directive, each with its type, default, description and deprecation — so a
//! difference names the item that differs.

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{
    ConstDirective, FieldDefinition, InputValueDefinition, TypeKind, TypeSystemDefinition,
};
use serde_json::Value;
use std::collections::BTreeSet;

const BUILT_IN_SCALARS: [&str; 5] = ["String", "Int", "Float", "Boolean", "ID"];
/// The directives the GraphQL specification defines: every server has them, and schema printers
/// (graphql-js's `printSchema`, async-graphql's SDL) leave some or all of them out.
const BUILT_IN_DIRECTIVES: [&str; 5] = ["include", "skip", "deprecated", "specifiedBy", "oneOf"];

fn text(description: Option<&str>) -> String {
    description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty()).map_or(String::new(), |d| format!(" {d:?}"))
}

fn deprecated(directives: &[async_graphql::Positioned<ConstDirective>]) -> String {
    directives
        .iter()
        .find(|d| d.node.name.node == "deprecated")
        .map(|d| {
            let reason = d.node.get_argument("reason").map(|r| match &r.node {
                async_graphql::Value::String(s) => s.clone(),
                other => other.to_string(),
            });
            format!(" deprecated({})", reason.unwrap_or_else(|| "No longer supported".into()))
        })
        .unwrap_or_default()
}

fn no_space(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != ',').collect()
}

fn repeatable(sdl: &str, directive: &str) -> bool {
    let start = format!("directive @{directive}");
    sdl.lines().any(|l| l.starts_with(&start) && l.contains(" repeatable "))
}

/// The items of an SDL text.
pub fn sdl_items(sdl: &str) -> BTreeSet<String> {
    let doc = parse_schema(sdl).expect("the SDL parses");
    let mut items = BTreeSet::new();
    let input = |items: &mut BTreeSet<String>, owner: &str, v: &InputValueDefinition| {
        let default =
            v.default_value.as_ref().map(|d| format!(" = {}", no_space(&d.node.to_string()))).unwrap_or_default();
        items.insert(format!(
            "input value {owner}({}): {}{default}{}{}",
            v.name.node,
            v.ty.node,
            text(v.description.as_ref().map(|d| d.node.as_str())),
            deprecated(&v.directives)
        ));
    };
    let field = |items: &mut BTreeSet<String>, owner: &str, f: &FieldDefinition| {
        items.insert(format!(
            "field {owner}.{}: {}{}{}",
            f.name.node,
            f.ty.node,
            text(f.description.as_ref().map(|d| d.node.as_str())),
            deprecated(&f.directives)
        ));
        for a in &f.arguments {
            input(items, &format!("{owner}.{}", f.name.node), &a.node);
        }
    };
    for def in doc.definitions {
        match def {
            TypeSystemDefinition::Schema(s) => {
                let s = s.node;
                let name = |t: &Option<async_graphql::Positioned<async_graphql::Name>>| {
                    t.as_ref().map_or("-".to_string(), |n| n.node.to_string())
                };
                items.insert(format!(
                    "schema query={} mutation={} subscription={}",
                    name(&s.query),
                    name(&s.mutation),
                    name(&s.subscription)
                ));
            }
            TypeSystemDefinition::Directive(d) => {
                let d = d.node;
                if BUILT_IN_DIRECTIVES.contains(&d.name.node.as_str()) {
                    continue;
                }
                let locations: Vec<String> = d.locations.iter().map(|l| format!("{:?}", l.node)).collect();
                items.insert(format!(
                    "directive @{} on {}{}{}",
                    d.name.node,
                    locations.join("|").to_uppercase(),
                    // The parser marks every directive repeatable: read the definition's own text.
                    if repeatable(sdl, &d.name.node) { " repeatable" } else { "" },
                    text(d.description.as_ref().map(|x| x.node.as_str()))
                ));
                for a in &d.arguments {
                    input(&mut items, &format!("@{}", d.name.node), &a.node);
                }
            }
            TypeSystemDefinition::Type(t) => {
                let t = t.node;
                let name = t.name.node.to_string();
                let description = text(t.description.as_ref().map(|d| d.node.as_str()));
                let kind = match &t.kind {
                    TypeKind::Scalar => "SCALAR",
                    TypeKind::Object(_) => "OBJECT",
                    TypeKind::Interface(_) => "INTERFACE",
                    TypeKind::Union(_) => "UNION",
                    TypeKind::Enum(_) => "ENUM",
                    TypeKind::InputObject(_) => "INPUT_OBJECT",
                };
                let specified_by = t
                    .directives
                    .iter()
                    .find(|d| d.node.name.node == "specifiedBy")
                    .and_then(|d| d.node.get_argument("url").map(|u| format!(" specifiedBy({})", u.node)))
                    .unwrap_or_default();
                let one_of = if t.directives.iter().any(|d| d.node.name.node == "oneOf") { " oneOf" } else { "" };
                items.insert(format!("type {name}: {kind}{specified_by}{one_of}{description}"));
                match &t.kind {
                    TypeKind::Object(o) => {
                        for i in &o.implements {
                            items.insert(format!("implements {name}: {}", i.node));
                        }
                        for f in &o.fields {
                            field(&mut items, &name, &f.node);
                        }
                    }
                    TypeKind::Interface(o) => {
                        for i in &o.implements {
                            items.insert(format!("implements {name}: {}", i.node));
                        }
                        for f in &o.fields {
                            field(&mut items, &name, &f.node);
                        }
                    }
                    TypeKind::Union(u) => {
                        for m in &u.members {
                            items.insert(format!("member {name}: {}", m.node));
                        }
                    }
                    TypeKind::Enum(e) => {
                        for v in &e.values {
                            items.insert(format!(
                                "enum value {name}.{}{}{}",
                                v.node.value.node,
                                text(v.node.description.as_ref().map(|d| d.node.as_str())),
                                deprecated(&v.node.directives)
                            ));
                        }
                    }
                    TypeKind::InputObject(i) => {
                        for f in &i.fields {
                            input(&mut items, &name, &f.node);
                        }
                    }
                    TypeKind::Scalar => {}
                }
            }
        }
    }
    items
}

fn type_ref(t: &Value) -> String {
    match t["kind"].as_str().unwrap_or_default() {
        "NON_NULL" => format!("{}!", type_ref(&t["ofType"])),
        "LIST" => format!("[{}]", type_ref(&t["ofType"])),
        _ => t["name"].as_str().expect("a named type at the end of a type reference").to_string(),
    }
}

fn json_deprecated(v: &Value) -> String {
    if v["isDeprecated"].as_bool() == Some(true) {
        format!(" deprecated({})", v["deprecationReason"].as_str().unwrap_or("No longer supported"))
    } else {
        String::new()
    }
}

fn json_input(items: &mut BTreeSet<String>, owner: &str, v: &Value) {
    let default = v["defaultValue"].as_str().map(|d| format!(" = {}", no_space(d))).unwrap_or_default();
    items.insert(format!(
        "input value {owner}({}): {}{default}{}{}",
        v["name"].as_str().unwrap(),
        type_ref(&v["type"]),
        text(v["description"].as_str()),
        json_deprecated(v)
    ));
}

/// The items of an introspection answer (`data` of the standard introspection query).
pub fn introspection_items(data: &Value) -> BTreeSet<String> {
    let schema = &data["__schema"];
    let mut items = BTreeSet::new();
    let name = |v: &Value| v["name"].as_str().map_or("-".to_string(), str::to_string);
    items.insert(format!(
        "schema query={} mutation={} subscription={}",
        name(&schema["queryType"]),
        name(&schema["mutationType"]),
        name(&schema["subscriptionType"])
    ));
    for d in schema["directives"].as_array().expect("directives") {
        let locations: Vec<String> =
            d["locations"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().replace('_', "")).collect();
        let dname = d["name"].as_str().unwrap();
        if BUILT_IN_DIRECTIVES.contains(&dname) {
            continue;
        }
        items.insert(format!(
            "directive @{dname} on {}{}{}",
            locations.join("|"),
            if d["isRepeatable"].as_bool() == Some(true) { " repeatable" } else { "" },
            text(d["description"].as_str())
        ));
        for a in d["args"].as_array().unwrap() {
            json_input(&mut items, &format!("@{dname}"), a);
        }
    }
    for t in schema["types"].as_array().expect("types") {
        let tname = t["name"].as_str().unwrap();
        if tname.starts_with("__") || BUILT_IN_SCALARS.contains(&tname) {
            continue;
        }
        let kind = t["kind"].as_str().unwrap();
        let specified_by = t["specifiedByURL"].as_str().map(|u| format!(" specifiedBy({u:?})")).unwrap_or_default();
        let one_of = if t["isOneOf"].as_bool() == Some(true) { " oneOf" } else { "" };
        items.insert(format!("type {tname}: {kind}{specified_by}{one_of}{}", text(t["description"].as_str())));
        for i in t["interfaces"].as_array().into_iter().flatten() {
            items.insert(format!("implements {tname}: {}", i["name"].as_str().unwrap()));
        }
        for f in t["fields"].as_array().into_iter().flatten() {
            let fname = f["name"].as_str().unwrap();
            items.insert(format!(
                "field {tname}.{fname}: {}{}{}",
                type_ref(&f["type"]),
                text(f["description"].as_str()),
                json_deprecated(f)
            ));
            for a in f["args"].as_array().unwrap() {
                json_input(&mut items, &format!("{tname}.{fname}"), a);
            }
        }
        if kind == "UNION" {
            for m in t["possibleTypes"].as_array().into_iter().flatten() {
                items.insert(format!("member {tname}: {}", m["name"].as_str().unwrap()));
            }
        }
        for v in t["enumValues"].as_array().into_iter().flatten() {
            items.insert(format!(
                "enum value {tname}.{}{}{}",
                v["name"].as_str().unwrap(),
                text(v["description"].as_str()),
                json_deprecated(v)
            ));
        }
        for f in t["inputFields"].as_array().into_iter().flatten() {
            json_input(&mut items, tname, f);
        }
    }
    items
}
