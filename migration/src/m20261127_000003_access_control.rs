//! Access control: partners and their units, users with roles and org-unit scopes, refresh-token
//! families, the append-only audit log, and household consent.

use crate::helpers::{fk, index, mutable};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000003_access_control"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = vec![
            mutable("partner").col(string_uniq("name")).col(string_len("kind", 16)).to_owned(),
            Table::create()
                .table("partner_assignment")
                .col(uuid("partner_id"))
                .col(uuid("org_unit_id"))
                .primary_key(Index::create().col("partner_id").col("org_unit_id"))
                .foreign_key(&mut fk("partner_assignment", "partner_id", "partner", "id"))
                .foreign_key(&mut fk("partner_assignment", "org_unit_id", "org_unit", "id"))
                .to_owned(),
            mutable("app_user")
                .col(string_uniq("email"))
                .col(string("display_name"))
                .col(string("password_hash"))
                .col(boolean("active").default(true))
                .col(integer("token_version").default(1))
                .col(uuid_null("partner_id"))
                .foreign_key(&mut fk("app_user", "partner_id", "partner", "id"))
                .to_owned(),
            Table::create()
                .table("user_role")
                .col(uuid("user_id"))
                .col(string_len("role", 16))
                .primary_key(Index::create().col("user_id").col("role"))
                .foreign_key(&mut fk("user_role", "user_id", "app_user", "id"))
                .to_owned(),
            Table::create()
                .table("user_scope")
                .col(uuid("user_id"))
                .col(uuid("org_unit_id"))
                .col(string_len("kind", 8))
                .primary_key(Index::create().col("user_id").col("org_unit_id").col("kind"))
                .foreign_key(&mut fk("user_scope", "user_id", "app_user", "id"))
                .foreign_key(&mut fk("user_scope", "org_unit_id", "org_unit", "id"))
                .to_owned(),
            Table::create()
                .table("refresh_token")
                .col(pk_uuid("id"))
                .col(uuid("user_id"))
                .col(uuid("family_id"))
                .col(string_uniq("token_hash"))
                .col(timestamp_with_time_zone("issued_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .foreign_key(&mut fk("refresh_token", "user_id", "app_user", "id"))
                .to_owned(),
            Table::create()
                .table("audit_log")
                .col(pk_uuid("id"))
                .col(timestamp_with_time_zone("at"))
                .col(uuid_null("user_id"))
                .col(string_len_null("role", 64))
                .col(string_len("action", 24))
                .col(string_len("entity", 32))
                .col(uuid_null("entity_id"))
                .col(text_null("changes"))
                .col(text_null("detail"))
                .to_owned(),
            mutable("consent")
                .col(uuid("household_id"))
                .col(string("given_by"))
                .col(uuid_null("representative_for"))
                .col(string("purpose"))
                .col(string_len("legal_basis", 24))
                .col(date("given_on"))
                .col(date_null("withdrawn_on"))
                .col(uuid_null("recorded_by"))
                .foreign_key(&mut fk("consent", "household_id", "household", "id"))
                .foreign_key(&mut fk("consent", "representative_for", "person", "id"))
                .to_owned(),
        ];
        for t in tables {
            manager.create_table(t).await?;
        }
        for i in [
            index("partner_assignment", &["org_unit_id"]),
            index("user_scope", &["org_unit_id"]),
            index("refresh_token", &["family_id"]),
            index("refresh_token", &["user_id"]),
            index("audit_log", &["at"]),
            index("audit_log", &["entity", "entity_id"]),
            index("audit_log", &["user_id", "at"]),
            index("consent", &["household_id"]),
        ] {
            manager.create_index(i).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "consent",
            "audit_log",
            "refresh_token",
            "user_scope",
            "user_role",
            "app_user",
            "partner_assignment",
            "partner",
        ] {
            manager.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
