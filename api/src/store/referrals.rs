//! Referrals across sectors: a person (or a household) referred from the unit it lives in to a
//! receiving unit for a need; the receiver accepts, declines, completes (with the service record
//! that met the need) or closes it, and the referrer sees the answer. Each step is versioned,
//! audited and kept in `referral_step`. Who sees a referral, and the minimum of its subject the
//! receiver sees, is decided in `access::referrals_condition` and `Store::referral_subjects`.

use super::page::{self, Page, PageRequest};
use super::{Store, today};
use crate::access::{Action, referrals_condition};
use crate::domain::referral::{Side, is_open, step_allowed};
use crate::domain::validate;
use crate::domain::vocab::{
    ReferralCloseReason, ReferralNeed, ReferralStatus, ReferralTrigger, ReferralUrgency, TargetGroup,
};
use crate::error::{ApiError, ApiResult, Problems};
use async_graphql::{Enum, InputObject};
use chrono::{Days, NaiveDate};
use entity::{assessment_action, household, org_unit, partner, person, referral, referral_step, service_record};
use sea_orm::sea_query::{Expr, ExprTrait, Query, UpdateStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select, Set,
};
use std::collections::HashMap;
use uuid::Uuid;

/// A referral as the referring worker sends it.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "SendReferralInput")]
pub struct NewReferral {
    /// A client-generated id (offline clients); the server makes one when absent.
    pub id: Option<Uuid>,
    /// The person referred (or give `householdId`).
    pub person_id: Option<Uuid>,
    /// The household referred, for a need of the whole household (WASH, social welfare).
    pub household_id: Option<Uuid>,
    /// The need, by sector.
    pub need: ReferralNeed,
    /// The service of the catalogue asked for (code), if one: a record of it for the person
    /// completes the referral.
    pub service_type_code: Option<String>,
    /// The receiving unit: any unit (a health centre's soum, an aimag hospital, a district's
    /// child-protection team).
    pub to_org_unit_id: Uuid,
    /// The receiving partner organisation, if any.
    pub to_partner_id: Option<Uuid>,
    /// The receiving facility or provider by name, at most 200 characters.
    pub provider: Option<String>,
    /// How soon the receiver should act; ROUTINE when left out.
    #[graphql(default_with = "ReferralUrgency::Routine")]
    pub urgency: ReferralUrgency,
    /// The day it was sent: not in the future; today when left out.
    pub sent_on: Option<NaiveDate>,
    /// By when the receiver should act: on or after `sentOn`; when left out, `sentOn` plus 1
    /// day (EMERGENCY), 7 days (URGENT) or 30 days (ROUTINE).
    pub due_by: Option<NaiveDate>,
    /// Why, at most 1,000 characters.
    pub reason: String,
    /// What raised it.
    pub raised_by: Option<ReferralTrigger>,
    /// ASSESSMENT_ACTION: the action's id; MEASUREMENT: the measurement's (service record's) id.
    pub raised_by_id: Option<Uuid>,
}

/// An answer to a referral: a step of its lifecycle.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "AnswerReferralInput")]
pub struct ReferralAnswer {
    /// The referral.
    pub id: Uuid,
    /// The version you last saw: a CONFLICT when it changed since.
    pub expected_version: Option<i32>,
    /// ACCEPTED or DECLINED (a SENT referral; the receiver), COMPLETED (an open referral; the
    /// receiver), CLOSED (an open referral; either side).
    pub to: ReferralStatus,
    /// Why (required to decline), at most 1,000 characters.
    pub note: Option<String>,
    /// Why it was closed (CLOSED only, and required there).
    pub close_reason: Option<ReferralCloseReason>,
    /// COMPLETED: the service record that met the need, of the referred person (or household),
    /// dated on or after the referral was sent, of its service type when it names one (then
    /// required), recorded in your capture scope or visible to you.
    pub service_record_id: Option<Uuid>,
}

/// Which referrals a list shows, from the caller's side.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum ReferralDirection {
    /// Sent from the unit (and its subtree).
    Sent,
    /// Received by the unit (and its subtree).
    Received,
}

