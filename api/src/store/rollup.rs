//! Roll-ups: counts kept ready for the common breakdowns, so that a national or aimag count of
//! people reads a few thousand cells instead of a million rows.
//!
//! `people_rollup` holds people per unit × sex × age band on the days answers are counted on
//! (today and yesterday, and the last days of their months, which de-identified callers count
//! on). Triggers on `person` write every change since the last build to `people_rollup_delta`
//! in the writing transaction, as signed counts per unit × sex × birth date. An answer reads
//! both in one statement, the deltas placed in their age band for its day, so it counts exactly
//! what a count of the rows would: roll-ups change how fast an answer is, never what it says.
//!
//! A build (`build`) counts the roll-up's days afresh and clears the deltas, in one transaction
//! that sees one snapshot (a delta committed meanwhile stays, with its change). It runs at start,
//! every `FOLD_EVERY`, when an answer finds its day not built, and when the deltas pile up past
//! `FOLD_AT`.

use super::Store;
use super::dimensions::{age_band_of_days, age_band_on, days_between, record_key};
use crate::domain::vocab::{AggregateDimension as Dim, AggregateEntity as Entity, Measure};
use crate::error::{ApiError, ApiResult};
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, Func, JoinType, OnConflict, Query, QueryStatementBuilder, SelectStatement,
    SimpleExpr, UnionType,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, IsolationLevel, Statement, TransactionTrait};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The roll-ups there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rollup {
    /// People per unit × sex × age band, on each of `kept_days`.
    People,
    /// Service records of people per the person's unit × sex × service type × month × age band
    /// at the service (ages at an event do not change with the day asked on: kept once).
    Services,
}

pub const ALL: [Rollup; 2] = [Rollup::People, Rollup::Services];

