//! Table `consent`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "consent")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub household_id: Uuid,
    /// Who gave it (name as stated, or the household head's name).
    pub given_by: String,
    /// The child a representative consented for, when it is about one child.
    pub representative_for: Option<Uuid>,
    pub purpose: String,
    /// CONSENT, LEGAL_OBLIGATION, PUBLIC_TASK, VITAL_INTEREST
    pub legal_basis: String,
    pub given_on: Date,
    pub withdrawn_on: Option<Date>,
    pub recorded_by: Option<Uuid>,
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
