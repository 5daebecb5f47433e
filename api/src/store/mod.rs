//! The data-access layer: the only code that reads or writes the database on behalf of a caller.
//! Every read is filtered by the caller's view scope (`access::Scoped`), every write is authorised
//! (`access::Action`), validated, checked against the capture scope and consent, and audited in
//! the same transaction. Resolvers call this, never sea-orm directly.

pub mod aggregate;
mod assessments;
mod audit;
mod cases;
mod catalogue;
mod consent;
pub mod coverage;
mod creates;
mod dimensions;
pub mod doses;
pub mod filters;
pub mod growth;
mod hiv_knowledge;
pub mod horizon;
mod households;
mod milestones;
mod nodes;
mod org_units;
mod page;
mod people;
mod population;
mod pregnancies;
mod projects;
mod referrals;
pub mod rollup;
pub mod schedule;
mod services;
pub mod sync;
pub mod users;
mod write;

pub use assessments::{AnswerInput, AssessmentSummary, FollowUp, IndicatorSummary, NewAction, NewAssessment};
pub use audit::{AuditFilter, Auditor, ReadLog};
pub use cases::{CaseChange, CaseFilter, CaseUpdate, NewCaseAction, NewProtectionCase};
pub use catalogue::LifeStageRules;
pub use consent::NewConsent;
pub use creates::Creation;
pub use growth::GrowthCorrection;
pub use hiv_knowledge::NewHivKnowledge;
pub use households::{HouseholdChanges, HouseholdFilter, HouseholdOrder, NewHousehold};
pub use milestones::{MilestoneCheckItem, NewMilestoneCheck, milestone_progress};
pub use nodes::NodeRow;
pub use org_units::OrgUnitFilter;
pub use page::{MAX_PAGE_SIZE, Page, PageRequest, SortedPageRequest, TotalCount, encode_sorted_cursor};
pub use people::{NewPerson, PersonChanges, PersonFilter, PersonOrder};
pub use population::PopulationImport;
pub use pregnancies::{NewPregnancy, PregnancyOutcomeInput};
pub use projects::{NewBudgetLine, NewProject, NewReport, ProjectFilter, ProjectOrder, ProjectTotals};
pub use referrals::{NewReferral, ReferralAnswer, ReferralDirection, ReferralFilter, ReferredSubject};
pub use schedule::{DueEntry, DueListFilter, ScheduleReference};
pub use services::{
    EndEnrolment, NewAttendance, NewEnrolment, NewGrowthMeasurement, NewImmunisation, NewServiceRecord,
};
pub use users::{NewUser, Session, UserChanges};

use crate::access::{Action, Principal, Scoped};
use crate::admission::Ticket;
use crate::auth::principals::Forget;
use crate::auth::{Keys, PrincipalCache};
use crate::error::{ApiError, ApiResult};
use crate::replica::{Freshness, Replica};
use entity::read::{FromPgRow, Projected, Projection, Read};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, ModelTrait, PrimaryKeyTrait, QueryFilter,
    QuerySelect, Select,
};
use std::sync::Arc;
use uuid::Uuid;

/// The database as one caller may use it.
#[derive(Clone)]
pub struct Store {
    exec: Arc<write::Exec>,
    principal: Arc<Principal>,
    keys: Arc<Keys>,
    principals: Arc<PrincipalCache>,
    /// The session (login) of the caller's access token, when the caller came with one.
    session: Option<Uuid>,
    /// The server's writer of read audit entries (None: each entry is inserted on its own).
    reads: Option<ReadLog>,
    /// The request's place at the admission gate, given up while it waits for a commit.
    ticket: Option<Arc<Ticket>>,
    /// The replica analytics may read from (`replica`).
    replica: Option<Arc<Replica>>,
    /// Whether this store reads from the replica (`Store::analytics`).
    on_replica: bool,
    /// Whether this request's analytics read from the replica, decided once (on first use) for
    /// all of them: its pool and how fresh it is.
    route: Arc<tokio::sync::OnceCell<Option<(DatabaseConnection, Freshness)>>>,
    /// The server's roll-ups (`rollup`), which answers may read instead of the rows.
    rollups: Option<Arc<rollup::Rollups>>,
    /// The roll-up this request's answers read last (`extensions.freshness.rollup`).
    rollup_used: Arc<std::sync::Mutex<Option<rollup::RollupUse>>>,
}

