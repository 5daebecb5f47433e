//! One handler per kind of sync item (`Settle`): how its record is made, and what a payload sent
//! again comes to against the stored record — UNCHANGED when it holds the same, UPDATED where the
//! kind can be edited and the client saw the stored version, else a CONFLICT.

use super::{EnrolmentEnd, ReferralAnswerItem, SyncKind, SyncStatus, SyncedRow};
use crate::domain::validate;
use crate::error::{ApiError, ApiResult};
use crate::store::hiv_knowledge::{NewHivKnowledge, stored_answers};
use crate::store::households::{HouseholdChanges, NewHousehold};
use crate::store::people::{NewPerson, PersonChanges};
use crate::store::pregnancies::{NewPregnancy, PregnancyOutcomeInput};
use crate::store::services::{
    EndEnrolment, NewAttendance, NewEnrolment, NewGrowthMeasurement, NewImmunisation, NewServiceRecord,
};
use crate::store::{
    CaseChange, CaseUpdate, GrowthCorrection, NewAssessment, NewMilestoneCheck, NewProject, NewProtectionCase,
    NewReferral, NewReport, ReferralAnswer, Store,
};
use async_graphql::MaybeUndefined;
use entity::{
    antigen, assessment_action, assessment_answer, assessment_instrument, attendance, community_project, enrolment,
    family_assessment, growth_measurement, hiv_knowledge, household, immunisation, milestone, milestone_check, person,
    pregnancy, pregnancy_child, project_budget_line, project_indicator, project_partner, project_report,
    protection_case, referral, service_record,
};
use sea_orm::{ColumnTrait, EntityTrait, PrimaryKeyTrait, QueryFilter};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// What an item comes to: its status, and the record as it now is.
pub(crate) type Settled = (SyncStatus, SyncedRow);

/// A kind of sync item (and of create mutation).
pub(crate) trait Settle: Sized {
    /// Writes the record for an id that is new (or left to the server).
    async fn create(self, store: &Store) -> ApiResult<SyncedRow>;

    /// What the payload comes to for the client's id `id` (`base`: the version the client last
    /// saw, None for a record it made); see `Store::settle`.
    async fn settle(self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled>;
}

/// A change to a record (an outcome, an end, an answer, a step) makes no record of its own: its
/// item's id names the record it changes, and no create mutation carries it.
fn not_a_create() -> ApiError {
    ApiError::Internal(anyhow::anyhow!("a change to a record is not a create"))
}

/// A payload's own id, when given, must be the item's.
fn same_id(given: Option<Uuid>, id: Uuid, path: &str) -> ApiResult<()> {
    match given {
        Some(g) if g != id => Err(ApiError::invalid(path, "differs from the item's id; leave it out")),
        _ => Ok(()),
    }
}

/// A full payload's optional field as a change: absent means cleared.
fn maybe<T>(v: Option<T>) -> MaybeUndefined<T> {
    v.map_or(MaybeUndefined::Null, MaybeUndefined::Value)
}

/// A known record whose content differs from the payload and cannot be edited by sync.
fn not_editable(stored: i32, base: Option<i32>, what: &str) -> ApiError {
    if base != Some(stored) {
        ApiError::conflict(format!("the stored version is {stored}"))
    } else {
        ApiError::invalid("payload", format!("{what} cannot be changed once recorded"))
    }
}

/// A payload's text as it is stored when valid (trimmed, NFC, line ends LF: `validate::normalised`),
/// to compare a retry with the stored record.
fn stored_form(given: &str) -> String {
    validate::normalised(given, validate::Kind::Lines)
}

/// Whether an optional text of a payload is the stored one.
fn same_text(given: &Option<String>, stored: &Option<String>) -> bool {
    given.as_deref().map(stored_form).as_deref() == stored.as_deref()
}

impl Store {
    /// The stored record an item's id names: `Ok(None)` when the id is new; an id taken by a
    /// record the caller may not see is refused without saying more.
    async fn known<E, T, F>(&self, kind: SyncKind, id: Uuid, visible: F) -> ApiResult<Option<T>>
    where
        E: EntityTrait,
        <E::PrimaryKey as PrimaryKeyTrait>::ValueType: From<Uuid>,
        F: std::future::Future<Output = ApiResult<T>>,
    {
        if self.cached(|c| c.free_ids.contains(&(kind.table(), id))) == Some(true) {
            return Ok(None);
        }
        match visible.await {
            Ok(row) => Ok(Some(row)),
            Err(ApiError::NotFound { .. }) if !self.id_taken::<E>(kind.table(), id).await? => Ok(None),
            Err(ApiError::NotFound { .. }) => Err(ApiError::Forbidden),
            Err(e) => Err(e),
        }
    }

