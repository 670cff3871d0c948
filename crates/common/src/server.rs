//! The gRPC server runner every service shares.
//!
//! It serves the services' routes together with grpc.health.v1 and server reflection (v1 and
//! v1alpha), behind two layers: [`TraceLayer`] (a span per request that continues the
//! caller's W3C trace, with the RPC's status) and [`GuardLayer`] (readiness gate, load
//! shedding with RESOURCE_EXHAUSTED, authentication). Caller deadlines (`grpc-timeout`) are
//! honoured up to `server.request_timeout`. On shutdown, health turns NOT_SERVING at once,
//! then in-flight requests drain for up to `server.shutdown_grace`.

mod body;
mod guard;
mod health;
mod trace;

pub use health::{Health, health_server};

pub use guard::{Gate, GuardLayer, Limits};
pub use trace::TraceLayer;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tonic::Status;
use tonic::service::{Routes, RoutesBuilder};
use tonic::transport::ServerTlsConfig;
use tonic::transport::server::{TcpConnectInfo, TcpIncoming, TlsConnectInfo};
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Instrument;

use crate::auth::{Authenticator, Principal};
use std::num::NonZeroU32;

use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::config::{Rate, RateLimits, ServerConfig};
use crate::directory::Directory;
use crate::error::ApiError;
use crate::policy::{Policies, Refusals};
use body::{Checked, Held};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Paths served without credentials or readiness: probes and service discovery.
fn is_open_path(path: &str) -> bool {
    path.starts_with("/grpc.health.v1.") || path.starts_with("/grpc.reflection.")
}

/// Whether `path` (`/package.Service/Method`) names a method this server may serve: one of
/// the contract's, health's or reflection's.
fn is_known_method(path: &str) -> bool {
    static KNOWN: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    KNOWN
        .get_or_init(|| {
            use prost::Message;
            let mut known = std::collections::HashSet::new();
            for encoded in [
                assay_proto::FILE_DESCRIPTOR_SET,
                tonic_health::pb::FILE_DESCRIPTOR_SET,
            ] {
                let Ok(set) = prost_types::FileDescriptorSet::decode(encoded) else {
                    continue;
                };
                for file in set.file {
                    for service in &file.service {
                        for method in &service.method {
                            known.insert(format!(
                                "/{}.{}/{}",
                                file.package(),
                                service.name(),
                                method.name()
                            ));
                        }
                    }
                }
            }
            for reflection in ["grpc.reflection.v1", "grpc.reflection.v1alpha"] {
                known.insert(format!(
                    "/{reflection}.ServerReflection/ServerReflectionInfo"
                ));
            }
            known
        })
        .contains(path)
}

/// Whether `path` names a method whose answer, or request, is a stream.
fn is_streaming_method(path: &str) -> bool {
    static STREAMING: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    STREAMING
        .get_or_init(|| {
            use prost::Message;
            let mut streaming = std::collections::HashSet::new();
            if let Ok(set) =
                prost_types::FileDescriptorSet::decode(assay_proto::FILE_DESCRIPTOR_SET)
            {
                for file in set.file {
                    for service in &file.service {
                        for method in &service.method {
                            if method.client_streaming() || method.server_streaming() {
                                streaming.insert(format!(
                                    "/{}.{}/{}",
                                    file.package(),
                                    service.name(),
                                    method.name()
                                ));
                            }
                        }
                    }
                }
            }
            streaming
        })
        .contains(path)
}

/// Whether each service of the process is ready, and what health reports for it.
///
/// A service is SERVING when it says it is ready (its migrations ran and, for screening, its
/// first engine is loaded) and its database answers; the empty service name "" is SERVING
/// when every service is. Until a service is ready, its RPCs are refused with UNAVAILABLE
/// (health and reflection are always served). Once shutdown begins, everything is
/// NOT_SERVING for good — except [`LIVENESS`], SERVING for as long as the process answers
/// at all, for liveness probes that must not restart a pod whose database is down or that
/// is draining.
#[derive(Clone)]
pub struct Readiness {
    inner: Arc<ReadinessInner>,
}

struct ReadinessInner {
    /// (gRPC service name, ready, database answers)
    services: Vec<(String, AtomicBool, AtomicBool)>,
    shutting_down: AtomicBool,
    health: HealthReporter,
    /// Serialises health updates so they land in order.
    publishing: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let states: Vec<_> = self
            .inner
            .services
            .iter()
            .map(|(name, ready, db)| {
                (
                    name,
                    ready.load(Ordering::Acquire),
                    db.load(Ordering::Acquire),
                )
            })
            .collect();
        f.debug_struct("Readiness")
            .field("services", &states)
            .finish()
    }
}

