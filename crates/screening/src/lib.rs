//! Listing screening: the engine that finds counterfeit listings and explains why, and the
//! service around it — the catalogue feed from the registry, rules, hits with feedback, and
//! the outbox that hands hits to case management.

mod api;
pub mod calibration;
mod convert;
pub mod engine;
pub mod entity;
mod feed;
pub mod ids;
mod jobs;
pub mod listing;
mod metrics;
pub mod migration;
pub mod policy;
mod relay;
pub mod rules;
pub mod sellers;
mod store;
#[doc(hidden)]
pub mod synthetic;
mod writer;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use assay_common::Platform;
use assay_common::db::Db;
use assay_common::directory::RemoteMembers;
use assay_common::holds::HoldChecker;
use assay_common::money::CurrencyCode;
use assay_common::outbox::{Relay, topic};
use assay_common::server::ServiceStatus;
use assay_common::service::{BoxFuture, Service};
use assay_proto::screening::v1::screening_service_server::ScreeningServiceServer;
use serde::{Deserialize, Serialize};

pub use api::ScreeningApi;

use crate::engine::{ExchangeRates, Thresholds};
use crate::feed::Engines;

pub const NAME: &str = "screening";

/// Screening's own configuration (`[screening]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Its database; unset: `<data_dir>/screening.db`.
    pub database_url: Option<String>,
    /// The registry whose catalogue it follows, e.g. `http://registry:50051`. Unset: this
    /// process, which must then run the registry too.
    pub registry_endpoint: Option<String>,
    /// Case management, which receives hits as alerts. Unset: this process if it runs
    /// case management; otherwise hits wait in the outbox until one is configured.
    pub cases_endpoint: Option<String>,
    /// The law-enforcement service, asked about preservation holds before hits are purged.
    /// Unset: this process if it runs it; otherwise nothing is ever purged.
    pub lawenforcement_endpoint: Option<String>,
    /// How long hits are kept; older ones are purged unless a preservation hold covers
    /// their seller or listing.
    #[serde(with = "humantime_serde")]
    pub hit_retention: Duration,
    /// Default risk from which a listing is reviewed; global and brand rules override it.
    pub review_threshold: f64,
    /// Default risk from which a listing is blocked.
    pub block_threshold: f64,
    /// What one unit of each currency is worth in a common unit (here: US dollars). Prices in
    /// currencies without a rate are not compared.
    pub exchange_rates: BTreeMap<String, f64>,
    /// How often rules changed on other replicas are picked up.
    #[serde(with = "humantime_serde")]
    pub rules_poll_interval: Duration,
    /// How long a screening that names a catalogue revision (`min_catalogue_revision`)
    /// waits for this replica's engine to reach it.
    #[serde(with = "humantime_serde")]
    pub catalogue_wait: Duration,
}

impl Default for Config {
    fn default() -> Self {
        let rates = [
            ("USD", 1.0),
            ("EUR", 1.08),
            ("GBP", 1.27),
            ("CHF", 1.13),
            ("CNY", 0.138),
            ("HKD", 0.128),
            ("JPY", 0.0066),
            ("KRW", 0.00073),
            ("SGD", 0.74),
            ("AUD", 0.66),
            ("CAD", 0.73),
            ("INR", 0.012),
            ("BRL", 0.18),
            ("MXN", 0.055),
            ("AED", 0.27),
            ("TRY", 0.029),
        ];
        Self {
            database_url: None,
            registry_endpoint: None,
            cases_endpoint: None,
            lawenforcement_endpoint: None,
            hit_retention: Duration::from_secs(730 * 24 * 3600),
            review_threshold: 0.5,
            block_threshold: 0.8,
            exchange_rates: rates.into_iter().map(|(c, r)| (c.to_owned(), r)).collect(),
            rules_poll_interval: Duration::from_secs(5),
            catalogue_wait: Duration::from_secs(10),
        }
    }
}

