//! Child-protection cases (`protection_case`), their plans (`protection_case_action`) and their
//! history (`protection_case_step`): a case of a child, managed in an org unit by one assigned
//! case worker, seen only by that worker, the unit's case-management supervisors and
//! administrators. The catalogue's `CHILD_PROTECTION_CASE` service is opened as such a case from
//! now on, not recorded as a service record everyone in the unit's scope reads.

use crate::helpers::{fk, index, mutable};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261217_000001_protection_cases"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                mutable("protection_case")
                    .col(uuid("person_id"))
                    .col(uuid("org_unit_id"))
                    .col(string_len("concern", 32))
                    .col(string_len("risk_level", 8))
                    .col(string_len("status", 8))
                    .col(date("opened_on"))
                    .col(date("review_due_on"))
                    .col(date_null("closed_on"))
                    .col(string_len_null("close_reason", 16))
                    .col(text_null("summary"))
                    .col(uuid("assigned_to"))
                    .col(uuid_null("opened_by"))
                    .col(uuid_null("transfer_to_user"))
                    .col(uuid_null("transfer_to_unit"))
                    .col(text_null("transfer_note"))
                    .col(big_integer("change_seq").default(0))
                    .foreign_key(&mut fk("protection_case", "person_id", "person", "id"))
                    .foreign_key(&mut fk("protection_case", "org_unit_id", "org_unit", "id"))
                    .foreign_key(&mut fk("protection_case", "assigned_to", "app_user", "id"))
                    .foreign_key(&mut fk("protection_case", "transfer_to_user", "app_user", "id"))
                    .foreign_key(&mut fk("protection_case", "transfer_to_unit", "org_unit", "id"))
                    .to_owned(),
            )
            .await?;
        // A worker's cases, a unit's, a pending transfer's receiver, a child's, the pull's order.
        for cols in [
            &["assigned_to", "status"][..],
            &["org_unit_id", "status"],
            &["transfer_to_user"],
            &["transfer_to_unit"],
            &["person_id"],
            &["change_seq", "id"],
        ] {
            manager.create_index(index("protection_case", cols)).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("protection_case_action")
                    .col(pk_uuid("id"))
                    .col(uuid("case_id"))
                    .col(string_len("description", 1000))
                    .col(date("due_on"))
                    .col(date_null("done_on"))
                    .col(uuid_null("added_by"))
                    .col(timestamp_with_time_zone("added_at"))
                    .foreign_key(&mut fk("protection_case_action", "case_id", "protection_case", "id"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("protection_case_action", &["case_id"])).await?;
        manager
            .create_table(
                Table::create()
                    .table("protection_case_step")
                    .col(pk_uuid("id"))
                    .col(uuid("case_id"))
                    .col(string_len("step", 24))
                    .col(uuid_null("by_user"))
                    .col(timestamp_with_time_zone("at"))
                    .col(string_len_null("risk_level", 8))
                    .col(string_len_null("note", 1000))
                    .foreign_key(&mut fk("protection_case_step", "case_id", "protection_case", "id"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("protection_case_step", &["case_id"])).await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE service_type SET detail_kind = 'PROTECTION_CASE' WHERE code = 'CHILD_PROTECTION_CASE'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("UPDATE service_type SET detail_kind = 'NONE' WHERE code = 'CHILD_PROTECTION_CASE'")
            .await?;
        manager.drop_table(Table::drop().table("protection_case_step").to_owned()).await?;
        manager.drop_table(Table::drop().table("protection_case_action").to_owned()).await?;
        manager.drop_table(Table::drop().table("protection_case").to_owned()).await
    }
}