    /// A report of a project the caller may see.
    pub(super) async fn visible_report(&self, id: Uuid) -> ApiResult<project_report::Model> {
        let report = self.visible_reports(project_report::Entity::find_by_id(id)).one(self.db()).await?;
        report.ok_or(ApiError::not_found("report"))
    }

    /// Whether a stored visit has the payload's instrument, agreed actions and follow-ups.
    async fn same_assessment_details(
        &self,
        current: &family_assessment::Model,
        input: &NewAssessment,
    ) -> ApiResult<bool> {
        if let Some(number) = input.instrument_version {
            let instrument = assessment_instrument::Entity::find_by_id(current.instrument_id).one(self.db()).await?;
            if instrument.is_none_or(|i| i.number != number) {
                return Ok(false);
            }
        }
        let actions = assessment_action::Entity::find()
            .filter(assessment_action::Column::AssessmentId.eq(current.id))
            .all(self.db())
            .await?;
        let mut stored: Vec<_> = actions.iter().map(|a| (a.description.clone(), a.person_id, a.due_on)).collect();
        let mut given: Vec<_> =
            input.actions.iter().map(|a| (stored_form(&a.description), a.person_id, a.due_on)).collect();
        stored.sort();
        given.sort();
        if stored != given {
            return Ok(false);
        }
        for f in &input.follow_ups {
            let action = assessment_action::Entity::find_by_id(f.action_id).one(self.db()).await?;
            let followed = action.is_some_and(|a| {
                a.household_id == current.household_id
                    && a.status == f.status.as_str()
                    && a.followed_up_on == Some(current.assessed_on)
                    && same_text(&f.note, &a.follow_up_note)
            });
            if !followed {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether a stored project has the payload's indicators, budget lines and implementers
    /// (a partner's staff implement what they propose, as `propose_community_project` records).
    async fn same_project_details(&self, id: Uuid, input: &NewProject) -> ApiResult<bool> {
        let codes: HashSet<String> = project_indicator::Entity::find()
            .filter(project_indicator::Column::ProjectId.eq(id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|i| i.indicator_code)
            .collect();
        if codes != input.indicator_codes.iter().cloned().collect() {
            return Ok(false);
        }
        let lines = project_budget_line::Entity::find()
            .filter(project_budget_line::Column::ProjectId.eq(id))
            .all(self.db())
            .await?;
        let mut stored: Vec<_> =
            lines.iter().map(|l| (l.description.clone(), l.amount_mnt, l.funder.as_str(), l.partner_id)).collect();
        let mut given: Vec<_> = input
            .budget_lines
            .iter()
            .map(|l| (stored_form(&l.description), l.amount_mnt, l.funder.as_str(), l.partner_id))
            .collect();
        stored.sort();
        given.sort();
        if stored != given {
            return Ok(false);
        }
        let implementers: HashSet<Uuid> = project_partner::Entity::find()
            .filter(project_partner::Column::ProjectId.eq(id))
            .filter(project_partner::Column::Role.eq("IMPLEMENTER"))
            .all(self.db())
            .await?
            .into_iter()
            .map(|p| p.partner_id)
            .collect();
        let given: HashSet<Uuid> = input.implementing_partner_ids.iter().copied().collect();
        let own = self.principal().partner_id;
        Ok(given.is_subset(&implementers) && implementers.difference(&given).all(|p| Some(*p) == own))
    }
}

impl Settle for NewHousehold {
    async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        Ok(SyncedRow::Household(store.create_household(self).await?))
    }

    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        same_id(self.id, id, "input.id")?;
        let Some(current) =
            store.known::<household::Entity, _, _>(SyncKind::Household, id, store.household(id)).await?
        else {
            self.id = Some(id);
            return Ok((SyncStatus::Created, self.create(store).await?));
        };
        // Sent as new (no base version), it is a retry only if the consent it came with is the
        // one recorded with it.
        if base.is_none() && !store.consents_of(&[id]).await?.iter().any(|c| self.consent.matches(c, id)) {
            return Err(not_editable(current.version, base, "a household's first consent"));
        }
        // The consent travels with the household's first version only; later ones are records
        // of their own (`recordConsent`).
        let changes = HouseholdChanges {
            id,
            expected_version: Some(base.unwrap_or(0)),
            org_unit_id: Some(self.org_unit_id),
            address: maybe(self.address),
            description: maybe(self.description),
            dwelling: Some(self.dwelling),
            is_herder: Some(self.is_herder),
            migrant_status: Some(self.migrant_status),
            registered_on: self.registered_on,
        };
        let saved = store.update_household(changes).await?;
        let status = if saved.version == current.version { SyncStatus::Unchanged } else { SyncStatus::Updated };
        Ok((status, SyncedRow::Household(saved)))
    }
}

impl Settle for NewPerson {
    async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        Ok(SyncedRow::Person(store.register_person(self).await?))
    }

    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        same_id(self.id, id, "input.id")?;
        let Some(current) = store.known::<person::Entity, _, _>(SyncKind::Person, id, store.person(id)).await? else {
            self.id = Some(id);
            return Ok((SyncStatus::Created, self.create(store).await?));
        };
        // Sent as new (no base version), it is a retry only if it was placed where it says (an
        // update keeps a household left out, and never takes a unit).
        let placed = self.household_id == current.household_id
            && (self.household_id.is_some() || self.org_unit_id.is_none_or(|u| u == current.org_unit_id));
        if base.is_none() && !placed {
            return Err(not_editable(current.version, base, "a person's household or unit"));
        }
        let changes = PersonChanges {
            id,
            expected_version: Some(base.unwrap_or(0)),
            household_id: self.household_id,
            given_name: Some(self.given_name),
            family_name: Some(self.family_name),
            sex: Some(self.sex),
            birth_date: Some(self.birth_date),
            birth_date_estimated: Some(self.birth_date_estimated),
            relation_to_head: maybe(self.relation_to_head),
            registry_number: maybe(self.registry_number),
            phone: maybe(self.phone),
            disability: maybe(self.disability),
            date_of_death: maybe(self.date_of_death),
        };
        let saved = store.update_person(changes).await?;
        let status = if saved.version == current.version { SyncStatus::Unchanged } else { SyncStatus::Updated };
        Ok((status, SyncedRow::Person(saved)))
    }
}

impl Settle for NewPregnancy {
    async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        Ok(SyncedRow::Pregnancy(store.register_pregnancy(self).await?))
    }

    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        same_id(self.id, id, "input.id")?;
        let Some(current) =
            store.known::<pregnancy::Entity, _, _>(SyncKind::Pregnancy, id, store.pregnancy(id)).await?
        else {
            self.id = Some(id);
            return Ok((SyncStatus::Created, self.create(store).await?));
        };
        let same = self.mother_id == current.mother_id
            && self.last_menstrual_period == current.last_menstrual_period
            && self.expected_delivery_date.is_none_or(|d| d == current.expected_delivery_date)
            && self.registered_on.is_none_or(|d| d == current.registered_on);
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::Pregnancy(current)));
        }
        Err(not_editable(current.version, base, "a pregnancy's registration (its outcome is an item of its own)"))
    }
}

