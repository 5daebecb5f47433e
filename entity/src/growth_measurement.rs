//! Table `growth_measurement`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "growth_measurement")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_record_id: Uuid,
    pub person_id: Uuid,
    pub weight_kg: Option<f64>,
    pub length_height_cm: Option<f64>,
    /// LYING, STANDING
    pub position: Option<String>,
    pub muac_mm: Option<f64>,
    pub oedema: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
