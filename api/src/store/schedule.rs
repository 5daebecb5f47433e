//! Schedules as the store reads them (antigen doses, schedule rules) and what is due: for one person from rows already loaded, and the due list of an org unit's subtree in the caller's view scope.

use super::Store;
use super::page::{self, Page, SortedPageRequest};
use super::pregnancies::open_pregnancy_mothers;
use crate::access::units_under;
use crate::domain::pregnancy::{self as pregnancy_rules, FollowUp};
use crate::domain::schedule::{
    self, DoseRule, Facts, GivenDose, GivenService, History, IMMUNISATION_SERVICE, Item, Rule,
};
use crate::domain::vocab::{DetailKind, DueKind, PregnancyOutcome, ScheduleAnchor, SchedulePattern, ScheduleUnit};
use crate::error::{ApiError, ApiResult};
use chrono::{Days, NaiveDate};
use entity::{
    antigen, antigen_dose, immunisation, person, pregnancy, referral, schedule_rule, service_record, service_type,
};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use std::collections::HashMap;
use uuid::Uuid;

/// People evaluated per batch for a due list.
const DUE_BATCH: usize = 500;
/// The most candidates one due list evaluates; a larger subtree is refused (choose a smaller
/// unit). Measured on the demo data (20,000 people, about 10 records each; release build on a
/// busy 2-core machine): 5,118 candidates in 0.8 s on PostgreSQL and 1.0-1.5 s on SQLite, about
/// 0.15 and 0.3 ms a candidate, nearly all of it fetching rows (the Rust evaluation is under
/// 0.1 s). 20,000 candidates, some 3-6 s, is a large soum or a khoroo, not a district or aimag.
pub const MAX_DUE_CANDIDATES: u64 = 20_000;

/// What the schedules read of a service record.
#[derive(Clone, Copy, Debug)]
pub struct RecordFact {
    pub id: Uuid,
    pub service_type_id: Uuid,
    pub date: NaiveDate,
}

impl RecordFact {
    pub fn of(r: &service_record::Model) -> Self {
        Self { id: r.id, service_type_id: r.service_type_id, date: r.service_date }
    }
}

/// The schedules and the codes needed to read records against them, read once per request.
#[derive(Clone)]
pub struct ScheduleReference {
    pub doses: Vec<DoseRule>,
    pub rules: Vec<Rule>,
    /// The `schedule_rule` rows, for clients.
    pub rule_rows: Vec<schedule_rule::Model>,
    service_codes: HashMap<Uuid, String>,
    /// Service types whose records carry an immunisation (child doses, Td in pregnancy).
    immunisation_types: Vec<Uuid>,
    antigen_codes: HashMap<Uuid, String>,
    /// When a pregnancy is open (from every rule, whichever kinds a list asks for).
    pub follow_up: FollowUp,
}

impl Store {
    pub async fn schedule_reference(&self) -> ApiResult<ScheduleReference> {
        let antigens = antigen::Entity::find().all(self.db()).await?;
        let antigen_codes: HashMap<Uuid, String> = antigens.iter().map(|a| (a.id, a.code.clone())).collect();
        let mut dose_rows = antigen_dose::Entity::find()
            .order_by_asc(antigen_dose::Column::AntigenId)
            .order_by_asc(antigen_dose::Column::DoseNumber)
            .all(self.db())
            .await?;
        // Schedule order: by the age of each antigen's first dose, then code (antigens out of
        // the schedule last: they are evaluated, never listed).
        let first_age = |id: Uuid| {
            dose_rows.iter().filter(|d| d.antigen_id == id).map(|d| d.recommended_age_days).min().unwrap_or(i32::MAX)
        };
        let mut order: Vec<(bool, i32, String, Uuid)> =
            antigens.iter().map(|a| (!a.in_schedule, first_age(a.id), a.code.clone(), a.id)).collect();
        order.sort();
        dose_rows.sort_by_key(|d| (order.iter().position(|o| o.3 == d.antigen_id), d.dose_number));
        let by_id: HashMap<Uuid, &antigen::Model> = antigens.iter().map(|a| (a.id, a)).collect();
        let doses =
            dose_rows.iter().filter_map(|d| Some(super::doses::dose_rule(by_id.get(&d.antigen_id)?, d))).collect();
        let rule_rows = schedule_rule::Entity::find()
            .filter(schedule_rule::Column::Active.eq(true))
            .order_by_asc(schedule_rule::Column::SortOrder)
            .all(self.db())
            .await?;
        let rules = rule_rows.iter().map(rule).collect::<ApiResult<Vec<_>>>()?;
        let service_types = service_type::Entity::find().all(self.db()).await?;
        let immunisation_types =
            service_types.iter().filter(|s| s.detail_kind == DetailKind::Immunisation.as_str()).map(|s| s.id).collect();
        let service_codes = service_types.into_iter().map(|s| (s.id, s.code)).collect();
        let follow_up = FollowUp::from_rules(&rules);
        Ok(ScheduleReference { doses, rules, rule_rows, service_codes, immunisation_types, antigen_codes, follow_up })
    }
}

