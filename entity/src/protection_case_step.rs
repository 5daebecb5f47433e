//! Table `protection_case_step`: a step of a protection case (opened, reviewed, planned,
//! transferred, closed...): who, when, with the risk level it set and a note.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "protection_case_step")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    /// `CaseStep`: OPEN, REVIEW, PLAN, TRANSFER, ...
    pub step: String,
    pub by_user: Option<Uuid>,
    pub at: DateTimeUtc,
    /// The day of the step (Mongolia's date): what was open on a past day is counted by it.
    pub on_day: Option<Date>,
    pub risk_level: Option<String>,
    pub note: Option<String>,
    /// A digest of the change the step made (`updateProtectionCase`'s input): a retry of it is
    /// told from another step on the same version.
    pub change_key: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
