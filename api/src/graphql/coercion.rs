//! Where an argument did not coerce, for its VALIDATION error.
//!
//! async-graphql refuses an argument whose value does not parse as its type (a date "2026-W05",
//! a UUID "x", a missing variable) while it executes, naming the scalar and the input object type
//! but not the place in the input: `Failed to parse "NaiveDate": input contains invalid characters
//! (occurred while parsing "RegisterPersonInput")`. This finds the argument by the error's
//! location, walks its value (variables resolved) along the schema's input types, and answers the
//! error as the store's VALIDATION errors are: every value that does not coerce by its path
//! (`input.birthDate`, `items.3.payload.person.birthDate`, `unitIds.1`) and the format its type
//! takes, in `extensions.fields`.
//!
//! Only errors run through it: the schema's types are read (from its SDL) on the first one.

use crate::error::{ApiError, FieldError};
use async_graphql::parser::types::{
    BaseType, ExecutableDocument, OperationType, Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql::{InputType, Name, Pos, ServerError, Variables};
use async_graphql_value::{ConstValue, Value};
use std::collections::HashMap;
use std::sync::LazyLock;

/// The schema's fields (their arguments and types) and input objects, by name.
#[derive(Default)]
struct Types {
    /// (object or interface, field) → the field's arguments and the name of its type.
    fields: HashMap<(String, String), (HashMap<String, Type>, String)>,
    /// input object → its fields.
    inputs: HashMap<String, HashMap<String, Type>>,
}

static TYPES: LazyLock<Types> = LazyLock::new(|| {
    let mut types = Types::default();
    let Ok(doc) = async_graphql::parser::parse_schema(super::sdl()) else { return types };
    for def in doc.definitions {
        let TypeSystemDefinition::Type(t) = def else { continue };
        let name = t.node.name.node.to_string();
        let fields = match t.node.kind {
            TypeKind::Object(o) => o.fields,
            TypeKind::Interface(i) => i.fields,
            TypeKind::InputObject(i) => {
                let fields = i.fields.into_iter().map(|f| (f.node.name.node.to_string(), f.node.ty.node)).collect();
                types.inputs.insert(name, fields);
                continue;
            }
            _ => continue,
        };
        for f in fields {
            let args = f.node.arguments.into_iter().map(|a| (a.node.name.node.to_string(), a.node.ty.node)).collect();
            types
                .fields
                .insert((name.clone(), f.node.name.node.to_string()), (args, named(&f.node.ty.node).to_string()));
        }
    }
    types
});

fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(n) => n.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

/// Gives each error of an argument that did not coerce (an error of a field without a code)
/// the VALIDATION answer: its problems in `extensions.fields`, each with its path.
pub fn explain(errors: &mut [ServerError], doc: &ExecutableDocument, variables: &Variables, operation: Option<&str>) {
    for e in errors.iter_mut() {
        let coded = e.extensions.as_ref().is_some_and(|x| x.get("code").is_some());
        if coded || e.path.is_empty() {
            continue;
        }
        let Some(&at) = e.locations.first() else { continue };
        let Some((argument, ty, value)) = argument_at(doc, &TYPES, at) else { continue };
        let mut walk = Walk { variables, defaults: defaults(doc, operation), problems: Vec::new() };
        walk.value(ty, value, argument.to_string());
        if walk.problems.is_empty() {
            walk.problems.push(FieldError::new(argument, e.message.clone()));
        }
        let answer = ApiError::Validation(walk.problems).into_graphql(None);
        e.message = answer.message;
        e.extensions = answer.extensions;
    }
}

/// The default values of the operation's variables (null for a nullable one without).
fn defaults<'a>(doc: &'a ExecutableDocument, operation: Option<&str>) -> HashMap<&'a str, Option<&'a ConstValue>> {
    let op = match operation {
        Some(name) => doc.operations.iter().find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
        None => doc.operations.iter().next(),
    };
    op.map(|(_, op)| {
        op.node.variable_definitions.iter().map(|d| (d.node.name.node.as_str(), d.node.default_value())).collect()
    })
    .unwrap_or_default()
}

