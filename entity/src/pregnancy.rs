//! Table `pregnancy`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "pregnancy")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub mother_id: Uuid,
    /// Where the pregnancy is followed (the mother's unit at registration).
    pub org_unit_id: Uuid,
    pub last_menstrual_period: Option<Date>,
    pub expected_delivery_date: Date,
    pub registered_on: Date,
    pub outcome: Option<String>,
    pub outcome_date: Option<Date>,
    pub delivery_place: Option<String>,
    pub attendant: Option<String>,
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
