//! Table `protection_case`: a child-protection case of a child, managed in an org unit by one
//! assigned case worker; who else sees it is `access::cases_condition`'s business.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "protection_case")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// The child.
    pub person_id: Uuid,
    /// The unit that manages the case (where the child lived when it was opened, or the unit a
    /// transfer moved it to).
    pub org_unit_id: Uuid,
    /// `ProtectionConcern`: NEGLECT, VIOLENCE, EXPLOITATION, ...
    pub concern: String,
    /// LOW, MEDIUM or HIGH.
    pub risk_level: String,
    /// OPEN or CLOSED.
    pub status: String,
    pub opened_on: Date,
    /// The next review is due by this day (from the risk level).
    pub review_due_on: Date,
    pub closed_on: Option<Date>,
    pub close_reason: Option<String>,
    pub summary: Option<String>,
    /// The case worker (a user) who owns the case.
    pub assigned_to: Uuid,
    pub opened_by: Option<Uuid>,
    /// A pending transfer: the case worker asked to take the case over.
    pub transfer_to_user: Option<Uuid>,
    /// A pending transfer: the unit that would manage the case.
    pub transfer_to_unit: Option<Uuid>,
    pub transfer_note: Option<String>,
    pub change_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
