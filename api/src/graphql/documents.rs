//! Parsed documents of recent queries, by their text.
//!
//! Clients send the same few documents again and again with new variables (an app's screens, a
//! dashboard's panels), and parsing one took a fifth of the server's work for a person by id
//! (async-graphql's parser; bench, issue 7). A hit hands the request a copy of the parsed
//! document; validation, limits and execution still run on every request as before.

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerError};
use hashlink::LruCache;
use std::sync::{Arc, Mutex};

/// Documents kept (least recently used dropped first).
const CAPACITY: usize = 256;
/// Longer documents are parsed every time: they are rare, and they would crowd out the rest.
const MAX_QUERY_BYTES: usize = 8 * 1024;

// Behind an Arc, so a hit's copy is made after the lock is given back, not while every other
// request waits for it.
pub struct Documents(Mutex<LruCache<String, Arc<ExecutableDocument>>>);

impl Default for Documents {
    fn default() -> Self {
        Self(Mutex::new(LruCache::new(CAPACITY)))
    }
}

impl Documents {
    /// Gives the request its parsed document: a copy of the cached one, or one parsed now (and
    /// kept if it is short). A document that does not parse is a `GRAPHQL_PARSE_FAILED` error.
    pub fn prepare(&self, request: &mut Request) -> Result<(), ServerError> {
        let short = request.query.len() <= MAX_QUERY_BYTES;
        if short && let Some(doc) = self.lock().get(&request.query).cloned() {
            request.set_parsed_query(ExecutableDocument::clone(&doc));
            return Ok(());
        }
        match request.parsed_query() {
            Ok(doc) => {
                if short {
                    let doc = Arc::new(doc.clone());
                    self.lock().insert(request.query.clone(), doc);
                }
                Ok(())
            }
            Err(e) => {
                let mut e = e.clone();
                e.extensions.get_or_insert_with(Default::default).set("code", "GRAPHQL_PARSE_FAILED");
                Err(e)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<ExecutableDocument>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_parsed_once_and_its_copy_handed_out_after() {
        let docs = Documents::default();
        let mut first = Request::new("{ a }");
        docs.prepare(&mut first).unwrap();
        assert_eq!(docs.lock().len(), 1);
        let mut again = Request::new("{ a }");
        docs.prepare(&mut again).unwrap();
        assert_eq!(docs.lock().len(), 1, "the same text is one entry");
        let a = format!("{:?}", first.parsed_query().unwrap());
        assert_eq!(format!("{:?}", again.parsed_query().unwrap()), a);
    }

    #[test]
    fn syntax_errors_and_long_documents_are_not_kept() {
        let docs = Documents::default();
        let e = docs.prepare(&mut Request::new("{ a ")).unwrap_err();
        assert_eq!(e.extensions.unwrap().get("code"), Some(&async_graphql::Value::from("GRAPHQL_PARSE_FAILED")));
        let long = format!("{{ a {} }}", " ".repeat(MAX_QUERY_BYTES));
        docs.prepare(&mut Request::new(long)).unwrap();
        assert_eq!(docs.lock().len(), 0);
    }
}
