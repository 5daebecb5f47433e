//! How the store writes: every write of a syncable record runs through `Store::write`, which
//! gives it a transaction, the transaction's change number and an audit buffer.
//!
//! A store is either on the connection pool (each write is its own transaction) or inside a
//! sync batch (`Store::begin_batch`): then every read and write of the store runs in the
//! batch's one transaction, so later items see earlier ones, and the batch commits or rolls
//! back as a whole. Single-record mutations and sync items therefore run the very same code.
//!
//! New rows (`Store::insert_new`) in a batch without savepoints are not sent one by one: they
//! wait in `Pending` and go out as multi-row INSERTs, before the batch's next read or
//! statement of any kind, so every read still sees every earlier write. If a flush fails, the
//! batch is redone with savepoints and immediate writes, which pins the failure to its item.

use super::Store;
use super::audit::Auditor;
use crate::db::{self, WriteTurn};
use crate::error::{ApiError, ApiResult};
use entity::{
    antigen, attendance, audit_log, consent, enrolment, growth_measurement, hiv_knowledge, household, immunisation,
    milestone, milestone_check, org_unit, person, pregnancy, referral_step, service_record, service_type,
};
use sea_orm::sea_query::UpdateStatement;
use sea_orm::{
    AccessMode, ActiveModelTrait, ActiveValue, ConnectionTrait, DatabaseConnection, DatabaseExecutor,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, ExecResult, IsolationLevel, QueryResult, Statement,
    TransactionError, TransactionOptions, TransactionTrait,
};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A future borrowing the write's transaction.
pub(crate) type WriteFuture<'t, T> = Pin<Box<dyn Future<Output = ApiResult<T>> + Send + 't>>;

/// Where a store's statements go.
pub(crate) enum Exec {
    Pool(DatabaseConnection),
    Batch(Box<Batch>),
}

/// One sync batch's transaction and what its items share.
pub(crate) struct Batch {
    pool: DatabaseConnection,
    txn: DatabaseTransaction,
    /// The database's turn to write (`db::write_turn`), from before the batch's BEGIN until its
    /// end; after `txn` so that a batch dropped half-way ends its transaction first.
    _turn: WriteTurn,
    seq: i64,
    /// Each write in its own savepoint: slower, but a failing statement undoes only its item.
    savepoints: bool,
    /// Set when a write failed part-way without a savepoint: the batch must be redone with them.
    broken: AtomicBool,
    audits: Mutex<Vec<audit_log::ActiveModel>>,
    /// Reads made in the batch: audited whether or not it commits (a dry run, an ALL batch that
    /// failed and a refused create still showed what they read).
    reads: Mutex<Vec<audit_log::ActiveModel>>,
    pending: Mutex<Pending>,
    /// The record locks this batch holds (`Store::lock_records`).
    locked: Mutex<HashSet<i32>>,
    pub(crate) cache: Mutex<Cache>,
}

impl Batch {
    /// Sends the rows waiting to be inserted (see the module comment).
    async fn flush(&self) -> Result<(), DbErr> {
        let rows = std::mem::take(&mut *self.pending.lock().expect("pending rows"));
        if rows.is_empty() {
            return Ok(());
        }
        let out = rows.insert(&self.txn).await;
        if out.is_err() {
            self.broken.store(true, Ordering::SeqCst);
        }
        out
    }
}

/// A new row of a syncable table or of a record's detail, for `Store::insert_new`.
pub(crate) enum NewRow {
    Household(household::ActiveModel),
    Person(person::ActiveModel),
    Consent(consent::ActiveModel),
    Pregnancy(pregnancy::ActiveModel),
    ServiceRecord(service_record::ActiveModel),
    Growth(growth_measurement::ActiveModel),
    Immunisation(immunisation::ActiveModel),
    MilestoneCheck(milestone_check::ActiveModel),
    Enrolment(enrolment::ActiveModel),
    Attendance(attendance::ActiveModel),
    HivKnowledge(hiv_knowledge::ActiveModel),
    /// A referral's step when a new record completes it (`Store::referrals_met_by`).
    ReferralStep(referral_step::ActiveModel),
}

