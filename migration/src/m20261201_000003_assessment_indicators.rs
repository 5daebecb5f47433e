//! Coverage indicators the family assessments make natural: the share of assessed households
//! meeting an assessment indicator (each household by its latest visit in the period), for the
//! household-level conditions the programme tracks (safe water, sanitation and hand-washing,
//! iodised salt, birth registration, parents' HIV prevention knowledge).

use crate::reference::reference_id;
use crate::rows::insert;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000003_assessment_indicators"
    }
}

/// (code, sort order, assessment indicator, English name, Mongolian name, numerator).
const ROWS: [(&str, i32, &str, &str, &str, &str); 5] = [
    (
        "HOUSEHOLDS_SAFE_WATER",
        15,
        "SAFE_WATER",
        "Households with safe drinking water",
        "Аюулгүй ундны устай өрх",
        "Assessed households with safe drinking water at their latest visit",
    ),
    (
        "HOUSEHOLDS_SANITATION",
        16,
        "LATRINE_HANDWASHING",
        "Households with an improved latrine and hand-washing",
        "Сайжруулсан жорлон ба гар угаах байртай өрх",
        "Assessed households with an improved latrine and hand-washing at their latest visit",
    ),
    (
        "HOUSEHOLDS_IODISED_SALT",
        17,
        "IODISED_SALT",
        "Households using iodised salt",
        "Иодтой давс хэрэглэдэг өрх",
        "Assessed households using iodised salt at their latest visit",
    ),
    (
        "HOUSEHOLDS_BIRTHS_REGISTERED",
        18,
        "BIRTH_REGISTERED",
        "Households with every child's birth registered",
        "Бүх хүүхдийн төрсний бүртгэлтэй өрх",
        "Assessed households with children whose births are all registered at their latest visit",
    ),
    (
        "HOUSEHOLDS_HIV_KNOWLEDGE",
        19,
        "HIV_KNOWLEDGE",
        "Households where parents know how HIV is prevented",
        "Эцэг эх нь ХДХВ-ээс хэрхэн сэргийлэхийг мэддэг өрх",
        "Assessed households whose parents know how HIV is prevented at their latest visit",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let none = || -> SimpleExpr { Option::<i32>::None.into() };
        let rows = ROWS
            .iter()
            .map(|(code, order, indicator, en, mn, numerator)| {
                vec![
                    reference_id("indicator", code).into(),
                    (*code).into(),
                    (*order).into(),
                    "HOUSEHOLDS_ASSESSED".into(),
                    none(),
                    none(),
                    (*indicator).into(),
                    none(),
                    none(),
                    Option::<String>::None.into(),
                    Option::<f64>::None.into(),
                    false.into(),
                    100.into(),
                    (*en).into(),
                    (*mn).into(),
                    (*numerator).into(),
                    "Households assessed in the period for whom the indicator applies".into(),
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
        let codes: Vec<&str> = ROWS.iter().map(|r| r.0).collect();
        manager
            .exec_stmt(Query::delete().from_table("indicator").and_where(Expr::col("code").is_in(codes)).to_owned())
            .await
    }
}
