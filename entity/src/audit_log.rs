//! Table `audit_log`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub user_id: Option<Uuid>,
    pub role: Option<String>,
    /// CREATE, UPDATE, READ, ERASE, LOGIN, LOGIN_FAILED, ...
    pub action: String,
    pub entity: String,
    pub entity_id: Option<Uuid>,
    /// JSON object: field → [before, after], for the fields a write changed.
    pub changes: Option<String>,
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
