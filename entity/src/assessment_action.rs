//! Table `assessment_action`: An action agreed with a family at a visit, followed up on later visits.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "assessment_action")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    pub assessment_id: Uuid,
    pub household_id: Uuid,
    pub description: String,
    pub person_id: Option<Uuid>,
    pub due_on: Option<Date>,
    pub status: String,
    pub followed_up_on: Option<Date>,
    pub follow_up_note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
