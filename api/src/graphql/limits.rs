//! The alias limit, checked on the document the schema parses anyway (once per request).

use super::MAX_ALIASES;
use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, ServerError, ServerResult, Value, Variables};
use std::sync::Arc;

/// Refuses documents with more than `MAX_ALIASES` aliased fields: many aliases of one costly
/// field are a cheap way to multiply work inside the complexity budget.
pub struct AliasLimit;

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimit)
    }
}

#[async_trait::async_trait]
impl Extension for AliasLimit {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        if aliases(&doc) > MAX_ALIASES {
            let mut err = ServerError::new(format!("too many aliases (at most {MAX_ALIASES})"), None);
            let mut ext = ErrorExtensionValues::default();
            ext.set("code", Value::from("VALIDATION"));
            err.extensions = Some(ext);
            return Err(err);
        }
        Ok(doc)
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
