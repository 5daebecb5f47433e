//! People and households of an org unit in each order the lists offer (family name, given
//! name, birth date; registration date), then id: a page of a unit's people sorted by name is
//! then read unit by unit from the index (`page::fetch_ordered_in_subtree`), where PostgreSQL
//! scanned and sorted the whole person table (330 ms for a soum of 1 M people).
//! The birth-date index replaces the one without id, which it serves as well.

use sea_orm_migration::prelude::*;

use crate::helpers::{drop_index, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000001_unit_orders"
    }
}

const PERSON_NEW: [&[&str]; 3] =
    [&["org_unit_id", "family_name", "id"], &["org_unit_id", "given_name", "id"], &["org_unit_id", "birth_date", "id"]];
const PERSON_OLD: [&str; 2] = ["org_unit_id", "birth_date"];
const HOUSEHOLD: [&str; 3] = ["org_unit_id", "registered_on", "id"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for columns in PERSON_NEW {
            manager.create_index(index("person", columns)).await?;
        }
        manager.drop_index(drop_index("person", &PERSON_OLD)).await?;
        manager.create_index(index("household", &HOUSEHOLD)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(drop_index("household", &HOUSEHOLD)).await?;
        manager.create_index(index("person", &PERSON_OLD)).await?;
        for columns in PERSON_NEW {
            manager.drop_index(drop_index("person", columns)).await?;
        }
        Ok(())
    }
}
