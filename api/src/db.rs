//! Connecting to SQLite or PostgreSQL with the settings each needs, and migrating.

use crate::config::Config;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseConnectionType, DbBackend, TransactionTrait,
};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Weak};
use std::time::Duration;

/// Counts the SQL statements a connection runs (exposed for tests and benchmarks).
#[derive(Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Connects, trying again with growing pauses (0.25 s doubling to 4 s) for
/// `CBSS_DB_CONNECT_RETRY_SECS`: a service started beside its database (compose, a reboot) waits
/// for it. Each failure is logged with the address tried (never the password).
async fn connect_with_retries(opts: ConnectOptions, config: &Config) -> anyhow::Result<DatabaseConnection> {
    let address = address(&config.database_url);
    let started = std::time::Instant::now();
    let window = Duration::from_secs(config.db_connect_retry_secs);
    let mut pause = Duration::from_millis(250);
    loop {
        match Database::connect(opts.clone()).await {
            Ok(db) => return Ok(db),
            Err(e) if started.elapsed() + pause <= window => {
                tracing::warn!(%address, error = %e, "the database does not answer; trying again in {pause:?}");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(4));
            }
            Err(e) => {
                anyhow::bail!(
                    "could not reach the database at {address} (tried for {} s): {e}",
                    started.elapsed().as_secs()
                )
            }
        }
    }
}

/// Where a database URL points, without credentials: `host:port/db`, or the SQLite file.
pub fn address(url: &str) -> String {
    // Only a PostgreSQL URL is parsed as one: sqlx warns of every SQLite parameter it meets.
    if url.starts_with("postgres")
        && let Ok(o) = url.parse::<PgConnectOptions>()
    {
        return format!("{}:{}/{}", o.get_host(), o.get_port(), o.get_database().unwrap_or(""));
    }
    sqlite_file(url).unwrap_or(url).to_string()
}

/// How long a pooled connection may sit unused before it is pinged when checked out.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(10);

/// The turns of a SQLite database's writers, by database file: one queue per file in the process.
static WRITERS: LazyLock<std::sync::Mutex<HashMap<PathBuf, Weak<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