impl Store {
    pub fn new(db: DatabaseConnection, principal: Principal, keys: Arc<Keys>) -> Self {
        let principals = Arc::default();
        let exec = Arc::new(write::Exec::Pool(db));
        let keys = if principal.deidentified && principal.is_authenticated() {
            Arc::new(keys.for_deidentified())
        } else {
            keys
        };
        Self {
            exec,
            principal: Arc::new(principal),
            keys,
            principals,
            session: None,
            reads: None,
            ticket: None,
            replica: None,
            on_replica: false,
            route: Arc::default(),
            rollups: None,
            rollup_used: Arc::default(),
        }
    }

    /// Lets aggregates read these roll-ups where they answer the question (`rollup`).
    pub fn with_rollups(mut self, rollups: Option<Arc<rollup::Rollups>>) -> Self {
        self.rollups = rollups;
        self
    }

    /// Lets analytics read from this replica while it keeps up (`Store::analytics`).
    pub fn with_replica(mut self, replica: Option<Arc<Replica>>) -> Self {
        self.replica = replica;
        self
    }

    /// This store for analytics (coverage, aggregates, exports, de-identified queries): reading
    /// from the replica when there is one, it keeps up and it has the caller's session's writes;
    /// else this very store, on the primary.
    pub async fn analytics(&self) -> Store {
        let Some(replica) = self.replica.as_ref().filter(|_| !self.on_replica && self.batch().is_none()) else {
            return self.clone();
        };
        let route = self.route.get_or_init(|| replica.for_session(self.pool(), self.session)).await;
        match route {
            Some((db, _)) => Store { exec: Arc::new(write::Exec::Pool(db.clone())), on_replica: true, ..self.clone() },
            None => self.clone(),
        }
    }

    /// How fresh the request's answer is, when some of it was read from the replica.
    pub fn freshness(&self) -> Option<Freshness> {
        self.route.get().and_then(|r| r.as_ref()).map(|(_, f)| *f)
    }

    /// After a write of this store's session committed: noted for the replica's routing.
    pub(crate) async fn wrote(&self) {
        if let (Some(_), Some(session)) = (&self.replica, self.session) {
            Replica::wrote(self.pool(), session).await;
        }
    }

    /// Writes read audit entries through the server's `ReadLog`.
    pub fn with_read_log(mut self, reads: ReadLog) -> Self {
        self.reads = Some(reads);
        self
    }

    /// The request's admission ticket (`admission`).
    pub fn with_ticket(mut self, ticket: Arc<Ticket>) -> Self {
        self.ticket = Some(ticket);
        self
    }

    /// Appends an audit entry that describes no change (a read) and waits for its commit: through
    /// the read log, with the request's admission place given up meanwhile; in a sync batch
    /// (whose store has no read log: `begin_batch`), when the batch ends, committed or not,
    /// before anything is answered; from the CLI, straight into this store's connection.
    pub(crate) async fn log_read(&self, entry: entity::audit_log::ActiveModel) -> ApiResult<()> {
        if self.note_batch_read(&entry) {
            return Ok(());
        }
        let Some(reads) = &self.reads else {
            let _turn = self.write_turn().await;
            sea_orm::ActiveModelTrait::insert(entry, self.db()).await?;
            return Ok(());
        };
        match &self.ticket {
            Some(ticket) => ticket.waiting(reads.write(entry)).await,
            None => reads.write(entry).await,
        }
    }

    /// Shares the server's principal cache, so changes of users, roles, scopes and partners
    /// made through this store clear it.
    pub fn with_principals(mut self, cache: Arc<PrincipalCache>) -> Self {
        self.principals = cache;
        self
    }

    /// The session of the caller's access token (`auth::tokens::AccessClaims::sid`).
    pub fn with_session(mut self, session: Uuid) -> Self {
        self.session = Some(session);
        self
    }

    /// After a change that can alter who may do what: cached principals are rebuilt, on every
    /// instance.
    pub(crate) async fn forget_principals(&self) {
        self.principals.forget_everywhere(self.pool(), Forget::All).await;
    }

    /// After a session ended: its tokens' cached principals go, so every instance refuses them
    /// at once.
    pub(crate) async fn forget_session(&self, session: Uuid) {
        self.principals.forget_everywhere(self.pool(), Forget::Session(session)).await;
    }

