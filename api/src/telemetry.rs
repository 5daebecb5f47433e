//! What an operator sees: logs (plain text, or one JSON object a line with `CBSS_LOG_FORMAT=json`),
//! a span per request carrying its request id, operation and user, and metrics in Prometheus'
//! text format on `/metrics` (`metrics` + `metrics-exporter-prometheus`; README lists them).

use crate::store::ReadLog;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::DatabaseConnection;
use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};
use tracing::Instrument;
pub use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The header a request id comes in and goes back out in.
pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// How log lines are written (`CBSS_LOG_FORMAT`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// For a terminal.
    #[default]
    Text,
    /// One JSON object a line, with the request's span (request id, operation, user id).
    Json,
}

/// Installs the process's logger, with `otlp` (a collector's OTLP/HTTP address) the export of
/// every span to it, and with `metrics` the layer that times pool checkouts (`pool_waits`).
/// Keep the answer until the process ends: dropped, it sends what it holds.
pub fn init_logs(format: LogFormat, filter: &str, otlp: Option<&str>, metrics: bool) -> anyhow::Result<Tracing> {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let lines = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer().boxed(),
        LogFormat::Json => json_layer(std::io::stdout).boxed(),
    };
    // Each output has its own filter, so that `pool_waits` (with metrics served) hears sqlx's
    // events whatever `CBSS_LOG` lets through.
    let registry = tracing_subscriber::registry()
        .with(lines.with_filter(EnvFilter::try_new(filter)?))
        .with(metrics.then(pool_waits));
    match otlp.filter(|e| !e.is_empty()) {
        None => {
            registry.try_init()?;
            Ok(Tracing::default())
        }
        #[cfg(feature = "otlp")]
        Some(endpoint) => {
            let (layer, provider) = otlp_layer(endpoint)?;
            registry.with(layer.with_filter(EnvFilter::try_new(filter)?)).try_init()?;
            Ok(Tracing { provider: Some(provider) })
        }
        #[cfg(not(feature = "otlp"))]
        Some(_) => {
            anyhow::bail!("CBSS_OTLP_ENDPOINT needs a build with OTLP export: cargo build --release --features otlp")
        }
    }
}

/// The span exporter, running while this lives (`init_logs`).
#[derive(Default)]
pub struct Tracing {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Tracing {
    fn drop(&mut self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider.take() {
            let _ = provider.shutdown();
        }
    }
}

/// A layer exporting spans (the request's, with its request id, operation, user id and time) to
/// an OpenTelemetry collector's OTLP/HTTP address (`http://collector:4318`; `/v1/traces` is
/// added), in batches from a thread of its own; and the provider that flushes it.
#[cfg(feature = "otlp")]
pub fn otlp_layer<S>(
    endpoint: &str,
) -> anyhow::Result<(impl tracing_subscriber::Layer<S> + Send + Sync, opentelemetry_sdk::trace::SdkTracerProvider)>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig;
    let base = endpoint.trim_end_matches('/');
    let url = if base.ends_with("/v1/traces") { base.to_string() } else { format!("{base}/v1/traces") };
    let exporter = opentelemetry_otlp::SpanExporter::builder().with_http().with_endpoint(url).build()?;
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(opentelemetry_sdk::Resource::builder().with_service_name("cbss").build())
        .build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("cbss"));
    Ok((layer, provider))
}

/// The JSON logger, writing to `writer` (tests give it a buffer), with `pool_waits`.
pub fn json_logs<W>(
    filter: EnvFilter,
    writer: W,
) -> impl tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync + 'static
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    tracing_subscriber::registry().with(json_layer(writer).with_filter(filter)).with(pool_waits())
}

/// The target of sqlx's event on every connection checkout, which carries `acquired_after_secs`
/// (`db::open` asks sqlx for it, at TRACE, when metrics are served).
const POOL_ACQUIRE: &str = "sqlx::pool::acquire";

/// A layer turning sqlx's checkout events into `cbss_db_pool_wait_seconds`: how long each
/// statement or transaction waited for a pooled connection. sqlx counts no waiters, but the
/// sum of their waits over time is their mean number (README).
pub fn pool_waits<S>() -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use tracing_subscriber::Layer;
    PoolWaits.with_filter(tracing_subscriber::filter::Targets::new().with_target(POOL_ACQUIRE, tracing::Level::TRACE))
}

struct PoolWaits;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PoolWaits {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Waited(Option<f64>);
        impl tracing::field::Visit for Waited {
            fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
                if field.name() == "acquired_after_secs" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut waited = Waited(None);
        event.record(&mut waited);
        if let Some(secs) = waited.0 {
            metrics::histogram!("cbss_db_pool_wait_seconds").record(secs);
        }
    }
}

/// One JSON object a line, the event's fields at the top, with the request's span.
fn json_layer<S, W>(writer: W) -> impl tracing_subscriber::Layer<S> + Send + Sync + 'static
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
}

