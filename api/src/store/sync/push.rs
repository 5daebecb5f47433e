//! Pushing a batch: items in dependency order in one transaction, each settled by its kind's
//! handler (`kinds`), what they will look up read in bulk first.

use super::{
    ItemOutcome, PushOutcome, RecordKind, SyncAtomicity, SyncItem, SyncKind, SyncPayload, SyncStatus, SyncedRow,
};
use crate::access::Action;
use crate::error::{ApiError, ApiResult};
use crate::store::Store;
use entity::{consent, enrolment, family_assessment, household, person, pregnancy, service_record};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

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
        let doses = crate::store::doses::dose_rows(self.db(), &people).await?;
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
        let result = payload.settle_kind(self, id, base).await;
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
        let found = match kind.record() {
            RecordKind::Household => self.household(id).await.map(SyncedRow::Household),
            RecordKind::Person => self.person(id).await.map(SyncedRow::Person),
            RecordKind::Pregnancy => self.pregnancy(id).await.map(SyncedRow::Pregnancy),
            RecordKind::ServiceRecord => self.own_service_record(id).await.map(SyncedRow::ServiceRecord),
            RecordKind::FamilyAssessment => self.family_assessment(id).await.map(SyncedRow::FamilyAssessment),
            RecordKind::CommunityProject => self.community_project(id).await.map(SyncedRow::CommunityProject),
            RecordKind::ProjectReport => self.visible_report(id).await.map(SyncedRow::ProjectReport),
            RecordKind::Referral => self.referral(id).await.map(SyncedRow::Referral),
            RecordKind::ProtectionCase => self.protection_case(id).await.map(SyncedRow::ProtectionCase),
        };
        match found {
            Ok(row) => Ok(Some(row)),
            Err(ApiError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
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
    let on = crate::store::today();
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
