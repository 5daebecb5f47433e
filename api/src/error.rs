//! The one error type of the service and its one mapping to GraphQL errors with a stable
//! `extensions.code`. Database text never leaves this module: it is logged, the client gets INTERNAL
//! — except for the database's own refusals of a client's mistake (a unique or foreign-key
//! constraint, a NUL character on PostgreSQL), which answer as the store's checks before the write
//! do: see `From<DbErr>`.

use crate::store::sync::SyncedRow;
use async_graphql::ErrorExtensions;

/// A problem with one input field, named by its path in the GraphQL input (e.g. `input.birthDate`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { path: path.into(), message: message.into() }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{entity} not found")]
    NotFound { entity: &'static str },
    #[error("invalid input: {}", summary(.0))]
    Validation(Vec<FieldError>),
    /// Refused because of what is stored. `current`, when set, is the stored record the request
    /// conflicts with (a create retried with other content): a create mutation shows it in
    /// `extensions.current`, a sync item in its `record`.
    /// `path`, when set, is the input field holding the value that is taken (a unique registry
    /// number, email, name...), shown in `extensions.fields` as VALIDATION's are.
    #[error("{message}")]
    Conflict { message: String, current: Option<Box<SyncedRow>>, path: Option<String> },
    #[error("authentication required")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("no valid consent or other legal basis is recorded for this household")]
    ConsentRequired,
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// The database is away (refused, unreachable, or no connection came within
    /// `CBSS_DB_ACQUIRE_TIMEOUT_MS`): worth retrying, never the client's mistake nor a bug.
    #[error("the database is not available; try again shortly")]
    Unavailable(#[source] sea_orm::DbErr),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

fn summary(errors: &[FieldError]) -> String {
    errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect::<Vec<_>>().join("; ")
}

impl ApiError {
    pub fn not_found(entity: &'static str) -> Self {
        Self::NotFound { entity }
    }

    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(path, message)])
    }

    /// A CONFLICT without a stored record to show.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::Conflict { message: message.into(), current: None, path: None }
    }

    /// The fields named in `extensions.fields`: VALIDATION's problems, or the field holding a
    /// taken value of a CONFLICT.
    pub fn fields(&self) -> Option<Vec<FieldError>> {
        match self {
            Self::Validation(f) => Some(f.clone()),
            Self::Conflict { message, path: Some(path), .. } => Some(vec![FieldError::new(path, message)]),
            _ => None,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "NOT_FOUND",
            Self::Validation(_) => "VALIDATION",
            Self::Conflict { .. } => "CONFLICT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::ConsentRequired => "CONSENT_REQUIRED",
            Self::TooManyAttempts { .. } => "TOO_MANY_ATTEMPTS",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

/// A value the database keeps unique and a client chooses. The store checks each before it
/// writes and answers `Unique::error`; when a concurrent write won the race between that check
/// and the write, the database's own error answers exactly the same (`From<DbErr>`), so two
/// concurrent writes read like two sequential ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unique {
    /// `person.registry_number`.
    RegistryNumber,
    /// `app_user.email`.
    UserEmail,
    /// `partner.name`.
    PartnerName,
    /// `pregnancy_child.child_id`: a child is born of one pregnancy.
    ChildOfPregnancy,
}

impl Unique {
    pub const ALL: [Unique; 4] = [Self::RegistryNumber, Self::UserEmail, Self::PartnerName, Self::ChildOfPregnancy];

    /// How the databases name the constraint: SQLite's message ends with its columns, PostgreSQL's
    /// quotes the constraint's name.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::RegistryNumber => ("person.registry_number", "person_registry_number_key"),
            Self::UserEmail => ("app_user.email", "app_user_email_key"),
            Self::PartnerName => ("partner.name", "partner_name_key"),
            Self::ChildOfPregnancy => ("pregnancy_child.child_id", "pregnancy_child_child_id_key"),
        }
    }

    /// The input field and the message of the CONFLICT.
    fn answer(self) -> (&'static str, &'static str) {
        match self {
            Self::RegistryNumber => ("input.registryNumber", "another person has this registry number"),
            Self::UserEmail => ("input.email", "a user with this email exists"),
            Self::PartnerName => ("name", "a partner with this name exists"),
            Self::ChildOfPregnancy => ("input.childIds", "a child is already linked to another pregnancy"),
        }
    }

    /// The CONFLICT the check and the constraint both answer.
    pub fn error(self) -> ApiError {
        let (path, message) = self.answer();
        ApiError::Conflict { message: message.into(), current: None, path: Some(path.into()) }
    }

    /// The unique constraint a database message is about, among these.
    fn of(message: &str) -> Option<Unique> {
        Self::ALL.into_iter().find(|u| {
            let (sqlite, postgres) = u.names();
            message.strip_prefix("UNIQUE constraint failed: ") == Some(sqlite)
                || message.contains(&format!("\"{postgres}\""))
        })
    }
}

