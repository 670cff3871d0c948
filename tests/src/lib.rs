//! The test sandbox: a whole Assay process on `127.0.0.1:0`, on SQLite in a temporary
//! directory or on fresh PostgreSQL databases, reached only through the generated clients.
//!
//! PostgreSQL is found at `TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each sandbox creates its own databases
//! and drops them when it is dropped, so tests run in parallel.

pub mod fixtures;

use std::net::SocketAddr;
use std::time::Duration;

use assay::{AppConfig, Running, ServiceName};
use assay_common::auth::Principal;
use assay_common::jwt::TokenSigner;
use sea_orm::{ConnectionTrait, Database};
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, ClientTlsConfig};

pub use assay_proto as proto;

/// Which database the services run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each named `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::postgres_available().await {
                        super::$name($crate::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}

/// Whether the PostgreSQL tests can run here (see `assay_common::db::test_postgres`).
pub async fn postgres_available() -> bool {
    assay_common::db::test_postgres().await.is_some()
}

fn postgres_admin_url() -> String {
    std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A running system for one test.
pub struct Sandbox {
    pub addr: SocketAddr,
    pub backend: Backend,
    config: AppConfig,
    running: Option<Running>,
    signer: TokenSigner,
    postgres_databases: Vec<String>,
    /// With `server.tls`: how the sandbox's own channels connect (`auth.peer_tls`).
    client_tls: Option<ClientTlsConfig>,
    _dir: tempfile::TempDir,
}

/// Presents a bearer token.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

pub type Authed = InterceptedService<Channel, Bearer>;

impl Sandbox {
    /// Every service, default configuration.
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, ServiceName::ALL, |_| {}).await
    }

    /// The named services, with the configuration adjusted by `adjust`.
    pub async fn start_with(
        backend: Backend,
        services: &[ServiceName],
        adjust: impl FnOnce(&mut AppConfig),
    ) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = AppConfig {
            data_dir: dir.path().join("data"),
            ..AppConfig::default()
        };
        config.server.shutdown_grace = Duration::from_secs(2);
        config.server.shutdown_delay = Duration::ZERO;
        config.log.filter = "warn".to_owned();
        config.outbox.poll_interval = Duration::from_millis(100);
        config.outbox.min_backoff = Duration::from_millis(50);
        config.outbox.max_backoff = Duration::from_secs(1);
        let mut postgres_databases = Vec::new();
        if backend == Backend::Postgres {
            let admin_url = postgres_admin_url();
            let admin = Database::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!("PostgreSQL at {admin_url} is needed for this test: {e}")
            });
            let base = uuid::Uuid::now_v7().simple().to_string();
            for service in services {
                let name = format!("assay_test_{base}_{}", service.as_str());
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                let url = database_url(&admin_url, &name);
                match service {
                    ServiceName::Registry => config.registry.database_url = Some(url),
                    ServiceName::Screening => config.screening.database_url = Some(url),
                    ServiceName::Cases => config.cases.database_url = Some(url),
                    ServiceName::LawEnforcement => config.lawenforcement.database_url = Some(url),
                }
                postgres_databases.push(name);
            }
        }
        adjust(&mut config);
        let kept = config.clone();
        let client_tls = config.server.tls.as_ref().map(|_| {
            let peer = config
                .auth
                .peer_tls
                .as_ref()
                .expect("a sandbox with server.tls needs auth.peer_tls to reach it");
            assay_common::tls::client_config(peer).expect("the sandbox's client TLS")
        });

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind an ephemeral port");
        let running = assay::start(config, services, listener)
            .await
            .expect("the system starts");
        let signer = running
            .platform
            .signer
            .clone()
            .expect("the sandbox has a signing key");
        let sandbox = Self {
            addr: running.addr,
            backend,
            config: kept,
            running: Some(running),
            signer,
            postgres_databases,
            client_tls,
            _dir: dir,
        };
        sandbox.wait_until_serving("").await;
        sandbox
    }

    /// Waits (up to ten seconds) until health reports `service` SERVING ("" for all).
    pub async fn wait_until_serving(&self, service: &str) {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
        let mut health = HealthClient::new(self.channel().await);
        let mut watch = health
            .watch(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .expect("health watch")
            .into_inner();
        let serving = async {
            while let Some(update) = watch.message().await.expect("health stream") {
                if update.status() == ServingStatus::Serving {
                    return;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(10), serving)
            .await
            .unwrap_or_else(|_| panic!("{service:?} did not become SERVING within 10 s"));
    }

    /// The database URL a service of the sandbox uses.
    pub fn database_url(&self, service: ServiceName) -> String {
        let configured = match service {
            ServiceName::Registry => &self.config.registry.database_url,
            ServiceName::Screening => &self.config.screening.database_url,
            ServiceName::Cases => &self.config.cases.database_url,
            ServiceName::LawEnforcement => &self.config.lawenforcement.database_url,
        };
        configured
            .clone()
            .unwrap_or_else(|| self.config.platform().sqlite_url(service.as_str()))
    }

    pub fn endpoint(&self) -> String {
        let scheme = if self.client_tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// A token for `principal` (`staff:alice:admin`, `member:mbr_...`, ...).
    pub fn token(&self, principal: &str) -> String {
        let principal: Principal = principal.parse().expect("a valid principal");
        self.signer
            .mint(&principal, Duration::from_secs(3600))
            .expect("mint a token")
    }

    pub async fn channel(&self) -> Channel {
        match &self.client_tls {
            Some(tls) => self.tls_channel(tls.clone()).await,
            None => {
                Channel::from_shared(self.endpoint())
                    .expect("endpoint")
                    .connect()
                    .await
            }
        }
        .expect("connect to the sandbox")
    }

    /// A channel over TLS with `tls` (its CA, and the client certificate if any).
    pub async fn tls_channel(
        &self,
        tls: ClientTlsConfig,
    ) -> Result<Channel, tonic::transport::Error> {
        Channel::from_shared(format!("https://{}", self.addr))
            .expect("endpoint")
            .tls_config(tls)?
            .connect()
            .await
    }

    /// A channel with small HTTP/2 windows, so that a client that stops reading is felt by
    /// the server at once.
    pub async fn narrow_channel(&self, principal: &str) -> Authed {
        let channel = Channel::from_shared(self.endpoint())
            .expect("endpoint")
            .initial_stream_window_size(65_535)
            .initial_connection_window_size(65_535)
            .connect()
            .await
            .expect("connect to the sandbox");
        let bearer = format!("Bearer {}", self.token(principal))
            .parse()
            .expect("header value");
        InterceptedService::new(channel, Bearer(Some(bearer)))
    }

    /// A channel presenting a token for `principal`, or none for `None`.
    pub async fn as_principal(&self, principal: Option<&str>) -> Authed {
        let bearer = principal.map(|p| {
            format!("Bearer {}", self.token(p))
                .parse()
                .expect("header value")
        });
        InterceptedService::new(self.channel().await, Bearer(bearer))
    }

    /// A channel presenting a raw bearer token.
    pub async fn with_token(&self, token: &str) -> Authed {
        let bearer = format!("Bearer {token}").parse().expect("header value");
        InterceptedService::new(self.channel().await, Bearer(Some(bearer)))
    }

    pub fn running(&self) -> &Running {
        self.running.as_ref().expect("running")
    }

    /// Shuts down and waits for the drain.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown();
            running.wait().await.expect("clean shutdown");
        }
    }
}

/// The URL of `database` on the server of `admin_url`, with its parameters (a Unix socket
/// directory as `?host=...`, for one).
fn database_url(admin_url: &str, database: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin_url, String::new()),
    };
    match base.rfind('/') {
        Some(slash) if slash > "postgres://".len() => {
            format!("{}/{database}{query}", &base[..slash])
        }
        _ => format!("{base}/{database}{query}"),
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(running) = &self.running {
            running.shutdown();
        }
        if self.postgres_databases.is_empty() {
            return;
        }
        let databases = std::mem::take(&mut self.postgres_databases);
        // Drop runs inside the test's runtime: use a thread with a runtime of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let Ok(admin) = Database::connect(&postgres_admin_url()).await else {
                    return;
                };
                for name in databases {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A request asking to be answered in `accept_language` (`zh-CN`, `en;q=0.5, zh;q=0.9`).
pub fn in_language<T>(message: T, accept_language: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert(
        "accept-language",
        accept_language.parse().expect("a header value"),
    );
    request
}

/// The names of the fields an INVALID_ARGUMENT status says are bad.
pub fn bad_fields(status: &tonic::Status) -> Vec<String> {
    use tonic_types::StatusExt;
    assert_eq!(
        status.code(),
        tonic::Code::InvalidArgument,
        "expected INVALID_ARGUMENT, got {status:?}"
    );
    status
        .get_details_bad_request()
        .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
        .unwrap_or_default()
}

/// Asserts the status code of a failed call and returns the status.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(
    result: Result<T, tonic::Status>,
    code: tonic::Code,
) -> tonic::Status {
    match result {
        Ok(value) => panic!("expected {code:?}, got Ok({value:?})"),
        Err(status) => {
            assert_eq!(status.code(), code, "unexpected status: {status:?}");
            status
        }
    }
}

/// Asserts that a tenant asking about another tenant's record (`theirs`, id `their_id`) is
/// answered exactly as for a record that does not exist (`missing`, id `missing_id`): the
/// same code, the same message and the same error details but for the id.
#[track_caller]
pub fn answers_like_missing<T: std::fmt::Debug>(
    theirs: Result<T, tonic::Status>,
    their_id: &str,
    missing: Result<T, tonic::Status>,
    missing_id: &str,
) {
    let theirs = expect_code(theirs, tonic::Code::NotFound);
    let missing = expect_code(missing, tonic::Code::NotFound);
    assert_eq!(
        theirs.message().replace(their_id, "<id>"),
        missing.message().replace(missing_id, "<id>"),
        "another tenant's record must read like a missing one"
    );
    use tonic_types::StatusExt;
    let details = |status: &tonic::Status, id: &str| {
        format!("{:?}", status.get_error_details()).replace(id, "<id>")
    };
    assert_eq!(
        details(&theirs, their_id),
        details(&missing, missing_id),
        "no details that could tell them apart"
    );
    let info = theirs.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "NOT_FOUND");
}
