//! Composable filters for ad-hoc questions: `and` / `or` / `not` over equals, in, range and text
//! conditions on people, households, service records and growth measurements, including "has /
//! has not received service S in window W". One compiler turns them into SQL conditions for
//! the list queries (`people(where:)`, `households(where:)`) and for `aggregate`.

use super::Store;
use crate::access::units_under;
use crate::disclosure::{self, In};
use crate::domain::age;
use crate::domain::vocab::{Disability, Dwelling, MigrantStatus, Settlement, Sex};
use crate::domain::{names, validate};
use crate::error::{ApiError, ApiResult};
use async_graphql::InputObject;
use chrono::{Days, NaiveDate};
use entity::{growth_measurement, household, org_unit, person, service_record, service_type};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, LikeExpr, Query, SelectStatement, SimpleExpr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

/// The most conditions one filter may hold, so a question cannot become a denial of service.
pub const MAX_CONDITIONS: usize = 64;
/// The deepest nesting of a filter's conditions (`and`, `or`, `not`). Nesting spends no
/// condition, and compiling recurses once a level: `not` nested ~110 deep (in a variable, which
/// JSON bounds at 128 levels) overflowed the stack of a debug build, which aborts the process.
pub const MAX_NESTING: usize = 32;
/// The most values one list of a filter may hold (an `in`, `services`). Each is a bound
/// parameter, and an age a branch of an `OR`: a few thousand ages (`ageMonths: { in: [...] }`)
/// overflowed the stack of a debug build, which aborts the process, and a thousand passed SQLite's
/// expression depth (1,000) as an INTERNAL; 70,000 sexes or unit ids passed SQLite's 32,766
/// parameters. Found by fuzzing (tests/fuzz).
pub const MAX_VALUES: usize = 100;

/// The oldest age a filter may name: 150 years. Ages become dates by arithmetic on `i32`, which
/// overflowed (a panic, the connection dropped without an answer) for `ageYears: { eq: 385625938 }`
/// or `ageMonths: { gt: 2147483647 }`. Found by fuzzing (tests/fuzz).
pub const MAX_AGE_YEARS: i32 = 150;
/// The longest `received.withinDays`: 100 years (more ran the date out of range, a panic).
pub const MAX_WITHIN_DAYS: i32 = 36_525;

/// Refuses an age condition with a value outside 0 to `MAX_AGE_YEARS` years (in `per_year` units).
fn plausible_ages(m: &IntCondition, per_year: i32, path: impl FnOnce() -> String) -> ApiResult<()> {
    let max = MAX_AGE_YEARS * per_year;
    let mut given = [m.eq, m.gt, m.gte, m.lt, m.lte].into_iter().flatten().chain(m.any_of.iter().flatten().copied());
    if given.any(|n| !(0..=max).contains(&n)) {
        return Err(ApiError::invalid(path(), format!("ages are between 0 and {max}")));
    }
    Ok(())
}

/// Refuses a list of more than `MAX_VALUES` at `path()` (made only then).
fn few_values<T>(list: Option<&[T]>, path: impl FnOnce() -> String) -> ApiResult<()> {
    match list {
        Some(l) if l.len() > MAX_VALUES => Err(ApiError::invalid(path(), format!("at most {MAX_VALUES} values"))),
        _ => Ok(()),
    }
}

/// A condition on a date; every bound given must hold.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "DateCondition")]
pub struct DateCondition {
    /// On this day.
    pub eq: Option<NaiveDate>,
    /// After this day.
    pub gt: Option<NaiveDate>,
    /// On or after this day.
    pub gte: Option<NaiveDate>,
    /// Before this day.
    pub lt: Option<NaiveDate>,
    /// On or before this day.
    pub lte: Option<NaiveDate>,
}

/// A condition on a whole number (an age); every part given must hold.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "IntCondition")]
pub struct IntCondition {
    /// Equal to this.
    pub eq: Option<i32>,
    /// Equal to one of these.
    #[graphql(name = "in")]
    pub any_of: Option<Vec<i32>>,
    /// Greater than this.
    pub gt: Option<i32>,
    /// Greater than or equal to this.
    pub gte: Option<i32>,
    /// Less than this.
    pub lt: Option<i32>,
    /// Less than or equal to this.
    pub lte: Option<i32>,
}

