//! Development milestones: the `milestone` reference table (`data/milestones.csv`, items per
//! domain with the ages they are expected in) and `milestone_check`, the items checked at a
//! DEVELOPMENT_CHECK service record, which from now on carries this typed detail (MILESTONES).

use crate::reference::{self, reference_id};
use crate::rows::insert;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000003_milestones"
    }
}

fn fk(table: &'static str, col: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{col}"))
        .from(table, col)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("milestone")
                    .col(pk_uuid("id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(integer("version").default(1))
                    .col(string_uniq("code"))
                    // MOTOR, LANGUAGE, SOCIO_EMOTIONAL, COGNITIVE
                    .col(string_len("domain", 24))
                    .col(integer("expected_from_months"))
                    .col(integer("expected_by_months"))
                    .col(integer("sort_order"))
                    .col(string("name_en"))
                    .col(string("name_mn"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("milestone_check")
                    .col(uuid("service_record_id"))
                    .col(uuid("milestone_id"))
                    .col(uuid("person_id"))
                    .col(boolean("achieved"))
                    .primary_key(Index::create().col("service_record_id").col("milestone_id"))
                    .foreign_key(&mut fk("milestone_check", "service_record_id", "service_record"))
                    .foreign_key(&mut fk("milestone_check", "milestone_id", "milestone"))
                    .foreign_key(&mut fk("milestone_check", "person_id", "person"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_milestone_check_person_id")
                    .table("milestone_check")
                    .col("person_id")
                    .to_owned(),
            )
            .await?;
        let rows = reference::milestones()
            .into_iter()
            .map(|m| {
                vec![
                    reference_id("milestone", m.code).into(),
                    m.code.into(),
                    m.domain.into(),
                    m.expected_from_months.into(),
                    m.expected_by_months.into(),
                    m.sort_order.into(),
                    m.name_en.into(),
                    m.name_mn.into(),
                ]
            })
            .collect();
        insert(
            manager,
            "milestone",
            &["code", "domain", "expected_from_months", "expected_by_months", "sort_order", "name_en", "name_mn"],
            rows,
        )
        .await?;
        manager
            .exec_stmt(
                Query::update()
                    .table("service_type")
                    .value("detail_kind", "MILESTONES")
                    .and_where(Expr::col("code").eq("DEVELOPMENT_CHECK"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(
                Query::update()
                    .table("service_type")
                    .value("detail_kind", "NONE")
                    .and_where(Expr::col("code").eq("DEVELOPMENT_CHECK"))
                    .to_owned(),
            )
            .await?;
        for t in ["milestone_check", "milestone"] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