    /// The session of the caller's access token, if any.
    pub(crate) fn session(&self) -> Option<Uuid> {
        self.session
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Where this caller's statements go: the pool, or the sync batch's transaction.
    pub(crate) fn db(&self) -> &write::Exec {
        &self.exec
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Refuses an action the caller's roles do not allow.
    pub(crate) fn authorize(&self, action: Action) -> ApiResult<()> {
        if !self.principal.is_authenticated() {
            Err(ApiError::Unauthenticated)
        } else if self.principal.may(action) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// The audit writer for this caller.
    pub(crate) fn auditor(&self) -> Auditor {
        Auditor::new(&self.principal).with_context(self.cached(|c| c.item_context.clone()).flatten())
    }

    /// Whether the caller sees who people are (everyone but analysts and researchers).
    pub fn identified(&self) -> bool {
        !self.principal.deidentified
    }

    /// How much the caller reads (`disclosure::Reader`).
    pub fn reader(&self) -> crate::disclosure::Reader {
        crate::disclosure::Reader::of(&self.principal)
    }

    /// The day ages, stages and statuses are computed on for `as_of` (default today): for
    /// de-identified callers the last day of its month, where completed months are the same for
    /// every birth day of a month (see `disclosure`).
    pub fn reference_day(&self, as_of: Option<chrono::NaiveDate>) -> chrono::NaiveDate {
        let day = as_of.unwrap_or_else(today);
        if self.principal.deidentified { crate::disclosure::month_end(day) } else { day }
    }

    /// Rows as derivations start from them for this caller (`disclosure::Coarsened`): as they
    /// are, or with every day about the person moved to the first of its month.
    pub fn derived<'a, T: crate::disclosure::Coarsened>(&self, rows: &'a [T]) -> std::borrow::Cow<'a, [T]> {
        if self.principal.deidentified {
            std::borrow::Cow::Owned(rows.iter().map(T::coarsened).collect())
        } else {
            std::borrow::Cow::Borrowed(rows)
        }
    }

    /// One row as `derived` gives it.
    pub fn derived_row<'a, T: crate::disclosure::Coarsened>(&self, row: &'a T) -> std::borrow::Cow<'a, T> {
        if self.principal.deidentified {
            std::borrow::Cow::Owned(row.coarsened())
        } else {
            std::borrow::Cow::Borrowed(row)
        }
    }

    /// The id a caller is shown: the id itself, or its stable pseudonym for de-identified callers.
    pub fn public_id(&self, id: Uuid) -> Uuid {
        if self.principal.deidentified { self.keys.pseudonym(id) } else { id }
    }

    /// `page` of a list of records about people or households, its totalCount as this caller
    /// may see it: for de-identified callers, the count of `whole` (the list's every row)
    /// protected by the cell-key method, each row's record key from its id column `id`.
    pub(crate) fn counted<E: EntityTrait>(
        &self,
        mut page: Page<E::Model>,
        whole: &Select<E>,
        id: &'static str,
    ) -> Page<E::Model> {
        if self.principal.deidentified {
            page.total = TotalCount::protected(self.pool(), whole, id);
        }
        page
    }

    /// A page request with its cursor opened with this service's key.
    pub fn page_request(&self, first: Option<i32>, after: Option<String>) -> ApiResult<PageRequest> {
        PageRequest::new(first, after, &self.keys)
    }

    pub fn cursor(&self, id: Uuid) -> String {
        page::encode_cursor(&self.keys, id)
    }

    /// `select` restricted to the caller's view scope.
    pub(crate) fn visible<E: Scoped>(&self, select: Select<E>) -> Select<E> {
        match E::in_scope(&self.principal.view) {
            Some(cond) => select.filter(cond),
            None => select,
        }
    }

    /// Rows of `E` whose `column` is one of `keys`, in the caller's view scope: what the
    /// GraphQL DataLoaders batch nested relations into.
    pub async fn visible_where_in<E: Scoped>(&self, column: E::Column, keys: &[Uuid]) -> ApiResult<Vec<E::Model>>
    where
        E::Model: FromPgRow + Send + Sync,
    {
        Ok(read_all(self.visible(E::find().filter(column.is_in(keys.iter().copied()))), self.db()).await?)
    }

    /// The same rows, of `columns` only: the rest of each model is its default, for answers that
    /// read nothing else (`entity::read::Projection`).
    pub async fn projected_where_in<E: Scoped>(
        &self,
        column: E::Column,
        keys: &[Uuid],
        columns: &[E::Column],
    ) -> ApiResult<Vec<E::Model>>
    where
        E::Model: Projected + Send + Sync,
    {
        let select = self.visible(E::find().filter(column.is_in(keys.iter().copied())));
        let rows = select.select_only().columns(columns.iter().copied()).into_model::<Projection<E::Model>>();
        Ok(rows.all(self.db()).await?.into_iter().map(|p| p.0).collect())
    }

    /// One visible row by id; out-of-scope rows answer NOT_FOUND, as if they did not exist.
    pub(crate) async fn visible_by_id<E>(&self, id: Uuid, entity: &'static str) -> ApiResult<E::Model>
    where
        E: Scoped,
        E::Model: ModelTrait<Entity = E> + FromPgRow + Send + Sync,
        <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
    {
        let row = self.visible(E::find_by_id(id)).into_model::<Read<E::Model>>().one(self.db()).await?;
        row.map(|r| r.0).ok_or(ApiError::not_found(entity))
    }

    /// Opens the session an analytical answer (coverage, aggregate) runs its statements in: on
    /// PostgreSQL one read-only transaction whose settings are set once. Statements are planned
    /// for the values they carry: PostgreSQL turns a prepared statement to a generic plan after
    /// five runs when that plan looks no dearer, and for these statements the right plan depends
    /// on the unit and the dates asked (a generic plan took a region's coverage by aimag from
    /// 0.2 s to 1.7–1.9 s). A larger `work_mem` lets PostgreSQL keep hashing a numerator's set of
    /// people (358 k open school enrolments at 1 M people, ~14 MB) when its estimate of that set
    /// is right: in the default 4 MB it may not hash it and probes the set once per person
    /// instead (past 20 s). The session holds a connection: build every statement, and read
    /// anything else, before opening it, so that a request never waits for a second one.
    pub(crate) async fn analytical(&self) -> ApiResult<Analytical<'_>> {
        use sea_orm::{AccessMode, ConnectionTrait, DbBackend, TransactionTrait};
        let on_pool = matches!(*self.exec, write::Exec::Pool(_));
        if !on_pool || self.db().get_database_backend() != DbBackend::Postgres {
            return Ok(Analytical { store: self, txn: None });
        }
        let txn = self.pool().begin_with_config(None, Some(AccessMode::ReadOnly)).await?;
        txn.execute_unprepared("SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL work_mem = '64MB'").await?;
        Ok(Analytical { store: self, txn: Some(txn) })
    }

    /// Whether the database answers (readiness).
    pub async fn ping(db: &DatabaseConnection) -> bool {
        db.ping().await.is_ok()
    }
}

