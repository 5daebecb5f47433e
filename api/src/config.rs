//! Configuration, all from the environment (or the same-named flags), in one struct.

pub use crate::telemetry::LogFormat;
use std::net::SocketAddr;
use std::time::Duration;

/// The embedded database a newcomer gets with no configuration at all.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/cbss.db?mode=rwc";

/// Where the service runs (`CBSS_ENV`): a closed set.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Env {
    Development,
    Production,
}

#[derive(clap::Args, Clone, Debug)]
pub struct Config {
    /// sqlite://PATH?mode=rwc or postgres://USER@HOST/DB. The default SQLite file is created,
    /// with its folder, when missing, and filled with demo data when empty.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
    /// Address the HTTP server listens on.
    #[arg(long, env = "CBSS_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: SocketAddr,
    /// Log filter (tracing's EnvFilter syntax).
    #[arg(long, env = "CBSS_LOG", default_value = "info,sqlx=warn,sea_orm=warn", global = true)]
    pub log: String,
    /// `text` for a terminal, `json` for a log collector: one object a line, each carrying its
    /// request's id, operation and user id.
    #[arg(long, env = "CBSS_LOG_FORMAT", value_enum, ignore_case = true, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Requests that take longer than this many milliseconds are logged as warnings, with their
    /// statement count and database time.
    #[arg(long, env = "CBSS_SLOW_REQUEST_MS", default_value_t = 1000, global = true)]
    pub slow_request_ms: u64,
    /// The bearer token a Prometheus scraper presents on `GET /metrics`; without it there is no
    /// `/metrics` (404).
    #[arg(long, env = "CBSS_METRICS_TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,
    /// A streaming replica of the database (PostgreSQL), for analytics: coverage, aggregates,
    /// exports and de-identified callers' queries read from it while it keeps up; writes, and a
    /// session's reads until the replica has its writes, stay on the primary.
    #[arg(long, env = "DATABASE_REPLICA_URL", hide_env_values = true, global = true)]
    pub replica_url: Option<String>,
    /// Milliseconds the replica may lag behind the primary before reads go back to the primary.
    #[arg(long, env = "CBSS_REPLICA_MAX_LAG_MS", default_value_t = 30_000, global = true)]
    pub replica_max_lag_ms: u64,
    /// An OpenTelemetry collector's OTLP/HTTP address (e.g. `http://collector:4318`): every
    /// request's span is exported there. Needs a build with `--features otlp`; off by default.
    #[arg(long, env = "CBSS_OTLP_ENDPOINT", global = true)]
    pub otlp_endpoint: Option<String>,
    /// Size of the database connection pool.
    #[arg(long, env = "CBSS_DB_MAX_CONNECTIONS", default_value_t = 10, global = true)]
    pub db_max_connections: u32,
    /// Milliseconds a request waits for a database connection before it is answered
    /// UNAVAILABLE (503): a database that is away is said at once, not after the request timeout.
    #[arg(long, env = "CBSS_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 2000, global = true)]
    pub db_acquire_timeout_ms: u64,
    /// Seconds the service keeps trying to reach the database at start, with growing pauses,
    /// before it gives up (0: one try).
    #[arg(long, env = "CBSS_DB_CONNECT_RETRY_SECS", default_value_t = 30, global = true)]
    pub db_connect_retry_secs: u64,
    /// GraphQL requests executed at once; more wait their turn, in order (default: twice the
    /// CPU cores). Many more than the cores only add task switching and connection contention:
    /// on 2 cores, 32 at once served a page of people at half the rate of 4 at once.
    #[arg(long, env = "CBSS_MAX_CONCURRENT_REQUESTS", global = true)]
    pub max_concurrent_requests: Option<usize>,
    /// Seconds a request may take before it is answered 408; also PostgreSQL's statement timeout.
    #[arg(long, env = "CBSS_REQUEST_TIMEOUT_SECS", default_value_t = 30, global = true)]
    pub request_timeout_secs: u64,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CBSS_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024, global = true)]
    pub max_body_bytes: usize,
    /// Most items one `syncPush` batch may carry.
    #[arg(long, env = "CBSS_SYNC_MAX_ITEMS", default_value_t = 1000, global = true)]
    pub sync_max_items: usize,
    /// Whether aggregates read the roll-ups (`store::rollup`) where they answer the question:
    /// the same counts, without reading every row. `false` counts the rows every time (the
    /// roll-ups are still kept).
    #[arg(long, env = "CBSS_ROLLUPS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub rollups: bool,
    /// Whether pages of people are answered from a plan of their selection (`graphql::plan`):
    /// the same answers, without the executor's work per field. `false` executes every field.
    #[arg(long, env = "CBSS_PLANNER", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub planner: bool,
    /// `production` refuses to start without CBSS_JWT_SECRET, and turns off introspection and
    /// field suggestions; `development` is the default. Any other value refuses to start: a typo
    /// (`prod`) must not silently run a production server in development mode.
    #[arg(long, env = "CBSS_ENV", value_enum, ignore_case = true, default_value_t = Env::Development, global = true)]
    pub env: Env,
    /// The secret every key is derived from (at least 32 bytes). Without it, development runs
    /// make a random one at start, so tokens do not survive a restart.
    #[arg(long, env = "CBSS_JWT_SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,
    /// Proxies whose `X-Forwarded-For` is believed (IP addresses or CIDR ranges, comma-separated):
    /// behind them, a client's address (login throttling, the audit log) is the last one the
    /// header names that is not itself such a proxy. None by default: the header is ignored.
    #[arg(long, env = "CBSS_TRUSTED_PROXIES", value_delimiter = ',', global = true)]
    pub trusted_proxies: Vec<crate::transport::Proxy>,
    /// Origins allowed to call the API from a browser, comma-separated (none by default).
    #[arg(long, env = "CBSS_CORS_ORIGINS", value_delimiter = ',', global = true)]
    pub cors_origins: Vec<String>,
    /// Password of the demo users created with the demo data.
    #[arg(long, env = "CBSS_DEMO_PASSWORD", default_value = "demo-password", hide_env_values = true, global = true)]
    pub demo_password: String,
}

