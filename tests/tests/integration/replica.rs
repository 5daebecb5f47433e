//! Analytics on a streaming replica (`DATABASE_REPLICA_URL`): answers read from it say how fresh
//! they are, a session reads its own writes, and a replica that falls behind or does not answer
//! sends reads back to the primary. The replica is a real one (`.ci/replica.sh`, named by
//! `TEST_DATABASE_REPLICA_URL`); these tests pause its replay, so `.ci/run` runs them alone.

use crate::fixtures::{household, person, unit};
use cbss_tests::TestApp;
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{Value, json};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const COUNT: &str = "query($u: UUID!) { aggregate(entity: PEOPLE, orgUnitId: $u, groupBy: [], measures: []) {
  total { count } } }";

/// The people counted in `unit` as `token` sees them, and the answer's `extensions.freshness`.
async fn count(app: &TestApp, token: &str, unit: &str) -> (i64, Value) {
    let body = app.gql_as(Some(token), COUNT, json!({ "u": unit })).await;
    assert!(body["errors"].is_null(), "{body:#}");
    (body["data"]["aggregate"]["total"]["count"].as_i64().expect("a count"), body["extensions"]["freshness"].clone())
}

/// Whether an answer was read from the replica (one from the primary says so, or nothing, when
/// it read no roll-up).
fn on_replica(fresh: &Value) -> bool {
    assert!(fresh.is_null() || ["REPLICA", "PRIMARY"].contains(&fresh["source"].as_str().unwrap_or("")), "{fresh:#}");
    fresh["source"] == "REPLICA"
}

/// The replica's replay, paused until this is dropped (even by a failing assertion).
struct Paused(String);

impl Paused {
    async fn new(url: &str) -> Self {
        replay(url, "pg_wal_replay_pause").await;
        Paused(url.to_string())
    }
}

async fn replay(url: &str, function: &str) {
    let db = Database::connect(url).await.expect("connect to the replica");
    db.execute_raw(Statement::from_string(DbBackend::Postgres, format!("SELECT {function}()"))).await.expect(function);
    db.close().await.expect("close");
}

impl Drop for Paused {
    fn drop(&mut self) {
        let url = self.0.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(replay(&url, "pg_wal_replay_resume"));
        })
        .join();
    }
}

