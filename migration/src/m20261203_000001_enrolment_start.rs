//! The enrolment's service type and start date copied from its service record, with an index
//! that holds everything "who is enrolled in S on day D" reads: education coverage otherwise
//! joins every enrolment to the service records (millions) to learn its type and start. A
//! service record's type and date never change after it is written, so the copy cannot drift.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{drop_index, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000001_enrolment_start"
    }
}

const INDEX: [&str; 4] = ["service_type_id", "started_on", "person_id", "ended_on"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Nullable: SQLite cannot add a NOT NULL column without a default; every write sets them.
        // One column per ALTER: SQLite takes no more.
        for column in [uuid_null("service_type_id"), date_null("started_on")] {
            manager.alter_table(Table::alter().table("enrolment").add_column(column).to_owned()).await?;
        }
        db.execute_unprepared(
            "UPDATE enrolment SET service_type_id = r.service_type_id, started_on = r.service_date \
             FROM service_record r WHERE r.id = enrolment.service_record_id",
        )
        .await?;
        manager.create_index(index("enrolment", &INDEX)).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(drop_index("enrolment", &INDEX)).await?;
        for column in ["service_type_id", "started_on"] {
            manager.alter_table(Table::alter().table("enrolment").drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