/// A condition on a number (a z-score); every bound given must hold.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "FloatCondition")]
pub struct FloatCondition {
    /// Greater than this.
    pub gt: Option<f64>,
    /// Greater than or equal to this.
    pub gte: Option<f64>,
    /// Less than this.
    pub lt: Option<f64>,
    /// Less than or equal to this.
    pub lte: Option<f64>,
}

/// Equals or one of some codes (service codes, vocabulary values).
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "CodeCondition")]
pub struct CodeCondition {
    /// Equal to this code.
    pub eq: Option<String>,
    /// One of these codes.
    #[graphql(name = "in")]
    pub any_of: Option<Vec<String>>,
}

/// A condition on sex.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "SexCondition")]
pub struct SexCondition {
    /// This sex.
    pub eq: Option<Sex>,
    /// One of these.
    #[graphql(name = "in")]
    pub any_of: Option<Vec<Sex>>,
}

/// Where: `under` a unit (its whole subtree) and/or `in` exactly these units.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "OrgUnitCondition")]
pub struct UnitCondition {
    /// Anywhere in this unit's subtree (an unknown unit is VALIDATION).
    pub under: Option<Uuid>,
    /// In one of exactly these units (not their subtrees).
    #[graphql(name = "in")]
    pub any_of: Option<Vec<Uuid>>,
}

/// A service received in a window: between `from` and `to` (default: any time up to `asOf`),
/// or within the last `withinDays` days up to `asOf`.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "ServiceReceived")]
pub struct ServiceReceived {
    /// Service codes (see `serviceTypes`); any one of them counts.
    pub services: Vec<String>,
    /// Given on or after this day.
    pub from: Option<NaiveDate>,
    /// Given on or before this day (default `asOf`).
    pub to: Option<NaiveDate>,
    /// Given within the last this many days up to `asOf` (at least 1); replaces `from` and `to`.
    pub within_days: Option<i32>,
}

/// Conditions on people, combined with `and`, `or` and `not`; all given must hold.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "PersonWhere")]
pub struct PersonWhere {
    /// Every one of these holds.
    pub and: Option<Vec<PersonWhere>>,
    /// At least one of these holds (an empty list is VALIDATION).
    pub or: Option<Vec<PersonWhere>>,
    /// This does not hold.
    pub not: Option<Box<PersonWhere>>,
    /// Where they live.
    pub org_unit: Option<UnitCondition>,
    /// Their sex.
    pub sex: Option<SexCondition>,
    /// Their birth date.
    pub birth_date: Option<DateCondition>,
    /// Age in completed months on `asOf`.
    pub age_months: Option<IntCondition>,
    /// Age in completed years on `asOf`.
    pub age_years: Option<IntCondition>,
    /// Part of a given or family name, Cyrillic or Latin, any case (identified callers only).
    pub name: Option<String>,
    /// True: not recorded as dead; false: recorded as dead.
    pub alive: Option<bool>,
    /// Disability codes (SEEING, HEARING, MOBILITY, …; an unknown code is VALIDATION).
    pub disability: Option<CodeCondition>,
    /// The person's household matches.
    pub household: Option<Box<HouseholdWhere>>,
    /// Has received a service in a window (`not: { received: … }` for "has not").
    pub received: Option<ServiceReceived>,
}

/// Conditions on households, combined with `and`, `or` and `not`; all given must hold.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "HouseholdWhere")]
pub struct HouseholdWhere {
    /// Every one of these holds.
    pub and: Option<Vec<HouseholdWhere>>,
    /// At least one of these holds (an empty list is VALIDATION).
    pub or: Option<Vec<HouseholdWhere>>,
    /// This does not hold.
    pub not: Option<Box<HouseholdWhere>>,
    /// Where it lives.
    pub org_unit: Option<UnitCondition>,
    /// Dwelling codes (GER, HOUSE, APARTMENT, OTHER; an unknown code is VALIDATION).
    pub dwelling: Option<CodeCondition>,
    /// A herder household (true) or not (false).
    pub is_herder: Option<bool>,
    /// Migrant status codes (RESIDENT, IN_MIGRANT, …; an unknown code is VALIDATION).
    pub migrant_status: Option<CodeCondition>,
    /// The day it was registered.
    pub registered_on: Option<DateCondition>,
    /// Its unit is URBAN or RURAL.
    pub urban_rural: Option<Settlement>,
    /// Part of the address, as written (identified callers only).
    pub address: Option<String>,
    /// At least one member matches.
    pub has_member: Option<Box<PersonWhere>>,
}

