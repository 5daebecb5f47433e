//! Offline sync: batch push (`Store::sync_push`) and delta pull (`Store::changes`).
//!
//! Push runs every item through the same store methods as the single-record mutations, inside
//! one batch transaction (see `write.rs`), in dependency order (households, people,
//! pregnancies, outcomes, services) so an item may refer to any other item of its batch.
//! The client's ids make it idempotent: a known id with the stored content is UNCHANGED.

use super::hiv_knowledge::{NewHivKnowledge, stored_answers};
use super::households::{HouseholdChanges, NewHousehold};
use super::people::{NewPerson, PersonChanges};
use super::pregnancies::{NewPregnancy, PregnancyOutcomeInput};
use super::services::{
    EndEnrolment, NewAttendance, NewEnrolment, NewGrowthMeasurement, NewImmunisation, NewServiceRecord,
};
use super::{
    CaseChange, CaseUpdate, GrowthCorrection, NewAssessment, NewMilestoneCheck, NewProject, NewProtectionCase,
    NewReferral, NewReport, ReferralAnswer, Store,
};
use crate::access::Action;
use crate::domain::validate;
use crate::domain::vocab::{EnrolmentEndReason, ReferralCloseReason, ReferralStatus};
use crate::error::{ApiError, ApiResult};
use async_graphql::{Enum, InputObject, MaybeUndefined, OneofObject};
use chrono::{DateTime, Utc};
use entity::{
    antigen, assessment_action, assessment_answer, assessment_instrument, attendance, community_project, consent,
    enrolment, family_assessment, growth_measurement, hiv_knowledge, household, immunisation, milestone,
    milestone_check, person, pregnancy, pregnancy_child, project_budget_line, project_indicator, project_partner,
    project_report, protection_case, referral, service_record, tombstone,
};
use sea_orm::{
    AccessMode, ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IsolationLevel,
    PrimaryKeyTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set, TransactionTrait,
};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The tombstone of a protection case a transfer took away from a unit: the devices there drop
/// it (pulled only by those who work on cases).
pub(crate) const CASE_TOMBSTONE: &str = "protection_case";

/// Leaves a tombstone for a record devices must drop (erased or deleted).
pub(crate) async fn tombstone<C: ConnectionTrait>(
    conn: &C,
    entity: &str,
    id: Uuid,
    unit: Uuid,
    seq: i64,
    reason: &str,
) -> ApiResult<()> {
    tombstone::ActiveModel {
        id: Set(Uuid::now_v7()),
        entity: Set(entity.into()),
        entity_id: Set(id),
        org_unit_id: Set(unit),
        change_seq: Set(seq),
        deleted_at: Set(chrono::Utc::now()),
        reason: Set(reason.into()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// What an item carries: the input of the single-record mutation of its kind.
#[derive(OneofObject, Clone)]
#[graphql(name = "SyncPayloadInput")]
pub enum SyncPayload {
    /// A household with its consent (`createHousehold`); for a known id, its new content
    /// (`updateHousehold`; the consent is kept from its first version).
    Household(NewHousehold),
    /// A person (`registerPerson`); for a known id, their new content (`updatePerson`).
    Person(NewPerson),
    /// A pregnancy's registration (`registerPregnancy`).
    Pregnancy(NewPregnancy),
    /// A pregnancy's outcome (`recordPregnancyOutcome`). The item's id is the pregnancy's.
    PregnancyOutcome(PregnancyOutcomeInput),
    /// A service without a typed detail (`recordService`).
    ServiceRecord(NewServiceRecord),
    /// A growth measurement (`recordGrowthMeasurement`); for a known id, its corrected values
    /// (`correctGrowthMeasurement`).
    GrowthMeasurement(NewGrowthMeasurement),
    /// An immunisation (`recordImmunisation`).
    Immunisation(NewImmunisation),
    /// A development check (`recordMilestoneCheck`).
    MilestoneCheck(NewMilestoneCheck),
    /// An enrolment (`recordEnrolment`).
    Enrolment(NewEnrolment),
    /// An HIV knowledge assessment (`recordHivKnowledge`).
    HivKnowledge(NewHivKnowledge),
    /// The end of an enrolment (`endEnrolment`). The item's id is the enrolment's (its service
    /// record's).
    EnrolmentEnd(EnrolmentEnd),
    /// Attendance over a period (`recordAttendance`).
    Attendance(NewAttendance),
    /// A family assessment visit (`recordFamilyAssessment`).
    FamilyAssessment(NewAssessment),
    /// A community project's proposal (`proposeCommunityProject`).
    CommunityProject(NewProject),
    /// A project's monitoring report (`reportCommunityProject`).
    ProjectReport(NewReport),
    /// A referral (`sendReferral`).
    Referral(NewReferral),
    /// An answer to a referral (`answerReferral`). The item's id is the referral's; a null
    /// `baseVersion` means the referral as sent.
    ReferralAnswer(ReferralAnswerItem),
    /// A child-protection case (`openProtectionCase`); case workers and supervisors only.
    ProtectionCase(NewProtectionCase),
    /// A step of a protection case (`updateProtectionCase`). The item's id is the case's; a null
    /// `baseVersion` means the case as opened.
    ProtectionCaseChange(CaseChange),
}

/// An answer to a referral, as an offline client records it: `answerReferral` without the id
/// and version, which the item carries.
#[derive(InputObject, Clone, Debug)]
#[graphql(name = "ReferralAnswerItemInput")]
pub struct ReferralAnswerItem {
    /// ACCEPTED, DECLINED, COMPLETED or CLOSED.
    pub to: ReferralStatus,
    /// Why (required to decline), at most 1,000 characters.
    pub note: Option<String>,
    /// Why it was closed (CLOSED only, and required there).
    pub close_reason: Option<ReferralCloseReason>,
    /// COMPLETED: the service record that met the need.
    pub service_record_id: Option<Uuid>,
}

/// The end of an enrolment, as an offline client records it: `endEnrolment` without the id and
/// version, which the item carries (a null `baseVersion` means the enrolment as recorded).
#[derive(InputObject, Clone)]
#[graphql(name = "EnrolmentEndInput")]
pub struct EnrolmentEnd {
    /// The last day of the enrolment: on or after the day it began, not in the future.
    pub ended_on: chrono::NaiveDate,
    /// Why it ended.
    pub reason: EnrolmentEndReason,
}

/// One change made offline: the record's id, the version it was based on, and the payload.
#[derive(InputObject, Clone)]
#[graphql(name = "SyncItemInput")]
pub struct SyncItem {
    /// The record's id, made by the client (for a pregnancy outcome: the pregnancy's id).
    pub id: Uuid,
    /// The version the client last saw; null for a record it created (for a pregnancy outcome:
    /// the pregnancy's version, null meaning its first).
    pub base_version: Option<i32>,
    /// When the client recorded the change (the device's clock). Kept in the audit entries of
    /// the item's writes, beside the server's time; the server orders changes by its own change
    /// sequence, never by clocks.
    pub client_timestamp: Option<DateTime<Utc>>,
    /// What the item records: exactly one kind.
    pub payload: SyncPayload,
}

/// ALL: the batch commits only if every item succeeds. ITEM: each item stands alone.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SyncAtomicity {
    /// All or nothing: one CONFLICT or REJECTED item and nothing is written (the others are
    /// NOT_APPLIED).
    All,
    /// Each item is written or refused on its own (the default).
    Item,
}

/// The kind of an item: which field of its payload it carries.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SyncKind {
    /// `payload.household`.
    Household,
    /// `payload.person`.
    Person,
    /// `payload.pregnancy`.
    Pregnancy,
    /// `payload.pregnancyOutcome`.
    PregnancyOutcome,
    /// `payload.serviceRecord`.
    ServiceRecord,
    /// `payload.growthMeasurement`.
    GrowthMeasurement,
    /// `payload.immunisation`.
    Immunisation,
    /// `payload.milestoneCheck`.
    MilestoneCheck,
    /// `payload.enrolment`.
    Enrolment,
    /// `payload.hivKnowledge`.
    HivKnowledge,
    /// `payload.enrolmentEnd`.
    EnrolmentEnd,
    /// `payload.attendance`.
    Attendance,
    /// `payload.familyAssessment`.
    FamilyAssessment,
    /// `payload.communityProject`.
    CommunityProject,
    /// `payload.projectReport`.
    ProjectReport,
    /// `payload.referral`.
    Referral,
    /// `payload.referralAnswer`.
    ReferralAnswer,
    /// `payload.protectionCase`.
    ProtectionCase,
    /// `payload.protectionCaseChange`.
    ProtectionCaseChange,
}

/// What became of a sync item.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum SyncStatus {
    /// A new record was written.
    Created,
    /// The record already holds this content (a retry): nothing written.
    Unchanged,
    /// The record was changed and its version raised.
    Updated,
    /// The record changed on the server since `baseVersion`: nothing written; see `record`.
    Conflict,
    /// Invalid, out of scope or without consent: nothing written; see `error`.
    Rejected,
    /// Valid, but not written: the batch was atomic (ALL) and another item failed.
    NotApplied,
}

