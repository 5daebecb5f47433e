//! The grade a pupil attends, for MICS's secondary attendance ratios:
//!
//! * `enrolment.grade_number`, the school grade (1-12) recorded at enrolment, and
//!   `enrolment.first_grade_year`, the school year the pupil attended grade 1 as that grade implies
//!   (`domain::school`: one grade up each 1 September), so "grade N or higher on a date" reads one
//!   column; both null when no grade number was recorded;
//! * `indicator.min_grade`: the numerator counts open enrolments at that grade or higher on the
//!   reference date (attendance at the level or above, as MICS's adjusted ratios count);
//! * LOWER_SECONDARY_NAR (MICS LN.2b, ages 11-14, grades 6-9) and UPPER_SECONDARY_NAR (MICS LN.2c,
//!   ages 15-17, grades 10-12), ages at the start of the school year.

use crate::reference::reference_id;
use crate::rows::{add_columns, drop_columns, insert};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261213_000001_school_grades"
    }
}

/// code, sort order, min and max age (months at the start of the school year), minimum grade,
/// name (English, Mongolian), numerator, denominator, source, definition.
type New = (
    &'static str,
    i32,
    i32,
    i32,
    i32,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

const NEW: [New; 2] = [
    (
        "LOWER_SECONDARY_NAR",
        42,
        132,
        179,
        6,
        "Lower secondary school net attendance ratio (adjusted)",
        "Суурь боловсролын цэвэр хамрагдалтын харьцаа (залруулсан)",
        "Children of lower secondary school age (11-14 at the start of the school year) attending grade 6 or higher",
        "Children of lower secondary school age (11-14 at the start of the school year)",
        "MICS LN.2b: lower secondary school adjusted net attendance ratio",
        "Children aged 11-14 years on 1 September of the school year holding the reference date (Mongolia: \
         lower secondary is grades 6-9), with a school enrolment open on the reference date whose grade on \
         that date is 6 or higher: the grade recorded at enrolment, one up on each 1 September since. \
         Enrolments without a grade number do not count.",
    ),
    (
        "UPPER_SECONDARY_NAR",
        43,
        180,
        215,
        10,
        "Upper secondary school net attendance ratio (adjusted)",
        "Бүрэн дунд боловсролын цэвэр хамрагдалтын харьцаа (залруулсан)",
        "Young people of upper secondary school age (15-17 at the start of the school year) attending grade 10 or higher",
        "Young people of upper secondary school age (15-17 at the start of the school year)",
        "MICS LN.2c: upper secondary school adjusted net attendance ratio",
        "Young people aged 15-17 years on 1 September of the school year holding the reference date \
         (Mongolia: upper secondary is grades 10-12), with a school enrolment open on the reference date \
         whose grade on that date is 10 or higher: the grade recorded at enrolment, one up on each \
         1 September since. Enrolments without a grade number do not count.",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "enrolment",
            vec![integer_null("grade_number").to_owned(), integer_null("first_grade_year").to_owned()],
        )
        .await?;
        add_columns(manager, "indicator", vec![integer_null("min_grade").to_owned()]).await?;
        let rows = NEW
            .iter()
            .map(|(code, order, min, max, grade, en, mn, numerator, denominator, source, definition)| {
                vec![
                    reference_id("indicator", code).into(),
                    (*code).into(),
                    (*order).into(),
                    "PEOPLE_ENROLLED".into(),
                    (*min).into(),
                    (*max).into(),
                    "SCHOOL_ENROLMENT".into(),
                    false.into(),
                    100.into(),
                    (*en).into(),
                    (*mn).into(),
                    (*numerator).into(),
                    (*denominator).into(),
                    (*source).into(),
                    (*definition).into(),
                    true.into(),
                    (*grade).into(),
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
                "z_above",
                "factor",
                "name_en",
                "name_mn",
                "numerator_en",
                "denominator_en",
                "source",
                "definition",
                "ages_at_school_year_start",
                "min_grade",
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
        drop_columns(manager, "indicator", &["min_grade"]).await?;
        drop_columns(manager, "enrolment", &["grade_number", "first_grade_year"]).await
    }
}
