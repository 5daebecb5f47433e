//! People and households of an org unit in id order, from the index: a page of a soum's or
//! khoroo's people is then read unit by unit (on PostgreSQL, a LATERAL join per unit of the
//! subtree, at most a page from each) instead of walking the whole primary key until a page of
//! the unit's rows has turned up, which reads about (page ÷ the unit's share of all people)
//! rows: ~800 for a soum of 32,000 in 1 M people, and far more for a bag of a few hundred.
//! The household index replaces the one on org_unit_id alone, which it serves as well.

use sea_orm_migration::prelude::*;

use crate::helpers::{drop_index, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000001_unit_pages"
    }
}

const PERSON: [&str; 2] = ["org_unit_id", "id"];
const HOUSEHOLD_OLD: [&str; 1] = ["org_unit_id"];
const HOUSEHOLD_NEW: [&str; 2] = ["org_unit_id", "id"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("person", &PERSON)).await?;
        manager.create_index(index("household", &HOUSEHOLD_NEW)).await?;
        manager.drop_index(drop_index("household", &HOUSEHOLD_OLD)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("household", &HOUSEHOLD_OLD)).await?;
        manager.drop_index(drop_index("household", &HOUSEHOLD_NEW)).await?;
        manager.drop_index(drop_index("person", &PERSON)).await
    }
}
