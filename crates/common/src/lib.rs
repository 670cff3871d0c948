//! The shared platform of every Assay service: errors and their gRPC mapping, typed ids,
//! money, dates, pagination tokens, field validation, configuration, telemetry, database
//! connections and migrations, idempotency keys, authentication and authorisation, peer
//! clients, and the server runner.

pub mod auth;
pub mod catalogue;
pub mod client;
pub mod config;
pub mod db;
pub mod directory;
pub mod documents;
pub mod error;
pub mod holds;
pub mod id;
pub mod idempotency;
pub mod ids;
pub mod jobs;
pub mod jwt;
pub mod language;
pub mod metrics;
pub mod money;
pub mod notify;
pub mod outbox;
pub mod page;
pub mod platform;
pub mod policy;
pub mod principal;
pub mod resource;
pub mod server;
pub mod service;
pub mod telemetry;
pub mod time;
pub mod tls;
pub mod validate;
pub mod webhooks;

pub use error::{ApiError, ApiResult, FieldViolations};
pub use platform::Platform;
