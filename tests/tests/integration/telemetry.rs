//! What an operator sees: `/metrics` scraped and parsed as Prometheus' text format, and JSON log
//! lines that carry their request's id. Metrics and the logger belong to the process, which
//! every test's app shares: assertions name operations of their own, or compare before and after.

use crate::fixtures::unit;
use cbss_tests::TestApp;
use prometheus_parse::{Sample, Scrape, Value as Metric};
use serde_json::{Value, json};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

const TOKEN: &str = "a scraper's token, for tests only";

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}/metrics", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.expect("GET /metrics")
}

async fn parsed(app: &TestApp) -> Scrape {
    let res = scrape(app, Some(TOKEN)).await;
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    let text = res.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).expect("Prometheus text format")
}

/// The value of the sample of `metric` with all of `labels` (a counter or gauge), or of a
/// histogram's count.
fn value(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let found: Vec<&Sample> = s
        .samples
        .iter()
        .filter(|x| x.metric == metric && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .collect();
    if found.is_empty() {
        return None;
    }
    Some(
        found
            .iter()
            .map(|x| match &x.value {
                Metric::Counter(v) | Metric::Gauge(v) | Metric::Untyped(v) => *v,
                Metric::Histogram(b) => b.iter().map(|c| c.count).fold(0.0, f64::max),
                Metric::Summary(_) => f64::NAN,
            })
            .sum(),
    )
}

#[tokio::test]
async fn metrics_are_served_to_the_scraper_in_prometheus_text_format() {
    // The process's logger carries the layer that hears sqlx's checkouts.
    observed();
    let app = TestApp::spawn_with(|c| c.metrics_token = Some(TOKEN.into())).await;
    // Only for the scraper's token.
    for token in [None, Some("not the token")] {
        let res = scrape(&app, token).await;
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    }
    let before = parsed(&app).await;
    let statements_before = value(&before, "cbss_db_statements_total", &[("outcome", "ok")]).unwrap_or(0.0);
    let checkouts_before = value(&before, "cbss_db_pool_wait_seconds", &[]).unwrap_or(0.0);

    app.ok("query TelemetryStages { lifeStages { code } }", json!({})).await;
    app.ok("query TelemetryStages { lifeStages { code } }", json!({})).await;
    let (code, _) = app.err("query TelemetryBroken { noSuchField }", json!({})).await;
    assert_eq!(code, "GRAPHQL_VALIDATION_FAILED");
    let login = "mutation TelemetryLogin($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }";
    app.gql_as(None, login, json!({ "e": "admin@test.mn", "p": "wrong password" })).await;
    let u = unit(&app, "11-BZD").await;
    let household = json!({ "id": uuid::Uuid::now_v7(), "payload": { "household": {
        "orgUnitId": u, "dwelling": "GER", "isHerder": false,
        "consent": { "givenBy": "Household head", "purpose": "CBSS services" } } } });
    let push = "mutation TelemetrySync($items: [SyncItemInput!]!) { syncPush(items: $items) { committed } }";
    app.ok(push, json!({ "items": [household.clone()] })).await;
    app.ok(push, json!({ "items": [household] })).await;

    // An operationName the document does not define is no label: it is the client's string.
    let junk = "x".repeat(2000);
    let body = json!({ "query": "query TelemetryStages { lifeStages { code } }", "operationName": junk });
    let res = app.client.post(format!("{}/graphql", app.base)).bearer_auth(&app.admin_token).json(&body).send();
    assert_eq!(res.await.unwrap().status(), 200);

    let after = parsed(&app).await;
    assert!(
        !after.samples.iter().any(|x| x.labels.get("operation").is_some_and(|o| o.len() > 100)),
        "no label is a client's arbitrary string"
    );
    let requests = |op: &str, code: &str| {
        value(&after, "cbss_requests_total", &[("route", "/graphql"), ("operation", op), ("code", code)])
    };
    assert!(requests("TelemetryStages", "OK") >= Some(2.0), "{:?}", requests("TelemetryStages", "OK"));
    assert!(requests("TelemetryBroken", "GRAPHQL_VALIDATION_FAILED") >= Some(1.0));
    assert!(requests("TelemetryLogin", "UNAUTHENTICATED") >= Some(1.0));
    assert!(requests("TelemetrySync", "OK") >= Some(2.0));
    let timed =
        value(&after, "cbss_request_duration_seconds", &[("route", "/graphql"), ("operation", "TelemetryStages")]);
    assert!(timed >= Some(2.0), "the histogram's +Inf bucket counts both: {timed:?}");
    assert!(value(&after, "cbss_db_statements_total", &[("outcome", "ok")]).unwrap() > statements_before);
    assert!(value(&after, "cbss_db_statement_duration_seconds", &[]).unwrap() > 0.0);
    let checkouts = value(&after, "cbss_db_pool_wait_seconds", &[]).unwrap_or(0.0);
    assert!(checkouts > checkouts_before, "every checkout's wait is counted: {checkouts_before} → {checkouts}");
    assert!(value(&after, "cbss_logins_total", &[("outcome", "failure")]) >= Some(1.0));
    assert!(value(&after, "cbss_logins_total", &[("outcome", "success")]) >= Some(1.0));
    assert!(value(&after, "cbss_sync_items_total", &[("result", "CREATED")]) >= Some(1.0));
    assert!(value(&after, "cbss_sync_items_total", &[("result", "UNCHANGED")]) >= Some(1.0));
    // The gauges of the present state, read as the scrape comes.
    for (metric, labels) in [
        ("cbss_db_pool_connections", vec![("state", "idle")]),
        ("cbss_db_pool_connections", vec![("state", "in_use")]),
        ("cbss_db_pool_max_connections", vec![]),
        ("cbss_admission_running", vec![]),
        ("cbss_admission_waiting", vec![]),
        ("cbss_audit_read_backlog", vec![]),
    ] {
        let v = value(&after, metric, &labels);
        assert!(v.is_some_and(|v| v >= 0.0), "{metric} {labels:?}: {v:?}");
    }
    assert!(value(&after, "cbss_db_pool_connections", &[]).unwrap() >= 1.0, "the pool holds a connection");
    assert!(after.docs.contains_key("cbss_requests_total"), "every family has its HELP line");
}

/// A pool too small for its load shows in the metrics: the time statements waited for a
/// connection, and the checkouts that gave up (answered UNAVAILABLE). The one connection of the
/// app's pool left for requests (the other listens for other instances' news) is held by an
/// edit waiting on a row another connection locks.
#[tokio::test]
async fn waits_for_a_pooled_connection_and_checkouts_that_give_up_are_measured() {
    use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
    use std::time::{Duration, Instant};
    if cbss_tests::backend() != "postgres" {
        eprintln!("skipped on SQLite: a write waits for its turn without a connection, so nothing holds one");
        return;
    }
    observed();
    let app = TestApp::spawn_with(|c| {
        c.metrics_token = Some(TOKEN.into());
        c.db_max_connections = 2;
        c.db_acquire_timeout_ms = 1000;
    })
    .await;
    let u = unit(&app, "11-BZD").await;
    let held = crate::fixtures::household(&app, &u).await;
    let before = parsed(&app).await;
    let waited_before = value(&before, "cbss_db_pool_wait_seconds_sum", &[]).unwrap_or(0.0);
    let timeouts_before = value(&before, "cbss_db_pool_timeouts_total", &[]).unwrap_or(0.0);

    let outside = app.outside_pool().await;
    let holder = outside.begin().await.unwrap();
    let hold = format!("SELECT id FROM household WHERE id = '{held}' FOR UPDATE");
    holder.execute_raw(Statement::from_string(DbBackend::Postgres, hold)).await.unwrap();
    let edit = app.gql(
        "mutation HeldEdit($i: UpdateHouseholdInput!) { updateHousehold(input: $i) { id } }",
        json!({ "i": { "id": held, "expectedVersion": 1, "address": "Баг 3, гудамж 7" } }),
    );
    let read = "query PoolWaiter($u: UUID!) { households(filter: { orgUnitId: $u }, first: 1) { totalCount } }";
    let meanwhile = async {
        let locked = "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() \
                      AND wait_event_type = 'Lock' AND query LIKE 'UPDATE%household%'";
        let started = Instant::now();
        loop {
            let row = outside.query_one_raw(Statement::from_string(DbBackend::Postgres, locked)).await.unwrap();
            if row.unwrap().try_get::<i64>("", "n").unwrap() > 0 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "the edit never reached the held row");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The pool's one connection waits on the row: a read gives up after the acquire timeout…
        let gave_up = app.gql(read, json!({ "u": u })).await;
        // …and the next one gets the connection once the row is let go, 0.5 s after it asked.
        let waiter = app.gql(read, json!({ "u": u }));
        let release = async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            holder.commit().await.unwrap();
        };
        let (served, _) = tokio::join!(waiter, release);
        (gave_up, served)
    };
    let (edited, (gave_up, served)) = tokio::join!(edit, meanwhile);
    assert!(edited["errors"].is_null(), "{edited:#}");
    assert_eq!(gave_up["errors"][0]["extensions"]["code"], "UNAVAILABLE", "{gave_up:#}");
    assert!(served["errors"].is_null(), "{served:#}");

    let after = parsed(&app).await;
    let waited = value(&after, "cbss_db_pool_wait_seconds_sum", &[]).unwrap_or(0.0) - waited_before;
    assert!(waited >= 0.4, "the second read's wait is in the sum: {waited}");
    let timeouts = value(&after, "cbss_db_pool_timeouts_total", &[]).unwrap_or(0.0) - timeouts_before;
    assert!(timeouts >= 1.0, "the read that gave up is counted: {timeouts}");
}