/// The argument whose value is at `at`: its name, type and value.
fn argument_at<'d>(doc: &'d ExecutableDocument, types: &'d Types, at: Pos) -> Option<(&'d str, &'d Type, &'d Value)> {
    fn search<'d>(
        set: &'d SelectionSet,
        on: &str,
        types: &'d Types,
        at: Pos,
    ) -> Option<(&'d str, &'d Type, &'d Value)> {
        for item in &set.items {
            let found = match &item.node {
                Selection::Field(f) => {
                    let key = (on.to_string(), f.node.name.node.to_string());
                    let Some((args, of)) = types.fields.get(&key) else { continue };
                    let here = f.node.arguments.iter().find(|(_, v)| v.pos == at);
                    match here.and_then(|(n, v)| Some((n.node.as_str(), args.get(n.node.as_str())?, &v.node))) {
                        Some(found) => Some(found),
                        None => search(&f.node.selection_set.node, of, types, at),
                    }
                }
                Selection::InlineFragment(f) => {
                    let on = f.node.type_condition.as_ref().map_or(on, |c| c.node.on.node.as_str());
                    search(&f.node.selection_set.node, on, types, at)
                }
                Selection::FragmentSpread(_) => None,
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }
    let operations = doc.operations.iter().map(|(_, op)| {
        let root = match op.node.ty {
            OperationType::Query => "Query",
            OperationType::Mutation => "Mutation",
            OperationType::Subscription => "Subscription",
        };
        (&op.node.selection_set.node, root)
    });
    let fragments =
        doc.fragments.values().map(|f| (&f.node.selection_set.node, f.node.type_condition.node.on.node.as_str()));
    operations.chain(fragments).find_map(|(set, on)| search(set, on, types, at))
}

struct Walk<'a> {
    variables: &'a Variables,
    defaults: HashMap<&'a str, Option<&'a ConstValue>>,
    problems: Vec<FieldError>,
}

impl Walk<'_> {
    fn value(&mut self, ty: &Type, value: &Value, path: String) {
        match value {
            Value::Variable(name) => match self.variable(name) {
                Some(v) => self.value(ty, &v.into_value(), path),
                None if !ty.nullable => self
                    .problems
                    .push(FieldError::new(path, format!("the variable ${name} is required and was not given"))),
                None => {}
            },
            Value::Null if !ty.nullable => self.problems.push(FieldError::new(path, "must not be null")),
            Value::Null => {}
            _ => match &ty.base {
                BaseType::List(inner) => match value {
                    Value::List(items) => {
                        for (i, item) in items.iter().enumerate() {
                            self.value(inner, item, format!("{path}.{i}"));
                        }
                    }
                    // A single value stands for a list of one.
                    one => self.value(inner, one, path),
                },
                BaseType::Named(name) => match TYPES.inputs.get(name.as_str()) {
                    Some(fields) => {
                        if let Value::Object(map) = value {
                            for (key, v) in map {
                                if let Some(fty) = fields.get(key.as_str()) {
                                    self.value(fty, v, format!("{path}.{key}"));
                                }
                            }
                        }
                    }
                    None => {
                        if let Some(expected) = scalar(name, value) {
                            self.problems.push(FieldError::new(path, expected));
                        }
                    }
                },
            },
        }
    }

    /// A variable's value: given, or the operation's default for it.
    fn variable(&self, name: &Name) -> Option<ConstValue> {
        match self.variables.get(name) {
            Some(v) => Some(v.clone()),
            None => self.defaults.get(name.as_str()).copied().flatten().cloned(),
        }
    }
}

