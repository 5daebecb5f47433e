//! Offline sync: a server-side change sequence on every syncable table, the counter it is drawn
//! from, and tombstones for records that were erased (or, later, deleted).
//!
//! Every write transaction takes the next number from `sync_state` with an UPDATE, whose row
//! lock is held until commit: numbers are therefore committed in order, and a reader that has
//! seen number n will never later find a committed change numbered below n.

use crate::helpers::index;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000001_sync"
    }
}

/// The tables a device pulls, each with its change number.
const SYNCED: [&str; 5] = ["household", "person", "pregnancy", "service_record", "consent"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in SYNCED {
            manager
                .alter_table(Table::alter().table(table).add_column(big_integer("change_seq").default(0)).to_owned())
                .await?;
            manager.create_index(index(table, &["change_seq", "id"])).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("sync_state")
                    .col(integer("id").primary_key())
                    .col(big_integer("change_seq"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("sync_state")
                    .columns(["id", "change_seq"])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("tombstone")
                    .col(pk_uuid("id"))
                    // household, person, pregnancy, service_record, consent
                    .col(string_len("entity", 32))
                    .col(uuid("entity_id"))
                    // Where the record was, so the tombstone reaches the devices that held it.
                    .col(uuid("org_unit_id"))
                    .col(big_integer("change_seq"))
                    .col(timestamp_with_time_zone("deleted_at"))
                    // ERASED (pseudonymised by an administrator) or DELETED
                    .col(string_len("reason", 16))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("tombstone", &["change_seq", "id"])).await?;
        // One record per dose, enforced by the database too: concurrent writers check it
        // before writing, and only a constraint closes the gap between the two.
        manager
            .create_index(
                Index::create()
                    .name("uq_immunisation_person_antigen_dose")
                    .table("immunisation")
                    .col("person_id")
                    .col("antigen_id")
                    .col("dose_number")
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("uq_immunisation_person_antigen_dose").table("immunisation").to_owned())
            .await?;
        manager.drop_table(Table::drop().table("tombstone").to_owned()).await?;
        manager.drop_table(Table::drop().table("sync_state").to_owned()).await?;
        for table in SYNCED {
            manager
                .drop_index(Index::drop().name(format!("idx_{table}_change_seq_id")).table(table).to_owned())
                .await?;
            manager.alter_table(Table::alter().table(table).drop_column("change_seq").to_owned()).await?;
        }
        Ok(())
    }
}