impl Rollup {
    pub fn name(self) -> &'static str {
        match self {
            Rollup::People => "people",
            Rollup::Services => "services",
        }
    }

    fn table(self) -> &'static str {
        match self {
            Rollup::People => "people_rollup",
            Rollup::Services => "service_rollup",
        }
    }

    fn deltas(self) -> &'static str {
        match self {
            Rollup::People => "people_rollup_delta",
            Rollup::Services => "service_rollup_delta",
        }
    }

    /// What it can answer, declared once: the rows it counts, the dimensions it keeps and the
    /// measures it sums. A question is answered from it when it has no filter and asks no more.
    fn entity(self) -> Entity {
        match self {
            Rollup::People => Entity::People,
            Rollup::Services => Entity::ServiceRecords,
        }
    }

    fn dims(self) -> &'static [Dim] {
        match self {
            Rollup::People => &[Dim::OrgUnit, Dim::Sex, Dim::AgeBand, Dim::UrbanRural],
            Rollup::Services => &[
                Dim::OrgUnit,
                Dim::Sex,
                Dim::AgeBand,
                Dim::UrbanRural,
                Dim::ServiceType,
                Dim::Month,
                Dim::Quarter,
                Dim::Year,
            ],
        }
    }

    fn measures(self) -> &'static [Measure] {
        match self {
            // Counting people, PEOPLE is the count.
            Rollup::People => &[Measure::Count, Measure::People],
            Rollup::Services => &[Measure::Count],
        }
    }

    /// Kept per reference day (ages on the day asked) rather than once.
    fn by_day(self) -> bool {
        self == Rollup::People
    }

    /// The key columns of the roll-up table, after `day` for one kept by day.
    fn keys(self) -> &'static [&'static str] {
        match self {
            Rollup::People => &["org_unit_id", "sex", "age_band"],
            Rollup::Services => &["org_unit_id", "sex", "service_type_id", "service_month", "age_band"],
        }
    }

    /// The roll-up that answers a question, if one does.
    pub fn answering(entity: Entity, group_by: &[Dim], measures: &[Measure], filtered: bool) -> Option<Rollup> {
        ALL.into_iter().find(|r| {
            r.entity() == entity
                && !filtered
                && group_by.iter().all(|d| r.dims().contains(d))
                && measures.iter().all(|m| r.measures().contains(m))
        })
    }

    /// The key columns, in `keys` order, of the records counted afresh (`from` the records) or
    /// of the deltas: each as (expression, name).
    fn key_exprs(self, backend: DbBackend, day: NaiveDate, from_deltas: bool) -> Vec<(SimpleExpr, &'static str)> {
        let col = |c: &str| Expr::cust(c.to_string());
        match (self, from_deltas) {
            (Rollup::People, false) => {
                vec![
                    (col("p.org_unit_id"), "org_unit_id"),
                    (col("p.sex"), "sex"),
                    (age_band_on("p.birth_date", day), "age_band"),
                ]
            }
            (Rollup::People, true) => {
                vec![
                    (col("d.org_unit_id"), "org_unit_id"),
                    (col("d.sex"), "sex"),
                    (age_band_on("d.birth_date", day), "age_band"),
                ]
            }
            (Rollup::Services, false) => vec![
                (col("p.org_unit_id"), "org_unit_id"),
                (col("p.sex"), "sex"),
                (col("r.service_type_id"), "service_type_id"),
                (month_start(backend, "r.service_date"), "service_month"),
                (age_band_of_days(days_between(backend, "r.service_date", "p.birth_date")), "age_band"),
            ],
            (Rollup::Services, true) => vec![
                (col("d.org_unit_id"), "org_unit_id"),
                (col("d.sex"), "sex"),
                (col("d.service_type_id"), "service_type_id"),
                (col("d.service_month"), "service_month"),
                (age_band_of_days(col("d.age_days")), "age_band"),
            ],
        }
    }

    /// The cells on `day` counted afresh from the records (`fresh`) or from the deltas alone,
    /// as rows of the roll-up table.
    fn cells(self, backend: DbBackend, day: NaiveDate, fresh: bool) -> SelectStatement {
        let mut q = Query::select();
        if self.by_day() {
            q.expr_as(Expr::val(day), a("day"));
        }
        let first = if self.by_day() { 2 } else { 1 };
        for (i, (e, name)) in self.key_exprs(backend, day, !fresh).into_iter().enumerate() {
            q.expr_as(e, a(name));
            // By position: PostgreSQL does not see two CASEs with their own parameters as the
            // same expression, and an output name may also be an input column's.
            q.add_group_by([Expr::cust((first + i).to_string())]);
        }
        if fresh {
            q.expr_as(Expr::col(Asterisk).count(), a("n"));
            match self {
                Rollup::People => {
                    q.expr_as(Func::sum(record_key(backend, "p.id")), a("key_sum")).from_as(a("person"), a("p"));
                }
                Rollup::Services => {
                    q.expr_as(Func::sum(record_key(backend, "r.id")), a("key_sum"))
                        .from_as(a("service_record"), a("r"))
                        .join_as(JoinType::InnerJoin, a("person"), a("p"), Expr::cust("p.id = r.person_id"));
                }
            }
        } else {
            q.expr_as(Expr::cust("SUM(d.n)"), a("n"))
                .expr_as(Expr::cust("SUM(d.key_sum)"), a("key_sum"))
                .from_as(a(self.deltas()), a("d"))
                // SQLite reads an upsert's `ON` as a join's without a WHERE before it.
                .and_where(Expr::cust("1 = 1"));
        }
        q.to_owned()
    }

    /// The rows of the roll-up on `day` with the changes since its build, as one table of its
    /// key columns, `n` and `key_sum`: what an aggregate counts instead of the records.
    pub(super) fn rows(self, backend: DbBackend, day: NaiveDate) -> SelectStatement {
        let mut kept = Query::select();
        kept.columns(self.keys().iter().map(|k| a(k))).columns([a("n"), a("key_sum")]).from(a(self.table()));
        if self.by_day() {
            kept.and_where(Expr::col(a("day")).eq(day));
        }
        let mut changes = Query::select();
        for (e, name) in self.key_exprs(backend, day, true) {
            changes.expr_as(e, a(name));
        }
        changes.expr(Expr::cust("d.n")).expr(Expr::cust("d.key_sum")).from_as(a(self.deltas()), a("d"));
        kept.union(UnionType::All, changes).to_owned()
    }
}

