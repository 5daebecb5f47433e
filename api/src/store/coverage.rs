//! Coverage indicators: numerator ÷ denominator × factor, counted by the database with the
//! grouping pushed down (one GROUP BY query a request, or one per month or quarter), in the
//! caller's view scope.
//!
//! Every rule builds the same shape of query: the rows that make the denominator (people of an
//! age band, live births, children measured), their unit `u` (and, grouped by org unit, the
//! child `c` of the chosen unit whose subtree holds `u`), and a condition that puts a row in
//! the numerator: `COUNT(*)` and `SUM(CASE WHEN numerator THEN 1 ELSE 0 END)`.

use super::dimensions::{age_band_of_days, age_band_on, child_unit, days_between, record_key};
use super::{Analytical, Store, today};
use crate::access::Action;
use crate::domain::age;
use crate::domain::age_band;
use crate::domain::cell_key::{self, Protected};
use crate::domain::period::Period;
use crate::domain::school;
use crate::domain::vocab::{
    CaseStep, CoverageDimension, DenominatorSource, DoseEvaluation, OrgUnitLevel, ReferralNeed, ReferralStatus,
    Settlement, Sex,
};
use crate::error::{ApiError, ApiResult};
use chrono::Datelike;
use chrono::{Days, NaiveDate};
use entity::{
    antigen, assessment_answer, assessment_indicator, enrolment, family_assessment, growth_measurement, hiv_knowledge,
    immunisation, indicator, org_unit, person, pregnancy, pregnancy_child, protection_case, protection_case_step,
    referral, schedule_rule, service_record, service_type,
};
use sea_orm::sea_query::{
    Alias, Asterisk, CaseStatement, Expr, ExprTrait, Func, IntoIden, IntoTableRef, JoinType, PostgresQueryBuilder,
    Query, QueryStatementBuilder, SelectStatement, SimpleExpr, SqliteQueryBuilder, UnionType,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder};
use std::collections::HashMap;
use uuid::Uuid;

/// One cell of a coverage answer; a dimension not grouped by is None.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageCell {
    /// The child unit of the chosen unit (None: not grouped by unit, or rows placed at the
    /// chosen unit itself).
    pub org_unit_id: Option<Uuid>,
    pub sex: Option<Sex>,
    pub age_band: Option<&'static str>,
    pub settlement: Option<Settlement>,
    /// A referral's need (sector).
    pub need: Option<ReferralNeed>,
    /// The month or quarter (`2026-07`, `2026Q3`).
    pub period: Option<String>,
    pub numerator: i64,
    pub denominator: i64,
    /// Too small to show this caller; a de-identified caller's counts are perturbed
    /// (`domain::cell_key`).
    pub suppressed: bool,
    /// An indicator of a duration (`Source::duration`): the median over the numerator's rows, in
    /// days; None for other indicators and for a suppressed cell.
    pub median_days: Option<f64>,
    /// The sums of the record keys of the numerator's and the denominator's rows (None for an
    /// official estimate, which is published as it is).
    numerator_key: i64,
    denominator_key: Option<i64>,
}

impl CoverageCell {
    fn empty() -> Self {
        CoverageCell {
            org_unit_id: None,
            sex: None,
            age_band: None,
            settlement: None,
            need: None,
            period: None,
            numerator: 0,
            denominator: 0,
            suppressed: false,
            median_days: None,
            numerator_key: 0,
            denominator_key: Some(0),
        }
    }

    #[allow(clippy::type_complexity)]
    fn key(
        &self,
    ) -> (Option<String>, Option<Uuid>, Option<&'static str>, usize, Option<&'static str>, Option<&'static str>) {
        let band = self.age_band.and_then(|l| age_band::BANDS.iter().position(|b| b.label == l)).unwrap_or(0);
        (
            self.period.clone(),
            self.org_unit_id,
            self.sex.map(Sex::as_str),
            band,
            self.settlement.map(Settlement::as_str),
            self.need.map(ReferralNeed::as_str),
        )
    }
}

pub struct Coverage {
    pub indicator: indicator::Model,
    pub org_unit: org_unit::Model,
    pub period: Period,
    /// The day ages are counted on and windows end: the period's last day, or today.
    pub reference_date: NaiveDate,
    pub group_by: Vec<CoverageDimension>,
    pub denominator_source: DenominatorSource,
    pub rows: Vec<CoverageCell>,
    /// The whole unit and period, when asked for (see `coverage`).
    pub total: Option<CoverageCell>,
}

/// The numerator's hits of a de-identified caller's cell are summed packed with their record
/// keys: hits + (sum of their keys) × HIT. Unpacked exactly while hits < HIT (2^24, 16.7 M):
/// a cell counts one row per person, birth, child or household of a unit and period, at most
/// its denominator, which `cells` checks is under HIT (Mongolia has 3.5 M people). The keys'
/// sum is then under 255 × 2^24, the packed sum under 2^56: an i64.
const HIT: i64 = 1 << 24;

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// What a rule contributes to the query.
struct Source {
    /// FROM and joins, with the row alias used by the other parts.
    select: SelectStatement,
    /// The row's unit (where the person lives, or where the pregnancy is registered).
    unit: SimpleExpr,
    sex: Option<SimpleExpr>,
    age_band: Option<SimpleExpr>,
    denominator: Vec<SimpleExpr>,
    numerator: SimpleExpr,
    /// The counted row's id column, whose last byte is its record key (`domain::cell_key`).
    key: &'static str,
    /// A referral's need, for rules counted per referral.
    need: Option<SimpleExpr>,
    /// For an indicator of a duration: the days a numerator's row took (their median is shown).
    duration: Option<SimpleExpr>,
}

/// What the GROUP BY query over a rule's rows selects.
#[derive(Clone, Copy, PartialEq)]
enum Measure {
    /// The counts of each cell.
    Counts,
    /// The numerator's rows, each with its cell's values and its duration (no grouping).
    Durations,
}

/// A checked coverage question.
struct Question {
    indicator: indicator::Model,
    unit: org_unit::Model,
    period: Period,
    reference: NaiveDate,
    group_by: Vec<CoverageDimension>,
    /// Grouped by ORG_UNIT: the level of the rows (default: one below the chosen unit).
    level: Option<OrgUnitLevel>,
    denominator: DenominatorSource,
    /// Postnatal checks: the last day after birth of the schedule's first postnatal contact of
    /// the indicator's services, unless the indicator sets its own window.
    first_contact_days: Option<i32>,
}

impl Question {
    fn by(&self, d: CoverageDimension) -> bool {
        self.group_by.contains(&d)
    }

    /// The periods counted on their own: the months or quarters of the period up to today,
    /// or the period itself.
    fn periods(&self) -> Vec<(Option<String>, Period)> {
        let split = self.by(CoverageDimension::Month) || self.by(CoverageDimension::Quarter);
        if !split {
            return vec![(None, self.period.clone())];
        }
        let today = today();
        self.period
            .split(self.by(CoverageDimension::Quarter))
            .into_iter()
            .filter(|p| p.from <= today)
            .map(|p| (Some(p.label.clone()), p))
            .collect()
    }

    /// The indicator shows a median duration (`CoverageCell::median_days`).
    fn timed(&self) -> bool {
        TIMED_RULES.contains(&self.indicator.rule.as_str())
    }