impl Settle for PregnancyOutcomeInput {
    async fn create(self, _: &Store) -> ApiResult<SyncedRow> {
        Err(not_a_create())
    }

    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        if self.pregnancy_id != id {
            return Err(ApiError::invalid("input.pregnancyId", "must be the item's id"));
        }
        let current =
            store.pregnancy(id).await.map_err(|_| ApiError::invalid("input.pregnancyId", "unknown pregnancy"))?;
        if current.outcome.is_some() {
            let children: HashSet<Uuid> = pregnancy_child::Entity::find()
                .filter(pregnancy_child::Column::PregnancyId.eq(id))
                .all(store.db())
                .await?
                .into_iter()
                .map(|l| l.child_id)
                .collect();
            let same = current.outcome.as_deref() == Some(self.outcome.as_str())
                && current.outcome_date == Some(self.outcome_date)
                && current.delivery_place.as_deref() == self.delivery_place.map(|d| d.as_str())
                && current.attendant.as_deref() == self.attendant.map(|a| a.as_str())
                && children == self.child_ids.iter().copied().collect::<HashSet<_>>();
            if same {
                return Ok((SyncStatus::Unchanged, SyncedRow::Pregnancy(current)));
            }
            return Err(ApiError::conflict("the outcome of this pregnancy is already recorded"));
        }
        // An outcome always follows a registration: without a base version the client means the
        // pregnancy as first registered (often by its own earlier item).
        self.expected_version = Some(base.unwrap_or(1));
        Ok((SyncStatus::Updated, SyncedRow::Pregnancy(store.record_pregnancy_outcome(self).await?)))
    }
}