/// New rows by table, inserted in an order that satisfies every foreign key.
#[derive(Default)]
struct Pending {
    households: Vec<household::ActiveModel>,
    people: Vec<person::ActiveModel>,
    consents: Vec<consent::ActiveModel>,
    pregnancies: Vec<pregnancy::ActiveModel>,
    records: Vec<service_record::ActiveModel>,
    growth: Vec<growth_measurement::ActiveModel>,
    immunisations: Vec<immunisation::ActiveModel>,
    milestone_checks: Vec<milestone_check::ActiveModel>,
    enrolments: Vec<enrolment::ActiveModel>,
    attendance: Vec<attendance::ActiveModel>,
    hiv_knowledge: Vec<hiv_knowledge::ActiveModel>,
    referral_steps: Vec<referral_step::ActiveModel>,
}

impl Pending {
    fn push(&mut self, row: NewRow, seq: i64) {
        match row {
            NewRow::Household(mut r) => {
                r.change_seq = ActiveValue::Set(seq);
                self.households.push(r)
            }
            NewRow::Person(mut r) => {
                r.change_seq = ActiveValue::Set(seq);
                self.people.push(r)
            }
            NewRow::Consent(mut r) => {
                r.change_seq = ActiveValue::Set(seq);
                self.consents.push(r)
            }
            NewRow::Pregnancy(mut r) => {
                r.change_seq = ActiveValue::Set(seq);
                self.pregnancies.push(r)
            }
            NewRow::ServiceRecord(mut r) => {
                r.change_seq = ActiveValue::Set(seq);
                self.records.push(r)
            }
            NewRow::Growth(r) => self.growth.push(r),
            NewRow::Immunisation(r) => self.immunisations.push(r),
            NewRow::MilestoneCheck(r) => self.milestone_checks.push(r),
            NewRow::Enrolment(r) => self.enrolments.push(r),
            NewRow::Attendance(r) => self.attendance.push(r),
            NewRow::HivKnowledge(r) => self.hiv_knowledge.push(r),
            NewRow::ReferralStep(r) => self.referral_steps.push(r),
        }
    }

    /// Adds `other`'s rows. Destructured whole, so a table added to `Pending` and not here does
    /// not compile (its queued rows would otherwise be dropped without a word).
    fn append(&mut self, other: Pending) {
        let Pending {
            households,
            people,
            consents,
            pregnancies,
            records,
            growth,
            immunisations,
            milestone_checks,
            enrolments,
            attendance,
            hiv_knowledge,
            referral_steps,
        } = other;
        self.households.extend(households);
        self.people.extend(people);
        self.consents.extend(consents);
        self.pregnancies.extend(pregnancies);
        self.records.extend(records);
        self.growth.extend(growth);
        self.immunisations.extend(immunisations);
        self.milestone_checks.extend(milestone_checks);
        self.enrolments.extend(enrolments);
        self.attendance.extend(attendance);
        self.hiv_knowledge.extend(hiv_knowledge);
        self.referral_steps.extend(referral_steps);
    }

    fn is_empty(&self) -> bool {
        self.households.is_empty()
            && self.people.is_empty()
            && self.consents.is_empty()
            && self.pregnancies.is_empty()
            && self.records.is_empty()
            && self.growth.is_empty()
            && self.immunisations.is_empty()
            && self.milestone_checks.is_empty()
            && self.enrolments.is_empty()
            && self.attendance.is_empty()
            && self.hiv_knowledge.is_empty()
            && self.referral_steps.is_empty()
    }

    async fn insert<C: ConnectionTrait>(self, conn: &C) -> Result<(), DbErr> {
        insert_all(conn, self.households).await?;
        insert_all(conn, self.people).await?;
        insert_all(conn, self.consents).await?;
        insert_all(conn, self.pregnancies).await?;
        insert_all(conn, self.records).await?;
        insert_all(conn, self.growth).await?;
        insert_all(conn, self.immunisations).await?;
        insert_all(conn, self.milestone_checks).await?;
        insert_all(conn, self.enrolments).await?;
        insert_all(conn, self.attendance).await?;
        insert_all(conn, self.hiv_knowledge).await?;
        insert_all(conn, self.referral_steps).await
    }
}

