//! Create mutations that are safe to retry. Every create takes an optional client `id`; sent
//! again with that id (a mobile client retrying after a timeout), it is settled as a sync item
//! sent as new (`Store::settle` with no base version), so the same comparison decides both:
//!
//! - the id is new: the record is created, as without an id;
//! - the id names a record the caller may see, holding this content (after the create's own
//!   trimming and defaults): that record is the answer, and nothing is written — no row, no
//!   audit entry, no change number;
//! - it holds other content: CONFLICT, carrying the stored record (`ApiError::Conflict`'s
//!   `current`, shown as `extensions.current`);
//! - the id is taken by a record the caller may not see: CONFLICT without it, as a create
//!   whose id is taken always answered (ids are never reused, so this says only that the id
//!   is taken).

use super::Store;
use super::consent::NewConsent;
use super::sync::{SyncKind, SyncPayload, SyncStatus, SyncedRow};
use crate::access::Action;
use crate::error::{ApiError, ApiResult};
use entity::consent;
use sea_orm::EntityTrait;
use uuid::Uuid;

/// What a create mutation carries: the input of a kind sync also carries, or a consent
/// (recorded by `recordConsent`; sync carries consents only with their household).
pub enum Creation {
    Record(SyncPayload),
    Consent(NewConsent),
}

impl From<SyncPayload> for Creation {
    fn from(p: SyncPayload) -> Self {
        Self::Record(p)
    }
}

impl From<NewConsent> for Creation {
    fn from(c: NewConsent) -> Self {
        Self::Consent(c)
    }
}

impl Creation {
    /// What making such a record takes.
    fn action(&self) -> Action {
        match self {
            Self::Consent(_) => Action::RegisterPeople,
            Self::Record(p) => match p.kind() {
                SyncKind::Household | SyncKind::Person | SyncKind::Pregnancy | SyncKind::PregnancyOutcome => {
                    Action::RegisterPeople
                }
                SyncKind::FamilyAssessment => Action::AssessFamilies,
                SyncKind::CommunityProject | SyncKind::ProjectReport => Action::ManageProjects,
                SyncKind::Referral | SyncKind::ReferralAnswer => Action::Refer,
                SyncKind::ProtectionCase | SyncKind::ProtectionCaseChange => Action::ManageCases,
                _ => Action::RecordServices,
            },
        }
    }

    /// The client's id, and the table it names a row of.
    fn client_id(&self) -> Option<(Uuid, &'static str)> {
        match self {
            Self::Consent(c) => c.id.map(|id| (id, "consent")),
            Self::Record(p) => p.own_id().map(|id| (id, p.kind().table())),
        }
    }
}

impl Store {
    /// Runs a create mutation; see the module comment. In a transaction of its own, so that a
    /// retry racing its first try waits for it (`Store::id_taken`) and the create's checks hold
    /// when it commits.
    pub async fn create(&self, new: Creation) -> ApiResult<SyncedRow> {
        self.atomic(|s| Box::pin(s.create_now(new))).await
    }

    async fn create_now(&self, new: Creation) -> ApiResult<SyncedRow> {
        // A retry is answered only to a caller who may make such a record (the create checks
        // again, with its scope).
        self.authorize(new.action())?;
        let Some((id, table)) = new.client_id() else {
            return self.create_new(new).await;
        };
        if !self.id_in(table, id).await? {
            // A new id (or one taken meanwhile, which the create refuses as it always has).
            return self.create_new(new).await;
        }
        let settled = match new {
            Creation::Record(payload) => {
                let kind = payload.kind();
                if self.synced_row(kind, id).await?.is_none() {
                    return Err(ApiError::conflict(format!("a {} with this id exists", kind.noun())));
                }
                self.settle(id, None, payload).await.map(|(status, row)| {
                    // Without a base version nothing is ever updated: created or unchanged.
                    debug_assert!(matches!(status, SyncStatus::Created | SyncStatus::Unchanged));
                    row
                })
            }
            Creation::Consent(input) => self.settle_consent(id, input).await,
        };
        settled.map_err(|e| match e {
            ApiError::Conflict { current: Some(row), path, .. } => ApiError::Conflict {
                message: format!(
                    "this id is taken by a record with other content (version {}); it is in extensions.current",
                    row.version()
                ),
                current: Some(row),
                path,
            },
            e => e,
        })
    }

