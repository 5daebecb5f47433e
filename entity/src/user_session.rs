//! Table `user_session`: one row per login.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "user_session")]
pub struct Model {
    /// The `family_id` of the login's refresh tokens and the `sid` claim of its access tokens.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub started_at: DateTimeUtc,
    /// When a refresh token of the session was last exchanged (at first, `started_at`).
    pub renewed_at: DateTimeUtc,
    /// Set when the session ends (logout, a reused refresh token, a password change or reset, the
    /// user's deactivation or change of rights); its tokens are refused from then on.
    pub ended_at: Option<DateTimeUtc>,
    /// Where the primary's WAL stood after the session's latest write (bytes), kept only with a
    /// replica: the session reads from the replica once it has replayed this far.
    pub last_write_lsn: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