pub(super) async fn execute_all<C: ConnectionTrait>(conn: &C, statements: Vec<UpdateStatement>) -> Result<(), DbErr> {
    for stmt in statements {
        conn.execute(&stmt).await?;
    }
    Ok(())
}

/// Multi-row INSERTs; 400 rows of at most ~30 columns stay below every backend's bind limit.
async fn insert_all<C, A>(conn: &C, rows: Vec<A>) -> Result<(), DbErr>
where
    C: ConnectionTrait,
    A: ActiveModelTrait + Send,
{
    for chunk in rows.chunks(400) {
        A::Entity::insert_many(chunk.to_vec()).exec_without_returning(conn).await?;
    }
    Ok(())
}

/// Rows a batch has already read (or written), so a thousand items about the same few
/// households and units do not read them a thousand times. Only rows the caller may see.
#[derive(Default)]
pub(crate) struct Cache {
    pub(crate) units: HashMap<Uuid, org_unit::Model>,
    pub(crate) households: HashMap<Uuid, household::Model>,
    pub(crate) people: HashMap<Uuid, person::Model>,
    /// Households with a consent in force today.
    pub(crate) consented: HashSet<Uuid>,
    pub(crate) service_types: HashMap<String, service_type::Model>,
    pub(crate) antigens: HashMap<String, antigen::Model>,
    pub(crate) milestones: Option<Vec<milestone::Model>>,
    /// Ids known to be free in a table (checked in bulk before the items ran).
    pub(crate) free_ids: HashSet<(&'static str, Uuid)>,
    /// Every dose recorded for these people, with its stored verdict (`doses::dose_rows`).
    pub(crate) doses: HashMap<Uuid, Vec<super::doses::DoseRow>>,
    pub(crate) dose_rules: Option<std::sync::Arc<super::doses::DoseRules>>,
    pub(crate) follow_up: Option<crate::domain::pregnancy::FollowUp>,
    /// What the audit entries of the item running now say of it (`sync_push`).
    pub(crate) item_context: Option<String>,
}

impl Exec {
    fn executor(&self) -> DatabaseExecutor<'_> {
        match self {
            Exec::Pool(db) => DatabaseExecutor::Connection(db),
            Exec::Batch(b) => DatabaseExecutor::Transaction(&b.txn),
        }
    }
}

