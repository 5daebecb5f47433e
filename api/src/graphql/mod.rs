//! The GraphQL API: schema, resolvers (thin: parse, call the store, map), per-request loaders.

mod access;
mod aggregate;
mod cases;
pub mod coercion;
mod connection;
mod coverage;
pub mod documents;
mod family;
mod growth;
pub mod limits;
pub mod loaders;
mod milestones;
mod mutation;
pub mod nodes;
mod org_units;
mod people;
pub mod persisted;
pub mod plan;
mod query;
mod referrals;
mod schedule;
mod services;
mod sync;

pub use mutation::Mutation;
pub use query::Query;
pub use sync::SyncSettings;

use crate::error::{ApiError, ApiResult};
use crate::store::{LifeStageRules, ScheduleReference, Store};
use async_graphql::{Context, EmptySubscription, Schema};
use loaders::Loaders;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::OnceCell;
use uuid::Uuid;

pub type CbssSchema = Schema<Query, Mutation, EmptySubscription>;

/// Limits that keep one request from exhausting the server (see README, "Limits").
pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 50_000;
/// How many items a nested list is assumed to hold when a query's complexity is computed.
pub const NESTED_LIST_WEIGHT: usize = 10;
pub const MAX_ALIASES: usize = 30;
pub const MAX_DIRECTIVES: usize = 10;

/// The schema; in production field suggestions are off (they help probing a schema).
pub fn schema_for(production: bool, sync: SyncSettings, planning: plan::Planning) -> Schemas {
    let build = |guarded: bool| {
        // Depth is limited by `limits::check` (introspection counted apart), not here.
        let mut builder =
            connection::describe_made_types(Schema::build(Query::default(), Mutation::default(), EmptySubscription))
                .data(sync)
                .data(planning.clone())
                .limit_complexity(MAX_COMPLEXITY)
                .limit_directives(MAX_DIRECTIVES);
        if guarded {
            builder = builder.extension(crate::disclosure::Guard);
        }
        if production { builder.disable_suggestions().finish() } else { builder.finish() }
    };
    Schemas { identified: build(false), deidentified: build(true) }
}

/// The one schema, built twice: for de-identified (and anonymous) callers with
/// `disclosure::Guard` on every field, for identified callers without it. An extension makes
/// the executor pass every field and list item through it: 15% of a page of 50 people for
/// callers to whom it changes nothing (bench/NOTES.md).
#[derive(Clone)]
pub struct Schemas {
    pub identified: CbssSchema,
    pub deidentified: CbssSchema,
}

impl Schemas {
    /// The schema that executes `store`'s caller's requests.
    pub fn for_caller(&self, store: &Store) -> &CbssSchema {
        if store.identified() { &self.identified } else { &self.deidentified }
    }
}

/// The schema as `cbss schema` prints it.
pub fn schema() -> CbssSchema {
    schema_for(false, SyncSettings { max_items: 1000 }, plan::Planning::new(true)).deidentified
}

/// The schema's SDL, as checked in as `schema.graphql`: with `@specifiedBy` on the scalars that
/// have a specification, as introspection shows them.
pub fn sdl() -> String {
    schema().sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

/// Reference data (life stages, schedules, milestones, the service catalogue), read at most
/// once per process, by the first request that needs each. Only migrations write these tables,
/// and a migration comes with a new binary and a restart; reading them per request cost a page of
/// 50 people a statement and ~3% of its server CPU (bench, issue 7).
#[derive(Default)]
pub struct Reference {
    life_stages: OnceCell<LifeStageRules>,
    schedule: OnceCell<ScheduleReference>,
    milestones: OnceCell<Vec<entity::milestone::Model>>,
    service_types: OnceCell<HashMap<Uuid, Arc<entity::service_type::Model>>>,
}

// A store call's future is ~1.8 KB (sea-orm's statement futures). Awaited inline in a resolver,
// it sets the size of the whole type's `resolve_field` future, which async-graphql boxes for every
// field of every object: a page of 50 people copied ~2 KB for each of its ~850 fields. So
// resolvers of types that come in lists box their store calls (here and in the object types).

/// What one request carries into its resolvers: the caller's store, its loaders, and the
/// process's reference data.
pub struct RequestData {
    pub store: Store,
    pub loaders: Loaders,
    pub client_ip: Option<IpAddr>,
    reference: Arc<Reference>,
}

impl RequestData {
    pub fn new(store: Store, client_ip: Option<IpAddr>, reference: Arc<Reference>) -> Self {
        Self { loaders: Loaders::new(&store), store, client_ip, reference }
    }

    /// The immunisation schedule and schedule rules.
    pub async fn schedule(&self) -> ApiResult<&ScheduleReference> {
        self.reference.schedule.get_or_try_init(|| Box::pin(self.store.schedule_reference())).await
    }

    /// The reference milestones.
    pub async fn milestones(&self) -> ApiResult<&[entity::milestone::Model]> {
        Ok(self.reference.milestones.get_or_try_init(|| Box::pin(self.store.milestones())).await?)
    }

    pub async fn life_stages(&self) -> ApiResult<&LifeStageRules> {
        self.reference.life_stages.get_or_try_init(|| Box::pin(self.store.life_stages())).await
    }

    /// A service type by id, from the whole catalogue (a few dozen rows). Every service record
    /// names one: through a DataLoader each of a page's ~225 records paid a batch entry, a
    /// channel and a copy of the row, ~0.9 ms of a page of 50 people's 2.7 ms of server CPU.
    pub async fn service_type(&self, id: Uuid) -> ApiResult<Option<Arc<entity::service_type::Model>>> {
        Ok(self.service_types().await?.get(&id).cloned())
    }

    /// The whole service catalogue by id.
    pub async fn service_types(&self) -> ApiResult<&HashMap<Uuid, Arc<entity::service_type::Model>>> {
        self.reference
            .service_types
            .get_or_try_init(|| async {
                let rows = Box::pin(self.store.all_service_types()).await?;
                Ok::<_, ApiError>(rows.into_iter().map(|m| (m.id, Arc::new(m))).collect())
            })
            .await
    }
}

/// The request's data for an authenticated caller; everything but login and token refresh
/// goes through here, so an anonymous request reaches nothing.
pub(crate) fn data<'a>(ctx: &Context<'a>) -> ApiResult<&'a RequestData> {
    let d = public(ctx);
    if d.store.principal().is_authenticated() { Ok(d) } else { Err(ApiError::Unauthenticated) }
}

/// The request's data without the authentication check: for `login` and `refreshToken` only.
pub(crate) fn public<'a>(ctx: &Context<'a>) -> &'a RequestData {
    ctx.data_unchecked::<RequestData>()
}

/// A record's id as the `ID` of a `Node`: the UUID as text. De-identified callers get its
/// pseudonym, as every field of `disclosure::Out::Pseudonym`.
pub(crate) fn node_id(id: uuid::Uuid) -> async_graphql::Result<async_graphql::ID> {
    Ok(async_graphql::ID(id.to_string()))
}
