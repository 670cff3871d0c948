//! The one error type every Assay service answers with, and its single mapping to gRPC.
//!
//! Caller errors carry what the caller needs to fix the request (for INVALID_ARGUMENT, every
//! bad field as a `BadRequest` field violation). Internal errors are logged with their cause
//! and answered with a bare INTERNAL that leaks nothing but an id to quote.
//!
//! Every error also carries a `google.rpc.ErrorInfo` in domain [`ERROR_DOMAIN`] with a stable
//! `reason` (the constants in [`reason`]), so that clients branch on it rather than on the
//! English text; FAILED_PRECONDITION adds a `PreconditionFailure` (and, for a refused change
//! of status, the actions the status allows), NOT_FOUND a `ResourceInfo`, errors worth
//! retrying a `RetryInfo`, INTERNAL a `RequestInfo`.

use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every Assay error.
pub const ERROR_DOMAIN: &str = "assay.dev";

/// The `ErrorInfo.reason` values: stable, UPPER_SNAKE_CASE, part of the contract.
pub mod reason {
    pub const INVALID_ARGUMENT: &str = "INVALID_ARGUMENT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const ALREADY_EXISTS: &str = "ALREADY_EXISTS";
    /// The record's state does not allow the request (see `PreconditionFailure`).
    pub const FAILED_PRECONDITION: &str = "FAILED_PRECONDITION";
    /// A change of status the current status does not allow; `ErrorInfo.metadata`
    /// `allowed_actions` lists (comma-separated) what it does allow.
    pub const INVALID_TRANSITION: &str = "INVALID_TRANSITION";
    /// The `etag` sent is not the record's: read it again.
    pub const STALE_ETAG: &str = "STALE_ETAG";
    /// Another request changed the record at the same moment: retry.
    pub const CONCURRENT_CHANGE: &str = "CONCURRENT_CHANGE";
    pub const PERMISSION_DENIED: &str = "PERMISSION_DENIED";
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// Too many calls: wait as `RetryInfo` says.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    pub const RESOURCE_EXHAUSTED: &str = "RESOURCE_EXHAUSTED";
    /// The request is larger than the RPC takes.
    pub const REQUEST_TOO_LARGE: &str = "REQUEST_TOO_LARGE";
    /// The service is starting, stopping or cannot reach what it needs: retry.
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
    pub const NOT_READY: &str = "NOT_READY";
    /// This replica has not yet caught up with the catalogue revision asked for.
    pub const CATALOGUE_BEHIND: &str = "CATALOGUE_BEHIND";
    pub const INTERNAL: &str = "INTERNAL";
}

/// How long a client should wait before retrying what is worth retrying.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(1);

/// Details for `reason`, with `metadata` (bounded like the rest of an answer).
pub fn error_info(reason: &str, metadata: &[(&str, String)]) -> ErrorDetails {
    let metadata: std::collections::HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| ((*k).to_owned(), truncate(v, MAX_DESCRIPTION)))
        .collect();
    ErrorDetails::with_error_info(reason, ERROR_DOMAIN, metadata)
}

/// A status with its `ErrorInfo` (and `RetryInfo`, where waiting helps), for errors made
/// outside the handlers: the guard, the transport, streams.
pub fn status(code: Code, reason: &str, message: impl Into<String>) -> Status {
    let mut details = error_info(reason, &[]);
    if matches!(
        code,
        Code::Unavailable | Code::ResourceExhausted | Code::Aborted
    ) {
        details.set_retry_info(Some(RETRY_AFTER));
    }
    Status::with_error_details(code, truncate(&message.into(), MAX_MESSAGE), details)
}

/// Why a request is refused in the state its record is in (FAILED_PRECONDITION).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    reason: &'static str,
    message: String,
    /// For a refused change of status: the actions the status allows.
    allowed: Vec<String>,
}