/// The first day of a date column's month.
fn month_start(backend: DbBackend, date: &str) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => Expr::cust(format!("CAST(date_trunc('month', {date}) AS date)")),
        _ => Expr::cust(format!("date({date}, 'start of month')")),
    }
}

/// Changes since the last build past which an answer asks for them to be folded in: an answer
/// adds every delta it reads, so they are kept few.
const FOLD_AT: i64 = 5_000;

/// The advisory lock one build at a time holds on PostgreSQL (several instances share a database).
const BUILD_LOCK: i64 = 0x0C55_0002;

/// The days the people roll-up is kept for on `today`: today, the month's last day (what
/// de-identified callers count on), and yesterday's two, so that an answer whose day was chosen
/// just before midnight still finds it.
pub fn kept_days(today: NaiveDate) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    for d in [Some(today), today.pred_opt()].into_iter().flatten() {
        for day in [d, crate::disclosure::month_end(d)] {
            if !days.contains(&day) {
                days.push(day);
            }
        }
    }
    days
}

/// A roll-up as an answer used it, for the answer's `extensions.freshness.rollup`.
#[derive(Clone, Debug)]
pub struct RollupUse {
    pub rollup: Rollup,
    /// The day ages were counted on (roll-ups kept by day).
    pub day: Option<NaiveDate>,
    /// When the changes were last folded in.
    pub built_at: DateTime<Utc>,
    /// Rows of changes made since, which the answer added itself: shown only to callers who
    /// see every unit identified (the count covers the whole country: elsewhere it would tell
    /// of writes outside the caller's view).
    pub changes_since_build: Option<i64>,
}

impl RollupUse {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.rollup.name(),
            "day": self.day.map(|d| d.to_string()),
            "builtAt": self.built_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "changesSinceBuild": self.changes_since_build,
        })
    }
}

/// How often the server folds the waiting changes in whatever answers ask: so that they do not
/// pile up where nobody asks (or `CBSS_ROLLUPS=false`), and a new day is counted soon after
/// midnight.
const FOLD_EVERY: std::time::Duration = std::time::Duration::from_secs(300);

/// The server's roll-ups: built one build at a time, on the primary.
pub struct Rollups {
    db: DatabaseConnection,
    building: AtomicBool,
    /// Whether answers read them (`CBSS_ROLLUPS`); the triggers write changes either way.
    read: bool,
}

