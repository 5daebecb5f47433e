//! The delta pull (`changes`): everything in the caller's view scope that changed after a
//! cursor, read in one snapshot, and only what is final.

use super::SyncedRow;
use crate::access::Action;
use crate::error::{ApiError, ApiResult};
use crate::store::Store;
use crate::store::write::CASE_TOMBSTONE;
use entity::{
    community_project, consent, family_assessment, household, person, pregnancy, project_report, protection_case,
    referral, service_record, tombstone,
};
use sea_orm::{
    AccessMode, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IsolationLevel, QueryFilter, QueryOrder,
    QuerySelect, Select, TransactionTrait,
};
use uuid::Uuid;

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
        let deadline = std::time::Instant::now() + crate::store::horizon::WAIT;
        let (all, has_more) = loop {
            // One snapshot for every table: a change committed between two of the reads must
            // not be half-seen (its other rows would then be skipped by the next pull).
            let txn = if postgres {
                self.db().begin_with_config(Some(IsolationLevel::RepeatableRead), Some(AccessMode::ReadOnly)).await?
            } else {
                self.db().begin().await?
            };
            let horizon = if postgres { Some(crate::store::horizon::Horizon::of(&txn).await?) } else { None };
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
