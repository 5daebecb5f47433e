//! Coverage indicators: numerator ÷ denominator × factor, counted by the database with the
//! grouping pushed down (one GROUP BY query a request), in the caller's view scope.
//!
//! Every rule builds the same shape of query: the rows that make the denominator (people of an
//! age band, live births, children measured), their unit `u` (and, grouped by org unit, the
//! child `c` of the chosen unit whose subtree holds `u`), and a condition that puts a row in
//! the numerator: `COUNT(*)` and `SUM(CASE WHEN numerator THEN 1 ELSE 0 END)`.

use super::{Store, today};
use crate::access::units_under;
use crate::domain::age;
use crate::domain::period::Period;
use crate::domain::vocab::{CoverageDimension, DenominatorSource, Sex};
use crate::error::{ApiError, ApiResult};
use chrono::Datelike;
use chrono::{Days, NaiveDate};
use entity::{
    antigen, growth_measurement, immunisation, indicator, org_unit, person, pregnancy, pregnancy_child, service_record,
    service_type,
};
use sea_orm::sea_query::{
    Alias, Asterisk, CaseStatement, Expr, ExprTrait, Func, JoinType, Query, QueryStatementBuilder, SelectStatement,
    SimpleExpr,
};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// One cell of a coverage answer.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageCell {
    /// The child unit of the chosen unit (None: not grouped by unit, or rows placed at the
    /// chosen unit itself).
    pub org_unit_id: Option<Uuid>,
    pub sex: Option<Sex>,
    pub numerator: i64,
    pub denominator: i64,
    /// Too small to show this caller (see `Principal::suppresses`).
    pub suppressed: bool,
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
    pub total: CoverageCell,
}

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
    denominator: Vec<SimpleExpr>,
    numerator: SimpleExpr,
}

impl Store {
    /// The indicator catalogue.
    pub async fn indicators(&self) -> ApiResult<Vec<indicator::Model>> {
        Ok(indicator::Entity::find().order_by_asc(indicator::Column::SortOrder).all(self.db()).await?)
    }

    /// Coverage of `code` under `unit_id` in `period`, grouped by `group_by`.
    pub async fn coverage(
        &self,
        code: &str,
        unit_id: Uuid,
        period: &str,
        group_by: Vec<CoverageDimension>,
        denominator_source: DenominatorSource,
    ) -> ApiResult<Coverage> {
        if !self.principal().is_authenticated() {
            return Err(ApiError::Unauthenticated);
        }
        let indicator = indicator::Entity::find()
            .filter(indicator::Column::Code.eq(code))
            .one(self.db())
            .await?
            .ok_or_else(|| ApiError::invalid("indicator", format!("unknown indicator {code:?}")))?;
        let period = Period::parse(period, today()).ok_or_else(|| {
            ApiError::invalid(
                "period",
                "use 2026, 2026Q3, 2026-07, THIS_MONTH, THIS_QUARTER, THIS_YEAR or LAST_12_MONTHS",
            )
        })?;
        let unit = self.known_unit(unit_id, "orgUnitId").await?;
        let reference = std::cmp::Ord::min(period.to, today());
        if reference < period.from {
            return Err(ApiError::invalid("period", "has not started yet"));
        }
        let backend = self.db().get_database_backend();
        let source = self.source(&indicator, &period, reference, backend)?;
        let by_age = matches!(indicator.rule.as_str(), "PEOPLE_WITH_SERVICE" | "FULLY_IMMUNISED");
        if denominator_source == DenominatorSource::Population && !by_age {
            return Err(ApiError::invalid("denominator", format!("{} has no population denominator", indicator.code)));
        }
        if group_by.contains(&CoverageDimension::Sex) && source.sex.is_none() {
            return Err(ApiError::invalid(
                "groupBy",
                format!("{} is counted per birth: it has no SEX", indicator.code),
            ));
        }
        let stmt = self.coverage_query(source, &unit, &group_by);
        let mut rows = Vec::new();
        for r in self.db().query_all(&stmt).await? {
            let org_unit_id = if group_by.contains(&CoverageDimension::OrgUnit) {
                r.try_get::<Option<Uuid>>("", "group_unit")?
            } else {
                None
            };
            let sex = if group_by.contains(&CoverageDimension::Sex) {
                r.try_get::<Option<String>>("", "group_sex")?.map(|s| Sex::from_db(&s)).transpose()?
            } else {
                None
            };
            let denominator: i64 = r.try_get("", "denominator")?;
            let numerator: Option<i64> = r.try_get("", "numerator")?;
            rows.push(self.cell(org_unit_id, sex, numerator.unwrap_or(0), denominator));
        }
        if denominator_source == DenominatorSource::Population {
            let band = (indicator.min_age_months.unwrap_or(0), indicator.max_age_months.unwrap_or(0));
            return self.with_population(indicator, unit, period, reference, group_by, rows, band).await;
        }
        rows.sort_by_key(|c| (c.org_unit_id, c.sex.map(Sex::as_str)));
        let (n, d) = rows.iter().fold((0, 0), |(n, d), c| (n + c.numerator, d + c.denominator));
        let total = self.cell(None, None, n, d);
        Ok(Coverage {
            indicator,
            org_unit: unit,
            period,
            reference_date: reference,
            group_by,
            denominator_source,
            rows,
            total,
        })
    }

