//! How far a pull may read on PostgreSQL. A write's change number is its transaction id plus an
//! offset (`write::next_change_seq`), drawn without a lock, so writers commit out of order: a
//! transaction may hold a lower number than one that already committed. A pull that returned
//! the later one and moved its cursor past it would never see the earlier one. So a pull reads
//! only below its horizon: the oldest transaction of this database still running when its
//! snapshot was taken. Everything below it has committed (and is in the snapshot) or never will.
//!
//! Transaction ids are the cluster's, so the snapshot also lists other databases' writers;
//! those `pg_stat_activity` names are left out. A writer it cannot place (another role's, or one
//! that ended between the two reads) holds the horizon back: later, never wrong.

use crate::error::ApiResult;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement};
use std::time::{Duration, Instant};

/// The tables a device pulls, each with its change number.
const SYNCED: [&str; 9] = [
    "household",
    "person",
    "pregnancy",
    "service_record",
    "consent",
    "family_assessment",
    "tombstone",
    "community_project",
    "project_report",
];

/// Keeps new change numbers above every stored one: a database restored into another cluster
/// (pg_dump, a logical copy) brings its offset but not its transaction ids, which start again
/// near zero, so its next numbers would fall below cursors devices already hold. Run at start,
/// under the migration lock; in a database where nothing was restored it changes nothing.
pub async fn keep_offset_above_stored<C: ConnectionTrait>(conn: &C) -> Result<u64, sea_orm::DbErr> {
    let highest = SYNCED.map(|t| format!("(SELECT MAX(change_seq) FROM {t})")).join(", ");
    let sql = format!(
        "UPDATE sync_state SET xid_offset = s.top + 1 - pg_current_xact_id()::text::bigint \
         FROM (SELECT GREATEST({highest}) AS top) s \
         WHERE id = 1 AND pg_current_xact_id()::text::bigint + xid_offset <= s.top"
    );
    Ok(conn.execute_unprepared(&sql).await?.rows_affected())
}

/// How long a pull waits for this database's earlier writers to end before answering with what
/// is final (and `hasMore`).
pub(crate) const WAIT: Duration = Duration::from_secs(2);
/// The first pause between two looks at the writers a pull waits for; it doubles up to `POLL_MAX`
/// (many devices pulling behind one long batch must not crowd the pool).
const POLL: Duration = Duration::from_millis(5);
const POLL_MAX: Duration = Duration::from_millis(50);

/// A pull's horizon: change numbers below `below` are final.
pub(crate) struct Horizon {
    pub(crate) below: i64,
    /// This database's writers (transaction ids) running at the snapshot, oldest first.
    running: Vec<i64>,
    offset: i64,
}

impl Horizon {
    /// Reads the horizon of `txn`'s snapshot: its first statement, so that the snapshot is the
    /// one the pull then reads with (REPEATABLE READ).
    pub(crate) async fn of(txn: &DatabaseTransaction) -> ApiResult<Self> {
        let sql = "SELECT pg_snapshot_xmax(s)::text::bigint AS xmax, \
                   (SELECT string_agg(x::text, ',') FROM pg_snapshot_xip(s) x) AS running, \
                   (SELECT string_agg(backend_xid::text, ',') FROM pg_stat_activity \
                     WHERE backend_xid IS NOT NULL AND datname IS DISTINCT FROM current_database()) AS elsewhere, \
                   (SELECT xid_offset FROM sync_state WHERE id = 1) AS xid_offset \
                   FROM (SELECT pg_current_snapshot() AS s) q";
        let row = txn
            .query_one_raw(Statement::from_string(txn.get_database_backend(), sql))
            .await?
            .ok_or_else(|| crate::error::ApiError::Internal(anyhow::anyhow!("no snapshot")))?;
        let xmax: i64 = row.try_get("", "xmax")?;
        let list = |col: &str| -> ApiResult<Vec<i64>> {
            let text: Option<String> = row.try_get("", col)?;
            Ok(text.iter().flat_map(|t| t.split(',')).filter_map(|x| x.parse().ok()).collect())
        };
        // `backend_xid` is the 32-bit id; the snapshot's carry the epoch above it.
        let elsewhere: Vec<i64> = list("elsewhere")?;
        let mut running: Vec<i64> =
            list("running")?.into_iter().filter(|x| !elsewhere.contains(&(x & 0xffff_ffff))).collect();
        running.sort_unstable();
        let offset: i64 = row.try_get("", "xid_offset")?;
        let oldest = running.first().copied().unwrap_or(xmax);
        Ok(Self { below: oldest.min(xmax) + offset, running, offset })
    }

    /// Waits until this database's writers that hold a change number below `seq` have ended, or
    /// `deadline` passed. Returns whether they all ended (a new snapshot then reaches further).
    pub(crate) async fn wait_below<C: ConnectionTrait>(
        &self,
        conn: &C,
        seq: i64,
        deadline: Instant,
    ) -> ApiResult<bool> {
        let ids: Vec<String> =
            self.running.iter().filter(|x| **x + self.offset <= seq).map(|x| x.to_string()).collect();
        if ids.is_empty() {
            return Ok(true);
        }
        let sql = format!(
            "SELECT COUNT(*) AS n FROM unnest(ARRAY[{}]::bigint[]) x \
             WHERE pg_xact_status(x::text::xid8) = 'in progress'",
            ids.join(",")
        );
        let mut pause = POLL;
        loop {
            let row = conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql.clone())).await?;
            if row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0) == 0 {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                // Worth an operator's look: a transaction left open holds every device back.
                metrics::counter!("cbss_sync_pulls_held_total").increment(1);
                tracing::warn!(
                    transactions = %ids.join(","),
                    "a pull waited for writers of this database still running; it answers what is final (hasMore)"
                );
                return Ok(false);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX);
        }
    }
}