/// The time stamped on rows, to the microsecond both databases keep (so a row read back equals
/// the row written).
pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::DurationRound;
    let t = chrono::Utc::now();
    t.duration_trunc(chrono::TimeDelta::microseconds(1)).unwrap_or(t)
}

/// The one clock of the service: today's date in Mongolia (UTC+8), where the programme's
/// calendar days are counted.
pub fn today() -> chrono::NaiveDate {
    (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive()
}

/// The rows of `select`, each read with `entity::read::Read` (by column position on
/// PostgreSQL for the models that allow it: a third of a nested page's server work was
/// sea-orm's reading of rows by name).
pub(crate) async fn read_all<E, C>(select: Select<E>, db: &C) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
    E::Model: FromPgRow + Send + Sync,
    C: ConnectionTrait,
{
    Ok(Read::models(select.into_model().all(db).await?))
}

/// The statements of one analytical answer (`Store::analytical`).
pub(crate) struct Analytical<'a> {
    store: &'a Store,
    txn: Option<sea_orm::DatabaseTransaction>,
}

impl Analytical<'_> {
    pub(crate) async fn query(
        &self,
        stmt: &sea_orm::sea_query::SelectStatement,
    ) -> ApiResult<Vec<sea_orm::QueryResult>> {
        use sea_orm::ConnectionTrait;
        Ok(match &self.txn {
            Some(txn) => txn.query_all(stmt).await?,
            None => self.store.db().query_all(stmt).await?,
        })
    }

    /// Ends the session (a read-only transaction: nothing to keep, but a commit frees the
    /// connection at once).
    pub(crate) async fn finish(self) -> ApiResult<()> {
        if let Some(txn) = self.txn {
            txn.commit().await?;
        }
        Ok(())
    }
}
