//! The append-only audit log: every write (who, roles, when, entity, id, action, changed fields
//! before and after) and every read of an identifiable person by id. Written in the same
//! transaction as the change it describes (reads: through `ReadLog`, committed before the
//! answer leaves); never updated or deleted by the service.

use super::Store;
use super::page::{self, Page, PageRequest};
use crate::access::{Action, Principal};
use crate::error::{ApiError, ApiResult};
use async_graphql::InputObject;
use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Fields never copied into the log: derived, or not the reader's business.
const NOT_AUDITED: &[&str] = &["search_name", "password_hash", "token_hash", "created_at", "updated_at"];

#[derive(Clone)]
pub struct Auditor {
    user_id: Option<Uuid>,
    roles: String,
    /// Said of every entry (a sync item's origin), besides an entry's own detail.
    context: Option<String>,
}

/// `{ field: [before, after] }` for the fields that differ (all of them on create or delete).
pub fn diff<T: Serialize>(before: Option<&T>, after: Option<&T>) -> Option<String> {
    let obj = |v: Option<&T>| match v.map(serde_json::to_value) {
        Some(Ok(Value::Object(m))) => m,
        _ => Map::new(),
    };
    let (b, a) = (obj(before), obj(after));
    let mut out = Map::new();
    for key in b.keys().chain(a.keys()) {
        if NOT_AUDITED.contains(&key.as_str()) || out.contains_key(key) {
            continue;
        }
        let (x, y) = (b.get(key).cloned().unwrap_or(Value::Null), a.get(key).cloned().unwrap_or(Value::Null));
        if x != y {
            out.insert(key.clone(), Value::Array(vec![x, y]));
        }
    }
    (!out.is_empty()).then(|| Value::Object(out).to_string())
}

impl Auditor {
    pub fn new(p: &Principal) -> Self {
        Self { user_id: p.user_id, roles: p.role_names(), context: None }
    }

    /// Entries that also say `context` (e.g. which sync item wrote them, and its device time).
    pub fn with_context(mut self, context: Option<String>) -> Self {
        self.context = context;
        self
    }

    /// Appends one entry; `before`/`after` are the row as it was and as it is.
    pub async fn record<C: ConnectionTrait, T: Serialize>(
        &self,
        conn: &C,
        action: &str,
        entity: &str,
        id: Option<Uuid>,
        before: Option<&T>,
        after: Option<&T>,
    ) -> ApiResult<()> {
        self.note(conn, action, entity, id, diff(before, after), None).await
    }

    /// Appends an entry without row images (reads, logins, transitions with a note).
    pub async fn note<C: ConnectionTrait>(
        &self,
        conn: &C,
        action: &str,
        entity: &str,
        id: Option<Uuid>,
        changes: Option<String>,
        detail: Option<String>,
    ) -> ApiResult<()> {
        self.entry(action, entity, id, changes, detail).insert(conn).await?;
        Ok(())
    }

    /// An entry, not yet written.
    pub fn entry(
        &self,
        action: &str,
        entity: &str,
        id: Option<Uuid>,
        changes: Option<String>,
        detail: Option<String>,
    ) -> audit_log::ActiveModel {
        audit_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            at: Set(Utc::now()),
            user_id: Set(self.user_id),
            role: Set((!self.roles.is_empty()).then(|| self.roles.clone())),
            action: Set(action.into()),
            entity: Set(entity.into()),
            entity_id: Set(id),
            changes: Set(changes),
            detail: Set(match (detail, &self.context) {
                (Some(d), Some(c)) => Some(format!("{d}; {c}")),
                (d, c) => d.or_else(|| c.clone()),
            }),
        }
    }
}

/// Entries that describe no change of their own (a person read by id), written by one task in
/// multi-row INSERTs: entries that arrive while a batch commits go in the next one, so
/// concurrent reads share one statement and one commit (its fsync) instead of paying one each.
/// Every caller still waits until its own entry is committed.
#[derive(Clone)]
pub struct ReadLog {
    queue: mpsc::Sender<(audit_log::ActiveModel, oneshot::Sender<Result<(), String>>)>,
}

