//! Coverage indicators: the catalogue and `coverage`.

use super::data;
use super::family::PeriodRange;
use super::loaders::one;
use super::org_units::OrgUnit;
use crate::domain::vocab::{CoverageDimension, DenominatorSource, OrgUnitLevel, ReferralNeed, Settlement, Sex};
use crate::error::ApiError;
use crate::store::coverage::{Coverage as StoreCoverage, CoverageCell};
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::indicator;
use uuid::Uuid;

pub struct Indicator(indicator::Model);

/// A coverage indicator of the catalogue (reference data): numerator ÷ denominator × factor,
/// counted from the records by its rule.
#[Object]
impl Indicator {
    /// The indicator's code, e.g. ANC4, FULL_IMMUNISATION, VITAMIN_A, STUNTING (what `coverage`
    /// takes).
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The name in English.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// The name in Mongolian.
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
    /// The numerator, in words.
    async fn numerator(&self) -> &str {
        &self.0.numerator_en
    }
    /// The denominator, in words.
    async fn denominator(&self) -> &str {
        &self.0.denominator_en
    }
    /// 100 for percentages.
    async fn factor(&self) -> i32 {
        self.0.factor
    }
    /// The counting rule (see `migration/data/indicators.csv`).
    async fn rule(&self) -> &str {
        &self.0.rule
    }
    /// The youngest age counted, in completed months on the reference date (for a birth counted
    /// per woman, the mother's); null when the indicator is not of an age band (births,
    /// growth measurements).
    async fn min_age_months(&self) -> Option<i32> {
        self.0.min_age_months
    }
    /// The oldest age counted, in completed months on the reference date; null when the indicator
    /// is not of an age band.
    async fn max_age_months(&self) -> Option<i32> {
        self.0.max_age_months
    }
    /// The standard the indicator follows (an SDG or MICS indicator, a WHO/UNICEF definition), or
    /// "Programme indicator" for the programme's own.
    async fn source(&self) -> Option<&str> {
        self.0.source.as_deref()
    }
    /// How the service counts it, and where that differs from its source.
    async fn definition(&self) -> Option<&str> {
        self.0.definition.as_deref()
    }
    /// A birth indicator counted as MICS does: women of the indicator's ages with a live birth in
    /// the period, each by her most recent one (false: every live birth of the period).
    async fn latest_birth_per_woman(&self) -> bool {
        self.0.latest_birth_per_woman
    }
    /// Ages are counted on the first day of the school year holding the reference date (1
    /// September, as MICS's education indicators take them), not on the reference date.
    async fn ages_at_school_year_start(&self) -> bool {
        self.0.ages_at_school_year_start
    }
    /// An attendance ratio by level: the lowest grade of general education the numerator counts
    /// (attendance at the level or above, on the reference date); null for other indicators.
    async fn min_grade(&self) -> Option<i32> {
        self.0.min_grade
    }
    /// Its counts are protected by the cell-key method (see *What de-identified callers see*) for
    /// every caller but administrators, not only for de-identified ones: a small count could
    /// single a child out (an open protection case).
    async fn always_protected(&self) -> bool {
        self.0.always_protected
    }
}

pub struct CoverageRow {
    cell: CoverageCell,
    factor: i32,
}

