//! Comprehensive knowledge of HIV prevention, as MICS asks it (HA.1), one person at a time:
//!
//! * service type HIV_KNOWLEDGE_ASSESSMENT (people of 10-49 years: MICS asks women and men
//!   15-49, the programme's adolescents from 10) with
//!   detail kind HIV_KNOWLEDGE, recorded with `recordHivKnowledge`;
//! * `hiv_knowledge`, its detail: the five prompted answers (YES, NO or DONT_KNOW) and
//!   `comprehensive`, all five right (`domain::hiv_knowledge`, computed on write), with the
//!   record's date copied (`assessed_on`) so the indicator reads this table alone;
//! * indicator COMPREHENSIVE_HIV_KNOWLEDGE (rule `LATEST_HIV_KNOWLEDGE`): young people 15-24 by
//!   their most recent assessment in the period; ADOLESCENT_HIV_PREVENTION's source now points to it.

use crate::helpers::{fk, index};
use crate::reference::reference_id;
use crate::rows::insert;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261213_000002_hiv_knowledge"
    }
}

const SERVICE: &str = "HIV_KNOWLEDGE_ASSESSMENT";
const INDICATOR: &str = "COMPREHENSIVE_HIV_KNOWLEDGE";
const ANSWERS: [&str; 5] =
    ["one_faithful_partner", "condom_every_time", "healthy_looking_person", "mosquito_bites", "sharing_food"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table("hiv_knowledge")
            .col(uuid("service_record_id").primary_key())
            .col(uuid("person_id"))
            .col(date("assessed_on"));
        for answer in ANSWERS {
            table.col(string_len(answer, 12));
        }
        table
            .col(boolean("comprehensive"))
            .foreign_key(&mut fk("hiv_knowledge", "service_record_id", "service_record", "id"))
            .foreign_key(&mut fk("hiv_knowledge", "person_id", "person", "id"));
        manager.create_table(table.to_owned()).await?;
        // A person's assessments by date (the latest one), and the period's by date.
        manager.create_index(index("hiv_knowledge", &["person_id", "assessed_on"])).await?;
        manager.create_index(index("hiv_knowledge", &["assessed_on", "person_id"])).await?;
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
                reference_id("service_type", SERVICE).into(),
                SERVICE.into(),
                "HEALTH".into(),
                "ADOLESCENCE".into(),
                "HIV knowledge assessment".into(),
                "ХДХВ-ийн талаарх мэдлэгийн үнэлгээ".into(),
                Some(120).into(),
                Some(599).into(),
                "ANY_PERSON".into(),
                "assessment".into(),
                "HIV_KNOWLEDGE".into(),
            ]],
        )
        .await?;
        insert(
            manager,
            "indicator",
            &[
                "code",
                "sort_order",
                "rule",
                "min_age_months",
                "max_age_months",
                "z_above",
                "factor",
                "name_en",
                "name_mn",
                "numerator_en",
                "denominator_en",
                "source",
                "definition",
            ],
            vec![vec![
                reference_id("indicator", INDICATOR).into(),
                INDICATOR.into(),
                44.into(),
                "LATEST_HIV_KNOWLEDGE".into(),
                180.into(),
                299.into(),
                false.into(),
                100.into(),
                "Comprehensive knowledge about HIV prevention among young people".into(),
                "Залуучуудын ХДХВ-ээс урьдчилан сэргийлэх талаарх иж бүрэн мэдлэг".into(),
                "Young people 15-24 whose most recent assessment in the period answered all five questions right"
                    .into(),
                "Young people 15-24 assessed in the period".into(),
                "MICS HA.1: comprehensive knowledge about HIV prevention among young people".into(),
                "Young people aged 15-24 years on the reference date with an HIV knowledge assessment in the \
                 period, by their most recent one: those who said that having one faithful uninfected partner \
                 and using a condom every time reduce the chance of getting HIV, that a healthy-looking person \
                 can have HIV, and that HIV is not transmitted by mosquito bites nor by sharing food (the two \
                 misconceptions MICS asks about everywhere; \"don't know\" is not a right answer). The \
                 denominator is those assessed, as MICS's is those interviewed."
                    .into(),
            ]],
        )
        .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table("indicator")
                    .value(
                        "source",
                        "Programme indicator (MICS's knowledge indicator, HA.1, is COMPREHENSIVE_HIV_KNOWLEDGE)",
                    )
                    .and_where(Expr::col("code").eq("ADOLESCENT_HIV_PREVENTION"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::update()
                    .table("indicator")
                    .value(
                        "source",
                        "Programme indicator (MICS asks for comprehensive knowledge of HIV prevention, from a \
                         knowledge assessment the model does not hold yet)",
                    )
                    .and_where(Expr::col("code").eq("ADOLESCENT_HIV_PREVENTION"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(Query::delete().from_table("indicator").and_where(Expr::col("code").eq(INDICATOR)).to_owned())
            .await?;
        manager.drop_table(Table::drop().table("hiv_knowledge").to_owned()).await?;
        manager
            .exec_stmt(Query::delete().from_table("service_type").and_where(Expr::col("code").eq(SERVICE)).to_owned())
            .await
    }
}
