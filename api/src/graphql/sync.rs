//! Offline sync for mobile clients: `syncPush` (batch upload) and `changes` (delta pull).

use super::access::Consent;
use super::people::{Household, Person, Pregnancy};
use super::services::ServiceRecord;
use super::{data, shown_id};
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
        }
    }
}

/// Why an item was rejected: the same code and field paths the single-record mutation gives.
#[derive(SimpleObject)]
pub struct SyncError {
    pub code: String,
    pub message: String,
    pub fields: Vec<SyncFieldError>,
}

#[derive(SimpleObject)]
pub struct SyncFieldError {
    pub path: String,
    pub message: String,
}

impl From<&ApiError> for SyncError {
    fn from(e: &ApiError) -> Self {
        let fields = match e {
            ApiError::Validation(f) => {
                f.iter().map(|f| SyncFieldError { path: f.path.clone(), message: f.message.clone() }).collect()
            }
            _ => vec![],
        };
        // Database text never reaches a client (see error.rs).
        Self { code: e.code().into(), message: e.to_string(), fields }
    }
}

pub struct SyncItemResult(Arc<ItemOutcome>);

#[Object]
impl SyncItemResult {
    /// The item's position in the input.
    async fn index(&self) -> i32 {
        self.0.index as i32
    }
    async fn id(&self) -> Uuid {
        self.0.id
    }
    async fn kind(&self) -> SyncKind {
        self.0.kind
    }
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
    async fn error(&self) -> Option<SyncError> {
        self.0.error.as_ref().map(SyncError::from)
    }
}

#[derive(SimpleObject, Default)]
pub struct SyncSummary {
    pub total: i32,
    pub created: i32,
    pub unchanged: i32,
    pub updated: i32,
    pub conflicts: i32,
    pub rejected: i32,
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

#[Object]
impl SyncPushResult {
    /// Whether anything was written (false for a dry run, or an atomic batch with a failure).
    async fn committed(&self) -> bool {
        self.committed
    }
    async fn dry_run(&self) -> bool {
        self.dry_run
    }
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

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ChangeEntity {
    Household,
    Person,
    Pregnancy,
    ServiceRecord,
    Consent,
    FamilyAssessment,
    CommunityProject,
    ProjectReport,
}

pub struct Change(StoreChange);

#[Object]
impl Change {
    /// Pass as `since` to continue after this change.
    async fn cursor(&self) -> &str {
        &self.0.cursor
    }
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
            (None, Some(t)) => match t.entity.as_str() {
                "household" => ChangeEntity::Household,
                "person" => ChangeEntity::Person,
                "pregnancy" => ChangeEntity::Pregnancy,
                "consent" => ChangeEntity::Consent,
                "family_assessment" => ChangeEntity::FamilyAssessment,
                _ => ChangeEntity::ServiceRecord,
            },
            (None, None) => return Err(ApiError::Internal(anyhow::anyhow!("empty change")).into()),
        })
    }
    /// The record's id (a pseudonym for callers who see data de-identified).
    async fn id(&self, ctx: &Context<'_>) -> Result<Uuid> {
        shown_id(ctx, self.0.id)
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

#[Object]
impl ChangesPage {
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
    async fn changes(
        &self,
        ctx: &Context<'_>,
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
    /// `atomic: ALL` writes all or nothing; `dryRun` checks and reports, writing nothing.
    async fn sync_push(
        &self,
        ctx: &Context<'_>,
        items: Vec<SyncItem>,
        #[graphql(default_with = "SyncAtomicity::Item")] atomic: SyncAtomicity,
        #[graphql(default)] dry_run: bool,
    ) -> Result<SyncPushResult> {
        let max = ctx.data_opt::<SyncSettings>().map_or(1000, |s| s.max_items);
        Ok(data(ctx)?.store.sync_push(items, atomic, dry_run, max).await?.into())
    }
}