    /// The registry numerators over population estimates: a row per child unit (and sex) that
    /// has an estimate or registered people; the total over the chosen unit's estimate.
    #[allow(clippy::too_many_arguments)]
    async fn with_population(
        &self,
        indicator: indicator::Model,
        unit: org_unit::Model,
        period: Period,
        reference: NaiveDate,
        group_by: Vec<CoverageDimension>,
        registry: Vec<CoverageCell>,
        band: (i32, i32),
    ) -> ApiResult<Coverage> {
        let year = reference.year();
        let sexes: Vec<Option<Sex>> = if group_by.contains(&CoverageDimension::Sex) {
            vec![Some(Sex::Female), Some(Sex::Male)]
        } else {
            vec![None]
        };
        let mut trees = Vec::new();
        for s in &sexes {
            trees.push((*s, self.population(&unit.path, year, band, *s).await?));
        }
        let units: Vec<Option<Uuid>> = if group_by.contains(&CoverageDimension::OrgUnit) {
            self.org_unit_children(&[unit.id]).await?.into_iter().map(|c| Some(c.id)).collect()
        } else {
            vec![None]
        };
        let numerator = |u: Option<Uuid>, s: Option<Sex>| {
            registry
                .iter()
                .filter(|c| (u.is_none() || c.org_unit_id == u) && (s.is_none() || c.sex == s))
                .map(|c| c.numerator)
                .sum::<i64>()
        };
        let mut rows = Vec::new();
        for u in &units {
            for (s, tree) in &trees {
                let d = tree.of(u.unwrap_or(unit.id)).map_or(0, |v| v.round() as i64);
                let n = numerator(*u, *s);
                if d > 0 || n > 0 {
                    rows.push(self.cell(*u, *s, n, d));
                }
            }
        }
        let whole = self.population(&unit.path, year, band, None).await?;
        let total = self.cell(None, None, numerator(None, None), whole.of(unit.id).map_or(0, |v| v.round() as i64));
        Ok(Coverage {
            indicator,
            org_unit: unit,
            period,
            reference_date: reference,
            group_by,
            denominator_source: DenominatorSource::Population,
            rows,
            total,
        })
    }

    fn cell(&self, org_unit_id: Option<Uuid>, sex: Option<Sex>, numerator: i64, denominator: i64) -> CoverageCell {
        let p = self.principal();
        let suppressed = p.suppresses(denominator) || p.suppresses(numerator);
        CoverageCell { org_unit_id, sex, numerator, denominator, suppressed }
    }