    /// Ages in months the indicator counts, if it is a band of people.
    fn ages(&self) -> Option<(i32, i32)> {
        // Population estimates are by age in the year, not at the start of a school year.
        let banded = ["PEOPLE_WITH_SERVICE", "PEOPLE_ENROLLED", "FULLY_IMMUNISED", "PEOPLE_WITH_OPEN_CASE"];
        (banded.contains(&self.indicator.rule.as_str()) && !self.indicator.ages_at_school_year_start)
            .then(|| (self.indicator.min_age_months.unwrap_or(0), self.indicator.max_age_months.unwrap_or(0)))
    }
}

/// The rules whose numerator's rows have a duration, shown as a median: referrals, from sending
/// to completion.
const TIMED_RULES: [&str; 2] = ["REFERRALS_COMPLETED", "REFERRALS_ON_TIME"];

/// The fewest rows (as published) a protected cell's median is shown over.
const PROTECTED_MEDIAN_ROWS: i64 = 10;

/// The last day of age WHO's under-5 anthropometry counts: 1,826 / 30.4375 = 59.99 months
/// (`../shared/who/README.md` §2; WHO's Anthro software).
const UNDER_FIVE_LAST_DAY: i32 = 1826;

/// The first day of 6 completed months as WHO counts them (age in days / 30.4375 >= 6).
const SIX_MONTHS_FIRST_DAY: i32 = 183;

impl Store {
    /// The indicator catalogue.
    pub async fn indicators(&self) -> ApiResult<Vec<indicator::Model>> {
        Ok(indicator::Entity::find().order_by_asc(indicator::Column::SortOrder).all(self.db()).await?)
    }

    /// Coverage of `code` under `unit_id` in `period`, grouped by `group_by`; with its total
    /// when `total` (a total the rows do not add up to takes statements of its own).
    #[allow(clippy::too_many_arguments)]
    pub async fn coverage(
        &self,
        code: &str,
        unit_id: Uuid,
        period: &str,
        group_by: Vec<CoverageDimension>,
        level: Option<OrgUnitLevel>,
        denominator: DenominatorSource,
        total: bool,
    ) -> ApiResult<Coverage> {
        let unit = self.known_unit(unit_id, "orgUnitId").await?;
        let q = self.question(code, unit, period, group_by, level, denominator).await?;
        let by_period = q.by(CoverageDimension::Month) || q.by(CoverageDimension::Quarter);
        // Months of a stock indicator do not add up, an estimate is for the whole unit, and
        // medians do not add up either: such a total is counted on its own.
        let total_apart = by_period || q.denominator == DenominatorSource::Population || q.timed();
        let periods: Vec<(Option<String>, Period, NaiveDate)> = q
            .periods()
            .into_iter()
            .map(|(label, sub)| {
                let reference = self.reference_day(Some(Ord::min(sub.to, today())));
                (label, sub, reference)
            })
            .collect();
        // Every period's registry counts, and the total's, in one session; estimates after it.
        let session = self.analytical().await?;
        let mut counted = Vec::with_capacity(periods.len());
        for (_, sub, reference) in &periods {
            counted.push(self.registry_cells(&session, &q, sub, *reference, &q.group_by).await?);
        }
        let whole = if total && total_apart {
            Some(self.registry_cells(&session, &q, &q.period, q.reference, &[]).await?)
        } else {
            None
        };
        session.finish().await?;
        let mut rows = Vec::new();
        for ((label, _, reference), cells) in periods.into_iter().zip(counted) {
            rows.extend(self.over_denominator(&q, reference, &q.group_by, cells, label).await?);
        }
        rows.sort_by_key(CoverageCell::key);
        let total = if !total {
            None
        } else if let Some(cells) = whole {
            let cells = self.over_denominator(&q, q.reference, &[], cells, None).await?;
            Some(cells.into_iter().next().unwrap_or_else(CoverageCell::empty))
        } else {
            // The rows' true counts and keys add up to the total's, which is then perturbed on
            // its own.
            Some(rows.iter().fold(CoverageCell::empty(), |mut t, c| {
                t.numerator += c.numerator;
                t.denominator += c.denominator;
                t.numerator_key += c.numerator_key;
                t.denominator_key = t.denominator_key.zip(c.denominator_key).map(|(a, b)| a + b);
                t
            }))
        };
        let protected = self.protected(&q.indicator);
        let rows = rows.into_iter().map(|c| self.published(c, protected)).collect();
        let total = total.map(|t| self.published(t, protected));
        Ok(Coverage {
            indicator: q.indicator,
            org_unit: q.unit,
            period: q.period,
            reference_date: q.reference,
            group_by: q.group_by,
            denominator_source: q.denominator,
            rows,
            total,
        })
    }

    /// The SQL `coverage` runs for the same question, with values inlined (for benchmarks: the
    /// database's own time on the very same statements).
    pub async fn coverage_sql(
        &self,
        code: &str,
        unit_code: &str,
        period: &str,
        group_by: Vec<CoverageDimension>,
        level: Option<OrgUnitLevel>,
    ) -> ApiResult<Vec<String>> {
        let unit = self
            .org_unit_by_code(unit_code)
            .await?
            .ok_or_else(|| ApiError::invalid("orgUnit", format!("unknown unit {unit_code:?}")))?;
        let q = self.question(code, unit, period, group_by, level, DenominatorSource::Registry).await?;
        let backend = self.db().get_database_backend();
        let mut out = Vec::new();
        for (_, sub) in q.periods() {
            let reference = self.reference_day(Some(Ord::min(sub.to, today())));
            let stmt =
                self.coverage_query(self.source(&q, &sub, reference, backend)?, &q, &q.group_by, Measure::Counts);
            out.push(match backend {
                DbBackend::Postgres => stmt.to_string(PostgresQueryBuilder),
                _ => stmt.to_string(SqliteQueryBuilder),
            });
        }
        Ok(out)
    }

