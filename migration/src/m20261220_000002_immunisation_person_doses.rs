//! `immunisation (person_id, antigen_id, valid_dose_number, given_on)` in place of the index on
//! `person_id` alone: the doses of a set of people (a birth cohort's valid doses of one antigen,
//! as the dose coverage indicators count them; a child's history) are read from the index
//! alone, without visiting the table (`bench/NOTES.md`, issue 29).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261220_000002_immunisation_person_doses"
    }
}

const NEW: &str = "idx_immunisation_person_doses";
const OLD: &str = "idx_immunisation_person_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NEW)
                    .table("immunisation")
                    .col("person_id")
                    .col("antigen_id")
                    .col("valid_dose_number")
                    .col("given_on")
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(OLD).table("immunisation").to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(Index::create().name(OLD).table("immunisation").col("person_id").to_owned()).await?;
        manager.drop_index(Index::drop().name(NEW).table("immunisation").to_owned()).await
    }
}
