//! What a service crate gives the process that runs it.

use std::future::Future;
use std::pin::Pin;

use crate::db::Db;
use tonic::service::RoutesBuilder;

use crate::policy::Policy;
use crate::server::ServiceStatus;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One Assay service, ready to be served by the runner.
pub trait Service: Send + Sync + 'static {
    /// Short name: `registry`, `screening`, `cases`, `lawenforcement`.
    fn name(&self) -> &'static str;
    /// Who may call each of its RPCs.
    fn policy(&self) -> &'static Policy;
    /// Its fully-qualified gRPC service name, reported by health: its policy's.
    fn grpc_service(&self) -> &'static str {
        self.policy().service
    }
    /// Its database.
    fn database(&self) -> &Db;
    /// Adds its gRPC service to the server's routes.
    fn add_routes(&self, routes: &mut RoutesBuilder);
    /// Runs its pending migrations; returns the names of those it applied.
    fn migrate(&self) -> BoxFuture<'_, anyhow::Result<Vec<String>>>;
    /// Its migrations and whether each is applied, changing nothing.
    fn migration_status(&self) -> BoxFuture<'_, anyhow::Result<Vec<(String, bool)>>>;
    /// Starts its background work; called once migrations ran and the database answered.
    /// The service reports itself ready through `status` when it can take requests (at
    /// once, or later, e.g. once its first engine is loaded). Background work stops on
    /// shutdown.
    fn start(&self, status: ServiceStatus) -> BoxFuture<'_, anyhow::Result<()>>;
}

/// The parts of a [`Service`] impl that every service writes alike, for a service struct
/// with fields `db` (its database), `api` (its handlers) and `platform`: its name, its
/// policy, its database, its routes (the generated server, with message sizes up to
/// `server.max_message_bytes`; each RPC's own limit is the guard's) and its migrations.
///
/// ```ignore
/// impl Service for Cases {
///     assay_common::service_parts!(NAME, policy::POLICY, CasesServiceServer, migration::Migrator);
///     fn start(&self, status: ServiceStatus) -> BoxFuture<'_, anyhow::Result<()>> { ... }
/// }
/// ```
#[macro_export]
macro_rules! service_parts {
    ($name:expr, $policy:expr, $server:ident, $migrator:ty $(,)?) => {
        fn name(&self) -> &'static str {
            $name
        }

        fn policy(&self) -> &'static $crate::policy::Policy {
            &$policy
        }

        fn database(&self) -> &$crate::db::Db {
            &self.db
        }

        fn add_routes(&self, routes: &mut ::tonic::service::RoutesBuilder) {
            let max = self.platform.config.server.max_message_bytes;
            routes.add_service(
                $server::new(self.api.clone())
                    .max_decoding_message_size(max)
                    .max_encoding_message_size(max),
            );
        }

        fn migrate(&self) -> $crate::service::BoxFuture<'_, ::anyhow::Result<Vec<String>>> {
            Box::pin($crate::db::migrate::<$migrator>(&self.db))
        }

        fn migration_status(
            &self,
        ) -> $crate::service::BoxFuture<'_, ::anyhow::Result<Vec<(String, bool)>>> {
            Box::pin($crate::db::migration_status::<$migrator>(&self.db))
        }
    };
}

/// Implements a service's generated tonic trait from its handlers, one line per RPC.
///
/// Each unary RPC is written `method(Request) -> Response = |principal, request| call`,
/// optionally followed by `, wrap` to turn what the call returns into the response message.
/// The generated method takes the principal the guard attached, reads the caller's language
/// ([`language::current`](crate::language::current) within the call), unwraps the request, awaits
/// the call (an [`ApiError`](crate::ApiError) becomes its `Status`) and answers. Items the
/// pattern does not fit (streaming RPCs and their stream types) may follow in a block of
/// their own, as they would be written in the `impl`.
///
/// ```ignore
/// assay_common::rpcs! {
///     impl RegistryService for RegistryApi (self) {
///         get_member(GetMemberRequest) -> GetMemberResponse =
///             |p, req| self.get_member(&p, req), |m| GetMemberResponse { member: Some(m) };
///     }
///     {
///         type WatchCatalogueStream = ...;
///         async fn watch_catalogue(&self, ...) -> ... { ... }
///     }
/// }
/// ```
///
/// A service that sends webhooks says `with webhooks` after `(self)`, and gets the five
/// subscription RPCs every such service answers alike, each handed to the method of its name.
#[macro_export]
macro_rules! rpcs {
    (
        impl $service:ident for $api:ident ($self:ident) with webhooks {
            $($rpcs:tt)*
        }
        $({ $($other:tt)* })?
    ) => {
        $crate::rpcs! {
            impl $service for $api ($self) {
                $($rpcs)*
                create_subscription(CreateSubscriptionRequest) -> CreateSubscriptionResponse =
                    |p, req| $self.create_subscription(&p, req),
                    |s| CreateSubscriptionResponse { subscription: Some(s) };
                list_subscriptions(ListSubscriptionsRequest) -> ListSubscriptionsResponse =
                    |p, _req| $self.list_subscriptions(&p);
                delete_subscription(DeleteSubscriptionRequest) -> DeleteSubscriptionResponse =
                    |p, req| $self.delete_subscription(&p, req);
                list_deliveries(ListDeliveriesRequest) -> ListDeliveriesResponse =
                    |p, req| $self.list_deliveries(&p, req);
                redeliver_notification(RedeliverNotificationRequest) -> RedeliverNotificationResponse =
                    |p, req| $self.redeliver_notification(&p, req);
            }
            $({ $($other)* })?
        }
    };
    (
        impl $service:ident for $api:ident ($self:ident) {
            $(
                $method:ident($request:ty) -> $response:ty =
                    |$principal:pat_param, $req:ident| $call:expr $(, $wrap:expr)?;
            )*
        }
        $({ $($other:tt)* })?
    ) => {
        #[::tonic::async_trait]
        impl $service for $api {
            $(
                async fn $method(
                    &$self,
                    request: ::tonic::Request<$request>,
                ) -> ::std::result::Result<::tonic::Response<$response>, ::tonic::Status> {
                    let $principal = $crate::auth::principal(&request)?;
                    let language = $crate::language::Language::of_metadata(request.metadata());
                    let $req = request.into_inner();
                    // What the call says to people, it says in the caller's language.
                    $crate::language::speaking(language, async {
                        let answer = $call.await?;
                        Ok(::tonic::Response::new($crate::rpcs!(@wrap answer $(, $wrap)?)))
                    })
                    .await
                }
            )*
            $($($other)*)?
        }
    };
    (@wrap $answer:ident) => { $answer };
    (@wrap $answer:ident, $wrap:expr) => { ($wrap)($answer) };
}
