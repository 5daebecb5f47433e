//! The records of a pregnancy by type, for ANC4's count per birth: a partial index of the records
//! that have a pregnancy (about one in twelve), read alone (index-only) where the index on
//! `pregnancy_id` holds every record, most of them with no pregnancy. Same SQL on both databases.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261214_000002_pregnancy_contacts_index"
    }
}

const NAME: &str = "idx_service_record_pregnancy_id_service_type_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "CREATE INDEX {NAME} ON service_record (pregnancy_id, service_type_id) WHERE pregnancy_id IS NOT NULL"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared(&format!("DROP INDEX {NAME}")).await?;
        Ok(())
    }
}
