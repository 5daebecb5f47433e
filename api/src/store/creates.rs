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
use super::sync::{RecordKind, SyncPayload, SyncStatus, SyncedRow};
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
            Self::Record(p) => match p.kind().record() {
                RecordKind::Household | RecordKind::Person | RecordKind::Pregnancy => Action::RegisterPeople,
                RecordKind::ServiceRecord => Action::RecordServices,
                RecordKind::FamilyAssessment => Action::AssessFamilies,
                RecordKind::CommunityProject | RecordKind::ProjectReport => Action::ManageProjects,
                RecordKind::Referral => Action::Refer,
                RecordKind::ProtectionCase => Action::ManageCases,
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
            Creation::Record(payload) => payload.create(self).await?,
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