/// The request id: the client's `X-Request-Id` when it is a plain token of at most 64
/// characters (a proxy's or a phone's id, followed through every log line), or a new one.
fn request_id(headers: &HeaderMap) -> HeaderValue {
    let plain = |v: &&HeaderValue| {
        let b = v.as_bytes();
        !b.is_empty() && b.len() <= 64 && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_.:".contains(c))
    };
    headers
        .get(&REQUEST_ID)
        .filter(plain)
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_str(&uuid::Uuid::now_v7().to_string()).expect("a UUID is a header value"))
}

/// What the GraphQL handler says of a request, for the metrics and the request's log line.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The operation's name, or `anonymous`.
    pub operation: String,
    /// `OK`, or the first error's code.
    pub code: String,
}

/// The statements a request ran and their time (`db::connect`'s callback adds to the current
/// request's, wherever its work runs: `carry` takes it into spawned tasks).
#[derive(Default, Debug)]
pub struct RequestStats {
    statements: AtomicU64,
    micros: AtomicU64,
}

tokio::task_local! {
    static STATS: Arc<RequestStats>;
}

/// Counts one statement of `elapsed` for the current request, if any.
pub fn statement_ran(elapsed: Duration, failed: bool) {
    let _ = STATS.try_with(|s| {
        s.statements.fetch_add(1, Ordering::Relaxed);
        s.micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    });
    metrics::counter!("cbss_db_statements_total", "outcome" => if failed { "error" } else { "ok" }).increment(1);
    metrics::histogram!("cbss_db_statement_duration_seconds").record(elapsed.as_secs_f64());
}

/// `work`, to be spawned, still counted and logged as part of the current request.
pub fn carry<F: Future + Send + 'static>(work: F) -> impl Future<Output = F::Output> + Send + 'static
where
    F::Output: Send + 'static,
{
    let span = tracing::Span::current();
    let stats = STATS.try_with(Arc::clone).ok();
    async move {
        match stats {
            Some(stats) => STATS.scope(stats, work).instrument(span).await,
            None => work.instrument(span).await,
        }
    }
}

/// An operation name as a metric label: one of the first `MAX_OPERATIONS` names seen, or
/// `other`, so that clients cannot grow the label set without end.
fn operation_label(name: &str) -> String {
    const MAX_OPERATIONS: usize = 256;
    static SEEN: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);
    let mut seen = SEEN.lock().expect("operation names");
    if seen.contains(name) {
        return name.to_string();
    }
    if seen.len() < MAX_OPERATIONS {
        seen.insert(name.to_string());
        return name.to_string();
    }
    "other".into()
}

/// A route as a metric label: the router's fixed paths, or `other`.
fn route_label(path: &str) -> &'static str {
    const ROUTES: [&str; 9] = [
        "/graphql",
        "/graphiql",
        "/export/coverage.csv",
        "/export/aggregate.csv",
        "/export/people.csv",
        "/export/households.csv",
        "/healthz",
        "/readyz",
        "/metrics",
    ];
    ROUTES.into_iter().find(|r| *r == path).unwrap_or("other")
}

/// The outermost layer: gives the request its id and span, counts its statements, and when it
/// is answered, logs it (a warning when it took longer than `slow`) and adds it to the metrics.
pub async fn observe(State(slow): State<Duration>, request: Request, next: Next) -> Response {
    let id = request_id(request.headers());
    let started = Instant::now();
    let span = tracing::info_span!(
        "request",
        request_id = id.to_str().unwrap_or(""),
        method = %request.method(),
        path = request.uri().path(),
        operation = tracing::field::Empty,
        user_id = tracing::field::Empty,
    );
    let route = route_label(request.uri().path());
    let stats = Arc::new(RequestStats::default());
    let mut response = STATS.scope(stats.clone(), next.run(request)).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status();
    let (operation, code) = match response.extensions().get::<Outcome>() {
        Some(o) => (operation_label(&o.operation), o.code.clone()),
        None => (String::new(), crate::transport::code_of_status(status).to_string()),
    };
    metrics::counter!("cbss_requests_total", "route" => route, "operation" => operation.clone(), "code" => code.clone())
        .increment(1);
    metrics::histogram!("cbss_request_duration_seconds", "route" => route, "operation" => operation)
        .record(elapsed.as_secs_f64());
    let statements = stats.statements.load(Ordering::Relaxed);
    let db_ms = stats.micros.load(Ordering::Relaxed) as f64 / 1000.0;
    let ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if elapsed >= slow {
            tracing::warn!(status = status.as_u16(), code = %code, ms, statements, db_ms, "slow request");
        } else {
            tracing::info!(status = status.as_u16(), code = %code, ms, statements, db_ms, "request");
        }
    });
    response.headers_mut().insert(REQUEST_ID.clone(), id);
    response
}

