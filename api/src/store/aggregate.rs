//! `aggregate`: counts of people, households, service records or growth measurements under a
//! unit, filtered by composable conditions and broken down by chosen dimensions, in one GROUP BY
//! query (and one more for the total when the rows are grouped), in the caller's view scope.
//! Every row is placed by where its person (or household) lives, as coverage does.

use super::Store;
use super::dimensions::{
    Calendar, age_band_of_days, age_band_on, child_unit, days_between, distinct_record_key_sum, period_of, record_key,
};
use super::filters::{HouseholdWhere, MeasurementWhere, NamesUnits, PersonWhere, ServiceRecordWhere, ids_where};
use super::rollup::{self, Rollup};
use crate::domain::age_band;
use crate::domain::cell_key::{self, Protected};
use crate::domain::vocab::{
    AggregateDimension as Dim, AggregateEntity as Entity, Measure, OrgUnitLevel, Settlement, Sex,
};
use crate::error::{ApiError, ApiResult};
use async_graphql::InputObject;
use chrono::NaiveDate;
use entity::{growth_measurement, household, org_unit, person, service_record, service_type};
use sea_orm::sea_query::{
    Alias, Asterisk, CaseStatement, Expr, ExprTrait, Func, JoinType, Query, SelectStatement, SimpleExpr,
};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};
use uuid::Uuid;

/// The most rows one answer may hold.
pub const MAX_GROUPS: usize = 10_000;

/// Conditions on the counted rows and on what they belong to: counting service records, a
/// `person` filter applies to each record's person and a `household` filter to that person's
/// household; counting households, `person` means "has a member who…".
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "AggregateFilter")]
pub struct AggregateFilter {
    /// Conditions on the counted people, or on the person of each counted record or
    /// measurement; counting households, "has a member who…".
    pub person: Option<PersonWhere>,
    /// Conditions on the counted households, or on the household of each counted person,
    /// record or measurement.
    pub household: Option<HouseholdWhere>,
    /// Conditions on the counted service records or measurements' records; counting people, "has
    /// a record that…". Not for HOUSEHOLDS (VALIDATION: use `person.received`).
    pub service_record: Option<ServiceRecordWhere>,
    /// Conditions on the counted growth measurements (GROWTH_MEASUREMENTS only, else VALIDATION).
    pub growth_measurement: Option<MeasurementWhere>,
}

impl AggregateFilter {
    /// Whether it sets no condition (a roll-up can answer only such questions).
    pub fn is_empty(&self) -> bool {
        let Self { person, household, service_record, growth_measurement } = self;
        person.is_none() && household.is_none() && service_record.is_none() && growth_measurement.is_none()
    }
}

/// One row of an aggregate; a dimension not grouped by, or a measure not asked for, is None.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AggregateCell {
    pub org_unit_id: Option<Uuid>,
    pub sex: Option<Sex>,
    pub age_band: Option<&'static str>,
    pub settlement: Option<Settlement>,
    pub period: Option<String>,
    pub service_type: Option<String>,
    pub dwelling: Option<String>,
    pub count: i64,
    pub people: Option<i64>,
    pub households: Option<i64>,
    pub mean_haz: Option<f64>,
    pub mean_whz: Option<f64>,
    pub mean_waz: Option<f64>,
    /// Counts from 0 to 4 withheld from this caller; a de-identified caller's counts are
    /// perturbed (`domain::cell_key`).
    pub suppressed: bool,
}

pub struct Aggregate {
    pub entity: Entity,
    pub org_unit: org_unit::Model,
    pub as_of: NaiveDate,
    pub group_by: Vec<Dim>,
    pub measures: Vec<Measure>,
    pub rows: Vec<AggregateCell>,
    /// The total, when it was asked for (`AggregateQuestion::total`).
    pub total: Option<AggregateCell>,
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// What one statement of an aggregate counts, and where: the rows, or a roll-up's day.
#[derive(Clone, Copy)]
struct Counted<'a> {
    entity: Entity,
    unit: &'a org_unit::Model,
    filter: &'a AggregateFilter,
    measures: &'a [Measure],
    as_of: NaiveDate,
    /// The roll-up counted instead of the records (`rollup`), its rows on `as_of`.
    rollup: Option<Rollup>,
}

/// A checked aggregate question.
pub struct AggregateQuestion {
    pub entity: Entity,
    pub org_unit_id: Uuid,
    pub filter: AggregateFilter,
    pub group_by: Vec<Dim>,
    /// Grouped by ORG_UNIT: the level of the rows (default: one below the chosen unit).
    pub level: Option<OrgUnitLevel>,
    pub measures: Vec<Measure>,
    pub as_of: Option<NaiveDate>,
    /// Whether the total is wanted: grouped, it takes a statement of its own, so it is counted
    /// only when the caller selects it.
    pub total: bool,
}

