//! The Assay process: its configuration, and starting any set of services on one port.
//!
//! `main.rs` is a thin command line over this library; the tests start whole systems with
//! [`start`] exactly as `assay serve` does.

pub mod admin;
pub mod demo;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::Context;
use assay_common::config::{
    AuthConfig, DatabaseConfig, LogConfig, OutboxConfig, PlatformConfig, ServerConfig,
};
use assay_common::policy::Policies;
use assay_common::server::{self, Readiness, ServeOptions};
use assay_common::service::Service;
use assay_common::{Platform, db};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic_health::server::HealthReporter;

/// The whole configuration of a process.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppConfig {
    /// Where the gRPC server listens (`--listen`, `ASSAY_LISTEN`).
    pub listen: SocketAddr,
    /// Embedded databases and generated secrets (`--data-dir`, `ASSAY_DATA_DIR`).
    pub data_dir: PathBuf,
    pub log: LogConfig,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub outbox: OutboxConfig,
    pub documents: assay_common::documents::DocumentsConfig,
    pub registry: assay_registry::Config,
    pub screening: assay_screening::Config,
    pub cases: assay_cases::Config,
    pub lawenforcement: assay_lawenforcement::Config,
}

impl Default for AppConfig {
    fn default() -> Self {
        let platform = PlatformConfig::default();
        Self {
            listen: platform.listen,
            data_dir: platform.data_dir,
            log: platform.log,
            server: platform.server,
            database: platform.database,
            auth: platform.auth,
            outbox: platform.outbox,
            documents: platform.documents,
            registry: assay_registry::Config::default(),
            screening: assay_screening::Config::default(),
            cases: assay_cases::Config::default(),
            lawenforcement: assay_lawenforcement::Config::default(),
        }
    }
}

impl AppConfig {
    /// The configuration with its secrets hidden: database passwords. (Every other secret
    /// is configured as a file path, never inline.)
    pub fn redacted(&self) -> Self {
        let mut shown = self.clone();
        for url in [
            &mut shown.registry.database_url,
            &mut shown.screening.database_url,
            &mut shown.cases.database_url,
            &mut shown.lawenforcement.database_url,
        ]
        .into_iter()
        .flatten()
        {
            *url = db::redact(url);
        }
        shown
    }

    pub fn platform(&self) -> PlatformConfig {
        PlatformConfig {
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            log: self.log.clone(),
            server: self.server.clone(),
            database: self.database.clone(),
            auth: self.auth.clone(),
            outbox: self.outbox.clone(),
            documents: self.documents.clone(),
        }
    }
}

/// A service this binary can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceName {
    Registry,
    Screening,
    Cases,
    LawEnforcement,
}

impl ServiceName {
    pub const ALL: &'static [ServiceName] = &[
        ServiceName::Registry,
        ServiceName::Screening,
        ServiceName::Cases,
        ServiceName::LawEnforcement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceName::Registry => assay_registry::NAME,
            ServiceName::Screening => assay_screening::NAME,
            ServiceName::Cases => assay_cases::NAME,
            ServiceName::LawEnforcement => assay_lawenforcement::NAME,
        }
    }
}

impl FromStr for ServiceName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        ServiceName::ALL
            .iter()
            .copied()
            .find(|name| name.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ServiceName::ALL.iter().map(|n| n.as_str()).collect();
                format!("unknown service {s:?}; services: all, {}", names.join(", "))
            })
    }
}

/// The services named on the command line; none or `all` means every one.
pub fn select(names: &[String]) -> Result<Vec<ServiceName>, String> {
    if names.is_empty() || names.iter().any(|n| n == "all") {
        return Ok(ServiceName::ALL.to_vec());
    }
    let mut selected = Vec::new();
    for name in names {
        let service: ServiceName = name.parse()?;
        if !selected.contains(&service) {
            selected.push(service);
        }
    }
    Ok(selected)
}

/// Where the services of this process reach each other.
struct Peers<'a> {
    /// The services running in this process.
    local: &'a [ServiceName],
    /// This process's own address, as a URL.
    own: String,
}

