//! The service record's type added to the (person, date) index: "did this person get one of
//! these services between these days" (postnatal care within two days of a birth, asked once
//! per birth) is then answered from the index alone, instead of a visit to the 4.5 M-row table
//! for every record of the person in the window to learn its type. It leads with the same
//! columns, so it serves every lookup the old index served, which it replaces.

use sea_orm_migration::prelude::*;

use crate::helpers::{drop_index, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000002_record_person_type"
    }
}

const OLD: [&str; 2] = ["person_id", "service_date"];
const NEW: [&str; 3] = ["person_id", "service_date", "service_type_id"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("service_record", &NEW)).await?;
        manager.drop_index(drop_index("service_record", &OLD)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("service_record", &OLD)).await?;
        manager.drop_index(drop_index("service_record", &NEW)).await
    }
}
