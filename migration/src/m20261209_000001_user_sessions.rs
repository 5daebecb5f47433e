//! Sessions: one row per login, so that ending a login also ends its access tokens. The row's id
//! is the `family_id` its refresh tokens share and the `sid` claim of its access tokens; the API
//! refuses an access token whose session has `ended_at` set.
//!
//! Logins made before this migration get a row each from their refresh-token family: started at
//! its first token, renewed at its last, ended when every token of the family was revoked.

use crate::helpers::{drop_index, fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_000001_user_sessions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("user_session")
                    .col(pk_uuid("id"))
                    .col(uuid("user_id"))
                    .col(timestamp_with_time_zone("started_at"))
                    .col(timestamp_with_time_zone("renewed_at"))
                    .col(timestamp_with_time_zone_null("ended_at"))
                    .foreign_key(&mut fk("user_session", "user_id", "app_user", "id"))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("user_session", &["user_id"])).await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO user_session (id, user_id, started_at, renewed_at, ended_at) \
                 SELECT family_id, user_id, MIN(issued_at), MAX(issued_at), \
                 CASE WHEN COUNT(revoked_at) = COUNT(*) THEN MAX(revoked_at) END \
                 FROM refresh_token GROUP BY family_id, user_id",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(drop_index("user_session", &["user_id"])).await?;
        manager.drop_table(Table::drop().table("user_session").to_owned()).await?;
        Ok(())
    }
}
