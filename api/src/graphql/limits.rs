//! The shape limits of a document — aliases, depth, introspection — checked on the document the
//! schema then executes (parsed once a request), before validation and execution.
//!
//! Not a schema extension: with any extension registered, async-graphql sends every field of every
//! answer through the extension chain (a registry lookup, a boxed future), which put a page of 50
//! people with nested records at 7.9 instead of 5.5 ms of server CPU (bench, issue 7). And not
//! async-graphql's own depth limit: it counts introspection fields like data fields, so the
//! standard introspection query of every client (its `ofType` chain nests ~15 deep) was refused.
//!
//! Depth is counted over data fields only. Introspection (`__schema`, `__type`) is bounded by the
//! schema itself, so it is counted by what can make its answer grow: lists inside lists (a type's
//! fields' arguments is three) and, to keep recursion bounded, its nesting.

use super::{MAX_ALIASES, MAX_DEPTH};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Name, Pos, Request, ServerError, Value, Variables};
use std::collections::HashMap;

/// The most lists an introspection answer nests: `__schema { types { fields { args } } }`.
pub const MAX_INTROSPECTION_LISTS: usize = 3;
/// The deepest introspection selection: graphql-js and graphql-core nest `ofType` 9 times by
/// default (15 levels in all); a client may ask for up to twice that.
pub const MAX_INTROSPECTION_DEPTH: usize = 30;

/// The most values one list of a request may hold, in its variables or written in the document.
/// The ids a write names are looked up with one `IN (...)`, and a statement takes at most 32,766
/// parameters on SQLite (65,535 on PostgreSQL): 70,000 unit ids for a user's scope or a partner
/// were an INTERNAL error (found by fuzzing, tests/fuzz). A sync batch (CBSS_SYNC_MAX_ITEMS,
/// 1,000) stays far below.
pub const MAX_LIST_VALUES: usize = 10_000;

/// Introspection fields whose value is a list: the only ones that multiply an answer.
const INTROSPECTION_LISTS: [&str; 8] =
    ["types", "fields", "args", "inputFields", "interfaces", "possibleTypes", "enumValues", "directives"];

/// Whether this request may introspect the schema.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Introspection {
    Allowed,
    /// Anonymous callers: introspection needs a token.
    NeedsToken,
    /// Production: introspection is off.
    Off,
}

/// Checks the request's document against the limits; a document that does not parse passes (the
/// caller reports syntax errors before this).
pub fn check(request: &mut Request, introspection: Introspection) -> Result<(), ServerError> {
    if let Some(path) = long_variable(&request.variables) {
        return Err(too_long(path, None));
    }
    let Ok(doc) = request.parsed_query() else { return Ok(()) };
    if let Some((path, pos)) = long_argument(doc) {
        return Err(too_long(path, Some(pos)));
    }
    if aliases(doc) > MAX_ALIASES {
        return Err(refusal("TOO_MANY_ALIASES", format!("too many aliases (at most {MAX_ALIASES})"), None));
    }
    let mut walk =
        Walk { doc, fragments: HashMap::new(), introspection_fragments: HashMap::new(), visiting: Vec::new() };
    let mut shape = Shape::default();
    for (_, op) in doc.operations.iter() {
        shape = shape.max(walk.set(&op.node.selection_set.node));
    }
    if let Some(pos) = shape.introspection_at {
        match introspection {
            Introspection::Allowed => {}
            Introspection::NeedsToken => {
                return Err(refusal(
                    "UNAUTHENTICATED",
                    "schema introspection needs a token: log in with the `login` mutation and send \
                     `Authorization: Bearer <accessToken>` (README, \"The two commands\")"
                        .into(),
                    Some(pos),
                ));
            }
            Introspection::Off => {
                return Err(refusal(
                    "GRAPHQL_VALIDATION_FAILED",
                    "schema introspection is off in production: use the schema.graphql of the release".into(),
                    Some(pos),
                ));
            }
        }
    }
    if shape.depth > MAX_DEPTH {
        return Err(refusal(
            "QUERY_TOO_DEEP",
            format!("query depth limit: fields nested deeper than {MAX_DEPTH}"),
            None,
        ));
    }
    if shape.introspection_lists > MAX_INTROSPECTION_LISTS || shape.introspection_depth > MAX_INTROSPECTION_DEPTH {
        return Err(refusal(
            "QUERY_TOO_DEEP",
            format!(
                "introspection may nest at most {MAX_INTROSPECTION_LISTS} lists and \
                 {MAX_INTROSPECTION_DEPTH} fields"
            ),
            None,
        ));
    }
    Ok(())
}