impl Exec {
    /// In a batch, rows waiting to be inserted go out before any other statement.
    async fn flush(&self) -> Result<(), DbErr> {
        match self {
            Exec::Batch(b) => b.flush().await,
            Exec::Pool(_) => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Exec {
    fn get_database_backend(&self) -> DbBackend {
        self.executor().get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.flush().await?;
        self.executor().execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.flush().await?;
        self.executor().execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.flush().await?;
        self.executor().query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.flush().await?;
        self.executor().query_all_raw(stmt).await
    }
}

#[async_trait::async_trait]
impl TransactionTrait for Exec {
    type Transaction = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.executor().begin().await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.executor().begin_with_config(isolation_level, access_mode).await
    }

    async fn begin_with_options(&self, options: TransactionOptions) -> Result<DatabaseTransaction, DbErr> {
        self.executor().begin_with_options(options).await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(&'c DatabaseTransaction) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>> + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.executor().transaction(callback).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(&'c DatabaseTransaction) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>> + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.executor().transaction_with_config(callback, isolation_level, access_mode).await
    }
}

/// What a write gets besides its transaction: the change number to stamp on the rows it
/// writes, and the audit entries it appends (inserted with it, or not at all).
pub(crate) struct WriteCtx {
    pub(crate) seq: i64,
    auditor: Auditor,
    entries: Mutex<Vec<audit_log::ActiveModel>>,
}

impl WriteCtx {
    fn new(seq: i64, auditor: Auditor) -> Self {
        Self { seq, auditor, entries: Mutex::new(Vec::new()) }
    }

    /// Audits a change from `before` to `after`.
    pub(crate) fn record<T: serde::Serialize>(
        &self,
        action: &str,
        entity: &str,
        id: Uuid,
        before: Option<&T>,
        after: Option<&T>,
    ) {
        self.note(action, entity, id, super::audit::diff(before, after), None);
    }

    /// Audits a change described by `changes` and `detail`.
    pub(crate) fn note(&self, action: &str, entity: &str, id: Uuid, changes: Option<String>, detail: Option<String>) {
        let entry = self.auditor.entry(action, entity, Some(id), changes, detail);
        self.entries.lock().expect("audit buffer").push(entry);
    }

    fn take(&self) -> Vec<audit_log::ActiveModel> {
        std::mem::take(&mut *self.entries.lock().expect("audit buffer"))
    }
}

/// The write transaction's change number. PostgreSQL: its own transaction id plus the offset
/// set by the migration `m20261215_000001`; nothing is locked, so writers run side by side, and
/// a pull reads only below its snapshot's horizon (`sync::horizon`). SQLite: the counter's next
/// value; the UPDATE takes the database's write lock at once, before anything is read, and
/// SQLite writes one at a time anyway.
pub(super) async fn next_change_seq<C: ConnectionTrait>(conn: &C) -> ApiResult<i64> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT pg_current_xact_id()::text::bigint + xid_offset FROM sync_state WHERE id = 1",
        _ => "UPDATE sync_state SET change_seq = change_seq + 1 WHERE id = 1 RETURNING change_seq",
    };
    let row = conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("sync_state has no row")))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// The first key of the service's record locks (`Store::lock_records`): "CB".
const RECORD_LOCKS: i32 = 0x4342;

/// A record's lock key: its id folded to 32 bits. Two records sharing a key only wait for each
/// other now and then.
fn lock_key(id: Uuid) -> i32 {
    let v = id.as_u128();
    ((v ^ (v >> 32) ^ (v >> 64) ^ (v >> 96)) as u32) as i32
}

async fn insert_audits<C: ConnectionTrait>(conn: &C, entries: Vec<audit_log::ActiveModel>) -> ApiResult<()> {
    // 9 columns a row: 500 rows stay far below every backend's bind-parameter limit.
    for chunk in entries.chunks(500) {
        audit_log::Entity::insert_many(chunk.to_vec()).exec_without_returning(conn).await?;
    }
    Ok(())
}

impl Store {
    /// Runs one write: in its own transaction on the pool, or inside the batch. On error nothing
    /// of it stays.
    pub(crate) async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send,
        F: for<'t> FnOnce(&'t DatabaseTransaction, &'t WriteCtx) -> WriteFuture<'t, T> + Send,
    {
        match &*self.exec {
            Exec::Pool(db) => {
                let _turn = db::write_turn(db).await;
                let txn = db.begin().await?;
                let w = WriteCtx::new(next_change_seq(&txn).await?, self.auditor());
                match f(&txn, &w).await {
                    Ok(out) => {
                        insert_audits(&txn, w.take()).await?;
                        txn.commit().await?;
                        self.wrote().await;
                        Ok(out)
                    }
                    Err(e) => {
                        txn.rollback().await?;
                        Err(e)
                    }
                }
            }
            Exec::Batch(b) if b.savepoints => {
                b.flush().await?;
                let sp = b.txn.begin().await?;
                let w = WriteCtx::new(b.seq, self.auditor());
                match f(&sp, &w).await {
                    Ok(out) => {
                        sp.commit().await?;
                        b.audits.lock().expect("audit buffer").extend(w.take());
                        Ok(out)
                    }
                    Err(e) => {
                        sp.rollback().await?;
                        Err(e)
                    }
                }
            }
            Exec::Batch(b) => {
                b.flush().await?;
                let w = WriteCtx::new(b.seq, self.auditor());
                match f(&b.txn, &w).await {
                    Ok(out) => {
                        b.audits.lock().expect("audit buffer").extend(w.take());
                        Ok(out)
                    }
                    Err(e) => {
                        // Part of the write may have happened (and on PostgreSQL a failed
                        // statement poisons the transaction): the caller redoes the batch.
                        b.broken.store(true, Ordering::SeqCst);
                        Err(e)
                    }
                }
            }
        }
    }