impl Rollups {
    /// The roll-ups of `db`, folded every `FOLD_EVERY` while they are in use; read by answers,
    /// and then built at once, when `read`.
    pub fn start(db: DatabaseConnection, read: bool) -> Arc<Self> {
        let rollups = Arc::new(Self { db, building: AtomicBool::new(false), read });
        if read {
            rollups.refresh();
        }
        let weak = Arc::downgrade(&rollups);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + FOLD_EVERY, FOLD_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let Some(rollups) = weak.upgrade() else { return };
                rollups.refresh();
            }
        });
        rollups
    }

    /// These roll-ups, for answers to read, unless `CBSS_ROLLUPS=false`.
    pub fn for_answers(self: &Arc<Self>) -> Option<Arc<Self>> {
        self.read.then(|| self.clone())
    }

    /// Starts a build unless one is running.
    pub fn refresh(self: &Arc<Self>) {
        if self.building.swap(true, Ordering::SeqCst) {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match build(&me.db).await {
                Ok(true) => tracing::info!(ms = started.elapsed().as_millis() as u64, "roll-ups brought up to date"),
                Ok(false) => {}
                Err(e) => tracing::warn!(error = ?e, "building the roll-ups failed: answers add more changes"),
            }
            me.building.store(false, Ordering::SeqCst);
        });
    }
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// Brings every roll-up up to date in one snapshot and clears the deltas: a roll-up whose days
/// are those to keep has its deltas folded in (added to its cells); any other is counted afresh
/// from the records. False when another instance is building them.
pub async fn build(db: &DatabaseConnection) -> ApiResult<bool> {
    let backend = db.get_database_backend();
    let today = super::today();
    // SQLite: this database's one writer for the while.
    let _turn = crate::db::write_turn(db).await;
    let txn = if backend == DbBackend::Postgres {
        // Repeatable read: the cells, and the deltas deleted, are those of one snapshot (a delta
        // committed meanwhile stays, with its change).
        let txn = db.begin_with_config(Some(IsolationLevel::RepeatableRead), None).await?;
        txn.execute_unprepared("SET LOCAL statement_timeout = 0").await?;
        let lock = format!("SELECT pg_try_advisory_xact_lock({BUILD_LOCK}) AS got");
        let got = txn.query_one_raw(Statement::from_string(backend, lock)).await?;
        if !got.map(|r| r.try_get::<bool>("", "got")).transpose()?.unwrap_or(false) {
            txn.rollback().await?;
            return Ok(false);
        }
        txn
    } else {
        db.begin().await?
    };
    let now = super::now();
    for rollup in ALL {
        let wanted = if rollup.by_day() { kept_days(today) } else { vec![today] };
        let built = Query::select()
            .column(a("day"))
            .from(a("rollup_state"))
            .and_where(Expr::col(a("name")).eq(rollup.name()))
            .to_owned();
        let built: Vec<NaiveDate> =
            txn.query_all(&built).await?.iter().map(|r| r.try_get("", "day")).collect::<Result<_, _>>()?;
        let fold = if rollup.by_day() {
            built.len() == wanted.len() && wanted.iter().all(|d| built.contains(d))
        } else {
            !built.is_empty()
        };
        if !fold {
            txn.execute(&Query::delete().from_table(a(rollup.table())).to_owned()).await?;
        }
        let mut columns = Vec::new();
        if rollup.by_day() {
            columns.push(a("day"));
        }
        columns.extend(rollup.keys().iter().map(|k| a(k)));
        let mut conflict = OnConflict::columns(columns.clone());
        conflict.values([
            (a("n"), Expr::cust(format!("{}.n + excluded.n", rollup.table()))),
            (a("key_sum"), Expr::cust(format!("{}.key_sum + excluded.key_sum", rollup.table()))),
        ]);
        columns.extend([a("n"), a("key_sum")]);
        let days = if rollup.by_day() { wanted.clone() } else { vec![today] };
        for day in days {
            let mut insert = Query::insert();
            insert
                .into_table(a(rollup.table()))
                .columns(columns.clone())
                .select_from(rollup.cells(backend, day, !fold))
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("roll-up cells: {e}")))?;
            if fold {
                insert.on_conflict(conflict.clone());
            }
            txn.execute(&insert).await?;
        }
        txn.execute(&Query::delete().from_table(a(rollup.deltas())).to_owned()).await?;
        let clear =
            Query::delete().from_table(a("rollup_state")).and_where(Expr::col(a("name")).eq(rollup.name())).to_owned();
        txn.execute(&clear).await?;
        let mut state = Query::insert();
        state.into_table(a("rollup_state")).columns([a("day"), a("name"), a("built_at")]);
        for day in wanted {
            state.values_panic([day.into(), rollup.name().into(), now.into()]);
        }
        txn.execute(&state).await?;
    }
    txn.commit().await?;
    if backend == DbBackend::Postgres {
        // The deltas just deleted stay as dead rows until vacuumed, and every answer reads the
        // delta tables whole: reclaimed now, not when autovacuum comes round (after a million
        // changes folded in, every answer read them all: `bench/NOTES.md`). The cells get their
        // statistics.
        let tables: Vec<&str> = ALL.iter().flat_map(|r| [r.deltas(), r.table()]).collect();
        db.execute_unprepared(&format!("VACUUM (ANALYZE) {}", tables.join(", "))).await?;
    }
    Ok(true)
}