impl Config {
    /// The scraper's token, when metrics are served (an empty setting serves none).
    pub fn metrics_token(&self) -> Option<&str> {
        self.metrics_token.as_deref().filter(|t| !t.is_empty())
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs)
    }

    /// GraphQL requests executed at once (`max_concurrent_requests`, or four times the cores:
    /// on 2 cores 8 at once read ~9% more people by id a second than 4, and a mixed load ~10%
    /// more, while the few coverage answers in that mix waited longer, p99 169 → 361 ms).
    pub fn concurrency(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        self.max_concurrent_requests.unwrap_or(4 * cores).max(1)
    }

    pub fn is_production(&self) -> bool {
        self.env == Env::Production
    }

    /// The keys, from CBSS_JWT_SECRET; in production a missing or short secret is an error.
    pub fn keys(&self) -> anyhow::Result<crate::auth::Keys> {
        use crate::auth::keys::{Keys, MIN_SECRET_BYTES};
        match &self.jwt_secret {
            Some(s) if s.len() >= MIN_SECRET_BYTES => Ok(Keys::from_secret(s.as_bytes())),
            Some(_) => anyhow::bail!("CBSS_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes"),
            None if self.is_production() => {
                anyhow::bail!("CBSS_ENV=production needs CBSS_JWT_SECRET (at least {MIN_SECRET_BYTES} bytes)")
            }
            None => {
                tracing::warn!("no CBSS_JWT_SECRET: using a random key; tokens end with this process");
                Ok(Keys::ephemeral())
            }
        }
    }

    pub fn is_default_database(&self) -> bool {
        self.database_url == DEFAULT_DATABASE_URL
    }

    /// A configuration for tests and tools: defaults, with this database.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            bind: ([127, 0, 0, 1], 0).into(),
            log: "warn".into(),
            log_format: LogFormat::Text,
            slow_request_ms: 1000,
            metrics_token: None,
            replica_url: None,
            replica_max_lag_ms: 30_000,
            otlp_endpoint: None,
            db_max_connections: 5,
            db_acquire_timeout_ms: 2000,
            db_connect_retry_secs: 0,
            max_concurrent_requests: None,
            request_timeout_secs: 30,
            max_body_bytes: 4 * 1024 * 1024,
            sync_max_items: 1000,
            rollups: true,
            planner: true,
            env: Env::Development,
            jwt_secret: Some("test secret, not for production use!!".into()),
            cors_origins: vec![],
            trusted_proxies: vec![],
            demo_password: "demo-password".into(),
        }
    }
}