/// One row (or the total) of a coverage answer: the value of each dimension grouped by (null for
/// the others), the counts and the value.
#[Object]
impl CoverageRow {
    /// The unit one level below the chosen one (grouped by ORG_UNIT; null for rows placed at the
    /// chosen unit itself, and when not grouped by unit).
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        let Some(id) = self.cell.org_unit_id else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.org_unit, id).await?.map(OrgUnit))
    }
    /// Grouped by SEX: the sex.
    async fn sex(&self) -> Option<Sex> {
        self.cell.sex
    }
    /// Grouped by AGE_BAND: `0-5M`, `6-11M`, `12-23M`, … `5-9Y`, `10-14Y`, … (a birth's is its
    /// mother's age).
    async fn age_band(&self) -> Option<&str> {
        self.cell.age_band
    }
    /// Grouped by URBAN_RURAL: the settlement type of the unit the row belongs to.
    async fn urban_rural(&self) -> Option<Settlement> {
        self.cell.settlement
    }
    /// Grouped by NEED: the referrals' need (sector).
    async fn need(&self) -> Option<ReferralNeed> {
        self.cell.need
    }
    /// Grouped by MONTH or QUARTER: `2026-07` or `2026Q3`; each counted as at its own last day
    /// (or today), so months of a stock indicator (children in an age band) do not add up.
    async fn period(&self) -> Option<&str> {
        self.cell.period.as_deref()
    }
    /// Null when `suppressed`.
    async fn numerator(&self) -> Option<i64> {
        (!self.cell.suppressed).then_some(self.cell.numerator)
    }
    /// Null when `suppressed`. With POPULATION denominators, the estimate (prorated for part of an
    /// age band, rounded).
    async fn denominator(&self) -> Option<i64> {
        (!self.cell.suppressed).then_some(self.cell.denominator)
    }
    /// numerator ÷ denominator × factor, to one decimal; null when the denominator is 0 or the
    /// cell is suppressed.
    async fn value(&self) -> Option<f64> {
        if self.cell.suppressed || self.cell.denominator == 0 {
            return None;
        }
        let v = self.cell.numerator as f64 * self.factor as f64 / self.cell.denominator as f64;
        Some((v * 10.0).round() / 10.0)
    }
    /// An indicator of referrals completed (REFERRALS_COMPLETED, REFERRALS_ON_TIME): the median
    /// of the days from sending to completion over the numerator's referrals (the mean of the
    /// middle two of an even count); null for other indicators, when the numerator is 0, and when
    /// the cell is suppressed.
    async fn median_days(&self) -> Option<f64> {
        self.cell.median_days
    }
    /// A count from 0 to 4 for a caller who sees data de-identified: withheld, so a small area
    /// cannot be re-identified (zero too, or a suppressed cell would tell that someone is there).
    async fn suppressed(&self) -> bool {
        self.cell.suppressed
    }
}

pub struct Coverage(StoreCoverage);

/// The answer of `coverage`: an indicator under a unit in a period, its rows and its total.
#[Object]
impl Coverage {
    /// The indicator.
    async fn indicator(&self) -> Indicator {
        Indicator(self.0.indicator.clone())
    }
    /// The unit under which it was counted.
    async fn org_unit(&self) -> OrgUnit {
        OrgUnit(self.0.org_unit.clone())
    }
    /// The period, with its first and last day.
    async fn period(&self) -> PeriodRange {
        (&self.0.period).into()
    }
    /// The day ages are counted on and look-back windows end: the period's last day, or today.
    async fn reference_date(&self) -> NaiveDate {
        self.0.reference_date
    }
    /// Where the denominators come from.
    async fn denominator_source(&self) -> DenominatorSource {
        self.0.denominator_source
    }
    /// The dimensions grouped by, without repeats.
    async fn group_by(&self) -> Vec<CoverageDimension> {
        self.0.group_by.clone()
    }
    /// One row per combination of the dimensions (none when not grouped).
    async fn rows(&self) -> Vec<CoverageRow> {
        let factor = self.0.indicator.factor;
        self.0.rows.iter().map(|c| CoverageRow { cell: c.clone(), factor }).collect()
    }
    /// The whole unit and period. Where the rows do not add up to it (months or quarters,
    /// population estimates, medians) it takes queries of its own, run only when `total` is
    /// selected.
    async fn total(&self) -> Result<CoverageRow> {
        // Counted whenever the selection holds `total` (`Query::coverage`'s look-ahead).
        let cell = self.0.total.clone().ok_or_else(|| ApiError::Internal(anyhow::anyhow!("total not counted")))?;
        Ok(CoverageRow { cell, factor: self.0.indicator.factor })
    }
}

#[derive(Default)]
pub struct CoverageQuery;