impl Settle for EnrolmentEnd {
    async fn create(self, _: &Store) -> ApiResult<SyncedRow> {
        Err(not_a_create())
    }

    /// Resent with the same day and reason, an enrolment's end is UNCHANGED; an enrolment that
    /// ended otherwise is a CONFLICT (as `endEnrolment` makes a second end).
    async fn settle(self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        let unknown = || ApiError::invalid("id", "is not an enrolment recorded here");
        let record = store.service_record(id).await.map_err(|_| unknown())?;
        let current = enrolment::Entity::find_by_id(id).one(store.db()).await?.ok_or_else(unknown)?;
        if let Some(ended) = current.ended_on {
            if ended == self.ended_on && current.end_reason.as_deref() == Some(self.reason.as_str()) {
                return Ok((SyncStatus::Unchanged, SyncedRow::ServiceRecord(record)));
            }
            return Err(ApiError::conflict(format!("the enrolment already ended on {ended}")));
        }
        // Nothing else changes an enrolment's record: without a base version the client means
        // it as first recorded (often by its own earlier item).
        let end =
            EndEnrolment { id, expected_version: base.unwrap_or(1), ended_on: self.ended_on, reason: self.reason };
        Ok((SyncStatus::Updated, SyncedRow::ServiceRecord(store.end_enrolment(end).await?)))
    }
}

impl Settle for NewAttendance {
    async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        Ok(SyncedRow::ServiceRecord(store.record_attendance(self).await?))
    }

    /// Attendance is a record of a period: resent, the same period and days are UNCHANGED;
    /// changed, it is refused (as other service records are).
    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        same_id(self.id, id, "input.id")?;
        let known = store.known::<service_record::Entity, _, _>(SyncKind::Attendance, id, store.service_record(id));
        let Some(current) = known.await? else {
            self.id = Some(id);
            return Ok((SyncStatus::Created, self.create(store).await?));
        };
        let st = store.service_type_by_code(&self.service_type_code, "input.serviceTypeCode").await?;
        let stored = attendance::Entity::find_by_id(id).one(store.db()).await?;
        let same = st.id == current.service_type_id
            && current.service_date == self.period_end
            && self.org_unit_id.is_none_or(|u| u == current.org_unit_id)
            && same_text(&self.provider, &current.provider)
            && same_text(&self.note, &current.note)
            && stored.is_some_and(|a| {
                a.enrolment_id == self.enrolment_id
                    && a.period_start == self.period_start
                    && a.days_present == self.days_present
                    && a.days_expected == self.days_expected
            });
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::ServiceRecord(current)));
        }
        Err(not_editable(current.version, base, "an attendance record"))
    }
}

