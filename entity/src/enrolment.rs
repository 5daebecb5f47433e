//! Table `enrolment`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "enrolment")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_record_id: Uuid,
    pub person_id: Uuid,
    pub institution: String,
    pub grade: Option<String>,
    pub ended_on: Option<Date>,
    pub end_reason: Option<String>,
    /// Copies of the service record's type and date (never changed after writing), so coverage
    /// reads who is enrolled in what from this table's index alone.
    pub service_type_id: Option<Uuid>,
    pub started_on: Option<Date>,
    /// The school grade (1-12) recorded at enrolment.
    pub grade_number: Option<i32>,
    /// The school year (by the year it starts) the pupil attended grade 1, as `grade_number`
    /// implies (`domain::school`); null without a grade number.
    pub first_grade_year: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