/// A writer's turn on its database, held until dropped; nothing on PostgreSQL.
pub struct WriteTurn {
    _held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTurn {
    /// No turn: for a write that runs in a transaction which holds one (a sync batch's).
    pub fn within() -> Self {
        Self { _held: None }
    }
}

/// Waits for this database's turn to write.
///
/// SQLite lets one transaction write at a time. Left to SQLite, writers that find the database
/// locked poll for it in its busy handler (sleeps of up to 100 ms) until the busy timeout, in
/// no order: in a burst of sync batches the last ones waited 10.4 s, at the edge of the timeout
/// (issue 30), and each waiting transaction held a pooled connection meanwhile. So the service
/// queues its own writers before they begin — first come, first served (tokio's mutex is fair),
/// without a connection while they wait — and each write transaction, from its BEGIN to its
/// COMMIT, holds the turn: `Store::write`, `Store::insert_new`, a sync batch, the sessions' and
/// users' transactions, the audit writes outside them. SQLite's busy timeout is then only for
/// other processes on the same file (the `cbss` CLI) and for a transaction that another has
/// just given up. PostgreSQL locks rows, not the database: its writers never wait here.
///
/// A request keeps its admission place while it waits (`admission`): the queue is never longer
/// than the requests let in, and what waits longer than a request may is dropped at the gate.
/// One turn per database file, so two pools on one file (another instance in the same process)
/// share it. A turn is never taken inside another (tokio's mutex is not reentrant): each write
/// takes its own before its BEGIN and gives it back after its end.
pub async fn write_turn(db: &DatabaseConnection) -> WriteTurn {
    let DatabaseConnectionType::SqlxSqlitePoolConnection(_) = &db.inner else { return WriteTurn::within() };
    let file = db.get_sqlite_connection_pool().connect_options().get_filename().to_path_buf();
    let queue = {
        let mut all = WRITERS.lock().unwrap_or_else(|e| e.into_inner());
        match all.get(&file).and_then(Weak::upgrade) {
            Some(queue) => queue,
            None => {
                // A queue nobody holds or waits in is as good as none: dropped ones go here.
                all.retain(|_, q| q.strong_count() > 0);
                let queue = Arc::new(tokio::sync::Mutex::new(()));
                all.insert(file, Arc::downgrade(&queue));
                queue
            }
        }
    };
    WriteTurn { _held: Some(queue.lock_owned().await) }
}

pub async fn connect(config: &Config) -> anyhow::Result<(DatabaseConnection, StatementCounter)> {
    let db = open(config, &config.database_url, false).await?;
    Ok(counted(db))
}

/// A pool on the replica (`DATABASE_REPLICA_URL`): connected when first used, so a replica
/// that is away at start only sends reads to the primary (`replica`).
pub async fn connect_replica(config: &Config, url: &str) -> anyhow::Result<DatabaseConnection> {
    Ok(counted(open(config, url, true).await?).0)
}

/// Counts the pool's statements (the request's count, and the metrics).
fn counted(mut db: DatabaseConnection) -> (DatabaseConnection, StatementCounter) {
    let counter = StatementCounter::default();
    let c = counter.0.clone();
    db.set_metric_callback(move |info| {
        c.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::statement_ran(info.elapsed, info.failed);
    });
    (db, counter)
}

async fn open(config: &Config, url: &str, lazy: bool) -> anyhow::Result<DatabaseConnection> {
    if let Some(dir) =
        sqlite_file(url).and_then(|p| std::path::Path::new(p).parent()).filter(|d| !d.as_os_str().is_empty())
    {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = ConnectOptions::new(url.to_string());
    // Writers queue in the service (`write_turn`); SQLite's busy handler waits only for other
    // processes' writes, and as long as a request may last.
    let busy_timeout = config.request_timeout();
    opts.max_connections(config.db_max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_millis(config.db_acquire_timeout_ms.max(1)))
        // sqlx pings every connection on its way back to the pool; a ping on every checkout
        // too cost each statement a second round trip (two process wake-ups on each side).
        // Only a connection left idle long enough to have been dropped is pinged again.
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false)
        // WAL lets readers run while one writer writes; foreign keys are off in SQLite unless asked.
        .map_sqlx_sqlite_opts(move |o: SqliteConnectOptions| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(busy_timeout)
        });
    // With metrics served, every checkout's wait on the primary's pool comes as an event that
    // `telemetry::pool_waits` turns into a histogram (the replica's pool is `lazy`).
    let waits = if config.metrics_token().is_some() && !lazy { log::LevelFilter::Trace } else { log::LevelFilter::Off };
    opts.map_sqlx_sqlite_pool_opts(move |pool| pool.acquire_time_level(waits));
    if url.starts_with("postgres") {
        opts.statement_timeout(config.request_timeout());
        // PostgreSQL's JIT compiles a national coverage query for 100-150 ms, often longer than
        // it then runs (bench/coverage.sh, issue 7); the service's queries are not long enough
        // to repay it.
        opts.map_sqlx_postgres_opts(|o: PgConnectOptions| o.options([("jit", "off")]));
        let port = url.parse::<PgConnectOptions>().map(|o| o.get_port()).unwrap_or(5432);
        opts.map_sqlx_postgres_pool_opts(move |pool| {
            pool.acquire_time_level(waits).after_connect(move |_, _| {
                Box::pin(async move {
                    nodelay_to(port);
                    Ok(())
                })
            })
        });
    }
    if lazy {
        opts.min_connections(0).connect_lazy(true);
        return Ok(Database::connect(opts).await?);
    }
    connect_with_retries(opts, config).await
}

/// The pool's connections in use and idle, now.
pub fn pool_state(db: &DatabaseConnection) -> (u32, usize) {
    let (size, idle) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    };
    (size.saturating_sub(idle as u32), idle)
}

