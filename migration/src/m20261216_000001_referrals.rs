//! Referrals across sectors (`referral`) and their lifecycle steps (`referral_step`): a person or
//! a household referred from the unit where it lives to a receiving unit (and optionally a
//! partner organisation or a named provider) for a need, answered by the receiver (accepted,
//! declined, completed by a service record, or closed), each step versioned, synced and audited.

use crate::helpers::{fk, index, mutable};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261216_000001_referrals"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                mutable("referral")
                    .col(uuid_null("person_id"))
                    .col(uuid_null("household_id"))
                    .col(uuid("from_org_unit_id"))
                    .col(uuid("to_org_unit_id"))
                    .col(uuid_null("to_partner_id"))
                    .col(string_len_null("provider", 200))
                    .col(string_len("need", 24))
                    .col(uuid_null("service_type_id"))
                    .col(string_len("urgency", 16))
                    .col(date("sent_on"))
                    .col(date("due_by"))
                    .col(text("reason"))
                    .col(string_len_null("raised_by", 24))
                    .col(uuid_null("raised_by_id"))
                    .col(uuid_null("sent_by"))
                    .col(string_len("status", 16))
                    .col(string_len_null("close_reason", 16))
                    .col(text_null("answer_note"))
                    .col(uuid_null("completed_by_record_id"))
                    .col(date_null("completed_on"))
                    .col(big_integer("change_seq").default(0))
                    .foreign_key(&mut fk("referral", "person_id", "person", "id"))
                    .foreign_key(&mut fk("referral", "household_id", "household", "id"))
                    .foreign_key(&mut fk("referral", "from_org_unit_id", "org_unit", "id"))
                    .foreign_key(&mut fk("referral", "to_org_unit_id", "org_unit", "id"))
                    .foreign_key(&mut fk("referral", "to_partner_id", "partner", "id"))
                    .foreign_key(&mut fk("referral", "service_type_id", "service_type", "id"))
                    .foreign_key(&mut fk("referral", "completed_by_record_id", "service_record", "id"))
                    .to_owned(),
            )
            .await?;
        // Each side's open referrals, a person's, the pull's order; foreign keys' own.
        for cols in [
            &["to_org_unit_id", "status"][..],
            &["from_org_unit_id", "status"],
            &["person_id", "status"],
            &["household_id"],
            &["change_seq", "id"],
            &["to_partner_id"],
            &["completed_by_record_id"],
        ] {
            manager.create_index(index("referral", cols)).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("referral_step")
                    .col(pk_uuid("id"))
                    .col(uuid("referral_id"))
                    .col(string_len_null("from_status", 16))
                    .col(string_len("to_status", 16))
                    .col(uuid_null("by_user"))
                    .col(timestamp_with_time_zone("at"))
                    .col(string_len_null("note", 1000))
                    .foreign_key(&mut fk("referral_step", "referral_id", "referral", "id"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("referral_step", &["referral_id"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("referral_step").to_owned()).await?;
        manager.drop_table(Table::drop().table("referral").to_owned()).await
    }
}