#[Object]
impl CoverageQuery {
    /// The coverage indicators.
    async fn indicators(&self, ctx: &Context<'_>) -> Result<Vec<Indicator>> {
        Ok(data(ctx)?.store.indicators().await?.into_iter().map(Indicator).collect())
    }

    /// An indicator under a unit in a period (2026, 2026Q3, 2026-07, THIS_MONTH, THIS_QUARTER,
    /// THIS_YEAR, LAST_12_MONTHS, LAST_24_MONTHS), in your scope, counted from the records; grouped by the units
    /// one level down, sex, age band, urban/rural, month or quarter. Rows add up to the total,
    /// except months and quarters of indicators counted at a date (children of an age band). For
    /// callers who see data de-identified, cells with a count from 0 to 4 are `suppressed`.
    /// Errors: UNAUTHENTICATED, VALIDATION (an unknown indicator or unit, a period that will not
    /// parse or has not started, MONTH with QUARTER, SEX for an indicator counted per birth, SEX
    /// or AGE_BAND for one counted per household, POPULATION for an indicator without an age band
    /// or with URBAN_RURAL).
    #[allow(clippy::too_many_arguments)]
    async fn coverage(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "An indicator code from `indicators`, e.g. VITAMIN_A.")] indicator: String,
        #[graphql(desc = "The unit: what lives anywhere in its subtree (and your view scope) is counted.")]
        org_unit_id: Uuid,
        #[graphql(
            desc = "2026, 2026Q3, 2026-07, THIS_MONTH, THIS_QUARTER, THIS_YEAR, LAST_12_MONTHS (the twelve whole months before this one) or LAST_24_MONTHS (MICS's last 2 years)."
        )]
        period: String,
        #[graphql(default, desc = "The dimensions of the rows; none: the total only.")] group_by: Vec<
            CoverageDimension,
        >,
        #[graphql(desc = "Grouped by ORG_UNIT: rows at this level (AIMAG includes the capital, SOUM its \
                          districts, BAG its khoroos); default: one level below the chosen unit.")]
        org_unit_level: Option<OrgUnitLevel>,
        #[graphql(
            default_with = "DenominatorSource::Registry",
            desc = "REGISTRY (default) or POPULATION (official estimates, for indicators of an age band)."
        )]
        denominator: DenominatorSource,
    ) -> Result<Coverage> {
        let store = data(ctx)?.store.analytics().await;
        let total = ctx.look_ahead().field("total").exists();
        let c = store.coverage(&indicator, org_unit_id, &period, group_by, org_unit_level, denominator, total).await?;
        Ok(Coverage(c))
    }
}

/// What `importPopulation` did.
#[derive(SimpleObject)]
pub struct PopulationImport {
    /// Estimates written (every row of the file).
    pub imported: i32,
    /// Of those, how many replaced an estimate with the same unit, year, sex and ages.
    pub replaced: i32,
}

#[derive(Default)]
pub struct CoverageMutation;

#[Object]
impl CoverageMutation {
    /// Imports official population estimates (administrators): CSV text with a header row
    /// `org_unit_code,year,sex,age_from_years,age_to_years,population` (sex MALE, FEMALE or BOTH;
    /// ages in completed years). All or nothing; an estimate with the same unit, year, sex and
    /// ages is replaced. Also `cbss import population FILE`.
    /// Errors: FORBIDDEN (not ADMIN), VALIDATION (an unreadable file or header, or rows with an
    /// unknown unit, a missing number, a year outside 1990-2100, ages not 0 <= from <= to <= 120,
    /// a negative population or another sex: every bad row, at `csv.line N`).
    async fn import_population(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The CSV text, with its header row.")] csv: String,
        #[graphql(desc = "Where the estimates come from (e.g. the statistics office's release), kept with them.")]
        source: Option<String>,
    ) -> Result<PopulationImport> {
        let r = data(ctx)?.store.import_population(&csv, source).await?;
        Ok(PopulationImport { imported: r.imported as i32, replaced: r.replaced as i32 })
    }
}
