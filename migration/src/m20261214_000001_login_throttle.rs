//! Login throttling kept in the database, so that every instance of the service counts the same
//! failures: one row per key (`account:EMAIL|ADDRESS`, `address:ADDRESS`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261214_000001_login_throttle"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("login_throttle")
                    .col(string("key").primary_key())
                    .col(integer("failures"))
                    .col(timestamp_with_time_zone("last_failure_at"))
                    .col(timestamp_with_time_zone_null("blocked_until"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("login_throttle").to_owned()).await
    }
}
