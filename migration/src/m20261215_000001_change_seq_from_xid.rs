//! Change numbers without a queue (PostgreSQL): a write transaction's change number becomes its
//! own transaction id plus `sync_state.xid_offset`, so writers no longer take turns on the
//! counter's row. The offset is set once, here, so that every number drawn from now on is above
//! every number already stored. A pull reads only below its snapshot's horizon (the oldest
//! transaction of this database still running), which is what keeps it from missing a change
//! that drew an earlier number but committed later (`store::sync`).
//!
//! The counter's column is renamed on PostgreSQL, so an instance of an older release still
//! running (a rolling deploy) fails its writes loudly instead of numbering changes the old way,
//! which the new pulls would skip: stop older instances before starting this one. A migration
//! that stamps rows must draw `pg_current_xact_id() + xid_offset` there, never the old counter.
//!
//! SQLite keeps the counter: it has one writer at a time anyway. The column is added there too,
//! unused, so both schemas stay alike.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261215_000001_change_seq_from_xid"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("sync_state").add_column(big_integer("xid_offset").default(0)).to_owned())
            .await?;
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            // Transaction ids only grow (xid8 carries the epoch): every later one is above this
            // transaction's, so every later number is above the counter.
            manager
                .get_connection()
                .execute_unprepared(
                    "UPDATE sync_state SET xid_offset = change_seq + 1 - pg_current_xact_id()::text::bigint WHERE id = 1",
                )
                .await?;
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE sync_state RENAME COLUMN change_seq TO counter_before_xids")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            // The counter resumes above every number drawn meanwhile.
            db.execute_unprepared("ALTER TABLE sync_state RENAME COLUMN counter_before_xids TO change_seq").await?;
            db.execute_unprepared(
                "UPDATE sync_state SET change_seq = pg_current_xact_id()::text::bigint + xid_offset WHERE id = 1",
            )
            .await?;
        }
        manager.alter_table(Table::alter().table("sync_state").drop_column("xid_offset").to_owned()).await?;
        Ok(())
    }
}
