//! `derived_state`: for each kind of value the API derives and stores (today the dose verdicts),
//! the fingerprint of the rules it was derived with. After migrating, the API compares it with
//! the rules it now holds (their data and the version of their code) and re-derives every stored
//! value when they differ, so a change of rules — a migration editing `antigen_dose`, or a new
//! release of the evaluation — never leaves verdicts made under the old ones.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_000001_derived_state"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("derived_state")
                    .col(string("name").primary_key())
                    .col(string("fingerprint"))
                    .col(timestamp_with_time_zone("derived_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("derived_state").to_owned()).await
    }
}