    /// The GROUP BY query over a rule's rows.
    fn coverage_query(&self, s: Source, unit: &org_unit::Model, group_by: &[CoverageDimension]) -> SelectStatement {
        let mut q = s.select;
        let (u, c) = (a("u"), a("c"));
        q.join_as(
            JoinType::InnerJoin,
            org_unit::Entity,
            u.clone(),
            Expr::col((u.clone(), org_unit::Column::Id)).eq(s.unit),
        );
        // The chosen unit's subtree, as one range over the materialised path.
        let under = units_under(&unit.path);
        q.and_where(Expr::col((u.clone(), org_unit::Column::Id)).in_subquery(under));
        if let Some(scope) = self.principal().view.units_condition_at((u.clone(), org_unit::Column::Id)) {
            q.cond_where(scope);
        }
        for cond in s.denominator {
            q.and_where(cond);
        }
        if group_by.contains(&CoverageDimension::OrgUnit) {
            // The child of the chosen unit whose subtree holds the row's unit.
            let end = Expr::cust("substr(c.path, 1, length(c.path) - 1) || '0'");
            q.join_as(
                JoinType::LeftJoin,
                org_unit::Entity,
                c.clone(),
                Expr::col((c.clone(), org_unit::Column::ParentId))
                    .eq(unit.id)
                    .and(
                        Expr::col((u.clone(), org_unit::Column::Path))
                            .gte(Expr::col((c.clone(), org_unit::Column::Path))),
                    )
                    .and(Expr::col((u, org_unit::Column::Path)).lt(end)),
            );
            q.expr_as(Expr::col((c.clone(), org_unit::Column::Id)), a("group_unit"));
            q.add_group_by([Expr::col((c, org_unit::Column::Id))]);
        }
        if let (true, Some(sex)) = (group_by.contains(&CoverageDimension::Sex), s.sex) {
            q.expr_as(sex.clone(), a("group_sex"));
            q.add_group_by([sex]);
        }
        q.expr_as(Expr::col(Asterisk).count(), a("denominator"));
        let hit = CaseStatement::new().case(s.numerator, Expr::val(1)).finally(Expr::val(0));
        q.expr_as(Func::sum(hit), a("numerator"));
        q.to_owned()
    }