/// Which referrals `referrals` lists (each given condition must hold).
#[derive(InputObject, Clone, Debug, Default)]
#[graphql(name = "ReferralFilter")]
pub struct ReferralFilter {
    /// Referrals sent from or received by this unit's subtree (see `direction`).
    pub org_unit_id: Option<Uuid>,
    /// With `orgUnitId`: only those sent from it, or only those it received; both when left out.
    pub direction: Option<ReferralDirection>,
    /// Only these statuses.
    pub status: Option<Vec<ReferralStatus>>,
    /// Only open referrals (SENT or ACCEPTED) due before this day: overdue on it.
    pub overdue_on: Option<NaiveDate>,
    /// Only those of this person.
    pub person_id: Option<Uuid>,
}

/// The minimum of a referral's subject its receiver needs to act.
#[derive(Clone, Debug)]
pub struct ReferredSubject {
    pub person: Option<person::Model>,
    pub household: Option<household::Model>,
}

/// The days a referral of this urgency is due in, when the referrer gives no day.
fn due_in_days(urgency: ReferralUrgency) -> u64 {
    match urgency {
        ReferralUrgency::Emergency => 1,
        ReferralUrgency::Urgent => 7,
        ReferralUrgency::Routine => 30,
    }
}

/// The statuses of a referral that still asks someone to act.
pub(super) const OPEN: [&str; 2] = ["SENT", "ACCEPTED"];

impl Store {
    /// The referrals the caller sees (`access::referrals_condition`).
    pub(crate) fn visible_referrals(&self, select: Select<referral::Entity>) -> Select<referral::Entity> {
        match referrals_condition(self.principal()) {
            Some(c) => select.filter(c),
            None => select,
        }
    }

    /// A referral the caller sees; de-identified callers see counts only.
    pub async fn referral(&self, id: Uuid) -> ApiResult<referral::Model> {
        if !self.identified() {
            return Err(ApiError::Forbidden);
        }
        self.visible_referrals(referral::Entity::find_by_id(id))
            .one(self.db())
            .await?
            .ok_or(ApiError::not_found("referral"))
    }

