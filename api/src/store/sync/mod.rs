//! Offline sync: batch push (`push`: `Store::sync_push`) and delta pull (`pull`:
//! `Store::changes`), and what an item is (here).
//!
//! Push runs every item through the same store methods as the single-record mutations, inside
//! one batch transaction (see `write.rs`), in dependency order (households, people,
//! pregnancies, outcomes, services) so an item may refer to any other item of its batch.
//! The client's ids make it idempotent: a known id with the stored content is UNCHANGED. Each
//! kind's handler (`kinds::Settle`) says how its record is made and how a payload sent again
//! compares with it; `with_handler!` is the one dispatch from a payload to its handler.

mod kinds;
mod pull;
mod push;

pub use pull::{Change, ChangesPage, MAX_CHANGES};

use super::Store;
use super::hiv_knowledge::NewHivKnowledge;
use super::households::NewHousehold;
use super::people::NewPerson;
use super::pregnancies::{NewPregnancy, PregnancyOutcomeInput};
use super::services::{NewAttendance, NewEnrolment, NewGrowthMeasurement, NewImmunisation, NewServiceRecord};
use super::{CaseChange, NewAssessment, NewMilestoneCheck, NewProject, NewProtectionCase, NewReferral, NewReport};
use crate::domain::vocab::{EnrolmentEndReason, ReferralCloseReason, ReferralStatus};
use crate::error::{ApiError, ApiResult};
use async_graphql::{Enum, InputObject, OneofObject};
use chrono::{DateTime, Utc};
use entity::{
    community_project, consent, family_assessment, household, person, pregnancy, project_report, protection_case,
    referral, service_record,
};
use kinds::{ServiceItem, Settle, Settled};
use uuid::Uuid;

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

/// The record an item of a kind makes or changes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RecordKind {
    Household,
    Person,
    Pregnancy,
    ServiceRecord,
    FamilyAssessment,
    CommunityProject,
    ProjectReport,
    Referral,
    ProtectionCase,
}

impl RecordKind {
    /// What such a record is called in messages.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Self::Household => "household",
            Self::Person => "person",
            Self::Pregnancy => "pregnancy",
            Self::ServiceRecord => "service record",
            Self::FamilyAssessment => "family assessment",
            Self::CommunityProject => "community project",
            Self::ProjectReport => "report",
            Self::Referral => "referral",
            Self::ProtectionCase => "protection case",
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Self::Household => "household",
            Self::Person => "person",
            Self::Pregnancy => "pregnancy",
            Self::ServiceRecord => "service_record",
            Self::FamilyAssessment => "family_assessment",
            Self::CommunityProject => "community_project",
            Self::ProjectReport => "project_report",
            Self::Referral => "referral",
            Self::ProtectionCase => "protection_case",
        }
    }
}

impl SyncKind {
    /// The record an item of this kind makes or changes.
    pub(crate) fn record(self) -> RecordKind {
        match self {
            Self::Household => RecordKind::Household,
            Self::Person => RecordKind::Person,
            Self::Pregnancy | Self::PregnancyOutcome => RecordKind::Pregnancy,
            Self::ServiceRecord
            | Self::GrowthMeasurement
            | Self::Immunisation
            | Self::MilestoneCheck
            | Self::Enrolment
            | Self::HivKnowledge
            | Self::EnrolmentEnd
            | Self::Attendance => RecordKind::ServiceRecord,
            Self::FamilyAssessment => RecordKind::FamilyAssessment,
            Self::CommunityProject => RecordKind::CommunityProject,
            Self::ProjectReport => RecordKind::ProjectReport,
            Self::Referral | Self::ReferralAnswer => RecordKind::Referral,
            Self::ProtectionCase | Self::ProtectionCaseChange => RecordKind::ProtectionCase,
        }
    }

    /// What a record of this kind is called in messages.
    pub(crate) fn noun(self) -> &'static str {
        self.record().noun()
    }

    pub(crate) fn table(self) -> &'static str {
        self.record().table()
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
            Self::ServiceRecord
            | Self::GrowthMeasurement
            | Self::Immunisation
            | Self::MilestoneCheck
            | Self::Enrolment
            | Self::HivKnowledge => 4,
        }
    }
}

/// Runs `$body` with `$handler` bound to the handler of `$payload`'s kind: the one dispatch from
/// an item to its kind, exhaustive (a new kind does not compile until it has a handler).
macro_rules! with_handler {
    ($payload:expr, $handler:ident => $body:expr) => {
        match $payload {
            SyncPayload::Household($handler) => $body,
            SyncPayload::Person($handler) => $body,
            SyncPayload::Pregnancy($handler) => $body,
            SyncPayload::PregnancyOutcome($handler) => $body,
            SyncPayload::EnrolmentEnd($handler) => $body,
            SyncPayload::Attendance($handler) => $body,
            SyncPayload::FamilyAssessment($handler) => $body,
            SyncPayload::CommunityProject($handler) => $body,
            SyncPayload::ProjectReport($handler) => $body,
            SyncPayload::Referral($handler) => $body,
            SyncPayload::ReferralAnswer($handler) => $body,
            SyncPayload::ProtectionCase($handler) => $body,
            SyncPayload::ProtectionCaseChange($handler) => $body,
            SyncPayload::ServiceRecord(r) => {
                let $handler = ServiceItem::Plain(r);
                $body
            }
            SyncPayload::GrowthMeasurement(r) => {
                let $handler = ServiceItem::Growth(r);
                $body
            }
            SyncPayload::Immunisation(r) => {
                let $handler = ServiceItem::Immunisation(r);
                $body
            }
            SyncPayload::MilestoneCheck(r) => {
                let $handler = ServiceItem::Milestones(r);
                $body
            }
            SyncPayload::Enrolment(r) => {
                let $handler = ServiceItem::Enrolment(r);
                $body
            }
            SyncPayload::HivKnowledge(r) => {
                let $handler = ServiceItem::HivKnowledge(r);
                $body
            }
        }
    };
}

impl SyncPayload {
    /// Writes the record for an id that is new (or left to the server): the create
    /// mutation's own write.
    pub(crate) async fn create(self, store: &Store) -> ApiResult<SyncedRow> {
        with_handler!(self, h => h.create(store).await)
    }

    /// What the payload comes to against the record `id` names (`Store::settle`).
    async fn settle_kind(self, store: &Store, id: Uuid, base: Option<i32>) -> ApiResult<Settled> {
        with_handler!(self, h => h.settle(store, id, base).await)
    }
}
