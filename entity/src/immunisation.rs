//! Table `immunisation`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "immunisation")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_record_id: Uuid,
    pub person_id: Uuid,
    pub antigen_id: Uuid,
    pub dose_number: i32,
    /// The service record's date (copied: coverage counts by it without the join).
    pub given_on: Option<Date>,
    /// Where the dose was given: the service record's unit (copied, like `given_on`).
    pub org_unit_id: Option<Uuid>,
    /// Whether the dose counts (a `DoseEvaluation`), evaluated on every write of the person's
    /// doses or birth date; null until evaluated (rows stored before evaluation existed).
    pub evaluation: Option<String>,
    /// The series position a valid dose fills; null for a dose that counts for nothing.
    pub valid_dose_number: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