    /// Checks a question before anything is counted.
    async fn question(
        &self,
        code: &str,
        unit: org_unit::Model,
        period: &str,
        group_by: Vec<CoverageDimension>,
        level: Option<OrgUnitLevel>,
        denominator: DenominatorSource,
    ) -> ApiResult<Question> {
        if !self.principal().is_authenticated() {
            return Err(ApiError::Unauthenticated);
        }
        // A code no indicator can have (a NUL, a control character) is not looked up.
        let found = if crate::domain::validate::plain(code) {
            indicator::Entity::find().filter(indicator::Column::Code.eq(code)).one(self.db()).await?
        } else {
            None
        };
        let indicator = found.ok_or_else(|| ApiError::invalid("indicator", format!("unknown indicator {code:?}")))?;
        let period = Period::parse(period, today()).ok_or_else(|| {
            ApiError::invalid(
                "period",
                "use 2026, 2026Q3, 2026-07, THIS_MONTH, THIS_QUARTER, THIS_YEAR, LAST_12_MONTHS or LAST_24_MONTHS",
            )
        })?;
        let reference = self.reference_day(Some(Ord::min(period.to, today())));
        if reference < period.from {
            return Err(ApiError::invalid("period", "has not started yet"));
        }
        let mut dims = Vec::new();
        for d in group_by {
            if !dims.contains(&d) {
                dims.push(d);
            }
        }
        // Postnatal care "within 2 days" is the schedule's first contact, declared once there
        // (days 0 and 1: under 48 hours with dates alone, as MICS counts it).
        let first_contact_days = if indicator.rule == "BIRTHS_PNC" && indicator.window_days.is_none() {
            let services: Vec<String> =
                indicator.services.as_deref().unwrap_or("").split('|').map(str::to_string).collect();
            schedule_rule::Entity::find()
                .filter(schedule_rule::Column::ServiceTypeCode.is_in(services))
                .filter(schedule_rule::Column::Pattern.eq("CONTACT"))
                .filter(schedule_rule::Column::Unit.eq("DAY"))
                .filter(schedule_rule::Column::StartAge.eq(0))
                .filter(schedule_rule::Column::Active.eq(true))
                .all(self.db())
                .await?
                .iter()
                .map(|r| r.end_age)
                .max()
        } else {
            None
        };
        let q = Question { indicator, unit, period, reference, group_by: dims, level, denominator, first_contact_days };
        let code = &q.indicator.code;
        if q.by(CoverageDimension::Month) && q.by(CoverageDimension::Quarter) {
            return Err(ApiError::invalid("groupBy", "group by MONTH or by QUARTER, not both"));
        }
        let per_birth = q.indicator.rule.starts_with("BIRTHS_");
        if q.by(CoverageDimension::Sex) && per_birth {
            return Err(ApiError::invalid("groupBy", format!("{code} is counted per birth: it has no SEX")));
        }
        let per_household = q.indicator.rule == "HOUSEHOLDS_ASSESSED";
        if per_household && (q.by(CoverageDimension::Sex) || q.by(CoverageDimension::AgeBand)) {
            return Err(ApiError::invalid("groupBy", format!("{code} is counted per household: no SEX or AGE_BAND")));
        }
        let per_referral = q.indicator.rule.starts_with("REFERRALS_");
        if per_referral && (q.by(CoverageDimension::Sex) || q.by(CoverageDimension::AgeBand)) {
            return Err(ApiError::invalid("groupBy", format!("{code} is counted per referral: no SEX or AGE_BAND")));
        }
        if !per_referral && q.by(CoverageDimension::Need) {
            return Err(ApiError::invalid("groupBy", format!("{code} is not counted per referral: no NEED")));
        }
        if q.denominator == DenominatorSource::Population {
            if q.ages().is_none() {
                return Err(ApiError::invalid("denominator", format!("{code} has no population denominator")));
            }
            if q.by(CoverageDimension::UrbanRural) {
                return Err(ApiError::invalid("groupBy", "population estimates are not split by URBAN_RURAL"));
            }
        }
        Ok(q)
    }

    /// The registry counts of one period, in an analytical session.
    async fn registry_cells(
        &self,
        session: &Analytical<'_>,
        q: &Question,
        period: &Period,
        reference: NaiveDate,
        group_by: &[CoverageDimension],
    ) -> ApiResult<Vec<CoverageCell>> {
        let backend = self.db().get_database_backend();
        let stmt = self.coverage_query(self.source(q, period, reference, backend)?, q, group_by, Measure::Counts);
        let by = |d| group_by.contains(&d);
        let mut durations: HashMap<GroupKey, Vec<i64>> = HashMap::new();
        if q.timed() {
            let stmt =
                self.coverage_query(self.source(q, period, reference, backend)?, q, group_by, Measure::Durations);
            for r in session.query(&stmt).await? {
                let days: Option<i64> = r.try_get("", "duration")?;
                durations.entry(group_key(&r, group_by)?).or_default().extend(days);
            }
        }
        let mut rows = Vec::new();
        for r in session.query(&stmt).await? {
            let mut c = CoverageCell::empty();
            c.median_days = durations.get_mut(&group_key(&r, group_by)?).and_then(|d| median(d));
            if by(CoverageDimension::OrgUnit) {
                c.org_unit_id = r.try_get::<Option<Uuid>>("", "group_unit")?;
            }
            if by(CoverageDimension::Sex) {
                c.sex = r.try_get::<Option<String>>("", "group_sex")?.map(|s| Sex::from_db(&s)).transpose()?;
            }
            if by(CoverageDimension::AgeBand) {
                let label: Option<String> = r.try_get("", "group_age_band")?;
                c.age_band = label.and_then(|l| age_band::by_label(&l)).map(|b| b.label);
            }
            if by(CoverageDimension::UrbanRural) {
                let s: Option<String> = r.try_get("", "group_settlement")?;
                c.settlement = s.map(|s| Settlement::from_db(&s)).transpose()?;
            }
            if by(CoverageDimension::Need) {
                let need: Option<String> = r.try_get("", "group_need")?;
                c.need = need.map(|n| ReferralNeed::from_db(&n)).transpose()?;
            }
            c.denominator = r.try_get("", "denominator")?;
            if !self.protected(&q.indicator) {
                c.numerator = r.try_get::<Option<i64>>("", "numerator")?.unwrap_or(0);
            } else {
                // The hits are at most the denominator: under HIT, they cannot carry into the keys.
                if c.denominator >= HIT {
                    return Err(ApiError::Internal(anyhow::anyhow!(
                        "{} rows in a cell of {}: too many to unpack its hits",
                        c.denominator,
                        q.indicator.code
                    )));
                }
                let packed = r.try_get::<Option<i64>>("", "hits")?.unwrap_or(0);
                (c.numerator, c.numerator_key) = (packed % HIT, packed / HIT);
                c.denominator_key = Some(r.try_get::<Option<i64>>("", "key_all")?.unwrap_or(0));
            }
            rows.push(c);
        }
        Ok(rows)
    }

    /// A period's cells, labelled: its registry counts, over population estimates when asked.
    async fn over_denominator(
        &self,
        q: &Question,
        reference: NaiveDate,
        group_by: &[CoverageDimension],
        mut registry: Vec<CoverageCell>,
        label: Option<String>,
    ) -> ApiResult<Vec<CoverageCell>> {
        if q.denominator == DenominatorSource::Population {
            return self.over_population(q, reference, group_by, registry, label).await;
        }
        for c in &mut registry {
            c.period = label.clone();
        }
        Ok(registry)
    }

    /// The registry numerators over population estimates: a row per child unit, sex and band
    /// that has an estimate or registered people.
    async fn over_population(
        &self,
        q: &Question,
        reference: NaiveDate,
        group_by: &[CoverageDimension],
        registry: Vec<CoverageCell>,
        label: Option<String>,
    ) -> ApiResult<Vec<CoverageCell>> {
        let by = |d| group_by.contains(&d);
        let year = reference.year();
        let (min, max) = q.ages().unwrap_or((0, 0));
        let sexes: Vec<Option<Sex>> =
            if by(CoverageDimension::Sex) { vec![Some(Sex::Female), Some(Sex::Male)] } else { vec![None] };
        let bands: Vec<(Option<&'static str>, (i32, i32))> = if by(CoverageDimension::AgeBand) {
            age_band::within(min, max).into_iter().map(|b| (Some(b.label), (b.from_months, b.to_months))).collect()
        } else {
            vec![(None, (min, max))]
        };
        let units: Vec<Option<Uuid>> = if by(CoverageDimension::OrgUnit) {
            self.grouping_units(&q.unit, q.level).await?.into_iter().map(Some).collect()
        } else {
            vec![None]
        };
        let mut rows = Vec::new();
        for (band, months) in &bands {
            for s in &sexes {
                let tree = self.population(&q.unit.path, year, *months, *s).await?;
                for u in &units {
                    let d = tree.of(u.unwrap_or(q.unit.id)).map_or(0, |v| v.round() as i64);
                    let (n, key) = registry
                        .iter()
                        .filter(|c| (u.is_none() || c.org_unit_id == *u) && (s.is_none() || c.sex == *s))
                        .filter(|c| band.is_none() || c.age_band == *band)
                        .fold((0, 0), |(n, k), c| (n + c.numerator, k + c.numerator_key));
                    if d > 0 || n > 0 {
                        rows.push(CoverageCell {
                            org_unit_id: *u,
                            sex: *s,
                            age_band: *band,
                            period: label.clone(),
                            numerator: n,
                            denominator: d,
                            numerator_key: key,
                            denominator_key: None,
                            ..CoverageCell::empty()
                        });
                    }
                }
            }
        }
        Ok(rows)
    }

