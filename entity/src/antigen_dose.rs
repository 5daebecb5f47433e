//! Table `antigen_dose`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "antigen_dose")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub antigen_id: Uuid,
    pub dose_number: i32,
    pub recommended_age_days: i32,
    pub min_interval_days: Option<i32>,
    /// Latest age (days) at which the dose is still given.
    pub max_age_days: Option<i32>,
    /// Days after the due date from which the dose is overdue.
    pub grace_days: i32,
    /// Youngest age (days) at which the dose counts (`domain::dose_validity`).
    pub min_age_days: i32,
    /// Oldest age (days) at which the dose counts; null: no limit.
    pub max_valid_age_days: Option<i32>,
    /// Days before the minimum age or interval a dose still counts.
    pub validity_grace_days: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
