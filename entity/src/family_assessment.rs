//! Table `family_assessment`: A family education and assessment visit (Triple-A) of a household.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "family_assessment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    #[serde(skip)]
    pub change_seq: i64,
    pub household_id: Uuid,
    pub org_unit_id: Uuid,
    pub instrument_id: Uuid,
    pub assessed_on: Date,
    pub assessor_id: Option<Uuid>,
    pub met: i32,
    pub applicable: i32,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
