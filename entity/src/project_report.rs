//! Table `project_report`: A monitoring report of a project (reach figures are cumulative).
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "project_report")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    pub project_id: Uuid,
    pub reported_on: Date,
    pub progress_percent: i32,
    pub narrative: String,
    pub households_reached: i32,
    pub people_reached: i32,
    pub reported_by: Option<Uuid>,
    /// The sync change number of the transaction that last wrote the row (see `tombstone`).
    #[serde(skip)]
    pub change_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