/// Polls `f` every 100 ms until it returns Some, for at most `limit`.
async fn within<T, F: std::future::Future<Output = Option<T>>>(limit: Duration, mut f: impl FnMut() -> F) -> T {
    let started = Instant::now();
    loop {
        if let Some(t) = f().await {
            return t;
        }
        assert!(started.elapsed() < limit, "not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn analytics_read_from_a_streaming_replica_say_how_fresh_and_a_session_reads_its_own_writes() {
    let Some(server) = cbss_tests::replica_server() else {
        eprintln!("skipped: no TEST_DATABASE_REPLICA_URL (.ci/run starts a streaming replica for this test)");
        return;
    };
    let admin = format!("{server}/postgres");
    replay(&admin, "pg_wal_replay_resume").await;
    let app = TestApp::spawn_with(|c| {
        c.replica_max_lag_ms = 3000;
        c.metrics_token = Some("replica-test-metrics-token".into());
    })
    .await;
    let bzd = unit(&app, "11-BZD").await;
    let h = household(&app, &bzd).await;
    person(&app, &h, "Анар", "MALE", "2020-05-06").await;
    // Another session of the administrator's, which writes nothing.
    let reader = app.login("admin@test.mn").await;
    // The service checks the replica twice a second: it is in use once it has been seen.
    let fresh = within(Duration::from_secs(20), || async {
        let (n, fresh) = count(&app, &reader, &bzd).await;
        assert_eq!(n, 1);
        (fresh["source"] == "REPLICA").then_some(fresh)
    })
    .await;
    let as_of: chrono::DateTime<chrono::Utc> = fresh["asOf"].as_str().unwrap().parse().unwrap();
    assert!(as_of <= chrono::Utc::now() && fresh["lagSeconds"].as_f64().unwrap() >= 0.0, "{fresh:#}");
    let scrape = app.client.get(format!("{}/metrics", app.base)).bearer_auth("replica-test-metrics-token");
    let text = scrape.send().await.unwrap().text().await.unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("cbss_replica_")).collect();
    assert!(lines.contains(&"cbss_replica_up 1"), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("cbss_replica_lag_seconds ")), "{lines:?}");
    let export = |path: String| app.client.get(format!("{}/export/{path}", app.base)).bearer_auth(&reader).send();
    let csv = export(format!("aggregate.csv?entity=PEOPLE&orgUnitId={bzd}")).await.unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(csv.headers().get("x-data-source").map(|v| v.to_str().unwrap()), Some("replica"));
    assert!(csv.headers().get("x-data-as-of").is_some());
    // An identified caller's list stays on the primary: a person erased a moment ago is never in it.
    let csv = export("people.csv".into()).await.unwrap();
    assert_eq!((csv.status().as_u16(), csv.headers().get("x-data-source")), (200, None));

    // The replica stops replaying; the administrator's own session writes.
    let paused = Paused::new(&admin).await;
    app.follow_replica.store(false, Ordering::SeqCst);
    person(&app, &h, "Сараа", "FEMALE", "2021-07-08").await;
    let written = chrono::Utc::now();
    let (n, fresh) = count(&app, &app.admin_token, &bzd).await;
    assert_eq!(
        (n, on_replica(&fresh)),
        (2, false),
        "the writer's session reads its write, from the primary: {fresh:#}"
    );
    let (n, fresh) = count(&app, &reader, &bzd).await;
    assert_eq!((n, fresh["source"].as_str()), (1, Some("REPLICA")), "another session reads the replica: {fresh:#}");
    let as_of: chrono::DateTime<chrono::Utc> = fresh["asOf"].as_str().unwrap().parse().unwrap();
    assert!(as_of < written, "it says it is older than the write: {fresh:#}");

    // Past the allowed lag (3 s), that session reads from the primary too.
    within(Duration::from_secs(20), || async {
        let (n, fresh) = count(&app, &reader, &bzd).await;
        assert_eq!(n, if on_replica(&fresh) { 1 } else { 2 }, "the primary has both, the replica one: {fresh:#}");
        (!on_replica(&fresh)).then_some(())
    })
    .await;

    // Replay resumes: the replica catches up and answers again.
    drop(paused);
    app.follow_replica.store(true, Ordering::SeqCst);
    within(Duration::from_secs(20), || async {
        let (n, fresh) = count(&app, &reader, &bzd).await;
        assert_eq!(n, 2, "{fresh:#}");
        (fresh["source"] == "REPLICA").then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_replica_that_does_not_answer_leaves_analytics_on_the_primary() {
    if cbss_tests::backend() != "postgres" {
        // A replica of SQLite is not a thing: the service refuses to start with one.
        let dir = tempfile::tempdir().unwrap();
        let mut config =
            cbss::config::Config::for_database(format!("sqlite://{}?mode=rwc", dir.path().join("c.db").display()));
        config.replica_url = Some("postgres://postgres@127.0.0.1:5433/cbss".into());
        let refused = cbss::app::build(&config).await.err().expect("refused");
        assert!(refused.to_string().contains("DATABASE_REPLICA_URL"), "{refused}");
        return;
    }
    // Nothing listens on port 1.
    let app = TestApp::spawn_with(|c| c.replica_url = Some("postgres://postgres@127.0.0.1:1/nowhere".into())).await;
    let bzd = unit(&app, "11-BZD").await;
    person(&app, &household(&app, &bzd).await, "Анар", "MALE", "2020-05-06").await;
    let reader = app.login("admin@test.mn").await;
    let (n, fresh) = count(&app, &reader, &bzd).await;
    assert_eq!((n, on_replica(&fresh)), (1, false), "{fresh:#}");
    let csv = app.client.get(format!("{}/export/people.csv", app.base)).bearer_auth(&reader).send().await.unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.headers().get("x-data-source").is_none());
}