/// Conditions on service records, combined with `and`, `or` and `not`; all given must hold.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "ServiceRecordWhere")]
pub struct ServiceRecordWhere {
    /// Every one of these holds.
    pub and: Option<Vec<ServiceRecordWhere>>,
    /// At least one of these holds (an empty list is VALIDATION).
    pub or: Option<Vec<ServiceRecordWhere>>,
    /// This does not hold.
    pub not: Option<Box<ServiceRecordWhere>>,
    /// Service codes.
    pub service: Option<CodeCondition>,
    /// The day it was given.
    pub service_date: Option<DateCondition>,
    /// Where the service was given.
    pub org_unit: Option<UnitCondition>,
}

/// Conditions on growth measurements, combined with `and`, `or` and `not`; all given must hold.
#[derive(InputObject, Clone, Default, Debug)]
#[graphql(name = "GrowthMeasurementWhere")]
pub struct MeasurementWhere {
    /// Every one of these holds.
    pub and: Option<Vec<MeasurementWhere>>,
    /// At least one of these holds (an empty list is VALIDATION).
    pub or: Option<Vec<MeasurementWhere>>,
    /// This does not hold.
    pub not: Option<Box<MeasurementWhere>>,
    /// The day it was measured.
    pub measured_on: Option<DateCondition>,
    /// Age in completed months on the day (WHO's 30.4375-day month).
    pub age_months: Option<IntCondition>,
    /// The stored length/height-for-age z-score (null z-scores never match).
    pub haz: Option<FloatCondition>,
    /// The stored weight-for-length/height z-score (null z-scores never match).
    pub whz: Option<FloatCondition>,
    /// The stored weight-for-age z-score (null z-scores never match).
    pub waz: Option<FloatCondition>,
    /// Any of WHO's plausibility flags raised.
    pub flagged: Option<bool>,
}

/// Turns filters into SQL, with the units they name loaded beforehand (so compiling is plain
/// code) and a budget of conditions.
pub struct Compiler {
    pub as_of: NaiveDate,
    identified: bool,
    units: HashMap<Uuid, String>,
    budget: usize,
    next_alias: usize,
    /// How deep in `and` / `or` / `not` the compiler is.
    depth: usize,
}

fn a(name: &str) -> Alias {
    Alias::new(name)
}

/// `alias.column` for conditions over an aliased table.
fn c<C: sea_orm::Iden + 'static>(alias: &str, col: C) -> Expr {
    Expr::col((a(alias), col))
}

fn like_contains(term: &str) -> LikeExpr {
    let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// Codes sent to the database as given (service codes): one holding a character no code has (a
/// NUL, a control, an invisible character) is refused at `path` instead.
fn plain_codes<'a>(codes: impl IntoIterator<Item = &'a String>, path: &str) -> ApiResult<()> {
    match codes.into_iter().find(|c| !validate::plain(c)) {
        Some(bad) => Err(ApiError::invalid(path, format!("unknown code {bad:?}"))),
        None => Ok(()),
    }
}

/// Combines a node's own conditions with its `and`, `or` and `not`, at most `MAX_NESTING` deep.
fn node<W>(
    cx: &mut Compiler,
    own: Vec<SimpleExpr>,
    and: &Option<Vec<W>>,
    or: &Option<Vec<W>>,
    not: &Option<Box<W>>,
    path: &str,
    sub: impl FnMut(&mut Compiler, &W, &str) -> ApiResult<Condition>,
) -> ApiResult<Condition> {
    if cx.depth == MAX_NESTING {
        return Err(ApiError::invalid(path, format!("`and`, `or` and `not` nest at most {MAX_NESTING} deep")));
    }
    cx.depth += 1;
    let combined = combine(cx, own, and, or, not, path, sub);
    cx.depth -= 1;
    combined
}

