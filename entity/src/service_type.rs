//! Table `service_type`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "service_type")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub sector: String,
    pub life_stage_code: Option<String>,
    pub name_en: String,
    pub name_mn: String,
    pub min_age_months: Option<i32>,
    pub max_age_months: Option<i32>,
    /// CHILD, PREGNANT_WOMAN, MOTHER, YOUNG_PERSON, CAREGIVER, HOUSEHOLD, ANY_PERSON
    pub target_group: String,
    pub unit: String,
    /// NONE, GROWTH, IMMUNISATION, ENROLMENT, ATTENDANCE: which typed detail table goes with it.
    pub detail_kind: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