/// Turns off Nagle's algorithm on this process's TCP connections to `port`.
///
/// sqlx 0.9.0 no longer sets TCP_NODELAY (transact-rs/sqlx#4335, fixed upstream but not yet
/// released): every statement larger than one TCP segment then waits ~40 ms for a delayed ACK,
/// which made a 1,000-item sync batch 5x slower on PostgreSQL over TCP than over a Unix socket.
/// The connection's socket is not reachable through sqlx, so the new connection is found among
/// the process's descriptors. Remove once sqlx sets the option again.
fn nodelay_to(port: u16) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::BorrowedFd;
        let Ok(fds) = std::fs::read_dir("/proc/self/fd") else { return };
        for fd in fds.flatten().filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok()) {
            let is_socket = std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
            if !is_socket {
                continue;
            }
            // SAFETY: the descriptor is only borrowed for two socket calls; if it was closed
            // and reused meanwhile, the calls fail or set a harmless option on another socket.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            let sock = socket2::SockRef::from(&fd);
            if sock.peer_addr().ok().and_then(|a| a.as_socket()).is_some_and(|a| a.port() == port) {
                let _ = sock.set_tcp_nodelay(true);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = port;
}

/// The file path of a sqlite:// URL (None for PostgreSQL and in-memory databases).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// Applies pending migrations, then fills in what the migrations cannot compute themselves
/// (WHO z-scores of growth measurements stored before they were computed on write, the
/// verdicts of doses stored before doses were evaluated).
/// The advisory lock key held while migrating (any constant the service alone uses).
const MIGRATION_LOCK: i64 = 0x0C55_0001;

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        // One transaction, free of the request timeout every pooled connection carries: a
        // migration that rewrites millions of rows takes longer than a request may, and a
        // failed one leaves nothing behind.
        let txn = db.begin().await?;
        txn.execute_unprepared("SET LOCAL statement_timeout = 0").await?;
        // Instances starting together (a rolling deploy, two replicas of the API) migrate one
        // after the other: the next finds the migrations applied.
        txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")).await?;
        Migrator::up(&txn, None).await?;
        if crate::store::horizon::keep_offset_above_stored(&txn).await? > 0 {
            tracing::warn!("change numbers restarted above the stored ones (a restored database)");
        }
        txn.commit().await?;
    } else {
        Migrator::up(db, None).await?;
    }
    let filled =
        crate::store::growth::backfill(db).await.map_err(|e| anyhow::anyhow!("filling in growth z-scores: {e:?}"))?;
    if filled > 0 {
        tracing::info!(filled, "growth z-scores filled in");
    }
    let changed = crate::store::doses::rederive(db).await.map_err(|e| anyhow::anyhow!("evaluating doses: {e:?}"))?;
    if changed > 0 {
        tracing::info!(changed, "dose verdicts evaluated again under new rules");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;

    #[tokio::test]
    async fn writers_of_one_sqlite_file_take_turns() {
        let dir = std::env::temp_dir();
        let url = |name: &str| format!("sqlite://{}?mode=rwc", dir.join(name).display());
        let name = format!("cbss-turns-{}.db", uuid::Uuid::now_v7());
        let (a, b) = (Database::connect(url(&name)).await.unwrap(), Database::connect(url(&name)).await.unwrap());
        let elsewhere = Database::connect(url(&format!("other-{name}"))).await.unwrap();
        let first = write_turn(&a).await;
        assert!(write_turn(&b).now_or_never().is_none(), "another pool on the same file waits its turn");
        assert!(write_turn(&elsewhere).now_or_never().is_some(), "another file does not");
        drop(first);
        assert!(write_turn(&b).now_or_never().is_some());
        for db in [a, b, elsewhere] {
            let _ = db.close().await;
        }
        for file in [name.clone(), format!("other-{name}")] {
            let _ = std::fs::remove_file(dir.join(file));
        }
    }
}
