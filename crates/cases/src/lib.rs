//! Case management: takedown notices, screening alerts and staff findings become cases that
//! analysts review, act on, escalate and refer; with evidence under a chain of custody,
//! seller strikes and clusters, counter-notices, and the programme's figures.

mod api;
mod config;
mod convert;
pub mod domain;
pub mod entity;
pub mod ids;
mod jobs;
mod metrics;
pub mod migration;
pub mod policy;
mod relay;
mod store;

use std::sync::Arc;

use assay_common::Platform;
use assay_common::catalogue::CatalogueCopy;
use assay_common::db::Db;
use assay_common::directory::RemoteMembers;
use assay_common::outbox::{Relay, topic};
use assay_common::server::ServiceStatus;
use assay_common::service::{BoxFuture, Service};
use assay_proto::cases::v1::cases_service_server::CasesServiceServer;

pub use api::CasesApi;

pub use config::Config;

pub const NAME: &str = "cases";

/// Where case management reaches its peers.
#[derive(Debug, Clone)]
pub struct Peers {
    pub registry: String,
    pub screening: Option<String>,
    pub lawenforcement: Option<String>,
}

/// The case management service of a process.
pub struct Cases {
    db: Db,
    api: CasesApi,
    catalogue: Arc<CatalogueCopy>,
    platform: Platform,
    config: Arc<Config>,
    peers: Peers,
}

impl Cases {
    pub async fn new(platform: Platform, config: Config, peers: Peers) -> anyhow::Result<Self> {
        assay_common::config::ensure_valid(config.problems())?;
        let db = platform
            .database(NAME, config.database_url.as_deref())
            .await?;
        let catalogue = Arc::new(CatalogueCopy::default());
        let registry = assay_common::client::connect(&peers.registry, platform.credentials(NAME))?;
        // Members file notices and read their cases; the registry says who is active.
        platform
            .directory
            .set_members(Arc::new(RemoteMembers::new(registry.clone())), false);
        let lawenforcement = peers
            .lawenforcement
            .as_deref()
            .map(|e| assay_common::client::connect(e, platform.credentials(NAME)))
            .transpose()?;
        let config = Arc::new(config);
        let api = CasesApi::new(
            db.clone(),
            catalogue.clone(),
            registry,
            lawenforcement,
            platform.page_tokens.clone(),
            config.clone(),
        );
        Ok(Self {
            db,
            api,
            catalogue,
            platform,
            config,
            peers,
        })
    }
}

impl Service for Cases {
    assay_common::service_parts!(
        NAME,
        policy::POLICY,
        CasesServiceServer,
        migration::Migrator
    );

    fn start(&self, status: ServiceStatus) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let shutdown = self.platform.shutdown.clone();
            // Ready once the catalogue is in: members' access depends on it.
            let registry = assay_common::client::connect(
                &self.peers.registry,
                self.platform.credentials(NAME),
            )?;
            let catalogue = self.catalogue.clone();
            tokio::spawn(assay_common::catalogue::follow_forever(
                registry,
                move |received| {
                    catalogue.store(received.clone());
                    if !status.is_ready() {
                        let status = status.clone();
                        tokio::spawn(async move { status.set_ready(true).await });
                    }
                },
                shutdown.clone(),
            ));
            let mut relay = Relay::new(self.db.clone(), self.platform.config.outbox.clone());
            match &self.peers.screening {
                Some(endpoint) => {
                    let channel =
                        assay_common::client::connect(endpoint, self.platform.credentials(NAME))?;
                    relay = relay
                        .route(
                            topic::HIT_FEEDBACK,
                            relay::HitFeedback::new(channel.clone()),
                        )
                        .route(
                            topic::SELLER_STANDING,
                            relay::SellerStandings::new(
                                channel,
                                self.db.clone(),
                                self.config.repeat_infringer.clone(),
                            ),
                        );
                }
                None => tracing::warn!(
                    "no [cases] screening_endpoint: feedback on hits and sellers' standing wait in the outbox"
                ),
            }
            match &self.peers.lawenforcement {
                Some(endpoint) => {
                    let channel =
                        assay_common::client::connect(endpoint, self.platform.credentials(NAME))?;
                    relay = relay.route(
                        topic::REFERRAL,
                        relay::Referrals::new(channel, self.db.clone()),
                    );
                }
                None => tracing::warn!(
                    "no [cases] lawenforcement_endpoint: referrals wait in the outbox, and closed cases are kept"
                ),
            }
            relay = relay
                .route(
                    topic::ENFORCEMENT_CHECK,
                    relay::EnforcementChecks::new(self.api.clone()),
                )
                .route(
                    topic::NOTIFICATION,
                    assay_common::webhooks::Webhooks::new(
                        self.db.clone(),
                        &self.config.notifications,
                    )?,
                );
            self.api.set_waker(relay.waker());
            tokio::spawn(relay.run(shutdown.clone()));
            tokio::spawn(jobs::deadlines_forever(
                self.api.clone(),
                self.config.sla.check_interval,
                shutdown.clone(),
            ));
            if self.peers.lawenforcement.is_some() {
                tokio::spawn(jobs::retention_forever(
                    self.api.clone(),
                    self.config.closed_case_retention,
                    shutdown,
                ));
            }
            Ok(())
        })
    }
}