    /// Whether this caller gets an indicator's counts protected: de-identified callers always;
    /// everyone but administrators for an indicator that could single a child out.
    fn protected(&self, indicator: &indicator::Model) -> bool {
        !self.identified() || (indicator.always_protected && !self.principal().may(Action::Administer))
    }

    /// A cell as this caller sees it: when protected (`protected`) each count perturbed with its
    /// cell key, suppressed when small, and the numerator never over the denominator.
    fn published(&self, mut c: CoverageCell, protected: bool) -> CoverageCell {
        if !protected {
            return c;
        }
        let denominator = match c.denominator_key {
            Some(key) => cell_key::protect(c.denominator, key),
            None => Protected::Shown(c.denominator),
        };
        match (cell_key::protect(c.numerator, c.numerator_key), denominator) {
            (Protected::Shown(n), Protected::Shown(d)) => {
                (c.numerator, c.denominator) = (Ord::min(n, d), d);
                // A median of a few is one row's own value, and a half tells the count is even.
                c.median_days = c.median_days.filter(|_| c.numerator >= PROTECTED_MEDIAN_ROWS).map(f64::floor);
            }
            _ => (c.suppressed, c.median_days) = (true, None),
        }
        c
    }

    /// The GROUP BY query over a rule's rows (or, for `Measure::Durations`, the numerator's rows
    /// with their cell's values).
    fn coverage_query(
        &self,
        s: Source,
        question: &Question,
        group_by: &[CoverageDimension],
        measure: Measure,
    ) -> SelectStatement {
        let unit = &question.unit;
        let grouped = measure == Measure::Counts;
        let mut q = s.select;
        let u = self.place(&mut q, s.unit, unit);
        for cond in s.denominator {
            q.and_where(cond);
        }
        if group_by.contains(&CoverageDimension::OrgUnit) {
            let child = child_unit(&mut q, &u, unit, question.level);
            q.expr_as(child.clone(), a("group_unit"));
            if grouped {
                q.add_group_by([child]);
            }
        }
        let mut group = |on: bool, e: Option<SimpleExpr>, name: &str| {
            if let (true, Some(e)) = (on, e) {
                // By the output name: PostgreSQL does not see two CASEs with their own
                // parameters as the same expression.
                q.expr_as(e, a(name));
                if grouped {
                    q.add_group_by([Expr::col(a(name))]);
                }
            }
        };
        group(group_by.contains(&CoverageDimension::Sex), s.sex, "group_sex");
        group(group_by.contains(&CoverageDimension::AgeBand), s.age_band, "group_age_band");
        group(
            group_by.contains(&CoverageDimension::UrbanRural),
            Some(Expr::col((u, org_unit::Column::Settlement))),
            "group_settlement",
        );
        group(group_by.contains(&CoverageDimension::Need), s.need, "group_need");
        if let (Measure::Durations, Some(duration)) = (measure, s.duration) {
            q.and_where(s.numerator);
            q.expr_as(duration, a("duration"));
            return q.to_owned();
        }
        q.expr_as(Expr::col(Asterisk).count(), a("denominator"));
        if !self.protected(&question.indicator) {
            let hit = CaseStatement::new().case(s.numerator, Expr::val(1)).finally(Expr::val(0));
            q.expr_as(Func::sum(hit), a("numerator"));
            return q.to_owned();
        }
        let key = record_key(self.db().get_database_backend(), s.key);
        q.expr_as(Func::sum(key.clone()), a("key_all"));
        // The numerator's hits and the sum of their keys from one CASE, so its condition is
        // evaluated once a row (PostgreSQL runs each copy of a condition as a SubPlan of its
        // own). A hit adds 1 + key × HIT: the sum is hits + keys × HIT (`cells` unpacks it),
        // BIGINT on both databases (PostgreSQL sums bigints as numeric: cast back).
        let packed = Expr::val(1).add(key.cast_as(a("BIGINT")).mul(HIT));
        let hit = CaseStatement::new().case(s.numerator, packed).finally(Expr::val(0));
        q.expr_as(Func::sum(hit).cast_as(a("BIGINT")), a("hits"));
        q.to_owned()
    }