impl Settle for NewAssessment {
    async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        Ok(SyncedRow::FamilyAssessment(store.record_family_assessment(self).await?))
    }

    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        same_id(self.id, id, "input.id")?;
        let known =
            store.known::<family_assessment::Entity, _, _>(SyncKind::FamilyAssessment, id, store.family_assessment(id));
        let Some(current) = known.await? else {
            self.id = Some(id);
            return Ok((SyncStatus::Created, self.create(store).await?));
        };
        // A visit is a record of what was found that day: resent, it is the same visit; changed,
        // it is refused (a new visit is a new item).
        let stored: HashSet<(Uuid, String)> = assessment_answer::Entity::find()
            .filter(assessment_answer::Column::AssessmentId.eq(id))
            .all(store.db())
            .await?
            .into_iter()
            .filter(|a| a.answer != "NOT_APPLICABLE")
            .map(|a| (a.indicator_id, a.answer))
            .collect();
        let indicators = store.indicators_of(current.instrument_id).await?;
        let given: HashSet<(Uuid, String)> = self
            .answers
            .iter()
            .filter(|a| a.answer.as_str() != "NOT_APPLICABLE")
            .filter_map(|a| {
                indicators.iter().find(|i| i.code == a.indicator_code).map(|i| (i.id, a.answer.as_str().to_string()))
            })
            .collect();
        let same = self.household_id == current.household_id
            && self.assessed_on.is_none_or(|d| d == current.assessed_on)
            && given == stored
            && same_text(&self.note, &current.note)
            && store.same_assessment_details(&current, &self).await?;
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::FamilyAssessment(current)));
        }
        Err(not_editable(current.version, base, "a family assessment"))
    }
}

impl Settle for NewProject {
    async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        Ok(SyncedRow::CommunityProject(store.propose_community_project(self).await?))
    }

    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        same_id(self.id, id, "input.id")?;
        let known =
            store.known::<community_project::Entity, _, _>(SyncKind::CommunityProject, id, store.community_project(id));
        let Some(current) = known.await? else {
            self.id = Some(id);
            return Ok((SyncStatus::Created, self.create(store).await?));
        };
        let same = current.org_unit_id == self.org_unit_id
            && current.area == self.area.as_str()
            && current.title == stored_form(&self.title)
            && current.objectives == stored_form(&self.objectives)
            && current.starts_on == self.starts_on
            && current.ends_on == self.ends_on
            && store.same_project_details(id, &self).await?;
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::CommunityProject(current)));
        }
        Err(not_editable(current.version, base, "a project's proposal"))
    }
}

impl Settle for NewReport {
    async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        Ok(SyncedRow::ProjectReport(store.report_community_project(self).await?))
    }

    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        same_id(self.id, id, "input.id")?;
        let known = store.known::<project_report::Entity, _, _>(SyncKind::ProjectReport, id, store.visible_report(id));
        let Some(current) = known.await? else {
            self.id = Some(id);
            return Ok((SyncStatus::Created, self.create(store).await?));
        };
        let same = current.project_id == self.project_id
            && self.reported_on.is_none_or(|d| d == current.reported_on)
            && current.progress_percent == self.progress_percent
            && current.narrative == stored_form(&self.narrative)
            && current.households_reached == self.households_reached
            && current.people_reached == self.people_reached;
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::ProjectReport(current)));
        }
        Err(not_editable(current.version, base, "a monitoring report"))
    }
}