pub(super) fn rule(m: &schedule_rule::Model) -> ApiResult<Rule> {
    Ok(Rule {
        code: m.code.clone(),
        service_type: m.service_type_code.clone(),
        kind: DueKind::from_db(&m.kind)?,
        pattern: SchedulePattern::from_db(&m.pattern)?,
        anchor: ScheduleAnchor::from_db(&m.anchor)?,
        unit: ScheduleUnit::from_db(&m.unit)?,
        start: m.start_age,
        due: m.due_age,
        end: m.end_age,
        interval: m.interval,
        grace_days: m.grace_days,
        sort_order: m.sort_order,
    })
}

impl ScheduleReference {
    /// Only the schedules of these kinds (all when None).
    pub fn only(&self, kinds: Option<&[DueKind]>) -> ScheduleReference {
        let Some(kinds) = kinds else {
            return self.clone();
        };
        let mut r = self.clone();
        if !kinds.contains(&DueKind::Immunisation) {
            r.doses.clear();
        }
        r.rules.retain(|rule| kinds.contains(&rule.kind));
        r
    }

    /// What is scheduled for `person` on `on`, from their pregnancies (for a woman), service
    /// records and immunisations.
    pub fn evaluate(
        &self,
        person: &person::Model,
        pregnancies: &[pregnancy::Model],
        records: &[RecordFact],
        immunisations: &[immunisation::Model],
        on: NaiveDate,
    ) -> Vec<Item> {
        let facts = facts(person, pregnancies, on, self.follow_up);
        let history = self.history(records, immunisations);
        schedule::evaluate(&self.doses, &self.rules, &facts, &history, on)
    }

    fn history(&self, records: &[RecordFact], immunisations: &[immunisation::Model]) -> History {
        let dates: HashMap<Uuid, (NaiveDate, Uuid)> =
            records.iter().map(|r| (r.id, (r.date, r.service_type_id))).collect();
        History {
            doses: immunisations
                .iter()
                .filter_map(|i| {
                    let (date, service_type) = dates.get(&i.service_record_id)?;
                    Some(GivenDose {
                        antigen: self.antigen_codes.get(&i.antigen_id)?.clone(),
                        date: *date,
                        evaluated: self.service_codes.get(service_type).is_some_and(|c| c == IMMUNISATION_SERVICE),
                    })
                })
                .collect(),
            services: records
                .iter()
                .filter_map(|r| {
                    Some(GivenService {
                        service_type: self.service_codes.get(&r.service_type_id)?.clone(),
                        date: r.date,
                    })
                })
                .collect(),
        }
    }

    /// Ids of the service types whose records the schedules read: those carrying immunisations
    /// (their dates date the doses) and those of the rules.
    fn service_type_ids(&self) -> Vec<Uuid> {
        let mut ids = self.immunisation_types.clone();
        ids.extend(
            self.service_codes
                .iter()
                .filter(|(_, code)| self.rules.iter().any(|r| &r.service_type == *code))
                .map(|(id, _)| *id),
        );
        ids
    }