impl Refusal {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            reason: reason::FAILED_PRECONDITION,
            message: message.into(),
            allowed: Vec::new(),
        }
    }

    /// A change of status the status does not allow, and what it does allow.
    pub fn transition(message: impl Into<String>, allowed: Vec<String>) -> Self {
        Self {
            reason: reason::INVALID_TRANSITION,
            message: message.into(),
            allowed,
        }
    }

    /// The same refusal, its message prefixed (e.g. with the record it is about).
    pub fn context(mut self, prefix: impl fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }

    pub fn reason(&self) -> &'static str {
        self.reason
    }

    pub fn allowed(&self) -> &[String] {
        &self.allowed
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for Refusal {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for Refusal {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

/// A workspace-wide error code, each mapped to exactly one gRPC code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    FailedPrecondition,
    Aborted,
    PermissionDenied,
    Unauthenticated,
    ResourceExhausted,
    Unavailable,
    DeadlineExceeded,
    Internal,
}

impl ErrorCode {
    pub fn grpc(self) -> Code {
        match self {
            ErrorCode::InvalidArgument => Code::InvalidArgument,
            ErrorCode::NotFound => Code::NotFound,
            ErrorCode::AlreadyExists => Code::AlreadyExists,
            ErrorCode::FailedPrecondition => Code::FailedPrecondition,
            ErrorCode::Aborted => Code::Aborted,
            ErrorCode::PermissionDenied => Code::PermissionDenied,
            ErrorCode::Unauthenticated => Code::Unauthenticated,
            ErrorCode::ResourceExhausted => Code::ResourceExhausted,
            ErrorCode::Unavailable => Code::Unavailable,
            ErrorCode::DeadlineExceeded => Code::DeadlineExceeded,
            ErrorCode::Internal => Code::Internal,
        }
    }

    /// Whether an error with this code is our fault and must be logged as an error.
    pub fn should_log(self) -> bool {
        matches!(self, ErrorCode::Internal | ErrorCode::Unavailable)
    }
}

/// The most field violations an answer names; the rest are counted.
pub const MAX_VIOLATIONS: usize = 20;
/// The longest description of one violation, in bytes (it may quote what was sent).
const MAX_DESCRIPTION: usize = 300;
/// The longest status message, in bytes.
const MAX_MESSAGE: usize = 4096;

/// The bad fields of a request, each with what is wrong with it: the first
/// [`MAX_VIOLATIONS`], and how many there were in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldViolations {
    named: Vec<(String, String)>,
    total: usize,
}

/// `text` cut to at most `max` bytes, at a character boundary, marked when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max.saturating_sub(3);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

impl FieldViolations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.total += 1;
        if self.named.len() < MAX_VIOLATIONS {
            self.named
                .push((field.into(), truncate(&description.into(), MAX_DESCRIPTION)));
        }
    }

    /// How many violations there were, named or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Records the violation of `result`, if any, and returns its value otherwise.
    pub fn check<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(description) => {
                self.add(field, description);
                None
            }
        }
    }

    /// Checks an optional text field (a filter) unless it is empty: the checked value, or
    /// `None` for an empty or a bad one.
    pub fn check_optional<T>(
        &mut self,
        field: &str,
        value: &str,
        check: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        if value.is_empty() {
            return None;
        }
        self.check(field, check(value))
    }

    /// Merges the violations of a nested message, prefixing their field paths.
    pub fn extend_nested(&mut self, prefix: &str, nested: FieldViolations) {
        let unnamed = nested.total - nested.named.len();
        for (field, description) in nested.named {
            self.add(format!("{prefix}.{field}"), description);
        }
        self.total += unnamed;
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The named violations.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.named.iter().map(|(f, d)| (f.as_str(), d.as_str()))
    }

    /// `Ok(value)` when nothing was violated, else the INVALID_ARGUMENT error listing them.
    pub fn into_result<T>(self, value: T) -> Result<T, ApiError> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(ApiError::InvalidArgument(self))
        }
    }

    /// The checked value, or INVALID_ARGUMENT listing every violation.
    pub fn require<T>(self, value: Option<T>) -> Result<T, ApiError> {
        match value {
            Some(value) if self.is_empty() => Ok(value),
            _ => Err(ApiError::InvalidArgument(self)),
        }
    }

    /// Like [`FieldViolations::into_result`] for code that filled in `Option`s while checking:
    /// the closure runs only when there was no violation, so it may unwrap them.
    pub fn finish<T>(self, build: impl FnOnce() -> T) -> Result<T, ApiError> {
        if self.is_empty() {
            Ok(build())
        } else {
            Err(ApiError::InvalidArgument(self))
        }
    }
}