impl Settle for NewReferral {
    async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        Ok(SyncedRow::Referral(store.send_referral(self).await?))
    }

    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        same_id(self.id, id, "input.id")?;
        let Some(current) = store.known::<referral::Entity, _, _>(SyncKind::Referral, id, store.referral(id)).await?
        else {
            self.id = Some(id);
            return Ok((SyncStatus::Created, self.create(store).await?));
        };
        // A referral is sent once: resent, it is the same referral; changed, it is refused (its
        // answers are items of their own).
        let service_type = match &self.service_type_code {
            Some(code) => Some(store.service_type_by_code(code, "input.serviceTypeCode").await?.id),
            None => None,
        };
        let same = current.person_id == self.person_id
            && (self.household_id.is_none() || current.household_id == self.household_id)
            && current.need == self.need.as_str()
            && current.service_type_id == service_type
            && current.to_org_unit_id == self.to_org_unit_id
            && current.to_partner_id == self.to_partner_id
            && same_text(&self.provider, &current.provider)
            && current.urgency == self.urgency.as_str()
            && self.sent_on.is_none_or(|d| d == current.sent_on)
            && self.due_by.is_none_or(|d| d == current.due_by)
            && current.reason == stored_form(&self.reason)
            && current.raised_by.as_deref() == self.raised_by.map(|t| t.as_str())
            && current.raised_by_id == self.raised_by_id;
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::Referral(current)));
        }
        Err(not_editable(current.version, base, "a referral as sent"))
    }
}

impl Settle for ReferralAnswerItem {
    async fn create(self, _: &Store) -> ApiResult<SyncedRow> {
        Err(not_a_create())
    }

    /// Resent, an answer already given is UNCHANGED; a referral answered otherwise since
    /// `base` is a CONFLICT.
    async fn settle(self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        let current = store.referral(id).await.map_err(|_| ApiError::invalid("id", "is not a referral you see"))?;
        let same = current.status == self.to.as_str()
            && current.close_reason.as_deref() == self.close_reason.map(|r| r.as_str())
            && self.service_record_id.is_none_or(|r| current.completed_by_record_id == Some(r))
            && (self.note.is_none() || same_text(&self.note, &current.answer_note));
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::Referral(current)));
        }
        let answer = ReferralAnswer {
            id,
            expected_version: Some(base.unwrap_or(1)),
            to: self.to,
            note: self.note,
            close_reason: self.close_reason,
            service_record_id: self.service_record_id,
        };
        Ok((SyncStatus::Updated, SyncedRow::Referral(store.answer_referral(answer).await?)))
    }
}

impl Settle for NewProtectionCase {
    async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        Ok(SyncedRow::ProtectionCase(store.open_protection_case(self).await?))
    }

    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        same_id(self.id, id, "input.id")?;
        let opened = store.protection_case(id);
        let Some(current) = store.known::<protection_case::Entity, _, _>(SyncKind::ProtectionCase, id, opened).await?
        else {
            self.id = Some(id);
            return Ok((SyncStatus::Created, self.create(store).await?));
        };
        // A case is opened once: resent, it is the same case; its steps are items of their own.
        let same = current.person_id == self.person_id
            && current.concern == self.concern.as_str()
            && self.opened_on.is_none_or(|d| d == current.opened_on)
            && same_text(&self.summary, &current.summary)
            && self.case_worker_id.is_none_or(|w| w == current.assigned_to || current.version > 1);
        // The risk as opened is the first step's (later reviews change the case's own).
        let opened_at = store.case_steps(&[current.id]).await?.into_iter().next().and_then(|s| s.risk_level);
        let same = same && opened_at.as_deref() == Some(self.risk_level.as_str());
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::ProtectionCase(current)));
        }
        Err(not_editable(current.version, base, "a protection case as opened"))
    }
}

impl Settle for CaseChange {
    async fn create(self, _: &Store) -> ApiResult<SyncedRow> {
        Err(not_a_create())
    }