    pub async fn referrals(&self, filter: ReferralFilter, req: &PageRequest) -> ApiResult<Page<referral::Model>> {
        if !self.identified() {
            return Err(ApiError::Forbidden);
        }
        let mut q = self.visible_referrals(referral::Entity::find());
        if let Some(unit) = filter.org_unit_id {
            let unit = self.known_unit(unit, "filter.orgUnitId").await?;
            let under = |c: referral::Column| Expr::col(c).in_subquery(crate::access::units_under(&unit.path));
            q = q.filter(match filter.direction {
                Some(ReferralDirection::Sent) => Condition::all().add(under(referral::Column::FromOrgUnitId)),
                Some(ReferralDirection::Received) => Condition::all().add(under(referral::Column::ToOrgUnitId)),
                None => Condition::any()
                    .add(under(referral::Column::FromOrgUnitId))
                    .add(under(referral::Column::ToOrgUnitId)),
            });
        } else if filter.direction.is_some() {
            return Err(ApiError::invalid("filter.direction", "needs filter.orgUnitId"));
        }
        if let Some(statuses) = filter.status {
            q = q.filter(referral::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
        }
        if let Some(day) = filter.overdue_on {
            q = q.filter(referral::Column::Status.is_in(OPEN)).filter(referral::Column::DueBy.lt(day));
        }
        if let Some(p) = filter.person_id {
            q = q.filter(referral::Column::PersonId.eq(p));
        }
        page::fetch(self.pool(), q, referral::Column::Id, req).await
    }

    /// Partner organisations by id (reference data: both sides of a referral see its receiver's).
    pub async fn partners_by_ids(&self, ids: &[Uuid]) -> ApiResult<Vec<partner::Model>> {
        Ok(partner::Entity::find().filter(partner::Column::Id.is_in(ids.iter().copied())).all(self.db()).await?)
    }

    /// The steps of these referrals, oldest first.
    pub async fn referral_steps(&self, referrals: &[Uuid]) -> ApiResult<Vec<referral_step::Model>> {
        Ok(referral_step::Entity::find()
            .filter(referral_step::Column::ReferralId.is_in(referrals.iter().copied()))
            .order_by_asc(referral_step::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The sides of a referral the caller acts for: the referrer's where its capture scope holds
    /// the sending unit, the receiver's where it holds the receiving unit (or the caller works for
    /// the receiving partner organisation); administrators both.
    async fn sides(&self, r: &referral::Model) -> ApiResult<Vec<Side>> {
        let units = self.units_of(std::slice::from_ref(r)).await?;
        Ok(self.sides_in(r, &units))
    }

    /// The sending and receiving units of these referrals, in one query.
    async fn units_of(&self, referrals: &[referral::Model]) -> ApiResult<HashMap<Uuid, org_unit::Model>> {
        let ids: Vec<Uuid> = referrals.iter().flat_map(|r| [r.from_org_unit_id, r.to_org_unit_id]).collect();
        Ok(self.org_units_by_ids(&ids).await?.into_iter().map(|u| (u.id, u)).collect())
    }

    /// `sides`, with the referral's units at hand (`units_of`).
    fn sides_in(&self, r: &referral::Model, units: &HashMap<Uuid, org_unit::Model>) -> Vec<Side> {
        let p = self.principal();
        let covers = |id: Uuid| units.get(&id).is_some_and(|u| p.capture.covers_path(&u.path));
        let mut sides = Vec::new();
        if covers(r.from_org_unit_id) {
            sides.push(Side::Referrer);
        }
        if covers(r.to_org_unit_id) || (r.to_partner_id.is_some() && p.partner_id == r.to_partner_id) {
            sides.push(Side::Receiver);
        }
        sides
    }

    /// The referred person or household of each of these referrals (by id, those the caller sees),
    /// as the caller may see them: as anywhere else when in its view scope; otherwise, to the
    /// receiver of an open referral only (`sides`), the person and household rows for the minimum
    /// the `ReferredPerson` type shows (each such read audited); else left out. A page's subjects
    /// in a few queries, whatever its length.
    pub async fn referral_subjects(&self, ids: &[Uuid]) -> ApiResult<Vec<(Uuid, ReferredSubject)>> {
        if !self.identified() || ids.is_empty() {
            return Ok(Vec::new());
        }
        let referrals = self
            .visible_referrals(referral::Entity::find().filter(referral::Column::Id.is_in(ids.iter().copied())))
            .all(self.db())
            .await?;
        let person_ids: Vec<Uuid> = referrals.iter().filter_map(|r| r.person_id).collect();
        let seen_people: HashMap<Uuid, person::Model> = self
            .visible_where_in::<person::Entity>(person::Column::Id, &person_ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        // The household of each subject: the person's (as it is now), or the one referred.
        let home_of = |r: &referral::Model, people: &HashMap<Uuid, person::Model>| match r.person_id {
            Some(p) => people.get(&p).and_then(|p| p.household_id),
            None => r.household_id,
        };
        let homes: Vec<Uuid> = referrals.iter().filter_map(|r| home_of(r, &seen_people)).collect();
        let seen_homes: HashMap<Uuid, household::Model> = self
            .visible_where_in::<household::Entity>(household::Column::Id, &homes)
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        let mut subjects = Vec::new();
        let mut open_unseen = Vec::new();
        for r in referrals {
            let in_view = match r.person_id {
                Some(p) => seen_people.contains_key(&p),
                None => r.household_id.is_some_and(|h| seen_homes.contains_key(&h)),
            };
            if in_view {
                let person = r.person_id.and_then(|p| seen_people.get(&p).cloned());
                let household = home_of(&r, &seen_people).and_then(|h| seen_homes.get(&h).cloned());
                subjects.push((r.id, ReferredSubject { person, household }));
            } else if is_open(ReferralStatus::from_db(&r.status)?) {
                open_unseen.push(r);
            }
        }
        // The receiver who acts on it (capture scope, or the addressed organisation), not everyone
        // whose view holds the receiving unit.
        let units = if open_unseen.is_empty() { HashMap::new() } else { self.units_of(&open_unseen).await? };
        let unseen: Vec<referral::Model> =
            open_unseen.into_iter().filter(|r| self.sides_in(r, &units).contains(&Side::Receiver)).collect();
        if unseen.is_empty() {
            return Ok(subjects);
        }
        let (people, households) = self
            .minimum_rows(
                unseen.iter().filter_map(|r| r.person_id).collect(),
                unseen.iter().filter_map(|r| r.household_id).collect(),
            )
            .await?;
        let mut reads = Vec::new();
        for r in &unseen {
            let person = r.person_id.and_then(|p| people.get(&p).cloned());
            let household = home_of(r, &people).or(r.household_id).and_then(|h| households.get(&h).cloned());
            let (entity, id) = match r.person_id {
                Some(p) => ("person", p),
                None => ("household", r.household_id.unwrap_or(r.id)),
            };
            let detail = Some(format!("referred by referral {}", r.id));
            reads.push(self.auditor().entry("READ_REFERRED", entity, Some(id), None, detail));
            subjects.push((r.id, ReferredSubject { person, household }));
        }
        // Together, so the read log commits a page's entries at once.
        futures_util::future::try_join_all(reads.into_iter().map(|e| self.log_read(e))).await?;
        Ok(subjects)
    }

    /// People and their households by id, read outside any scope: the rows of the minimum
    /// (`ReferredPerson`) that a referral's receiver or a case's workers see wherever the child
    /// lives, for the callers that decided they may (`referral_subjects`, `case_children`).
    /// `households` adds households of their own (referred as a whole, or as when sent).
    #[allow(clippy::type_complexity)]
    pub(super) async fn minimum_rows(
        &self,
        people: Vec<Uuid>,
        households: Vec<Uuid>,
    ) -> ApiResult<(HashMap<Uuid, person::Model>, HashMap<Uuid, household::Model>)> {
        let people: HashMap<Uuid, person::Model> = person::Entity::find()
            .filter(person::Column::Id.is_in(people))
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let homes = people.values().filter_map(|p| p.household_id).chain(households);
        let households: HashMap<Uuid, household::Model> = household::Entity::find()
            .filter(household::Column::Id.is_in(homes))
            .all(self.db())
            .await?
            .into_iter()
            .map(|h| (h.id, h))
            .collect();
        Ok((people, households))
    }

    /// A person outside the caller's capture (or view) scope whom it may serve, with the referral
    /// that lets it: an open referral of that person for this service type that the caller
    /// receives (`sides`). Only the record is written; the person stays unseen
    /// (`referral_subjects`). A referral naming a need only is completed with `answerReferral`.
    pub(super) async fn referred_to_caller(
        &self,
        person_id: Uuid,
        service_type_id: Uuid,
    ) -> ApiResult<Option<(person::Model, referral::Model)>> {
        let theirs = Condition::all().add(referral::Column::PersonId.eq(person_id));
        let Some(r) = self.referral_to_caller(theirs, service_type_id).await? else {
            return Ok(None);
        };
        Ok(person::Entity::find_by_id(person_id).one(self.db()).await?.map(|who| (who, r)))
    }

    /// `referred_to_caller` for a household referred as a whole (WASH, social welfare).
    pub(super) async fn referred_household_to_caller(
        &self,
        household_id: Uuid,
        service_type_id: Uuid,
    ) -> ApiResult<Option<(household::Model, referral::Model)>> {
        let theirs = Condition::all()
            .add(referral::Column::HouseholdId.eq(household_id))
            .add(referral::Column::PersonId.is_null());
        let Some(r) = self.referral_to_caller(theirs, service_type_id).await? else {
            return Ok(None);
        };
        Ok(household::Entity::find_by_id(household_id).one(self.db()).await?.map(|home| (home, r)))
    }

    /// The earliest open referral of `subject` for this service type that the caller receives.
    async fn referral_to_caller(
        &self,
        subject: Condition,
        service_type_id: Uuid,
    ) -> ApiResult<Option<referral::Model>> {
        if !self.identified() {
            return Ok(None);
        }
        let open = referral::Entity::find()
            .filter(subject)
            .filter(referral::Column::Status.is_in(OPEN))
            .filter(referral::Column::ServiceTypeId.eq(service_type_id))
            .order_by_asc(referral::Column::SentOn)
            .all(self.db())
            .await?;
        let units = self.units_of(&open).await?;
        Ok(open.into_iter().find(|r| self.sides_in(r, &units).contains(&Side::Receiver)))
    }

    /// What a record made on a referral must be, checked before anything about the person is: on
    /// or after the day it was sent, given at a unit of the caller's capture scope (by default the
    /// receiving unit).
    pub(super) async fn check_referred_write(
        &self,
        r: &referral::Model,
        date: NaiveDate,
        place: Option<Uuid>,
    ) -> ApiResult<()> {
        let place = match place {
            Some(u) => self.known_unit(u, "input.orgUnitId").await?,
            None => self.known_unit(r.to_org_unit_id, "input.orgUnitId").await?,
        };
        self.check_capture(&place)?;
        if date < r.sent_on {
            return Err(ApiError::invalid("input.date", "is before the referral was sent"));
        }
        Ok(())
    }

    /// Sends a referral (`sendReferral`): the subject must be in the caller's capture scope with
    /// a consent in force, as for any record about it.
    pub async fn send_referral(&self, input: NewReferral) -> ApiResult<referral::Model> {
        self.authorize(Action::Refer)?;
        let mut p = Problems::default();
        let sent_on = input.sent_on.unwrap_or_else(today);
        validate::past_date(&mut p, "input.sentOn", sent_on, today());
        let due_by = input.due_by.unwrap_or(sent_on + Days::new(due_in_days(input.urgency)));
        p.check(due_by >= sent_on, "input.dueBy", "must not be before the day it is sent");
        let reason = validate::lines(&mut p, "input.reason", &input.reason, 1000);
        p.check(!reason.is_empty(), "input.reason", "must not be empty");
        let provider = input.provider.as_deref().map(|t| validate::text(&mut p, "input.provider", t, 200));
        match (input.raised_by, input.raised_by_id) {
            (Some(ReferralTrigger::AssessmentAction | ReferralTrigger::Measurement), None) => {
                p.add("input.raisedById", "names the action or measurement that raised it")
            }
            (Some(ReferralTrigger::OverdueService | ReferralTrigger::Other) | None, Some(_)) => {
                p.add("input.raisedById", "only an ASSESSMENT_ACTION or a MEASUREMENT names a record")
            }
            _ => {}
        }
        if input.raised_by == Some(ReferralTrigger::OverdueService) && input.service_type_code.is_none() {
            p.add("input.serviceTypeCode", "names the overdue service");
        }
        p.into_result()?;
        let service_type = match &input.service_type_code {
            Some(code) => Some(self.service_type_by_code(code, "input.serviceTypeCode").await?),
            None => None,
        };
        let (subject_unit, household_id) = match (input.person_id, input.household_id) {
            (Some(_), Some(_)) => {
                return Err(ApiError::invalid("input.householdId", "give a person or a household, not both"));
            }
            (None, None) => return Err(ApiError::invalid("input.personId", "a person or a household is required")),
            (Some(id), None) => {
                let who = self.person(id).await.map_err(|_| ApiError::invalid("input.personId", "unknown person"))?;
                if service_type.as_ref().is_some_and(|st| st.target_group == TargetGroup::Household.as_str()) {
                    return Err(ApiError::invalid("input.serviceTypeCode", "is given to a household"));
                }
                (who.org_unit_id, who.household_id)
            }
            (None, Some(h)) => {
                let home =
                    self.household(h).await.map_err(|_| ApiError::invalid("input.householdId", "unknown household"))?;
                if service_type.as_ref().is_some_and(|st| st.target_group != TargetGroup::Household.as_str()) {
                    return Err(ApiError::invalid("input.serviceTypeCode", "is given to a person"));
                }
                (home.org_unit_id, Some(h))
            }
        };
        let from = self.known_unit(subject_unit, "input.personId").await?;
        self.check_capture(&from)?;
        match (input.person_id, household_id) {
            (Some(person), household) => self.require_consent_of(person, household).await?,
            (None, Some(h)) => self.require_consent(self.db(), h).await?,
            (None, None) => {}
        }
        let to = self.known_unit(input.to_org_unit_id, "input.toOrgUnitId").await?;
        if let Some(id) = input.to_partner_id
            && partner::Entity::find_by_id(id).one(self.db()).await?.is_none()
        {
            return Err(ApiError::invalid("input.toPartnerId", "unknown partner"));
        }
        self.check_trigger(&input, household_id).await?;
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        if self.id_taken::<referral::Entity>("referral", id).await? {
            return Err(ApiError::conflict("a referral with this id exists"));
        }
        let now = super::now();
        let row = referral::Model {
            id,
            created_at: now,
            updated_at: now,
            version: 1,
            person_id: input.person_id,
            household_id,
            from_org_unit_id: from.id,
            to_org_unit_id: to.id,
            to_partner_id: input.to_partner_id,
            provider,
            need: input.need.as_str().into(),
            service_type_id: service_type.map(|st| st.id),
            urgency: input.urgency.as_str().into(),
            sent_on,
            due_by,
            reason,
            raised_by: input.raised_by.map(|t| t.as_str().into()),
            raised_by_id: input.raised_by_id,
            sent_by: self.principal().user_id,
            status: ReferralStatus::Sent.as_str().into(),
            close_reason: None,
            answer_note: None,
            completed_by_record_id: None,
            completed_on: None,
            ended_on: None,
            change_seq: 0,
        };
        let user = self.principal().user_id;
        self.write(move |txn, w| {
            Box::pin(async move {
                let mut row = row;
                row.change_seq = w.seq;
                let active: referral::ActiveModel = row.clone().into();
                referral::Entity::insert(active.reset_all()).exec_without_returning(txn).await?;
                step(id, None, ReferralStatus::Sent, user, None).insert(txn).await?;
                w.record("CREATE", "referral", id, None, Some(&row));
                Ok(row)
            })
        })
        .await
    }

    /// The record that raised a referral must be the subject's, and one the caller sees.
    async fn check_trigger(&self, input: &NewReferral, household: Option<Uuid>) -> ApiResult<()> {
        let unknown = || ApiError::invalid("input.raisedById", "is not a record of this person or household");
        match (input.raised_by, input.raised_by_id) {
            (Some(ReferralTrigger::AssessmentAction), Some(id)) => {
                let action = self
                    .visible(assessment_action::Entity::find_by_id(id))
                    .one(self.db())
                    .await?
                    .ok_or_else(unknown)?;
                let theirs = Some(action.household_id) == household
                    && (input.person_id.is_none() || action.person_id.is_none() || action.person_id == input.person_id);
                if !theirs {
                    return Err(unknown());
                }
            }
            (Some(ReferralTrigger::Measurement), Some(id)) => {
                let record = self.service_record(id).await.map_err(|_| unknown())?;
                let is_growth = entity::growth_measurement::Entity::find_by_id(id).one(self.db()).await?.is_some();
                if !is_growth || record.person_id.is_none() || record.person_id != input.person_id {
                    return Err(unknown());
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Moves a referral one step (`answerReferral`).
    pub async fn answer_referral(&self, input: ReferralAnswer) -> ApiResult<referral::Model> {
        self.authorize(Action::Refer)?;
        let current = self.referral(input.id).await?;
        // Its subject's writers take turns with it: a service recorded meanwhile may complete it.
        self.lock_records(current.household_id.or(current.person_id)).await?;
        let current = self.referral(input.id).await?;
        let from = ReferralStatus::from_db(&current.status)?;
        let to = input.to;
        let sides = self.sides(&current).await?;
        if !sides.iter().any(|s| step_allowed(from, to, *s)) {
            let by_other = [Side::Referrer, Side::Receiver].iter().any(|s| step_allowed(from, to, *s));
            return Err(if by_other {
                ApiError::Forbidden
            } else {
                ApiError::invalid("input.to", format!("a {} referral cannot become {}", from.as_str(), to.as_str()))
            });
        }
        super::households::check_version(input.expected_version, current.version)?;
        let mut p = Problems::default();
        let note = input.note.as_deref().map(|t| validate::lines(&mut p, "input.note", t, 1000));
        if to == ReferralStatus::Declined && note.as_deref().is_none_or(str::is_empty) {
            p.add("input.note", "says why it is declined");
        }
        match (to, input.close_reason) {
            (ReferralStatus::Closed, None) => p.add("input.closeReason", "says why it is closed"),
            (ReferralStatus::Closed, Some(_)) | (_, None) => {}
            (_, Some(_)) => p.add("input.closeReason", "is given only to close"),
        }
        if to != ReferralStatus::Completed && input.service_record_id.is_some() {
            p.add("input.serviceRecordId", "is given only to complete");
        }
        if to == ReferralStatus::Completed && current.service_type_id.is_some() && input.service_record_id.is_none() {
            p.add("input.serviceRecordId", "names the service that met the need");
        }
        p.into_result()?;
        let completion = match input.service_record_id {
            Some(id) => Some(self.fulfilling_record(&current, id).await?),
            None => None,
        };
        let mut row = current.clone();
        row.status = to.as_str().into();
        row.version = current.version + 1;
        row.updated_at = super::now();
        row.answer_note = note.clone().or(current.answer_note.clone());
        row.close_reason = input.close_reason.map(|r| r.as_str().into());
        if to == ReferralStatus::Completed {
            row.completed_by_record_id = completion.as_ref().map(|r| r.id);
            row.completed_on = Some(completion.as_ref().map_or_else(today, |r| r.service_date));
        }
        if !is_open(to) {
            row.ended_on = row.completed_on.or(Some(today()));
        }
        let user = self.principal().user_id;
        self.write(move |txn, w| {
            Box::pin(async move {
                let mut row = row;
                row.change_seq = w.seq;
                let res = referral::Entity::update_many()
                    .set(referral::ActiveModel::from(row.clone()).reset_all())
                    .filter(referral::Column::Id.eq(row.id))
                    .filter(referral::Column::Version.eq(current.version))
                    .exec(txn)
                    .await?;
                if res.rows_affected == 0 {
                    return Err(ApiError::conflict("the referral was changed by someone else; reload it"));
                }
                step(row.id, Some(from), to, user, note.clone()).insert(txn).await?;
                w.note("TRANSITION", "referral", row.id, super::audit::diff(Some(&current), Some(&row)), note);
                Ok(row)
            })
        })
        .await
    }

    /// The service record a receiver names as having met a referral's need.
    async fn fulfilling_record(&self, r: &referral::Model, id: Uuid) -> ApiResult<service_record::Model> {
        let bad = |why: &str| ApiError::invalid("input.serviceRecordId", why.to_string());
        let record = match self.service_record(id).await {
            Ok(found) => found,
            Err(ApiError::NotFound { .. }) => {
                // Given by the receiver, outside its view scope: where it was given must be in
                // the caller's capture scope.
                let found = service_record::Entity::find_by_id(id).one(self.db()).await?;
                let found = found.ok_or_else(|| bad("unknown service record"))?;
                let unit = org_unit::Entity::find_by_id(found.org_unit_id).one(self.db()).await?;
                if !unit.is_some_and(|u| self.principal().capture.covers_path(&u.path)) {
                    return Err(bad("unknown service record"));
                }
                found
            }
            Err(e) => return Err(e),
        };
        let subject =
            if r.person_id.is_some() { record.person_id == r.person_id } else { record.household_id == r.household_id };
        if !subject {
            return Err(bad("is not a record of the referred person or household"));
        }
        if record.service_date < r.sent_on {
            return Err(bad("was given before the referral was sent"));
        }
        if r.service_type_id.is_some_and(|st| st != record.service_type_id) {
            return Err(bad("is not of the service the referral asks for"));
        }
        Ok(record)
    }

    /// The open referrals a new service record completes: those of its person (or household)
    /// for its service type, sent on or before its day. Read before the record's write, under
    /// the household's lock (`require_consent`), so none is answered meanwhile unseen.
    pub(super) async fn referrals_met_by(
        &self,
        record: &service_record::ActiveModel,
    ) -> ApiResult<Vec<referral::Model>> {
        let subject = match (*record.person_id.as_ref(), *record.household_id.as_ref()) {
            (Some(p), _) => referral::Column::PersonId.eq(p),
            (None, Some(h)) => referral::Column::HouseholdId.eq(h).and(referral::Column::PersonId.is_null()),
            (None, None) => return Ok(Vec::new()),
        };
        Ok(referral::Entity::find()
            .filter(subject)
            .filter(referral::Column::Status.is_in(OPEN))
            .filter(referral::Column::ServiceTypeId.eq(*record.service_type_id.as_ref()))
            .filter(referral::Column::SentOn.lte(*record.service_date.as_ref()))
            .all(self.db())
            .await?)
    }
}

/// `met` before and after a record (`record`, dated `on`) completes them.
pub(super) fn completed(
    met: Vec<referral::Model>,
    record: Uuid,
    on: NaiveDate,
) -> Vec<(referral::Model, referral::Model)> {
    met.into_iter()
        .map(|before| {
            let mut after = before.clone();
            after.status = ReferralStatus::Completed.as_str().into();
            after.completed_by_record_id = Some(record);
            after.completed_on = Some(on);
            after.ended_on = Some(on);
            after.version = before.version + 1;
            after.updated_at = super::now();
            (before, after)
        })
        .collect()
}

/// The step a record's completion of `before` adds.
pub(super) fn completion_step(before: &referral::Model, by: Option<Uuid>) -> referral_step::ActiveModel {
    let from = ReferralStatus::parse(&before.status);
    step(before.id, from, ReferralStatus::Completed, by, Some("completed by a service record".into()))
}

/// The updates that complete referrals (`completed`), stamped `seq`; each only if no one
/// changed it since it was read.
pub(super) fn complete_by(done: &[(referral::Model, referral::Model)], seq: i64) -> Vec<UpdateStatement> {
    done.iter()
        .map(|(before, after)| {
            sea_orm::sea_query::Query::update()
                .table(referral::Entity)
                .value(referral::Column::Status, after.status.clone())
                .value(referral::Column::CompletedByRecordId, after.completed_by_record_id)
                .value(referral::Column::CompletedOn, after.completed_on)
                .value(referral::Column::EndedOn, after.ended_on)
                .value(referral::Column::Version, after.version)
                .value(referral::Column::UpdatedAt, after.updated_at)
                .value(referral::Column::ChangeSeq, seq)
                .and_where(Expr::col(referral::Column::Id).eq(before.id))
                .and_where(Expr::col(referral::Column::Version).eq(before.version))
                .to_owned()
        })
        .collect()
}

/// Erasure of a person: the free text of their referrals and of their steps is removed (the
/// referrals stay, so every count still adds up); devices pull the scrubbed referrals.
pub(super) async fn erase_texts<C: ConnectionTrait>(conn: &C, person: Uuid, seq: i64) -> ApiResult<()> {
    let theirs = Query::select()
        .column(referral::Column::Id)
        .from(referral::Entity)
        .and_where(Expr::col(referral::Column::PersonId).eq(person))
        .to_owned();
    referral_step::Entity::update_many()
        .col_expr(referral_step::Column::Note, Expr::value(Option::<String>::None))
        .filter(Expr::col(referral_step::Column::ReferralId).in_subquery(theirs))
        .exec(conn)
        .await?;
    referral::Entity::update_many()
        .col_expr(referral::Column::Reason, Expr::value(crate::domain::names::ERASED))
        .col_expr(referral::Column::AnswerNote, Expr::value(Option::<String>::None))
        .col_expr(referral::Column::Provider, Expr::value(Option::<String>::None))
        .col_expr(referral::Column::Version, Expr::col(referral::Column::Version).add(1))
        .col_expr(referral::Column::ChangeSeq, Expr::value(seq))
        .filter(referral::Column::PersonId.eq(person))
        .exec(conn)
        .await?;
    Ok(())
}

/// A step of a referral's lifecycle.
pub(super) fn step(
    referral: Uuid,
    from: Option<ReferralStatus>,
    to: ReferralStatus,
    by: Option<Uuid>,
    note: Option<String>,
) -> referral_step::ActiveModel {
    referral_step::ActiveModel {
        id: Set(Uuid::now_v7()),
        referral_id: Set(referral),
        from_status: Set(from.map(|s| s.as_str().into())),
        to_status: Set(to.as_str().into()),
        by_user: Set(by),
        at: Set(super::now()),
        note: Set(note),
    }
}
