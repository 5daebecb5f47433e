//! Attendance indicators as MICS counts them, by age at the start of the school year (Mongolia's
//! starts on 1 September; `indicator.ages_at_school_year_start`), for the levels a registry can
//! tell without grades:
//!
//! * ORGANISED_LEARNING (MICS LN.1, SDG 4.2.2): children one year younger than the official
//!   primary entry age (5 years) attending early childhood education or primary school;
//! * PRIMARY_NAR (MICS LN.2a, adjusted net attendance ratio): children of primary school age (6-10
//!   years; Mongolia: entry at 6, 5 grades) attending school — every school grade is primary or
//!   higher, so any school enrolment counts.
//!
//! Lower and upper secondary ratios need the grade attended, which enrolments do not hold as a
//! number yet.

use crate::reference::reference_id;
use crate::rows::{add_columns, drop_columns, insert};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_000004_school_year_ages"
    }
}

/// code, sort order, min and max age (months at the start of the school year), services, name
/// (English, Mongolian), numerator, denominator, source, definition.
type New = (
    &'static str,
    i32,
    i32,
    i32,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const NEW: [New; 2] = [
    (
        "ORGANISED_LEARNING",
        40,
        60,
        71,
        "KINDERGARTEN_ENROLMENT|GER_KINDERGARTEN_ENROLMENT|OUTREACH_ECD|PRESCHOOL_ATTENDANCE|SCHOOL_ENROLMENT|SCHOOL_ATTENDANCE",
        "Participation in organised learning one year before primary school",
        "Бага сургуулиас нэг жилийн өмнөх зохион байгуулалттай сургалтад хамрагдалт",
        "Children aged 5 at the start of the school year attending early childhood education or school",
        "Children aged 5 at the start of the school year",
        "MICS LN.1; SDG 4.2.2: participation rate in organised learning (adjusted)",
        "Children aged 5 years on 1 September of the school year holding the reference date (one year \
         younger than the official primary entry age of 6), with an open early childhood education or \
         school enrolment on the reference date or a record of either in the 365 days up to it.",
    ),
    (
        "PRIMARY_NAR",
        41,
        72,
        131,
        "SCHOOL_ENROLMENT|SCHOOL_ATTENDANCE",
        "Primary school net attendance ratio (adjusted)",
        "Бага боловсролын цэвэр хамрагдалтын харьцаа (залруулсан)",
        "Children of primary school age (6-10 at the start of the school year) attending school",
        "Children of primary school age (6-10 at the start of the school year)",
        "MICS LN.2a: primary school adjusted net attendance ratio",
        "Children aged 6-10 years on 1 September of the school year holding the reference date (Mongolia: \
         primary entry at 6, 5 grades), with an open school enrolment on the reference date or a school \
         attendance record in the 365 days up to it. Every school grade is primary or higher, so any \
         school enrolment counts, as the adjusted ratio counts attendance at the level or above.",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(manager, "indicator", vec![boolean("ages_at_school_year_start").default(false).to_owned()]).await?;
        let rows = NEW
            .iter()
            .map(|(code, order, min, max, services, en, mn, numerator, denominator, source, definition)| {
                vec![
                    reference_id("indicator", code).into(),
                    (*code).into(),
                    (*order).into(),
                    "PEOPLE_ENROLLED".into(),
                    (*min).into(),
                    (*max).into(),
                    (*services).into(),
                    365.into(),
                    false.into(),
                    100.into(),
                    (*en).into(),
                    (*mn).into(),
                    (*numerator).into(),
                    (*denominator).into(),
                    (*source).into(),
                    (*definition).into(),
                    true.into(),
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
                "z_above",
                "factor",
                "name_en",
                "name_mn",
                "numerator_en",
                "denominator_en",
                "source",
                "definition",
                "ages_at_school_year_start",
            ],
            rows,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let codes: Vec<&str> = NEW.iter().map(|r| r.0).collect();
        manager
            .exec_stmt(Query::delete().from_table("indicator").and_where(Expr::col("code").is_in(codes)).to_owned())
            .await?;
        drop_columns(manager, "indicator", &["ages_at_school_year_start"]).await
    }
}