    /// The rows and numerator of an indicator's rule.
    fn source(
        &self,
        ind: &indicator::Model,
        period: &Period,
        reference: NaiveDate,
        backend: DbBackend,
    ) -> ApiResult<Source> {
        let services: Vec<String> =
            ind.services.as_deref().unwrap_or("").split('|').filter(|s| !s.is_empty()).map(str::to_string).collect();
        let bad = |what: &str| ApiError::Internal(anyhow::anyhow!("indicator {} lacks {what}", ind.code));
        match ind.rule.as_str() {
            "PEOPLE_WITH_SERVICE" | "FULLY_IMMUNISED" => {
                let p = a("p");
                let (min, max) =
                    (ind.min_age_months.ok_or_else(|| bad("ages"))?, ind.max_age_months.ok_or_else(|| bad("ages"))?);
                let latest = age::born_on_or_before_for_months(reference, min);
                let earliest =
                    age::born_on_or_before_for_months(reference, max + 1).succ_opt().unwrap_or(NaiveDate::MAX);
                let mut select = Query::select();
                select.from_as(person::Entity, p.clone());
                let col = |c: person::Column| Expr::col((p.clone(), c));
                let denominator = vec![
                    col(person::Column::BirthDate).between(earliest, latest),
                    col(person::Column::DateOfDeath).is_null().or(col(person::Column::DateOfDeath).gt(reference)),
                ];
                let numerator = if ind.rule == "PEOPLE_WITH_SERVICE" {
                    let from = match ind.window_days {
                        Some(days) => reference - Days::new(days as u64 - 1),
                        None => period.from,
                    };
                    // Uncorrelated, so the database hashes the served people once instead of
                    // probing per person.
                    col(person::Column::Id).in_subquery(served(&services, from, reference))
                } else {
                    let mut all = Expr::val(1).eq(1);
                    for pair in &services {
                        let (code, dose) = pair.split_once(':').ok_or_else(|| bad("antigen:dose pairs"))?;
                        let dose: i32 = dose.parse().map_err(|_| bad("a dose number"))?;
                        all = all.and(Expr::exists(dose_given(&p, code, dose, reference)));
                    }
                    all
                };
                Ok(Source {
                    select,
                    unit: col(person::Column::OrgUnitId),
                    sex: Some(col(person::Column::Sex)),
                    denominator,
                    numerator,
                })
            }
            "BIRTHS_ANC" | "BIRTHS_SKILLED" | "BIRTHS_PNC" => {
                let g = a("g");
                let col = |c: pregnancy::Column| Expr::col((g.clone(), c));
                let mut select = Query::select();
                select.from_as(pregnancy::Entity, g.clone());
                let denominator = vec![
                    col(pregnancy::Column::Outcome).eq("LIVE_BIRTH"),
                    col(pregnancy::Column::OutcomeDate).between(period.from, reference),
                ];
                let numerator = match ind.rule.as_str() {
                    "BIRTHS_ANC" => {
                        let r = a("r");
                        let contacts = Query::select()
                            .expr(Expr::col(Asterisk).count())
                            .from_as(service_record::Entity, r.clone())
                            .join(JoinType::InnerJoin, service_type::Entity, type_of(&r))
                            .and_where(
                                Expr::col((r, service_record::Column::PregnancyId))
                                    .equals((g.clone(), pregnancy::Column::Id)),
                            )
                            .and_where(
                                Expr::col((service_type::Entity, service_type::Column::Code)).is_in(services.clone()),
                            )
                            .to_owned();
                        Expr::SubQuery(None, Box::new(contacts.into_sub_query_statement()))
                            .gte(ind.min_count.ok_or_else(|| bad("min_count"))?)
                    }
                    "BIRTHS_SKILLED" => col(pregnancy::Column::Attendant).is_in(["DOCTOR", "NURSE_MIDWIFE"]),
                    _ => {
                        let window = ind.window_days.ok_or_else(|| bad("window_days"))?;
                        let r = a("r");
                        let by = Expr::cust(match backend {
                            DbBackend::Postgres => format!("g.outcome_date + {window}"),
                            _ => format!("date(g.outcome_date, '+{window} days')"),
                        });
                        // A check of `whose` (a record aliased `r`) within the window after birth;
                        // the mother's and the children's as two EXISTS, so each uses the
                        // (person, date) index.
                        let check = |whose: SimpleExpr, extra: Option<(Alias, SimpleExpr)>| {
                            let mut q = Query::select();
                            q.expr(Expr::val(1)).from_as(service_record::Entity, r.clone());
                            if let Some((alias, on)) = extra {
                                q.join_as(JoinType::InnerJoin, pregnancy_child::Entity, alias, on);
                            }
                            q.join(JoinType::InnerJoin, service_type::Entity, type_of(&r))
                                .and_where(
                                    Expr::col((service_type::Entity, service_type::Column::Code))
                                        .is_in(services.clone()),
                                )
                                .and_where(whose)
                                .and_where(
                                    Expr::col((r.clone(), service_record::Column::ServiceDate))
                                        .gte(Expr::col((g.clone(), pregnancy::Column::OutcomeDate))),
                                )
                                .and_where(Expr::col((r.clone(), service_record::Column::ServiceDate)).lte(by.clone()));
                            q.to_owned()
                        };
                        let pc = a("pc");
                        let mother = check(
                            Expr::col((r.clone(), service_record::Column::PersonId))
                                .equals((g.clone(), pregnancy::Column::MotherId)),
                            None,
                        );
                        let child = check(
                            Expr::col((pc.clone(), pregnancy_child::Column::PregnancyId))
                                .equals((g.clone(), pregnancy::Column::Id)),
                            Some((
                                pc.clone(),
                                Expr::col((pc, pregnancy_child::Column::ChildId))
                                    .equals((r.clone(), service_record::Column::PersonId)),
                            )),
                        );
                        Expr::exists(mother).or(Expr::exists(child))
                    }
                };
                Ok(Source { select, unit: col(pregnancy::Column::OrgUnitId), sex: None, denominator, numerator })
            }
            "ANTHROPOMETRY" => {
                let (m, r, p) = (a("m"), a("r"), a("p"));
                let (z, flag) = match ind.z_index.as_deref() {
                    Some("haz") => (growth_measurement::Column::Haz, growth_measurement::Column::FlagHaz),
                    Some("whz") => (growth_measurement::Column::Whz, growth_measurement::Column::FlagWhz),
                    Some("waz") => (growth_measurement::Column::Waz, growth_measurement::Column::FlagWaz),
                    _ => return Err(bad("a z-score index")),
                };
                let cut = ind.z_cut.ok_or_else(|| bad("a cut-off"))?;
                let mut select = Query::select();
                select
                    .from_as(growth_measurement::Entity, m.clone())
                    .join_as(
                        JoinType::InnerJoin,
                        service_record::Entity,
                        r.clone(),
                        Expr::col((r.clone(), service_record::Column::Id))
                            .equals((m.clone(), growth_measurement::Column::ServiceRecordId)),
                    )
                    .join_as(
                        JoinType::InnerJoin,
                        person::Entity,
                        p.clone(),
                        Expr::col((p.clone(), person::Column::Id))
                            .equals((m.clone(), growth_measurement::Column::PersonId)),
                    );
                // Only each child's latest usable measurement in the period counts.
                let (m2, r2) = (a("m2"), a("r2"));
                let later = Query::select()
                    .expr(Expr::val(1))
                    .from_as(growth_measurement::Entity, m2.clone())
                    .join_as(
                        JoinType::InnerJoin,
                        service_record::Entity,
                        r2.clone(),
                        Expr::col((r2.clone(), service_record::Column::Id))
                            .equals((m2.clone(), growth_measurement::Column::ServiceRecordId)),
                    )
                    .and_where(
                        Expr::col((m2.clone(), growth_measurement::Column::PersonId))
                            .equals((m.clone(), growth_measurement::Column::PersonId)),
                    )
                    .and_where(Expr::col((m2.clone(), z)).is_not_null())
                    .and_where(Expr::col((m2.clone(), flag)).eq(false))
                    .and_where(Expr::col((m2, growth_measurement::Column::AgeDays)).lt(1826))
                    .and_where(
                        Expr::col((r2.clone(), service_record::Column::ServiceDate)).between(period.from, reference),
                    )
                    .and_where(
                        Expr::col((r2.clone(), service_record::Column::ServiceDate))
                            .gt(Expr::col((r.clone(), service_record::Column::ServiceDate)))
                            .or(Expr::col((r2.clone(), service_record::Column::ServiceDate))
                                .equals((r.clone(), service_record::Column::ServiceDate))
                                .and(
                                    Expr::col((r2, service_record::Column::Id))
                                        .gt(Expr::col((r.clone(), service_record::Column::Id))),
                                )),
                    )
                    .to_owned();
                let denominator = vec![
                    Expr::col((r.clone(), service_record::Column::ServiceDate)).between(period.from, reference),
                    Expr::col((m.clone(), growth_measurement::Column::AgeDays)).lt(1826),
                    Expr::col((m.clone(), z)).is_not_null(),
                    Expr::col((m.clone(), flag)).eq(false),
                    Expr::exists(later).not(),
                ];
                let zcol = Expr::col((m, z));
                let numerator = if ind.z_above { zcol.gt(cut) } else { zcol.lt(cut) };
                Ok(Source {
                    select,
                    unit: Expr::col((p.clone(), person::Column::OrgUnitId)),
                    sex: Some(Expr::col((p, person::Column::Sex))),
                    denominator,
                    numerator,
                })
            }
            other => Err(ApiError::Internal(anyhow::anyhow!("unknown coverage rule {other}"))),
        }
    }
}

