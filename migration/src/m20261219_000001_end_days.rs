//! The days things ended, so that what was open on a past day can be counted:
//! `referral.ended_on`, the day a referral stopped asking anyone to act (declined, completed or
//! closed; for a completion, the day of the service that met the need), and
//! `protection_case_step.on_day`, the day of a case's step (a case closed and reopened was not
//! open in between). Existing rows take the day of their (last) step: Mongolia's date, UTC+8.
//! Indicator `REFERRALS_OVERDUE`: of the referrals open on the reference day, those past their
//! due day.

use crate::reference::reference_id;
use crate::rows::{add_columns, drop_columns, insert};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, FromQueryResult};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261219_000001_end_days"
    }
}

#[derive(FromQueryResult)]
struct Ended {
    id: uuid::Uuid,
    completed_on: Option<chrono::NaiveDate>,
    at: Option<chrono::DateTime<chrono::Utc>>,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_columns(manager, "referral", vec![date_null("ended_on")]).await?;
        let db = manager.get_connection();
        let last_step = Query::select()
            .expr(Expr::col(("s", "at")).max())
            .from_as("referral_step", "s")
            .and_where(Expr::col(("s", "referral_id")).equals(("r", "id")))
            .to_owned();
        let ended = Query::select()
            .column(("r", "id"))
            .column(("r", "completed_on"))
            .expr_as(SimpleExpr::SubQuery(None, Box::new(last_step.into_sub_query_statement())), "at")
            .from_as("referral", "r")
            .and_where(Expr::col(("r", "status")).is_in(["DECLINED", "COMPLETED", "CLOSED"]))
            .to_owned();
        let rows = Ended::find_by_statement(db.get_database_backend().build(&ended)).all(db).await?;
        for r in rows {
            let day = r.completed_on.or(r.at.map(|t| (t + chrono::Duration::hours(8)).date_naive()));
            let update =
                Query::update().table("referral").value("ended_on", day).and_where(Expr::col("id").eq(r.id)).to_owned();
            manager.exec_stmt(update).await?;
        }
        add_columns(manager, "protection_case_step", vec![date_null("on_day")]).await?;
        #[derive(FromQueryResult)]
        struct Step {
            id: uuid::Uuid,
            at: chrono::DateTime<chrono::Utc>,
        }
        let steps = Query::select().columns(["id", "at"]).from("protection_case_step").to_owned();
        for s in Step::find_by_statement(db.get_database_backend().build(&steps)).all(db).await? {
            let day = (s.at + chrono::Duration::hours(8)).date_naive();
            let update = Query::update()
                .table("protection_case_step")
                .value("on_day", day)
                .and_where(Expr::col("id").eq(s.id))
                .to_owned();
            manager.exec_stmt(update).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("protection_case_step_closings")
                    .table("protection_case_step")
                    .col("case_id")
                    .col("step")
                    .col("on_day")
                    .to_owned(),
            )
            .await?;
        insert(
            manager,
            "indicator",
            &[
                "code",
                "sort_order",
                "rule",
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
                reference_id("indicator", "REFERRALS_OVERDUE").into(),
                "REFERRALS_OVERDUE".into(),
                43.into(),
                "REFERRALS_OVERDUE".into(),
                false.into(),
                100.into(),
                "Open referrals overdue".into(),
                "Хугацаа хэтэрсэн нээлттэй шилжүүлэг".into(),
                "Referrals open on the reference date and past their due day".into(),
                "Referrals open (sent, not yet declined, completed or closed) on the reference date".into(),
                "Programme indicator".into(),
                "Referrals from the unit (the referring side) sent on or before the reference date and not \
                 declined, completed or closed by then, past their due day on it, over all of them open on it. \
                 A completed referral ends on the day of the service that met the need."
                    .into(),
            ]],
        )
        .await?;
        let median = " `medianDays`: the median of the days from sending to completion of the numerator's referrals.";
        for code in ["REFERRALS_COMPLETED", "REFERRALS_ON_TIME"] {
            let select =
                Query::select().column("definition").from("indicator").and_where(Expr::col("code").eq(code)).to_owned();
            let Some(row) = db.query_one_raw(db.get_database_backend().build(&select)).await? else { continue };
            let definition: String = row.try_get("", "definition")?;
            let update = Query::update()
                .table("indicator")
                .value("definition", format!("{definition}{median}"))
                .and_where(Expr::col("code").eq(code))
                .to_owned();
            manager.exec_stmt(update).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The definitions keep their sentence on `medianDays`: the field stays.
        manager
            .exec_stmt(
                Query::delete().from_table("indicator").and_where(Expr::col("code").eq("REFERRALS_OVERDUE")).to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name("protection_case_step_closings").table("protection_case_step").to_owned())
            .await?;
        drop_columns(manager, "protection_case_step", &["on_day"]).await?;
        drop_columns(manager, "referral", &["ended_on"]).await
    }
}
