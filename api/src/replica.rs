//! A streaming replica for analytics (`DATABASE_REPLICA_URL`): coverage, aggregates, exports and
//! de-identified callers' queries read from it (`Store::analytics`) while it keeps up.
//!
//! Freshness is measured on WAL positions, not on replay timestamps (which stand still when
//! nothing is written): every half second the primary's position is sampled with the time, and
//! the replica is current as of the latest sample it has replayed past. A replica that lags more
//! than `CBSS_REPLICA_MAX_LAG_MS`, does not answer, or is not a standby sends reads back to the
//! primary. A session reads from the replica only once the replica has replayed past its last
//! write (`user_session.last_write_lsn`, kept after each write's commit: `Replica::wrote`), so a
//! device never reads older data than it wrote — whichever instance it talks to, provided
//! every instance has the replica configured (one without keeps no write positions).

use chrono::{DateTime, Utc};
use entity::user_session;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement,
};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use uuid::Uuid;

const CHECK_EVERY: Duration = Duration::from_millis(500);
/// Samples older than this are dropped: a replica further behind counts as lagging this much.
const KEEP: chrono::TimeDelta = chrono::TimeDelta::minutes(15);
/// Where the primary's WAL ends, every commit acknowledged so far included (the insert position:
/// with `synchronous_commit = off` a commit is acknowledged before its record is written out).
const PRIMARY_LSN: &str = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint AS lsn";
const SYSTEM: &str = "SELECT system_identifier::text AS id FROM pg_control_system()";
const REPLAYED_LSN: &str = "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS lsn";

/// How fresh an answer read from the replica is: it holds every commit made on the primary
/// before `as_of`.
#[derive(Clone, Copy, Debug)]
pub struct Freshness {
    pub as_of: DateTime<Utc>,
    pub lag: Duration,
}

impl Freshness {
    /// The answer's `extensions.freshness`.
    pub fn to_json(self) -> serde_json::Value {
        serde_json::json!({
            "source": "REPLICA",
            "asOf": self.as_of.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "lagSeconds": (self.lag.as_secs_f64() * 1000.0).round() / 1000.0,
        })
    }
}

pub struct Replica {
    db: DatabaseConnection,
    max_lag: Duration,
    seen: Mutex<Seen>,
}

/// What the last checks found.
#[derive(Default)]
struct Seen {
    /// The replica answered the last check, as a standby.
    up: bool,
    /// The replica was found to be a copy of this primary (the same system identifier).
    same_system: bool,
    /// The replica's replayed WAL position at the last check.
    replayed: i64,
    /// The primary's time before which the replica holds every commit.
    as_of: Option<DateTime<Utc>>,
    /// The primary's WAL position at recent checks, oldest first.
    samples: VecDeque<(i64, DateTime<Utc>)>,
}

async fn lsn(db: &DatabaseConnection, sql: &str) -> Result<Option<i64>, sea_orm::DbErr> {
    let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await?;
    Ok(row.map(|r| r.try_get::<Option<i64>>("", "lsn")).transpose()?.flatten())
}