impl Store {
    pub async fn aggregate(&self, q: AggregateQuestion) -> ApiResult<Aggregate> {
        if !self.principal().is_authenticated() {
            return Err(ApiError::Unauthenticated);
        }
        let unit = self.known_unit(q.org_unit_id, "orgUnitId").await?;
        let as_of = self.reference_day(q.as_of);
        let mut group_by = Vec::new();
        for d in q.group_by {
            if !group_by.contains(&d) {
                group_by.push(d);
            }
        }
        let mut measures = Vec::new();
        for m in if q.measures.is_empty() { vec![Measure::Count] } else { q.measures } {
            if !measures.contains(&m) {
                measures.push(m);
            }
        }
        check(q.entity, &group_by, &measures, &q.filter)?;
        if group_by.is_empty() && !q.total {
            // Neither rows nor a total asked for: nothing to count.
            let rows = Vec::new();
            return Ok(Aggregate { entity: q.entity, org_unit: unit, as_of, group_by, measures, rows, total: None });
        }
        let backend = self.db().get_database_backend();
        let (entity, filter) = (q.entity, &q.filter);
        let rollup = self.rollup_for(entity, &group_by, &measures, !filter.is_empty(), as_of).await?.map(|r| r.rollup);
        let question = Counted { entity, unit: &unit, filter, measures: &measures, as_of, rollup };
        let stmt = self.aggregate_query(&question, q.level, &group_by, backend).await?;
        // Distinct counts and means do not add up across rows: a grouped total is counted as such.
        let total_stmt = if q.total && !group_by.is_empty() {
            Some(self.aggregate_query(&question, None, &[], backend).await?)
        } else {
            None
        };
        let session = self.analytical().await?;
        let rows = self.aggregate_cells(&session.query(&stmt).await?, entity, &group_by, &measures)?;
        if rows.len() > MAX_GROUPS {
            return Err(ApiError::invalid(
                "groupBy",
                format!("more than {MAX_GROUPS} rows: group by fewer dimensions"),
            ));
        }
        let total = match &total_stmt {
            Some(stmt) => {
                let all = self.aggregate_cells(&session.query(stmt).await?, entity, &[], &measures)?;
                Some(all.into_iter().next().unwrap_or_default())
            }
            // Ungrouped (the early return above leaves only a wanted total here): the one row.
            None => q.total.then(|| rows.first().cloned().unwrap_or_default()),
        };
        session.finish().await?;
        let mut rows = if group_by.is_empty() { Vec::new() } else { rows };
        if !self.identified() {
            // A row of 1 to 4 records is left out, as a row of none is: listed as suppressed, it
            // told that someone is there (with a filter on disability, who), and the number of
            // such rows counted them.
            rows.retain(|c| !(c.suppressed && c.count < cell_key::SMALL));
        }
        Ok(Aggregate { entity: q.entity, org_unit: unit, as_of, group_by, measures, rows, total })
    }

    /// The cells of an aggregate's rows, in the order they are shown.
    fn aggregate_cells(
        &self,
        found: &[sea_orm::QueryResult],
        entity: Entity,
        group_by: &[Dim],
        measures: &[Measure],
    ) -> ApiResult<Vec<AggregateCell>> {
        let mut rows: Vec<AggregateCell> =
            found.iter().map(|r| self.aggregate_cell(r, entity, group_by, measures)).collect::<ApiResult<_>>()?;
        rows.sort_by(|x, y| {
            let band = |c: &AggregateCell| c.age_band.and_then(|l| age_band::BANDS.iter().position(|b| b.label == l));
            (
                &x.period,
                x.org_unit_id,
                x.sex.map(Sex::as_str),
                band(x),
                x.settlement.map(Settlement::as_str),
                &x.service_type,
                &x.dwelling,
            )
                .cmp(&(
                    &y.period,
                    y.org_unit_id,
                    y.sex.map(Sex::as_str),
                    band(y),
                    y.settlement.map(Settlement::as_str),
                    &y.service_type,
                    &y.dwelling,
                ))
        });
        Ok(rows)
    }

