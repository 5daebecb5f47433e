//! Table `household`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "household")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_unit_id: Uuid,
    pub address: Option<String>,
    pub description: Option<String>,
    /// GER, HOUSE, APARTMENT, OTHER
    pub dwelling: String,
    pub is_herder: bool,
    /// RESIDENT, IN_MIGRANT, SEASONAL_MIGRANT, UNREGISTERED_MIGRANT
    pub migrant_status: String,
    pub registered_on: Date,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// The sync change number of the transaction that last wrote the row (see `tombstone`).
    #[serde(skip)]
    pub change_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