impl Peers<'_> {
    /// The configured endpoint of a peer, or this process if the peer runs here.
    fn endpoint(
        &self,
        peer: ServiceName,
        configured: &Option<String>,
        needed_by: ServiceName,
    ) -> anyhow::Result<String> {
        match configured {
            Some(endpoint) => Ok(endpoint.clone()),
            None if self.local.contains(&peer) => Ok(self.own.clone()),
            None => anyhow::bail!(
                "{} needs [{}] {}_endpoint when {} does not run in the same process",
                needed_by.as_str(),
                needed_by.as_str(),
                peer.as_str(),
                peer.as_str()
            ),
        }
    }
}

impl Peers<'_> {
    /// Like [`Peers::endpoint`], for a peer that can wait: `None` when it is neither
    /// configured nor here.
    fn optional(&self, peer: ServiceName, configured: &Option<String>) -> Option<String> {
        match configured {
            Some(endpoint) => Some(endpoint.clone()),
            None if self.local.contains(&peer) => Some(self.own.clone()),
            None => None,
        }
    }
}

async fn build(
    name: ServiceName,
    platform: &Platform,
    config: &AppConfig,
    peers: &Peers<'_>,
) -> anyhow::Result<Box<dyn Service>> {
    Ok(match name {
        ServiceName::Registry => Box::new(
            assay_registry::Registry::new(platform.clone(), config.registry.clone()).await?,
        ),
        ServiceName::Screening => {
            let registry = peers.endpoint(
                ServiceName::Registry,
                &config.screening.registry_endpoint,
                ServiceName::Screening,
            )?;
            let cases = peers.optional(ServiceName::Cases, &config.screening.cases_endpoint);
            let lawenforcement = peers.optional(
                ServiceName::LawEnforcement,
                &config.screening.lawenforcement_endpoint,
            );
            Box::new(
                assay_screening::Screening::new(
                    platform.clone(),
                    config.screening.clone(),
                    assay_screening::Peers {
                        registry,
                        cases,
                        lawenforcement,
                    },
                )
                .await?,
            )
        }
        ServiceName::Cases => {
            let registry = peers.endpoint(
                ServiceName::Registry,
                &config.cases.registry_endpoint,
                ServiceName::Cases,
            )?;
            let screening =
                peers.optional(ServiceName::Screening, &config.cases.screening_endpoint);
            let lawenforcement = peers.optional(
                ServiceName::LawEnforcement,
                &config.cases.lawenforcement_endpoint,
            );
            Box::new(
                assay_cases::Cases::new(
                    platform.clone(),
                    config.cases.clone(),
                    assay_cases::Peers {
                        registry,
                        screening,
                        lawenforcement,
                    },
                )
                .await?,
            )
        }
        ServiceName::LawEnforcement => {
            let settings = &config.lawenforcement;
            let peers = assay_lawenforcement::Peers {
                screening: peers.optional(ServiceName::Screening, &settings.screening_endpoint),
                cases: peers.optional(ServiceName::Cases, &settings.cases_endpoint),
            };
            Box::new(
                assay_lawenforcement::LawEnforcement::new(
                    platform.clone(),
                    settings.clone(),
                    peers,
                )
                .await?,
            )
        }
    })
}

/// A URL to reach a listening address from this host.
fn own_endpoint(addr: SocketAddr, tls: bool) -> String {
    let ip = if addr.ip().is_unspecified() {
        match addr {
            SocketAddr::V4(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            SocketAddr::V6(_) => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        }
    } else {
        addr.ip()
    };
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{}", SocketAddr::new(ip, addr.port()))
}

/// A started process.
pub struct Running {
    /// The address it serves on.
    pub addr: SocketAddr,
    /// Where health alone is served in plaintext (`server.health_listen`), if anywhere.
    pub health_addr: Option<SocketAddr>,
    /// Where this start wrote a new bootstrap admin token, and when it expires.
    pub new_bootstrap_token: Option<(PathBuf, std::time::SystemTime)>,
    pub platform: Platform,
    pub health: HealthReporter,
    pub readiness: Readiness,
    server: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Begins a graceful shutdown.
    pub fn shutdown(&self) {
        self.platform.shutdown.cancel();
    }

    pub fn shutdown_token(&self) -> CancellationToken {
        self.platform.shutdown.clone()
    }

    /// Waits until the server stopped.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.server.await.context("server task failed")?
    }
}

