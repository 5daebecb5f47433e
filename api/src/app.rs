//! The HTTP application: routes, limits and the request's way into GraphQL.
//! Request path: axum router → limits (body size, timeout, CORS) → `graphql_handler` (bearer
//! token → `Principal` → scoped `Store` + loaders) → async-graphql resolvers → store → database.

use crate::access::Principal;
use crate::admission::Gate;
use crate::auth::caller::caller_for_token;
use crate::auth::{Keys, PrincipalCache};
use crate::config::Config;
use crate::db::{self, StatementCounter};
use crate::graphql::documents::Documents;
use crate::graphql::limits::{Introspection, refusal};
use crate::graphql::persisted::{Persisted, PersistedQueries};
use crate::graphql::plan::Planning;
use crate::graphql::{self, RequestData};
use crate::replica::Replica;
use crate::store::rollup::Rollups;
use crate::store::{ReadLog, Store};
use crate::transport::{self, MediaType, Refusal};
use async_graphql::parser::types::OperationType;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::CompressionLayer;
use tower_http::cors::CorsLayer;
use tower_http::timeout::TimeoutLayer;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: graphql::Schemas,
    pub keys: Arc<Keys>,
    /// Principals of recent tokens (`auth::principals`).
    pub principals: Arc<PrincipalCache>,
    /// Admission to GraphQL execution (`admission`).
    pub gate: Gate,
    /// The writer of read audit entries (`store::ReadLog`).
    pub reads: ReadLog,
    /// Reference data, read once per process (`graphql::Reference`).
    pub reference: Arc<graphql::Reference>,
    /// Parsed documents of recent queries (`graphql::documents`).
    pub documents: Arc<Documents>,
    /// Documents of automatic persisted queries, by hash (`graphql::persisted`).
    pub persisted: Arc<PersistedQueries>,
    /// The largest request body read.
    pub max_body_bytes: usize,
    /// Proxies whose `X-Forwarded-For` names the client (`transport::client_address`).
    pub trusted_proxies: Arc<[transport::Proxy]>,
    /// The replica analytics read from (`replica`), when `DATABASE_REPLICA_URL` is set.
    pub replica: Option<Arc<Replica>>,
    /// The roll-ups (`store::rollup`): kept by the server, read by aggregates unless
    /// `CBSS_ROLLUPS=false`.
    pub rollups: Arc<Rollups>,
    pub production: bool,
}

impl AppState {
    /// The data-access layer as this caller may use it, sharing the server's principal cache.
    pub fn store(&self, principal: Principal) -> Store {
        Store::new(self.db.clone(), principal, self.keys.clone())
            .with_principals(self.principals.clone())
            .with_read_log(self.reads.clone())
            .with_replica(self.replica.clone())
            .with_rollups(self.rollups.for_answers())
    }
}

/// A running application's parts: the router to serve, and the database behind it.
pub struct App {
    pub router: Router,
    pub db: DatabaseConnection,
    pub keys: Arc<Keys>,
    /// SQL statements run so far on this app's connection.
    pub statements: StatementCounter,
    /// Pages answered from their plan so far (`graphql::plan`).
    pub planned: Arc<std::sync::atomic::AtomicU64>,
}

/// Connects, migrates and builds the router (no demo data: that is `seed`'s business).
pub async fn build(config: &Config) -> anyhow::Result<App> {
    let keys = Arc::new(config.keys()?);
    let (db, statements) = db::connect(config).await?;
    db::migrate(&db).await?;
    crate::auth::password::warm_up();
    let principals = Arc::new(PrincipalCache::default());
    principals.listen(&db);
    let replica = match config.replica_url.as_deref().filter(|u| !u.is_empty()) {
        Some(url) => {
            anyhow::ensure!(
                url.starts_with("postgres") && db.get_database_backend() == sea_orm::DbBackend::Postgres,
                "DATABASE_REPLICA_URL is a PostgreSQL streaming replica of a PostgreSQL DATABASE_URL"
            );
            let max_lag = std::time::Duration::from_millis(config.replica_max_lag_ms);
            Some(Replica::watch(db::connect_replica(config, url).await?, db.clone(), max_lag))
        }
        None => None,
    };
    let sync = graphql::SyncSettings { max_items: config.sync_max_items };
    let planning = Planning::new(config.planner);
    let state = AppState {
        db: db.clone(),
        schema: graphql::schema_for(config.is_production(), sync, planning.clone()),
        keys: keys.clone(),
        principals,
        gate: Gate::new(config.concurrency()),
        reads: ReadLog::start(db.clone()),
        reference: Arc::default(),
        documents: Arc::default(),
        persisted: Arc::default(),
        max_body_bytes: config.max_body_bytes,
        trusted_proxies: config.trusted_proxies.clone().into(),
        replica,
        rollups: Rollups::start(db.clone(), config.rollups),
        production: config.is_production(),
    };
    Ok(App { router: router(state, config), db, keys, statements, planned: planning.answered })
}