impl SyncStatus {
    /// The status as the API spells it (a metric label).
    pub fn label(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Unchanged => "UNCHANGED",
            Self::Updated => "UPDATED",
            Self::Conflict => "CONFLICT",
            Self::Rejected => "REJECTED",
            Self::NotApplied => "NOT_APPLIED",
        }
    }
}

/// A record as sync returns it.
#[derive(Clone, Debug)]
pub enum SyncedRow {
    Household(household::Model),
    Person(person::Model),
    Pregnancy(pregnancy::Model),
    ServiceRecord(service_record::Model),
    Consent(consent::Model),
    FamilyAssessment(family_assessment::Model),
    CommunityProject(community_project::Model),
    ProjectReport(project_report::Model),
    Referral(referral::Model),
    ProtectionCase(protection_case::Model),
}

impl SyncedRow {
    pub fn version(&self) -> i32 {
        match self {
            Self::Household(r) => r.version,
            Self::Person(r) => r.version,
            Self::Pregnancy(r) => r.version,
            Self::ServiceRecord(r) => r.version,
            Self::Consent(r) => r.version,
            Self::FamilyAssessment(r) => r.version,
            Self::CommunityProject(r) => r.version,
            Self::ProjectReport(r) => r.version,
            Self::Referral(r) => r.version,
            Self::ProtectionCase(r) => r.version,
        }
    }
}

pub struct ItemOutcome {
    pub index: usize,
    pub id: Uuid,
    pub kind: SyncKind,
    pub status: SyncStatus,
    pub row: Option<SyncedRow>,
    pub error: Option<ApiError>,
}

pub struct PushOutcome {
    pub committed: bool,
    pub dry_run: bool,
    pub items: Vec<ItemOutcome>,
}

impl SyncPayload {
    /// The service record a service kind writes (None for the other kinds).
    fn record(&self) -> Option<NewServiceRecord> {
        match self {
            Self::ServiceRecord(r) => Some(r.clone()),
            Self::GrowthMeasurement(r) => Some(r.record()),
            Self::Immunisation(r) => Some(r.record()),
            Self::MilestoneCheck(r) => Some(r.record()),
            Self::Enrolment(r) => Some(r.record()),
            Self::HivKnowledge(r) => Some(r.record()),
            _ => None,
        }
    }

    /// The id the payload's own input carries (None for an outcome or an enrolment's end,
    /// whose item id names the record they change).
    pub(crate) fn own_id(&self) -> Option<Uuid> {
        match self {
            Self::Household(i) => i.id,
            Self::Person(i) => i.id,
            Self::Pregnancy(i) => i.id,
            Self::ServiceRecord(i) => i.id,
            Self::GrowthMeasurement(i) => i.id,
            Self::Immunisation(i) => i.id,
            Self::MilestoneCheck(i) => i.id,
            Self::Enrolment(i) => i.id,
            Self::HivKnowledge(i) => i.id,
            Self::Attendance(i) => i.id,
            Self::FamilyAssessment(i) => i.id,
            Self::CommunityProject(i) => i.id,
            Self::ProjectReport(i) => i.id,
            Self::Referral(i) => i.id,
            Self::ProtectionCase(i) => i.id,
            Self::PregnancyOutcome(_)
            | Self::EnrolmentEnd(_)
            | Self::ReferralAnswer(_)
            | Self::ProtectionCaseChange(_) => None,
        }
    }

    pub(crate) fn kind(&self) -> SyncKind {
        match self {
            Self::Household(_) => SyncKind::Household,
            Self::Person(_) => SyncKind::Person,
            Self::Pregnancy(_) => SyncKind::Pregnancy,
            Self::PregnancyOutcome(_) => SyncKind::PregnancyOutcome,
            Self::ServiceRecord(_) => SyncKind::ServiceRecord,
            Self::GrowthMeasurement(_) => SyncKind::GrowthMeasurement,
            Self::Immunisation(_) => SyncKind::Immunisation,
            Self::MilestoneCheck(_) => SyncKind::MilestoneCheck,
            Self::Enrolment(_) => SyncKind::Enrolment,
            Self::HivKnowledge(_) => SyncKind::HivKnowledge,
            Self::EnrolmentEnd(_) => SyncKind::EnrolmentEnd,
            Self::Attendance(_) => SyncKind::Attendance,
            Self::FamilyAssessment(_) => SyncKind::FamilyAssessment,
            Self::CommunityProject(_) => SyncKind::CommunityProject,
            Self::ProjectReport(_) => SyncKind::ProjectReport,
            Self::Referral(_) => SyncKind::Referral,
            Self::ReferralAnswer(_) => SyncKind::ReferralAnswer,
            Self::ProtectionCase(_) => SyncKind::ProtectionCase,
            Self::ProtectionCaseChange(_) => SyncKind::ProtectionCaseChange,
        }
    }
}

impl SyncKind {
    /// What a record of this kind is called in messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::Household => "household",
            Self::Person => "person",
            Self::Pregnancy | Self::PregnancyOutcome => "pregnancy",
            Self::FamilyAssessment => "family assessment",
            Self::CommunityProject => "community project",
            Self::ProjectReport => "report",
            Self::Referral | Self::ReferralAnswer => "referral",
            Self::ProtectionCase | Self::ProtectionCaseChange => "protection case",
            _ => "service record",
        }
    }

    /// Items run in this order, so what an item refers to is written before it.
    fn rank(self) -> u8 {
        match self {
            Self::Household => 0,
            Self::Person => 1,
            Self::Pregnancy => 2,
            Self::PregnancyOutcome => 3,
            Self::EnrolmentEnd | Self::Attendance | Self::FamilyAssessment | Self::CommunityProject => 5,
            // After the services that may complete them, and after what raised them.
            Self::ProjectReport | Self::Referral | Self::ProtectionCase => 6,
            Self::ReferralAnswer | Self::ProtectionCaseChange => 7,
            _ => 4,
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Self::Household => "household",
            Self::Person => "person",
            Self::Pregnancy | Self::PregnancyOutcome => "pregnancy",
            Self::FamilyAssessment => "family_assessment",
            Self::CommunityProject => "community_project",
            Self::ProjectReport => "project_report",
            Self::Referral | Self::ReferralAnswer => "referral",
            Self::ProtectionCase | Self::ProtectionCaseChange => "protection_case",
            _ => "service_record",
        }
    }
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

