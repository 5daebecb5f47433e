//! Schedules as data. Corrects the provisional immunisation doses of the reference data with
//! Mongolia's national schedule (`data/immunisation_schedule_mn.csv`: ages, minimum intervals,
//! catch-up limits, the grace before a dose is overdue, antigens out of the schedule), and adds
//! `schedule_rule` (`data/schedule_rules.csv`): vitamin A, growth monitoring, antenatal and
//! postnatal contacts.

use crate::reference::{self, reference_id};
use crate::rows::{add_columns, drop_columns, insert};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000002_health_schedules"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(
            manager,
            "antigen",
            // false: recordable, but not part of the national schedule (no due dates).
            vec![boolean("in_schedule").default(true).to_owned()],
        )
        .await?;
        add_columns(
            manager,
            "antigen_dose",
            vec![
                // Latest age (days) at which the dose is still given; null: no limit.
                integer_null("max_age_days"),
                // Days after the due date from which the dose is overdue.
                integer("grace_days").default(28).to_owned(),
            ],
        )
        .await?;

        // The corrected schedule replaces every dose row of the antigens it names (dose rows are
        // referenced by nothing; their ids stay the same v5 ids).
        let doses = reference::immunisation_schedule();
        let mut antigens: Vec<&str> = doses.iter().map(|d| d.antigen).collect();
        antigens.dedup();
        for code in &antigens {
            let of_antigen: Vec<_> = doses.iter().filter(|d| d.antigen == *code).collect();
            let in_schedule = of_antigen.iter().all(|d| d.in_schedule);
            manager
                .exec_stmt(
                    Query::update()
                        .table("antigen")
                        .value("doses", of_antigen.len() as i32)
                        .value("in_schedule", in_schedule)
                        .value("updated_at", chrono::Utc::now())
                        .and_where(Expr::col("code").eq(*code))
                        .to_owned(),
                )
                .await?;
            manager
                .exec_stmt(
                    Query::delete()
                        .from_table("antigen_dose")
                        .and_where(Expr::col("antigen_id").eq(reference_id("antigen", code)))
                        .to_owned(),
                )
                .await?;
        }
        let rows = doses
            .iter()
            .map(|d| {
                vec![
                    reference_id("antigen_dose", &format!("{}:{}", d.antigen, d.dose)).into(),
                    reference_id("antigen", d.antigen).into(),
                    d.dose.into(),
                    d.recommended_age_days.into(),
                    d.min_interval_days.into(),
                    d.max_age_days.into(),
                    d.grace_days.into(),
                ]
            })
            .collect();
        insert(
            manager,
            "antigen_dose",
            &["antigen_id", "dose_number", "recommended_age_days", "min_interval_days", "max_age_days", "grace_days"],
            rows,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("schedule_rule")
                    .col(pk_uuid("id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(integer("version").default(1))
                    .col(string_uniq("code"))
                    .col(string("service_type_code"))
                    // IMMUNISATION, VITAMIN_A, GROWTH_MONITORING, ANTENATAL_CARE, POSTNATAL_CARE
                    .col(string_len("kind", 24))
                    // RECURRING or CONTACT
                    .col(string_len("pattern", 16))
                    // BIRTH, LMP or DELIVERY
                    .col(string_len("anchor", 16))
                    // DAY, WEEK or MONTH
                    .col(string_len("unit", 8))
                    .col(integer("start_age"))
                    .col(integer_null("due_age"))
                    .col(integer("end_age"))
                    .col(integer_null("interval"))
                    .col(integer("grace_days"))
                    .col(string_len_null("life_stage_code", 24))
                    .col(integer("sort_order"))
                    .col(string("name_en"))
                    .col(string("name_mn"))
                    .col(boolean("active").default(true))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_schedule_rule_service_type_code")
                            .from("schedule_rule", "service_type_code")
                            .to("service_type", "code")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_schedule_rule_life_stage_code")
                            .from("schedule_rule", "life_stage_code")
                            .to("life_stage", "code")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        let rows = reference::schedule_rules()
            .into_iter()
            .map(|r| {
                vec![
                    reference_id("schedule_rule", r.code).into(),
                    r.code.into(),
                    r.service_type.into(),
                    r.kind.into(),
                    r.pattern.into(),
                    r.anchor.into(),
                    r.unit.into(),
                    r.start.into(),
                    r.due.into(),
                    r.end.into(),
                    r.interval.into(),
                    r.grace_days.into(),
                    r.life_stage.into(),
                    r.sort_order.into(),
                    r.name_en.into(),
                    r.name_mn.into(),
                ]
            })
            .collect();
        insert(
            manager,
            "schedule_rule",
            &[
                "code",
                "service_type_code",
                "kind",
                "pattern",
                "anchor",
                "unit",
                "start_age",
                "due_age",
                "end_age",
                "interval",
                "grace_days",
                "life_stage_code",
                "sort_order",
                "name_en",
                "name_mn",
            ],
            rows,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("schedule_rule").to_owned()).await?;
        // The provisional doses are not restored: the columns go, the corrected rows stay.
        drop_columns(manager, "antigen_dose", &["max_age_days", "grace_days"]).await?;
        drop_columns(manager, "antigen", &["in_schedule"]).await
    }
}
