//! GraphQL types of schedules and due services: a person's due items, the due list's entries, schedule rules and antigen doses as data.

use super::people::Person;
use super::referrals::Referral;
use crate::domain::schedule::Item;
use crate::domain::vocab::{DueKind, DueStatus, ScheduleAnchor, SchedulePattern, ScheduleUnit};
use crate::store::DueEntry;
use async_graphql::{Object, Result, SimpleObject};
use chrono::NaiveDate;
use entity::{antigen_dose, schedule_rule};

/// One scheduled service of a person and where it stands on the day asked about.
#[derive(SimpleObject)]
pub struct DueService {
    /// Which schedule it belongs to.
    pub kind: DueKind,
    /// The schedule rule's code (e.g. ANC_4, VITAMIN_A), or ANTIGEN:dose (e.g. PENTA:3).
    pub code: String,
    /// The service type that records it (IMMUNISATION, VITAMIN_A, ANC_CONTACT...).
    pub service_type_code: String,
    /// The antigen, for immunisation doses (e.g. PENTA); null otherwise.
    pub antigen_code: Option<String>,
    /// The dose number, or the contact's number in its series.
    pub number: Option<i32>,
    /// Where it stands on the day asked about.
    pub status: DueStatus,
    /// The day it is (or was) due; null for a given round of a recurring service (vitamin A,
    /// growth monitoring).
    pub due_date: Option<NaiveDate>,
    /// From this day on it is OVERDUE.
    pub overdue_from: Option<NaiveDate>,
    /// The last day it can still be given (null: no limit); after it, MISSED.
    pub closes_on: Option<NaiveDate>,
    /// The day it was given, when GIVEN; null otherwise.
    pub given_on: Option<NaiveDate>,
    /// Days since it became overdue, when it is.
    pub days_overdue: Option<i64>,
}

impl DueService {
    pub fn new(item: Item, on: NaiveDate) -> Self {
        Self {
            days_overdue: item.days_overdue(on),
            kind: item.kind,
            code: item.code,
            service_type_code: item.service_type,
            antigen_code: item.antigen,
            number: item.number,
            status: item.status,
            due_date: item.due_on,
            overdue_from: item.overdue_from,
            closes_on: item.closes_on,
            given_on: item.given_on,
        }
    }
}

pub struct DueListEntry {
    pub entry: DueEntry,
    pub as_of: NaiveDate,
}

/// A person on the due list with what they are due or overdue for.
#[Object]
impl DueListEntry {
    /// The person (names null for callers who see data de-identified).
    async fn person(&self) -> Person {
        Person(self.entry.person.clone())
    }
    /// The earliest day one of the items became (or becomes) overdue: the list is sorted by it.
    async fn urgent_from(&self) -> NaiveDate {
        self.entry.urgent_from
    }
    /// Days the most overdue item or referral is overdue (0 when none is overdue yet).
    async fn days_overdue(&self) -> i64 {
        let referrals = self.entry.referrals.iter().map(|r| (self.as_of - r.due_by).num_days());
        self.entry.items.iter().filter_map(|i| i.days_overdue(self.as_of)).chain(referrals).max().unwrap_or(0).max(0)
    }
    /// The person's open referrals sent from or received by the list's unit (its subtree) and
    /// due by the end of the round (overdue once past `dueBy`), earliest due first; empty when
    /// `kinds` leaves REFERRAL out. A referral whose subject the caller does not see (a receiver
    /// outside its view scope) or of a household is not on the list: the `referrals` query with
    /// `overdueOn` lists those.
    async fn referrals(&self) -> Vec<Referral> {
        self.entry.referrals.iter().cloned().map(Referral).collect()
    }
    /// The items due or overdue (or falling due within the round), most urgent first.
    async fn items(&self) -> Vec<DueService> {
        let mut items = self.entry.items.clone();
        items.sort_by_key(|i| i.overdue_from);
        items.into_iter().map(|i| DueService::new(i, self.as_of)).collect()
    }
}