pub fn router(state: AppState, config: &Config) -> Router {
    let scrape = crate::telemetry::Scrape {
        token: config.metrics_token().map(Arc::from),
        db: state.db.clone(),
        max_connections: config.db_max_connections,
        gate: state.gate.clone(),
        reads: state.reads.clone(),
    };
    if scrape.token.is_some() {
        crate::telemetry::recorder();
    }
    let origins: Vec<HeaderValue> = config.cors_origins.iter().filter_map(|o| o.trim().parse().ok()).collect();
    let cors = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    Router::new()
        .route("/graphql", get(graphql_handler).post(graphql_handler))
        .merge(crate::graphiql::routes())
        .route("/export/coverage.csv", get(crate::export::coverage_csv))
        .route("/export/aggregate.csv", get(crate::export::aggregate_csv))
        .route("/export/people.csv", get(crate::export::people_csv))
        .route("/export/households.csv", get(crate::export::households_csv))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::telemetry::metrics).with_state(scrape))
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(cors)
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout()))
        .layer(axum::middleware::map_response(transport::json_errors))
        .layer(axum::middleware::from_fn_with_state(
            Duration::from_millis(config.slow_request_ms),
            crate::telemetry::observe,
        ))
}

/// Runs `work` (a request's database work) to its end in a task of its own, which the request's
/// future only waits for.
///
/// hyper drops a request's future when its client disconnects, and the timeout layer drops it
/// when time is up. Dropped while sqlx waits for the answer to a BEGIN, it leaves its pooled
/// connection inside an open transaction (sqlx 0.9's rollback guard looks at the transaction
/// depth, which is raised only after that answer), and the next statements on that connection
/// run in it: seen under load as PostgreSQL's "there is already a transaction in progress". A
/// task runs to its end instead (each statement within the statement timeout) and gives its
/// connection back clean. Only work that has begun is detached: a request abandoned while it
/// waits for admission is dropped there, before it costs anything.
pub(crate) async fn to_the_end<F>(work: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    match tokio::spawn(crate::telemetry::carry(work)).await {
        Ok(output) => output,
        // The task's panic, carried on in the request as if it had happened there.
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => panic!("request task ended early: {e}"),
        },
    }
}