/// Starts `names` on `listener`: the server answers health checks (NOT_SERVING) at once,
/// and every service turns SERVING once its migrations ran and its database answers.
pub async fn start(
    config: AppConfig,
    names: &[ServiceName],
    listener: tokio::net::TcpListener,
) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let (platform, first_start) = Platform::init(config.platform())?;
    let peers = Peers {
        local: names,
        own: own_endpoint(addr, platform.peers_use_tls()),
    };
    let mut services = Vec::with_capacity(names.len());
    for name in names {
        services.push(build(*name, &platform, &config, &peers).await?);
    }
    let grpc_names: Vec<String> = services
        .iter()
        .map(|s| s.grpc_service().to_owned())
        .collect();
    let health = tonic_health::server::HealthReporter::new();
    let health_server = server::health_server(health.clone());
    let readiness = Readiness::new(&grpc_names, health.clone()).await;
    let mut routes = tonic::service::RoutesBuilder::default();
    for service in &services {
        service.add_routes(&mut routes);
    }
    let health_alone = match config.server.health_listen {
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("binding the health port {at}"))?;
            Some((listener.local_addr()?, listener, health_server.clone()))
        }
        None => None,
    };
    let routes = server::with_platform_services(routes, health_server)?;
    let options = ServeOptions {
        config: config.server.clone(),
        gate: server::Gate {
            authenticator: platform.authenticator.clone(),
            policies: Policies::new(services.iter().map(|s| s.policy())),
            directory: platform.directory.clone(),
            refusals: platform.refusals.clone(),
        },
        drain: platform.drain.clone(),
        readiness: readiness.clone(),
        tls: platform.server_tls.clone(),
    };
    // The health and metrics ports answer until the main server has drained.
    let health_stop = CancellationToken::new();
    if let Some(at) = config.server.metrics_listen {
        let listener = tokio::net::TcpListener::bind(at)
            .await
            .with_context(|| format!("binding the metrics port {at}"))?;
        match assay_common::metrics::installed() {
            Some(metrics) => {
                tracing::info!(addr = %listener.local_addr()?, "metrics served at /metrics");
                tokio::spawn(assay_common::metrics::serve(
                    listener,
                    metrics,
                    health_stop.clone(),
                ));
            }
            None => tracing::warn!("server.metrics_listen is set but no metrics are installed"),
        }
    }
    let health_addr = match health_alone {
        Some((at, listener, health_server)) => {
            tokio::spawn(server::serve_health(
                listener,
                health_server,
                health_stop.clone(),
            ));
            tracing::info!(addr = %at, "health served in plaintext");
            Some(at)
        }
        None => None,
    };
    let server = {
        let serving = server::serve(listener, routes, options, platform.shutdown.clone());
        tokio::spawn(async move {
            let result = serving.await;
            health_stop.cancel();
            result
        })
    };
    tracing::info!(%addr, services = ?names.iter().map(|n| n.as_str()).collect::<Vec<_>>(), "listening");

    for service in &services {
        let status = readiness.status(service.grpc_service());
        let started = async {
            let applied = service.migrate().await?;
            if !applied.is_empty() {
                tracing::info!(service = service.name(), ?applied, "migrated");
            }
            anyhow::ensure!(
                db::ping(service.database()).await,
                "the database does not answer"
            );
            service.start(status.clone()).await
        };
        // A replica waiting for another's migrations stops waiting when it is told to stop.
        let started = async {
            tokio::select! {
                started = started => started,
                () = platform.shutdown.cancelled() => Err(anyhow::anyhow!("stopped while starting")),
            }
        };
        if let Err(error) = started.await {
            platform.shutdown.cancel();
            let _ = server.await;
            return Err(error.context(format!("starting {}", service.name())));
        }
        assay_common::metrics::observe_pool(service.name(), service.database());
        server::watch_database(
            service.database().clone(),
            status,
            platform.shutdown.clone(),
        );
        tracing::info!(service = service.name(), "started");
    }

    Ok(Running {
        addr,
        health_addr,
        new_bootstrap_token: first_start.bootstrap_token,
        platform,
        health,
        readiness,
        server,
    })
}

/// The named services, built for maintenance: on an offline platform, serving nobody and
/// reaching no peer (so any endpoint will do).
async fn for_maintenance(
    config: &AppConfig,
    names: &[ServiceName],
) -> anyhow::Result<Vec<Box<dyn Service>>> {
    let platform = Platform::offline(config.platform());
    let peers = Peers {
        local: ServiceName::ALL,
        own: own_endpoint(config.listen, false),
    };
    let mut services = Vec::with_capacity(names.len());
    for name in names {
        services.push(build(*name, &platform, config, &peers).await?);
    }
    Ok(services)
}