fn combine<W>(
    cx: &mut Compiler,
    own: Vec<SimpleExpr>,
    and: &Option<Vec<W>>,
    or: &Option<Vec<W>>,
    not: &Option<Box<W>>,
    path: &str,
    mut sub: impl FnMut(&mut Compiler, &W, &str) -> ApiResult<Condition>,
) -> ApiResult<Condition> {
    let mut all = Condition::all();
    for e in own {
        all = all.add(e);
    }
    if let Some(list) = and {
        for (i, w) in list.iter().enumerate() {
            all = all.add(sub(cx, w, &format!("{path}.and.{i}"))?);
        }
    }
    if let Some(list) = or {
        let mut any = Condition::any();
        for (i, w) in list.iter().enumerate() {
            any = any.add(sub(cx, w, &format!("{path}.or.{i}"))?);
        }
        if list.is_empty() {
            return Err(ApiError::invalid(format!("{path}.or"), "needs at least one condition"));
        }
        all = all.add(any);
    }
    if let Some(w) = not {
        all = all.add(sub(cx, w, &format!("{path}.not"))?.not());
    }
    Ok(all)
}

impl Compiler {
    fn spend(&mut self, path: &str) -> ApiResult<()> {
        if self.budget == 0 {
            return Err(ApiError::invalid(path, format!("a filter holds at most {MAX_CONDITIONS} conditions")));
        }
        self.budget -= 1;
        Ok(())
    }

    fn alias(&mut self, base: &str) -> String {
        self.next_alias += 1;
        format!("{base}{}", self.next_alias)
    }

    fn units(&self, col: Expr, u: &UnitCondition) -> Vec<SimpleExpr> {
        let mut out = Vec::new();
        if let Some(path) = u.under.and_then(|id| self.units.get(&id)) {
            out.push(col.clone().in_subquery(units_under(path)));
        }
        if let Some(ids) = &u.any_of {
            out.push(col.is_in(ids.clone()));
        }
        out
    }

    /// The class `disclosure` declares for input field `field` of `ty`: refused to de-identified
    /// callers when identifying.
    fn class(&self, ty: &str, field: &str) -> ApiResult<In> {
        disclosure::given(!self.identified, ty, field)
    }

    /// A date condition on `ty.field`, checked against its declared class.
    fn dates_of(&self, ty: &str, field: &str, col: Expr, d: &DateCondition, path: &str) -> ApiResult<Vec<SimpleExpr>> {
        let bounds = [("gte", d.gte, true), ("lt", d.lt, true), ("lte", d.lte, false), ("gt", d.gt, false)];
        disclosure::given_days(!self.identified, ty, field, d.eq, bounds, &format!("{path}.{field}"))?;
        Ok(Self::dates(col, d))
    }

    fn dates(col: Expr, d: &DateCondition) -> Vec<SimpleExpr> {
        let mut out = Vec::new();
        if let Some(v) = d.eq {
            out.push(col.clone().eq(v));
        }
        if let Some(v) = d.gt {
            out.push(col.clone().gt(v));
        }
        if let Some(v) = d.gte {
            out.push(col.clone().gte(v));
        }
        if let Some(v) = d.lt {
            out.push(col.clone().lt(v));
        }
        if let Some(v) = d.lte {
            out.push(col.lte(v));
        }
        out
    }

    fn floats(col: Expr, f: &FloatCondition) -> Vec<SimpleExpr> {
        let mut out = Vec::new();
        for (v, op) in [(f.gt, 0), (f.gte, 1), (f.lt, 2), (f.lte, 3)] {
            if let Some(v) = v {
                out.push(match op {
                    0 => col.clone().gt(v),
                    1 => col.clone().gte(v),
                    2 => col.clone().lt(v),
                    _ => col.clone().lte(v),
                });
            }
        }
        out
    }

