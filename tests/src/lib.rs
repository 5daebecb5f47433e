//! Test support: `TestApp::spawn()` serves the real router on 127.0.0.1:0 against a fresh database
//! of its own — a temporary SQLite file, or a new PostgreSQL database on the server named by
//! `TEST_DATABASE_URL` (created here, dropped when the test ends). With
//! `TEST_DATABASE_REPLICA_URL` (a streaming replica of that server: `.ci/replica.sh`) the app
//! reads analytics from the replica's copy, and every request first waits until the replica has
//! replayed everything written so far (`settle_replica`), so answers do not depend on its lag.

pub mod introspection;
pub mod own_postgres;

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

/// Password of the users tests create, and of the demo users the demo data brings.
pub const PASSWORD: &str = "demo-password";

pub struct TestApp {
    pub base: String,
    /// An administrator's access token, sent by `gql`, `ok` and `err`.
    pub admin_token: String,
    /// The service's keys, to forge tokens that differ from real ones in one respect.
    pub keys: std::sync::Arc<cbss::auth::Keys>,
    pub client: reqwest::Client,
    pub statements: cbss::db::StatementCounter,
    /// Pages of people this app answered from their plan (`cbss::graphql::plan`).
    pub planned: std::sync::Arc<std::sync::atomic::AtomicU64>,
    pub db: sea_orm::DatabaseConnection,
    /// The database's URL, for another instance on the same database (`another_instance`).
    url: String,
    /// The replica's copy of the database (`TEST_DATABASE_REPLICA_URL`), connected when first used.
    replica_url: Option<String>,
    replica: tokio::sync::OnceCell<sea_orm::DatabaseConnection>,
    /// Whether requests wait for the replica to catch up first (a test that stops its replay
    /// turns this off).
    pub follow_replica: std::sync::atomic::AtomicBool,
    _guard: DbGuard,
}

enum DbGuard {
    /// A database the test owns itself (e.g. on its own server).
    Given,
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        server: String,
        name: String,
    },
    /// Another instance's: the first one's guard removes the database.
    Shared,
}

impl Drop for DbGuard {
    fn drop(&mut self) {
        if let DbGuard::Postgres { server, name } = self {
            let (server, name) = (server.clone(), name.clone());
            // Drop runs inside the test's runtime: do the async work on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async {
                    if let Ok(db) = Database::connect(format!("{server}/postgres")).await {
                        let _ =
                            db.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await;
                        let _ = db.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// The streaming replica of the PostgreSQL server the suite runs on, if any.
pub fn replica_server() -> Option<String> {
    std::env::var("TEST_DATABASE_REPLICA_URL").ok().filter(|u| !u.is_empty()).map(|u| u.trim_end_matches('/').into())
}

/// Which database the suite runs against, for messages.
pub fn backend() -> &'static str {
    if std::env::var("TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty()) { "postgres" } else { "sqlite" }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like `spawn`, with the configuration adjusted first (production mode, CORS origins...).
    pub async fn spawn_with(adjust: impl FnOnce(&mut cbss::config::Config)) -> Self {
        let (url, guard) = match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(server) => {
                let server = server.trim_end_matches('/').to_string();
                let name = format!("cbss_t_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(format!("{server}/postgres")).await.expect("connect to PostgreSQL");
                admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("create test database");
                admin.close().await.expect("close");
                let replica = replica_server().map(|r| format!("{r}/{name}"));
                return Self::spawn_on(format!("{server}/{name}"), DbGuard::Postgres { server, name }, replica, adjust)
                    .await;
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("cbss.db").display());
                (url, DbGuard::Sqlite(dir))
            }
        };
        Self::spawn_on(url, guard, None, adjust).await
    }

    /// An app on a database the test made itself, e.g. on a server of its own (`own_postgres`);
    /// the database is left in place afterwards.
    pub async fn spawn_at(url: String, adjust: impl FnOnce(&mut cbss::config::Config)) -> Self {
        Self::spawn_on(url, DbGuard::Given, None, adjust).await
    }

    async fn spawn_on(
        url: String,
        guard: DbGuard,
        replica_url: Option<String>,
        adjust: impl FnOnce(&mut cbss::config::Config),
    ) -> Self {
        let mut config = cbss::config::Config::for_database(url.clone());
        config.replica_url = replica_url.clone();
        adjust(&mut config);
        let (app, addr) = Self::serve(&config).await;
        let store = cbss::store::Store::new(app.db.clone(), cbss::access::Principal::system(), app.keys.clone());
        store
            .create_user(cbss::store::NewUser {
                email: "admin@test.mn".into(),
                display_name: "Test administrator".into(),
                password: PASSWORD.into(),
                roles: vec![cbss::domain::vocab::Role::Admin],
                capture_unit_ids: vec![],
                view_unit_ids: vec![],
                partner_id: None,
            })
            .await
            .expect("create the test administrator");
        let mut app = TestApp {
            base: format!("http://{addr}"),
            admin_token: String::new(),
            keys: app.keys.clone(),
            // Plain: no automatic decompression, so a test sees the response's own headers (and
            // asks for an encoding with a header of its own); `exports` builds decoding clients.
            client: reqwest::Client::builder().no_gzip().no_brotli().no_deflate().build().expect("client"),
            statements: app.statements,
            planned: app.planned,
            db: app.db,
            url,
            replica_url,
            replica: tokio::sync::OnceCell::new(),
            follow_replica: std::sync::atomic::AtomicBool::new(true),
            _guard: guard,
        };
        app.admin_token = app.login("admin@test.mn").await;
        app
    }

    async fn serve(config: &cbss::config::Config) -> (cbss::app::App, std::net::SocketAddr) {
        let app = cbss::app::build(config).await.expect("build app");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let service = app.router.clone().into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, service).await;
        });
        (app, addr)
    }

