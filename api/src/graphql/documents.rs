//! Parsed documents of recent queries, by their text.
//!
//! Clients send the same few documents again and again with new variables (an app's screens, a
//! dashboard's panels), and parsing one took a fifth of the server's work for a person by id
//! (async-graphql's parser; bench, issue 7). A hit hands the request a copy of the parsed
//! document; validation, limits and execution still run on every request as before.

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Pos, Request, ServerError};
use hashlink::LruCache;
use std::sync::{Arc, Mutex};

/// Documents kept (least recently used dropped first).
const CAPACITY: usize = 256;
/// Longer documents are parsed every time: they are rare, and they would crowd out the rest.
const MAX_QUERY_BYTES: usize = 8 * 1024;
/// The deepest nesting of brackets (`{`, `[`, `(`) a document may have. async-graphql's parser
/// recurses once a level and bounds only selection sets (64 deep): a list or object value nested
/// a few thousand deep overflowed the stack, which aborts the process. Real documents nest far
/// less (the standard introspection query ~15, a query at the depth limit with a nested filter
/// ~30), and selection sets stay within the parser's own bound.
pub const MAX_NESTING: usize = 64;

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
    /// kept if it is short); answers the document too. A document that does not parse, or nests
    /// deeper than `MAX_NESTING`, is a `GRAPHQL_PARSE_FAILED` error; one that parses but names an
    /// operation or fragment twice, or has an anonymous operation among others, breaks a
    /// validation rule of the specification (async-graphql's parser refuses it) and is a
    /// `GRAPHQL_VALIDATION_FAILED` error.
    pub fn prepare(&self, request: &mut Request) -> Result<Arc<ExecutableDocument>, ServerError> {
        let short = request.query.len() <= MAX_QUERY_BYTES;
        if short && let Some(doc) = self.lock().get(&request.query).cloned() {
            request.set_parsed_query(ExecutableDocument::clone(&doc));
            return Ok(doc);
        }
        if let Some(at) = too_deep(&request.query) {
            let message = format!("the document nests brackets deeper than {MAX_NESTING}");
            return Err(super::limits::refusal("GRAPHQL_PARSE_FAILED", message, Some(at)));
        }
        match request.parsed_query() {
            Ok(doc) => {
                let doc = Arc::new(doc.clone());
                if short {
                    self.lock().insert(request.query.clone(), doc.clone());
                }
                Ok(doc)
            }
            Err(e) => {
                use async_graphql::parser::Error as Parse;
                let mut e = e.clone();
                let code = match async_graphql::parser::parse_query(&request.query) {
                    Err(
                        Parse::MultipleOperations { .. }
                        | Parse::OperationDuplicated { .. }
                        | Parse::FragmentDuplicated { .. },
                    ) => "GRAPHQL_VALIDATION_FAILED",
                    _ => "GRAPHQL_PARSE_FAILED",
                };
                e.extensions.get_or_insert_with(Default::default).set("code", code);
                Err(e)
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<ExecutableDocument>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where a document first nests brackets deeper than `MAX_NESTING`, if it does: a scan of its
/// text that skips strings, block strings and comments as GraphQL's lexer does (every character
/// it looks for is ASCII, so it scans bytes).
fn too_deep(query: &str) -> Option<Pos> {
    let b = query.as_bytes();
    let (mut i, mut depth, mut line, mut line_start) = (0, 0, 1, 0);
    while i < b.len() {
        match b[i] {
            b'\n' => (line, line_start) = (line + 1, i + 1),
            b'#' => {
                while i < b.len() && !matches!(b[i], b'\n' | b'\r') {
                    i += 1;
                }
                continue;
            }
            b'"' if b[i..].starts_with(br#"""""#) => {
                // A block string ends at the next `"""` that is not `\"""`.
                i += 3;
                while i < b.len() && !b[i..].starts_with(br#"""""#) {
                    if b[i..].starts_with(br#"\""""#) {
                        i += 3;
                    } else if b[i] == b'\n' {
                        (line, line_start) = (line + 1, i + 1);
                    }
                    i += 1;
                }
                i += 3;
                continue;
            }
            b'"' => {
                // A string ends at its next unescaped quote (or, unterminated, at its line's end).
                i += 1;
                while i < b.len() && !matches!(b[i], b'"' | b'\n' | b'\r') {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if i < b.len() && b[i] == b'"' {
                    i += 1;
                }
                continue;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(Pos { line, column: query[line_start..i].chars().count() + 1 });
                }
            }
            b'}' | b']' | b')' => depth = usize::saturating_sub(depth, 1),
            _ => {}
        }
        i += 1;
    }
    None
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
    fn brackets_nested_too_deep_are_refused_before_the_parser_sees_them() {
        // `{ nodes(ids: ` nests 2 brackets; the lists nest the rest.
        let nested = |n: usize| format!(r#"{{ nodes(ids: {}"x"{}) {{ id }} }}"#, "[".repeat(n), "]".repeat(n));
        let docs = Documents::default();
        assert!(docs.prepare(&mut Request::new(nested(MAX_NESTING - 2))).is_ok());
        for n in [MAX_NESTING - 1, 100_000] {
            let e = docs.prepare(&mut Request::new(nested(n))).unwrap_err();
            assert_eq!(e.extensions.unwrap().get("code"), Some(&async_graphql::Value::from("GRAPHQL_PARSE_FAILED")));
            assert_eq!(e.locations, [Pos { line: 1, column: 14 + MAX_NESTING - 2 }], "at the bracket too many");
        }
        // Brackets in strings, block strings and comments do not count; lines and columns do.
        let quiet = "[".repeat(200);
        for doc in [
            format!(r#"{{ a(s: "{quiet}") }}"#),
            format!(r#"{{ a(s: "\"{quiet}\\") }}"#),
            format!(r#"{{ a(s: """{quiet} \""" {quiet}""") }}"#),
            format!("{{ a(s: \"\") # {quiet}\n }}"),
            format!("{{ a(s: \"{quiet}\n) }}"),
        ] {
            assert_eq!(too_deep(&doc), None, "{doc}");
        }
        let deep = format!("# ü\n{{ a(s: \"ü\") {} }}", "{".repeat(MAX_NESTING));
        assert_eq!(too_deep(&deep), Some(Pos { line: 2, column: 13 + MAX_NESTING - 1 }));
    }

    #[test]
    fn duplicate_operations_and_fragments_fail_validation_not_parsing() {
        let docs = Documents::default();
        for doc in
            ["query A { a } query A { b }", "{ a } { b }", "{ ...F } fragment F on Q { a } fragment F on Q { b }"]
        {
            let e = docs.prepare(&mut Request::new(doc)).unwrap_err();
            let code = e.extensions.unwrap().get("code").cloned();
            assert_eq!(code, Some(async_graphql::Value::from("GRAPHQL_VALIDATION_FAILED")), "{doc}");
            assert!(!e.locations.is_empty(), "{doc}");
        }
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