#[tokio::test]
async fn without_a_token_setting_there_is_no_metrics_route() {
    let app = TestApp::spawn().await;
    let res = scrape(&app, Some(TOKEN)).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

/// What the test binary's one logger recorded, from its first use on: the JSON log lines, and
/// the spans it exported to an OTLP collector of its own (`collector`).
struct Observed {
    log: Arc<Mutex<Vec<u8>>>,
    spans: Arc<Mutex<Vec<u8>>>,
    exporter: opentelemetry_sdk::trace::SdkTracerProvider,
}

fn observed() -> &'static Observed {
    static OBSERVED: OnceLock<Observed> = OnceLock::new();
    OBSERVED.get_or_init(|| {
        use tracing_subscriber::Layer;
        use tracing_subscriber::layer::SubscriberExt;
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let filter = cbss::telemetry::EnvFilter::new("warn,cbss=info");
        let (addr, spans) = collector();
        let (layer, exporter) = cbss::telemetry::otlp_layer(&format!("http://{addr}")).expect("an OTLP exporter");
        // Each output filters on its own (as `init_logs` sets them up).
        let traced = cbss::telemetry::EnvFilter::new("warn,cbss=info");
        let logger = cbss::telemetry::json_logs(filter, move || Sink(sink.clone())).with(layer.with_filter(traced));
        tracing::subscriber::set_global_default(logger).expect("the only logger of the test binary");
        Observed { log, spans, exporter }
    })
}

