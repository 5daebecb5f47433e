//! Indicators of convergence: children with an open child-protection case per 1,000 children
//! (`PEOPLE_WITH_OPEN_CASE`), and the share of referrals completed, and completed by their due
//! day (`REFERRALS_COMPLETED`, `REFERRALS_ON_TIME`; `services` narrows them to needs). A case
//! count can single out a child, so `indicator.always_protected` publishes its counts with the
//! cell-key method to every caller but administrators, not to de-identified callers only.
//!
//! `protection_case_step.change_key`: a digest of the change a step made, so that a device's
//! retry of that very step is told from another step made on the same version.

use crate::reference::reference_id;
use crate::rows::{add_columns, drop_columns, insert};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261218_000001_case_indicators"
    }
}

/// code, sort order, rule, ages (months), services, factor, English and Mongolian names,
/// numerator, denominator, source, definition, always protected.
type NewIndicator = (
    &'static str,
    i32,
    &'static str,
    Option<(i32, i32)>,
    Option<&'static str>,
    i32,
    [&'static str; 4],
    &'static str,
    &'static str,
    bool,
);

const NEW: [NewIndicator; 3] = [
    (
        "OPEN_PROTECTION_CASES",
        40,
        "PEOPLE_WITH_OPEN_CASE",
        Some((0, 215)),
        None,
        1000,
        [
            "Children with an open child-protection case per 1,000 children",
            "1000 хүүхдэд ногдох хамгааллын нээлттэй тохиолдолтой хүүхэд",
            "Children 0-17 years old with a protection case open on the reference date",
            "Children 0-17 years old alive on the reference date",
        ],
        "Programme indicator",
        "Children 0-17 years old (0-215 completed months) on the reference date with a child-protection case \
         opened on or before it and not closed by then, per 1,000 children of those ages. Counts are protected by \
         the cell-key method for every caller but administrators: a small count could single a child out.",
        true,
    ),
    (
        "REFERRALS_COMPLETED",
        41,
        "REFERRALS_COMPLETED",
        None,
        None,
        100,
        [
            "Referrals completed",
            "Биелсэн шилжүүлэг",
            "Referrals sent in the period whose need was met (COMPLETED) by the reference date",
            "Referrals sent in the period",
        ],
        "Programme indicator (referral completion rate, as CommCare and Primero report it)",
        "Referrals sent in the period from the unit (the referring side), completed by the reference date, over \
         all sent in the period, whatever became of them; by need when the indicator names needs.",
        false,
    ),
    (
        "REFERRALS_ON_TIME",
        42,
        "REFERRALS_ON_TIME",
        None,
        None,
        100,
        [
            "Referrals completed by their due day",
            "Хугацаандаа биелсэн шилжүүлэг",
            "Referrals sent in the period and due by the reference date, completed on or before their due day",
            "Referrals sent in the period and due by the reference date",
        ],
        "Programme indicator",
        "Referrals sent in the period from the unit whose due day is on or before the reference date, completed \
         on or before it, over all of them: the overdue and the late make the difference.",
        false,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(manager, "indicator", vec![boolean("always_protected").default(false).to_owned()]).await?;
        add_columns(manager, "protection_case_step", vec![string_len_null("change_key", 64)]).await?;
        let rows = NEW
            .iter()
            .map(|(code, order, rule, ages, services, factor, [en, mn, num, den], source, definition, protected)| {
                vec![
                    reference_id("indicator", code).into(),
                    (*code).into(),
                    (*order).into(),
                    (*rule).into(),
                    ages.map(|a| a.0).into(),
                    ages.map(|a| a.1).into(),
                    (*services).into(),
                    false.into(),
                    (*factor).into(),
                    (*en).into(),
                    (*mn).into(),
                    (*num).into(),
                    (*den).into(),
                    (*source).into(),
                    (*definition).into(),
                    (*protected).into(),
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
                "always_protected",
            ],
            rows,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let codes: Vec<&str> = NEW.iter().map(|n| n.0).collect();
        manager
            .exec_stmt(Query::delete().from_table("indicator").and_where(Expr::col("code").is_in(codes)).to_owned())
            .await?;
        drop_columns(manager, "protection_case_step", &["change_key"]).await?;
        drop_columns(manager, "indicator", &["always_protected"]).await
    }
}
