//! Where each dose was given, copied from its service record onto the immunisation: INVALID_DOSES
//! counts doses by the unit that gave them (a facility's data-quality review looks at its own
//! doses), without joining a million people only to place them. A service record's unit never
//! changes after it is written, so the copy cannot drift.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261214_000003_dose_units"
    }
}

const DEFINITION: &str = "Doses of the children's schedule given in the period whose verdict is TOO_EARLY, TOO_SOON or \
     LIVE_VACCINE_TOO_SOON, over every evaluated dose given in the period (Td in pregnancy left out), placed \
     where each dose was given (the unit of its service record), as facility data-quality reviews count them.";

const DEFINITION_BEFORE: &str = "Doses of the children's schedule given in the period whose verdict is TOO_EARLY, \
     TOO_SOON or LIVE_VACCINE_TOO_SOON, over every evaluated dose given in the period (Td in pregnancy left out).";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .alter_table(Table::alter().table("immunisation").add_column(uuid_null("org_unit_id")).to_owned())
            .await?;
        // UPDATE … FROM, on both databases: one join, not a probe per row.
        db.execute_unprepared(
            "UPDATE immunisation SET org_unit_id = r.org_unit_id FROM service_record r \
             WHERE r.id = immunisation.service_record_id",
        )
        .await?;
        define(manager, DEFINITION).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        define(manager, DEFINITION_BEFORE).await?;
        manager.alter_table(Table::alter().table("immunisation").drop_column("org_unit_id").to_owned()).await
    }
}

async fn define(manager: &SchemaManager<'_>, definition: &str) -> Result<(), DbErr> {
    let update = Query::update()
        .table("indicator")
        .value("definition", definition)
        .and_where(Expr::col("code").eq("INVALID_DOSES"))
        .to_owned();
    manager.exec_stmt(update).await
}