/// Sums a roll-up's column (`n` or `key_sum`) of the rows aliased `rows`, as a BIGINT on both
/// databases (PostgreSQL sums BIGINTs to NUMERIC).
pub(super) fn sum_of(rows: &str, column: &str) -> SimpleExpr {
    Expr::cust(format!("CAST(COALESCE(SUM({rows}.{column}), 0) AS BIGINT)"))
}

impl Store {
    /// The roll-up that answers this question on `day`, when one does and it is built; asks for
    /// a build when its day is one the roll-ups keep but not yet built, or the changes since the
    /// last build have piled up.
    pub(super) async fn rollup_for(
        &self,
        entity: Entity,
        group_by: &[Dim],
        measures: &[Measure],
        filtered: bool,
        day: NaiveDate,
    ) -> ApiResult<Option<RollupUse>> {
        let Some(rollups) = &self.rollups else { return Ok(None) };
        let Some(rollup) = Rollup::answering(entity, group_by, measures, filtered) else { return Ok(None) };
        let pending = Query::select().expr(Expr::col(Asterisk).count()).from(a(rollup.deltas())).to_owned();
        let mut state = Query::select();
        state
            .column(a("built_at"))
            .expr_as(SimpleExpr::SubQuery(None, Box::new(pending.into_sub_query_statement())), a("pending"))
            .from(a("rollup_state"))
            .and_where(Expr::col(a("name")).eq(rollup.name()))
            .limit(1);
        if rollup.by_day() {
            state.and_where(Expr::col(a("day")).eq(day));
        }
        let Some(row) = self.db().query_one(&state).await? else {
            if !rollup.by_day() || kept_days(super::today()).contains(&day) {
                rollups.refresh();
            }
            return Ok(None);
        };
        let pending: i64 = row.try_get("", "pending")?;
        if pending > FOLD_AT {
            rollups.refresh();
        }
        let everywhere = self.identified() && matches!(self.principal().view, crate::access::Scope::Everywhere);
        let used = RollupUse {
            rollup,
            day: rollup.by_day().then_some(day),
            built_at: row.try_get("", "built_at")?,
            changes_since_build: everywhere.then_some(pending),
        };
        *self.rollup_used.lock().expect("roll-up note") = Some(used.clone());
        Ok(Some(used))
    }

    /// The roll-up this request's answers read last (the one its freshness tells).
    pub fn rollup_used(&self) -> Option<RollupUse> {
        self.rollup_used.lock().expect("roll-up note").clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_days_kept_are_today_yesterday_and_their_month_ends() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(kept_days(d("2026-12-07")), [d("2026-12-07"), d("2026-12-31"), d("2026-12-06")]);
        assert_eq!(kept_days(d("2027-01-01")), [d("2027-01-01"), d("2027-01-31"), d("2026-12-31")]);
        assert_eq!(kept_days(d("2026-12-31")), [d("2026-12-31"), d("2026-12-30")]);
    }

    #[test]
    fn a_roll_up_answers_only_what_it_keeps() {
        let people = |g: &[Dim], m: &[Measure], f| Rollup::answering(Entity::People, g, m, f);
        assert_eq!(people(&[Dim::OrgUnit, Dim::AgeBand], &[Measure::Count], false), Some(Rollup::People));
        assert_eq!(people(&[Dim::OrgUnit], &[Measure::Count], true), None, "a filter");
        assert_eq!(people(&[Dim::Month], &[Measure::Count], false), None, "birth months");
        assert_eq!(people(&[], &[Measure::Households], false), None, "distinct households");
        let services = |g: &[Dim], m: &[Measure]| Rollup::answering(Entity::ServiceRecords, g, m, false);
        assert_eq!(services(&[Dim::ServiceType, Dim::Quarter], &[Measure::Count]), Some(Rollup::Services));
        assert_eq!(services(&[Dim::ServiceType], &[Measure::People]), None, "distinct people");
        assert_eq!(Rollup::answering(Entity::Households, &[], &[Measure::Count], false), None);
    }
}