    /// Codes checked against a vocabulary (or any text when `known` is None).
    fn codes(
        col: Expr,
        cc: &CodeCondition,
        path: &str,
        known: Option<&dyn Fn(&str) -> bool>,
    ) -> ApiResult<Vec<SimpleExpr>> {
        few_values(cc.any_of.as_deref(), || format!("{path}.in"))?;
        let mut list: Vec<String> = cc.any_of.clone().unwrap_or_default();
        if let Some(eq) = &cc.eq {
            list.push(eq.clone());
        }
        if let Some(known) = known
            && let Some(bad) = list.iter().find(|v| !known(v))
        {
            return Err(ApiError::invalid(path, format!("unknown value {bad:?}")));
        }
        Ok(if cc.eq.is_some() || cc.any_of.is_some() { vec![col.is_in(list)] } else { vec![] })
    }

    /// An age in completed months as birth-date bounds on `as_of` (so the index on birth date serves).
    fn ages(&self, birth: Expr, m: &IntCondition, scale: i32) -> Vec<SimpleExpr> {
        let on = self.as_of;
        let at_least = |n: i32| birth.clone().lte(age::born_on_or_before_for_months(on, n * scale));
        let at_most = |n: i32| birth.clone().gt(age::born_on_or_before_for_months(on, (n + 1) * scale));
        let mut out = Vec::new();
        if let Some(n) = m.eq {
            out.push(at_least(n).and(at_most(n)));
        }
        if let Some(list) = &m.any_of {
            let mut any = Condition::any();
            for n in list {
                any = any.add(at_least(*n).and(at_most(*n)));
            }
            out.push(any.into());
        }
        if let Some(n) = m.gt {
            out.push(at_least(n + 1));
        }
        if let Some(n) = m.gte {
            out.push(at_least(n));
        }
        if let Some(n) = m.lt {
            out.push(at_most(n - 1));
        }
        if let Some(n) = m.lte {
            out.push(at_most(n));
        }
        out
    }

    /// The people (ids) who received one of `services` in the window: uncorrelated, so the
    /// database hashes them once.
    fn received(&self, r: &ServiceReceived, path: &str) -> ApiResult<SelectStatement> {
        if r.services.is_empty() {
            return Err(ApiError::invalid(format!("{path}.services"), "name at least one service code"));
        }
        few_values(Some(r.services.as_slice()), || format!("{path}.services"))?;
        plain_codes(&r.services, &format!("{path}.services"))?;
        let deidentified = !self.identified;
        for (field, v, start) in [("from", r.from, true), ("to", r.to, false)] {
            if let Some(v) = v {
                disclosure::given_day(deidentified, "ServiceReceived", field, v, start, &format!("{path}.{field}"))?;
            }
        }
        let (mut from, mut to) = (r.from, r.to.unwrap_or(self.as_of));
        if let Some(days) = r.within_days {
            if !(1..=MAX_WITHIN_DAYS).contains(&days) {
                let message = format!("must be between 1 and {MAX_WITHIN_DAYS}");
                return Err(ApiError::invalid(format!("{path}.withinDays"), message));
            }
            let start = self.as_of - Days::new(days as u64 - 1);
            // A window sliding by days would date each service by bisection.
            let whole = deidentified && self.class("ServiceReceived", "withinDays")? == In::DaysBack;
            from = Some(if whole { disclosure::month_start(start) } else { start });
            to = self.as_of;
        }
        let sr = a("rcv");
        let mut q = Query::select();
        q.column((sr.clone(), service_record::Column::PersonId))
            .from_as(service_record::Entity, sr.clone())
            .and_where(Expr::col((sr.clone(), service_record::Column::PersonId)).is_not_null())
            .and_where(Expr::col((sr.clone(), service_record::Column::ServiceTypeId)).in_subquery(types(&r.services)))
            .and_where(Expr::col((sr.clone(), service_record::Column::ServiceDate)).lte(to));
        if let Some(from) = from {
            q.and_where(Expr::col((sr, service_record::Column::ServiceDate)).gte(from));
        }
        Ok(q.to_owned())
    }