impl Config {
    /// Everything wrong with it, as sentences.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, value) in [
            ("review_threshold", self.review_threshold),
            ("block_threshold", self.block_threshold),
        ] {
            if !(0.0..=1.0).contains(&value) {
                problems.push(format!("screening.{name} must be between 0 and 1"));
            }
        }
        if self.block_threshold < self.review_threshold {
            problems
                .push("screening.block_threshold must not be below review_threshold".to_owned());
        }
        for (code, rate) in &self.exchange_rates {
            if CurrencyCode::parse(code).is_err() {
                problems.push(format!(
                    "screening.exchange_rates: {code:?} is not an ISO 4217 code"
                ));
            }
            if !(rate.is_finite() && *rate > 0.0) {
                problems.push(format!(
                    "screening.exchange_rates.{code} must be above zero"
                ));
            }
        }
        if self.hit_retention.is_zero() {
            problems.push("screening.hit_retention must be above zero".to_owned());
        }
        if self.rules_poll_interval.is_zero() {
            problems.push("screening.rules_poll_interval must be above zero".to_owned());
        }
        problems
    }

    fn rates(&self) -> ExchangeRates {
        ExchangeRates::new(
            self.exchange_rates
                .iter()
                .filter_map(|(code, rate)| Some((CurrencyCode::parse(code).ok()?, *rate))),
        )
    }
}

/// Where screening reaches its peers.
#[derive(Debug, Clone)]
pub struct Peers {
    /// The registry whose catalogue it follows.
    pub registry: String,
    /// Case management, which takes hits as alerts; `None` keeps them in the outbox.
    pub cases: Option<String>,
    /// The law-enforcement service, which knows the preservation holds; `None`: no purge.
    pub lawenforcement: Option<String>,
}

/// The screening service of a process.
pub struct Screening {
    db: Db,
    api: ScreeningApi,
    engines: Arc<Engines>,
    platform: Platform,
    config: Config,
    peers: Peers,
}

impl Screening {
    /// Opens its database (lazily) and prepares the engine holder.
    pub async fn new(platform: Platform, config: Config, peers: Peers) -> anyhow::Result<Self> {
        assay_common::config::ensure_valid(config.problems())?;
        let db = platform
            .database(NAME, config.database_url.as_deref())
            .await?;
        let engines = Arc::new(Engines::new(
            Thresholds {
                review: config.review_threshold,
                block: config.block_threshold,
            },
            config.rates(),
        ));
        // Members call screening for their rules and hits; the registry says who is active.
        platform.directory.set_members(
            Arc::new(RemoteMembers::new(assay_common::client::connect(
                &peers.registry,
                platform.credentials(NAME),
            )?)),
            false,
        );
        let holds = HoldChecker::new(
            peers
                .lawenforcement
                .as_deref()
                .map(|e| assay_common::client::connect(e, platform.credentials(NAME)))
                .transpose()?,
        );
        let api = ScreeningApi::new(
            db.clone(),
            engines.clone(),
            platform.page_tokens.clone(),
            platform.drain.clone(),
            holds,
        )
        .with_catalogue_wait(config.catalogue_wait);
        Ok(Self {
            db,
            api,
            engines,
            platform,
            config,
            peers,
        })
    }
}

impl Service for Screening {
    assay_common::service_parts!(
        NAME,
        policy::POLICY,
        ScreeningServiceServer,
        migration::Migrator
    );

    fn start(&self, status: ServiceStatus) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let shutdown = self.platform.shutdown.clone();
            self.engines.refresh_rules(&self.db).await?;
            let channel = assay_common::client::connect(
                &self.peers.registry,
                self.platform.credentials(NAME),
            )?;
            tokio::spawn(self.engines.clone().build_forever(status, shutdown.clone()));
            let engines = self.engines.clone();
            tokio::spawn(assay_common::catalogue::follow_forever(
                channel,
                move |catalogue| engines.set_catalogue(catalogue),
                shutdown.clone(),
            ));
            let sellers = self.api.sellers();
            sellers.refresh(&self.db).await?;
            tokio::spawn(sellers::follow_forever(
                sellers,
                self.db.clone(),
                self.config.rules_poll_interval,
                shutdown.clone(),
            ));
            tokio::spawn(feed::poll_rules_forever(
                self.engines.clone(),
                self.db.clone(),
                self.config.rules_poll_interval,
                shutdown.clone(),
            ));
            let mut relay = Relay::new(self.db.clone(), self.platform.config.outbox.clone());
            match &self.peers.cases {
                Some(endpoint) => {
                    let channel =
                        assay_common::client::connect(endpoint, self.platform.credentials(NAME))?;
                    relay = relay.route(topic::SCREENING_HIT, relay::HitAlerts::new(channel));
                }
                None => tracing::warn!(
                    "no [screening] cases_endpoint: hits wait in the outbox for case management"
                ),
            }
            self.api.set_waker(relay.waker());
            tokio::spawn(relay.run(shutdown.clone()));
            tokio::spawn(jobs::retention_forever(
                self.api.clone(),
                self.config.hit_retention,
                self.peers.lawenforcement.is_some(),
                shutdown,
            ));
            Ok(())
        })
    }
}