impl Readiness {
    /// Every named service starts not ready; health says NOT_SERVING for all.
    pub async fn new(service_names: &[String], health: HealthReporter) -> Self {
        let readiness = Self {
            inner: Arc::new(ReadinessInner {
                services: service_names
                    .iter()
                    .map(|n| (n.clone(), AtomicBool::new(false), AtomicBool::new(true)))
                    .collect(),
                shutting_down: AtomicBool::new(false),
                health,
                publishing: tokio::sync::Mutex::new(()),
            }),
        };
        readiness.publish().await;
        readiness
    }

    /// The handle a service uses to report its own state.
    pub fn status(&self, service_name: &str) -> ServiceStatus {
        let index = self
            .inner
            .services
            .iter()
            .position(|(name, _, _)| name == service_name)
            .unwrap_or(usize::MAX);
        ServiceStatus {
            readiness: self.clone(),
            index,
        }
    }

    /// Whether requests on `path` (`/package.Service/Method`) may go through.
    pub fn admits(&self, path: &str) -> bool {
        let service = path.trim_start_matches('/').split('/').next().unwrap_or("");
        self.inner
            .services
            .iter()
            .find(|(name, _, _)| name == service)
            .is_none_or(|(_, ready, _)| ready.load(Ordering::Acquire))
    }

    /// Health NOT_SERVING for every service, from now on.
    pub async fn shutting_down(&self) {
        self.inner.shutting_down.store(true, Ordering::Release);
        self.publish().await;
    }

    async fn publish(&self) {
        let _order = self.inner.publishing.lock().await;
        let down = self.inner.shutting_down.load(Ordering::Acquire);
        let mut all = !self.inner.services.is_empty();
        for (name, ready, database) in &self.inner.services {
            let serving =
                !down && ready.load(Ordering::Acquire) && database.load(Ordering::Acquire);
            all &= serving;
            self.inner
                .health
                .set_service_status(name, serving_status(serving))
                .await;
        }
        self.inner
            .health
            .set_service_status("", serving_status(all))
            .await;
        self.inner
            .health
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;
    }
}

/// The health entry that is SERVING as long as the process answers.
pub const LIVENESS: &str = "liveness";

fn serving_status(serving: bool) -> ServingStatus {
    if serving {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    }
}

/// One service's view of [`Readiness`].
#[derive(Clone, Debug)]
pub struct ServiceStatus {
    readiness: Readiness,
    index: usize,
}

impl ServiceStatus {
    /// The service is ready (or no longer is).
    pub async fn set_ready(&self, ready: bool) {
        if let Some((_, flag, _)) = self.readiness.inner.services.get(self.index) {
            flag.store(ready, Ordering::Release);
            self.readiness.publish().await;
        }
    }

    /// Its database answers (or no longer does).
    pub async fn set_database(&self, answers: bool) {
        if let Some((_, _, flag)) = self.readiness.inner.services.get(self.index) {
            flag.store(answers, Ordering::Release);
            self.readiness.publish().await;
        }
    }

    pub fn is_ready(&self) -> bool {
        self.readiness
            .inner
            .services
            .get(self.index)
            .is_some_and(|(_, ready, _)| ready.load(Ordering::Acquire))
    }
}

/// A running server's knobs.
pub struct ServeOptions {
    pub config: ServerConfig,
    pub gate: Gate,
    /// Cancelled after `shutdown_delay`, when streams are to finish and end.
    pub drain: CancellationToken,
    pub readiness: Readiness,
    /// TLS (mutual, with a client CA); `None`: plaintext.
    pub tls: Option<ServerTlsConfig>,
}