    /// Resent, a step already taken (the case's latest, by the caller, on `base`) is
    /// UNCHANGED; a case changed otherwise since `base` is a CONFLICT.
    async fn settle(self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        let current =
            store.protection_case(id).await.map_err(|_| ApiError::invalid("id", "is not a protection case you see"))?;
        let base = base.unwrap_or(1);
        if store.case_change_applied(&current, base, &self).await? {
            return Ok((SyncStatus::Unchanged, SyncedRow::ProtectionCase(current)));
        }
        let update = CaseUpdate { id, expected_version: Some(base), change: self };
        Ok((SyncStatus::Updated, SyncedRow::ProtectionCase(store.update_protection_case(update).await?)))
    }
}

/// The kinds that write a service record, each with its detail.
pub(crate) enum ServiceItem {
    Plain(NewServiceRecord),
    Growth(NewGrowthMeasurement),
    Immunisation(NewImmunisation),
    Milestones(NewMilestoneCheck),
    Enrolment(NewEnrolment),
    HivKnowledge(NewHivKnowledge),
}

/// How a stored service record differs from a payload.
enum Sameness {
    Same,
    /// Only a growth measurement's values differ (correctable).
    Measurement(NewGrowthMeasurement),
    Different,
}

impl ServiceItem {
    fn kind(&self) -> SyncKind {
        match self {
            Self::Plain(_) => SyncKind::ServiceRecord,
            Self::Growth(_) => SyncKind::GrowthMeasurement,
            Self::Immunisation(_) => SyncKind::Immunisation,
            Self::Milestones(_) => SyncKind::MilestoneCheck,
            Self::Enrolment(_) => SyncKind::Enrolment,
            Self::HivKnowledge(_) => SyncKind::HivKnowledge,
        }
    }

    /// The service record the item writes.
    fn record(&self) -> NewServiceRecord {
        match self {
            Self::Plain(r) => r.clone(),
            Self::Growth(r) => r.record(),
            Self::Immunisation(r) => r.record(),
            Self::Milestones(r) => r.record(),
            Self::Enrolment(r) => r.record(),
            Self::HivKnowledge(r) => r.record(),
        }
    }

    fn own_id(&mut self) -> &mut Option<Uuid> {
        match self {
            Self::Plain(r) => &mut r.id,
            Self::Growth(r) => &mut r.id,
            Self::Immunisation(r) => &mut r.id,
            Self::Milestones(r) => &mut r.id,
            Self::Enrolment(r) => &mut r.id,
            Self::HivKnowledge(r) => &mut r.id,
        }
    }

