//! Table `org_unit`.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "org_unit")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub code: String,
    pub name_en: String,
    pub name_mn: String,
    /// COUNTRY, REGION, AIMAG, CAPITAL, SOUM, DISTRICT, BAG, KHOROO
    pub level: String,
    pub parent_id: Option<Uuid>,
    /// Materialised path of ids, `/root/.../self/`: a subtree is `path LIKE '<prefix>%'`.
    pub path: String,
    pub depth: i32,
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    /// URBAN or RURAL (null above soum/district level).
    pub settlement: Option<String>,
    /// Demo units carry plausible, not official, names.
    pub is_demo: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