/// A request error with a code, for the limits here and the transport's own refusals.
pub fn refusal(code: &str, message: String, pos: Option<Pos>) -> ServerError {
    let mut err = ServerError::new(message, pos);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", Value::from(code));
    err.extensions = Some(ext);
    err
}

/// VALIDATION at `path`, with `extensions.fields` as the API's own VALIDATION errors have it.
fn too_long(path: String, pos: Option<Pos>) -> ServerError {
    let message = format!("a list holds at most {MAX_LIST_VALUES} values");
    let mut err = refusal("VALIDATION", format!("invalid input: {path}: {message}"), pos);
    let field = [(Name::new("path"), Value::from(path)), (Name::new("message"), Value::from(message))];
    if let Some(ext) = err.extensions.as_mut() {
        ext.set("fields", Value::List(vec![Value::Object(field.into_iter().collect())]));
    }
    err
}

/// The path of the first list in `v` longer than `MAX_LIST_VALUES` (`path.key.0`).
fn long_list(v: &Value, path: String) -> Option<String> {
    match v {
        Value::List(l) if l.len() > MAX_LIST_VALUES => Some(path),
        Value::List(l) => l.iter().enumerate().find_map(|(i, v)| long_list(v, format!("{path}.{i}"))),
        Value::Object(o) => o.iter().find_map(|(k, v)| long_list(v, format!("{path}.{k}"))),
        _ => None,
    }
}

/// The first such list in the variables (`$name.key`).
fn long_variable(variables: &Variables) -> Option<String> {
    variables.iter().find_map(|(name, v)| long_list(v, format!("${name}")))
}

/// The first such list written in the document (an argument's value, a variable's default),
/// with its place.
fn long_argument(doc: &ExecutableDocument) -> Option<(String, Pos)> {
    fn set(s: &SelectionSet) -> Option<(String, Pos)> {
        s.items.iter().find_map(|item| match &item.node {
            Selection::Field(f) => f
                .node
                .arguments
                .iter()
                .find_map(|(name, v)| {
                    // Variables in it are checked apart (`long_variable`).
                    let value = v.node.clone().into_const_with(|_| Ok::<_, ()>(Value::Null)).ok()?;
                    long_list(&value, name.node.to_string()).map(|p| (p, v.pos))
                })
                .or_else(|| set(&f.node.selection_set.node)),
            Selection::InlineFragment(f) => set(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => None,
        })
    }
    let defaults = doc.operations.iter().flat_map(|(_, op)| op.node.variable_definitions.iter()).find_map(|d| {
        let value = d.node.default_value.as_ref()?;
        long_list(&value.node, format!("${}", d.node.name.node)).map(|p| (p, value.pos))
    });
    defaults
        .or_else(|| doc.operations.iter().find_map(|(_, op)| set(&op.node.selection_set.node)))
        .or_else(|| doc.fragments.values().find_map(|f| set(&f.node.selection_set.node)))
}

/// What a selection set reaches: data-field depth, and the extent of any introspection in it.
#[derive(Clone, Copy, Default)]
struct Shape {
    depth: usize,
    introspection_depth: usize,
    introspection_lists: usize,
    introspection_at: Option<Pos>,
}

impl Shape {
    fn max(self, other: Shape) -> Shape {
        Shape {
            depth: self.depth.max(other.depth),
            introspection_depth: self.introspection_depth.max(other.introspection_depth),
            introspection_lists: self.introspection_lists.max(other.introspection_lists),
            introspection_at: self.introspection_at.or(other.introspection_at),
        }
    }
}

/// A walk over a document with its fragments inlined, each fragment's shape computed once (so a
/// fragment spread many times costs nothing more), and cycles cut (validation reports them).
struct Walk<'a> {
    doc: &'a ExecutableDocument,
    fragments: HashMap<&'a Name, Shape>,
    /// Fragments' (depth, lists) inside introspection.
    introspection_fragments: HashMap<&'a Name, (usize, usize)>,
    visiting: Vec<&'a Name>,
}