/// Adds health and reflection to `routes`. Reflection also describes `google.rpc` error
/// details, so tools like grpcurl can show field violations.
pub fn with_platform_services(
    mut routes: RoutesBuilder,
    health_server: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
) -> anyhow::Result<Routes> {
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(assay_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(assay_proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;
    routes
        .add_service(health_server)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    Ok(routes.routes())
}

/// HTTP/2 flow control windows (see [`serve`]): the largest connection window HTTP/2
/// allows, and 64 KiB per stream.
const CONNECTION_WINDOW: u32 = (1 << 31) - 1;
const STREAM_WINDOW: u32 = 64 * 1024;
/// Streams one connection may open at once: at most 512 x 64 KiB = 32 MiB buffered.
const MAX_STREAMS_PER_CONNECTION: u32 = 512;

/// Serves `routes` on `listener` until `shutdown` is cancelled, then drains.
pub async fn serve(
    listener: tokio::net::TcpListener,
    routes: Routes,
    options: ServeOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let ServeOptions {
        config,
        gate,
        drain,
        readiness,
        tls,
    } = options;

    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let signal = {
        let shutdown = shutdown.clone();
        let readiness = readiness.clone();
        let delay = config.shutdown_delay;
        async move {
            shutdown.cancelled().await;
            readiness.shutting_down().await;
            tracing::info!(delay = ?delay, "shutting down: health is NOT_SERVING");
            tokio::time::sleep(delay).await;
            tracing::info!("draining: open streams finish what they received");
            drain.cancel();
        }
    };
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls {
        builder = builder.tls_config(tls)?;
    }
    // Flow control that holds any sender back instead of cutting it off. h2 counts small
    // DATA frames buffered but not yet read against a budget of half the connection window,
    // and answers GOAWAY ENHANCE_YOUR_CALM when it runs out: with the default 1 MiB window,
    // a few thousand small listings sent ahead of the server did that to whole connections.
    // So the connection window is wide (the budget with it) and each stream's is narrow: a
    // sender is slowed by its stream window long before the budget is spent, and what one
    // connection can buffer stays bounded by streams x stream window.
    let server = builder
        .initial_connection_window_size(CONNECTION_WINDOW)
        .initial_stream_window_size(STREAM_WINDOW)
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        .timeout(config.request_timeout)
        .layer(TraceLayer::new())
        .layer(GuardLayer::new(gate, (&config).into(), readiness.clone()))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, signal);
    let mut server = tokio::spawn(server);

    let deadline = async {
        shutdown.cancelled().await;
        tokio::time::sleep(config.shutdown_delay + config.shutdown_grace).await;
    };
    tokio::select! {
        result = &mut server => {
            result??;
            tracing::info!("server stopped");
        }
        () = deadline => {
            tracing::warn!(grace = ?config.shutdown_grace, "drain took too long: closing open requests");
            server.abort();
        }
    }
    Ok(())
}

/// Serves grpc.health.v1 alone on `listener`, in plaintext, until `stop` is cancelled.
pub async fn serve_health(
    listener: tokio::net::TcpListener,
    health_server: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    tonic::transport::Server::builder()
        .add_service(health_server)
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), stop.cancelled_owned())
        .await?;
    Ok(())
}

/// Cancels `token` on SIGINT or SIGTERM.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(error) => {
                    tracing::error!(%error, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => tracing::info!("SIGINT received"),
            () = terminate => tracing::info!("SIGTERM received"),
        }
        token.cancel();
    });
}