/// What `assay migrate --status` prints: each service's migrations, applied or pending,
/// changing nothing; fails if any is pending.
pub async fn migration_status(config: AppConfig, names: &[ServiceName]) -> anyhow::Result<()> {
    let mut pending = 0;
    for service in for_maintenance(&config, names).await? {
        let status = service
            .migration_status()
            .await
            .with_context(|| format!("reading the migrations of {}", service.name()))?;
        for (migration, applied) in status {
            println!(
                "{:<16} {:<8} {migration}",
                service.name(),
                if applied { "applied" } else { "pending" }
            );
            pending += usize::from(!applied);
        }
    }
    anyhow::ensure!(
        pending == 0,
        "{pending} migrations are pending: run `assay migrate`"
    );
    Ok(())
}

/// Runs the pending migrations of `names` and returns.
pub async fn migrate(config: AppConfig, names: &[ServiceName]) -> anyhow::Result<()> {
    for service in for_maintenance(&config, names).await? {
        let applied = service
            .migrate()
            .await
            .with_context(|| format!("migrating {}", service.name()))?;
        if applied.is_empty() {
            tracing::info!(service = service.name(), "up to date");
        } else {
            tracing::info!(service = service.name(), ?applied, "migrated");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_configuration_is_the_default_and_valid() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../config/assay.example.toml");
        let config: AppConfig =
            assay_common::config::load(Some(&path), serde_json::json!({})).unwrap();
        assert!(config.platform().problems().is_empty());
        let defaults = AppConfig::default();
        assert_eq!(
            toml::to_string(&config).unwrap(),
            toml::to_string(&defaults).unwrap(),
            "the example documents the defaults"
        );
    }

    /// Every RPC of the contract has exactly one rule in its service's policy table, and
    /// every rule names an RPC that exists.
    #[test]
    fn every_rpc_has_a_policy_entry() {
        use prost::Message;
        let policies = [
            &assay_registry::policy::POLICY,
            &assay_screening::policy::POLICY,
            &assay_cases::policy::POLICY,
            &assay_lawenforcement::policy::POLICY,
        ];
        let set = prost_types::FileDescriptorSet::decode(assay_proto::FILE_DESCRIPTOR_SET)
            .expect("the contract's descriptor set");
        let mut problems = Vec::new();
        let mut services = 0;
        for file in &set.file {
            for service in &file.service {
                let full = format!("{}.{}", file.package(), service.name());
                let Some(policy) = policies.iter().find(|p| p.service == full) else {
                    problems.push(format!("{full} has no policy table"));
                    continue;
                };
                services += 1;
                for method in &service.method {
                    let rules = policy
                        .rules
                        .iter()
                        .filter(|r| r.method == method.name())
                        .count();
                    if rules != 1 {
                        problems.push(format!("{full}/{} has {rules} rules", method.name()));
                    }
                }
                for rule in policy.rules {
                    if !service.method.iter().any(|m| m.name() == rule.method) {
                        problems.push(format!("{full} has a rule for unknown {}", rule.method));
                    }
                }
            }
        }
        assert_eq!(
            services,
            policies.len(),
            "every policy belongs to a service"
        );
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn the_printed_configuration_hides_database_passwords() {
        let mut config = AppConfig::default();
        config.cases.database_url = Some("postgres://assay:hunter2@db/cases".to_owned());
        config.registry.database_url =
            Some("postgres://db/registry?user=assay&password=hunter2".to_owned());
        let printed = toml::to_string(&config.redacted()).unwrap();
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("postgres://assay:***@db/cases"));
    }

    #[test]
    fn services_are_selected_by_name() {
        assert_eq!(select(&[]).unwrap(), ServiceName::ALL);
        assert_eq!(select(&["all".into()]).unwrap(), ServiceName::ALL);
        assert_eq!(
            select(&["registry".into(), "registry".into()]).unwrap(),
            [ServiceName::Registry]
        );
        assert_eq!(
            select(&["screening".into(), "cases".into()]).unwrap(),
            [ServiceName::Screening, ServiceName::Cases]
        );
        assert!(
            select(&["billing".into()])
                .unwrap_err()
                .contains("unknown service")
        );
    }
}