pub struct ScheduleRule(pub schedule_rule::Model);

/// A schedule held as data (vitamin A, growth monitoring, antenatal and postnatal contacts).
#[Object]
impl ScheduleRule {
    /// The rule's code, e.g. VITAMIN_A, GM_0_11, ANC_4, PNC_MOTHER_1.
    async fn code(&self) -> &str {
        &self.0.code
    }
    /// The service type whose records fulfil it (e.g. ANC_CONTACT).
    async fn service_type_code(&self) -> &str {
        &self.0.service_type_code
    }
    /// The schedule it belongs to.
    async fn kind(&self) -> Result<DueKind> {
        Ok(DueKind::from_db(&self.0.kind)?)
    }
    /// RECURRING: every `interval` units from `startAge` to `endAge`; CONTACT: one contact,
    /// counted in [startAge, endAge], due at `dueAge`.
    async fn pattern(&self) -> Result<SchedulePattern> {
        Ok(SchedulePattern::from_db(&self.0.pattern)?)
    }
    /// What the ages count from: BIRTH, LMP (of the open pregnancy) or DELIVERY.
    async fn anchor(&self) -> Result<ScheduleAnchor> {
        Ok(ScheduleAnchor::from_db(&self.0.anchor)?)
    }
    /// The unit of its ages and interval.
    async fn unit(&self) -> Result<ScheduleUnit> {
        Ok(ScheduleUnit::from_db(&self.0.unit)?)
    }
    /// The first age of the window (RECURRING: of the band), in completed units from the anchor.
    async fn start_age(&self) -> i32 {
        self.0.start_age
    }
    /// The age at which a CONTACT is due (its `startAge` when none is set); for RECURRING,
    /// `startAge`.
    async fn due_age(&self) -> i32 {
        self.0.due_age.unwrap_or(self.0.start_age)
    }
    /// The last age of the window, in completed units.
    async fn end_age(&self) -> i32 {
        self.0.end_age
    }
    /// RECURRING: units between two services; null for a CONTACT.
    async fn interval(&self) -> Option<i32> {
        self.0.interval
    }
    /// Days after the due date before it is overdue.
    async fn grace_days(&self) -> i32 {
        self.0.grace_days
    }
    /// The life stage it belongs to; null for the mother's postnatal contacts.
    async fn life_stage_code(&self) -> Option<&str> {
        self.0.life_stage_code.as_deref()
    }
    /// The name in English.
    async fn name_en(&self) -> &str {
        &self.0.name_en
    }
    /// The name in Mongolian.
    async fn name_mn(&self) -> &str {
        &self.0.name_mn
    }
}

pub struct AntigenDose(pub antigen_dose::Model);

/// One dose of the national immunisation schedule.
#[Object]
impl AntigenDose {
    /// Which dose of the antigen, from 1.
    async fn dose_number(&self) -> i32 {
        self.0.dose_number
    }
    /// The age (days) at which the dose is due.
    async fn recommended_age_days(&self) -> i32 {
        self.0.recommended_age_days
    }
    /// The least number of days after the previous dose.
    async fn min_interval_days(&self) -> Option<i32> {
        self.0.min_interval_days
    }
    /// The oldest age (days) at which the dose is still given.
    async fn max_age_days(&self) -> Option<i32> {
        self.0.max_age_days
    }
    /// Days after the due date before the dose is overdue.
    async fn grace_days(&self) -> i32 {
        self.0.grace_days
    }
    /// Validity: the youngest age (days) at which the dose counts, less `validityGraceDays`.
    async fn min_age_days(&self) -> i32 {
        self.0.min_age_days
    }
    /// Validity: the oldest age (days) at which the dose counts; null: no limit.
    async fn max_valid_age_days(&self) -> Option<i32> {
        self.0.max_valid_age_days
    }
    /// Validity: days before the minimum age or interval a dose still counts (CDSi's 4 days).
    async fn validity_grace_days(&self) -> i32 {
        self.0.validity_grace_days
    }
}