/// The token of an `Authorization: Bearer …` header.
pub(crate) fn bearer_token(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

/// `GET` and `POST /graphql` (GraphQL over HTTP: `transport`); a browser's `GET` gets GraphiQL.
/// The answer carries its operation's name for the request's metrics and log line.
async fn graphql_handler(State(state): State<AppState>, request: Request) -> Response {
    let mut operation = None;
    let mut response = graphql_answer(state, request, &mut operation).await;
    if let Some(outcome) = response.extensions_mut().get_mut::<crate::telemetry::Outcome>() {
        outcome.operation = operation.unwrap_or_else(|| "anonymous".into());
    }
    response
}

async fn graphql_answer(state: AppState, request: Request, operation: &mut Option<String>) -> Response {
    let media = MediaType::of(request.headers());
    let get = request.method() == Method::GET;
    if get && transport::wants_html(request.headers()) {
        return crate::graphiql::page().into_response();
    }
    let Some(ticket) = state.gate.enter().await else {
        return Refusal::new(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", "shutting down").into_response();
    };
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let client_ip = transport::client_address(peer, request.headers(), &state.trusted_proxies);
    let bearer = bearer_token(request.headers());
    let mut req = match transport::read(request, state.max_body_bytes).await {
        Ok(req) => req,
        Err(refusal) => return refusal.into_response(),
    };
    let persisted = match state.persisted.resolve(&mut req) {
        Ok(p) => p,
        Err(e) => return transport::request_error(e, media),
    };
    if req.query.trim().is_empty() {
        return Refusal::new(
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "no `query` (nor a persisted query's hash) was sent",
        )
        .into_response();
    }
    // A presented token must be valid; without one, only login and refreshToken answer.
    let (principal, session) = match bearer {
        Some(token) => match caller_for_token(&state.db, &state.keys, &state.principals, &token).await {
            Ok((p, session)) => (p, Some(session)),
            Err(e) => {
                return transport::request_error(
                    refusal(e.code(), "invalid or expired access token, or its session ended".into(), None),
                    media,
                );
            }
        },
        None => (Principal::anonymous(), None),
    };
    if let Some(user) = principal.user_id {
        tracing::Span::current().record("user_id", tracing::field::display(user));
    }
    let doc = match state.documents.prepare(&mut req) {
        Ok(doc) => doc,
        Err(e) => return transport::request_error(e, media),
    };
    transport::with_variable_defaults(&mut req);
    *operation = transport::operation_name(&mut req);
    if let Some(name) = operation {
        tracing::Span::current().record("operation", name.as_str());
    }
    if let Persisted::Register(hash) = persisted {
        state.persisted.register(hash, &req.query);
    }
    if get && transport::operation_type(&mut req) == Some(OperationType::Mutation) {
        return Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "mutations are sent with POST")
            .into_response();
    }
    let introspection = if state.production {
        Introspection::Off
    } else if principal.is_authenticated() {
        Introspection::Allowed
    } else {
        Introspection::NeedsToken
    };
    if let Err(e) = graphql::limits::check(&mut req, introspection) {
        return transport::request_error(e, media);
    }
    if introspection != Introspection::Allowed {
        req = req.disable_introspection();
    }
    let deidentified = principal.deidentified;
    let mut store = state.store(principal).with_ticket(ticket);
    if let Some(session) = session {
        store = store.with_session(session);
    }
    // De-identified callers only query: the whole request reads from the replica.
    if deidentified && transport::operation_type(&mut req) == Some(OperationType::Query) {
        store = store.analytics().await;
    }
    let answered = store.clone();
    // Kept to say where an argument that does not coerce went wrong (`graphql::coercion`).
    let (variables, operation) = (req.variables.clone(), req.operation_name.clone());
    let schema = state.schema.for_caller(&store).clone();
    let req = req.data(RequestData::new(store, client_ip, state.reference.clone()));
    let mut response = to_the_end(async move { schema.execute(req).await }).await;
    graphql::coercion::explain(&mut response.errors, &doc, &variables, operation.as_deref());
    if let Some(fresh) = freshness(&answered) {
        let value = async_graphql::Value::from_json(fresh).unwrap_or_default();
        response.extensions.insert("freshness".into(), value);
    }
    transport::respond(response, media)
}

/// How fresh an answer is, when part of it was read from the replica or a roll-up: the
/// replica's freshness (or the primary's), with the roll-up last read.
fn freshness(answered: &Store) -> Option<serde_json::Value> {
    let rollup = answered.rollup_used();
    let mut fresh = match answered.freshness() {
        Some(replica) => replica.to_json(),
        None if rollup.is_some() => serde_json::json!({ "source": "PRIMARY" }),
        None => return None,
    };
    if let Some(r) = rollup {
        fresh["rollup"] = r.to_json();
    }
    Some(fresh)
}

/// Ready when the database answers a ping within a second: a load balancer asking is told at
/// once, not after a connection's acquire timeout.
async fn readyz(State(state): State<AppState>) -> Response {
    let ping = tokio::time::timeout(std::time::Duration::from_secs(1), Store::ping(&state.db));
    if ping.await.unwrap_or(false) {
        Json(serde_json::json!({ "status": "ready" })).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "database unavailable" }))).into_response()
    }
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(config: &Config, app: App) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    tracing::info!("CBSS listening on http://{}/graphql", listener.local_addr()?);
    axum::serve(listener, app.router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