/// The metrics recorder of this process, installed on first use (one per process: the
/// `metrics` macros write to the global recorder).
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: LazyLock<PrometheusHandle> = LazyLock::new(|| {
        const SECONDS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &SECONDS)
            .expect("buckets")
            .install_recorder()
            .expect("the one metrics recorder of the process");
        describe();
        handle
    });
    &HANDLE
}

/// HELP lines: what each family means (README's metrics table says the same).
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!("cbss_requests_total", "HTTP requests by route, GraphQL operation name and outcome code");
    describe_histogram!(
        "cbss_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time from a request's arrival to its answer"
    );
    describe_counter!("cbss_db_statements_total", "SQL statements run, by outcome");
    describe_histogram!("cbss_db_statement_duration_seconds", metrics::Unit::Seconds, "Time of one SQL statement");
    describe_gauge!("cbss_db_pool_connections", "Database connections of the pool, by state (in_use, idle)");
    describe_gauge!("cbss_db_pool_max_connections", "The pool's size limit (CBSS_DB_MAX_CONNECTIONS)");
    describe_histogram!(
        "cbss_db_pool_wait_seconds",
        metrics::Unit::Seconds,
        "How long a statement or transaction waited for a pooled connection (its sum's rate is the mean number waiting)"
    );
    describe_counter!(
        "cbss_db_pool_timeouts_total",
        "Checkouts that found no connection within CBSS_DB_ACQUIRE_TIMEOUT_MS (answered UNAVAILABLE)"
    );
    describe_gauge!("cbss_admission_running", "GraphQL requests executing now");
    describe_gauge!("cbss_admission_waiting", "GraphQL requests queued at the admission gate");
    describe_counter!("cbss_sync_items_total", "syncPush items by result (CREATED, UNCHANGED, UPDATED, ...)");
    describe_counter!("cbss_logins_total", "Login attempts by outcome (success, failure, throttled)");
    describe_gauge!("cbss_audit_read_backlog", "Read audit entries waiting to be written");
    describe_counter!(
        "cbss_sync_pulls_held_total",
        "changes pulls that waited in vain for a writer still running and answered only what was final"
    );
    describe_gauge!("cbss_replica_up", "1 while the replica answers as a standby (DATABASE_REPLICA_URL), else 0");
    describe_gauge!(
        "cbss_replica_lag_seconds",
        metrics::Unit::Seconds,
        "How far the replica's data is behind the primary's (analytics go back to the primary past CBSS_REPLICA_MAX_LAG_MS)"
    );
}

/// What `/metrics` reads from the app as it is scraped (the gauges of its present state).
#[derive(Clone)]
pub struct Scrape {
    pub token: Option<Arc<str>>,
    pub db: DatabaseConnection,
    pub max_connections: u32,
    pub gate: crate::admission::Gate,
    pub reads: ReadLog,
}

/// `GET /metrics`: Prometheus' text format, for a scraper presenting `CBSS_METRICS_TOKEN` as a
/// bearer token; without that setting the route does not exist (404).
pub async fn metrics(State(s): State<Scrape>, headers: HeaderMap) -> Response {
    let Some(token) = s.token.as_deref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let presented = crate::app::bearer_token(&headers).unwrap_or_default();
    if !same_secret(presented.as_bytes(), token.as_bytes()) {
        return crate::transport::Refusal::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "metrics need the bearer token of CBSS_METRICS_TOKEN",
        )
        .into_response();
    }
    let handle = recorder();
    let (in_use, idle) = crate::db::pool_state(&s.db);
    metrics::gauge!("cbss_db_pool_connections", "state" => "in_use").set(in_use as f64);
    metrics::gauge!("cbss_db_pool_connections", "state" => "idle").set(idle as f64);
    metrics::gauge!("cbss_db_pool_max_connections").set(s.max_connections as f64);
    let (running, waiting) = s.gate.load();
    metrics::gauge!("cbss_admission_running").set(running as f64);
    metrics::gauge!("cbss_admission_waiting").set(waiting as f64);
    metrics::gauge!("cbss_audit_read_backlog").set(s.reads.backlog() as f64);
    handle.run_upkeep();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
}

/// Whether two secrets are equal, in a time that does not tell how much of them matched (their
/// digests are compared, not their bytes).
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    Sha256::digest(a) == Sha256::digest(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_id_is_kept_only_when_it_is_a_plain_short_token() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(&REQUEST_ID, HeaderValue::from_str(v).unwrap());
            request_id(&h)
        };
        assert_eq!(with("phone-42:batch.7"), "phone-42:batch.7");
        assert_ne!(with("a b"), "a b");
        assert_ne!(with(&"x".repeat(65)), "x".repeat(65).as_str());
        assert_eq!(request_id(&HeaderMap::new()).len(), 36);
    }

    #[test]
    fn routes_outside_the_router_share_one_label() {
        assert_eq!(route_label("/graphql"), "/graphql");
        assert_eq!(route_label("/graphql/../etc"), "other");
    }
}