    /// The oldest age (days, generously rounded) at which anything counted from birth is still
    /// scheduled; None when nothing is.
    fn oldest_child_age_days(&self) -> Option<i64> {
        let doses = self
            .doses
            .iter()
            .filter(|d| d.in_schedule)
            .map(|d| i64::from(d.max_age_days.unwrap_or(d.recommended_age_days)));
        let rules = self.rules.iter().filter(|r| r.anchor == ScheduleAnchor::Birth).map(|r| span_days(r.unit, r.end));
        doses.chain(rules).max()
    }

    /// The longest span (days) of the rules counted from a delivery.
    fn postnatal_days(&self) -> Option<i64> {
        self.rules.iter().filter(|r| r.anchor == ScheduleAnchor::Delivery).map(|r| span_days(r.unit, r.end)).max()
    }

    fn has_pregnancy_rules(&self) -> bool {
        self.rules.iter().any(|r| r.anchor == ScheduleAnchor::Lmp)
    }
}

/// An upper bound in days of `end` completed units (31-day months).
fn span_days(unit: ScheduleUnit, end: i32) -> i64 {
    let units = i64::from(end) + 1;
    match unit {
        ScheduleUnit::Day => units,
        ScheduleUnit::Week => units * 7,
        ScheduleUnit::Month => units * 31,
    }
}

/// The schedules' facts about a person on `on`: the pregnancy open then (`domain::pregnancy`) and
/// the latest delivery.
fn facts(person: &person::Model, pregnancies: &[pregnancy::Model], on: NaiveDate, follow_up: FollowUp) -> Facts {
    let birth = [PregnancyOutcome::LiveBirth.as_str(), PregnancyOutcome::Stillbirth.as_str()];
    Facts {
        birth_date: person.birth_date,
        date_of_death: person.date_of_death,
        open_pregnancy_lmp: pregnancies
            .iter()
            .filter(|p| pregnancy_rules::is_open(p.expected_delivery_date, p.outcome_date, on, follow_up))
            .map(|p| pregnancy_rules::lmp(p.expected_delivery_date))
            .max(),
        last_delivery: pregnancies
            .iter()
            .filter(|p| p.outcome.as_deref().is_some_and(|o| birth.contains(&o)))
            .filter_map(|p| p.outcome_date)
            .filter(|d| *d <= on)
            .max(),
    }
}

/// What a due list asks for.
pub struct DueListFilter {
    pub org_unit_id: Uuid,
    pub as_of: NaiveDate,
    /// Also what falls due in the next days (the length of the round).
    pub within_days: u32,
    pub kinds: Option<Vec<DueKind>>,
}

/// A person on a due list with what they are due or overdue for.
pub struct DueEntry {
    pub person: person::Model,
    pub items: Vec<Item>,
    /// Their open referrals sent from or received by the list's unit, due or overdue.
    pub referrals: Vec<referral::Model>,
    /// The earliest date one of the items became (or becomes) overdue: the list's order.
    pub urgent_from: NaiveDate,
}

impl DueEntry {
    fn key(&self) -> (String, Uuid) {
        (self.urgent_from.to_string(), self.person.id)
    }

    pub fn cursor(&self, keys: &crate::auth::Keys) -> String {
        let (key, id) = self.key();
        page::encode_sorted_cursor(keys, &key, id)
    }
}