    fn aggregate_cell(
        &self,
        r: &QueryResult,
        entity: Entity,
        group_by: &[Dim],
        measures: &[Measure],
    ) -> ApiResult<AggregateCell> {
        let by = |d| group_by.contains(&d);
        let text = |name: &str| r.try_get::<Option<String>>("", name);
        let mut c = AggregateCell::default();
        if by(Dim::OrgUnit) {
            c.org_unit_id = r.try_get("", "group_unit")?;
        }
        if by(Dim::Sex) {
            c.sex = text("group_sex")?.map(|s| Sex::from_db(&s)).transpose()?;
        }
        if by(Dim::AgeBand) {
            c.age_band = text("group_age_band")?.and_then(|l| age_band::by_label(&l)).map(|b| b.label);
        }
        if by(Dim::UrbanRural) {
            c.settlement = text("group_settlement")?.map(|s| Settlement::from_db(&s)).transpose()?;
        }
        if by(Dim::Month) || by(Dim::Quarter) || by(Dim::Year) {
            c.period = text("group_period")?;
        }
        if by(Dim::ServiceType) {
            c.service_type = text("group_service")?;
        }
        if by(Dim::Dwelling) {
            c.dwelling = text("group_dwelling")?;
        }
        c.count = r.try_get("", "m_count")?;
        let p = self.principal();
        for m in measures {
            match m {
                Measure::Count => {}
                Measure::People => c.people = Some(r.try_get("", "m_people")?),
                Measure::Households => c.households = Some(r.try_get("", "m_households")?),
                Measure::MeanHaz => c.mean_haz = r.try_get("", "m_mean_haz")?,
                Measure::MeanWhz => c.mean_whz = r.try_get("", "m_mean_whz")?,
                Measure::MeanWaz => c.mean_waz = r.try_get("", "m_mean_waz")?,
            }
        }
        if p.deidentified {
            // Every count of the cell perturbed with the key of what it counts (`domain::cell_key`).
            let key = |name: &str| -> ApiResult<i64> { Ok(r.try_get::<Option<i64>>("", name)?.unwrap_or(0)) };
            let rows_key = key("m_key")?;
            let (people_key, households_key) = match entity {
                Entity::People => (rows_key, key("m_households_key").unwrap_or(0)),
                Entity::Households => (key("m_people_key").unwrap_or(0), rows_key),
                _ => (key("m_people_key").unwrap_or(0), key("m_households_key").unwrap_or(0)),
            };
            let mut protect = |n: &mut i64, key: i64| match cell_key::protect(*n, key) {
                Protected::Shown(shown) => *n = shown,
                Protected::Suppressed => c.suppressed = true,
            };
            protect(&mut c.count, rows_key);
            if let Some(n) = c.people.as_mut() {
                protect(n, people_key);
            }
            if let Some(n) = c.households.as_mut() {
                protect(n, households_key);
            }
        }
        Ok(c)
    }

