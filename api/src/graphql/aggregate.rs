//! `aggregate`: ad-hoc counts for analysts.

use super::data;
use super::loaders::one;
use super::org_units::OrgUnit;
use crate::domain::vocab::{AggregateDimension, AggregateEntity, Measure, OrgUnitLevel, Settlement, Sex};
use crate::store::aggregate::{Aggregate as StoreAggregate, AggregateCell, AggregateFilter, AggregateQuestion};
use async_graphql::{Context, Object, Result};
use chrono::NaiveDate;
use uuid::Uuid;

pub struct AggregateRow(AggregateCell);

/// Withheld when suppressed.
fn shown<T>(cell: &AggregateCell, v: Option<T>) -> Option<T> {
    if cell.suppressed { None } else { v }
}

#[Object]
impl AggregateRow {
    /// The unit one level below the chosen one (grouped by ORG_UNIT; null for rows placed at
    /// the chosen unit itself).
    async fn org_unit(&self, ctx: &Context<'_>) -> Result<Option<OrgUnit>> {
        let Some(id) = self.0.org_unit_id else { return Ok(None) };
        Ok(one(&data(ctx)?.loaders.org_unit, id).await?.map(OrgUnit))
    }
    async fn sex(&self) -> Option<Sex> {
        self.0.sex
    }
    async fn age_band(&self) -> Option<&str> {
        self.0.age_band
    }
    async fn urban_rural(&self) -> Option<Settlement> {
        self.0.settlement
    }
    /// `2026-07`, `2026Q3` or `2026` (grouped by MONTH, QUARTER or YEAR).
    async fn period(&self) -> Option<&str> {
        self.0.period.as_deref()
    }
    async fn service_type(&self) -> Option<&str> {
        self.0.service_type.as_deref()
    }
    async fn dwelling(&self) -> Option<&str> {
        self.0.dwelling.as_deref()
    }
    /// Rows of the counted entity (null when suppressed).
    async fn count(&self) -> Option<i64> {
        shown(&self.0, Some(self.0.count))
    }
    async fn people(&self) -> Option<i64> {
        shown(&self.0, self.0.people)
    }
    async fn households(&self) -> Option<i64> {
        shown(&self.0, self.0.households)
    }
    async fn mean_haz(&self) -> Option<f64> {
        shown(&self.0, self.0.mean_haz.map(round2))
    }
    async fn mean_whz(&self) -> Option<f64> {
        shown(&self.0, self.0.mean_whz.map(round2))
    }
    async fn mean_waz(&self) -> Option<f64> {
        shown(&self.0, self.0.mean_waz.map(round2))
    }
    /// A count from 1 to 4 for a caller who sees data de-identified: every figure of the row is
    /// withheld.
    async fn suppressed(&self) -> bool {
        self.0.suppressed
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

pub struct Aggregate(StoreAggregate);

#[Object]
impl Aggregate {
    async fn entity(&self) -> AggregateEntity {
        self.0.entity
    }
    async fn org_unit(&self) -> OrgUnit {
        OrgUnit(self.0.org_unit.clone())
    }
    /// The day people's ages are counted on.
    async fn as_of(&self) -> NaiveDate {
        self.0.as_of
    }
    async fn group_by(&self) -> Vec<AggregateDimension> {
        self.0.group_by.clone()
    }
    async fn measures(&self) -> Vec<Measure> {
        self.0.measures.clone()
    }
    /// One row per combination of the dimensions that has any rows (none when not grouped).
    async fn rows(&self) -> Vec<AggregateRow> {
        self.0.rows.iter().cloned().map(AggregateRow).collect()
    }
    /// Counted over everything (distinct people and means are not sums of the rows).
    async fn total(&self) -> AggregateRow {
        AggregateRow(self.0.total.clone())
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
    #[allow(clippy::too_many_arguments)]
    async fn aggregate(
        &self,
        ctx: &Context<'_>,
        entity: AggregateEntity,
        org_unit_id: Uuid,
        filter: Option<AggregateFilter>,
        #[graphql(default)] group_by: Vec<AggregateDimension>,
        #[graphql(desc = "Grouped by ORG_UNIT: rows at this level (AIMAG includes the capital, SOUM its \
                          districts, BAG its khoroos); default: one level below the chosen unit.")]
        org_unit_level: Option<OrgUnitLevel>,
        #[graphql(default)] measures: Vec<Measure>,
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
        };
        Ok(Aggregate(data(ctx)?.store.aggregate(q).await?))
    }
}