    pub fn person(&mut self, w: &PersonWhere, p: &str, path: &str) -> ApiResult<Condition> {
        let mut own = Vec::new();
        if let Some(u) = &w.org_unit {
            self.spend(path)?;
            few_values(u.any_of.as_deref(), || format!("{path}.orgUnit.in"))?;
            own.extend(self.units(c(p, person::Column::OrgUnitId), u));
        }
        if let Some(s) = &w.sex {
            self.spend(path)?;
            few_values(s.any_of.as_deref(), || format!("{path}.sex.in"))?;
            let mut list: Vec<&str> = s.any_of.iter().flatten().map(|s| s.as_str()).collect();
            list.extend(s.eq.map(Sex::as_str));
            own.push(c(p, person::Column::Sex).is_in(list));
        }
        if let Some(d) = &w.birth_date {
            self.spend(path)?;
            own.extend(self.dates_of("PersonWhere", "birthDate", c(p, person::Column::BirthDate), d, path)?);
        }
        if let Some(m) = &w.age_months {
            self.spend(path)?;
            few_values(m.any_of.as_deref(), || format!("{path}.ageMonths.in"))?;
            plausible_ages(m, 12, || format!("{path}.ageMonths"))?;
            own.extend(self.ages(c(p, person::Column::BirthDate), m, 1));
        }
        if let Some(y) = &w.age_years {
            self.spend(path)?;
            few_values(y.any_of.as_deref(), || format!("{path}.ageYears.in"))?;
            plausible_ages(y, 1, || format!("{path}.ageYears"))?;
            own.extend(self.ages(c(p, person::Column::BirthDate), y, 12));
        }
        if let Some(name) = &w.name {
            self.spend(path)?;
            self.class("PersonWhere", "name")?;
            let term = names::normalise(&validate::term(&format!("{path}.name"), name)?);
            own.push(c(p, person::Column::SearchName).like(like_contains(&term)));
        }
        if let Some(alive) = w.alive {
            self.spend(path)?;
            let dead = c(p, person::Column::DateOfDeath);
            own.push(if alive { dead.is_null() } else { dead.is_not_null() });
        }
        if let Some(d) = &w.disability {
            self.spend(path)?;
            let known = |v: &str| Disability::parse(v).is_some();
            own.extend(Self::codes(c(p, person::Column::Disability), d, &format!("{path}.disability"), Some(&known))?);
        }
        if let Some(h) = &w.household {
            self.spend(path)?;
            let alias = self.alias("h");
            let cond = self.household(h, &alias, &format!("{path}.household"))?;
            let sub = ids_where(household::Entity, &alias, household::Column::Id, cond);
            own.push(c(p, person::Column::HouseholdId).in_subquery(sub));
        }
        if let Some(r) = &w.received {
            self.spend(path)?;
            own.push(c(p, person::Column::Id).in_subquery(self.received(r, &format!("{path}.received"))?));
        }
        node(self, own, &w.and, &w.or, &w.not, path, |cx, w, path| cx.person(w, p, path))
    }

    pub fn household(&mut self, w: &HouseholdWhere, h: &str, path: &str) -> ApiResult<Condition> {
        let mut own = Vec::new();
        if let Some(u) = &w.org_unit {
            self.spend(path)?;
            few_values(u.any_of.as_deref(), || format!("{path}.orgUnit.in"))?;
            own.extend(self.units(c(h, household::Column::OrgUnitId), u));
        }
        if let Some(d) = &w.dwelling {
            self.spend(path)?;
            let known = |v: &str| Dwelling::parse(v).is_some();
            own.extend(Self::codes(c(h, household::Column::Dwelling), d, &format!("{path}.dwelling"), Some(&known))?);
        }
        if let Some(b) = w.is_herder {
            self.spend(path)?;
            own.push(c(h, household::Column::IsHerder).eq(b));
        }
        if let Some(m) = &w.migrant_status {
            self.spend(path)?;
            let known = |v: &str| MigrantStatus::parse(v).is_some();
            let at = format!("{path}.migrantStatus");
            own.extend(Self::codes(c(h, household::Column::MigrantStatus), m, &at, Some(&known))?);
        }
        if let Some(d) = &w.registered_on {
            self.spend(path)?;
            own.extend(self.dates_of(
                "HouseholdWhere",
                "registeredOn",
                c(h, household::Column::RegisteredOn),
                d,
                path,
            )?);
        }
        if let Some(s) = w.urban_rural {
            self.spend(path)?;
            let units = Query::select()
                .column(org_unit::Column::Id)
                .from(org_unit::Entity)
                .and_where(Expr::col(org_unit::Column::Settlement).eq(s.as_str()))
                .to_owned();
            own.push(c(h, household::Column::OrgUnitId).in_subquery(units));
        }
        if let Some(text) = &w.address {
            self.spend(path)?;
            self.class("HouseholdWhere", "address")?;
            let text = validate::term(&format!("{path}.address"), text)?;
            own.push(c(h, household::Column::Address).like(like_contains(&text)));
        }
        if let Some(m) = &w.has_member {
            self.spend(path)?;
            let alias = self.alias("p");
            let cond = self.person(m, &alias, &format!("{path}.hasMember"))?;
            let sub = ids_where(person::Entity, &alias, person::Column::HouseholdId, cond);
            own.push(c(h, household::Column::Id).in_subquery(sub));
        }
        node(self, own, &w.and, &w.or, &w.not, path, |cx, w, path| cx.household(w, h, path))
    }