impl Store {
    /// The defaulter-tracing list: people living in the unit's subtree (and in the caller's view
    /// scope) with something due or overdue on `as_of`, most overdue first.
    ///
    /// Candidates come from SQL: people born within the schedules' oldest age, women with a
    /// pregnancy open on the day or a delivery within the postnatal period (one query for their
    /// ids). Their schedules are evaluated in Rust in batches of 500 people (four scoped queries
    /// a batch: the people, their service records, immunisations, pregnancies). The cost is
    /// linear in the candidates, on every request, whatever page is asked for: a third or more of
    /// a unit's people are candidates when the immunisation boosters to 18 years are included
    /// (under-5s and mothers only, with `kinds` leaving IMMUNISATION out); more than
    /// `MAX_DUE_CANDIDATES` is refused. District-, aimag- or national-scale lists would need the
    /// due items kept in a table updated on every write (or nightly), not evaluated per request.
    pub async fn due_list(
        &self,
        filter: DueListFilter,
        reference: &ScheduleReference,
        req: &SortedPageRequest,
    ) -> ApiResult<Page<DueEntry>> {
        if !self.identified() {
            // A round is for those who visit people; its window (`withinDays`) swept a day at a
            // time would date each due service, and so each birth, to the day.
            return Err(ApiError::Forbidden);
        }
        let unit = self.known_unit(filter.org_unit_id, "orgUnitId").await?;
        let reference = reference.only(filter.kinds.as_deref());
        let on = filter.as_of;
        let round_end = on + Days::new(u64::from(filter.within_days));
        let with_referrals = filter.kinds.as_ref().is_none_or(|k| k.contains(&DueKind::Referral));
        let referrals = if with_referrals { self.due_referrals(&unit.path, on, round_end).await? } else { vec![] };
        let mut referrals_of: HashMap<Uuid, Vec<referral::Model>> = HashMap::new();
        for r in referrals {
            if let Some(p) = r.person_id {
                referrals_of.entry(p).or_default().push(r);
            }
        }
        let mut who = Condition::any();
        let mut anyone = false;
        if !referrals_of.is_empty() {
            // The referred: where they live may be outside the unit (received from elsewhere).
            who = who.add(person::Column::Id.is_in(referrals_of.keys().copied()));
            anyone = true;
        }
        if let Some(days) = reference.oldest_child_age_days() {
            let oldest = on.checked_sub_days(Days::new(u64::try_from(days).unwrap_or(0))).unwrap_or(NaiveDate::MIN);
            who = who.add(person::Column::BirthDate.gte(oldest));
            anyone = true;
        }
        if reference.has_pregnancy_rules() {
            who = who.add(Expr::col(person::Column::Id).in_subquery(open_pregnancy_mothers(
                on,
                reference.follow_up,
                false,
            )));
            anyone = true;
        }
        if let Some(days) = reference.postnatal_days() {
            let since = on.checked_sub_days(Days::new(u64::try_from(days).unwrap_or(0))).unwrap_or(NaiveDate::MIN);
            let mothers = Query::select()
                .column(pregnancy::Column::MotherId)
                .from(pregnancy::Entity)
                .and_where(
                    Expr::col(pregnancy::Column::Outcome)
                        .is_in([PregnancyOutcome::LiveBirth.as_str(), PregnancyOutcome::Stillbirth.as_str()]),
                )
                .and_where(Expr::col(pregnancy::Column::OutcomeDate).gte(since))
                .and_where(Expr::col(pregnancy::Column::OutcomeDate).lte(on))
                .to_owned();
            who = who.add(Expr::col(person::Column::Id).in_subquery(mothers));
            anyone = true;
        }
        if !anyone {
            return Ok(page::slice(Vec::new(), DueEntry::key, req));
        }
        let living_here = Expr::col(person::Column::OrgUnitId).in_subquery(units_under(&unit.path));
        let place = if referrals_of.is_empty() {
            Condition::all().add(living_here)
        } else {
            Condition::any().add(living_here).add(person::Column::Id.is_in(referrals_of.keys().copied()))
        };
        let candidates = self
            .visible(person::Entity::find())
            .filter(place)
            .filter(person::Column::BirthDate.lte(on))
            .filter(Condition::any().add(person::Column::DateOfDeath.is_null()).add(person::Column::DateOfDeath.gt(on)))
            .filter(who);
        // The candidates' ids in one query (at most the cap, plus one to know it was passed),
        // then their rows and history a batch at a time.
        let all_ids: Vec<Uuid> = candidates
            .select_only()
            .column(person::Column::Id)
            .order_by_asc(person::Column::Id)
            .limit(MAX_DUE_CANDIDATES + 1)
            .into_tuple()
            .all(self.db())
            .await?;
        if all_ids.len() as u64 > MAX_DUE_CANDIDATES {
            return Err(ApiError::invalid(
                "orgUnitId",
                format!("more than {MAX_DUE_CANDIDATES} people would be evaluated: choose a smaller unit"),
            ));
        }
        let service_types = reference.service_type_ids();
        let mut entries = Vec::new();
        for batch in all_ids.chunks(DUE_BATCH) {
            let people = self
                .visible(person::Entity::find().filter(person::Column::Id.is_in(batch.iter().copied())))
                .all(self.db())
                .await?;
            let ids: Vec<Uuid> = people.iter().map(|p| p.id).collect();
            // By person only: a filter on the service type would lead SQLite to the
            // (service_type_id, service_date) index and a scan of every immunisation. Only the
            // columns the schedules read (decoding whole rows doubles the time).
            let records: Vec<(Uuid, Option<Uuid>, Uuid, NaiveDate)> = self
                .visible(
                    service_record::Entity::find().filter(service_record::Column::PersonId.is_in(ids.iter().copied())),
                )
                .select_only()
                .column(service_record::Column::Id)
                .column(service_record::Column::PersonId)
                .column(service_record::Column::ServiceTypeId)
                .column(service_record::Column::ServiceDate)
                .into_tuple()
                .all(self.db())
                .await?;
            let immunisations = self
                .visible(immunisation::Entity::find().filter(immunisation::Column::PersonId.is_in(ids.iter().copied())))
                .all(self.db())
                .await?;
            let pregnancies = self
                .visible(pregnancy::Entity::find().filter(pregnancy::Column::MotherId.is_in(ids.iter().copied())))
                .all(self.db())
                .await?;
            let mut records_of: HashMap<Uuid, Vec<RecordFact>> = HashMap::new();
            for (id, person, service_type_id, date) in records {
                if let Some(p) = person.filter(|_| service_types.contains(&service_type_id)) {
                    records_of.entry(p).or_default().push(RecordFact { id, service_type_id, date });
                }
            }
            let mut doses_of: HashMap<Uuid, Vec<immunisation::Model>> = HashMap::new();
            for i in immunisations {
                doses_of.entry(i.person_id).or_default().push(i);
            }
            let mut pregnancies_of: HashMap<Uuid, Vec<pregnancy::Model>> = HashMap::new();
            for p in pregnancies {
                pregnancies_of.entry(p.mother_id).or_default().push(p);
            }
            for person in people {
                let items: Vec<Item> = reference
                    .evaluate(
                        &person,
                        pregnancies_of.get(&person.id).map_or(&[], Vec::as_slice),
                        records_of.get(&person.id).map_or(&[], Vec::as_slice),
                        doses_of.get(&person.id).map_or(&[], Vec::as_slice),
                        on,
                    )
                    .into_iter()
                    .filter(|i| i.actionable(on, filter.within_days))
                    .collect();
                let referrals = referrals_of.remove(&person.id).unwrap_or_default();
                // A referral is overdue the day after its due day.
                let referred_from = referrals.iter().map(|r| r.due_by + Days::new(1));
                let urgent_from = items.iter().filter_map(|i| i.overdue_from.or(i.due_on)).chain(referred_from).min();
                if let Some(urgent_from) = urgent_from {
                    entries.push(DueEntry { person, items, urgent_from, referrals });
                }
            }
        }
        entries.sort_by_key(DueEntry::key);
        Ok(page::slice(entries, DueEntry::key, req))
    }

    /// The open referrals of people the caller sees, sent from or received by the unit at `path`
    /// (and its subtree), sent by `on` and due by `round_end`: each side's follow-up.
    async fn due_referrals(&self, path: &str, on: NaiveDate, round_end: NaiveDate) -> ApiResult<Vec<referral::Model>> {
        let side = |c: referral::Column| Expr::col(c).in_subquery(units_under(path));
        Ok(self
            .visible_referrals(referral::Entity::find())
            .filter(
                Condition::any().add(side(referral::Column::FromOrgUnitId)).add(side(referral::Column::ToOrgUnitId)),
            )
            .filter(referral::Column::Status.is_in(super::referrals::OPEN))
            .filter(referral::Column::PersonId.is_not_null())
            .filter(referral::Column::SentOn.lte(on))
            .filter(referral::Column::DueBy.lte(round_end))
            .order_by_asc(referral::Column::DueBy)
            .order_by_asc(referral::Column::Id)
            .all(self.db())
            .await?)
    }
}
