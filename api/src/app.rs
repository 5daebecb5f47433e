//! The HTTP application: routes, limits and the request's way into GraphQL.
//! Request path: axum router → limits (body size, timeout) → `graphql_handler` (caller →
//! `Principal` → scoped `Store` + loaders) → async-graphql resolvers → store → database.

use crate::access::Principal;
use crate::config::Config;
use crate::db::{self, StatementCounter};
use crate::graphql::{self, CbssSchema, RequestData};
use crate::store::Store;
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub schema: CbssSchema,
}

/// A running application's parts: the router to serve, and the database behind it.
pub struct App {
    pub router: Router,
    pub db: DatabaseConnection,
    /// SQL statements run so far on this app's connection.
    pub statements: StatementCounter,
}

/// Connects, migrates and builds the router (no demo data: that is `seed`'s business).
pub async fn build(config: &Config) -> anyhow::Result<App> {
    let (db, statements) = db::connect(config).await?;
    db::migrate(&db).await?;
    let router = router(
        AppState {
            db: db.clone(),
            schema: graphql::schema(),
        },
        config,
    );
    Ok(App {
        router,
        db,
        statements,
    })
}

pub fn router(state: AppState, config: &Config) -> Router {
    Router::new()
        .route("/graphql", post(graphql_handler))
        .merge(crate::graphiql::routes())
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state)
        .layer(CompressionLayer::new())
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout(),
        ))
        .layer(TraceLayer::new_for_http())
}

async fn graphql_handler(State(state): State<AppState>, request: Request) -> Response {
    // Only JSON bodies: no form or multipart posts that a browser could send cross-site.
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/json") || v.starts_with("application/graphql-response+json")
        });
    if !json {
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send GraphQL requests as application/json",
        )
            .into_response();
    }
    let req = match GraphQLRequest::<GraphQLRejection>::from_request(request, &state).await {
        Ok(req) => req,
        Err(rejection) => return rejection.into_response(),
    };
    let store = Store::new(state.db.clone(), Principal::system());
    let request = req.into_inner().data(RequestData::new(store));
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}

async fn readyz(State(state): State<AppState>) -> Response {
    if Store::ping(&state.db).await {
        Json(serde_json::json!({ "status": "ready" })).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "database unavailable" })),
        )
            .into_response()
    }
}

/// Serves until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(config: &Config, app: App) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    tracing::info!(
        "CBSS listening on http://{}/graphql",
        listener.local_addr()?
    );
    axum::serve(listener, app.router)
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
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
