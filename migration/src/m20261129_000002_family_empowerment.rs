//! Family Empowerment Strategy: the family assessment instrument as versioned data (version 1
//! from `data/assessment_indicators_v1.csv`), family assessments with their answers and agreed
//! actions, and community-identified projects (CIPs) with indicators, budget lines, partners,
//! workflow transitions, monitoring reports and the households and people they reached.

use crate::helpers::{fk, index, mutable};
use crate::reference::{self, reference_id};
use crate::rows::insert;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000002_family_empowerment"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            mutable("assessment_instrument")
                .col(integer_uniq("number"))
                .col(string("name_en"))
                .col(string("name_mn"))
                .col(boolean("active"))
                .to_owned(),
            mutable("assessment_indicator")
                .col(uuid("instrument_id"))
                .col(string_len("code", 40))
                .col(integer("sort_order"))
                .col(string_len("applies_when", 32))
                .col(string_len("area", 40))
                .col(string_len("question_en", 300))
                .col(string_len("question_mn", 300))
                .foreign_key(&mut fk("assessment_indicator", "instrument_id", "assessment_instrument", "id"))
                .to_owned(),
            mutable("family_assessment")
                .col(big_integer("change_seq").default(0))
                .col(uuid("household_id"))
                // The household's unit on the day: roll-ups count the visit where it was made.
                .col(uuid("org_unit_id"))
                .col(uuid("instrument_id"))
                .col(date("assessed_on"))
                .col(uuid_null("assessor_id"))
                .col(integer("met"))
                .col(integer("applicable"))
                .col(text_null("note"))
                .foreign_key(&mut fk("family_assessment", "household_id", "household", "id"))
                .foreign_key(&mut fk("family_assessment", "org_unit_id", "org_unit", "id"))
                .foreign_key(&mut fk("family_assessment", "instrument_id", "assessment_instrument", "id"))
                .to_owned(),
            Table::create()
                .table("assessment_answer")
                .col(uuid("assessment_id"))
                .col(uuid("indicator_id"))
                .col(string_len("answer", 16))
                .primary_key(Index::create().col("assessment_id").col("indicator_id"))
                .foreign_key(&mut fk("assessment_answer", "assessment_id", "family_assessment", "id"))
                .foreign_key(&mut fk("assessment_answer", "indicator_id", "assessment_indicator", "id"))
                .to_owned(),
            mutable("assessment_action")
                .col(uuid("assessment_id"))
                .col(uuid("household_id"))
                .col(string_len("description", 500))
                .col(uuid_null("person_id"))
                .col(date_null("due_on"))
                .col(string_len("status", 16))
                .col(date_null("followed_up_on"))
                .col(string_len_null("follow_up_note", 500))
                .foreign_key(&mut fk("assessment_action", "assessment_id", "family_assessment", "id"))
                .foreign_key(&mut fk("assessment_action", "household_id", "household", "id"))
                .foreign_key(&mut fk("assessment_action", "person_id", "person", "id"))
                .to_owned(),
            mutable("community_project")
                .col(uuid("org_unit_id"))
                .col(string_len("area", 40))
                .col(string_len("title", 200))
                .col(text("objectives"))
                .col(string_len("status", 16))
                .col(date_null("starts_on"))
                .col(date_null("ends_on"))
                .col(uuid_null("proposed_by"))
                .foreign_key(&mut fk("community_project", "org_unit_id", "org_unit", "id"))
                .to_owned(),
            Table::create()
                .table("project_indicator")
                .col(uuid("project_id"))
                .col(string_len("indicator_code", 40))
                .primary_key(Index::create().col("project_id").col("indicator_code"))
                .foreign_key(&mut fk("project_indicator", "project_id", "community_project", "id"))
                .to_owned(),
            Table::create()
                .table("project_partner")
                .col(uuid("project_id"))
                .col(uuid("partner_id"))
                // FUNDER or IMPLEMENTER
                .col(string_len("role", 16))
                .primary_key(Index::create().col("project_id").col("partner_id").col("role"))
                .foreign_key(&mut fk("project_partner", "project_id", "community_project", "id"))
                .foreign_key(&mut fk("project_partner", "partner_id", "partner", "id"))
                .to_owned(),
            mutable("project_budget_line")
                .col(uuid("project_id"))
                .col(string_len("description", 300))
                // Tögrög: whole units, no minor unit in use.
                .col(big_integer("amount_mnt"))
                .col(string_len("funder", 24))
                .col(uuid_null("partner_id"))
                .foreign_key(&mut fk("project_budget_line", "project_id", "community_project", "id"))
                .foreign_key(&mut fk("project_budget_line", "partner_id", "partner", "id"))
                .to_owned(),
            Table::create()
                .table("project_transition")
                .col(pk_uuid("id"))
                .col(uuid("project_id"))
                .col(string_len_null("from_status", 16))
                .col(string_len("to_status", 16))
                .col(uuid_null("by_user"))
                .col(timestamp_with_time_zone("at"))
                .col(string_len_null("note", 500))
                .foreign_key(&mut fk("project_transition", "project_id", "community_project", "id"))
                .to_owned(),
            mutable("project_report")
                .col(uuid("project_id"))
                .col(date("reported_on"))
                .col(integer("progress_percent"))
                .col(text("narrative"))
                .col(integer("households_reached"))
                .col(integer("people_reached"))
                .col(uuid_null("reported_by"))
                .foreign_key(&mut fk("project_report", "project_id", "community_project", "id"))
                .to_owned(),
            Table::create()
                .table("project_reach")
                .col(uuid("project_id"))
                // HOUSEHOLD or PERSON
                .col(string_len("kind", 16))
                .col(uuid("subject_id"))
                .col(uuid("org_unit_id"))
                .primary_key(Index::create().col("project_id").col("kind").col("subject_id"))
                .foreign_key(&mut fk("project_reach", "project_id", "community_project", "id"))
                .to_owned(),
        ];
        for t in tables {
            manager.create_table(t).await?;
        }
        for (table, cols) in [
            ("assessment_indicator", &["instrument_id", "code"][..]),
            ("family_assessment", &["household_id", "assessed_on"][..]),
            ("family_assessment", &["org_unit_id", "assessed_on"][..]),
            ("family_assessment", &["change_seq", "id"][..]),
            ("assessment_action", &["household_id", "status"][..]),
            ("community_project", &["org_unit_id"][..]),
            ("project_partner", &["partner_id"][..]),
            ("project_budget_line", &["project_id"][..]),
            ("project_transition", &["project_id"][..]),
            ("project_report", &["project_id", "reported_on"][..]),
        ] {
            manager.create_index(index(table, cols)).await?;
        }
        let instrument = reference_id("assessment_instrument", "1");
        insert(
            manager,
            "assessment_instrument",
            &["number", "name_en", "name_mn", "active"],
            vec![vec![
                instrument.into(),
                1.into(),
                "Family assessment, version 1".into(),
                "Гэр бүлийн үнэлгээ, 1-р хувилбар".into(),
                true.into(),
            ]],
        )
        .await?;
        let rows = reference::assessment_indicators_v1()
            .into_iter()
            .map(|i| {
                vec![
                    reference_id("assessment_indicator", &format!("1/{}", i.code)).into(),
                    instrument.into(),
                    i.code.into(),
                    i.sort_order.into(),
                    i.applies_when.into(),
                    i.area.into(),
                    i.question_en.into(),
                    i.question_mn.into(),
                ]
            })
            .collect();
        insert(
            manager,
            "assessment_indicator",
            &["instrument_id", "code", "sort_order", "applies_when", "area", "question_en", "question_mn"],
            rows,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "project_reach",
            "project_report",
            "project_transition",
            "project_budget_line",
            "project_partner",
            "project_indicator",
            "community_project",
            "assessment_action",
            "assessment_answer",
            "family_assessment",
            "assessment_indicator",
            "assessment_instrument",
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