    /// The rows and numerator of an indicator's rule.
    fn source(&self, q: &Question, period: &Period, reference: NaiveDate, backend: DbBackend) -> ApiResult<Source> {
        let ind = &q.indicator;
        let by_age = q.by(CoverageDimension::AgeBand);
        let services: Vec<String> =
            ind.services.as_deref().unwrap_or("").split('|').filter(|s| !s.is_empty()).map(str::to_string).collect();
        let bad = |what: &str| ApiError::Internal(anyhow::anyhow!("indicator {} lacks {what}", ind.code));
        match ind.rule.as_str() {
            "PEOPLE_WITH_SERVICE" | "PEOPLE_ENROLLED" | "FULLY_IMMUNISED" | "PEOPLE_WITH_OPEN_CASE" => {
                let p = a("p");
                let (min, max) =
                    (ind.min_age_months.ok_or_else(|| bad("ages"))?, ind.max_age_months.ok_or_else(|| bad("ages"))?);
                // MICS's education indicators take ages at the start of the school year.
                let aged_on =
                    if ind.ages_at_school_year_start { school::school_year_start(reference) } else { reference };
                let (earliest, latest) = age::born_for_months(aged_on, min, max);
                let mut select = Query::select();
                select.from_as(person::Entity, p.clone());
                let col = |c: person::Column| Expr::col((p.clone(), c));
                let denominator = vec![
                    col(person::Column::BirthDate).between(earliest, latest),
                    col(person::Column::DateOfDeath).is_null().or(col(person::Column::DateOfDeath).gt(reference)),
                ];
                let from = match ind.window_days {
                    Some(days) => reference - Days::new(days as u64 - 1),
                    None => period.from,
                };
                let numerator = if ind.rule == "PEOPLE_WITH_SERVICE" {
                    // Uncorrelated, so the database hashes the served people once instead of
                    // probing per person.
                    col(person::Column::Id).in_subquery(served(&services, from, reference))
                } else if let (Some(grade), "PEOPLE_ENROLLED") = (ind.min_grade, ind.rule.as_str()) {
                    col(person::Column::Id).in_subquery(enrolled_in_grade(&services, reference, grade))
                } else if ind.rule == "PEOPLE_WITH_OPEN_CASE" {
                    col(person::Column::Id).in_subquery(open_cases_on(reference))
                } else if ind.rule == "PEOPLE_ENROLLED" {
                    col(person::Column::Id)
                        .in_subquery(enrolled(&services, reference))
                        .or(col(person::Column::Id).in_subquery(served(&services, from, reference)))
                } else {
                    let mut doses = Vec::new();
                    for pair in &services {
                        let (code, dose) = pair.split_once(':').ok_or_else(|| bad("antigen:dose pairs"))?;
                        let dose: i32 = dose.parse().map_err(|_| bad("a dose number"))?;
                        if doses.iter().any(|(c, _)| c == code) {
                            return Err(bad("one dose per antigen"));
                        }
                        doses.push((code.to_string(), dose));
                    }
                    // One uncorrelated pass over the cohort's doses, hashed once: the children with
                    // every antigen's dose (or a later one) by the reference date.
                    col(person::Column::Id).in_subquery(fully_immunised(&doses, (earliest, latest), reference))
                };
                Ok(Source {
                    select,
                    unit: col(person::Column::OrgUnitId),
                    sex: Some(col(person::Column::Sex)),
                    age_band: by_age.then(|| age_band_on("p.birth_date", aged_on)),
                    denominator,
                    numerator,
                    key: "p.id",
                    need: None,
                    duration: None,
                })
            }
            "BIRTHS_ANC" | "BIRTHS_SKILLED" | "BIRTHS_PNC" => {
                let g = a("g");
                let col = |c: pregnancy::Column| Expr::col((g.clone(), c));
                let mut select = Query::select();
                select.from_as(pregnancy::Entity, g.clone());
                let mut denominator = vec![
                    col(pregnancy::Column::Outcome).eq("LIVE_BIRTH"),
                    col(pregnancy::Column::OutcomeDate).between(period.from, reference),
                ];
                if ind.latest_birth_per_woman {
                    // MICS: women of the ages on the reference date, each by her most recent live
                    // birth of the period (none later up to the reference date).
                    let (min, max) = (
                        ind.min_age_months.ok_or_else(|| bad("the mothers' ages"))?,
                        ind.max_age_months.ok_or_else(|| bad("the mothers' ages"))?,
                    );
                    let (earliest, latest) = age::born_for_months(reference, min, max);
                    denominator.push(
                        col(pregnancy::Column::MotherId).in_subquery(
                            Query::select()
                                .column(person::Column::Id)
                                .from(person::Entity)
                                .and_where(Expr::col(person::Column::BirthDate).between(earliest, latest))
                                .to_owned(),
                        ),
                    );
                    let later = a("later");
                    let later_col = |c: pregnancy::Column| Expr::col((later.clone(), c));
                    denominator.push(
                        Expr::exists(
                            Query::select()
                                .expr(Expr::val(1))
                                .from_as(pregnancy::Entity, later.clone())
                                .and_where(
                                    later_col(pregnancy::Column::MotherId)
                                        .equals((g.clone(), pregnancy::Column::MotherId)),
                                )
                                .and_where(later_col(pregnancy::Column::Outcome).eq("LIVE_BIRTH"))
                                .and_where(
                                    later_col(pregnancy::Column::OutcomeDate)
                                        .gt(Expr::col((g.clone(), pregnancy::Column::OutcomeDate))),
                                )
                                .and_where(later_col(pregnancy::Column::OutcomeDate).lte(reference))
                                .to_owned(),
                        )
                        .not(),
                    );
                }
                let r = a("r");
                let numerator = match ind.rule.as_str() {
                    "BIRTHS_ANC" => {
                        // Per birth, counted from the (pregnancy, type) index of the records that
                        // have a pregnancy, a few per birth.
                        let contacts = Query::select()
                            .expr(Expr::col(Asterisk).count())
                            .from_as(service_record::Entity, r.clone())
                            .join(JoinType::InnerJoin, service_type::Entity, type_of(&r))
                            .and_where(
                                Expr::col((r.clone(), service_record::Column::PregnancyId))
                                    .equals((g.clone(), pregnancy::Column::Id)),
                            )
                            .and_where(type_code_in(&services))
                            .to_owned();
                        Expr::SubQuery(None, Box::new(contacts.into_sub_query_statement()))
                            .gte(ind.min_count.ok_or_else(|| bad("min_count"))?)
                    }
                    "BIRTHS_SKILLED" => col(pregnancy::Column::Attendant).is_in(["DOCTOR", "NURSE_MIDWIFE"]),
                    _ => {
                        // The births of the period under the asked unit with a check in time, in
                        // one uncorrelated pass left-joined by id: a national answer is not two
                        // probes per birth (a superset of the rows counted is harmless).
                        let b = a("b");
                        let births = || {
                            Query::select()
                                .column((b.clone(), pregnancy::Column::Id))
                                .from_as(pregnancy::Entity, b.clone())
                                .and_where(Expr::col((b.clone(), pregnancy::Column::Outcome)).eq("LIVE_BIRTH"))
                                .and_where(
                                    Expr::col((b.clone(), pregnancy::Column::OutcomeDate))
                                        .between(period.from, reference),
                                )
                                .and_where(
                                    Expr::col((b.clone(), pregnancy::Column::OrgUnitId))
                                        .in_subquery(crate::access::units_under(&q.unit.path)),
                                )
                                .to_owned()
                        };
                        let window =
                            ind.window_days.or(q.first_contact_days).ok_or_else(|| bad("a postnatal window"))?;
                        let by = Expr::cust(match backend {
                            DbBackend::Postgres => format!("b.outcome_date + {window}"),
                            _ => format!("date(b.outcome_date, '+{window} days')"),
                        });
                        // A check of the mother's or of a child's (a record aliased `r`) within
                        // the window after birth: two halves of a UNION, each read from the
                        // (person, date, type) index.
                        let checked = |mut q: SelectStatement, whose: SimpleExpr| {
                            q.join_as(JoinType::InnerJoin, service_record::Entity, r.clone(), whose)
                                .join(JoinType::InnerJoin, service_type::Entity, type_of(&r))
                                .and_where(type_code_in(&services))
                                .and_where(
                                    Expr::col((r.clone(), service_record::Column::ServiceDate))
                                        .gte(Expr::col((b.clone(), pregnancy::Column::OutcomeDate))),
                                )
                                .and_where(Expr::col((r.clone(), service_record::Column::ServiceDate)).lte(by.clone()));
                            q
                        };
                        let person_is = |e: SimpleExpr| Expr::col((r.clone(), service_record::Column::PersonId)).eq(e);
                        let mut mother =
                            checked(births(), person_is(Expr::col((b.clone(), pregnancy::Column::MotherId))));
                        let pc = a("pc");
                        let mut of_child = births();
                        of_child.join_as(
                            JoinType::InnerJoin,
                            pregnancy_child::Entity,
                            pc.clone(),
                            Expr::col((pc.clone(), pregnancy_child::Column::PregnancyId))
                                .equals((b.clone(), pregnancy::Column::Id)),
                        );
                        let child = checked(of_child, person_is(Expr::col((pc, pregnancy_child::Column::ChildId))));
                        mother.union(UnionType::Distinct, child);
                        let hit = a("hit");
                        select.join_subquery(
                            JoinType::LeftJoin,
                            mother,
                            hit.clone(),
                            Expr::col((hit.clone(), pregnancy::Column::Id)).equals((g.clone(), pregnancy::Column::Id)),
                        );
                        Expr::col((hit, pregnancy::Column::Id)).is_not_null()
                    }
                };
                // A birth's age band is its mother's age on the day.
                let age_band = by_age.then(|| {
                    let mo = a("mo");
                    select.join_as(
                        JoinType::InnerJoin,
                        person::Entity,
                        mo.clone(),
                        Expr::col((mo, person::Column::Id)).equals((g.clone(), pregnancy::Column::MotherId)),
                    );
                    age_band_of_days(days_between(backend, "g.outcome_date", "mo.birth_date"))
                });
                Ok(Source {
                    select,
                    unit: col(pregnancy::Column::OrgUnitId),
                    sex: None,
                    age_band,
                    denominator,
                    numerator,
                    key: "g.id",
                    need: None,
                    duration: None,
                })
            }
            "ANTHROPOMETRY" => {
                let (m, p) = (a("m"), a("p"));
                let (z, flag) = match ind.z_index.as_deref() {
                    Some("haz") => (growth_measurement::Column::Haz, growth_measurement::Column::FlagHaz),
                    Some("whz") => (growth_measurement::Column::Whz, growth_measurement::Column::FlagWhz),
                    Some("waz") => (growth_measurement::Column::Waz, growth_measurement::Column::FlagWaz),
                    _ => return Err(bad("a z-score index")),
                };
                let cut = ind.z_cut.ok_or_else(|| bad("a cut-off"))?;
                let mut select = Query::select();
                select.from_as(growth_measurement::Entity, m.clone()).join_as(
                    JoinType::InnerJoin,
                    person::Entity,
                    p.clone(),
                    Expr::col((p.clone(), person::Column::Id))
                        .equals((m.clone(), growth_measurement::Column::PersonId)),
                );
                // WHO: a child with bilateral pitting oedema has no weight-based z-score and
                // counts as severely wasted, so in every "WHZ below a cut" indicator (numerator
                // and denominator); the others leave the child out, its z-score being missing.
                let oedema_wasted = ind.z_index.as_deref() == Some("whz") && !ind.z_above;
                let oedema = |x: &Alias| Expr::col((x.clone(), growth_measurement::Column::Oedema)).eq(true);
                // WHO 2013 (acute malnutrition): at 6-59 months a mid-upper-arm circumference
                // below the cut counts too (SAM 115 mm, GAM 125 mm), whatever the WHZ.
                let muac = |x: &Alias| {
                    ind.muac_cut_mm.map(|cut| {
                        (
                            Expr::col((x.clone(), growth_measurement::Column::MuacMm)).is_not_null().and(
                                Expr::col((x.clone(), growth_measurement::Column::AgeDays)).gte(SIX_MONTHS_FIRST_DAY),
                            ),
                            Expr::col((x.clone(), growth_measurement::Column::MuacMm)).lt(cut),
                        )
                    })
                };
                // A usable measurement of `x` in the period (the date is the record's, copied),
                // under 60 months as WHO counts them: age in days / 30.4375 < 60, through day 1,826.
                let usable = |x: &Alias| {
                    let scored = Expr::col((x.clone(), z)).is_not_null().and(Expr::col((x.clone(), flag)).eq(false));
                    vec![
                        Expr::col((x.clone(), growth_measurement::Column::MeasuredOn)).between(period.from, reference),
                        Expr::col((x.clone(), growth_measurement::Column::AgeDays)).lte(UNDER_FIVE_LAST_DAY),
                        match (oedema_wasted, muac(x)) {
                            (true, Some((measured, _))) => scored.or(oedema(x)).or(measured),
                            (true, None) => scored.or(oedema(x)),
                            (false, _) => scored,
                        },
                    ]
                };
                // Only each child's latest usable measurement in the period counts.
                let m2 = a("m2");
                let on = |x: &Alias| Expr::col((x.clone(), growth_measurement::Column::MeasuredOn));
                let id = |x: &Alias| Expr::col((x.clone(), growth_measurement::Column::ServiceRecordId));
                let mut later = Query::select();
                later.expr(Expr::val(1)).from_as(growth_measurement::Entity, m2.clone()).and_where(
                    Expr::col((m2.clone(), growth_measurement::Column::PersonId))
                        .equals((m.clone(), growth_measurement::Column::PersonId)),
                );
                for cond in usable(&m2) {
                    later.and_where(cond);
                }
                later.and_where(on(&m2).gt(on(&m)).or(on(&m2).eq(on(&m)).and(id(&m2).gt(id(&m)))));
                let mut denominator = usable(&m);
                denominator.push(Expr::exists(later.to_owned()).not());
                let zcol = Expr::col((m.clone(), z));
                let numerator = match (ind.z_above, oedema_wasted, muac(&m)) {
                    (true, _, _) => zcol.gt(cut),
                    // A flagged WHZ may stand beside a usable MUAC: only a scored one counts.
                    (false, true, Some((measured, below))) => {
                        let scored = zcol.clone().is_not_null().and(Expr::col((m.clone(), flag)).eq(false));
                        scored.and(zcol.lt(cut)).or(oedema(&m)).or(measured.and(below))
                    }
                    (false, true, None) => zcol.lt(cut).or(oedema(&m)),
                    (false, false, _) => zcol.lt(cut),
                };
                Ok(Source {
                    select,
                    unit: Expr::col((p.clone(), person::Column::OrgUnitId)),
                    sex: Some(Expr::col((p, person::Column::Sex))),
                    age_band: by_age.then(|| age_band_of_days(Expr::cust("m.age_days"))),
                    denominator,
                    numerator,
                    key: "m.service_record_id",
                    need: None,
                    duration: None,
                })
            }
            "DOSES_EVALUATED" => {
                // Doses of the children's schedule given in the period (not of vaccines outside
                // it, e.g. rotavirus), where each was given (the copy of its record's unit): in
                // the numerator those given before they could count (by age or interval). The
                // child is joined only for a breakdown by sex or age.
                let i = a("i");
                let mut select = Query::select();
                select.from_as(immunisation::Entity, i.clone());
                let by_sex = q.by(CoverageDimension::Sex);
                let p = a("p");
                if by_sex || by_age {
                    select.join_as(
                        JoinType::InnerJoin,
                        person::Entity,
                        p.clone(),
                        Expr::col((p.clone(), person::Column::Id)).equals((i.clone(), immunisation::Column::PersonId)),
                    );
                }
                let evaluation = || Expr::col((i.clone(), immunisation::Column::Evaluation));
                let early = DoseEvaluation::GIVEN_TOO_EARLY.map(DoseEvaluation::as_str);
                Ok(Source {
                    select,
                    unit: Expr::col((i.clone(), immunisation::Column::OrgUnitId)),
                    sex: by_sex.then(|| Expr::col((p, person::Column::Sex))),
                    age_band: by_age.then(|| age_band_of_days(days_between(backend, "i.given_on", "p.birth_date"))),
                    denominator: vec![
                        Expr::col((i.clone(), immunisation::Column::GivenOn)).between(period.from, reference),
                        evaluation().is_not_null(),
                        evaluation().ne(DoseEvaluation::NotEvaluated.as_str()),
                        Expr::col((i.clone(), immunisation::Column::AntigenId)).in_subquery(
                            Query::select()
                                .column(antigen::Column::Id)
                                .from(antigen::Entity)
                                .and_where(Expr::col(antigen::Column::InSchedule).eq(true))
                                .to_owned(),
                        ),
                    ],
                    numerator: evaluation().is_in(early),
                    key: "i.service_record_id",
                    need: None,
                    duration: None,
                })
            }
            "LATEST_HIV_KNOWLEDGE" => {
                let (k, p) = (a("k"), a("p"));
                let (min, max) =
                    (ind.min_age_months.ok_or_else(|| bad("ages"))?, ind.max_age_months.ok_or_else(|| bad("ages"))?);
                let (earliest, latest) = age::born_for_months(reference, min, max);
                let mut select = Query::select();
                select.from_as(hiv_knowledge::Entity, k.clone()).join_as(
                    JoinType::InnerJoin,
                    person::Entity,
                    p.clone(),
                    Expr::col((p.clone(), person::Column::Id)).equals((k.clone(), hiv_knowledge::Column::PersonId)),
                );
                let col = |c: person::Column| Expr::col((p.clone(), c));
                // Each person counts by their latest assessment in the period.
                let on = Expr::col((k.clone(), hiv_knowledge::Column::AssessedOn));
                let last = latest_in(
                    hiv_knowledge::Entity,
                    &k,
                    (hiv_knowledge::Column::PersonId, hiv_knowledge::Column::AssessedOn),
                    hiv_knowledge::Column::ServiceRecordId,
                    (period.from, reference),
                );
                let denominator = vec![
                    col(person::Column::BirthDate).between(earliest, latest),
                    col(person::Column::DateOfDeath).is_null().or(col(person::Column::DateOfDeath).gt(reference)),
                    on.between(period.from, reference),
                    last,
                ];
                Ok(Source {
                    select,
                    unit: col(person::Column::OrgUnitId),
                    sex: Some(col(person::Column::Sex)),
                    age_band: by_age.then(|| age_band_on("p.birth_date", reference)),
                    denominator,
                    numerator: Expr::col((k, hiv_knowledge::Column::Comprehensive)).eq(true),
                    key: "p.id",
                    need: None,
                    duration: None,
                })
            }
            "HOUSEHOLDS_ASSESSED" => {
                let (aa, fa, ai) = (a("aa"), a("fa"), a("ai"));
                let code = services.first().ok_or_else(|| bad("an assessment indicator"))?;
                let mut select = Query::select();
                select
                    .from_as(assessment_answer::Entity, aa.clone())
                    .join_as(
                        JoinType::InnerJoin,
                        family_assessment::Entity,
                        fa.clone(),
                        Expr::col((fa.clone(), family_assessment::Column::Id))
                            .equals((aa.clone(), assessment_answer::Column::AssessmentId)),
                    )
                    .join_as(
                        JoinType::InnerJoin,
                        assessment_indicator::Entity,
                        ai.clone(),
                        Expr::col((ai.clone(), assessment_indicator::Column::Id))
                            .equals((aa.clone(), assessment_answer::Column::IndicatorId)),
                    );
                // Each household counts by its latest visit in the period.
                let on = Expr::col((fa.clone(), family_assessment::Column::AssessedOn));
                let latest = latest_in(
                    family_assessment::Entity,
                    &fa,
                    (family_assessment::Column::HouseholdId, family_assessment::Column::AssessedOn),
                    family_assessment::Column::Id,
                    (period.from, reference),
                );
                let answer = Expr::col((aa, assessment_answer::Column::Answer));
                let denominator = vec![
                    Expr::col((ai, assessment_indicator::Column::Code)).eq(code.as_str()),
                    on.between(period.from, reference),
                    latest,
                    answer.clone().ne("NOT_APPLICABLE"),
                ];
                Ok(Source {
                    select,
                    unit: Expr::col((fa, family_assessment::Column::OrgUnitId)),
                    sex: None,
                    age_band: None,
                    denominator,
                    numerator: answer.eq("YES"),
                    key: "fa.household_id",
                    need: None,
                    duration: None,
                })
            }
            "REFERRALS_COMPLETED" | "REFERRALS_ON_TIME" | "REFERRALS_OVERDUE" => {
                let rf = a("rf");
                let col = |c: referral::Column| Expr::col((rf.clone(), c));
                let mut select = Query::select();
                select.from_as(referral::Entity, rf.clone());
                let mut denominator = vec![];
                if !services.is_empty() {
                    denominator.push(col(referral::Column::Need).is_in(services.clone()));
                }
                let completed = col(referral::Column::Status).eq(ReferralStatus::Completed.as_str());
                let numerator = match ind.rule.as_str() {
                    "REFERRALS_COMPLETED" => {
                        denominator.push(col(referral::Column::SentOn).between(period.from, reference));
                        completed.and(col(referral::Column::CompletedOn).lte(reference))
                    }
                    "REFERRALS_ON_TIME" => {
                        denominator.push(col(referral::Column::SentOn).between(period.from, reference));
                        denominator.push(col(referral::Column::DueBy).lte(reference));
                        completed.and(col(referral::Column::CompletedOn).lte(col(referral::Column::DueBy)))
                    }
                    _ => {
                        // Open on the reference day: sent by then, not ended by then (a stock,
                        // whatever the period's first day).
                        denominator.push(col(referral::Column::SentOn).lte(reference));
                        denominator.push(
                            col(referral::Column::EndedOn).is_null().or(col(referral::Column::EndedOn).gt(reference)),
                        );
                        col(referral::Column::DueBy).lt(reference)
                    }
                };
                let duration = q.timed().then(|| {
                    let days = days_between(backend, "rf.completed_on", "rf.sent_on");
                    Expr::expr(days).cast_as(a("BIGINT"))
                });
                Ok(Source {
                    select,
                    // Counted on the referring side: where the child lived when referred.
                    unit: col(referral::Column::FromOrgUnitId),
                    sex: None,
                    age_band: None,
                    denominator,
                    numerator,
                    key: "rf.id",
                    need: Some(col(referral::Column::Need)),
                    duration,
                })
            }
            other => Err(ApiError::Internal(anyhow::anyhow!("unknown coverage rule {other}"))),
        }
    }
}