/// `service_type` joined to the record aliased `r`.
fn type_of(r: &Alias) -> SimpleExpr {
    Expr::col((service_type::Entity, service_type::Column::Id))
        .equals((r.clone(), service_record::Column::ServiceTypeId))
}

/// People with a record of one of the service types between two dates.
fn served(services: &[String], from: NaiveDate, to: NaiveDate) -> SelectStatement {
    let r = a("r");
    Query::select()
        .column((r.clone(), service_record::Column::PersonId))
        .from_as(service_record::Entity, r.clone())
        .join(JoinType::InnerJoin, service_type::Entity, type_of(&r))
        .and_where(Expr::col((service_type::Entity, service_type::Column::Code)).is_in(services.iter().cloned()))
        .and_where(Expr::col((r, service_record::Column::ServiceDate)).between(from, to))
        .to_owned()
}

/// A dose (or a later one) of `antigen` given to person `p` by `on`.
fn dose_given(p: &Alias, antigen_code: &str, dose: i32, on: NaiveDate) -> SelectStatement {
    let (i, g, r) = (a("i"), a("ag"), a("ir"));
    Query::select()
        .expr(Expr::val(1))
        .from_as(immunisation::Entity, i.clone())
        .join_as(
            JoinType::InnerJoin,
            antigen::Entity,
            g.clone(),
            Expr::col((g.clone(), antigen::Column::Id)).equals((i.clone(), immunisation::Column::AntigenId)),
        )
        .join_as(
            JoinType::InnerJoin,
            service_record::Entity,
            r.clone(),
            Expr::col((r.clone(), service_record::Column::Id))
                .equals((i.clone(), immunisation::Column::ServiceRecordId)),
        )
        .and_where(Expr::col((i.clone(), immunisation::Column::PersonId)).equals((p.clone(), person::Column::Id)))
        .and_where(Expr::col((g, antigen::Column::Code)).eq(antigen_code))
        .and_where(Expr::col((i, immunisation::Column::DoseNumber)).gte(dose))
        .and_where(Expr::col((r, service_record::Column::ServiceDate)).lte(on))
        .to_owned()
}
