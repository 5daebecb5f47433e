//! Table `login_throttle`: failed logins by key, shared by every instance.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttle")]
pub struct Model {
    /// `account:EMAIL|ADDRESS` or `address:ADDRESS`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Failures since the last success (or since a day without one: counting starts again).
    pub failures: i32,
    pub last_failure_at: DateTimeUtc,
    /// No attempt under this key before then.
    pub blocked_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