/// A cell's values of its dimensions as the database returns them (period aside: one query
/// counts one period).
type GroupKey = (Option<Uuid>, [Option<String>; 4]);

fn group_key(r: &sea_orm::QueryResult, group_by: &[CoverageDimension]) -> ApiResult<GroupKey> {
    let text = |on: CoverageDimension, name: &str| -> ApiResult<Option<String>> {
        Ok(if group_by.contains(&on) { r.try_get("", name)? } else { None })
    };
    let unit = if group_by.contains(&CoverageDimension::OrgUnit) { r.try_get("", "group_unit")? } else { None };
    Ok((
        unit,
        [
            text(CoverageDimension::Sex, "group_sex")?,
            text(CoverageDimension::AgeBand, "group_age_band")?,
            text(CoverageDimension::UrbanRural, "group_settlement")?,
            text(CoverageDimension::Need, "group_need")?,
        ],
    ))
}

/// The median of `values` (the mean of the middle two of an even count); None when empty.
fn median(values: &mut [i64]) -> Option<f64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2] as f64),
        _ => Some((values[n / 2 - 1] + values[n / 2]) as f64 / 2.0),
    }
}

/// The row aliased `row` of `table` is its owner's latest in `within`: no other row of the same
/// owner is dated later in it, or on the same day with a greater id.
fn latest_in<T, C>(table: T, row: &Alias, (owner, on): (C, C), id: C, within: (NaiveDate, NaiveDate)) -> SimpleExpr
where
    T: IntoTableRef,
    C: IntoIden + Copy,
{
    let other = a("later");
    let col = |x: &Alias, c: C| Expr::col((x.clone(), c));
    let later = Query::select()
        .expr(Expr::val(1))
        .from_as(table, other.clone())
        .and_where(col(&other, owner).equals((row.clone(), owner)))
        .and_where(col(&other, on).between(within.0, within.1))
        .and_where(
            col(&other, on).gt(col(row, on)).or(col(&other, on).eq(col(row, on)).and(col(&other, id).gt(col(row, id)))),
        )
        .to_owned();
    Expr::exists(later).not()
}