    /// The statement counting `c` grouped by `group_by`: over the rows, or over the roll-up of
    /// `c.rollup`'s day (the same counts, `rollup`).
    async fn aggregate_query(
        &self,
        c: &Counted<'_>,
        level: Option<OrgUnitLevel>,
        group_by: &[Dim],
        backend: DbBackend,
    ) -> ApiResult<SelectStatement> {
        let Counted { entity, unit, filter, measures, as_of, rollup } = *c;
        let mut ids = Vec::new();
        if let Some(w) = &filter.person {
            w.unit_ids(&mut ids);
        }
        if let Some(w) = &filter.household {
            w.unit_ids(&mut ids);
        }
        if let Some(w) = &filter.service_record {
            w.unit_ids(&mut ids);
        }
        let mut cx = self.compiler(ids, as_of, "filter").await?;
        let (p, h, r, m) = (a("p"), a("h"), a("r"), a("m"));
        // A roll-up's rows stand in for the records they count, under the records' alias and
        // with the person's columns beside the record's.
        let rolled = rollup.map(|r| match r {
            Rollup::People => "p",
            Rollup::Services => "r",
        });
        let person_at = a(rolled.unwrap_or("p"));
        let mut q = Query::select();
        // FROM, the row's unit, and where the person and household columns are.
        let row_unit = match entity {
            Entity::People => {
                // The roll-up's rows carry the person columns counted, under the same names.
                match rollup {
                    Some(kept) => q.from_subquery(kept.rows(backend, as_of), p.clone()),
                    None => q.from_as(person::Entity, p.clone()),
                };
                Expr::col((p.clone(), person::Column::OrgUnitId))
            }
            Entity::Households => {
                q.from_as(household::Entity, h.clone());
                Expr::col((h.clone(), household::Column::OrgUnitId))
            }
            Entity::ServiceRecords | Entity::GrowthMeasurements => match rollup {
                Some(kept) => {
                    q.from_subquery(kept.rows(backend, as_of), r.clone());
                    Expr::col((r.clone(), a("org_unit_id")))
                }
                None => {
                    if entity == Entity::GrowthMeasurements {
                        q.from_as(growth_measurement::Entity, m.clone()).join_as(
                            JoinType::InnerJoin,
                            service_record::Entity,
                            r.clone(),
                            Expr::col((r.clone(), service_record::Column::Id))
                                .equals((m.clone(), growth_measurement::Column::ServiceRecordId)),
                        );
                    } else {
                        q.from_as(service_record::Entity, r.clone());
                    }
                    q.join_as(
                        JoinType::InnerJoin,
                        person::Entity,
                        p.clone(),
                        Expr::col((p.clone(), person::Column::Id))
                            .equals((r.clone(), service_record::Column::PersonId)),
                    );
                    Expr::col((p.clone(), person::Column::OrgUnitId))
                }
            },
        };
        let u = self.place(&mut q, row_unit, unit);
        // Filters.
        if let Some(w) = &filter.person {
            let cond = if entity == Entity::Households {
                let inner = cx.person(w, "fp", "filter.person")?;
                let members = ids_where(person::Entity, "fp", person::Column::HouseholdId, inner);
                Expr::col((h.clone(), household::Column::Id)).in_subquery(members).into()
            } else {
                cx.person(w, "p", "filter.person")?
            };
            q.cond_where(cond);
        }
        if let Some(w) = &filter.household {
            let cond = if entity == Entity::Households {
                cx.household(w, "h", "filter.household")?
            } else {
                let inner = cx.household(w, "fh", "filter.household")?;
                let homes = ids_where(household::Entity, "fh", household::Column::Id, inner);
                Expr::col((p.clone(), person::Column::HouseholdId)).in_subquery(homes).into()
            };
            q.cond_where(cond);
        }
        if let Some(w) = &filter.service_record {
            let cond = if entity == Entity::People {
                let inner = cx.service_record(w, "fr", "filter.serviceRecord")?;
                let served = ids_where(service_record::Entity, "fr", service_record::Column::PersonId, inner);
                Expr::col((p.clone(), person::Column::Id)).in_subquery(served).into()
            } else {
                cx.service_record(w, "r", "filter.serviceRecord")?
            };
            q.cond_where(cond);
        }
        if let Some(w) = &filter.growth_measurement {
            q.cond_where(cx.measurement(w, "m", "r", "filter.growthMeasurement")?);
        }
        // Dimensions.
        let group = |q: &mut SelectStatement, e: SimpleExpr, name: &str| {
            // By the output name: PostgreSQL does not see two CASEs with their own parameters
            // as the same expression.
            q.expr_as(e, a(name));
            q.add_group_by([Expr::col(a(name))]);
        };
        for d in group_by {
            match d {
                Dim::OrgUnit => {
                    let child = child_unit(&mut q, &u, unit, level);
                    group(&mut q, child, "group_unit");
                }
                Dim::Sex => group(&mut q, Expr::col((person_at.clone(), person::Column::Sex)), "group_sex"),
                Dim::AgeBand => {
                    let band = match entity {
                        _ if rollup.is_some() => Expr::col((person_at.clone(), a("age_band"))),
                        Entity::People => age_band_on("p.birth_date", as_of),
                        Entity::ServiceRecords => {
                            age_band_of_days(days_between(backend, "r.service_date", "p.birth_date"))
                        }
                        _ => age_band_of_days(Expr::cust("m.age_days")),
                    };
                    group(&mut q, band, "group_age_band");
                }
                Dim::UrbanRural => {
                    group(&mut q, Expr::col((u.clone(), org_unit::Column::Settlement)), "group_settlement")
                }
                Dim::Month | Dim::Quarter | Dim::Year => {
                    let cal = match d {
                        Dim::Month => Calendar::Month,
                        Dim::Quarter => Calendar::Quarter,
                        _ => Calendar::Year,
                    };
                    let date = match entity {
                        _ if rollup == Some(Rollup::Services) => "r.service_month",
                        Entity::People => "p.birth_date",
                        Entity::Households => "h.registered_on",
                        _ => "r.service_date",
                    };
                    group(&mut q, period_of(backend, date, cal), "group_period");
                }
                Dim::ServiceType => {
                    let st = a("st");
                    q.join_as(
                        JoinType::InnerJoin,
                        service_type::Entity,
                        st.clone(),
                        Expr::col((st.clone(), service_type::Column::Id))
                            .equals((r.clone(), service_record::Column::ServiceTypeId)),
                    );
                    group(&mut q, Expr::col((st, service_type::Column::Code)), "group_service");
                }
                Dim::Dwelling => group(&mut q, Expr::col((h.clone(), household::Column::Dwelling)), "group_dwelling"),
            }
        }
        // Measures; the row count always, and for de-identified callers the cell key.
        let rows = || match rolled {
            Some(at) => rollup::sum_of(at, "n"),
            None => Expr::col(Asterisk).count(),
        };
        q.expr_as(rows(), a("m_count"));
        if let Some(at) = rolled.filter(|_| !group_by.is_empty()) {
            // A cell whose records all left since the build is no row, as with the records.
            q.and_having(Expr::cust(format!("SUM({at}.n) > 0")));
        }
        if !self.identified() {
            let id = match entity {
                Entity::People => "p.id",
                Entity::Households => "h.id",
                Entity::ServiceRecords | Entity::GrowthMeasurements => "r.id",
            };
            let key = match rolled {
                Some(at) => rollup::sum_of(at, "key_sum"),
                None => Func::sum(record_key(backend, id)).into(),
            };
            q.expr_as(key, a("m_key"));
            // A distinct count is perturbed with the key of the records it counts, not of the
            // rows they were reached through: one set of households reached through different
            // people must answer the same, or averaging the answers undoes the noise.
            for (measure, counted, name) in
                [(Measure::People, Entity::People, "p.id"), (Measure::Households, Entity::Households, "p.household_id")]
            {
                if measures.contains(&measure) && entity != counted {
                    let key = if measure == Measure::People { "m_people_key" } else { "m_households_key" };
                    q.expr_as(distinct_record_key_sum(backend, name), a(key));
                }
            }
        }
        for mv in measures {
            match mv {
                Measure::Count => {}
                Measure::People => {
                    let e = if entity == Entity::People {
                        rows()
                    } else {
                        Expr::col((p.clone(), person::Column::Id)).count_distinct()
                    };
                    q.expr_as(e, a("m_people"));
                }
                Measure::Households => {
                    let e = if entity == Entity::Households {
                        Expr::col(Asterisk).count()
                    } else {
                        Expr::col((p.clone(), person::Column::HouseholdId)).count_distinct()
                    };
                    q.expr_as(e, a("m_households"));
                }
                Measure::MeanHaz | Measure::MeanWhz | Measure::MeanWaz => {
                    let (z, flag, name) = match mv {
                        Measure::MeanHaz => {
                            (growth_measurement::Column::Haz, growth_measurement::Column::FlagHaz, "m_mean_haz")
                        }
                        Measure::MeanWhz => {
                            (growth_measurement::Column::Whz, growth_measurement::Column::FlagWhz, "m_mean_whz")
                        }
                        _ => (growth_measurement::Column::Waz, growth_measurement::Column::FlagWaz, "m_mean_waz"),
                    };
                    // WHO-flagged values are implausible: left out of means, as WHO's software does.
                    let usable = CaseStatement::new()
                        .case(Expr::col((m.clone(), flag)).eq(false), Expr::col((m.clone(), z)))
                        .finally(Expr::cust("NULL"));
                    q.expr_as(Func::avg(usable), a(name));
                }
            }
        }
        Ok(q.to_owned())
    }
}

