//! Offline sync for mobile clients: `syncPush` (batch upload) and `changes` (delta pull).

use super::access::Consent;
use super::data;
use super::people::{Household, Person, Pregnancy};
use super::services::ServiceRecord;
use crate::error::ApiError;
use crate::store::sync::{
    Change as StoreChange, ItemOutcome, PushOutcome, SyncAtomicity, SyncItem, SyncKind, SyncStatus, SyncedRow,
};
use async_graphql::{Context, Enum, Object, Result, SimpleObject, Union};
use std::sync::Arc;
use uuid::Uuid;

/// How many items one `syncPush` may carry (`CBSS_SYNC_MAX_ITEMS`).
#[derive(Clone, Copy)]
pub struct SyncSettings {
    pub max_items: usize,
}

/// A record as sync returns it.
#[derive(Union)]
pub enum SyncRecord {
    Household(Household),
    Person(Person),
    Pregnancy(Pregnancy),
    ServiceRecord(ServiceRecord),
    Consent(Consent),
    FamilyAssessment(super::family::FamilyAssessment),
    CommunityProject(super::family::CommunityProject),
    ProjectReport(super::family::ProjectReport),
    Referral(super::referrals::Referral),
    ProtectionCase(super::cases::ProtectionCase),
}

impl From<SyncedRow> for SyncRecord {
    fn from(row: SyncedRow) -> Self {
        match row {
            SyncedRow::Household(r) => Self::Household(Household(r)),
            SyncedRow::Person(r) => Self::Person(Person(r)),
            SyncedRow::Pregnancy(r) => Self::Pregnancy(Pregnancy(r)),
            SyncedRow::ServiceRecord(r) => Self::ServiceRecord(ServiceRecord::from(r)),
            SyncedRow::Consent(r) => Self::Consent(Consent(r)),
            SyncedRow::FamilyAssessment(r) => Self::FamilyAssessment(super::family::FamilyAssessment(r)),
            SyncedRow::CommunityProject(r) => Self::CommunityProject(super::family::CommunityProject(r)),
            SyncedRow::ProjectReport(r) => Self::ProjectReport(super::family::ProjectReport(r)),
            SyncedRow::Referral(r) => Self::Referral(super::referrals::Referral(r)),
            SyncedRow::ProtectionCase(r) => Self::ProtectionCase(super::cases::ProtectionCase(r)),
        }
    }
}

/// The record a create mutation answers, taken out of the union (`mutation::created`).
macro_rules! from_sync_record {
    ($($variant:ident => $ty:ty),* $(,)?) => {$(
        impl TryFrom<SyncRecord> for $ty {
            type Error = SyncRecord;
            fn try_from(r: SyncRecord) -> Result<Self, SyncRecord> {
                match r {
                    SyncRecord::$variant(x) => Ok(x),
                    other => Err(other),
                }
            }
        }
    )*};
}

from_sync_record!(
    Household => Household,
    Person => Person,
    Pregnancy => Pregnancy,
    ServiceRecord => ServiceRecord,
    Consent => Consent,
    FamilyAssessment => super::family::FamilyAssessment,
    CommunityProject => super::family::CommunityProject,
    ProjectReport => super::family::ProjectReport,
    Referral => super::referrals::Referral,
    ProtectionCase => super::cases::ProtectionCase,
);

/// Why an item was rejected: the same code and field paths the single-record mutation gives.
#[derive(SimpleObject)]
pub struct SyncError {
    /// The `extensions.code` the mutation would answer: VALIDATION, FORBIDDEN, NOT_FOUND,
    /// CONSENT_REQUIRED, CONFLICT or INTERNAL.
    pub code: String,
    /// What went wrong, in English.
    pub message: String,
    /// For VALIDATION, every problem found; for a CONFLICT over a value that must be unique (a
    /// registry number...), its field; empty otherwise.
    pub fields: Vec<SyncFieldError>,
}

