//! Urban or rural, per org unit: the settlement type coverage and aggregates are broken down by.
//! Ulaanbaatar's districts and khoroos are urban; soums and bags rural (the statistics office's
//! split; an aimag centre soum can be set to URBAN in the data).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000001_settlement"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("org_unit").add_column(string_len_null("settlement", 8)).to_owned())
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE org_unit SET settlement = 'URBAN' WHERE level IN ('CAPITAL', 'DISTRICT', 'KHOROO')",
        )
        .await?;
        db.execute_unprepared("UPDATE org_unit SET settlement = 'RURAL' WHERE level IN ('SOUM', 'BAG')").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table("org_unit").drop_column("settlement").to_owned()).await
    }
}
