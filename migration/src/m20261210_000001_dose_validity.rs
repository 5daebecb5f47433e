//! Valid-dose evaluation: when a recorded dose counts, as data, and each dose's verdict.
//!
//! * `antigen_dose` gains `min_age_days`, `max_valid_age_days` and `validity_grace_days`, and
//!   `antigen` gains `live_injected`, from `data/dose_validity_mn.csv`.
//! * `immunisation` gains `evaluation` (VALID, TOO_EARLY, ...) and `valid_dose_number` (the
//!   series position a valid dose fills). Rows stored before are left null; the API evaluates
//!   them after migrating (`store::doses::backfill`), as it does on every write.
//! * The typed dose number is a label, no longer unique per person and antigen: a dose given too
//!   early is repeated under the same number.

use crate::reference;
use crate::rows::{add_columns, drop_columns, insert};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261210_000001_dose_validity"
    }
}

const UNIQUE_DOSE: &str = "uq_immunisation_person_antigen_dose";

type IndicatorRow = (
    &'static str,
    i32,
    &'static str,
    Option<(i32, i32)>,
    Option<&'static str>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// Coverage of single doses (WUENIC's and MICS's DTP1, DTP3 and MCV1, counted by valid doses
/// like FULL_IMMUNISATION) and the share of doses given too early.
const INDICATORS: [IndicatorRow; 4] = [
    (
        "PENTA1",
        20,
        "FULLY_IMMUNISED",
        Some((12, 23)),
        Some("PENTA:1"),
        "Pentavalent (DTP-containing) dose 1 12-23 months",
        "Тавт вакцины 1-р тунд хамрагдсан 12-23 сартай хүүхэд",
        "Children 12-23 months with a valid first dose of pentavalent",
        "Children 12-23 months",
    ),
    (
        "PENTA3",
        21,
        "FULLY_IMMUNISED",
        Some((12, 23)),
        Some("PENTA:3"),
        "Pentavalent (DTP-containing) dose 3 12-23 months",
        "Тавт вакцины 3-р тунд хамрагдсан 12-23 сартай хүүхэд",
        "Children 12-23 months with three valid doses of pentavalent",
        "Children 12-23 months",
    ),
    (
        "MCV1",
        22,
        "FULLY_IMMUNISED",
        Some((12, 23)),
        Some("MMR:1"),
        "Measles-containing vaccine dose 1 12-23 months",
        "Улаанбурхны эсрэг вакцины 1-р тунд хамрагдсан 12-23 сартай хүүхэд",
        "Children 12-23 months with a valid first dose of MMR",
        "Children 12-23 months",
    ),
    (
        "INVALID_DOSES",
        23,
        "DOSES_EVALUATED",
        None,
        None,
        "Doses given too early to count",
        "Хугацаанаасаа эрт хийгдэж тооцогдоогүй тун",
        "Doses given before their minimum age or interval (less the grace period)",
        "Doses of the children's schedule given in the period",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "antigen_dose",
            vec![
                integer("min_age_days").default(0).to_owned(),
                integer_null("max_valid_age_days"),
                integer("validity_grace_days").default(0).to_owned(),
            ],
        )
        .await?;
        add_columns(manager, "antigen", vec![boolean("live_injected").default(false).to_owned()]).await?;
        let rows = reference::dose_validity();
        for r in &rows {
            manager
                .exec_stmt(
                    Query::update()
                        .table("antigen_dose")
                        .value("min_age_days", r.min_age_days)
                        .value("max_valid_age_days", r.max_valid_age_days)
                        .value("validity_grace_days", r.validity_grace_days)
                        .value("updated_at", chrono::Utc::now())
                        .and_where(Expr::col("antigen_id").eq(reference::reference_id("antigen", r.antigen)))
                        .and_where(Expr::col("dose_number").eq(r.dose))
                        .to_owned(),
                )
                .await?;
        }
        let live: Vec<&str> = rows.iter().filter(|r| r.live_injected).map(|r| r.antigen).collect();
        manager
            .exec_stmt(
                Query::update()
                    .table("antigen")
                    .value("live_injected", true)
                    .and_where(Expr::col("code").is_in(live))
                    .to_owned(),
            )
            .await?;
        add_columns(manager, "immunisation", vec![string_null("evaluation"), integer_null("valid_dose_number")])
            .await?;
        manager.drop_index(Index::drop().name(UNIQUE_DOSE).table("immunisation").to_owned()).await?;
        let none = || -> SimpleExpr { Option::<i32>::None.into() };
        let rows = INDICATORS
            .iter()
            .map(|(code, order, rule, ages, services, en, mn, numerator, denominator)| {
                vec![
                    reference::reference_id("indicator", code).into(),
                    (*code).into(),
                    (*order).into(),
                    (*rule).into(),
                    ages.map(|a| a.0).into(),
                    ages.map(|a| a.1).into(),
                    (*services).into(),
                    none(),
                    none(),
                    Option::<String>::None.into(),
                    Option::<f64>::None.into(),
                    false.into(),
                    100.into(),
                    (*en).into(),
                    (*mn).into(),
                    (*numerator).into(),
                    (*denominator).into(),
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
        let codes: Vec<&str> = INDICATORS.iter().map(|r| r.0).collect();
        manager
            .exec_stmt(Query::delete().from_table("indicator").and_where(Expr::col("code").is_in(codes)).to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(UNIQUE_DOSE)
                    .table("immunisation")
                    .col("person_id")
                    .col("antigen_id")
                    .col("dose_number")
                    .unique()
                    .to_owned(),
            )
            .await?;
        drop_columns(manager, "immunisation", &["evaluation", "valid_dose_number"]).await?;
        drop_columns(manager, "antigen", &["live_injected"]).await?;
        drop_columns(manager, "antigen_dose", &["min_age_days", "max_valid_age_days", "validity_grace_days"]).await
    }
}
