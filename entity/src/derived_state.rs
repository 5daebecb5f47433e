//! Table `derived_state`: the fingerprint of the rules each kind of stored, derived value was
//! computed with.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "derived_state")]
pub struct Model {
    /// What was derived, e.g. `dose_verdicts`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// A digest of the rules (their data and the version of the code applying them).
    pub fingerprint: String,
    pub derived_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
