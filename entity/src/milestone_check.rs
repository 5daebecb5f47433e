//! Table `milestone_check`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "milestone_check")]
pub struct Model {
    /// The DEVELOPMENT_CHECK service record the item was checked at.
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_record_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub milestone_id: Uuid,
    pub person_id: Uuid,
    pub achieved: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
