//! Official population estimates per org unit, year, sex and age band (in completed years):
//! the population-based denominators of coverage indicators, imported from CSV.

use crate::helpers::{fk, index, mutable};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000002_population"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                mutable("population_estimate")
                    .col(uuid("org_unit_id"))
                    .col(integer("year"))
                    // MALE, FEMALE, or BOTH
                    .col(string_len("sex", 8))
                    .col(integer("age_from_years"))
                    .col(integer("age_to_years"))
                    .col(big_integer("population"))
                    .col(string_len_null("source", 200))
                    .foreign_key(&mut fk("population_estimate", "org_unit_id", "org_unit", "id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_population_estimate_key")
                    .table("population_estimate")
                    .col("org_unit_id")
                    .col("year")
                    .col("sex")
                    .col("age_from_years")
                    .col("age_to_years")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("population_estimate", &["year"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("population_estimate").to_owned()).await
    }
}