/// One problem with an item's input.
#[derive(SimpleObject)]
pub struct SyncFieldError {
    /// Where, as the mutation names it: `input.birthDate`, `input.answers.2.answer`...
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl From<&ApiError> for SyncError {
    fn from(e: &ApiError) -> Self {
        let fields = e
            .fields()
            .unwrap_or_default()
            .into_iter()
            .map(|f| SyncFieldError { path: f.path, message: f.message })
            .collect();
        // Database text never reaches a client (see error.rs).
        Self { code: e.code().into(), message: e.to_string(), fields }
    }
}

pub struct SyncItemResult(Arc<ItemOutcome>);

/// What became of one item of a `syncPush` batch.
#[Object]
impl SyncItemResult {
    /// The item's position in the input.
    async fn index(&self) -> i32 {
        self.0.index as i32
    }
    /// The item's id (the record's, made by the client).
    async fn id(&self) -> Uuid {
        self.0.id
    }
    /// The item's kind: the field of its payload.
    async fn kind(&self) -> SyncKind {
        self.0.kind
    }
    /// What was done with it.
    async fn status(&self) -> SyncStatus {
        self.0.status
    }
    /// The stored version after this item (null when REJECTED or NOT_APPLIED).
    async fn version(&self) -> Option<i32> {
        self.0.row.as_ref().map(SyncedRow::version)
    }
    /// The record as stored now: what was written, or on CONFLICT the server's copy.
    async fn record(&self) -> Option<SyncRecord> {
        self.0.row.clone().map(SyncRecord::from)
    }
    /// Why it was REJECTED, or what the CONFLICT is about; null otherwise.
    async fn error(&self) -> Option<SyncError> {
        self.0.error.as_ref().map(SyncError::from)
    }
}

/// How many items of a batch ended in each status.
#[derive(SimpleObject, Default)]
pub struct SyncSummary {
    /// Items in the batch.
    pub total: i32,
    /// Items CREATED.
    pub created: i32,
    /// Items UNCHANGED.
    pub unchanged: i32,
    /// Items UPDATED.
    pub updated: i32,
    /// Items in CONFLICT.
    pub conflicts: i32,
    /// Items REJECTED.
    pub rejected: i32,
    /// Items NOT_APPLIED.
    pub not_applied: i32,
}

pub struct SyncPushResult {
    committed: bool,
    dry_run: bool,
    items: Vec<Arc<ItemOutcome>>,
}

impl From<PushOutcome> for SyncPushResult {
    fn from(o: PushOutcome) -> Self {
        Self { committed: o.committed, dry_run: o.dry_run, items: o.items.into_iter().map(Arc::new).collect() }
    }
}

/// The answer to a `syncPush`: a result per item, in input order.
#[Object]
impl SyncPushResult {
    /// Whether anything was written (false for a dry run, or an atomic batch with a failure).
    async fn committed(&self) -> bool {
        self.committed
    }
    /// Whether this was a dry run (checked and reported, nothing written).
    async fn dry_run(&self) -> bool {
        self.dry_run
    }
    /// The items counted by status.
    async fn summary(&self) -> SyncSummary {
        let mut s = SyncSummary { total: self.items.len() as i32, ..Default::default() };
        for item in &self.items {
            *match item.status {
                SyncStatus::Created => &mut s.created,
                SyncStatus::Unchanged => &mut s.unchanged,
                SyncStatus::Updated => &mut s.updated,
                SyncStatus::Conflict => &mut s.conflicts,
                SyncStatus::Rejected => &mut s.rejected,
                SyncStatus::NotApplied => &mut s.not_applied,
            } += 1;
        }
        s
    }
    /// One result per item, in input order.
    async fn items(&self) -> Vec<SyncItemResult> {
        self.items.iter().map(|o| SyncItemResult(o.clone())).collect()
    }
}

/// What kind of record a change is of.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ChangeEntity {
    /// A household.
    Household,
    /// A person.
    Person,
    /// A pregnancy.
    Pregnancy,
    /// A service record (with its typed detail).
    ServiceRecord,
    /// A consent.
    Consent,
    /// A family assessment.
    FamilyAssessment,
    /// A community project.
    CommunityProject,
    /// A community project's monitoring report.
    ProjectReport,
    /// A referral.
    Referral,
    /// A child-protection case (to those who work on it only).
    ProtectionCase,
}

pub struct Change(StoreChange);