    /// Inserts new rows (a record with its details) as one write: in its own transaction on the
    /// pool, in a savepoint, or (a batch without savepoints) queued for a multi-row INSERT.
    /// `audit` appends the write's audit entries. Returns the change number stamped on the rows.
    pub(crate) async fn insert_new<F>(&self, rows: Vec<NewRow>, audit: F) -> ApiResult<i64>
    where
        F: FnOnce(&WriteCtx) + Send,
    {
        self.insert_new_then(rows, audit, |_| Vec::new()).await
    }

    /// `insert_new`, then `then`'s updates (of rows the new ones change, e.g. the verdicts of a
    /// person's other doses; given the write's change number) in the same transaction or
    /// savepoint; a batch sends its queued rows first, so the updates see every earlier write.
    pub(crate) async fn insert_new_then<F, T>(&self, rows: Vec<NewRow>, audit: F, then: T) -> ApiResult<i64>
    where
        F: FnOnce(&WriteCtx) + Send,
        T: FnOnce(i64) -> Vec<UpdateStatement> + Send,
    {
        let stamp = |seq: i64| {
            let mut p = Pending::default();
            for row in rows {
                p.push(row, seq);
            }
            p
        };
        match &*self.exec {
            Exec::Pool(db) => {
                let _turn = db::write_turn(db).await;
                let txn = db.begin().await?;
                let w = WriteCtx::new(next_change_seq(&txn).await?, self.auditor());
                stamp(w.seq).insert(&txn).await?;
                execute_all(&txn, then(w.seq)).await?;
                audit(&w);
                insert_audits(&txn, w.take()).await?;
                txn.commit().await?;
                self.wrote().await;
                Ok(w.seq)
            }
            Exec::Batch(b) if b.savepoints => {
                let sp = b.txn.begin().await?;
                let inserted = match stamp(b.seq).insert(&sp).await {
                    Ok(()) => execute_all(&sp, then(b.seq)).await,
                    Err(e) => Err(e),
                };
                match inserted {
                    Ok(()) => sp.commit().await?,
                    Err(e) => {
                        sp.rollback().await?;
                        return Err(e.into());
                    }
                }
                let w = WriteCtx::new(b.seq, self.auditor());
                audit(&w);
                b.audits.lock().expect("audit buffer").extend(w.take());
                Ok(b.seq)
            }
            Exec::Batch(b) => {
                b.pending.lock().expect("pending rows").append(stamp(b.seq));
                let then = then(b.seq);
                if !then.is_empty() {
                    b.flush().await?;
                    if let Err(e) = execute_all(&b.txn, then).await {
                        b.broken.store(true, Ordering::SeqCst);
                        return Err(e.into());
                    }
                }
                let w = WriteCtx::new(b.seq, self.auditor());
                audit(&w);
                b.audits.lock().expect("audit buffer").extend(w.take());
                Ok(b.seq)
            }
        }
    }

