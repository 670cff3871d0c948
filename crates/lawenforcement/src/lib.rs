//! The law-enforcement service: the directory of partner agencies, their requests for
//! information under legal process with the legal clocks, verification, legal review,
//! gathering from screening and cases into disclosure packages, preservation holds,
//! referrals received from case management, outcomes, the transparency report, and the
//! hash-chained audit log of every read and disclosure.

mod api;
pub mod audit;
pub mod domain;
pub mod entity;
mod gather;
pub mod ids;
pub mod migration;
mod relay;
mod store;

use std::sync::Arc;
use std::time::Duration;

use assay_common::Platform;
use assay_common::outbox::Relay;
use assay_common::server::ServiceStatus;
use assay_common::service::{BoxFuture, Service};
use assay_proto::lawenforcement::v1::law_enforcement_service_server::LawEnforcementServiceServer;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use tonic::service::RoutesBuilder;

pub use api::LawEnforcementApi;

pub const NAME: &str = "lawenforcement";

/// Outbox topic of referral outcomes for case management.
pub const REFERRAL_OUTCOME_TOPIC: &str = "lawenforcement.referral_outcome";

/// The law-enforcement service's configuration (`[lawenforcement]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Its database; unset: `<data_dir>/lawenforcement.db`.
    pub database_url: Option<String>,
    /// Screening, asked for screened listings. Unset: this process if it runs screening.
    pub screening_endpoint: Option<String>,
    /// Case management, asked for cases and sellers, and told of referral outcomes. Unset:
    /// this process if it runs cases.
    pub cases_endpoint: Option<String>,
    /// How long a disclosed package can be downloaded.
    #[serde(with = "humantime_serde")]
    pub package_ttl: Duration,
    /// How often deadlines are checked for escalation.
    #[serde(with = "humantime_serde")]
    pub deadline_check_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            screening_endpoint: None,
            cases_endpoint: None,
            package_ttl: domain::PACKAGE_TTL,
            deadline_check_interval: Duration::from_secs(60),
        }
    }
}

impl Config {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.package_ttl.is_zero() {
            problems.push("lawenforcement.package_ttl must be above zero".to_owned());
        }
        if self.deadline_check_interval.is_zero() {
            problems.push("lawenforcement.deadline_check_interval must be above zero".to_owned());
        }
        problems
    }
}

/// Where the law-enforcement service reaches its peers; `None` where none is configured.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    pub screening: Option<String>,
    pub cases: Option<String>,
}

/// The law-enforcement service of a process.
pub struct LawEnforcement {
    db: DatabaseConnection,
    api: LawEnforcementApi,
    platform: Platform,
    config: Arc<Config>,
    peers: Peers,
}

impl LawEnforcement {
    pub async fn new(platform: Platform, config: Config, peers: Peers) -> anyhow::Result<Self> {
        let problems = config.problems();
        anyhow::ensure!(
            problems.is_empty(),
            "invalid configuration:\n  {}",
            problems.join("\n  ")
        );
        let url = config
            .database_url
            .clone()
            .unwrap_or_else(|| platform.config.sqlite_url(NAME));
        let db = assay_common::db::connect(&url, &platform.config.database).await?;
        let connect = |endpoint: &Option<String>| {
            endpoint
                .as_deref()
                .map(|e| assay_common::client::connect(e, platform.credentials(NAME)))
                .transpose()
        };
        let sources = gather::Sources {
            screening: connect(&peers.screening)?,
            cases: connect(&peers.cases)?,
        };
        let config = Arc::new(config);
        let api = LawEnforcementApi::new(
            db.clone(),
            sources,
            platform.page_tokens.clone(),
            config.clone(),
        );
        Ok(Self {
            db,
            api,
            platform,
            config,
            peers,
        })
    }
}

impl Service for LawEnforcement {
    fn name(&self) -> &'static str {
        NAME
    }

    fn grpc_service(&self) -> &'static str {
        "assay.lawenforcement.v1.LawEnforcementService"
    }

    fn database(&self) -> &DatabaseConnection {
        &self.db
    }

    fn add_routes(&self, routes: &mut RoutesBuilder) {
        let max = self.platform.config.server.max_message_bytes;
        routes.add_service(
            LawEnforcementServiceServer::new(self.api.clone())
                .max_decoding_message_size(max)
                .max_encoding_message_size(max),
        );
    }

    fn migrate(&self) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(assay_common::db::migrate::<migration::Migrator>(&self.db))
    }

    fn start(&self, status: ServiceStatus) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let shutdown = self.platform.shutdown.clone();
            let mut relay = Relay::new(self.db.clone(), self.platform.config.outbox.clone());
            match &self.peers.cases {
                Some(endpoint) => {
                    let channel =
                        assay_common::client::connect(endpoint, self.platform.credentials(NAME))?;
                    relay = relay.route(
                        REFERRAL_OUTCOME_TOPIC,
                        relay::ReferralOutcomes::new(channel),
                    );
                }
                None => tracing::warn!(
                    "no [lawenforcement] cases_endpoint: referral outcomes wait in the outbox"
                ),
            }
            self.api.set_waker(relay.waker());
            tokio::spawn(relay.run(shutdown.clone()));
            tokio::spawn(api::watch_deadlines_forever(
                self.db.clone(),
                self.config.deadline_check_interval,
                shutdown,
            ));
            status.set_ready(true).await;
            Ok(())
        })
    }
}
