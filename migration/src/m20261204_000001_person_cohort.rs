//! An index that holds everything coverage reads of a person to count an age cohort (birth
//! date, unit, sex, date of death, id), so the cohort is read from the index alone instead of
//! the whole person table (216 MB at 1 M people): vitamin A coverage of the country by region
//! 217 -> 100 ms. It leads with the birth date, so it serves every lookup the plain birth-date
//! index served, which it replaces.

use sea_orm_migration::prelude::*;

use crate::helpers::{drop_index, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000001_person_cohort"
    }
}

const COHORT: [&str; 5] = ["birth_date", "org_unit_id", "sex", "date_of_death", "id"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("person", &COHORT)).await?;
        manager.drop_index(drop_index("person", &["birth_date"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("person", &["birth_date"])).await?;
        manager.drop_index(drop_index("person", &COHORT)).await
    }
}