/// One record changed since the cursor, at its latest version, or a tombstone.
#[Object]
impl Change {
    /// Pass as `since` to continue after this change.
    async fn cursor(&self) -> &str {
        &self.0.cursor
    }
    /// What kind of record it is.
    async fn entity(&self) -> async_graphql::Result<ChangeEntity> {
        Ok(match (&self.0.row, &self.0.deleted) {
            (Some(SyncedRow::Household(_)), _) => ChangeEntity::Household,
            (Some(SyncedRow::Person(_)), _) => ChangeEntity::Person,
            (Some(SyncedRow::Pregnancy(_)), _) => ChangeEntity::Pregnancy,
            (Some(SyncedRow::ServiceRecord(_)), _) => ChangeEntity::ServiceRecord,
            (Some(SyncedRow::Consent(_)), _) => ChangeEntity::Consent,
            (Some(SyncedRow::FamilyAssessment(_)), _) => ChangeEntity::FamilyAssessment,
            (Some(SyncedRow::CommunityProject(_)), _) => ChangeEntity::CommunityProject,
            (Some(SyncedRow::ProjectReport(_)), _) => ChangeEntity::ProjectReport,
            (Some(SyncedRow::Referral(_)), _) => ChangeEntity::Referral,
            (Some(SyncedRow::ProtectionCase(_)), _) => ChangeEntity::ProtectionCase,
            (None, Some(t)) => match t.entity.as_str() {
                "household" => ChangeEntity::Household,
                "person" => ChangeEntity::Person,
                "pregnancy" => ChangeEntity::Pregnancy,
                "consent" => ChangeEntity::Consent,
                "family_assessment" => ChangeEntity::FamilyAssessment,
                "protection_case" => ChangeEntity::ProtectionCase,
                _ => ChangeEntity::ServiceRecord,
            },
            (None, None) => return Err(ApiError::Internal(anyhow::anyhow!("empty change")).into()),
        })
    }
    /// The record's id (a pseudonym for callers who see data de-identified).
    async fn id(&self) -> Result<Uuid> {
        Ok(self.0.id)
    }
    /// The version now stored (null for a tombstone).
    async fn version(&self) -> Option<i32> {
        self.0.row.as_ref().map(SyncedRow::version)
    }
    /// A tombstone: the device must drop its copy (the record was erased or deleted).
    async fn deleted(&self) -> bool {
        self.0.deleted.is_some()
    }
    /// ERASED or DELETED, for tombstones.
    async fn deleted_reason(&self) -> Option<&str> {
        self.0.deleted.as_ref().map(|t| t.reason.as_str())
    }
    /// The record as it is now (null for a tombstone).
    async fn record(&self) -> Option<SyncRecord> {
        self.0.row.clone().map(SyncRecord::from)
    }
}

pub struct ChangesPage(crate::store::sync::ChangesPage);

/// A page of `changes`.
#[Object]
impl ChangesPage {
    /// The changes, oldest first (by the server's change sequence).
    async fn changes(&self) -> Vec<Change> {
        self.0.changes.iter().map(|c| Change(c.clone())).collect()
    }
    /// Pass as `since` for the next pull; the same cursor again when nothing changed.
    async fn end_cursor(&self) -> &str {
        &self.0.end_cursor
    }
    /// More changes wait: pull again with `endCursor` at once.
    async fn has_more(&self) -> bool {
        self.0.has_more
    }
}

#[derive(Default)]
pub struct SyncQuery;

#[Object]
impl SyncQuery {
    /// Everything in your view scope that changed after `since` (a cursor from an earlier
    /// pull; leave out for everything), oldest change first, ordered by the server's change
    /// sequence: each record once, at its latest version, with tombstones for erased records.
    /// For identified callers only: callers who see data de-identified (ANALYST, RESEARCHER) are FORBIDDEN.
    /// Errors: UNAUTHENTICATED, FORBIDDEN, VALIDATION (a bad `since` or `first`).
    async fn changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The `endCursor` of the previous pull; leave out the first time. A cursor this service did not give is VALIDATION."
        )]
        since: Option<String>,
        #[graphql(desc = "At most 1000; 100 by default.")] first: Option<i32>,
    ) -> Result<ChangesPage> {
        Ok(ChangesPage(data(ctx)?.store.changes(since, first).await?))
    }
}

#[derive(Default)]
pub struct SyncMutation;

#[Object]
impl SyncMutation {
    /// Uploads a batch of offline changes. Each item is created (new id), UNCHANGED (a
    /// retry: same content), UPDATED (`baseVersion` is the stored version), CONFLICT (the
    /// record changed since `baseVersion`; nothing overwritten) or REJECTED (the error the
    /// single-record mutation would give). Items may refer to each other in any order.
    /// `atomic: ALL` writes all or nothing; `dryRun` checks and reports, writing nothing. Each item
    /// is checked as its mutation checks it (role, capture scope, consent, validation), and the
    /// batch is one transaction. An item's refusal is in its result, not an error of the field.
    /// Errors: UNAUTHENTICATED, VALIDATION (more items than `CBSS_SYNC_MAX_ITEMS`, 1,000 by
    /// default).
    async fn sync_push(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes, in any order (an item may refer to any other).")] items: Vec<SyncItem>,
        #[graphql(default_with = "SyncAtomicity::Item", desc = "ITEM: each item on its own; ALL: all or nothing.")]
        atomic: SyncAtomicity,
        #[graphql(default, desc = "Check and report every item, write nothing.")] dry_run: bool,
    ) -> Result<SyncPushResult> {
        let max = ctx.data_opt::<SyncSettings>().map_or(1000, |s| s.max_items);
        Ok(data(ctx)?.store.sync_push(items, atomic, dry_run, max).await?.into())
    }
}
