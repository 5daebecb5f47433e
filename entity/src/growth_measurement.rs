//! Table `growth_measurement`.
// `baz` is WHO's name for the BMI-for-age z-score, not a placeholder.
#![allow(clippy::disallowed_names)]
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "growth_measurement")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_record_id: Uuid,
    pub person_id: Uuid,
    /// The service record's date (copied: coverage counts by it without the join).
    pub measured_on: Option<Date>,
    pub weight_kg: Option<f64>,
    pub length_height_cm: Option<f64>,
    /// LYING, STANDING
    pub position: Option<String>,
    pub muac_mm: Option<f64>,
    pub oedema: bool,
    /// Age on the day of measurement in whole days; null until computed.
    pub age_days: Option<i32>,
    /// WHO_2006, WHO_2007; null when the age is outside WHO's references.
    pub who_reference: Option<String>,
    /// Weight-for-age z-score (2 decimals).
    pub waz: Option<f64>,
    /// Length/height-for-age z-score.
    pub haz: Option<f64>,
    /// Weight-for-length/height z-score.
    pub whz: Option<f64>,
    /// BMI-for-age z-score.
    pub baz: Option<f64>,
    pub flag_waz: bool,
    pub flag_haz: bool,
    pub flag_whz: bool,
    pub flag_baz: bool,
    pub flag_standing_under_9m: bool,
    /// A z-score could not be computed because the age or length lies outside WHO's tables.
    pub outside_who_range: bool,
    /// NONE, MODERATE, SEVERE
    pub stunting: Option<String>,
    pub wasting: Option<String>,
    pub underweight: Option<String>,
    pub thinness: Option<String>,
    pub overweight: Option<bool>,
    pub obesity: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
