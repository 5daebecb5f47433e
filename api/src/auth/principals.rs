//! A short-lived cache of principals by (user, token version, session), so a request with a known
//! token costs no database round trips before its own work (building a principal takes four or
//! five: the user together with its session's state, roles, scopes, a partner's units, units).
//!
//! Changes that matter reach it two ways: this process clears it on every change of users,
//! roles, scopes or partners (`Store::forget_principals`) and drops a session's entries when it
//! ends one (`Store::forget_session`: logout, a reused refresh token), and an entry lives `TTL` at
//! most, which bounds how long another instance may act on a deactivated user, an old role or
//! an ended session.

use super::tokens::VerifiedTokens;
use crate::access::Principal;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const TTL: Duration = Duration::from_secs(10);

/// Entries beyond this are dropped all at once (a bound on memory, not a policy).
const MAX_ENTRIES: usize = 10_000;

/// (user, token version, session).
type Key = (Uuid, i32, Uuid);

#[derive(Default)]
pub struct PrincipalCache {
    entries: Mutex<HashMap<Key, (Instant, Principal)>>,
    /// Tokens already verified. Not cleared with the principals: a token says who it was issued
    /// to and in which session, which no change of users alters (a raised token version or an
    /// ended session misses the principals instead).
    pub tokens: VerifiedTokens,
}

impl PrincipalCache {
    pub fn get(&self, user: Uuid, token_version: i32, session: Uuid) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.get(&(user, token_version, session)).filter(|(at, _)| at.elapsed() < TTL).map(|(_, p)| p.clone())
    }

    pub fn put(&self, user: Uuid, token_version: i32, session: Uuid, principal: Principal) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert((user, token_version, session), (Instant::now(), principal));
    }

    /// Drops the entries of one session (it ended).
    pub fn forget_session(&self, session: Uuid) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).retain(|(_, _, s), _| *s != session);
    }

    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_per_token_version_and_session_and_cleared_on_demand() {
        let cache = PrincipalCache::default();
        let (user, one, two) = (Uuid::from_u128(7), Uuid::from_u128(1), Uuid::from_u128(2));
        cache.put(user, 1, one, Principal::system());
        cache.put(user, 1, two, Principal::system());
        assert!(cache.get(user, 1, one).is_some());
        assert!(cache.get(user, 2, one).is_none(), "a raised token version misses");
        cache.forget_session(one);
        assert!(cache.get(user, 1, one).is_none(), "an ended session misses");
        assert!(cache.get(user, 1, two).is_some(), "another session of the user stays");
        cache.clear();
        assert!(cache.get(user, 1, two).is_none());
    }
}
