//! Open pregnancies are followed up: the schedule rule PREGNANCY_OUTCOME (anchored at the last
//! menstrual period, in weeks) puts a pregnancy without an outcome on the field worker's due list
//! from 42 weeks — WHO's post-term — overdue a week later, and ends it at the close of its window,
//! after 47 completed weeks (the 44 weeks past which no pregnancy is registered, plus a month to
//! record what happened): from then it is out of the PREGNANCY stage and every list, its outcome
//! unknown until recorded (`domain::pregnancy`).
//!
//! The rule needs a service type; PREGNANCY_OUTCOME is one whose detail kind OUTCOME says it is
//! recorded on the pregnancy (`recordPregnancyOutcome`), never as a service record.

use crate::reference::reference_id;
use crate::rows::insert;
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261212_000002_pregnancy_outcome"
    }
}

const CODE: &str = "PREGNANCY_OUTCOME";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        insert(
            manager,
            "service_type",
            &[
                "code",
                "sector",
                "life_stage_code",
                "name_en",
                "name_mn",
                "min_age_months",
                "max_age_months",
                "target_group",
                "unit",
                "detail_kind",
            ],
            vec![vec![
                reference_id("service_type", CODE).into(),
                CODE.into(),
                "HEALTH".into(),
                "PREGNANCY".into(),
                "Pregnancy outcome".into(),
                "Жирэмсний төгсгөл".into(),
                Option::<i32>::None.into(),
                Option::<i32>::None.into(),
                "PREGNANT_WOMAN".into(),
                "pregnancy".into(),
                "OUTCOME".into(),
            ]],
        )
        .await?;
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
            vec![vec![
                reference_id("schedule_rule", CODE).into(),
                CODE.into(),
                CODE.into(),
                CODE.into(),
                "CONTACT".into(),
                "LMP".into(),
                "WEEK".into(),
                42.into(),
                Some(42).into(),
                47.into(),
                Option::<i32>::None.into(),
                7.into(),
                "PREGNANCY".into(),
                309.into(),
                "Pregnancy outcome to record (42 weeks passed)".into(),
                "Жирэмсний төгсгөлийг бүртгэх (42 долоо хоног өнгөрсөн)".into(),
            ]],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["schedule_rule", "service_type"] {
            manager
                .exec_stmt(Query::delete().from_table(table).and_where(Expr::col("code").eq(CODE)).to_owned())
                .await?;
        }
        Ok(())
    }
}
