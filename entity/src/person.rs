//! Table `person`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "person")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub household_id: Option<Uuid>,
    /// The unit the person lives in (the household's unit when there is one): the scope key.
    pub org_unit_id: Uuid,
    pub given_name: String,
    pub family_name: String,
    /// Lower-cased names plus their Latin transliteration, for search in either script.
    pub search_name: String,
    /// MALE, FEMALE
    pub sex: String,
    pub birth_date: Date,
    pub birth_date_estimated: bool,
    pub relation_to_head: Option<String>,
    #[sea_orm(unique)]
    pub registry_number: Option<String>,
    pub phone: Option<String>,
    pub disability: Option<String>,
    pub date_of_death: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// The sync change number of the transaction that last wrote the row (see `tombstone`).
    #[serde(skip)]
    pub change_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
