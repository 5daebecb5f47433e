//! `user_session.last_write_lsn`: where the primary's WAL stood after a session's latest write
//! (bytes from 0/0), so that a session reads from the replica only once the replica has replayed
//! its writes (`replica`). Null: no write yet, or no replica configured.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261215_000002_session_write_lsn"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("user_session").add_column(big_integer_null("last_write_lsn")).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("user_session").drop_column("last_write_lsn").to_owned()).await
    }
}