impl ReadLog {
    /// Entries in one INSERT at most (9 parameters each, far below either database's limit).
    const BATCH: usize = 256;

    /// Starts the writer on the current runtime; it ends when the last handle is dropped.
    pub fn start(db: DatabaseConnection) -> Self {
        let (queue, mut rx) = mpsc::channel::<(audit_log::ActiveModel, oneshot::Sender<_>)>(4 * Self::BATCH);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(Self::BATCH);
            while rx.recv_many(&mut batch, Self::BATCH).await > 0 {
                let (rows, waiting): (Vec<_>, Vec<_>) = batch.drain(..).unzip();
                let turn = crate::db::write_turn(&db).await;
                let done = audit_log::Entity::insert_many(rows)
                    .exec_without_returning(&db)
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string());
                drop(turn);
                for w in waiting {
                    let _ = w.send(done.clone());
                }
            }
        });
        Self { queue }
    }

    /// Entries queued and not yet written.
    pub fn backlog(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    /// Appends `entry` and waits for its commit.
    pub async fn write(&self, entry: audit_log::ActiveModel) -> ApiResult<()> {
        let (done, committed) = oneshot::channel();
        let stopped = || ApiError::Internal(anyhow::anyhow!("the audit writer has stopped"));
        self.queue.send((entry, done)).await.map_err(|_| stopped())?;
        committed.await.map_err(|_| stopped())?.map_err(|e| ApiError::Internal(anyhow::anyhow!("audit entry: {e}")))
    }
}

/// Which audit entries to list; all given must hold.
#[derive(InputObject, Default)]
pub struct AuditFilter {
    /// Entries about this kind of record, as its table is named (e.g. person, household).
    pub entity: Option<String>,
    /// Entries about this record (its real id).
    pub entity_id: Option<Uuid>,
    /// Entries of this user's actions.
    pub user_id: Option<Uuid>,
    /// Entries of this action (CREATE, UPDATE, READ, LOGIN...).
    pub action: Option<String>,
    /// Entries at or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Entries at or before this instant.
    pub to: Option<DateTime<Utc>>,
}

impl Store {
    /// The log, oldest first (ids are time-ordered), for administrators.
    pub async fn audit_log(&self, filter: AuditFilter, req: &PageRequest) -> ApiResult<Page<audit_log::Model>> {
        self.authorize(Action::Administer)?;
        let mut q = audit_log::Entity::find();
        let entity = filter.entity.map(|e| crate::domain::validate::term("filter.entity", &e)).transpose()?;
        let action = filter.action.map(|a| crate::domain::validate::term("filter.action", &a)).transpose()?;
        if let Some(e) = entity {
            q = q.filter(audit_log::Column::Entity.eq(e));
        }
        if let Some(id) = filter.entity_id {
            q = q.filter(audit_log::Column::EntityId.eq(id));
        }
        if let Some(u) = filter.user_id {
            q = q.filter(audit_log::Column::UserId.eq(u));
        }
        if let Some(a) = action {
            q = q.filter(audit_log::Column::Action.eq(a));
        }
        if let Some(f) = filter.from {
            q = q.filter(audit_log::Column::At.gte(f));
        }
        if let Some(t) = filter.to {
            q = q.filter(audit_log::Column::At.lte(t));
        }
        page::fetch(self.pool(), q, audit_log::Column::Id, req).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Row {
        name: &'static str,
        phone: Option<&'static str>,
        search_name: &'static str,
    }

    #[test]
    fn only_changed_fields_are_logged_and_derived_ones_never() {
        let a = Row { name: "Бат", phone: None, search_name: "бат" };
        let b = Row { name: "Бат", phone: Some("99112233"), search_name: "x" };
        assert_eq!(diff(Some(&a), Some(&b)).unwrap(), r#"{"phone":[null,"99112233"]}"#);
        assert!(diff(Some(&a), Some(&a)).is_none());
    }
}
