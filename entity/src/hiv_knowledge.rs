//! Table `hiv_knowledge`: the answers of an HIV knowledge assessment (MICS's five prompted
//! questions), the detail of an HIV_KNOWLEDGE_ASSESSMENT service record.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "hiv_knowledge")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_record_id: Uuid,
    pub person_id: Uuid,
    /// A copy of the service record's date (never changed after writing).
    pub assessed_on: Date,
    /// YES, NO or DONT_KNOW, each.
    pub one_faithful_partner: String,
    pub condom_every_time: String,
    pub healthy_looking_person: String,
    pub mosquito_bites: String,
    pub sharing_food: String,
    /// All five answered right (`cbss::domain::hiv_knowledge`).
    pub comprehensive: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
