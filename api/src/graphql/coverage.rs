//! Coverage indicators: the catalogue and `coverage`.

use super::data;
use super::family::PeriodRange;
use super::loaders::one;
use super::org_units::OrgUnit;
use crate::domain::vocab::{CoverageDimension, DenominatorSource, OrgUnitLevel, Settlement, Sex};
use crate::store::coverage::{Coverage as StoreCoverage, CoverageCell};
use async_graphql::{Context, Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::indicator;
use uuid::Uuid;

pub struct Indicator(indicator::Model);

#[Object]
impl Indicator {
    async fn code(&self) -> &str {
        &self.0.code
    }
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
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
    async fn min_age_months(&self) -> Option<i32> {
        self.0.min_age_months
    }
    async fn max_age_months(&self) -> Option<i32> {
        self.0.max_age_months
    }
}

pub struct CoverageRow {
    cell: CoverageCell,
    factor: i32,
}

#[Object]
impl CoverageRow {
    /// The unit one level below the chosen one (grouped by ORG_UNIT; null for rows placed at the
    /// chosen unit itself, and when not grouped by unit).
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        let Some(id) = self.cell.org_unit_id else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.org_unit, id).await?.map(OrgUnit))
    }
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
    /// Grouped by MONTH or QUARTER: `2026-07` or `2026Q3`; each counted as at its own last day
    /// (or today), so months of a stock indicator (children in an age band) do not add up.
    async fn period(&self) -> Option<&str> {
        self.cell.period.as_deref()
    }
    /// Null when `suppressed`.
    async fn numerator(&self) -> Option<i64> {
        (!self.cell.suppressed).then_some(self.cell.numerator)
    }
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
    /// A count from 1 to 4 for a caller who sees data de-identified: withheld, so a small area
    /// cannot be re-identified.
    async fn suppressed(&self) -> bool {
        self.cell.suppressed
    }
}

pub struct Coverage(StoreCoverage);

#[Object]
impl Coverage {
    async fn indicator(&self) -> Indicator {
        Indicator(self.0.indicator.clone())
    }
    async fn org_unit(&self) -> OrgUnit {
        OrgUnit(self.0.org_unit.clone())
    }
    async fn period(&self) -> PeriodRange {
        (&self.0.period).into()
    }
    /// The day ages are counted on and look-back windows end: the period's last day, or today.
    async fn reference_date(&self) -> NaiveDate {
        self.0.reference_date
    }
    async fn denominator_source(&self) -> DenominatorSource {
        self.0.denominator_source
    }
    async fn group_by(&self) -> Vec<CoverageDimension> {
        self.0.group_by.clone()
    }
    async fn rows(&self) -> Vec<CoverageRow> {
        let factor = self.0.indicator.factor;
        self.0.rows.iter().map(|c| CoverageRow { cell: c.clone(), factor }).collect()
    }
    async fn total(&self) -> CoverageRow {
        CoverageRow { cell: self.0.total.clone(), factor: self.0.indicator.factor }
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
    /// THIS_YEAR, LAST_12_MONTHS), in your scope, counted from the records; grouped by the units
    /// one level down, sex, age band, urban/rural, month or quarter. Rows add up to the total,
    /// except months and quarters of indicators counted at a date (children of an age band).
    #[allow(clippy::too_many_arguments)]
    async fn coverage(
        &self,
        ctx: &Context<'_>,
        indicator: String,
        org_unit_id: Uuid,
        period: String,
        #[graphql(default)] group_by: Vec<CoverageDimension>,
        #[graphql(desc = "Grouped by ORG_UNIT: rows at this level (AIMAG includes the capital, SOUM its \
                          districts, BAG its khoroos); default: one level below the chosen unit.")]
        org_unit_level: Option<OrgUnitLevel>,
        #[graphql(default_with = "DenominatorSource::Registry")] denominator: DenominatorSource,
    ) -> Result<Coverage> {
        let store = &data(ctx)?.store;
        Ok(Coverage(store.coverage(&indicator, org_unit_id, &period, group_by, org_unit_level, denominator).await?))
    }
}

#[derive(SimpleObject)]
pub struct PopulationImport {
    pub imported: i32,
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
    async fn import_population(
        &self,
        ctx: &Context<'_>,
        csv: String,
        source: Option<String>,
    ) -> Result<PopulationImport> {
        let r = data(ctx)?.store.import_population(&csv, source).await?;
        Ok(PopulationImport { imported: r.imported as i32, replaced: r.replaced as i32 })
    }
}