/// `service_type` joined to the record aliased `r`.
fn type_of(r: &Alias) -> SimpleExpr {
    type_on(r, service_record::Column::ServiceTypeId)
}

/// `service_type` joined to a row aliased `of` by its service type column.
fn type_on(of: &Alias, column: impl IntoIden) -> SimpleExpr {
    Expr::col((service_type::Entity, service_type::Column::Id)).equals((of.clone(), column))
}

/// The joined `service_type` is one of `services` (codes).
fn type_code_in(services: &[String]) -> SimpleExpr {
    Expr::col((service_type::Entity, service_type::Column::Code)).is_in(services.iter().cloned())
}

/// The children with a protection case open on `on`: opened by then, and not closed by then
/// unless reopened after that closing by then (a case closed and reopened was closed in between).
fn open_cases_on(on: NaiveDate) -> SelectStatement {
    use protection_case::Column as K;
    use protection_case_step::Column as S;
    let (k, close, reopen) = (a("k"), a("close"), a("reopen"));
    let col = |t: &Alias, c: S| Expr::col((t.clone(), c));
    let reopened = Query::select()
        .expr(Expr::val(1))
        .from_as(protection_case_step::Entity, reopen.clone())
        .and_where(col(&reopen, S::CaseId).equals((k.clone(), K::Id)))
        .and_where(col(&reopen, S::Step).eq(CaseStep::Reopen.as_str()))
        .and_where(col(&reopen, S::OnDay).lte(on))
        .and_where(col(&reopen, S::At).gt(col(&close, S::At)))
        .to_owned();
    let closed = Query::select()
        .expr(Expr::val(1))
        .from_as(protection_case_step::Entity, close.clone())
        .and_where(col(&close, S::CaseId).equals((k.clone(), K::Id)))
        .and_where(col(&close, S::Step).eq(CaseStep::Close.as_str()))
        .and_where(col(&close, S::OnDay).lte(on))
        .and_where(Expr::exists(reopened).not())
        .to_owned();
    Query::select()
        .column((k.clone(), K::PersonId))
        .from_as(protection_case::Entity, k.clone())
        .and_where(Expr::col((k, K::OpenedOn)).lte(on))
        .and_where(Expr::exists(closed).not())
        .to_owned()
}