impl<'a> Walk<'a> {
    /// The shape of a selection set of data fields.
    fn set(&mut self, set: &'a SelectionSet) -> Shape {
        let mut shape = Shape::default();
        for item in &set.items {
            let here = match &item.node {
                Selection::Field(f) => {
                    let name = f.node.name.node.as_str();
                    if name == "__schema" || name == "__type" {
                        let inner = self.introspection(&f.node.selection_set.node);
                        Shape {
                            depth: 1,
                            introspection_depth: inner.0 + 1,
                            introspection_lists: inner.1,
                            introspection_at: Some(f.pos),
                        }
                    } else {
                        let inner = self.set(&f.node.selection_set.node);
                        Shape { depth: inner.depth + 1, ..inner }
                    }
                }
                Selection::InlineFragment(f) => self.set(&f.node.selection_set.node),
                Selection::FragmentSpread(s) => self.fragment(&s.node.fragment_name.node),
            };
            shape = shape.max(here);
        }
        shape
    }

    fn fragment(&mut self, name: &'a Name) -> Shape {
        if let Some(shape) = self.fragments.get(name) {
            return *shape;
        }
        let Some(def) = self.doc.fragments.get(name) else { return Shape::default() };
        if self.visiting.contains(&name) {
            return Shape::default();
        }
        self.visiting.push(name);
        let shape = self.set(&def.node.selection_set.node);
        self.visiting.pop();
        self.fragments.insert(name, shape);
        shape
    }

    fn introspection_fragment(&mut self, name: &'a Name) -> (usize, usize) {
        if let Some(shape) = self.introspection_fragments.get(name) {
            return *shape;
        }
        let Some(def) = self.doc.fragments.get(name) else { return (0, 0) };
        if self.visiting.contains(&name) {
            return (0, 0);
        }
        self.visiting.push(name);
        let shape = self.introspection(&def.node.selection_set.node);
        self.visiting.pop();
        self.introspection_fragments.insert(name, shape);
        shape
    }

    /// (depth, nested lists) of a selection set inside introspection.
    fn introspection(&mut self, set: &'a SelectionSet) -> (usize, usize) {
        let mut most = (0, 0);
        for item in &set.items {
            let here = match &item.node {
                Selection::Field(f) => {
                    let (depth, lists) = self.introspection(&f.node.selection_set.node);
                    let list = usize::from(INTROSPECTION_LISTS.contains(&f.node.name.node.as_str()));
                    (depth + 1, lists + list)
                }
                Selection::InlineFragment(f) => self.introspection(&f.node.selection_set.node),
                Selection::FragmentSpread(s) => self.introspection_fragment(&s.node.fragment_name.node),
            };
            most = (most.0.max(here.0), most.1.max(here.1));
        }
        most
    }
}

