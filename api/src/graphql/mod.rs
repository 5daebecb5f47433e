//! The GraphQL API: schema, resolvers (thin: parse, call the store, map), per-request loaders.

mod connection;
mod growth;
pub mod loaders;
mod milestones;
mod mutation;
mod org_units;
mod people;
mod query;
mod schedule;
mod services;

pub use mutation::Mutation;
pub use query::Query;

use crate::error::ApiResult;
use crate::store::{LifeStageRules, ScheduleReference, Store};
use async_graphql::{Context, EmptySubscription, Schema};
use loaders::Loaders;
use tokio::sync::OnceCell;

pub type CbssSchema = Schema<Query, Mutation, EmptySubscription>;

/// Limits that keep one request from exhausting the server.
pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 20_000;

pub fn schema() -> CbssSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// What one request carries into its resolvers: the scoped store, its loaders, and reference
/// data read at most once per request.
pub struct RequestData {
    pub store: Store,
    pub loaders: Loaders,
    life_stages: OnceCell<LifeStageRules>,
    schedule: OnceCell<ScheduleReference>,
    milestones: OnceCell<Vec<entity::milestone::Model>>,
}

impl RequestData {
    pub fn new(store: Store) -> Self {
        Self {
            loaders: Loaders::new(&store),
            store,
            life_stages: OnceCell::new(),
            schedule: OnceCell::new(),
            milestones: OnceCell::new(),
        }
    }

    /// The immunisation schedule and schedule rules, read once per request.
    pub async fn schedule(&self) -> ApiResult<&ScheduleReference> {
        self.schedule
            .get_or_try_init(|| self.store.schedule_reference())
            .await
    }

    /// The reference milestones, read once per request.
    pub async fn milestones(&self) -> ApiResult<&[entity::milestone::Model]> {
        Ok(self
            .milestones
            .get_or_try_init(|| self.store.milestones())
            .await?)
    }

    pub async fn life_stages(&self) -> ApiResult<&LifeStageRules> {
        self.life_stages
            .get_or_try_init(|| self.store.life_stages())
            .await
    }
}

pub(crate) fn data<'a>(ctx: &Context<'a>) -> &'a RequestData {
    ctx.data_unchecked::<RequestData>()
}