    /// A second server on this app's database, with the same keys and caches of its own: another
    /// instance behind the same load balancer. Its `admin_token` is this app's.
    pub async fn another_instance(&self) -> TestApp {
        self.another_instance_with(|_| {}).await
    }

    /// Like `another_instance`, with its configuration adjusted first.
    pub async fn another_instance_with(&self, adjust: impl FnOnce(&mut cbss::config::Config)) -> TestApp {
        let mut config = cbss::config::Config::for_database(self.url.clone());
        adjust(&mut config);
        let (app, addr) = Self::serve(&config).await;
        TestApp {
            base: format!("http://{addr}"),
            admin_token: self.admin_token.clone(),
            keys: app.keys.clone(),
            client: reqwest::Client::new(),
            statements: app.statements,
            planned: app.planned,
            db: app.db,
            url: self.url.clone(),
            replica_url: None,
            replica: tokio::sync::OnceCell::new(),
            follow_replica: std::sync::atomic::AtomicBool::new(false),
            _guard: DbGuard::Shared,
        }
    }

    /// A pool of the test's own on this app's database, beside the app's: to hold a lock while the
    /// app's pool is used up.
    pub async fn outside_pool(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(self.url.clone()).await.expect("connect to the test database")
    }

    /// Loads the demo data set (small) into this app's database.
    pub async fn seed_demo(&self, people: usize) {
        cbss::seed::demo(&self.db, people, PASSWORD).await.expect("seed demo data");
    }

    /// Logs in with the test password and returns the access token.
    pub async fn login(&self, email: &str) -> String {
        let body = self
            .gql_as(
                None,
                "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }",
                json!({ "e": email, "p": PASSWORD }),
            )
            .await;
        body["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login of {email} failed: {body:#}"))
            .to_string()
    }

    /// The replica's copy of this app's database, when the suite runs with one.
    pub async fn replica(&self) -> Option<&sea_orm::DatabaseConnection> {
        let url = self.replica_url.as_ref()?;
        let db = self
            .replica
            .get_or_init(|| async {
                // The database was just created on the primary: the replica has it a moment later.
                for _ in 0..500 {
                    if let Ok(db) = Database::connect(url.clone()).await {
                        return db;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                panic!("the replica never had the test's database");
            })
            .await;
        Some(db)
    }

    /// Waits until the replica has replayed everything written so far (at most 10 s).
    pub async fn settle_replica(&self) {
        if !self.follow_replica.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let Some(replica) = self.replica().await else { return };
        let lsn = |db: &sea_orm::DatabaseConnection, sql: &'static str| {
            let db = db.clone();
            async move {
                let row = db.query_one_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql)).await;
                row.ok().flatten().and_then(|r| r.try_get::<Option<i64>>("", "lsn").ok()).flatten().unwrap_or(0)
            }
        };
        let written = lsn(&self.db, "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS lsn").await;
        let started = std::time::Instant::now();
        while lsn(replica, "SELECT (pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint AS lsn").await < written
            && started.elapsed() < std::time::Duration::from_secs(10)
        {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    /// POSTs a GraphQL request with the given bearer token (None: anonymous).
    pub async fn gql_as(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.settle_replica().await;
        let mut req =
            self.client.post(format!("{}/graphql", self.base)).json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request").json().await.expect("json body")
    }

    /// `ok` as another user.
    pub async fn ok_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = self.gql_as(Some(token), query, variables).await;
        assert!(body.get("errors").is_none_or(|e| e.is_null()), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// `err` as another user (None: anonymous).
    pub async fn err_as(&self, token: Option<&str>, query: &str, variables: Value) -> (String, Value) {
        let body = self.gql_as(token, query, variables).await;
        let error = body["errors"][0].clone();
        assert!(!error.is_null(), "expected an error, got {body:#}");
        (error["extensions"]["code"].as_str().unwrap_or("").to_string(), error)
    }

    /// POSTs a GraphQL request as the administrator and returns the whole JSON response.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.gql_as(Some(&self.admin_token), query, variables).await
    }

    /// A request that must succeed: returns `data`, panicking with the errors otherwise.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body.get("errors").is_none_or(|e| e.is_null()), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// A request that must fail: returns the first error's `extensions.code` and the whole error.
    pub async fn err(&self, query: &str, variables: Value) -> (String, Value) {
        let body = self.gql(query, variables).await;
        let error = body["errors"][0].clone();
        assert!(!error.is_null(), "expected an error, got {body:#}");
        (error["extensions"]["code"].as_str().unwrap_or("").to_string(), error)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("request")
    }

    /// Rows in a table, counted straight from the database (to prove a rejected write changed nothing).
    pub async fn count(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("row");
        row.try_get::<i64>("", "n").expect("n")
    }
}
