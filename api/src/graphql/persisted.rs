//! Automatic persisted queries, Apollo's protocol: a client sends
//! `extensions.persistedQuery { version: 1, sha256Hash }` without the document; the server answers
//! `PERSISTED_QUERY_NOT_FOUND` if it does not hold it, and the client sends it again with the
//! document, which is checked against its hash and kept. On a thin rural link the mobile app then
//! sends a 64-character hash instead of a document of kilobytes.
//!
//! Kept here rather than as async-graphql's `ApolloPersistedQueries` extension: any registered
//! extension sends every field of every answer through the extension chain (see `limits`).

use super::limits::refusal;
use async_graphql::{Request, ServerError};
use hashlink::LruCache;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// Documents kept, least recently used dropped first.
const CAPACITY: usize = 1024;
/// Longer documents are run but not kept, so the store holds at most CAPACITY × this (32 MiB).
pub const MAX_DOCUMENT_BYTES: usize = 32 * 1024;

pub struct PersistedQueries(Mutex<LruCache<String, Arc<str>>>);

impl Default for PersistedQueries {
    fn default() -> Self {
        Self(Mutex::new(LruCache::new(CAPACITY)))
    }
}

/// What a request's `persistedQuery` extension asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Persisted {
    /// No persisted query.
    No,
    /// The document came with its hash: keep it once it has parsed.
    Register(String),
    /// The document was found by its hash.
    Found,
}

impl PersistedQueries {
    /// Fills in the document of a request that sent only its hash, or checks the hash of one
    /// that sent both.
    pub fn resolve(&self, request: &mut Request) -> Result<Persisted, ServerError> {
        let Some(ext) = request.extensions.get("persistedQuery") else { return Ok(Persisted::No) };
        let ext = serde_json::to_value(ext).unwrap_or_default();
        if ext.get("version").and_then(|v| v.as_i64()) != Some(1) {
            return Err(refusal("BAD_REQUEST", "unsupported persisted query version (only 1)".into(), None));
        }
        let hash = ext
            .get("sha256Hash")
            .and_then(|h| h.as_str())
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| refusal("BAD_REQUEST", "`sha256Hash` must be 64 hexadecimal digits".into(), None))?
            .to_ascii_lowercase();
        if request.query.is_empty() {
            let found = self.lock().get(&hash).cloned();
            return match found {
                Some(text) => {
                    request.query = text.to_string();
                    Ok(Persisted::Found)
                }
                None => Err(refusal("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound".into(), None)),
            };
        }
        if format!("{:x}", Sha256::digest(request.query.as_bytes())) != hash {
            return Err(refusal(
                "PERSISTED_QUERY_HASH_MISMATCH",
                "provided sha256Hash does not match the query".into(),
                None,
            ));
        }
        Ok(Persisted::Register(hash))
    }

    /// Keeps a document by its hash (after it parsed: nothing unparseable is kept).
    pub fn register(&self, hash: String, query: &str) {
        if query.len() <= MAX_DOCUMENT_BYTES {
            self.lock().insert(hash, Arc::from(query));
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<str>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_hash(query: &str, hash: &str) -> Request {
        let mut req = Request::new(query);
        let ext = serde_json::json!({ "version": 1, "sha256Hash": hash });
        req.extensions.insert("persistedQuery".into(), serde_json::from_value(ext).unwrap());
        req
    }

    fn code(e: ServerError) -> String {
        e.extensions.and_then(|x| x.get("code").map(|c| c.to_string())).unwrap_or_default().replace('"', "")
    }

    #[test]
    fn a_miss_then_registration_then_a_hit_by_hash_alone() {
        let store = PersistedQueries::default();
        let q = "{ me { email } }";
        let hash = format!("{:x}", Sha256::digest(q));
        assert_eq!(store.resolve(&mut with_hash("", &hash)).map_err(code), Err("PERSISTED_QUERY_NOT_FOUND".into()));
        let mut full = with_hash(q, &hash);
        assert_eq!(store.resolve(&mut full).map_err(code), Ok(Persisted::Register(hash.clone())));
        store.register(hash.clone(), q);
        let mut by_hash = with_hash("", &hash.to_uppercase());
        assert_eq!(store.resolve(&mut by_hash).map_err(code), Ok(Persisted::Found));
        assert_eq!(by_hash.query, q);
    }

    #[test]
    fn a_wrong_hash_or_version_is_refused() {
        let store = PersistedQueries::default();
        let wrong = "0".repeat(64);
        assert_eq!(
            store.resolve(&mut with_hash("{ a }", &wrong)).map_err(code),
            Err("PERSISTED_QUERY_HASH_MISMATCH".into())
        );
        assert_eq!(store.resolve(&mut with_hash("", "abc")).map_err(code), Err("BAD_REQUEST".into()));
        assert_eq!(store.resolve(&mut Request::new("{ a }")).map_err(code), Ok(Persisted::No));
    }
}