    /// The create itself, for an id that is new (or left to the server).
    async fn create_new(&self, new: Creation) -> ApiResult<SyncedRow> {
        Ok(match new {
            Creation::Consent(c) => SyncedRow::Consent(self.record_consent(c).await?),
            Creation::Record(payload) => match payload {
                SyncPayload::Household(i) => SyncedRow::Household(self.create_household(i).await?),
                SyncPayload::Person(i) => SyncedRow::Person(self.register_person(i).await?),
                SyncPayload::Pregnancy(i) => SyncedRow::Pregnancy(self.register_pregnancy(i).await?),
                SyncPayload::ServiceRecord(i) => SyncedRow::ServiceRecord(self.record_service(i).await?),
                SyncPayload::GrowthMeasurement(i) => SyncedRow::ServiceRecord(self.record_growth_measurement(i).await?),
                SyncPayload::Immunisation(i) => SyncedRow::ServiceRecord(self.record_immunisation(i).await?),
                SyncPayload::MilestoneCheck(i) => SyncedRow::ServiceRecord(self.record_milestone_check(i).await?),
                SyncPayload::Enrolment(i) => SyncedRow::ServiceRecord(self.record_enrolment(i).await?),
                SyncPayload::HivKnowledge(i) => SyncedRow::ServiceRecord(self.record_hiv_knowledge(i).await?),
                SyncPayload::Attendance(i) => SyncedRow::ServiceRecord(self.record_attendance(i).await?),
                SyncPayload::FamilyAssessment(i) => {
                    SyncedRow::FamilyAssessment(self.record_family_assessment(i).await?)
                }
                SyncPayload::CommunityProject(i) => {
                    SyncedRow::CommunityProject(self.propose_community_project(i).await?)
                }
                SyncPayload::ProjectReport(i) => SyncedRow::ProjectReport(self.report_community_project(i).await?),
                SyncPayload::Referral(i) => SyncedRow::Referral(self.send_referral(i).await?),
                SyncPayload::ProtectionCase(i) => SyncedRow::ProtectionCase(self.open_protection_case(i).await?),
                SyncPayload::PregnancyOutcome(_)
                | SyncPayload::EnrolmentEnd(_)
                | SyncPayload::ReferralAnswer(_)
                | SyncPayload::ProtectionCaseChange(_) => {
                    return Err(ApiError::Internal(anyhow::anyhow!(
                        "an outcome or an enrolment's end is not a create"
                    )));
                }
            },
        })
    }

    /// Whether a row of `table` has this id (in any scope).
    async fn id_in(&self, table: &'static str, id: Uuid) -> ApiResult<bool> {
        use entity::{
            community_project, family_assessment, household, person, pregnancy, project_report, referral,
            service_record,
        };
        match table {
            "household" => self.id_taken::<household::Entity>(table, id).await,
            "person" => self.id_taken::<person::Entity>(table, id).await,
            "pregnancy" => self.id_taken::<pregnancy::Entity>(table, id).await,
            "consent" => self.id_taken::<consent::Entity>(table, id).await,
            "family_assessment" => self.id_taken::<family_assessment::Entity>(table, id).await,
            "community_project" => self.id_taken::<community_project::Entity>(table, id).await,
            "project_report" => self.id_taken::<project_report::Entity>(table, id).await,
            "referral" => self.id_taken::<referral::Entity>(table, id).await,
            "protection_case" => self.id_taken::<entity::protection_case::Entity>(table, id).await,
            _ => self.id_taken::<service_record::Entity>(table, id).await,
        }
    }

    /// A consent whose id is taken: the stored one when it is this consent, else a CONFLICT.
    async fn settle_consent(&self, id: Uuid, input: NewConsent) -> ApiResult<SyncedRow> {
        let Some(current) = self.visible(consent::Entity::find_by_id(id)).one(self.db()).await? else {
            return Err(ApiError::conflict("a consent with this id exists"));
        };
        if input.household_id.is_some_and(|h| input.matches(&current, h)) {
            return Ok(SyncedRow::Consent(current));
        }
        Err(ApiError::Conflict {
            message: format!("the stored version is {}", current.version),
            current: Some(Box::new(SyncedRow::Consent(current))),
            path: None,
        })
    }
}
