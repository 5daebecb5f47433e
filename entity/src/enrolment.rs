//! Table `enrolment`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "enrolment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_record_id: Uuid,
    pub person_id: Uuid,
    pub institution: String,
    pub grade: Option<String>,
    pub ended_on: Option<Date>,
    pub end_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
