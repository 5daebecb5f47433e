//! A short-lived cache of principals by (user, token version), so a request with a known token
//! costs no database round trips before its own work (building a principal takes four).
//!
//! Changes that matter reach it two ways: this process clears it on every change of users,
//! roles, scopes or partners (`Store::forget_principals`), and an entry lives `TTL` at most, which
//! bounds how long another instance may act on a deactivated user or an old role.

use super::tokens::VerifiedTokens;
use crate::access::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const TTL: Duration = Duration::from_secs(10);

/// Entries beyond this are dropped all at once (a bound on memory, not a policy).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct PrincipalCache {
    entries: Mutex<HashMap<(Uuid, i32), (Instant, Principal)>>,
    /// Tokens already verified. Not cleared with the principals: a token says who it was issued
    /// to, which no change of users alters (a raised token version misses the principals instead).
    pub tokens: VerifiedTokens,
}

impl PrincipalCache {
    pub fn get(&self, user: Uuid, token_version: i32) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&(user, token_version)).filter(|(at, _)| at.elapsed() < TTL).map(|(_, p)| p.clone())
    }

    pub fn put(&self, user: Uuid, token_version: i32, principal: Principal) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert((user, token_version), (Instant::now(), principal));
    }

    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_per_token_version_and_cleared_on_demand() {
        let cache = PrincipalCache::default();
        let user = Uuid::from_u128(7);
        cache.put(user, 1, Principal::system());
        assert!(cache.get(user, 1).is_some());
        assert!(cache.get(user, 2).is_none(), "a raised token version misses");
        cache.clear();
        assert!(cache.get(user, 1).is_none());
    }
}
