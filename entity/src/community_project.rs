//! Table `community_project`: A community-identified project (CIP).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "community_project")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    pub org_unit_id: Uuid,
    pub area: String,
    pub title: String,
    pub objectives: String,
    pub status: String,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub proposed_by: Option<Uuid>,
    /// The sync change number of the transaction that last wrote the row (see `tombstone`).
    #[serde(skip)]
    pub change_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
