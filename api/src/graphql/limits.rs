//! The alias limit, checked on the document the schema then executes (parsed once a request).

use super::MAX_ALIASES;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Request, ServerError, Value};

/// Refuses documents with more than `MAX_ALIASES` aliased fields: many aliases of one costly
/// field are a cheap way to multiply work inside the complexity budget.
///
/// The request keeps the document it parses here (`Request::parsed_query`), and the schema
/// executes that one. Not a schema extension: with any extension registered, async-graphql sends
/// every field of every answer through the extension chain (a registry lookup, a boxed future),
/// which put a page of 50 people with nested records at 7.9 instead of 5.5 ms of server CPU
/// (bench, issue 7).
/// A document that does not parse passes: the schema reports the syntax error as it always does.
pub fn check_aliases(request: &mut Request) -> Result<(), ServerError> {
    let Ok(doc) = request.parsed_query() else { return Ok(()) };
    if aliases(doc) <= MAX_ALIASES {
        return Ok(());
    }
    let mut err = ServerError::new(format!("too many aliases (at most {MAX_ALIASES})"), None);
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", Value::from("VALIDATION"));
    err.extensions = Some(ext);
    Err(err)
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