fn json_log() -> Arc<Mutex<Vec<u8>>> {
    observed().log.clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn json_log_lines_carry_their_requests_id_operation_and_user() {
    let log = json_log();
    let app = TestApp::spawn().await;
    let me = app.ok("{ me { id } }", json!({})).await["me"]["id"].as_str().unwrap().to_string();
    let id = format!("phone-{}", uuid::Uuid::new_v4().simple());
    let post = |request_id: Option<&str>| {
        let mut req = app
            .client
            .post(format!("{}/graphql", app.base))
            .bearer_auth(&app.admin_token)
            .json(&json!({ "query": "query LoggedStages { lifeStages { code } }" }));
        if let Some(r) = request_id {
            req = req.header("x-request-id", r);
        }
        req.send()
    };
    let res = post(Some(&id)).await.unwrap();
    assert_eq!(res.headers()["x-request-id"], id.as_str(), "the client's id comes back");
    // Without one (or with one that is not a plain token) the service makes one.
    let made = post(None).await.unwrap().headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(made.len(), 36, "{made}");
    let refused = post(Some("two words")).await.unwrap().headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(refused, "two words");

    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|l: &Value| l["span"]["request_id"] == id.as_str())
        .collect();
    let done = lines.iter().find(|l| l["message"] == "request").unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(done["level"], "INFO");
    assert_eq!(done["status"], 200);
    assert_eq!(done["code"], "OK");
    assert!(done["statements"].as_u64().unwrap() >= 1, "{done}");
    assert_eq!(done["span"]["operation"], "LoggedStages");
    assert_eq!(done["span"]["user_id"], me.as_str(), "the user's id, never a name");
    assert!(!text.contains("Test administrator"), "no display name is logged");
    // A failed login's warning is a line of its own request.
    let login = "mutation { login(email: \"admin@test.mn\", password: \"wrong\") { accessToken } }";
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .header("x-request-id", format!("{id}-login"))
        .json(&json!({ "query": login }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    let warned = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["span"]["request_id"] == format!("{id}-login").as_str() && l["message"] == "login failed")
        .expect("the login's warning carries its request's id");
    // The account by a tag of its own (repeated failures show), never by its email.
    assert_eq!(warned["account"].as_str().map(str::len), Some(12), "{warned}");
    assert!(!text.contains("admin@test.mn"), "no email is logged");
}

/// An OpenTelemetry collector's OTLP/HTTP endpoint on a thread of its own: what it was sent.
fn collector() -> (std::net::SocketAddr, Arc<Mutex<Vec<u8>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let route = axum::routing::post(move |body: axum::body::Bytes| async move {
                sink.lock().unwrap().extend_from_slice(&body);
                axum::http::StatusCode::OK
            });
            let router = axum::Router::new().route("/v1/traces", route);
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap();
        });
    });
    (addr, received)
}

/// With `CBSS_OTLP_ENDPOINT` (a build with `--features otlp`) every request's span goes to the
/// collector with its request id, operation and user id.
#[tokio::test]
async fn request_spans_are_exported_to_an_otlp_collector_with_their_request_id() {
    let observed = observed();
    let app = TestApp::spawn().await;
    let id = format!("otlp-{}", uuid::Uuid::new_v4().simple());
    let res = app
        .client
        .post(format!("{}/graphql", app.base))
        .bearer_auth(&app.admin_token)
        .header("x-request-id", &id)
        .json(&json!({ "query": "query TracedStages { lifeStages { code } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    observed.exporter.force_flush().expect("the batch is sent");
    // OTLP/HTTP carries protobuf, whose strings are their UTF-8 bytes.
    let body = observed.spans.lock().unwrap().clone();
    let has = |text: &str| body.windows(text.len()).any(|w| w == text.as_bytes());
    assert!(has(&id), "the request's span carries its id ({} bytes received)", body.len());
    assert!(has("TracedStages") && has("request_id") && has("cbss"), "operation, attribute names, service name");
}
