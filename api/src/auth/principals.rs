//! A short-lived cache of principals by (user, token version, session), so a request with a known
//! token costs no database round trips before its own work (building a principal takes four or
//! five: the user together with its session's state, roles, scopes, a partner's units, units).
//!
//! Changes that matter reach it three ways: the process that makes one clears the cache on every
//! change of users, roles, scopes or partners (`Store::forget_principals`) and drops a session's
//! entries when it ends one (`Store::forget_session`: logout, a reused refresh token); on
//! PostgreSQL it says so on the channel `cbss_principals` (`NOTIFY`), which every instance
//! `listen`s to and applies to its own cache within milliseconds; and an entry lives `TTL` at
//! most, which bounds how long an instance may act on a change it did not hear of (its listening
//! connection was down: it clears its cache when it is back, as it may have missed some).

use super::tokens::VerifiedTokens;
use crate::access::Principal;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The PostgreSQL channel on which instances tell each other what to forget.
const CHANNEL: &str = "cbss_principals";

/// What every instance must forget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forget {
    /// Every principal (a change of users, roles, scopes or partners).
    All,
    /// The principals of one ended session.
    Session(Uuid),
}

impl Forget {
    fn payload(self) -> String {
        match self {
            Self::All => "all".into(),
            Self::Session(s) => format!("session:{s}"),
        }
    }

    /// An unreadable notice is taken as `All`: forgetting too much only costs a rebuild.
    fn parse(payload: &str) -> Self {
        payload.strip_prefix("session:").and_then(|s| s.parse().ok()).map_or(Self::All, Self::Session)
    }
}

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

    pub fn forget(&self, what: Forget) {
        match what {
            Forget::All => self.clear(),
            Forget::Session(s) => self.forget_session(s),
        }
    }

    /// Forgets `what` here and tells the other instances (PostgreSQL; after the change's commit).
    /// A notice that cannot be sent is logged: the others then forget within `TTL`.
    pub async fn forget_everywhere(&self, db: &DatabaseConnection, what: Forget) {
        self.forget(what);
        if db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        let notify = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), what.payload().into()],
        );
        if let Err(e) = db.execute_raw(notify).await {
            tracing::warn!(error = %e, "could not tell the other instances to forget principals");
        }
    }

    /// On PostgreSQL, applies the other instances' notices to this cache for as long as the
    /// process runs, on a connection of its own; after a lost connection it clears the cache and
    /// listens again (pauses growing to 30 s while the database is away).
    pub fn listen(self: &Arc<Self>, db: &DatabaseConnection) {
        if db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        let (cache, pool) = (self.clone(), db.get_postgres_connection_pool().clone());
        tokio::spawn(async move {
            let mut pause = Duration::from_millis(250);
            loop {
                let listening = async {
                    let mut listener = PgListener::connect_with(&pool).await?;
                    listener.listen(CHANNEL).await?;
                    Ok::<_, sea_orm::sqlx::Error>(listener)
                };
                match listening.await {
                    Ok(mut listener) => {
                        // Whatever was said while nobody listened is lost: start afresh.
                        cache.clear();
                        pause = Duration::from_millis(250);
                        loop {
                            match listener.try_recv().await {
                                Ok(Some(notice)) => cache.forget(Forget::parse(notice.payload())),
                                // The connection was lost and is made again: notices may be lost.
                                Ok(None) => cache.clear(),
                                Err(e) => {
                                    tracing::warn!(error = %e, "stopped hearing other instances' principal changes");
                                    break;
                                }
                            }
                        }
                    }
                    Err(e) => tracing::debug!(error = %e, "cannot listen for principal changes yet"),
                }
                cache.clear();
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
            }
        });
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

    #[test]
    fn notices_read_back_as_sent_and_anything_else_forgets_all() {
        let s = Uuid::from_u128(9);
        assert_eq!(Forget::parse(&Forget::Session(s).payload()), Forget::Session(s));
        assert_eq!(Forget::parse(&Forget::All.payload()), Forget::All);
        assert_eq!(Forget::parse("session:not-a-uuid"), Forget::All);
    }
}
