//! The one error type of the service and its one mapping to GraphQL errors with a stable
//! `extensions.code`. Database text never leaves this module: it is logged, the client gets INTERNAL.

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
    #[error("{message}")]
    Conflict { message: String, current: Option<Box<SyncedRow>> },
    #[error("authentication required")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("no valid consent or other legal basis is recorded for this household")]
    ConsentRequired,
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
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
        Self::Conflict { message: message.into(), current: None }
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
            Self::Internal(_) => "INTERNAL",
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
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
        let fields = match &e {
            ApiError::Validation(f) => Some(f.clone()),
            _ => None,
        };
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

    pub fn into_result(self) -> ApiResult<()> {
        if self.0.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.0)) }
    }
}