/// Which dimensions, measures and filters make sense for which entity.
fn check(entity: Entity, group_by: &[Dim], measures: &[Measure], filter: &AggregateFilter) -> ApiResult<()> {
    let refuse = |path: &str, what: String| Err(ApiError::invalid(path, what));
    let name = entity.as_str();
    for d in group_by {
        let ok = match d {
            Dim::Sex | Dim::AgeBand => entity != Entity::Households,
            Dim::ServiceType => entity == Entity::ServiceRecords,
            Dim::Dwelling => entity == Entity::Households,
            _ => true,
        };
        if !ok {
            return refuse("groupBy", format!("{name} cannot be grouped by {}", d.as_str()));
        }
    }
    for m in measures {
        let ok = match m {
            Measure::Count => true,
            Measure::People => entity != Entity::Households,
            Measure::Households => true,
            _ => entity == Entity::GrowthMeasurements,
        };
        if !ok {
            return refuse("measures", format!("{} is not a measure of {name}", m.as_str()));
        }
    }
    if filter.growth_measurement.is_some() && entity != Entity::GrowthMeasurements {
        return refuse("filter.growthMeasurement", format!("applies to GROWTH_MEASUREMENTS, not {name}"));
    }
    if filter.service_record.is_some() && entity == Entity::Households {
        return refuse("filter.serviceRecord", "households: filter their members with person.received".into());
    }
    Ok(())
}
