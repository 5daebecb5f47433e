//! Table `tombstone`: records erased (or deleted), so devices that pulled them drop their copies.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "tombstone")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// household, person, pregnancy, service_record, consent
    pub entity: String,
    pub entity_id: Uuid,
    pub org_unit_id: Uuid,
    pub change_seq: i64,
    pub deleted_at: DateTimeUtc,
    /// ERASED or DELETED
    pub reason: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