impl Store {
    /// Pushes a batch of offline changes; see the module comment and `syncPush`.
    pub async fn sync_push(
        &self,
        items: Vec<SyncItem>,
        atomic: SyncAtomicity,
        dry_run: bool,
        max_items: usize,
    ) -> ApiResult<PushOutcome> {
        // A role that may write nothing (ANALYST, RESEARCHER) has nothing to push: refused as a whole, as
        // each of its items would be.
        let writes = [Action::RecordServices, Action::RegisterPeople, Action::Refer, Action::ManageCases];
        if !writes.iter().any(|a| self.principal().may(*a)) {
            self.authorize(Action::RecordServices)?;
        }
        if items.len() > max_items {
            return Err(ApiError::invalid("items", format!("at most {max_items} items a batch")));
        }
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| items[i].payload.kind().rank());
        // First without savepoints (fast); if a write failed part-way, again with them.
        for savepoints in [false, true] {
            let batch = self.begin_batch(savepoints).await?;
            batch.prefetch(&items).await?;
            let mut outcomes: Vec<Option<ItemOutcome>> = (0..items.len()).map(|_| None).collect();
            for &i in &order {
                let outcome = batch.sync_item(i, items[i].clone()).await?;
                let internal = matches!(outcome.error, Some(ApiError::Internal(_)));
                outcomes[i] = Some(outcome);
                if internal && !savepoints {
                    break;
                }
            }
            let internal = outcomes.iter().flatten().any(|o| matches!(o.error, Some(ApiError::Internal(_))));
            // Queued rows go out now, so a failure among them is known before anything is reported.
            let flushed = batch.flush_batch().await.is_ok();
            if !savepoints && (internal || !flushed || batch.batch_broken()) {
                batch.finish_batch(false).await?;
                tracing::warn!(items = items.len(), "a sync batch failed part-way; redoing it with savepoints");
                continue;
            }
            let mut items: Vec<ItemOutcome> = outcomes.into_iter().flatten().collect();
            let failed = items.iter().any(|o| matches!(o.status, SyncStatus::Conflict | SyncStatus::Rejected));
            let all_or_nothing_failed = atomic == SyncAtomicity::All && failed;
            let commit = !dry_run && !all_or_nothing_failed;
            batch.finish_batch(commit).await?;
            if all_or_nothing_failed {
                for o in items.iter_mut().filter(|o| !matches!(o.status, SyncStatus::Conflict | SyncStatus::Rejected)) {
                    o.status = SyncStatus::NotApplied;
                    o.row = None;
                }
            }
            if !dry_run {
                for o in &items {
                    metrics::counter!("cbss_sync_items_total", "result" => o.status.label()).increment(1);
                }
            }
            return Ok(PushOutcome { committed: commit, dry_run, items });
        }
        Err(ApiError::Internal(anyhow::anyhow!("a sync batch failed even with savepoints")))
    }

    /// Reads in bulk what the batch's items will look up one by one.
    async fn prefetch(&self, items: &[SyncItem]) -> ApiResult<()> {
        let mut ids: HashMap<&'static str, Vec<Uuid>> = HashMap::new();
        let (mut households, mut people) = (Vec::new(), Vec::new());
        let (mut pregnancies, mut enrolments) = (Vec::new(), Vec::new());
        for item in items {
            let kind = item.payload.kind();
            ids.entry(kind.table()).or_default().push(item.id);
            match &item.payload {
                SyncPayload::Household(_) => households.push(item.id),
                SyncPayload::Person(p) => {
                    people.push(item.id);
                    households.extend(p.household_id);
                }
                SyncPayload::Pregnancy(p) => people.push(p.mother_id),
                SyncPayload::PregnancyOutcome(o) => {
                    people.extend(o.child_ids.iter().copied());
                    pregnancies.push(o.pregnancy_id);
                }
                SyncPayload::ServiceRecord(r) => {
                    people.extend(r.person_id);
                    households.extend(r.household_id);
                }
                SyncPayload::GrowthMeasurement(r) => people.push(r.person_id),
                SyncPayload::Immunisation(r) => people.push(r.person_id),
                SyncPayload::MilestoneCheck(r) => people.push(r.person_id),
                SyncPayload::Enrolment(r) => people.push(r.person_id),
                SyncPayload::HivKnowledge(r) => people.push(r.person_id),
                SyncPayload::FamilyAssessment(a) => households.push(a.household_id),
                SyncPayload::EnrolmentEnd(_) => enrolments.push(item.id),
                SyncPayload::Attendance(a) => enrolments.push(a.enrolment_id),
                SyncPayload::Referral(r) => {
                    people.extend(r.person_id);
                    households.extend(r.household_id);
                }
                SyncPayload::ProtectionCase(c) => people.push(c.person_id),
                SyncPayload::CommunityProject(_)
                | SyncPayload::ProjectReport(_)
                | SyncPayload::ReferralAnswer(_)
                | SyncPayload::ProtectionCaseChange(_) => {}
            }
        }
        // The people behind outcomes, enrolment ends and attendance: their households are locked
        // with the rest, up front.
        use {enrolment::Column as E, pregnancy::Column as G};
        people.extend(column_where_in::<pregnancy::Entity>(self, G::MotherId, G::Id, &dedup(pregnancies)).await?);
        people.extend(
            column_where_in::<enrolment::Entity>(self, E::PersonId, E::ServiceRecordId, &dedup(enrolments)).await?,
        );
        let people_rows = self.visible_where_in::<person::Entity>(person::Column::Id, &dedup(people.clone())).await?;
        households.extend(people_rows.iter().filter_map(|p| p.household_id));
        let homeless = people_rows.iter().filter(|p| p.household_id.is_none()).map(|p| p.id);
        // The batch's records, households and people without one, all locked at once, in order:
        // two batches never wait for each other in a circle, and what is read from here on stays
        // true.
        self.lock_records(ids.values().flatten().chain(&households).copied().chain(homeless)).await?;
        let taken = |table: &'static str| {
            let ids = ids.get(table).cloned().unwrap_or_default();
            async move {
                let found: HashSet<Uuid> = match table {
                    "household" => taken_ids::<household::Entity>(self, household::Column::Id, &ids).await?,
                    "person" => taken_ids::<person::Entity>(self, person::Column::Id, &ids).await?,
                    "pregnancy" => taken_ids::<pregnancy::Entity>(self, pregnancy::Column::Id, &ids).await?,
                    "family_assessment" => {
                        taken_ids::<family_assessment::Entity>(self, family_assessment::Column::Id, &ids).await?
                    }
                    _ => taken_ids::<service_record::Entity>(self, service_record::Column::Id, &ids).await?,
                };
                ApiResult::Ok(
                    ids.into_iter().filter(|id| !found.contains(id)).map(|id| (table, id)).collect::<Vec<_>>(),
                )
            }
        };
        let mut free = Vec::new();
        for table in ["household", "person", "pregnancy", "service_record", "family_assessment"] {
            free.extend(taken(table).await?);
        }
        let household_rows =
            self.visible_where_in::<household::Entity>(household::Column::Id, &dedup(households)).await?;
        let consented = consented(self, household_rows.iter().map(|h| h.id).collect()).await?;
        let people = dedup(people);
        let doses = super::doses::dose_rows(self.db(), &people).await?;
        self.cached(|c| {
            // Everyone's doses, none for those who have none yet.
            c.doses.extend(people.iter().map(|p| (*p, Vec::new())));
            c.doses.extend(doses);
            c.free_ids.extend(free);
            c.people.extend(people_rows.into_iter().map(|p| (p.id, p)));
            c.households.extend(household_rows.into_iter().map(|h| (h.id, h)));
            c.consented.extend(consented);
        });
        Ok(())
    }

    /// Runs one item; its failure is its outcome, not the batch's.
    async fn sync_item(&self, index: usize, item: SyncItem) -> ApiResult<ItemOutcome> {
        let (id, base, kind) = (item.id, item.base_version, item.payload.kind());
        let context = match item.client_timestamp {
            Some(t) => {
                format!("syncPush item {index}, device time {}", t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            }
            None => format!("syncPush item {index}"),
        };
        self.cached(|c| c.item_context = Some(context));
        let (status, row, error) = match self.settle(id, base, item.payload).await {
            Ok((status, row)) => (status, Some(row), None),
            Err(ApiError::Conflict { message, current: Some(row), path }) => {
                (SyncStatus::Conflict, Some(*row), Some(ApiError::Conflict { message, current: None, path }))
            }
            Err(e) => (SyncStatus::Rejected, None, Some(e)),
        };
        Ok(ItemOutcome { index, id, kind, status, row, error })
    }

    /// What a record sent with the client's id `id` comes to (`base`: the version the client
    /// last saw, None for a record it made): CREATED when the id is new; UNCHANGED, with the
    /// stored record and nothing written, when the stored record already holds this content (a
    /// retry); UPDATED where the kind can be edited and `base` is current; otherwise a CONFLICT
    /// carrying the stored record, when the caller may see it. Sync items and the create
    /// mutations' retries (`Store::create`) both come here.
    pub(crate) async fn settle(
        &self,
        id: Uuid,
        base: Option<i32>,
        payload: SyncPayload,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        let kind = payload.kind();
        let result = match payload {
            SyncPayload::Household(input) => self.sync_household(id, base, input).await,
            SyncPayload::Person(input) => self.sync_person(id, base, input).await,
            SyncPayload::Pregnancy(input) => self.sync_pregnancy(id, base, input).await,
            SyncPayload::PregnancyOutcome(input) => self.sync_outcome(id, base, input).await,
            SyncPayload::EnrolmentEnd(input) => self.sync_enrolment_end(id, base, input).await,
            SyncPayload::Attendance(input) => self.sync_attendance(id, base, input).await,
            SyncPayload::FamilyAssessment(input) => self.sync_assessment(id, base, input).await,
            SyncPayload::CommunityProject(input) => self.sync_project(id, base, input).await,
            SyncPayload::ProjectReport(input) => self.sync_report(id, base, input).await,
            SyncPayload::Referral(input) => self.sync_referral(id, base, input).await,
            SyncPayload::ReferralAnswer(input) => self.sync_referral_answer(id, base, input).await,
            SyncPayload::ProtectionCase(input) => self.sync_case(id, base, input).await,
            SyncPayload::ProtectionCaseChange(input) => self.sync_case_change(id, base, input).await,
            payload => self.sync_service(id, base, payload).await,
        };
        match result {
            Err(ApiError::Conflict { message, current: None, path }) => {
                let current = self.synced_row(kind, id).await?.map(Box::new);
                Err(ApiError::Conflict { message, current, path })
            }
            other => other,
        }
    }

    /// The record an item's id names, as the caller may see it.
    pub(crate) async fn synced_row(&self, kind: SyncKind, id: Uuid) -> ApiResult<Option<SyncedRow>> {
        let found = match kind {
            SyncKind::Household => self.household(id).await.map(SyncedRow::Household),
            SyncKind::Person => self.person(id).await.map(SyncedRow::Person),
            SyncKind::Pregnancy | SyncKind::PregnancyOutcome => self.pregnancy(id).await.map(SyncedRow::Pregnancy),
            SyncKind::FamilyAssessment => self.family_assessment(id).await.map(SyncedRow::FamilyAssessment),
            SyncKind::CommunityProject => self.community_project(id).await.map(SyncedRow::CommunityProject),
            SyncKind::ProjectReport => self.visible_report(id).await.map(SyncedRow::ProjectReport),
            SyncKind::Referral | SyncKind::ReferralAnswer => self.referral(id).await.map(SyncedRow::Referral),
            SyncKind::ProtectionCase | SyncKind::ProtectionCaseChange => {
                self.protection_case(id).await.map(SyncedRow::ProtectionCase)
            }
            _ => self.own_service_record(id).await.map(SyncedRow::ServiceRecord),
        };
        match found {
            Ok(row) => Ok(Some(row)),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

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

    async fn sync_household(
        &self,
        id: Uuid,
        base: Option<i32>,
        mut input: NewHousehold,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        same_id(input.id, id, "input.id")?;
        let Some(current) = self.known::<household::Entity, _, _>(SyncKind::Household, id, self.household(id)).await?
        else {
            input.id = Some(id);
            return Ok((SyncStatus::Created, SyncedRow::Household(self.create_household(input).await?)));
        };
        // Sent as new (no base version), it is a retry only if the consent it came with is the
        // one recorded with it.
        if base.is_none() && !self.consents_of(&[id]).await?.iter().any(|c| input.consent.matches(c, id)) {
            return Err(not_editable(current.version, base, "a household's first consent"));
        }
        // The consent travels with the household's first version only; later ones are records
        // of their own (`recordConsent`).
        let changes = HouseholdChanges {
            id,
            expected_version: Some(base.unwrap_or(0)),
            org_unit_id: Some(input.org_unit_id),
            address: maybe(input.address),
            description: maybe(input.description),
            dwelling: Some(input.dwelling),
            is_herder: Some(input.is_herder),
            migrant_status: Some(input.migrant_status),
            registered_on: input.registered_on,
        };
        let saved = self.update_household(changes).await?;
        let status = if saved.version == current.version { SyncStatus::Unchanged } else { SyncStatus::Updated };
        Ok((status, SyncedRow::Household(saved)))
    }

    async fn sync_person(
        &self,
        id: Uuid,
        base: Option<i32>,
        mut input: NewPerson,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        same_id(input.id, id, "input.id")?;
        let Some(current) = self.known::<person::Entity, _, _>(SyncKind::Person, id, self.person(id)).await? else {
            input.id = Some(id);
            return Ok((SyncStatus::Created, SyncedRow::Person(self.register_person(input).await?)));
        };
        // Sent as new (no base version), it is a retry only if it was placed where it says (an
        // update keeps a household left out, and never takes a unit).
        let placed = input.household_id == current.household_id
            && (input.household_id.is_some() || input.org_unit_id.is_none_or(|u| u == current.org_unit_id));
        if base.is_none() && !placed {
            return Err(not_editable(current.version, base, "a person's household or unit"));
        }
        let changes = PersonChanges {
            id,
            expected_version: Some(base.unwrap_or(0)),
            household_id: input.household_id,
            given_name: Some(input.given_name),
            family_name: Some(input.family_name),
            sex: Some(input.sex),
            birth_date: Some(input.birth_date),
            birth_date_estimated: Some(input.birth_date_estimated),
            relation_to_head: maybe(input.relation_to_head),
            registry_number: maybe(input.registry_number),
            phone: maybe(input.phone),
            disability: maybe(input.disability),
            date_of_death: maybe(input.date_of_death),
        };
        let saved = self.update_person(changes).await?;
        let status = if saved.version == current.version { SyncStatus::Unchanged } else { SyncStatus::Updated };
        Ok((status, SyncedRow::Person(saved)))
    }

    async fn sync_pregnancy(
        &self,
        id: Uuid,
        base: Option<i32>,
        mut input: NewPregnancy,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        same_id(input.id, id, "input.id")?;
        let Some(current) = self.known::<pregnancy::Entity, _, _>(SyncKind::Pregnancy, id, self.pregnancy(id)).await?
        else {
            input.id = Some(id);
            return Ok((SyncStatus::Created, SyncedRow::Pregnancy(self.register_pregnancy(input).await?)));
        };
        let same = input.mother_id == current.mother_id
            && input.last_menstrual_period == current.last_menstrual_period
            && input.expected_delivery_date.is_none_or(|d| d == current.expected_delivery_date)
            && input.registered_on.is_none_or(|d| d == current.registered_on);
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::Pregnancy(current)));
        }
        Err(not_editable(current.version, base, "a pregnancy's registration (its outcome is an item of its own)"))
    }

    async fn sync_outcome(
        &self,
        id: Uuid,
        base: Option<i32>,
        mut input: PregnancyOutcomeInput,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        if input.pregnancy_id != id {
            return Err(ApiError::invalid("input.pregnancyId", "must be the item's id"));
        }
        let current =
            self.pregnancy(id).await.map_err(|_| ApiError::invalid("input.pregnancyId", "unknown pregnancy"))?;
        if current.outcome.is_some() {
            let children: HashSet<Uuid> = pregnancy_child::Entity::find()
                .filter(pregnancy_child::Column::PregnancyId.eq(id))
                .all(self.db())
                .await?
                .into_iter()
                .map(|l| l.child_id)
                .collect();
            let same = current.outcome.as_deref() == Some(input.outcome.as_str())
                && current.outcome_date == Some(input.outcome_date)
                && current.delivery_place.as_deref() == input.delivery_place.map(|d| d.as_str())
                && current.attendant.as_deref() == input.attendant.map(|a| a.as_str())
                && children == input.child_ids.iter().copied().collect::<HashSet<_>>();
            if same {
                return Ok((SyncStatus::Unchanged, SyncedRow::Pregnancy(current)));
            }
            return Err(ApiError::conflict("the outcome of this pregnancy is already recorded"));
        }
        // An outcome always follows a registration: without a base version the client means the
        // pregnancy as first registered (often by its own earlier item).
        input.expected_version = Some(base.unwrap_or(1));
        Ok((SyncStatus::Updated, SyncedRow::Pregnancy(self.record_pregnancy_outcome(input).await?)))
    }

    /// Resent with the same day and reason, an enrolment's end is UNCHANGED; an enrolment that
    /// ended otherwise is a CONFLICT (as `endEnrolment` makes a second end).
    async fn sync_enrolment_end(
        &self,
        id: Uuid,
        base: Option<i32>,
        input: EnrolmentEnd,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        let unknown = || ApiError::invalid("id", "is not an enrolment recorded here");
        let record = self.service_record(id).await.map_err(|_| unknown())?;
        let current = enrolment::Entity::find_by_id(id).one(self.db()).await?.ok_or_else(unknown)?;
        if let Some(ended) = current.ended_on {
            if ended == input.ended_on && current.end_reason.as_deref() == Some(input.reason.as_str()) {
                return Ok((SyncStatus::Unchanged, SyncedRow::ServiceRecord(record)));
            }
            return Err(ApiError::conflict(format!("the enrolment already ended on {ended}")));
        }
        // Nothing else changes an enrolment's record: without a base version the client means
        // it as first recorded (often by its own earlier item).
        let end =
            EndEnrolment { id, expected_version: base.unwrap_or(1), ended_on: input.ended_on, reason: input.reason };
        Ok((SyncStatus::Updated, SyncedRow::ServiceRecord(self.end_enrolment(end).await?)))
    }

    /// Attendance is a record of a period: resent, the same period and days are UNCHANGED;
    /// changed, it is refused (as other service records are).
    async fn sync_attendance(
        &self,
        id: Uuid,
        base: Option<i32>,
        mut input: NewAttendance,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        same_id(input.id, id, "input.id")?;
        let known = self.known::<service_record::Entity, _, _>(SyncKind::Attendance, id, self.service_record(id));
        let Some(current) = known.await? else {
            input.id = Some(id);
            return Ok((SyncStatus::Created, SyncedRow::ServiceRecord(self.record_attendance(input).await?)));
        };
        let st = self.service_type_by_code(&input.service_type_code, "input.serviceTypeCode").await?;
        let stored = attendance::Entity::find_by_id(id).one(self.db()).await?;
        let same = st.id == current.service_type_id
            && current.service_date == input.period_end
            && input.org_unit_id.is_none_or(|u| u == current.org_unit_id)
            && same_text(&input.provider, &current.provider)
            && same_text(&input.note, &current.note)
            && stored.is_some_and(|a| {
                a.enrolment_id == input.enrolment_id
                    && a.period_start == input.period_start
                    && a.days_present == input.days_present
                    && a.days_expected == input.days_expected
            });
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::ServiceRecord(current)));
        }
        Err(not_editable(current.version, base, "an attendance record"))
    }

    async fn sync_assessment(
        &self,
        id: Uuid,
        base: Option<i32>,
        mut input: NewAssessment,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        same_id(input.id, id, "input.id")?;
        let known =
            self.known::<family_assessment::Entity, _, _>(SyncKind::FamilyAssessment, id, self.family_assessment(id));
        let Some(current) = known.await? else {
            input.id = Some(id);
            let saved = self.record_family_assessment(input).await?;
            return Ok((SyncStatus::Created, SyncedRow::FamilyAssessment(saved)));
        };
        // A visit is a record of what was found that day: resent, it is the same visit; changed,
        // it is refused (a new visit is a new item).
        let stored: HashSet<(Uuid, String)> = assessment_answer::Entity::find()
            .filter(assessment_answer::Column::AssessmentId.eq(id))
            .all(self.db())
            .await?
            .into_iter()
            .filter(|a| a.answer != "NOT_APPLICABLE")
            .map(|a| (a.indicator_id, a.answer))
            .collect();
        let indicators = self.indicators_of(current.instrument_id).await?;
        let given: HashSet<(Uuid, String)> = input
            .answers
            .iter()
            .filter(|a| a.answer.as_str() != "NOT_APPLICABLE")
            .filter_map(|a| {
                indicators.iter().find(|i| i.code == a.indicator_code).map(|i| (i.id, a.answer.as_str().to_string()))
            })
            .collect();
        let same = input.household_id == current.household_id
            && input.assessed_on.is_none_or(|d| d == current.assessed_on)
            && given == stored
            && same_text(&input.note, &current.note)
            && self.same_assessment_details(&current, &input).await?;
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::FamilyAssessment(current)));
        }
        Err(not_editable(current.version, base, "a family assessment"))
    }

    async fn sync_project(
        &self,
        id: Uuid,
        base: Option<i32>,
        mut input: NewProject,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        same_id(input.id, id, "input.id")?;
        let known =
            self.known::<community_project::Entity, _, _>(SyncKind::CommunityProject, id, self.community_project(id));
        let Some(current) = known.await? else {
            input.id = Some(id);
            return Ok((
                SyncStatus::Created,
                SyncedRow::CommunityProject(self.propose_community_project(input).await?),
            ));
        };
        let same = current.org_unit_id == input.org_unit_id
            && current.area == input.area.as_str()
            && current.title == stored_form(&input.title)
            && current.objectives == stored_form(&input.objectives)
            && current.starts_on == input.starts_on
            && current.ends_on == input.ends_on
            && self.same_project_details(id, &input).await?;
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::CommunityProject(current)));
        }
        Err(not_editable(current.version, base, "a project's proposal"))
    }

    async fn sync_report(
        &self,
        id: Uuid,
        base: Option<i32>,
        mut input: NewReport,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        same_id(input.id, id, "input.id")?;
        let known = self.known::<project_report::Entity, _, _>(SyncKind::ProjectReport, id, self.visible_report(id));
        let Some(current) = known.await? else {
            input.id = Some(id);
            return Ok((SyncStatus::Created, SyncedRow::ProjectReport(self.report_community_project(input).await?)));
        };
        let same = current.project_id == input.project_id
            && input.reported_on.is_none_or(|d| d == current.reported_on)
            && current.progress_percent == input.progress_percent
            && current.narrative == stored_form(&input.narrative)
            && current.households_reached == input.households_reached
            && current.people_reached == input.people_reached;
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::ProjectReport(current)));
        }
        Err(not_editable(current.version, base, "a monitoring report"))
    }

    async fn sync_referral(
        &self,
        id: Uuid,
        base: Option<i32>,
        mut input: NewReferral,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        same_id(input.id, id, "input.id")?;
        let Some(current) = self.known::<referral::Entity, _, _>(SyncKind::Referral, id, self.referral(id)).await?
        else {
            input.id = Some(id);
            return Ok((SyncStatus::Created, SyncedRow::Referral(self.send_referral(input).await?)));
        };
        // A referral is sent once: resent, it is the same referral; changed, it is refused (its
        // answers are items of their own).
        let service_type = match &input.service_type_code {
            Some(code) => Some(self.service_type_by_code(code, "input.serviceTypeCode").await?.id),
            None => None,
        };
        let same = current.person_id == input.person_id
            && (input.household_id.is_none() || current.household_id == input.household_id)
            && current.need == input.need.as_str()
            && current.service_type_id == service_type
            && current.to_org_unit_id == input.to_org_unit_id
            && current.to_partner_id == input.to_partner_id
            && same_text(&input.provider, &current.provider)
            && current.urgency == input.urgency.as_str()
            && input.sent_on.is_none_or(|d| d == current.sent_on)
            && input.due_by.is_none_or(|d| d == current.due_by)
            && current.reason == stored_form(&input.reason)
            && current.raised_by.as_deref() == input.raised_by.map(|t| t.as_str())
            && current.raised_by_id == input.raised_by_id;
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::Referral(current)));
        }
        Err(not_editable(current.version, base, "a referral as sent"))
    }

    /// Resent, an answer already given is UNCHANGED; a referral answered otherwise since
    /// `base` is a CONFLICT.
    async fn sync_referral_answer(
        &self,
        id: Uuid,
        base: Option<i32>,
        input: ReferralAnswerItem,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        let current = self.referral(id).await.map_err(|_| ApiError::invalid("id", "is not a referral you see"))?;
        let same = current.status == input.to.as_str()
            && current.close_reason.as_deref() == input.close_reason.map(|r| r.as_str())
            && input.service_record_id.is_none_or(|r| current.completed_by_record_id == Some(r))
            && (input.note.is_none() || same_text(&input.note, &current.answer_note));
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::Referral(current)));
        }
        let answer = ReferralAnswer {
            id,
            expected_version: Some(base.unwrap_or(1)),
            to: input.to,
            note: input.note,
            close_reason: input.close_reason,
            service_record_id: input.service_record_id,
        };
        Ok((SyncStatus::Updated, SyncedRow::Referral(self.answer_referral(answer).await?)))
    }

    async fn sync_case(
        &self,
        id: Uuid,
        base: Option<i32>,
        mut input: NewProtectionCase,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        same_id(input.id, id, "input.id")?;
        let opened = self.protection_case(id);
        let Some(current) = self.known::<protection_case::Entity, _, _>(SyncKind::ProtectionCase, id, opened).await?
        else {
            input.id = Some(id);
            return Ok((SyncStatus::Created, SyncedRow::ProtectionCase(self.open_protection_case(input).await?)));
        };
        // A case is opened once: resent, it is the same case; its steps are items of their own.
        let same = current.person_id == input.person_id
            && current.concern == input.concern.as_str()
            && input.opened_on.is_none_or(|d| d == current.opened_on)
            && same_text(&input.summary, &current.summary)
            && input.case_worker_id.is_none_or(|w| w == current.assigned_to || current.version > 1);
        // The risk as opened is the first step's (later reviews change the case's own).
        let opened_at = self.case_steps(&[current.id]).await?.into_iter().next().and_then(|s| s.risk_level);
        let same = same && opened_at.as_deref() == Some(input.risk_level.as_str());
        if same {
            return Ok((SyncStatus::Unchanged, SyncedRow::ProtectionCase(current)));
        }
        Err(not_editable(current.version, base, "a protection case as opened"))
    }

    /// Resent, a step already taken (the case's latest, by the caller, on `base`) is
    /// UNCHANGED; a case changed otherwise since `base` is a CONFLICT.
    async fn sync_case_change(
        &self,
        id: Uuid,
        base: Option<i32>,
        input: CaseChange,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        let current =
            self.protection_case(id).await.map_err(|_| ApiError::invalid("id", "is not a protection case you see"))?;
        let base = base.unwrap_or(1);
        if self.case_change_applied(&current, base, &input).await? {
            return Ok((SyncStatus::Unchanged, SyncedRow::ProtectionCase(current)));
        }
        let update = CaseUpdate { id, expected_version: Some(base), change: input };
        Ok((SyncStatus::Updated, SyncedRow::ProtectionCase(self.update_protection_case(update).await?)))
    }

    /// A report of a project the caller may see.
    async fn visible_report(&self, id: Uuid) -> ApiResult<project_report::Model> {
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

    async fn sync_service(
        &self,
        id: Uuid,
        base: Option<i32>,
        payload: SyncPayload,
    ) -> ApiResult<(SyncStatus, SyncedRow)> {
        let kind = payload.kind();
        let given = payload.record().and_then(|r| r.id);
        same_id(given, id, "input.id")?;
        let known = self.known::<service_record::Entity, _, _>(kind, id, self.own_service_record(id)).await?;
        let Some(current) = known else {
            let saved = match payload {
                SyncPayload::ServiceRecord(mut r) => {
                    r.id = Some(id);
                    self.record_service(r).await?
                }
                SyncPayload::GrowthMeasurement(mut r) => {
                    r.id = Some(id);
                    self.record_growth_measurement(r).await?
                }
                SyncPayload::Immunisation(mut r) => {
                    r.id = Some(id);
                    self.record_immunisation(r).await?
                }
                SyncPayload::MilestoneCheck(mut r) => {
                    r.id = Some(id);
                    self.record_milestone_check(r).await?
                }
                SyncPayload::Enrolment(mut r) => {
                    r.id = Some(id);
                    self.record_enrolment(r).await?
                }
                SyncPayload::HivKnowledge(mut r) => {
                    r.id = Some(id);
                    self.record_hiv_knowledge(r).await?
                }
                _ => unreachable!("only service kinds reach here"),
            };
            return Ok((SyncStatus::Created, SyncedRow::ServiceRecord(saved)));
        };
        match self.same_service(&current, &payload).await? {
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
                Ok((SyncStatus::Updated, SyncedRow::ServiceRecord(self.correct_growth_measurement(correction).await?)))
            }
            _ => {
                Err(not_editable(current.version, base, "a service record (other than a growth measurement's values)"))
            }
        }
    }

    /// How a stored service record differs from a payload.
    async fn same_service(&self, current: &service_record::Model, payload: &SyncPayload) -> ApiResult<Sameness> {
        let Some(r) = payload.record() else {
            return Ok(Sameness::Different);
        };
        let st = self.service_type_by_code(&r.service_type_code, "input.serviceTypeCode").await?;
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
        let detail_same = match payload {
            SyncPayload::GrowthMeasurement(r) => {
                let Some(m) = growth_measurement::Entity::find_by_id(id).one(self.db()).await? else {
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
            SyncPayload::Immunisation(r) => {
                let stored = immunisation::Entity::find_by_id(id).one(self.db()).await?;
                let antigen =
                    antigen::Entity::find().filter(antigen::Column::Code.eq(&r.antigen_code)).one(self.db()).await?;
                match (stored, antigen) {
                    (Some(s), Some(a)) => s.antigen_id == a.id && s.dose_number == r.dose_number,
                    _ => false,
                }
            }
            SyncPayload::MilestoneCheck(r) => {
                let stored: HashSet<(Uuid, bool)> = milestone_check::Entity::find()
                    .filter(milestone_check::Column::ServiceRecordId.eq(id))
                    .all(self.db())
                    .await?
                    .into_iter()
                    .map(|c| (c.milestone_id, c.achieved))
                    .collect();
                // A code no milestone can have is not looked up (PostgreSQL refuses a NUL in it).
                let codes: Vec<&str> =
                    r.items.iter().map(|i| i.milestone_code.as_str()).filter(|c| validate::plain(c)).collect();
                let ids: HashMap<String, Uuid> = milestone::Entity::find()
                    .filter(milestone::Column::Code.is_in(codes))
                    .all(self.db())
                    .await?
                    .into_iter()
                    .map(|m| (m.code, m.id))
                    .collect();
                let given: Option<HashSet<(Uuid, bool)>> =
                    r.items.iter().map(|i| ids.get(&i.milestone_code).map(|m| (*m, i.achieved))).collect();
                given.is_some_and(|g| g == stored)
            }
            SyncPayload::Enrolment(r) => {
                let stored = enrolment::Entity::find_by_id(id).one(self.db()).await?;
                stored.is_some_and(|e| {
                    e.institution == stored_form(&r.institution)
                        && same_text(&r.grade, &e.grade)
                        && r.grade_number == e.grade_number
                })
            }
            SyncPayload::HivKnowledge(r) => {
                let stored = hiv_knowledge::Entity::find_by_id(id).one(self.db()).await?;
                stored.map(|k| stored_answers(&k)).transpose()?.is_some_and(|a| a == r.answers())
            }
            _ => true,
        };
        Ok(if detail_same { Sameness::Same } else { Sameness::Different })
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

enum Sameness {
    Same,
    /// Only a growth measurement's values differ (correctable).
    Measurement(NewGrowthMeasurement),
    Different,
}

fn dedup(mut ids: Vec<Uuid>) -> Vec<Uuid> {
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// Which of `ids` exist in `E` (in any scope).
async fn taken_ids<E>(store: &Store, column: E::Column, ids: &[Uuid]) -> ApiResult<HashSet<Uuid>>
where
    E: EntityTrait,
{
    Ok(column_where_in::<E>(store, column, column, ids).await?.into_iter().collect())
}

/// The `out` column (an id) of the rows of `E` whose `key` is one of `keys` (in any scope).
async fn column_where_in<E>(store: &Store, out: E::Column, key: E::Column, keys: &[Uuid]) -> ApiResult<Vec<Uuid>>
where
    E: EntityTrait,
{
    let mut found = Vec::new();
    for chunk in keys.chunks(1000) {
        let rows: Vec<Uuid> = E::find()
            .select_only()
            .column(out)
            .filter(key.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(store.db())
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Which of `households` have a consent in force today.
async fn consented(store: &Store, households: Vec<Uuid>) -> ApiResult<Vec<Uuid>> {
    let on = super::today();
    let mut out = Vec::new();
    for chunk in households.chunks(1000) {
        let rows: Vec<Uuid> = consent::Entity::find()
            .select_only()
            .column(consent::Column::HouseholdId)
            .filter(consent::Column::HouseholdId.is_in(chunk.iter().copied()))
            .filter(consent::Column::GivenOn.lte(on))
            .filter(
                Condition::any().add(consent::Column::WithdrawnOn.is_null()).add(consent::Column::WithdrawnOn.gt(on)),
            )
            .into_tuple()
            .all(store.db())
            .await?;
        out.extend(rows);
    }
    Ok(out)
}

/// The most changes one pull returns.
pub const MAX_CHANGES: usize = 1000;

/// A change a device pulls: the record as it is now, or a tombstone.
#[derive(Clone)]
pub struct Change {
    pub seq: i64,
    pub id: Uuid,
    pub row: Option<SyncedRow>,
    /// A tombstone: the entity of the record to drop, and why.
    pub deleted: Option<tombstone::Model>,
    pub cursor: String,
}

pub struct ChangesPage {
    pub changes: Vec<Change>,
    /// Where the next pull starts (the last change's cursor, or `since` when nothing changed).
    pub end_cursor: String,
    pub has_more: bool,
}

/// A position in the change stream: (change number, table rank, id) orders every change.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Position {
    seq: i64,
    rank: u8,
    id: Uuid,
}

impl Position {
    const START: Position = Position { seq: -1, rank: 0, id: Uuid::nil() };

    fn encode(self) -> String {
        format!("{}.{}.{}", self.seq, self.rank, self.id.simple())
    }

    fn decode(cursor: &str) -> ApiResult<Self> {
        let bad = || ApiError::invalid("since", "is not a cursor returned by changes");
        let mut parts = cursor.splitn(3, '.');
        let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let rank = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let id = parts.next().and_then(|p| Uuid::parse_str(p).ok()).ok_or_else(bad)?;
        Ok(Self { seq, rank, id })
    }

    /// Rows of a table of `rank` that come after this position.
    fn after<C: ColumnTrait>(self, rank: u8, seq: C, id: C) -> Condition {
        match rank.cmp(&self.rank) {
            std::cmp::Ordering::Less => Condition::all().add(seq.gt(self.seq)),
            std::cmp::Ordering::Greater => Condition::all().add(seq.gte(self.seq)),
            std::cmp::Ordering::Equal => {
                Condition::any().add(seq.gt(self.seq)).add(Condition::all().add(seq.eq(self.seq)).add(id.gt(self.id)))
            }
        }
    }
}

/// The next `limit` rows of `select` (one table, already restricted to what the caller sees)
/// after `from`.
async fn next_rows<E, C>(
    select: Select<E>,
    conn: &C,
    from: Position,
    rank: u8,
    (seq_col, id_col): (E::Column, E::Column),
    limit: u64,
) -> ApiResult<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: Send + Sync,
    C: ConnectionTrait,
{
    let q = select.filter(from.after(rank, seq_col, id_col));
    Ok(q.order_by_asc(seq_col).order_by_asc(id_col).limit(limit).all(conn).await?)
}

impl Store {
    /// Everything in the caller's view scope that changed after `since`, oldest change first.
    pub async fn changes(&self, since: Option<String>, first: Option<i32>) -> ApiResult<ChangesPage> {
        if !self.principal().is_authenticated() {
            return Err(ApiError::Unauthenticated);
        }
        if !self.identified() {
            // Pulling is for the devices of people who work with identified records; analysts
            // query the de-identified data instead (a cursor would also carry real ids).
            return Err(ApiError::Forbidden);
        }
        let limit = match first {
            None => 100,
            Some(n) if n >= 1 && n as usize <= MAX_CHANGES => n as usize,
            Some(_) => return Err(ApiError::invalid("first", format!("must be 1 to {MAX_CHANGES}"))),
        };
        let from = since.as_deref().map(Position::decode).transpose()?.unwrap_or(Position::START);
        let postgres = self.db().get_database_backend() == sea_orm::DbBackend::Postgres;
        let deadline = std::time::Instant::now() + super::horizon::WAIT;
        let (all, has_more) = loop {
            // One snapshot for every table: a change committed between two of the reads must
            // not be half-seen (its other rows would then be skipped by the next pull).
            let txn = if postgres {
                self.db().begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
            } else {
                self.db().begin().await?
            };
            let horizon = if postgres { Some(super::horizon::Horizon::of(&txn).await?) } else { None };
            let n = limit as u64 + 1;
            let mut all: Vec<(Position, Option<SyncedRow>, Option<tombstone::Model>)> = Vec::new();
            use household::Column as H;
            for r in next_rows(self.visible(household::Entity::find()), &txn, from, 0, (H::ChangeSeq, H::Id), n).await?
            {
                all.push((Position { seq: r.change_seq, rank: 0, id: r.id }, Some(SyncedRow::Household(r)), None));
            }
            use person::Column as P;
            for r in next_rows(self.visible(person::Entity::find()), &txn, from, 1, (P::ChangeSeq, P::Id), n).await? {
                all.push((Position { seq: r.change_seq, rank: 1, id: r.id }, Some(SyncedRow::Person(r)), None));
            }
            use pregnancy::Column as G;
            for r in next_rows(self.visible(pregnancy::Entity::find()), &txn, from, 2, (G::ChangeSeq, G::Id), n).await?
            {
                all.push((Position { seq: r.change_seq, rank: 2, id: r.id }, Some(SyncedRow::Pregnancy(r)), None));
            }
            use service_record::Column as S;
            for r in
                next_rows(self.visible(service_record::Entity::find()), &txn, from, 3, (S::ChangeSeq, S::Id), n).await?
            {
                all.push((Position { seq: r.change_seq, rank: 3, id: r.id }, Some(SyncedRow::ServiceRecord(r)), None));
            }
            use consent::Column as K;
            for r in next_rows(self.visible(consent::Entity::find()), &txn, from, 4, (K::ChangeSeq, K::Id), n).await? {
                all.push((Position { seq: r.change_seq, rank: 4, id: r.id }, Some(SyncedRow::Consent(r)), None));
            }
            use family_assessment::Column as A;
            for r in next_rows(self.visible(family_assessment::Entity::find()), &txn, from, 5, (A::ChangeSeq, A::Id), n)
                .await?
            {
                all.push((
                    Position { seq: r.change_seq, rank: 5, id: r.id },
                    Some(SyncedRow::FamilyAssessment(r)),
                    None,
                ));
            }
            use tombstone::Column as T;
            let mut tombstones = self.visible(tombstone::Entity::find());
            if !self.principal().may(Action::ManageCases) {
                // A case's tombstone is for the devices of those who worked on it.
                tombstones = tombstones.filter(T::Entity.ne(CASE_TOMBSTONE));
            }
            for r in next_rows(tombstones, &txn, from, 6, (T::ChangeSeq, T::Id), n).await? {
                all.push((Position { seq: r.change_seq, rank: 6, id: r.id }, None, Some(r)));
            }
            // Projects are seen by their own rule (`access::projects_condition`: partner staff see
            // the ones their organisation funds or implements), and reports with their project.
            use community_project::Column as C;
            let projects = self.visible_projects(community_project::Entity::find());
            for r in next_rows(projects, &txn, from, 7, (C::ChangeSeq, C::Id), n).await? {
                all.push((
                    Position { seq: r.change_seq, rank: 7, id: r.id },
                    Some(SyncedRow::CommunityProject(r)),
                    None,
                ));
            }
            use project_report::Column as R;
            let reports = self.visible_reports(project_report::Entity::find());
            for r in next_rows(reports, &txn, from, 8, (R::ChangeSeq, R::Id), n).await? {
                all.push((Position { seq: r.change_seq, rank: 8, id: r.id }, Some(SyncedRow::ProjectReport(r)), None));
            }
            // Referrals by their own rule (`access::referrals_condition`: both sides see them).
            use referral::Column as F;
            let referrals = self.visible_referrals(referral::Entity::find());
            for r in next_rows(referrals, &txn, from, 9, (F::ChangeSeq, F::Id), n).await? {
                all.push((Position { seq: r.change_seq, rank: 9, id: r.id }, Some(SyncedRow::Referral(r)), None));
            }
            // Protection cases to those who work on them only (`access::cases_condition`).
            if self.principal().may(Action::ManageCases) {
                use protection_case::Column as K;
                let cases = self.visible_cases(protection_case::Entity::find());
                let rows = next_rows(cases, &txn, from, 10, (K::ChangeSeq, K::Id), n).await?;
                let pulled: Vec<protection_case::Model> = rows.clone();
                for r in rows {
                    let at = Position { seq: r.change_seq, rank: 10, id: r.id };
                    all.push((at, Some(SyncedRow::ProtectionCase(r)), None));
                }
                self.log_case_reads(&pulled).await?;
            }
            txn.commit().await?;
            all.sort_by_key(|(p, _, _)| *p);
            // Only what is final: a change numbered above a writer still running waits for it.
            let last = all.len().min(limit);
            let final_rows =
                horizon.as_ref().map_or(last, |h| all[..last].partition_point(|(p, _, _)| p.seq < h.below));
            if let Some(h) = horizon.as_ref().filter(|_| final_rows < last)
                && h.wait_below(self.db(), all[final_rows].0.seq, deadline).await?
            {
                continue;
            }
            let has_more = all.len() > final_rows;
            all.truncate(final_rows);
            break (all, has_more);
        };
        let end_cursor = all.last().map(|(p, _, _)| p.encode()).or(since).unwrap_or_else(|| Position::START.encode());
        let changes = all
            .into_iter()
            .map(|(p, row, deleted)| Change {
                seq: p.seq,
                id: deleted.as_ref().map_or(p.id, |t| t.entity_id),
                row,
                deleted,
                cursor: p.encode(),
            })
            .collect();
        Ok(ChangesPage { changes, end_cursor, has_more })
    }
}