    pub fn service_record(&mut self, w: &ServiceRecordWhere, r: &str, path: &str) -> ApiResult<Condition> {
        let mut own = Vec::new();
        if let Some(s) = &w.service {
            self.spend(path)?;
            few_values(s.any_of.as_deref(), || format!("{path}.service.in"))?;
            let mut list = s.any_of.clone().unwrap_or_default();
            list.extend(s.eq.clone());
            plain_codes(&list, &format!("{path}.service"))?;
            own.push(c(r, service_record::Column::ServiceTypeId).in_subquery(types(&list)));
        }
        if let Some(d) = &w.service_date {
            self.spend(path)?;
            own.extend(self.dates_of(
                "ServiceRecordWhere",
                "serviceDate",
                c(r, service_record::Column::ServiceDate),
                d,
                path,
            )?);
        }
        if let Some(u) = &w.org_unit {
            self.spend(path)?;
            few_values(u.any_of.as_deref(), || format!("{path}.orgUnit.in"))?;
            own.extend(self.units(c(r, service_record::Column::OrgUnitId), u));
        }
        node(self, own, &w.and, &w.or, &w.not, path, |cx, w, path| cx.service_record(w, r, path))
    }

    /// Measurement `m` with its service record `r`.
    pub fn measurement(&mut self, w: &MeasurementWhere, m: &str, r: &str, path: &str) -> ApiResult<Condition> {
        let mut own = Vec::new();
        if let Some(d) = &w.measured_on {
            self.spend(path)?;
            let col = c(r, service_record::Column::ServiceDate);
            own.extend(self.dates_of("GrowthMeasurementWhere", "measuredOn", col, d, path)?);
        }
        if let Some(ages) = &w.age_months {
            self.spend(path)?;
            few_values(ages.any_of.as_deref(), || format!("{path}.ageMonths.in"))?;
            plausible_ages(ages, 12, || format!("{path}.ageMonths"))?;
            // Completed months from days: [n months, n+1 months) on WHO's month.
            let days = |n: i32| (n as f64 * crate::domain::age_band::DAYS_PER_MONTH).ceil() as i64;
            let col = c(m, growth_measurement::Column::AgeDays);
            let within = |n: i32| col.clone().gte(days(n)).and(col.clone().lt(days(n + 1)));
            if let Some(n) = ages.eq {
                own.push(within(n));
            }
            if let Some(list) = &ages.any_of {
                let mut any = Condition::any();
                for n in list {
                    any = any.add(within(*n));
                }
                own.push(any.into());
            }
            for (v, op) in [(ages.gt, 0), (ages.gte, 1), (ages.lt, 2), (ages.lte, 3)] {
                if let Some(n) = v {
                    own.push(match op {
                        0 => col.clone().gte(days(n + 1)),
                        1 => col.clone().gte(days(n)),
                        2 => col.clone().lt(days(n)),
                        _ => col.clone().lt(days(n + 1)),
                    });
                }
            }
        }
        for (f, z, field) in [
            (&w.haz, growth_measurement::Column::Haz, "haz"),
            (&w.whz, growth_measurement::Column::Whz, "whz"),
            (&w.waz, growth_measurement::Column::Waz, "waz"),
        ] {
            if let Some(f) = f {
                self.spend(path)?;
                let bounds = [("gt", f.gt), ("gte", f.gte), ("lt", f.lt), ("lte", f.lte)];
                disclosure::given_z(
                    !self.identified,
                    "GrowthMeasurementWhere",
                    field,
                    bounds,
                    &format!("{path}.{field}"),
                )?;
                own.extend(Self::floats(c(m, z), f));
            }
        }
        if let Some(flagged) = w.flagged {
            self.spend(path)?;
            let any = c(m, growth_measurement::Column::FlagHaz)
                .eq(true)
                .or(c(m, growth_measurement::Column::FlagWhz).eq(true))
                .or(c(m, growth_measurement::Column::FlagWaz).eq(true))
                .or(c(m, growth_measurement::Column::FlagBaz).eq(true));
            own.push(if flagged { any } else { any.not() });
        }
        node(self, own, &w.and, &w.or, &w.not, path, |cx, w, path| cx.measurement(w, m, r, path))
    }
}

