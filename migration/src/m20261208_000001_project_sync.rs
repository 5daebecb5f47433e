//! Community projects and their reports in the sync pull: each row gets the change number of
//! the transaction that last wrote it, as the other pulled tables have (m20261129_000001_sync).
//!
//! Rows written before this migration get one fresh number above every number given out so far,
//! so a device whose cursor is already past them still pulls them once.

use crate::helpers::{drop_index, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000001_project_sync"
    }
}

const TABLES: [&str; 2] = ["community_project", "project_report"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(Table::alter().table(table).add_column(big_integer("change_seq").default(0)).to_owned())
                .await?;
            manager.create_index(index(table, &["change_seq", "id"])).await?;
        }
        let db = manager.get_connection();
        db.execute_unprepared("UPDATE sync_state SET change_seq = change_seq + 1 WHERE id = 1").await?;
        for table in TABLES {
            db.execute_unprepared(&format!(
                "UPDATE {table} SET change_seq = (SELECT change_seq FROM sync_state WHERE id = 1)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager.drop_index(drop_index(table, &["change_seq", "id"])).await?;
            manager.alter_table(Table::alter().table(table).drop_column("change_seq").to_owned()).await?;
        }
        Ok(())
    }
}
