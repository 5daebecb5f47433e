//! Birth indicators named after MICS count as MICS does: women aged 15-49 years on the reference
//! date with a live birth in the period, each by her most recent one (`indicator.latest_birth_per_woman`,
//! with the ages in `min_age_months`/`max_age_months`): ANC4, PNC_MOTHER_2_DAYS and
//! PNC_NEWBORN_2_DAYS. MICS's "last 2 years" is the period `LAST_24_MONTHS`. Skilled attendance
//! (SDG 3.1.2) and the programme's PNC_2_DAYS keep counting every live birth.

use crate::rows::{add_columns, drop_columns};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_000003_women_latest_birth"
    }
}

/// Women aged 15 to 49 completed years.
const AGES: (i32, i32) = (15 * 12, 49 * 12 + 11);

/// (code, numerator, denominator, definition) of the indicators counted per woman.
const PER_WOMAN: [(&str, &str, &str, &str); 3] = [
    (
        "ANC4",
        "Women 15-49 whose most recent live birth in the period followed 4 or more antenatal contacts",
        "Women 15-49 with a live birth in the period",
        "Women aged 15-49 years on the reference date with a live birth in the period, by their most recent \
         one: those who had 4 or more antenatal contacts recorded in that pregnancy. MICS (TM.5) asks about \
         the last 2 years: choose the period LAST_24_MONTHS.",
    ),
    (
        "PNC_MOTHER_2_DAYS",
        "Women 15-49 checked on the day of their most recent live birth in the period or the next",
        "Women 15-49 with a live birth in the period",
        "Women aged 15-49 years on the reference date with a live birth in the period, by their most recent \
         one: those who had a postnatal check on the day of delivery or the next (the schedule's first \
         postnatal contact). MICS (TM.12) asks about the last 2 years: choose the period LAST_24_MONTHS.",
    ),
    (
        "PNC_NEWBORN_2_DAYS",
        "Women 15-49 whose newborn of their most recent live birth in the period was checked on its day of birth or the next",
        "Women 15-49 with a live birth in the period",
        "Women aged 15-49 years on the reference date with a live birth in the period, by their most recent \
         one: those whose newborn had a postnatal check on the day of birth or the next (the schedule's first \
         postnatal contact; twins count once, as one birth). MICS (TM.13) asks about the last 2 years: choose \
         the period LAST_24_MONTHS.",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(manager, "indicator", vec![boolean("latest_birth_per_woman").default(false).to_owned()]).await?;
        for (code, numerator, denominator, definition) in PER_WOMAN {
            manager
                .exec_stmt(
                    Query::update()
                        .table("indicator")
                        .value("latest_birth_per_woman", true)
                        .value("min_age_months", AGES.0)
                        .value("max_age_months", AGES.1)
                        .value("numerator_en", numerator)
                        .value("denominator_en", denominator)
                        .value("definition", definition)
                        .and_where(Expr::col("code").eq(code))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The texts of the previous migration are not restored: only the rule's columns go back.
        for (code, ..) in PER_WOMAN {
            manager
                .exec_stmt(
                    Query::update()
                        .table("indicator")
                        .value("min_age_months", Option::<i32>::None)
                        .value("max_age_months", Option::<i32>::None)
                        .and_where(Expr::col("code").eq(code))
                        .to_owned(),
                )
                .await?;
        }
        drop_columns(manager, "indicator", &["latest_birth_per_woman"]).await
    }
}