    /// Makes this batch the only writer of these records until it ends (PostgreSQL): a
    /// household's people and records, or a new record's id. Writers of other records run side by
    /// side; two writers of one household take turns, so a check such as "no open pregnancy yet"
    /// or "consent in force" still holds when the write commits. Locks are taken in key order
    /// within a call (a batch takes all of its own at once, `sync::prefetch`); a deadlock across
    /// calls is broken by PostgreSQL and answered UNAVAILABLE (retry). Nothing to do on SQLite,
    /// which writes one at a time, or outside a transaction.
    pub(crate) async fn lock_records(&self, ids: impl IntoIterator<Item = Uuid>) -> ApiResult<()> {
        let Some(b) = self.batch() else { return Ok(()) };
        if b.txn.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let mut keys: Vec<i32> = {
            let held = b.locked.lock().expect("record locks");
            ids.into_iter().map(lock_key).filter(|k| !held.contains(k)).collect()
        };
        if keys.is_empty() {
            return Ok(());
        }
        keys.sort_unstable();
        keys.dedup();
        b.flush().await?;
        let list = keys.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
        // unnest keeps the array's order, so the locks are taken in key order.
        let sql = format!(
            "SELECT COUNT(pg_advisory_xact_lock({RECORD_LOCKS}, k)) FROM unnest(ARRAY[{list}]::integer[]) AS k"
        );
        if let Err(e) = b.txn.execute_unprepared(&sql).await {
            // A deadlock broken here aborted the batch's transaction: it cannot go on.
            b.broken.store(true, Ordering::SeqCst);
            return Err(e.into());
        }
        b.locked.lock().expect("record locks").extend(keys);
        Ok(())
    }

