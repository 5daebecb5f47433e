//! Table `life_stage`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "life_stage")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub name_en: String,
    pub name_mn: String,
    pub sort_order: i32,
    /// AGE (bounds below) or OPEN_PREGNANCY (registration to outcome).
    pub criterion: String,
    pub min_age_value: Option<i32>,
    /// DAY, MONTH or YEAR: the bound is in completed units of this kind.
    pub min_age_unit: Option<String>,
    pub max_age_value: Option<i32>,
    pub max_age_unit: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
