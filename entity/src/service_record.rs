//! Table `service_record`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "service_record")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub service_type_id: Uuid,
    pub person_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    pub pregnancy_id: Option<Uuid>,
    pub service_date: Date,
    /// Where the service was delivered.
    pub org_unit_id: Uuid,
    pub provider: Option<String>,
    pub recorded_by: Option<Uuid>,
    pub note: Option<String>,
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