    /// Runs `f` in a transaction of its own (a batch of one) unless already in one, so that its
    /// checks and its writes see the same data under the same record locks.
    pub(crate) async fn atomic<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send,
        F: for<'s> FnOnce(&'s Store) -> Pin<Box<dyn Future<Output = ApiResult<T>> + Send + 's>> + Send,
    {
        if self.batch().is_some() {
            return f(self).await;
        }
        let batch = self.begin_batch(false).await?;
        let out = f(&batch).await;
        // A write that failed part-way answers its error; one that did not is never dropped.
        let broken = batch.batch_broken();
        batch.finish_batch(out.is_ok() && !broken).await?;
        match out {
            Ok(_) if broken => Err(ApiError::Internal(anyhow::anyhow!("a write failed part-way"))),
            out => out,
        }
    }

    /// Notes a read made in a batch, audited when the batch ends (`finish_batch`); false when
    /// this store is no batch.
    pub(crate) fn note_batch_read(&self, entry: &audit_log::ActiveModel) -> bool {
        match self.batch() {
            Some(b) => {
                b.reads.lock().expect("read audit buffer").push(entry.clone());
                true
            }
            None => false,
        }
    }

    /// Sends a batch's queued rows now; an error means the batch must be redone.
    pub(crate) async fn flush_batch(&self) -> ApiResult<()> {
        Ok(self.exec.flush().await?)
    }

    /// A store whose reads and writes all run in one new transaction (a sync batch). With
    /// `savepoints`, each write also gets its own savepoint.
    pub(crate) async fn begin_batch(&self, savepoints: bool) -> ApiResult<Store> {
        let Exec::Pool(db) = &*self.exec else {
            return Err(ApiError::Internal(anyhow::anyhow!("batches do not nest")));
        };
        let turn = db::write_turn(db).await;
        let txn = db.begin().await?;
        // Drawn first: on SQLite this takes the write lock before anything is read, so the
        // batch never has to upgrade a stale read snapshot; on PostgreSQL it orders batches.
        let seq = next_change_seq(&txn).await?;
        let batch = Batch {
            pool: db.clone(),
            txn,
            _turn: turn,
            seq,
            savepoints,
            broken: AtomicBool::new(false),
            audits: Mutex::new(Vec::new()),
            reads: Mutex::new(Vec::new()),
            pending: Mutex::new(Pending::default()),
            locked: Mutex::new(HashSet::new()),
            cache: Mutex::new(Cache::default()),
        };
        Ok(Store {
            exec: Arc::new(Exec::Batch(Box::new(batch))),
            principal: self.principal.clone(),
            keys: self.keys.clone(),
            principals: self.principals.clone(),
            session: self.session,
            // Reads in a batch are audited in its transaction.
            reads: None,
            ticket: self.ticket.clone(),
            replica: self.replica.clone(),
            on_replica: false,
            route: self.route.clone(),
            rollups: self.rollups.clone(),
            rollup_used: self.rollup_used.clone(),
        })
    }

    /// This database's turn to write (`db::write_turn`), for a write transaction or statement
    /// outside `write` and `insert_new`; none in a batch, which holds the turn for its writes.
    pub(crate) async fn write_turn(&self) -> WriteTurn {
        match &*self.exec {
            Exec::Pool(db) => db::write_turn(db).await,
            Exec::Batch(_) => WriteTurn::within(),
        }
    }

    /// The connection pool, for reads that outlive a request's statements (lazy counts).
    pub(crate) fn pool(&self) -> &DatabaseConnection {
        match &*self.exec {
            Exec::Pool(db) => db,
            Exec::Batch(b) => &b.pool,
        }
    }

    /// The batch this store runs in, if any.
    pub(crate) fn batch(&self) -> Option<&Batch> {
        match &*self.exec {
            Exec::Batch(b) => Some(b),
            Exec::Pool(_) => None,
        }
    }

    /// Whether a write of this batch failed part-way (see `write`).
    pub(crate) fn batch_broken(&self) -> bool {
        self.batch().is_some_and(|b| b.broken.load(Ordering::SeqCst))
    }

    /// Ends a batch: commits it with its audit entries, or rolls it all back.
    pub(crate) async fn finish_batch(self, commit: bool) -> ApiResult<()> {
        // Where to note the session's write once committed (`Store::wrote`).
        let noted = self.replica.as_ref().and(self.session).map(|session| (self.pool().clone(), session));
        let exec = Arc::try_unwrap(self.exec)
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the batch store is still in use")))?;
        let Exec::Batch(b) = exec else {
            return Err(ApiError::Internal(anyhow::anyhow!("not a batch")));
        };
        let reads = std::mem::take(&mut *b.reads.lock().expect("read audit buffer"));
        if commit && !b.broken.load(Ordering::SeqCst) {
            b.flush().await?;
            let mut audits = std::mem::take(&mut *b.audits.lock().expect("audit buffer"));
            audits.extend(reads);
            insert_audits(&b.txn, audits).await?;
            b.txn.commit().await?;
            if let Some((pool, session)) = noted {
                crate::replica::Replica::wrote(&pool, session).await;
            }
        } else {
            b.txn.rollback().await?;
            // Still this database's turn to write (`b._turn`): the reads are audited on their own.
            insert_audits(&b.pool, reads).await?;
        }
        Ok(())
    }

    /// Whether a row of `E` has this id (in any scope: ids are never reused). A batch knows the
    /// ids it checked in bulk.
    pub(crate) async fn id_taken<E>(&self, table: &'static str, id: Uuid) -> ApiResult<bool>
    where
        E: EntityTrait,
        <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
    {
        // Two creates of one id (a client's retry racing its first try) take turns.
        self.lock_records([id]).await?;
        if self.cached(|c| c.free_ids.contains(&(table, id))) == Some(true) {
            return Ok(false);
        }
        Ok(E::find_by_id(id).one(self.db()).await?.is_some())
    }

    /// Runs `f` on the batch cache; `None` outside a batch.
    pub(crate) fn cached<R>(&self, f: impl FnOnce(&mut Cache) -> R) -> Option<R> {
        self.batch().map(|b| f(&mut b.cache.lock().expect("batch cache")))
    }
}

/// The tombstone of a protection case a transfer took away from a unit: the devices there drop
/// it (pulled only by those who work on cases).
pub(crate) const CASE_TOMBSTONE: &str = "protection_case";

/// Leaves a tombstone for a record devices must drop (erased or deleted).
pub(crate) async fn tombstone<C: ConnectionTrait>(
    conn: &C,
    entity: &str,
    id: Uuid,
    unit: Uuid,
    seq: i64,
    reason: &str,
) -> ApiResult<()> {
    use sea_orm::{ActiveModelTrait, Set};
    entity::tombstone::ActiveModel {
        id: Set(Uuid::now_v7()),
        entity: Set(entity.into()),
        entity_id: Set(id),
        org_unit_id: Set(unit),
        change_seq: Set(seq),
        deleted_at: Set(chrono::Utc::now()),
        reason: Set(reason.into()),
    }
    .insert(conn)
    .await?;
    Ok(())
}