/// Keeps health in step with the database: NOT_SERVING while it does not answer.
pub fn watch_database(db: crate::db::Db, status: ServiceStatus, shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(std::time::Duration::from_secs(5));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut answered = true;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = interval.tick() => {}
            }
            let answers = crate::db::ping(&db).await;
            if answers != answered {
                answered = answers;
                if answers {
                    tracing::info!("database answers again");
                } else {
                    tracing::error!("database does not answer");
                }
                status.set_database(answers).await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tokio::sync::Notify;
    use tower::ServiceExt;

    use super::*;
    use crate::auth::token_sha256;
    use crate::policy::{Policy, Staff, Tenant, rule};

    fn grpc_status(response: &http::Response<tonic::body::Body>) -> Option<i32> {
        response
            .headers()
            .get("grpc-status")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    }

    fn request(path: &str, token: Option<&str>) -> http::Request<tonic::body::Body> {
        let mut builder = http::Request::builder().uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        builder.body(tonic::body::Body::default()).unwrap()
    }

    /// A service that records the principal it saw and waits for `release`.
    fn blocking(
        release: Arc<Notify>,
    ) -> impl Service<
        http::Request<tonic::body::Body>,
        Response = http::Response<tonic::body::Body>,
        Error = Infallible,
        Future = impl Send,
    > + Clone
    + Send
    + 'static {
        tower::service_fn(move |request: http::Request<tonic::body::Body>| {
            let release = release.clone();
            async move {
                let subject = match request.extensions().get::<Principal>() {
                    Some(Principal::Service { name }) => name.clone(),
                    _ => String::new(),
                };
                if subject == "slow" {
                    release.notified().await;
                }
                Ok::<_, Infallible>(http::Response::new(tonic::body::Body::default()))
            }
        })
    }

    async fn guard(limit: usize, ready: bool) -> (GuardLayer, Arc<Notify>) {
        let mut authenticator = Authenticator::new(crate::jwt::Verifier::none());
        authenticator
            .add_static_token(&token_sha256("slow-token"), "service:slow".parse().unwrap());
        authenticator
            .add_static_token(&token_sha256("fast-token"), "service:fast".parse().unwrap());
        authenticator.add_static_token(
            &token_sha256("other-token"),
            "service:other".parse().unwrap(),
        );
        let (health, _) = tonic_health::server::health_reporter();
        let readiness = Readiness::new(&["assay.x.v1.X".to_owned()], health).await;
        readiness.status("assay.x.v1.X").set_ready(ready).await;
        static POLICY: Policy = Policy {
            service: "assay.x.v1.X",
            rules: &[
                rule("Slow", Staff::Nobody, Tenant::Nobody, &["slow"]),
                rule("Fast", Staff::Nobody, Tenant::Nobody, &["slow", "fast"]),
            ],
        };
        let gate = Gate {
            authenticator: Arc::new(authenticator),
            policies: Policies::new([&POLICY]),
            directory: Directory::new(std::time::Duration::from_secs(5)),
            refusals: Refusals::default(),
        };
        let limits = Limits {
            max_concurrent_requests: limit,
            max_streams_per_principal: 4,
            rates: RateLimits::default(),
        };
        (
            GuardLayer::new(gate, limits, readiness),
            Arc::new(Notify::new()),
        )
    }

    #[test]
    fn only_real_methods_become_metric_labels() {
        for real in [
            "/assay.screening.v1.ScreeningService/ScreenListing",
            "/assay.lawenforcement.v1.LawEnforcementService/ReceiveReferral",
            "/grpc.health.v1.Health/Check",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ] {
            assert!(is_known_method(real), "{real}");
        }
        for made_up in [
            "/assay.screening.v1.ScreeningService/Nope",
            "/x.y/z",
            "/",
            "",
        ] {
            assert!(!is_known_method(made_up), "{made_up}");
        }
    }

    #[tokio::test]
    async fn requests_beyond_the_limit_are_shed_until_one_finishes() {
        let (layer, release) = guard(1, true).await;
        let service = layer.layer(blocking(release.clone()));

        let slow = tokio::spawn(
            service
                .clone()
                .oneshot(request("/assay.x.v1.X/Slow", Some("slow-token"))),
        );
        // Let the slow request take the only permit.
        while layer.permits.available_permits() == 1 {
            tokio::task::yield_now().await;
        }

        let shed = service
            .clone()
            .oneshot(request("/assay.x.v1.X/Fast", Some("fast-token")))
            .await
            .unwrap();
        assert_eq!(
            grpc_status(&shed),
            Some(tonic::Code::ResourceExhausted as i32)
        );

        // Probes are never shed.
        let probe = service
            .clone()
            .oneshot(request("/grpc.health.v1.Health/Check", None))
            .await
            .unwrap();
        assert_eq!(grpc_status(&probe), None);

        release.notify_one();
        slow.await.unwrap().unwrap();
        let after = service
            .oneshot(request("/assay.x.v1.X/Fast", Some("fast-token")))
            .await
            .unwrap();
        assert_eq!(grpc_status(&after), None, "the permit came back");
    }

    #[tokio::test]
    async fn unauthenticated_and_not_ready_requests_are_refused() {
        let (layer, release) = guard(8, true).await;
        let service = layer.layer(blocking(release));
        let anonymous = service
            .clone()
            .oneshot(request("/assay.x.v1.X/Fast", None))
            .await
            .unwrap();
        assert_eq!(
            grpc_status(&anonymous),
            Some(tonic::Code::Unauthenticated as i32)
        );
        let wrong = service
            .clone()
            .oneshot(request("/assay.x.v1.X/Fast", Some("nope")))
            .await
            .unwrap();
        assert_eq!(
            grpc_status(&wrong),
            Some(tonic::Code::Unauthenticated as i32)
        );

        let outsider = service
            .clone()
            .oneshot(request("/assay.x.v1.X/Fast", Some("other-token")))
            .await
            .unwrap();
        assert_eq!(
            grpc_status(&outsider),
            Some(tonic::Code::PermissionDenied as i32),
            "a service the policy does not name is refused"
        );
        let unlisted = service
            .clone()
            .oneshot(request("/assay.x.v1.X/Unlisted", Some("fast-token")))
            .await
            .unwrap();
        assert_eq!(
            grpc_status(&unlisted),
            Some(tonic::Code::PermissionDenied as i32),
            "a method without a rule is refused"
        );

        let (layer, release) = guard(8, false).await;
        let service = layer.layer(blocking(release));
        let starting = service
            .clone()
            .oneshot(request("/assay.x.v1.X/Fast", Some("fast-token")))
            .await
            .unwrap();
        assert_eq!(
            grpc_status(&starting),
            Some(tonic::Code::Unavailable as i32)
        );
        let probe = service
            .oneshot(request("/grpc.health.v1.Health/Check", None))
            .await
            .unwrap();
        assert_eq!(grpc_status(&probe), None, "health answers while starting");
    }
}