/// Fields under an alias in a whole document, fragments included.
fn aliases(doc: &ExecutableDocument) -> usize {
    fn count(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|s| match &s.node {
                Selection::Field(f) => usize::from(f.node.alias.is_some()) + count(&f.node.selection_set.node),
                Selection::InlineFragment(f) => count(&f.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let ops: usize = doc.operations.iter().map(|(_, op)| count(&op.node.selection_set.node)).sum();
    ops + doc.fragments.values().map(|f| count(&f.node.selection_set.node)).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(query: &str, introspection: Introspection) -> Result<(), String> {
        let mut req = Request::new(query);
        req.parsed_query().expect("the test's document parses");
        check(&mut req, introspection).map_err(|e| {
            e.extensions.and_then(|x| x.get("code").map(|c| c.to_string())).unwrap_or_default().replace('"', "")
        })
    }

    fn nested(field: &str, times: usize, leaf: &str) -> String {
        format!("{}{leaf}{}", format!("{field} {{ ").repeat(times), " }".repeat(times))
    }

    #[test]
    fn data_fields_are_limited_to_twelve_levels_through_fragments_too() {
        let ok = format!("{{ {} }}", nested("a", MAX_DEPTH - 1, "b"));
        assert_eq!(checked(&ok, Introspection::Allowed), Ok(()));
        let deep = format!("{{ {} }}", nested("a", MAX_DEPTH, "b"));
        assert_eq!(checked(&deep, Introspection::Allowed), Err("QUERY_TOO_DEEP".into()));
        let split = format!("{{ {} }} fragment F on T {{ {} }}", nested("a", 6, "...F"), nested("a", 6, "b"));
        assert_eq!(checked(&split, Introspection::Allowed), Err("QUERY_TOO_DEEP".into()));
    }

    #[test]
    fn introspection_is_counted_by_its_lists_and_needs_a_token() {
        let standard = "{ __schema { types { fields { args { type { ...R } } } } } } fragment R on __Type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } }";
        assert_eq!(checked(standard, Introspection::Allowed), Ok(()));
        assert_eq!(checked(standard, Introspection::NeedsToken), Err("UNAUTHENTICATED".into()));
        assert_eq!(checked(standard, Introspection::Off), Err("GRAPHQL_VALIDATION_FAILED".into()));
        let fan_out = "{ __schema { types { fields { type { fields { args { name } } } } } } }";
        assert_eq!(checked(fan_out, Introspection::Allowed), Err("QUERY_TOO_DEEP".into()));
        let through_fragments = "{ __schema { types { ...T } } } fragment T on __Type { fields { type { ...U } } } fragment U on __Type { fields { args { name } } }";
        assert_eq!(checked(through_fragments, Introspection::Allowed), Err("QUERY_TOO_DEEP".into()));
        let chain: String = (0..4)
            .map(|i| format!("fragment F{i} on __Type {{ {} }} ", nested("ofType", 8, &format!("...F{}", i + 1))))
            .collect();
        let long = format!("{{ __type(name: \"X\") {{ ...F0 }} }} {chain} fragment F4 on __Type {{ name }}");
        assert_eq!(checked(&long, Introspection::Allowed), Err("QUERY_TOO_DEEP".into()));
        assert_eq!(checked("{ __typename a { __typename } }", Introspection::NeedsToken), Ok(()));
    }

    #[test]
    fn fragment_cycles_and_repeated_spreads_end() {
        let cycle = "{ ...A } fragment A on Query { a { ...B } } fragment B on T { b { ...A } }";
        assert_eq!(checked(cycle, Introspection::Allowed), Ok(()));
        let fanned: String =
            (0..30).map(|i| format!("fragment F{i} on T {{ a: x {{ ...F{} ...F{} }} }} ", i + 1, i + 1)).collect();
        let doc = format!("{{ ...F0 }} {fanned} fragment F30 on T {{ y }}");
        assert_eq!(checked(&doc, Introspection::Allowed), Err("QUERY_TOO_DEEP".into()));
    }

    #[test]
    fn aliases_are_limited() {
        let many: String = (0..=MAX_ALIASES).map(|i| format!("a{i}: b ")).collect();
        assert_eq!(checked(&format!("{{ {many} }}"), Introspection::Allowed), Err("TOO_MANY_ALIASES".into()));
    }
}
