//! `aggregate`: ad-hoc counts for analysts.

use super::data;
use super::loaders::one;
use super::org_units::OrgUnit;
use crate::domain::vocab::{AggregateDimension, AggregateEntity, Measure, OrgUnitLevel, Settlement, Sex};
use crate::error::ApiError;
use crate::store::aggregate::{Aggregate as StoreAggregate, AggregateCell, AggregateFilter, AggregateQuestion};
use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;
use uuid::Uuid;

pub struct AggregateRow(AggregateCell);

/// Withheld when suppressed.
fn shown<T>(cell: &AggregateCell, v: Option<T>) -> Option<T> {
    if cell.suppressed { None } else { v }
}

/// One row of an aggregate: the value of each dimension grouped by (null for the others) and the
/// measures asked for (null for the others). For callers who see data de-identified, a row with a
/// count from 1 to 4 is left out (as a row of none is), and the total with a count from 0 to 4 is
/// `suppressed`.
#[Object]
impl AggregateRow {
    /// The unit one level below the chosen one (grouped by ORG_UNIT; null for rows placed at
    /// the chosen unit itself).
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        let Some(id) = self.0.org_unit_id else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.org_unit, id).await?.map(OrgUnit))
    }
    /// Grouped by SEX: the sex.
    async fn sex(&self) -> Option<Sex> {
        self.0.sex
    }
    /// Grouped by AGE_BAND: `0-5M`, `6-11M`, `12-23M`, … `5-9Y`, … `65+Y`.
    async fn age_band(&self) -> Option<&str> {
        self.0.age_band
    }
    /// Grouped by URBAN_RURAL: the settlement type of the unit the row's people or households live
    /// in.
    async fn urban_rural(&self) -> Option<Settlement> {
        self.0.settlement
    }
    /// `2026-07`, `2026Q3` or `2026` (grouped by MONTH, QUARTER or YEAR).
    async fn period(&self) -> Option<&str> {
        self.0.period.as_deref()
    }
    /// Grouped by SERVICE_TYPE: the service type's code.
    async fn service_type(&self) -> Option<&str> {
        self.0.service_type.as_deref()
    }
    /// Grouped by DWELLING: the dwelling (GER, HOUSE, APARTMENT, OTHER).
    async fn dwelling(&self) -> Option<&str> {
        self.0.dwelling.as_deref()
    }
    /// Rows of the counted entity (null when suppressed).
    async fn count(&self) -> Option<i64> {
        shown(&self.0, Some(self.0.count))
    }
    /// Measure PEOPLE: distinct people (null when not asked for, or suppressed).
    async fn people(&self) -> Option<i64> {
        shown(&self.0, self.0.people)
    }
    /// Measure HOUSEHOLDS: distinct households (null when not asked for, or suppressed).
    async fn households(&self) -> Option<i64> {
        shown(&self.0, self.0.households)
    }
    /// Measure MEAN_HAZ: mean length/height-for-age z-score, 2 decimals, flagged values left out
    /// (null when not asked for, none is usable, or suppressed).
    async fn mean_haz(&self) -> Option<f64> {
        shown(&self.0, self.0.mean_haz.map(round2))
    }
    /// Measure MEAN_WHZ: mean weight-for-length/height z-score, 2 decimals, flagged values left out
    /// (null when not asked for, none is usable, or suppressed).
    async fn mean_whz(&self) -> Option<f64> {
        shown(&self.0, self.0.mean_whz.map(round2))
    }
    /// Measure MEAN_WAZ: mean weight-for-age z-score, 2 decimals, flagged values left out (null
    /// when not asked for, none is usable, or suppressed).
    async fn mean_waz(&self) -> Option<f64> {
        shown(&self.0, self.0.mean_waz.map(round2))
    }
    /// A count from 0 to 4 for a caller who sees data de-identified: every figure of the row is
    /// withheld (a distinct count of 0 to 4 beside a shown row count too).
    async fn suppressed(&self) -> bool {
        self.0.suppressed
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

pub struct Aggregate(StoreAggregate);

/// The answer of `aggregate`: the question as understood, its rows and its total.
#[Object]
impl Aggregate {
    /// What was counted.
    async fn entity(&self) -> AggregateEntity {
        self.0.entity
    }
    /// The unit under which it was counted.
    async fn org_unit(&self) -> OrgUnit {
        OrgUnit(self.0.org_unit.clone())
    }
    /// The day people's ages are counted on.
    async fn as_of(&self) -> NaiveDate {
        self.0.as_of
    }
    /// The dimensions grouped by, without repeats.
    async fn group_by(&self) -> Vec<AggregateDimension> {
        self.0.group_by.clone()
    }
    /// The measures computed, without repeats (COUNT when none was asked for).
    async fn measures(&self) -> Vec<Measure> {
        self.0.measures.clone()
    }
    /// One row per combination of the dimensions that has any rows (none when not grouped).
    async fn rows(&self) -> Vec<AggregateRow> {
        self.0.rows.iter().cloned().map(AggregateRow).collect()
    }
    /// Counted over everything (distinct people and means are not sums of the rows). Grouped,
    /// it takes a query of its own, run only when `total` is selected.
    async fn total(&self) -> Result<AggregateRow> {
        // Counted whenever the selection holds `total` (`Query::aggregate`'s look-ahead).
        let total = self.0.total.clone().ok_or_else(|| ApiError::Internal(anyhow::anyhow!("total not counted")))?;
        Ok(AggregateRow(total))
    }
}

#[derive(Default)]
pub struct AggregateQuery;

#[Object]
impl AggregateQuery {
    /// Counts people, households, service records or growth measurements living under a unit
    /// (in your scope), filtered and grouped as asked; for example children 6–59 months without
    /// vitamin A in the last 6 months, by soum:
    /// `aggregate(entity: PEOPLE, orgUnitId: …, filter: { person: { ageMonths: { gte: 6, lte: 59 },
    /// not: { received: { services: ["VITAMIN_A"], withinDays: 183 } } } }, groupBy: [ORG_UNIT])`.
    /// Without a filter, people and service records are counted from roll-ups kept current on
    /// every write (the same counts; `extensions.freshness.rollup` says so).
    /// Errors: UNAUTHENTICATED, VALIDATION (an unknown unit; a dimension, measure or filter that
    /// does not fit the entity; more than 10,000 rows), FORBIDDEN (a name or address condition
    /// from a caller who sees data de-identified).
    #[allow(clippy::too_many_arguments)]
    async fn aggregate(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to count.")] entity: AggregateEntity,
        #[graphql(desc = "The unit: what lives anywhere in its subtree (and your view scope) is counted.")]
        org_unit_id: Uuid,
        #[graphql(desc = "Conditions on the counted rows and what they belong to; default none.")] filter: Option<
            AggregateFilter,
        >,
        #[graphql(default, desc = "The dimensions of the rows; none: the total only.")] group_by: Vec<
            AggregateDimension,
        >,
        #[graphql(desc = "Grouped by ORG_UNIT: rows at this level (AIMAG includes the capital, SOUM its \
                          districts, BAG its khoroos); default: one level below the chosen unit.")]
        org_unit_level: Option<OrgUnitLevel>,
        #[graphql(default, desc = "What to compute per row; default COUNT.")] measures: Vec<Measure>,
        #[graphql(desc = "The day ages and \"within the last N days\" are counted on; default today.")] as_of: Option<
            NaiveDate,
        >,
    ) -> Result<Aggregate> {
        let q = AggregateQuestion {
            entity,
            org_unit_id,
            filter: filter.unwrap_or_default(),
            group_by,
            level: org_unit_level,
            measures,
            as_of,
            total: ctx.look_ahead().field("total").exists(),
        };
        Ok(Aggregate(data(ctx)?.store.analytics().await.aggregate(q).await?))
    }
}