/// What a scalar's value must look like, when `value` does not parse as it (the parse is the
/// executor's own); None when it does, or for a type that is not a scalar of the schema.
fn scalar(name: &str, value: &Value) -> Option<&'static str> {
    fn refuses<T: InputType>(value: &Value) -> bool {
        value.clone().into_const().is_none_or(|v| T::parse(Some(v)).is_err())
    }
    let (refused, expected) = match name {
        "UUID" => (refuses::<uuid::Uuid>(value), "must be a UUID (e.g. 0193a1c2-0000-7000-8000-000000000001)"),
        "NaiveDate" => (refuses::<chrono::NaiveDate>(value), "must be a calendar date as YYYY-MM-DD (e.g. 2026-11-20)"),
        "DateTime" => (
            refuses::<chrono::DateTime<chrono::Utc>>(value),
            "must be an RFC 3339 date and time (e.g. 2026-11-20T03:15:00Z)",
        ),
        "Int" => (refuses::<i32>(value), "must be an integer from -2147483648 to 2147483647"),
        "Float" => (refuses::<f64>(value), "must be a number"),
        "String" => (refuses::<String>(value), "must be a string"),
        "Boolean" => (refuses::<bool>(value), "must be true or false"),
        "ID" => (refuses::<async_graphql::ID>(value), "must be an id (a string)"),
        _ => return None,
    };
    refused.then_some(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explained(query: &str, argument: &str, variables: serde_json::Value) -> Vec<(String, String)> {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let variables = Variables::from_json(variables);
        // The executor's error: at the argument's value, on the field's path.
        let (_, op) = doc.operations.iter().next().unwrap();
        let Selection::Field(f) = &op.node.selection_set.node.items[0].node else { panic!() };
        let (_, value) = f.node.arguments.iter().find(|(n, _)| n.node.as_str() == argument).unwrap();
        let mut e = ServerError::new("Failed to parse", Some(value.pos));
        e.path = vec![async_graphql::PathSegment::Field(f.node.name.node.to_string())];
        let mut errors = [e];
        explain(&mut errors, &doc, &variables, None);
        let Some(async_graphql::Value::List(fields)) = errors[0].extensions.as_ref().unwrap().get("fields").cloned()
        else {
            panic!("no fields: {:?}", errors[0])
        };
        fields
            .into_iter()
            .map(|f| {
                let async_graphql::Value::Object(m) = f else { panic!() };
                (m["path"].to_string().replace('"', ""), m["message"].to_string())
            })
            .collect()
    }

    #[test]
    fn a_value_that_does_not_coerce_is_named_by_its_path_and_format() {
        let literal = explained(
            r#"mutation { registerPerson(input: { givenName: "A", familyName: "B", sex: MALE, birthDate: "2026-W05" }) { id } }"#,
            "input",
            serde_json::json!({}),
        );
        assert_eq!(literal.len(), 1);
        assert_eq!(literal[0].0, "input.birthDate");
        assert!(literal[0].1.contains("YYYY-MM-DD"), "{literal:?}");

        let inner = explained(
            r#"mutation($d: NaiveDate!) { registerPerson(input: { givenName: "A", familyName: "B", sex: MALE, birthDate: $d }) { id } }"#,
            "input",
            serde_json::json!({ "d": "2026-W05" }),
        );
        assert_eq!(inner[0].0, "input.birthDate");

        let listed = explained(
            r#"mutation($u: [UUID!]!) { createPartner(name: "N", kind: NGO, unitIds: $u) { id } }"#,
            "unitIds",
            serde_json::json!({ "u": ["0193a1c2-0000-7000-8000-000000000001", "x", "y"] }),
        );
        let paths: Vec<&str> = listed.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["unitIds.1", "unitIds.2"], "every problem at once");

        let missing = explained("query($id: UUID!) { person(id: $id) { id } }", "id", serde_json::json!({}));
        assert_eq!(missing[0].0, "id");
        assert!(missing[0].1.contains("$id"), "{missing:?}");
    }
}
