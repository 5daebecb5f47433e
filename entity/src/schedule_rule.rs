//! Table `schedule_rule`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "schedule_rule")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub service_type_code: String,
    /// IMMUNISATION, VITAMIN_A, GROWTH_MONITORING, ANTENATAL_CARE, POSTNATAL_CARE
    pub kind: String,
    /// RECURRING, CONTACT
    pub pattern: String,
    /// BIRTH, LMP, DELIVERY
    pub anchor: String,
    /// DAY, WEEK, MONTH
    pub unit: String,
    pub start_age: i32,
    pub due_age: Option<i32>,
    pub end_age: i32,
    pub interval: Option<i32>,
    pub grace_days: i32,
    pub life_stage_code: Option<String>,
    pub sort_order: i32,
    pub name_en: String,
    pub name_mn: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
