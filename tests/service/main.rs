//! Service tests: each starts a real server on `127.0.0.1:0` and talks to it only through the
//! generated clients, once on SQLite and once on PostgreSQL.

mod cases;
mod contract;
mod documents;
use assay_tests::fixtures;
mod hostile;
mod lawenforcement;
mod platform;
mod purchases;
mod python;
mod registry;
mod screening;
mod security;
mod self_service;
mod tls;