impl fmt::Display for FieldViolations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (field, description)) in self.named.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{field}: {description}")?;
        }
        let unnamed = self.total - self.named.len();
        if unnamed > 0 {
            write!(f, "; and {unnamed} more")?;
        }
        Ok(())
    }
}

/// An error answered to a caller.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid argument: {0}")]
    InvalidArgument(FieldViolations),
    #[error("{kind} {id} not found")]
    NotFound { kind: &'static str, id: String },
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    FailedPrecondition(Refusal),
    /// A concurrent change: the same request may simply be retried.
    #[error("{0}")]
    Aborted(String),
    /// The caller's etag is out of date: read the record again first.
    #[error("{kind} was changed by someone else: read it again and retry with its current etag")]
    StaleEtag { kind: &'static str },
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    ResourceExhausted(String),
    #[error("{0}")]
    Unavailable(String),
    /// A replica's copy of replicated state (its catalogue) is behind what the caller
    /// asked for: UNAVAILABLE, worth retrying.
    #[error("{0}")]
    Behind(String),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        let mut violations = FieldViolations::new();
        violations.add(field, description);
        ApiError::InvalidArgument(violations)
    }

    pub fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        ApiError::NotFound {
            kind,
            id: id.into(),
        }
    }

    pub fn precondition(refusal: impl Into<Refusal>) -> Self {
        ApiError::FailedPrecondition(refusal.into())
    }

    pub fn denied(message: impl Into<String>) -> Self {
        ApiError::PermissionDenied(message.into())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(error.into())
    }

    /// The etag a caller sent no longer matches the stored record.
    pub fn stale_etag(kind: &'static str) -> Self {
        ApiError::StaleEtag { kind }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::InvalidArgument(_) => ErrorCode::InvalidArgument,
            ApiError::NotFound { .. } => ErrorCode::NotFound,
            ApiError::AlreadyExists(_) => ErrorCode::AlreadyExists,
            ApiError::FailedPrecondition(_) => ErrorCode::FailedPrecondition,
            ApiError::Aborted(_) | ApiError::StaleEtag { .. } => ErrorCode::Aborted,
            ApiError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::ResourceExhausted(_) => ErrorCode::ResourceExhausted,
            ApiError::Unavailable(_) | ApiError::Behind(_) => ErrorCode::Unavailable,
            ApiError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        if is_serialization_failure(&error) {
            return ApiError::Aborted(
                "the record was changed concurrently: retry the request".to_owned(),
            );
        }
        if is_unique_violation(&error) {
            // Writers look before they insert, or skip what another writer stores at the
            // same moment; a unique key broken all the same was written by a concurrent
            // request between the look and the insert, and a retry finds that record. Logged,
            // as a handler that inserts one record twice would answer the same.
            tracing::warn!(%error, "a unique key was broken by a concurrent write");
            return ApiError::Aborted(
                "a concurrent request wrote the same record: retry the request".to_owned(),
            );
        }
        if is_connection_lost(&error) {
            tracing::warn!(%error, "no database connection, or one lost mid-call");
            return ApiError::Unavailable(
                "no database connection could be had just now: retry shortly".to_owned(),
            );
        }
        ApiError::Internal(error.into())
    }
}

impl From<sea_orm::TransactionError<ApiError>> for ApiError {
    fn from(error: sea_orm::TransactionError<ApiError>) -> Self {
        match error {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(api) => api,
        }
    }
}

/// PostgreSQL serialization failures and deadlocks, and SQLite's busy database, are
/// transient conflicts the caller can retry.
fn is_serialization_failure(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let database = match error {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            e.as_database_error()
        }
        _ => None,
    };
    // The SQLSTATE, where the driver has one: its message ("deadlock detected") names no code.
    if let Some(code) = database.and_then(|e| e.code()) {
        return matches!(code.as_ref(), "40001" | "40P01");
    }
    let text = error.to_string();
    text.contains("40001") || text.contains("40P01") || text.contains("database is locked")
}