/// People with a record of one of the service types between two dates.
fn served(services: &[String], from: NaiveDate, to: NaiveDate) -> SelectStatement {
    let r = a("r");
    Query::select()
        .column((r.clone(), service_record::Column::PersonId))
        .from_as(service_record::Entity, r.clone())
        .join(JoinType::InnerJoin, service_type::Entity, type_of(&r))
        .and_where(type_code_in(services))
        .and_where(Expr::col((r, service_record::Column::ServiceDate)).between(from, to))
        .to_owned()
}

/// People with an enrolment of one of the service types open on `on`: enrolled on or before
/// it and not ended by it.
fn enrolled(services: &[String], on: NaiveDate) -> SelectStatement {
    let e = a("e");
    // Type and start are copies on the enrolment (m20261203_000001): read from its
    // (type, start, person, end) index alone, never joined to the service records.
    Query::select()
        .column((e.clone(), enrolment::Column::PersonId))
        .from_as(enrolment::Entity, e.clone())
        .join(JoinType::InnerJoin, service_type::Entity, type_on(&e, enrolment::Column::ServiceTypeId))
        .and_where(type_code_in(services))
        .and_where(Expr::col((e.clone(), enrolment::Column::StartedOn)).lte(on))
        .and_where(
            Expr::col((e.clone(), enrolment::Column::EndedOn))
                .is_null()
                .or(Expr::col((e, enrolment::Column::EndedOn)).gt(on)),
        )
        .to_owned()
}

/// People with an enrolment of one of the service types open on `on` in `grade` or higher on
/// that day (`domain::school`: the grade recorded, one up each school year since).
fn enrolled_in_grade(services: &[String], on: NaiveDate, grade: i32) -> SelectStatement {
    let mut q = enrolled(services, on);
    q.and_where(Expr::col((a("e"), enrolment::Column::FirstGradeYear)).lte(school::first_grade_year_for(grade, on)));
    q
}

/// Children born in `born` (the cohort) with, for every (antigen, dose), that position of the
/// series or a later one filled by a valid dose given by `on` (a verdict depends only on the
/// doses before it, so later doses never change it).
fn fully_immunised(doses: &[(String, i32)], born: (NaiveDate, NaiveDate), on: NaiveDate) -> SelectStatement {
    let (i, g, c) = (a("i"), a("ag"), a("ic"));
    let mut any = Condition::any();
    for (code, dose) in doses {
        any = any.add(
            Expr::col((g.clone(), antigen::Column::Code))
                .eq(code.as_str())
                .and(Expr::col((i.clone(), immunisation::Column::ValidDoseNumber)).gte(*dose)),
        );
    }
    Query::select()
        .column((i.clone(), immunisation::Column::PersonId))
        .from_as(immunisation::Entity, i.clone())
        .join_as(
            JoinType::InnerJoin,
            person::Entity,
            c.clone(),
            Expr::col((c.clone(), person::Column::Id)).equals((i.clone(), immunisation::Column::PersonId)),
        )
        .join_as(
            JoinType::InnerJoin,
            antigen::Entity,
            g.clone(),
            Expr::col((g.clone(), antigen::Column::Id)).equals((i.clone(), immunisation::Column::AntigenId)),
        )
        .and_where(Expr::col((c, person::Column::BirthDate)).between(born.0, born.1))
        .and_where(Expr::col((i.clone(), immunisation::Column::GivenOn)).lte(on))
        .cond_where(any)
        .group_by_col((i, immunisation::Column::PersonId))
        .and_having(Expr::col((g, antigen::Column::Code)).count_distinct().eq(doses.len() as i64))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn a_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(&mut []), None);
        assert_eq!(median(&mut [7]), Some(7.0));
        assert_eq!(median(&mut [9, 1, 4]), Some(4.0));
        assert_eq!(median(&mut [10, 1, 4, 3]), Some(3.5));
    }
}
