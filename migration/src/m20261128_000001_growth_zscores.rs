//! WHO z-scores stored with every growth measurement (computed on write by the API, so aggregates
//! need no recomputation): age in days, the reference used, the four z-scores, WHO's
//! plausibility flags and the classification. Existing rows are filled by the API after migrating
//! (`store::growth::backfill`), since this crate holds no WHO tables.

use crate::rows::{add_columns, drop_columns};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000001_growth_zscores"
    }
}

const TABLE: &str = "growth_measurement";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            TABLE,
            vec![
                // Age on the day of measurement in whole days; null until computed.
                integer_null("age_days"),
                // WHO_2006 or WHO_2007; null when the age is outside WHO's references.
                string_len_null("who_reference", 8),
                double_null("waz"),
                double_null("haz"),
                double_null("whz"),
                double_null("baz"),
                boolean("flag_waz").default(false).to_owned(),
                boolean("flag_haz").default(false).to_owned(),
                boolean("flag_whz").default(false).to_owned(),
                boolean("flag_baz").default(false).to_owned(),
                boolean("flag_standing_under_9m").default(false).to_owned(),
                boolean("outside_who_range").default(false).to_owned(),
                // NONE, MODERATE, SEVERE; null when not assessable.
                string_len_null("stunting", 8),
                string_len_null("wasting", 8),
                string_len_null("underweight", 8),
                string_len_null("thinness", 8),
                boolean_null("overweight"),
                boolean_null("obesity"),
            ],
        )
        .await?;
        manager
            .create_index(
                Index::create().name("idx_growth_measurement_age_days").table(TABLE).col("age_days").to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name("idx_growth_measurement_age_days").table(TABLE).to_owned()).await?;
        drop_columns(
            manager,
            TABLE,
            &[
                "age_days",
                "who_reference",
                "waz",
                "haz",
                "whz",
                "baz",
                "flag_waz",
                "flag_haz",
                "flag_whz",
                "flag_baz",
                "flag_standing_under_9m",
                "outside_who_range",
                "stunting",
                "wasting",
                "underweight",
                "thinness",
                "overweight",
                "obesity",
            ],
        )
        .await
    }
}
