//! Early childhood education and school attendance count children whose enrolment is open on
//! the reference date (enrolled on or before it, not ended by it), or with an attendance record
//! in the year before it. They counted only enrolments recorded in the last year, which missed
//! every child enrolled in an earlier year and still attending (school attendance read 8% on the
//! demo data).

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000002_enrolled_indicators"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE indicator SET rule = 'PEOPLE_ENROLLED', numerator_en = 'Children 36-59 months with an open \
             kindergarten or outreach ECD enrolment or attending in the last year' \
             WHERE code = 'EARLY_CHILDHOOD_EDUCATION'",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE indicator SET rule = 'PEOPLE_ENROLLED', numerator_en = 'Children 6-17 years with an open school \
             enrolment or attending in the last year' WHERE code = 'SCHOOL_ATTENDANCE'",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE indicator SET rule = 'PEOPLE_WITH_SERVICE' \
                 WHERE code IN ('EARLY_CHILDHOOD_EDUCATION', 'SCHOOL_ATTENDANCE')",
            )
            .await?;
        Ok(())
    }
}