/// `SELECT alias.column FROM table AS alias WHERE column IS NOT NULL AND cond`: the ids a
/// condition on a related table selects, for `IN (subquery)` (never NULL, so `NOT IN` is safe).
pub fn ids_where<E, C>(table: E, alias: &str, column: C, cond: Condition) -> SelectStatement
where
    E: sea_orm::Iden + 'static,
    C: sea_orm::Iden + Copy + 'static,
{
    Query::select()
        .column((a(alias), column))
        .from_as(table, a(alias))
        .and_where(Expr::col((a(alias), column)).is_not_null())
        .cond_where(cond)
        .to_owned()
}

/// The ids of service types with one of these codes.
fn types(codes: &[String]) -> SelectStatement {
    Query::select()
        .column(service_type::Column::Id)
        .from(service_type::Entity)
        .and_where(Expr::col(service_type::Column::Code).is_in(codes.iter().cloned()))
        .to_owned()
}

/// Every unit id a filter names (to load their paths at once).
pub trait NamesUnits {
    fn unit_ids(&self, out: &mut Vec<Uuid>);
}

fn unit_ids_of(u: &Option<UnitCondition>, out: &mut Vec<Uuid>) {
    if let Some(u) = u {
        out.extend(u.under);
    }
}

impl NamesUnits for PersonWhere {
    fn unit_ids(&self, out: &mut Vec<Uuid>) {
        unit_ids_of(&self.org_unit, out);
        for w in self.and.iter().flatten().chain(self.or.iter().flatten()).chain(self.not.as_deref()) {
            w.unit_ids(out);
        }
        if let Some(h) = &self.household {
            h.unit_ids(out);
        }
    }
}

impl NamesUnits for HouseholdWhere {
    fn unit_ids(&self, out: &mut Vec<Uuid>) {
        unit_ids_of(&self.org_unit, out);
        for w in self.and.iter().flatten().chain(self.or.iter().flatten()).chain(self.not.as_deref()) {
            w.unit_ids(out);
        }
        if let Some(p) = &self.has_member {
            p.unit_ids(out);
        }
    }
}

impl NamesUnits for ServiceRecordWhere {
    fn unit_ids(&self, out: &mut Vec<Uuid>) {
        unit_ids_of(&self.org_unit, out);
        for w in self.and.iter().flatten().chain(self.or.iter().flatten()).chain(self.not.as_deref()) {
            w.unit_ids(out);
        }
    }
}

impl Store {
    /// A compiler for filters naming `ids` (checked to exist: an unknown unit is a VALIDATION
    /// error at `path`), with ages counted on `as_of`.
    pub async fn compiler(&self, ids: Vec<Uuid>, as_of: NaiveDate, path: &str) -> ApiResult<Compiler> {
        let mut units = HashMap::new();
        if !ids.is_empty() {
            for u in org_unit::Entity::find().filter(org_unit::Column::Id.is_in(ids.clone())).all(self.db()).await? {
                units.insert(u.id, u.path);
            }
            if let Some(missing) = ids.iter().find(|id| !units.contains_key(id)) {
                return Err(ApiError::invalid(format!("{path}.orgUnit.under"), format!("no org unit {missing}")));
            }
        }
        let as_of = self.reference_day(Some(as_of));
        Ok(Compiler { as_of, identified: self.identified(), units, budget: MAX_CONDITIONS, next_alias: 0, depth: 0 })
    }
}
