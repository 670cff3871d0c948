//! What a service crate gives the process that runs it.

use std::future::Future;
use std::pin::Pin;

use sea_orm::DatabaseConnection;
use tonic::service::RoutesBuilder;

use crate::policy::Policy;
use crate::server::ServiceStatus;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One Assay service, ready to be served by the runner.
pub trait Service: Send + Sync + 'static {
    /// Short name: `registry`, `screening`, `cases`, `lawenforcement`.
    fn name(&self) -> &'static str;
    /// Its fully-qualified gRPC service name, reported by health.
    fn grpc_service(&self) -> &'static str;
    /// Who may call each of its RPCs.
    fn policy(&self) -> &'static Policy;
    /// Its database.
    fn database(&self) -> &DatabaseConnection;
    /// Adds its gRPC service to the server's routes.
    fn add_routes(&self, routes: &mut RoutesBuilder);
    /// Runs its pending migrations.
    fn migrate(&self) -> BoxFuture<'_, anyhow::Result<()>>;
    /// Starts its background work; called once migrations ran and the database answered.
    /// The service reports itself ready through `status` when it can take requests (at
    /// once, or later, e.g. once its first engine is loaded). Background work stops on
    /// shutdown.
    fn start(&self, status: ServiceStatus) -> BoxFuture<'_, anyhow::Result<()>>;
}
