//! Table `referral`: a person (or a household) referred from one org unit to another for a need
//! (a service type of the catalogue, or a need category), and what the receiver made of it.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "referral")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// The person referred; null for a household's referral.
    pub person_id: Option<Uuid>,
    /// The person's household when sent (or the household referred).
    pub household_id: Option<Uuid>,
    /// Where the subject lived when it was sent: the referring side.
    pub from_org_unit_id: Uuid,
    /// The receiving unit.
    pub to_org_unit_id: Uuid,
    /// The receiving partner organisation, if any.
    pub to_partner_id: Option<Uuid>,
    /// The receiving facility or provider, as named by the referrer.
    pub provider: Option<String>,
    /// `ReferralNeed`: HEALTH, NUTRITION, EDUCATION, ...
    pub need: String,
    pub service_type_id: Option<Uuid>,
    /// ROUTINE, URGENT or EMERGENCY.
    pub urgency: String,
    pub sent_on: Date,
    pub due_by: Date,
    pub reason: String,
    /// What raised it: OVERDUE_SERVICE, ASSESSMENT_ACTION, MEASUREMENT or OTHER.
    pub raised_by: Option<String>,
    /// The assessment action or measurement (service record) that raised it.
    pub raised_by_id: Option<Uuid>,
    pub sent_by: Option<Uuid>,
    /// SENT, ACCEPTED, DECLINED, COMPLETED or CLOSED.
    pub status: String,
    /// Why it was declined or closed (CLOSED: UNREACHABLE, MOVED, DIED).
    pub close_reason: Option<String>,
    pub answer_note: Option<String>,
    /// The service record that fulfilled it (COMPLETED).
    pub completed_by_record_id: Option<Uuid>,
    pub completed_on: Option<Date>,
    /// The day it stopped asking anyone to act: declined or closed (the day of that answer) or
    /// completed (the day of the service that met the need); null while open.
    pub ended_on: Option<Date>,
    /// The sync change number of the transaction that last wrote the row (see `tombstone`).
    #[serde(skip)]
    pub change_seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
