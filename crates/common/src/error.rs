//! The one error type every Assay service answers with, and its single mapping to gRPC.
//!
//! Caller errors carry what the caller needs to fix the request (for INVALID_ARGUMENT, every
//! bad field as a `BadRequest` field violation). Internal errors are logged with their cause
//! and answered with a bare INTERNAL that leaks nothing.

use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

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
    FailedPrecondition(String),
    #[error("{0}")]
    Aborted(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    ResourceExhausted(String),
    #[error("{0}")]
    Unavailable(String),
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

    pub fn precondition(message: impl Into<String>) -> Self {
        ApiError::FailedPrecondition(message.into())
    }

    pub fn denied(message: impl Into<String>) -> Self {
        ApiError::PermissionDenied(message.into())
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(error.into())
    }

    /// The etag a caller sent no longer matches the stored record.
    pub fn stale_etag(kind: &'static str) -> Self {
        ApiError::Aborted(format!(
            "{kind} was changed by someone else: read it again and retry with its current etag"
        ))
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::InvalidArgument(_) => ErrorCode::InvalidArgument,
            ApiError::NotFound { .. } => ErrorCode::NotFound,
            ApiError::AlreadyExists(_) => ErrorCode::AlreadyExists,
            ApiError::FailedPrecondition(_) => ErrorCode::FailedPrecondition,
            ApiError::Aborted(_) => ErrorCode::Aborted,
            ApiError::PermissionDenied(_) => ErrorCode::PermissionDenied,
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::ResourceExhausted(_) => ErrorCode::ResourceExhausted,
            ApiError::Unavailable(_) => ErrorCode::Unavailable,
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
    let text = error.to_string();
    text.contains("40001") || text.contains("40P01") || text.contains("database is locked")
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
        match error {
            ApiError::InvalidArgument(violations) => {
                let mut details = ErrorDetails::new();
                for (field, description) in violations.iter() {
                    details.add_bad_request_violation(field, description);
                }
                Status::with_error_details(
                    Code::InvalidArgument,
                    truncate(&format!("invalid argument: {violations}"), MAX_MESSAGE),
                    details,
                )
            }
            ApiError::Internal(source) => {
                tracing::error!(error = ?source, "internal error");
                Status::internal("internal error")
            }
            other => {
                if code.should_log() {
                    tracing::error!(error = %other, "request failed");
                }
                Status::new(code.grpc(), truncate(&other.to_string(), MAX_MESSAGE))
            }
        }
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
}