/// The SQLSTATE (PostgreSQL) or extended result code (SQLite) of a database's error, if it is one.
fn db_code(e: &sea_orm::DbErr) -> Option<String> {
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::Exec(RuntimeErr::SqlxError(x)) | DbErr::Query(RuntimeErr::SqlxError(x)) => match &**x {
            sea_orm::sqlx::Error::Database(d) => d.code().map(|c| c.into_owned()),
            _ => None,
        },
        _ => None,
    }
}

/// The database's errors that are a client's mistake the store's checks did not catch first (a
/// race, or a check missing) answer as the client's mistake: a unique constraint is a CONFLICT (the
/// check's own answer for the values in `Unique`), a foreign key a VALIDATION, a NUL character in
/// text (which PostgreSQL refuses and SQLite stores; every text input refuses it before) a
/// VALIDATION. Everything else is INTERNAL. The database's text is only logged.
impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        use sea_orm::SqlErr;
        if database_away(&e) {
            if pool_timed_out(&e) {
                metrics::counter!("cbss_db_pool_timeouts_total").increment(1);
            }
            tracing::warn!(error = %e, "the database is not available");
            return Self::Unavailable(e);
        }
        let answer = match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(m)) => Some(match Unique::of(&m) {
                Some(u) => u.error(),
                None => Self::conflict("a record with this id or one of these values exists"),
            }),
            Some(SqlErr::ForeignKeyConstraintViolation(_)) => {
                Some(Self::invalid("input", "refers to a record that does not exist"))
            }
            // 22021 character_not_in_repertoire: PostgreSQL's answer to a NUL in text.
            _ if db_code(&e).as_deref() == Some("22021") => {
                Some(Self::invalid("input", "text must not contain the NUL character (U+0000)"))
            }
            _ => None,
        };
        match answer {
            Some(a) => {
                tracing::warn!(error = %e, code = a.code(), "the database refused a write");
                a
            }
            None => Self::Internal(e.into()),
        }
    }
}

/// Whether no pooled connection came within the acquire timeout (the pool is too small for the
/// load, or the database too slow to give connections back).
fn pool_timed_out(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
    match e {
        DbErr::ConnectionAcquire(ConnAcquireErr::Timeout) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            matches!(**s, Sqlx::PoolTimedOut)
        }
        _ => false,
    }
}

/// Whether a database error says the database is away rather than that a statement failed: no
/// connection within the acquire timeout, the connection itself broke, a deadlock was broken by
/// rolling this write back, or (SQLite) the database stayed locked by another writer for the
/// whole busy timeout. Each is worth retrying.
fn database_away(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    use sea_orm::{DbErr, RuntimeErr};
    let broken = match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(s)) | DbErr::Query(RuntimeErr::SqlxError(s)) => {
            matches!(**s, Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed | Sqlx::Tls(_))
        }
        _ => false,
    };
    // PostgreSQL shutting down or starting (57P01-57P03), a broken connection (class 08), a
    // deadlock between two writers that PostgreSQL ended by rolling this one back (40P01), or a
    // replica's query cancelled by a conflict with the changes it replays (40001).
    let retry = |c: String| c.starts_with("57P") || c.starts_with("08") || c == "40P01" || c == "40001";
    broken || db_code(e).is_some_and(retry) || sqlite_busy(e)
}