impl Replica {
    /// The replica behind `db`, checked against `primary` from now on, for as long as the
    /// replica is in use.
    pub fn watch(db: DatabaseConnection, primary: DatabaseConnection, max_lag: Duration) -> Arc<Self> {
        let replica = Arc::new(Self { db, max_lag, seen: Mutex::default() });
        let weak: Weak<Self> = Arc::downgrade(&replica);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(CHECK_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(replica) = weak.upgrade() else { return };
                replica.check(&primary).await;
            }
        });
        replica
    }

    async fn check(&self, primary: &DatabaseConnection) {
        // The time first: the sample says the primary had written at most this much by then.
        let now = Utc::now();
        let Ok(Some(at_primary)) = lsn(primary, PRIMARY_LSN).await else { return };
        if !self.seen.lock().expect("replica state").same_system && !self.same_system(primary).await {
            return;
        }
        let replayed = lsn(&self.db, REPLAYED_LSN).await;
        let mut seen = self.seen.lock().expect("replica state");
        seen.samples.push_back((at_primary, now));
        while seen.samples.front().is_some_and(|(_, t)| now - *t > KEEP) {
            seen.samples.pop_front();
        }
        match replayed {
            Ok(Some(replayed)) => {
                if !seen.up {
                    tracing::info!("the replica answers: analytics read from it while it keeps up");
                }
                seen.up = true;
                seen.replayed = replayed;
                if let Some((_, t)) = seen.samples.iter().rev().find(|(l, _)| *l <= replayed) {
                    seen.as_of = Some(*t);
                }
            }
            other => {
                if seen.up {
                    match other {
                        Ok(_) => tracing::warn!("DATABASE_REPLICA_URL is not a standby: reads stay on the primary"),
                        Err(e) => tracing::warn!(error = %e, "the replica does not answer: reads go to the primary"),
                    }
                }
                seen.up = false;
            }
        }
        let lag = seen.as_of.filter(|_| seen.up).map(|t| (now - t).to_std().unwrap_or_default());
        metrics::gauge!("cbss_replica_up").set(if lag.is_some() { 1.0 } else { 0.0 });
        if let Some(lag) = lag {
            metrics::gauge!("cbss_replica_lag_seconds").set(lag.as_secs_f64());
        }
    }

    /// Whether the replica is a copy of this primary: positions in another cluster's WAL say
    /// nothing of this one's.
    async fn same_system(&self, primary: &DatabaseConnection) -> bool {
        let id = |db: &DatabaseConnection| {
            let db = db.clone();
            async move {
                let row = db.query_one_raw(Statement::from_string(DbBackend::Postgres, SYSTEM)).await.ok()??;
                row.try_get::<String>("", "id").ok()
            }
        };
        let (p, r) = (id(primary).await, id(&self.db).await);
        let same = p.is_some() && p == r;
        if r.is_some() && !same {
            tracing::warn!("DATABASE_REPLICA_URL is not a copy of DATABASE_URL's cluster: reads stay on the primary");
        }
        self.seen.lock().expect("replica state").same_system = same;
        same
    }

    /// The replica's pool and how fresh it is, when `session` may read from it now: it answers,
    /// keeps up, and has replayed the session's writes.
    pub async fn for_session(
        &self,
        primary: &DatabaseConnection,
        session: Option<Uuid>,
    ) -> Option<(DatabaseConnection, Freshness)> {
        let (replayed, as_of) = {
            let seen = self.seen.lock().expect("replica state");
            (seen.replayed, seen.as_of.filter(|_| seen.up)?)
        };
        let lag = (Utc::now() - as_of).to_std().unwrap_or_default();
        if lag > self.max_lag {
            return None;
        }
        if let Some(session) = session {
            let wrote: Option<i64> = user_session::Entity::find_by_id(session)
                .select_only()
                .column(user_session::Column::LastWriteLsn)
                .into_tuple::<Option<i64>>()
                .one(primary)
                .await
                .ok()?
                .flatten();
            // The last check may be up to half a second old: the replica itself is asked.
            if let Some(wrote) = wrote.filter(|w| *w > replayed)
                && lsn(&self.db, REPLAYED_LSN).await.ok().flatten().is_none_or(|now| now < wrote)
            {
                return None;
            }
        }
        Some((self.db.clone(), Freshness { as_of, lag }))
    }

    /// After a session's write committed: where the primary's WAL stands now (past the commit).
    pub async fn wrote(primary: &DatabaseConnection, session: Uuid) {
        let noted = user_session::Entity::update_many()
            .col_expr(
                user_session::Column::LastWriteLsn,
                Expr::cust("(pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint"),
            )
            .filter(user_session::Column::Id.eq(session))
            .exec(primary)
            .await;
        if let Err(e) = noted {
            // The write itself stands; the session may read older data from the replica for a
            // moment (at most the allowed lag).
            tracing::warn!(error = %e, "could not note the session's write for the replica");
        }
    }
}