    /// How the stored record `current` differs from the payload.
    async fn compared(&self, store: &Store, current: &service_record::Model) -> ApiResult<Sameness> {
        let r = self.record();
        let st = store.service_type_by_code(&r.service_type_code, "input.serviceTypeCode").await?;
        let record_same = st.id == current.service_type_id
            && r.person_id == current.person_id
            && r.household_id == current.household_id
            && r.pregnancy_id.is_none_or(|p| Some(p) == current.pregnancy_id)
            && r.date == current.service_date
            && r.org_unit_id.is_none_or(|u| u == current.org_unit_id)
            && same_text(&r.provider, &current.provider)
            && same_text(&r.note, &current.note);
        if !record_same {
            return Ok(Sameness::Different);
        }
        let id = current.id;
        let detail_same = match self {
            Self::Plain(_) => true,
            Self::Growth(r) => {
                let Some(m) = growth_measurement::Entity::find_by_id(id).one(store.db()).await? else {
                    return Ok(Sameness::Different);
                };
                let same = r.weight_kg == m.weight_kg
                    && r.length_height_cm == m.length_height_cm
                    && r.position.is_none_or(|p| Some(p.as_str()) == m.position.as_deref())
                    && r.muac_mm == m.muac_mm
                    && r.oedema == m.oedema;
                if !same {
                    return Ok(Sameness::Measurement(r.clone()));
                }
                true
            }
            Self::Immunisation(r) => {
                let stored = immunisation::Entity::find_by_id(id).one(store.db()).await?;
                let antigen =
                    antigen::Entity::find().filter(antigen::Column::Code.eq(&r.antigen_code)).one(store.db()).await?;
                match (stored, antigen) {
                    (Some(s), Some(a)) => s.antigen_id == a.id && s.dose_number == r.dose_number,
                    _ => false,
                }
            }
            Self::Milestones(r) => {
                let stored: HashSet<(Uuid, bool)> = milestone_check::Entity::find()
                    .filter(milestone_check::Column::ServiceRecordId.eq(id))
                    .all(store.db())
                    .await?
                    .into_iter()
                    .map(|c| (c.milestone_id, c.achieved))
                    .collect();
                // A code no milestone can have is not looked up (PostgreSQL refuses a NUL in it).
                let codes: Vec<&str> =
                    r.items.iter().map(|i| i.milestone_code.as_str()).filter(|c| validate::plain(c)).collect();
                let ids: HashMap<String, Uuid> = milestone::Entity::find()
                    .filter(milestone::Column::Code.is_in(codes))
                    .all(store.db())
                    .await?
                    .into_iter()
                    .map(|m| (m.code, m.id))
                    .collect();
                let given: Option<HashSet<(Uuid, bool)>> =
                    r.items.iter().map(|i| ids.get(&i.milestone_code).map(|m| (*m, i.achieved))).collect();
                given.is_some_and(|g| g == stored)
            }
            Self::Enrolment(r) => {
                let stored = enrolment::Entity::find_by_id(id).one(store.db()).await?;
                stored.is_some_and(|e| {
                    e.institution == stored_form(&r.institution)
                        && same_text(&r.grade, &e.grade)
                        && r.grade_number == e.grade_number
                })
            }
            Self::HivKnowledge(r) => {
                let stored = hiv_knowledge::Entity::find_by_id(id).one(store.db()).await?;
                stored.map(|k| stored_answers(&k)).transpose()?.is_some_and(|a| a == r.answers())
            }
        };
        Ok(if detail_same { Sameness::Same } else { Sameness::Different })
    }
}

impl Settle for ServiceItem {
    async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        let saved = match self {
            Self::Plain(r) => store.record_service(r).await?,
            Self::Growth(r) => store.record_growth_measurement(r).await?,
            Self::Immunisation(r) => store.record_immunisation(r).await?,
            Self::Milestones(r) => store.record_milestone_check(r).await?,
            Self::Enrolment(r) => store.record_enrolment(r).await?,
            Self::HivKnowledge(r) => store.record_hiv_knowledge(r).await?,
        };
        Ok(SyncedRow::ServiceRecord(saved))
    }

    async fn settle(mut self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        same_id(*self.own_id(), id, "input.id")?;
        let known = store.known::<service_record::Entity, _, _>(self.kind(), id, store.own_service_record(id)).await?;
        let Some(current) = known else {
            *self.own_id() = Some(id);
            return Ok((SyncStatus::Created, self.create(store).await?));
        };
        match self.compared(store, &current).await? {
            Sameness::Same => Ok((SyncStatus::Unchanged, SyncedRow::ServiceRecord(current))),
            Sameness::Measurement(m) if base == Some(current.version) => {
                let correction = GrowthCorrection {
                    id,
                    expected_version: current.version,
                    weight_kg: maybe(m.weight_kg),
                    length_height_cm: maybe(m.length_height_cm),
                    position: maybe(m.position),
                    muac_mm: maybe(m.muac_mm),
                    oedema: Some(m.oedema),
                };
                Ok((SyncStatus::Updated, SyncedRow::ServiceRecord(store.correct_growth_measurement(correction).await?)))
            }
            Sameness::Measurement(_) | Sameness::Different => {
                Err(not_editable(current.version, base, "a service record (other than a growth measurement's values)"))
            }
        }
    }
}
