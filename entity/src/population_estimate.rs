//! Table `population_estimate`: an official population estimate for a unit, year, sex and age band.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "population_estimate")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    pub org_unit_id: Uuid,
    pub year: i32,
    /// MALE, FEMALE or BOTH
    pub sex: String,
    pub age_from_years: i32,
    pub age_to_years: i32,
    pub population: i64,
    pub source: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