/// Whether SQLite answered SQLITE_BUSY (5) or SQLITE_LOCKED (6), in any of their extended codes
/// (the primary code is the low byte): another connection or process held the lock too long.
/// The service's own writers take turns (`db::write_turn`), so this is another process's long
/// write, or a lock not yet given back: UNAVAILABLE, worth retrying, rather than INTERNAL.
fn sqlite_busy(e: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::sqlite::SqliteError;
    use sea_orm::{DbErr, RuntimeErr};
    let (DbErr::Exec(RuntimeErr::SqlxError(x))
    | DbErr::Query(RuntimeErr::SqlxError(x))
    | DbErr::Conn(RuntimeErr::SqlxError(x))) = e
    else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(d) = &**x else { return false };
    d.try_downcast_ref::<SqliteError>().is_some()
        && d.code().and_then(|c| c.parse::<i32>().ok()).is_some_and(|c| matches!(c & 0xff, 5 | 6))
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(e: sea_orm::TransactionError<ApiError>) -> Self {
        match e {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(api) => api,
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(e: ApiError) -> Self {
        e.into_graphql(None)
    }
}

impl ApiError {
    /// The GraphQL error; `current` is a CONFLICT's stored record as the failed field would have
    /// shown it (see `graphql::mutation::created`), set as `extensions.current`.
    pub fn into_graphql(self, current: Option<async_graphql::Value>) -> async_graphql::Error {
        let e = self;
        if let ApiError::Internal(cause) = &e {
            tracing::error!(error = ?cause, "internal error");
        }
        let fields = e.fields();
        let retry_after = match &e {
            ApiError::TooManyAttempts { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        };
        async_graphql::Error::new(e.to_string()).extend_with(|_, ext| {
            ext.set("code", e.code());
            if let Some(secs) = retry_after {
                ext.set("retryAfter", secs);
            }
            if let Some(current) = current {
                ext.set("current", current);
            }
            if let Some(fields) = &fields {
                let list: Vec<async_graphql::Value> = fields
                    .iter()
                    .map(|f| {
                        let mut m = async_graphql::indexmap::IndexMap::new();
                        m.insert(async_graphql::Name::new("path"), async_graphql::Value::from(f.path.clone()));
                        m.insert(async_graphql::Name::new("message"), async_graphql::Value::from(f.message.clone()));
                        async_graphql::Value::Object(m)
                    })
                    .collect();
                ext.set("fields", list);
            }
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// A by-id read's answer with "not there (for you)" as `None`, for fields that answer null.
pub fn found<T>(read: ApiResult<T>) -> ApiResult<Option<T>> {
    match read {
        Ok(v) => Ok(Some(v)),
        Err(ApiError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Collects field errors so a write reports every problem at once, not only the first.
#[derive(Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(path, message));
    }

    pub fn check(&mut self, ok: bool, path: &str, message: &str) {
        if !ok {
            self.add(path, message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn extend(&mut self, other: Problems) {
        self.0.extend(other.0);
    }

    pub fn into_result(self) -> ApiResult<()> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.0)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ConnectOptions, ConnectionTrait, Database, TransactionTrait};

    /// A write that finds the database locked by another connection for the whole busy timeout
    /// (here none) is worth retrying: UNAVAILABLE, not INTERNAL.
    #[tokio::test]
    async fn a_sqlite_database_locked_too_long_is_unavailable() {
        let file = std::env::temp_dir().join(format!("cbss-busy-{}.db", uuid::Uuid::now_v7()));
        let connect = || {
            let mut opts = ConnectOptions::new(format!("sqlite://{}?mode=rwc", file.display()));
            opts.max_connections(1).map_sqlx_sqlite_opts(|o| o.busy_timeout(std::time::Duration::ZERO));
            Database::connect(opts)
        };
        let (holder, other) = (connect().await.unwrap(), connect().await.unwrap());
        holder.execute_unprepared("CREATE TABLE t (x INTEGER)").await.unwrap();
        let txn = holder.begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO t VALUES (1)").await.unwrap();
        let refused = other.execute_unprepared("INSERT INTO t VALUES (2)").await.unwrap_err();
        assert!(sqlite_busy(&refused), "{refused:?}");
        assert_eq!(ApiError::from(refused).code(), "UNAVAILABLE");
        txn.rollback().await.unwrap();
        let (_, _) = (holder.close().await, other.close().await);
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
        }
    }
}