/// No connection to the database, or one lost mid-call: the pool timed out or was closed,
/// the socket failed, SQLite's connection thread died, or PostgreSQL cut the connection
/// (SQLSTATE class 08, or 57P01–57P03 when it shuts down or restarts). A retry on a fresh
/// connection may succeed. As with any UNAVAILABLE, a write whose `COMMIT` was lost may
/// have landed; where the write carries a request id or an etag, a retry finds what
/// landed rather than doing it twice.
fn is_connection_lost(error: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error;
    use sea_orm::{DbErr, RuntimeErr};
    let sqlx = match error {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => e.as_ref(),
        _ => return false,
    };
    match sqlx {
        Error::Io(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed => true,
        Error::Database(e) => e.code().is_some_and(|code| {
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// True when the error is a violated unique constraint (a concurrent duplicate insert).
pub fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        let message = truncate(&error.to_string(), MAX_MESSAGE);
        let mut details = match &error {
            ApiError::InvalidArgument(violations) => {
                let mut details = error_info(
                    reason::INVALID_ARGUMENT,
                    &[("violations", violations.total().to_string())],
                );
                for (field, description) in violations.iter() {
                    details.add_bad_request_violation(field, description);
                }
                details
            }
            ApiError::NotFound { kind, id } => {
                let mut details =
                    error_info(reason::NOT_FOUND, &[("resource_type", (*kind).to_owned())]);
                details.set_resource_info(*kind, truncate(id, MAX_DESCRIPTION), "", "");
                details
            }
            ApiError::AlreadyExists(_) => error_info(reason::ALREADY_EXISTS, &[]),
            ApiError::FailedPrecondition(refusal) => {
                let metadata: Vec<(&str, String)> = if refusal.allowed.is_empty() {
                    Vec::new()
                } else {
                    vec![("allowed_actions", refusal.allowed.join(","))]
                };
                let mut details = error_info(refusal.reason, &metadata);
                let kind = if refusal.allowed.is_empty() {
                    "STATE"
                } else {
                    "STATUS"
                };
                details.add_precondition_failure_violation(
                    kind,
                    "",
                    truncate(&refusal.message, MAX_DESCRIPTION),
                );
                details
            }
            ApiError::Aborted(_) => {
                let mut details = error_info(reason::CONCURRENT_CHANGE, &[]);
                details.set_retry_info(Some(RETRY_AFTER));
                details
            }
            ApiError::StaleEtag { kind } => {
                let mut details =
                    error_info(reason::STALE_ETAG, &[("resource_type", (*kind).to_owned())]);
                details.set_resource_info(*kind, "", "", "");
                details
            }
            ApiError::PermissionDenied(_) => error_info(reason::PERMISSION_DENIED, &[]),
            ApiError::Unauthenticated(_) => error_info(reason::UNAUTHENTICATED, &[]),
            ApiError::ResourceExhausted(_) => {
                let mut details = error_info(reason::RESOURCE_EXHAUSTED, &[]);
                details.set_retry_info(Some(RETRY_AFTER));
                details
            }
            ApiError::Unavailable(_) => {
                let mut details = error_info(reason::UNAVAILABLE, &[]);
                details.set_retry_info(Some(RETRY_AFTER));
                details
            }
            ApiError::Behind(_) => {
                let mut details = error_info(reason::CATALOGUE_BEHIND, &[]);
                details.set_retry_info(Some(RETRY_AFTER));
                details
            }
            ApiError::Internal(source) => {
                // An id to quote to the operators: the trace's, or one of its own.
                let id = crate::telemetry::current_trace_id()
                    .unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
                tracing::error!(error = ?source, request_id = %id, "internal error");
                let mut details = error_info(reason::INTERNAL, &[]);
                details.set_request_info(id, "");
                details
            }
        };
        if code.should_log() && !matches!(error, ApiError::Internal(_)) {
            tracing::error!(error = %error, "request failed");
        }
        let message = match error {
            ApiError::Internal(_) => "internal error".to_owned(),
            _ => message,
        };
        if details.error_info().is_none() {
            details = error_info(reason::INTERNAL, &[]);
        }
        Status::with_error_details(code.grpc(), message, details)
    }
}

#[cfg(test)]
mod tests {
    use tonic_types::StatusExt;

    use super::*;

    #[test]
    fn invalid_argument_names_every_field() {
        let mut violations = FieldViolations::new();
        violations.add("member.legal_name", "must not be empty");
        violations.add(
            "member.country_code",
            "\"XX\" is not an ISO 3166-1 alpha-2 code",
        );
        let status = Status::from(ApiError::InvalidArgument(violations));
        assert_eq!(status.code(), Code::InvalidArgument);
        let bad_request = status
            .get_details_bad_request()
            .expect("bad request details");
        let fields: Vec<_> = bad_request
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["member.legal_name", "member.country_code"]);
        assert!(
            status
                .message()
                .contains("member.legal_name: must not be empty")
        );
    }

    #[test]
    fn answers_name_at_most_twenty_fields_and_stay_short() {
        let mut violations = FieldViolations::new();
        for i in 0..100_000 {
            violations.add(format!("statuses[{i}]"), "x".repeat(10_000));
        }
        assert_eq!(violations.total(), 100_000);
        let status = Status::from(ApiError::InvalidArgument(violations));
        let named = status.get_details_bad_request().unwrap().field_violations;
        assert_eq!(named.len(), MAX_VIOLATIONS);
        assert!(named.iter().all(|v| v.description.len() <= MAX_DESCRIPTION));
        assert!(
            status.message().len() <= MAX_MESSAGE,
            "{}",
            status.message().len()
        );
        assert!(status.message().contains("statuses[0]"));
        let mut few = FieldViolations::new();
        for i in 0..25 {
            few.add(format!("f{i}"), "bad");
        }
        assert!(few.to_string().ends_with("; and 5 more"), "{few}");
        assert_eq!(truncate("héllo", 4), "h...");
    }

    #[test]
    fn internal_errors_leak_nothing() {
        let status = Status::from(ApiError::internal(anyhow::anyhow!(
            "password authentication failed for user secret"
        )));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "internal error");
    }

    #[test]
    fn finish_runs_only_without_violations() {
        let ok = FieldViolations::new().finish(|| 7);
        assert_eq!(ok.unwrap(), 7);
        let mut bad = FieldViolations::new();
        bad.add("x", "bad");
        assert!(matches!(
            bad.finish(|| 7),
            Err(ApiError::InvalidArgument(_))
        ));
    }

    /// Every error names a stable reason a client can branch on, in Assay's domain, with
    /// the details its kind calls for.
    #[test]
    fn every_error_carries_a_reason_and_its_details() {
        let cases: Vec<(ApiError, Code, &str, bool)> = vec![
            (
                ApiError::invalid("x", "bad"),
                Code::InvalidArgument,
                reason::INVALID_ARGUMENT,
                false,
            ),
            (
                ApiError::not_found("case", "cas_1"),
                Code::NotFound,
                reason::NOT_FOUND,
                false,
            ),
            (
                ApiError::AlreadyExists("dup".into()),
                Code::AlreadyExists,
                reason::ALREADY_EXISTS,
                false,
            ),
            (
                ApiError::precondition("no"),
                Code::FailedPrecondition,
                reason::FAILED_PRECONDITION,
                false,
            ),
            (
                ApiError::Aborted("race".into()),
                Code::Aborted,
                reason::CONCURRENT_CHANGE,
                true,
            ),
            (
                ApiError::stale_etag("case"),
                Code::Aborted,
                reason::STALE_ETAG,
                false,
            ),
            (
                ApiError::denied("no"),
                Code::PermissionDenied,
                reason::PERMISSION_DENIED,
                false,
            ),
            (
                ApiError::Unauthenticated("who".into()),
                Code::Unauthenticated,
                reason::UNAUTHENTICATED,
                false,
            ),
            (
                ApiError::ResourceExhausted("slow".into()),
                Code::ResourceExhausted,
                reason::RESOURCE_EXHAUSTED,
                true,
            ),
            (
                ApiError::Unavailable("later".into()),
                Code::Unavailable,
                reason::UNAVAILABLE,
                true,
            ),
            (
                ApiError::Behind("behind".into()),
                Code::Unavailable,
                reason::CATALOGUE_BEHIND,
                true,
            ),
            (
                ApiError::internal(anyhow::anyhow!("boom")),
                Code::Internal,
                reason::INTERNAL,
                false,
            ),
        ];
        for (error, code, expected, retry) in cases {
            let status = Status::from(error);
            assert_eq!(status.code(), code);
            let info = status.get_details_error_info().expect("ErrorInfo");
            assert_eq!(
                (info.reason.as_str(), info.domain.as_str()),
                (expected, ERROR_DOMAIN)
            );
            assert_eq!(
                status.get_details_retry_info().is_some(),
                retry,
                "{expected}"
            );
        }
    }

    #[test]
    fn a_database_out_of_reach_is_a_retry_and_other_failures_are_internal() {
        use std::sync::Arc;

        use sea_orm::sqlx::Error;
        use sea_orm::{ConnAcquireErr, DbErr, RuntimeErr};
        let sqlx = |e: Error| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)));
        let lost = [
            DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
            sqlx(Error::PoolTimedOut),
            sqlx(Error::PoolClosed),
            sqlx(Error::WorkerCrashed),
            sqlx(Error::Io(std::io::ErrorKind::BrokenPipe.into())),
        ];
        for error in lost {
            let text = error.to_string();
            assert_eq!(
                ApiError::from(error).code(),
                ErrorCode::Unavailable,
                "{text}"
            );
        }
        for error in [
            sqlx(Error::RowNotFound),
            sqlx(Error::Protocol("garbled".into())),
            DbErr::Custom("a bug".into()),
        ] {
            let text = error.to_string();
            assert_eq!(ApiError::from(error).code(), ErrorCode::Internal, "{text}");
        }
    }

    /// A broken unique key is a conflict with a concurrent request, which a retry
    /// resolves: ABORTED, not INTERNAL.
    #[tokio::test]
    async fn a_unique_key_broken_by_a_concurrent_write_is_a_retry() {
        use sea_orm::{ConnectionTrait, Database};
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.execute_unprepared("CREATE TABLE t (k TEXT UNIQUE)")
            .await
            .unwrap();
        db.execute_unprepared("INSERT INTO t VALUES ('a')")
            .await
            .unwrap();
        let error = db
            .execute_unprepared("INSERT INTO t VALUES ('a')")
            .await
            .unwrap_err();
        assert!(is_unique_violation(&error), "{error}");
        let status = Status::from(ApiError::from(error));
        assert_eq!(status.code(), Code::Aborted, "{status:?}");
        assert!(status.message().contains("retry"), "{}", status.message());
    }

    #[test]
    fn a_refused_change_of_status_lists_what_is_allowed() {
        let refusal = Refusal::transition(
            "cannot act on a case that is OPEN",
            vec!["start reviewing".into(), "reject".into()],
        )
        .context("case cas_1");
        let status = Status::from(ApiError::precondition(refusal));
        assert_eq!(
            status.message(),
            "case cas_1: cannot act on a case that is OPEN"
        );
        let info = status.get_details_error_info().unwrap();
        assert_eq!(info.reason, reason::INVALID_TRANSITION);
        assert_eq!(info.metadata["allowed_actions"], "start reviewing,reject");
        let failure = status.get_details_precondition_failure().unwrap();
        assert_eq!(failure.violations[0].r#type, "STATUS");
        assert_eq!(failure.violations[0].description, status.message());
        let plain = Status::from(ApiError::precondition("the member has exited"));
        assert_eq!(
            plain.get_details_precondition_failure().unwrap().violations[0].r#type,
            "STATE"
        );
    }

    #[test]
    fn not_found_names_the_kind_and_internal_an_id_to_quote() {
        let status = Status::from(ApiError::not_found("case", "cas_1"));
        let resource = status.get_details_resource_info().unwrap();
        assert_eq!(
            (
                resource.resource_type.as_str(),
                resource.resource_name.as_str()
            ),
            ("case", "cas_1")
        );
        let status = Status::from(ApiError::internal(anyhow::anyhow!("password=hunter2")));
        let request = status.get_details_request_info().unwrap();
        assert_eq!(request.request_id.len(), 32, "{}", request.request_id);
        assert!(!format!("{:?}", status.details()).contains("hunter2"));
    }
}
