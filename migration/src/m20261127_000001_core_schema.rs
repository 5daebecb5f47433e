//! The life-cycle data model: org units, households, people, pregnancies, the service catalogue
//! and service records with their typed details. Identical in meaning on SQLite and PostgreSQL.

use crate::helpers::{fk, index, mutable};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000001_core_schema"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let pg = manager.get_database_backend() == DatabaseBackend::Postgres;
        // Subtree queries compare paths bytewise; PostgreSQL's default collation would not.
        let mut path = string("path");
        if pg {
            path.extra("COLLATE \"C\"");
        }

        let tables = vec![
            mutable("org_unit")
                .col(string_uniq("code"))
                .col(string("name_en"))
                .col(string("name_mn"))
                .col(string_len("level", 16))
                .col(uuid_null("parent_id"))
                .col(path.unique_key())
                .col(integer("depth"))
                .col(date_null("valid_from"))
                .col(date_null("valid_to"))
                .col(boolean("is_demo").default(false))
                .foreign_key(&mut fk("org_unit", "parent_id", "org_unit", "id"))
                .to_owned(),
            mutable("org_unit_group").col(string_uniq("code")).col(string("name_en")).col(string("name_mn")).to_owned(),
            Table::create()
                .table("org_unit_group_member")
                .col(uuid("group_id"))
                .col(uuid("org_unit_id"))
                .primary_key(Index::create().col("group_id").col("org_unit_id"))
                .foreign_key(&mut fk("org_unit_group_member", "group_id", "org_unit_group", "id"))
                .foreign_key(&mut fk("org_unit_group_member", "org_unit_id", "org_unit", "id"))
                .to_owned(),
            mutable("life_stage")
                .col(string_uniq("code"))
                .col(string("name_en"))
                .col(string("name_mn"))
                .col(integer("sort_order"))
                .col(string_len("criterion", 16))
                .col(integer_null("min_age_value"))
                .col(string_len_null("min_age_unit", 8))
                .col(integer_null("max_age_value"))
                .col(string_len_null("max_age_unit", 8))
                .to_owned(),
            mutable("household")
                .col(uuid("org_unit_id"))
                .col(text_null("address"))
                .col(text_null("description"))
                .col(string_len("dwelling", 16))
                .col(boolean("is_herder"))
                .col(string_len("migrant_status", 24))
                .col(date("registered_on"))
                .foreign_key(&mut fk("household", "org_unit_id", "org_unit", "id"))
                .to_owned(),
            mutable("person")
                .col(uuid_null("household_id"))
                .col(uuid("org_unit_id"))
                .col(string("given_name"))
                .col(string("family_name"))
                .col(string("search_name"))
                .col(string_len("sex", 8))
                .col(date("birth_date"))
                .col(boolean("birth_date_estimated").default(false))
                .col(string_len_null("relation_to_head", 24))
                .col(string_len_null("registry_number", 16).unique_key())
                .col(string_len_null("phone", 24))
                .col(string_len_null("disability", 24))
                .col(date_null("date_of_death"))
                .foreign_key(&mut fk("person", "household_id", "household", "id"))
                .foreign_key(&mut fk("person", "org_unit_id", "org_unit", "id"))
                .to_owned(),
            mutable("pregnancy")
                .col(uuid("mother_id"))
                .col(uuid("org_unit_id"))
                .col(date_null("last_menstrual_period"))
                .col(date("expected_delivery_date"))
                .col(date("registered_on"))
                .col(string_len_null("outcome", 24))
                .col(date_null("outcome_date"))
                .col(string_len_null("delivery_place", 16))
                .col(string_len_null("attendant", 16))
                .foreign_key(&mut fk("pregnancy", "mother_id", "person", "id"))
                .foreign_key(&mut fk("pregnancy", "org_unit_id", "org_unit", "id"))
                .to_owned(),
            Table::create()
                .table("pregnancy_child")
                .col(uuid("pregnancy_id"))
                .col(uuid_uniq("child_id"))
                .primary_key(Index::create().col("pregnancy_id").col("child_id"))
                .foreign_key(&mut fk("pregnancy_child", "pregnancy_id", "pregnancy", "id"))
                .foreign_key(&mut fk("pregnancy_child", "child_id", "person", "id"))
                .to_owned(),
            mutable("service_type")
                .col(string_uniq("code"))
                .col(string_len("sector", 24))
                .col(string_len_null("life_stage_code", 24))
                .col(string("name_en"))
                .col(string("name_mn"))
                .col(integer_null("min_age_months"))
                .col(integer_null("max_age_months"))
                .col(string_len("target_group", 24))
                .col(string_len("unit", 24))
                .col(string_len("detail_kind", 16))
                .col(boolean("active").default(true))
                .foreign_key(&mut fk("service_type", "life_stage_code", "life_stage", "code"))
                .to_owned(),
            mutable("antigen")
                .col(string_uniq("code"))
                .col(string("name_en"))
                .col(string("name_mn"))
                .col(integer("doses"))
                .to_owned(),
            mutable("antigen_dose")
                .col(uuid("antigen_id"))
                .col(integer("dose_number"))
                .col(integer("recommended_age_days"))
                .col(integer_null("min_interval_days"))
                .foreign_key(&mut fk("antigen_dose", "antigen_id", "antigen", "id"))
                .to_owned(),
            mutable("service_record")
                .col(uuid("service_type_id"))
                .col(uuid_null("person_id"))
                .col(uuid_null("household_id"))
                .col(uuid_null("pregnancy_id"))
                .col(date("service_date"))
                .col(uuid("org_unit_id"))
                .col(string_null("provider"))
                .col(uuid_null("recorded_by"))
                .col(text_null("note"))
                .check(Expr::col("person_id").is_not_null().or(Expr::col("household_id").is_not_null()))
                .foreign_key(&mut fk("service_record", "service_type_id", "service_type", "id"))
                .foreign_key(&mut fk("service_record", "person_id", "person", "id"))
                .foreign_key(&mut fk("service_record", "household_id", "household", "id"))
                .foreign_key(&mut fk("service_record", "pregnancy_id", "pregnancy", "id"))
                .foreign_key(&mut fk("service_record", "org_unit_id", "org_unit", "id"))
                .to_owned(),
            Table::create()
                .table("growth_measurement")
                .col(uuid("service_record_id").primary_key())
                .col(uuid("person_id"))
                .col(double_null("weight_kg"))
                .col(double_null("length_height_cm"))
                .col(string_len_null("position", 8))
                .col(double_null("muac_mm"))
                .col(boolean("oedema").default(false))
                .foreign_key(&mut fk("growth_measurement", "service_record_id", "service_record", "id"))
                .foreign_key(&mut fk("growth_measurement", "person_id", "person", "id"))
                .to_owned(),
            Table::create()
                .table("immunisation")
                .col(uuid("service_record_id").primary_key())
                .col(uuid("person_id"))
                .col(uuid("antigen_id"))
                .col(integer("dose_number"))
                .foreign_key(&mut fk("immunisation", "service_record_id", "service_record", "id"))
                .foreign_key(&mut fk("immunisation", "person_id", "person", "id"))
                .foreign_key(&mut fk("immunisation", "antigen_id", "antigen", "id"))
                .to_owned(),
            Table::create()
                .table("enrolment")
                .col(uuid("service_record_id").primary_key())
                .col(uuid("person_id"))
                .col(string("institution"))
                .col(string_null("grade"))
                .col(date_null("ended_on"))
                .col(string_len_null("end_reason", 24))
                .foreign_key(&mut fk("enrolment", "service_record_id", "service_record", "id"))
                .foreign_key(&mut fk("enrolment", "person_id", "person", "id"))
                .to_owned(),
            Table::create()
                .table("attendance")
                .col(uuid("service_record_id").primary_key())
                .col(uuid("enrolment_id"))
                .col(date("period_start"))
                .col(date("period_end"))
                .col(integer("days_present"))
                .col(integer("days_expected"))
                .foreign_key(&mut fk("attendance", "service_record_id", "service_record", "id"))
                .foreign_key(&mut fk("attendance", "enrolment_id", "enrolment", "service_record_id"))
                .to_owned(),
        ];
        for t in tables {
            manager.create_table(t).await?;
        }

        let indexes = [
            index("org_unit", &["parent_id"]),
            index("org_unit_group_member", &["org_unit_id"]),
            index("household", &["org_unit_id"]),
            index("person", &["org_unit_id", "birth_date"]),
            index("person", &["household_id"]),
            index("person", &["birth_date"]),
            index("pregnancy", &["mother_id"]),
            index("pregnancy", &["org_unit_id"]),
            index("antigen_dose", &["antigen_id", "dose_number"]),
            index("service_record", &["person_id", "service_date"]),
            index("service_record", &["household_id"]),
            index("service_record", &["pregnancy_id"]),
            index("service_record", &["service_type_id", "service_date"]),
            index("service_record", &["org_unit_id"]),
            index("growth_measurement", &["person_id"]),
            index("immunisation", &["person_id"]),
            index("enrolment", &["person_id"]),
            index("attendance", &["enrolment_id"]),
        ];
        for i in indexes {
            manager.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "attendance",
            "enrolment",
            "immunisation",
            "growth_measurement",
            "service_record",
            "antigen_dose",
            "antigen",
            "service_type",
            "pregnancy_child",
            "pregnancy",
            "person",
            "household",
            "life_stage",
            "org_unit_group_member",
            "org_unit_group",
            "org_unit",
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
