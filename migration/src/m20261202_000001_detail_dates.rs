//! The service date copied onto the detail rows that coverage counts by date (measurements and
//! immunisations), and a covering index for "who received service S between two dates" and
//! "which records of service S by a date". National coverage otherwise joins millions of service
//! records only to read their date or type. A service record's date never changes after it is
//! written, so the copy cannot drift.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{drop_index, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000001_detail_dates"
    }
}

/// (table, its new date column)
const DETAILS: [(&str, &str); 2] = [("growth_measurement", "measured_on"), ("immunisation", "given_on")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, column) in DETAILS {
            manager.alter_table(Table::alter().table(table).add_column(date_null(column)).to_owned()).await?;
            // UPDATE … FROM: PostgreSQL and SQLite (3.33+) both take it, and it joins once
            // instead of probing per row (millions of rows on a national database).
            db.execute_unprepared(&format!(
                "UPDATE {table} SET {column} = r.service_date FROM service_record r WHERE r.id = {table}.service_record_id"
            ))
            .await?;
        }
        // Each child's latest measurement in a period.
        manager.create_index(index("growth_measurement", &["person_id", "measured_on"])).await?;
        // The people served, and the records of a type: read from the index alone (PostgreSQL's
        // index-only scan), not from the table.
        manager.create_index(index("service_record", &["service_type_id", "service_date", "person_id", "id"])).await?;
        manager.drop_index(drop_index("service_record", &["service_type_id", "service_date"])).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(index("service_record", &["service_type_id", "service_date"])).await?;
        manager
            .drop_index(drop_index("service_record", &["service_type_id", "service_date", "person_id", "id"]))
            .await?;
        manager.drop_index(drop_index("growth_measurement", &["person_id", "measured_on"])).await?;
        for (table, column) in DETAILS {
            manager.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
