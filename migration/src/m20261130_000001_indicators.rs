//! Coverage indicators as data (`data/indicators.csv`): each a rule of the coverage engine with
//! its parameters, names in English and Mongolian, and the numerator and denominator in words.

use crate::helpers::mutable;
use crate::reference::{self, reference_id};
use crate::rows::insert;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261130_000001_indicators"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                mutable("indicator")
                    .col(string_uniq("code"))
                    .col(integer("sort_order"))
                    .col(string_len("rule", 32))
                    .col(integer_null("min_age_months"))
                    .col(integer_null("max_age_months"))
                    .col(string_len_null("services", 300))
                    .col(integer_null("window_days"))
                    .col(integer_null("min_count"))
                    .col(string_len_null("z_index", 8))
                    .col(double_null("z_cut"))
                    .col(boolean("z_above").default(false))
                    .col(integer("factor"))
                    .col(string("name_en"))
                    .col(string("name_mn"))
                    .col(string_len("numerator_en", 500))
                    .col(string_len("denominator_en", 500))
                    .to_owned(),
            )
            .await?;
        let opt_int = |v: &str| -> SimpleExpr { v.parse::<i32>().ok().into() };
        let opt_text = |v: &str| -> SimpleExpr { (!v.is_empty()).then(|| v.to_string()).into() };
        let rows = reference::indicators()
            .into_iter()
            .map(|r| {
                vec![
                    reference_id("indicator", r[0]).into(),
                    r[0].into(),
                    opt_int(r[1]),
                    r[2].into(),
                    opt_int(r[3]),
                    opt_int(r[4]),
                    opt_text(r[5]),
                    opt_int(r[6]),
                    opt_int(r[7]),
                    opt_text(r[8]),
                    r[9].parse::<f64>().ok().into(),
                    (r[10] == "true").into(),
                    opt_int(r[11]),
                    r[12].into(),
                    r[13].into(),
                    r[14].into(),
                    r[15].into(),
                ]
            })
            .collect();
        insert(
            manager,
            "indicator",
            &[
                "code",
                "sort_order",
                "rule",
                "min_age_months",
                "max_age_months",
                "services",
                "window_days",
                "min_count",
                "z_index",
                "z_cut",
                "z_above",
                "factor",
                "name_en",
                "name_mn",
                "numerator_en",
                "denominator_en",
            ],
            rows,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("indicator").to_owned()).await
    }
}
