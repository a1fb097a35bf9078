//! Server errors. Each maps to an HTTP status and a stable machine code; bad input is always a 4xx.

use jiceng_core::CoreError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error(
        "missing or malformed Authorization header; send 'Authorization: Bearer <site token>'"
    )]
    MissingToken,
    #[error("unknown or revoked site token; re-enrol this desktop with a new code from the district admin")]
    BadToken,
    #[error(
        "enrolment code unknown, already used or expired; ask the district admin for a new one"
    )]
    BadCode,
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("unknown table {0:?}")]
    UnknownTable(String),
    #[error("unknown field {0:?}")]
    UnknownField(String),
    #[error("value of {0} has the wrong type")]
    BadValue(String),
    #[error("operation {seq}: {reason}")]
    BadOperation { seq: u64, reason: String },
    #[error("operation {seq} is outside this site's write scope: {reason}")]
    OutOfScope { seq: u64, reason: String },
    #[error("operation {seq} was already received with a different content (cloned or restored database?); the district admin must re-initialise this site")]
    HashMismatch { seq: u64 },
    #[error("operations must follow on from site_seq {expected}; got {got}. Push the log in order from the first unacknowledged operation")]
    Gap { expected: u64, got: u64 },
    #[error("operation {seq} was written by schema version {version}; this server knows up to {known}. Upgrade the server")]
    UpgradeServer { seq: u64, version: u32, known: u32 },
    #[error("{0} not found")]
    NotFound(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("this path does not take that method; see schema/openapi.json")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    #[error(
        "request body is too large; push at most {0} bytes per request (send smaller batches)"
    )]
    TooLarge(usize),
    #[error("master store error: {0}")]
    Store(String),
    /// PostgreSQL broke a lock cycle (or a serialization failure) between two writers; the write
    /// did nothing and can be sent again.
    #[error("the master was writing the same records for another request; nothing was written, send again ({0})")]
    Contended(String),
    #[error("{0}")]
    Unsupported(String),
    /// A sync bundle (USB) refused (issue 10 §7): tampered, foreign, another site's, unreadable.
    #[error(transparent)]
    Bundle(#[from] jiceng_core::bundle::BundleError),
    #[error("this desktop was revoked by the district (at {at_ms} ms since 1970); it cannot sync any more. Its unsent work stays on it: export it to a sync bundle for the district, or ask for a new enrolment code")]
    SiteRevoked { at_ms: u64 },
    #[error("bundle_unknown_site: the bundle names site {0}, which is not enrolled at this server (revoked, never enrolled, or from another district)")]
    BundleUnknownSite(String),
    /// Readiness (issue 14 §2): the master cannot be read now.
    #[error("not ready: {0}")]
    NotReady(String),
}

impl ServerError {
    pub fn code(&self) -> &'static str {
        match self {
            ServerError::MissingToken => "missing_token",
            ServerError::BadToken => "bad_token",
            ServerError::BadCode => "bad_code",
            ServerError::BadRequest(_) => "bad_request",
            ServerError::UnknownTable(_) => "unknown_table",
            ServerError::UnknownField(_) => "unknown_field",
            ServerError::BadValue(_) => "bad_value",
            ServerError::BadOperation { .. } => "bad_operation",
            ServerError::OutOfScope { .. } => "out_of_scope",
            ServerError::HashMismatch { .. } => "hash_mismatch",
            ServerError::Gap { .. } => "sequence_gap",
            ServerError::UpgradeServer { .. } => "upgrade_server",
            ServerError::NotFound(_) => "not_found",
            ServerError::Forbidden(_) => "forbidden",
            ServerError::MethodNotAllowed => "method_not_allowed",
            ServerError::Conflict(_) => "conflict",
            ServerError::TooLarge(_) => "body_too_large",
            ServerError::Store(_) => "store_error",
            ServerError::Contended(_) => "contended",
            ServerError::Unsupported(_) => "unsupported",
            ServerError::Bundle(e) => e.code(),
            ServerError::BundleUnknownSite(_) => "bundle_unknown_site",
            ServerError::SiteRevoked { .. } => "site_revoked",
            ServerError::NotReady(_) => "not_ready",
        }
    }

    /// HTTP status: 4xx for anything the caller can fix, 5xx only for the server's own storage failing.
    pub fn status(&self) -> u16 {
        match self {
            ServerError::MissingToken | ServerError::BadToken | ServerError::BadCode => 401,
            ServerError::BadRequest(_) | ServerError::BadOperation { .. } => 400,
            ServerError::UnknownTable(_)
            | ServerError::UnknownField(_)
            | ServerError::BadValue(_) => 422,
            ServerError::OutOfScope { .. } => 403,
            ServerError::NotFound(_) => 404,
            ServerError::Forbidden(_) => 403,
            ServerError::MethodNotAllowed => 405,
            ServerError::HashMismatch { .. }
            | ServerError::Gap { .. }
            | ServerError::UpgradeServer { .. }
            | ServerError::Conflict(_) => 409,
            ServerError::TooLarge(_) => 413,
            ServerError::Store(_) | ServerError::NotReady(_) | ServerError::Contended(_) => 503,
            ServerError::Unsupported(_) => 501,
            ServerError::Bundle(jiceng_core::bundle::BundleError::Signature(_))
            | ServerError::Bundle(jiceng_core::bundle::BundleError::SiteMismatch { .. }) => 403,
            ServerError::Bundle(_) => 422,
            ServerError::BundleUnknownSite(_) => 403,
            ServerError::SiteRevoked { .. } => 401,
        }
    }
}

impl From<rusqlite::Error> for ServerError {
    fn from(e: rusqlite::Error) -> Self {
        ServerError::Store(e.to_string())
    }
}

impl From<postgres::Error> for ServerError {
    fn from(e: postgres::Error) -> Self {
        // The database's own message (a constraint, a lost connection), never a row's content.
        let detail = e
            .as_db_error()
            .map(|db| format!("{}: {}", db.code().code(), db.message()))
            .unwrap_or_else(|| e.to_string());
        let code = e.code();
        if code == Some(&postgres::error::SqlState::T_R_DEADLOCK_DETECTED)
            || code == Some(&postgres::error::SqlState::T_R_SERIALIZATION_FAILURE)
        {
            return ServerError::Contended(format!("postgresql: {detail}"));
        }
        // A master row another push created while this one merged it as new: that push committed
        // first (the insert waited for it), and this one is staged again over the row it wrote.
        if code == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
            && e.as_db_error().and_then(|db| db.constraint()) == Some("master_row_pkey")
        {
            return ServerError::Contended(format!(
                "postgresql: another push created the same row at the same moment ({detail})"
            ));
        }
        ServerError::Store(format!("postgresql: {detail}"))
    }
}

impl From<CoreError> for ServerError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Invalid { reason, field, .. } => {
                ServerError::BadRequest(format!("{field}: {reason}"))
            }
            CoreError::NotFound(what) => ServerError::NotFound(what.to_string()),
            CoreError::IdNumber(e) => ServerError::BadRequest(e.to_string()),
            other => ServerError::Store(other.to_string()),
        }
    }
}

pub type Result<T, E = ServerError> = std::result::Result<T, E>;
