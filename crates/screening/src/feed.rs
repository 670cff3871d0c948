//! Keeping the engine current: the catalogue comes from the registry's watch stream, the
//! rules from the database; whenever either changes, a new engine is compiled off the
//! request path and swapped in atomically. Requests always see a whole engine, old or new.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use assay_common::client::PeerChannel;
use assay_common::server::ServiceStatus;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_proto::registry::v1::{CatalogueBrand, WatchCatalogueRequest};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EngineInput, ExchangeRates, RuleInput, Thresholds};
use crate::store;

/// The catalogue as last received.
#[derive(Debug, Default, Clone)]
pub struct Catalogue {
    /// Whether any catalogue was received yet (revision 0 is a real, empty catalogue).
    pub loaded: bool,
    pub revision: i64,
    pub brands: BTreeMap<String, CatalogueBrand>,
}

impl Catalogue {
    /// The members who may act for a brand: its owner and its agents.
    pub fn acting_members(&self, brand_id: &str) -> Option<Vec<&str>> {
        self.brands.get(brand_id).map(|b| {
            std::iter::once(b.member_id.as_str())
                .chain(b.agent_member_ids.iter().map(String::as_str))
                .collect()
        })
    }

    /// The brands a member owns or acts for.
    pub fn brands_of(&self, member_id: &str) -> Vec<String> {
        self.brands
            .values()
            .filter(|b| {
                b.member_id == member_id || b.agent_member_ids.iter().any(|a| a == member_id)
            })
            .map(|b| b.brand_id.clone())
            .collect()
    }
}

/// When and how the current engine was built.
#[derive(Debug, Clone, Copy)]
pub struct Built {
    pub time: DateTime<Utc>,
}

/// The engine in use and what it is built from.
pub struct Engines {
    current: ArcSwapOption<Engine>,
    built: Mutex<Option<Built>>,
    catalogue: Mutex<Arc<Catalogue>>,
    rules: Mutex<(i64, Arc<Vec<RuleInput>>)>,
    /// Catalogue or rules changed: build again.
    changed: Notify,
    /// The (catalogue revision, rule version) of the engine in use.
    in_use: tokio::sync::watch::Sender<(i64, i64)>,
    thresholds: Thresholds,
    rates: ExchangeRates,
}

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engines")
            .field(
                "current",
                &self.current.load().as_ref().map(|e| e.catalogue_revision()),
            )
            .finish_non_exhaustive()
    }
}

impl Engines {
    pub fn new(thresholds: Thresholds, rates: ExchangeRates) -> Self {
        Self {
            current: ArcSwapOption::empty(),
            built: Mutex::new(None),
            catalogue: Mutex::new(Arc::new(Catalogue::default())),
            rules: Mutex::new((-1, Arc::new(Vec::new()))),
            changed: Notify::new(),
            in_use: tokio::sync::watch::channel((-1, -1)).0,
            thresholds,
            rates,
        }
    }

    /// The engine to screen with, if one was built.
    pub fn current(&self) -> Option<Arc<Engine>> {
        self.current.load_full()
    }

    pub fn built(&self) -> Option<Built> {
        *self.built.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The catalogue the latest engine is (or is about to be) built from.
    pub fn catalogue(&self) -> Arc<Catalogue> {
        self.catalogue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_catalogue(&self, catalogue: Catalogue) {
        *self.catalogue.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalogue);
        self.changed.notify_one();
    }

    /// Loads the rules from the database if their version moved; returns the version.
    pub async fn refresh_rules(&self, db: &DatabaseConnection) -> anyhow::Result<i64> {
        let known = self.rules.lock().unwrap_or_else(|e| e.into_inner()).0;
        let current = store::rule_version(db)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if current == known {
            return Ok(current);
        }
        let (version, rules) = store::load_rules(db)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        *self.rules.lock().unwrap_or_else(|e| e.into_inner()) = (version, Arc::new(rules));
        self.changed.notify_one();
        Ok(version)
    }

    /// Waits (up to `timeout`) until the engine in use has the rules of `version`, so that
    /// whoever changed a rule sees it in their next screening.
    pub async fn wait_for_rules(&self, version: i64, timeout: Duration) -> bool {
        let mut in_use = self.in_use.subscribe();
        tokio::time::timeout(timeout, in_use.wait_for(|&(_, rules)| rules >= version))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Compiles engines whenever the catalogue or the rules change, and reports the service
    /// ready once the first catalogue is in.
    pub async fn build_forever(
        self: Arc<Self>,
        status: ServiceStatus,
        shutdown: CancellationToken,
    ) {
        let mut built_from: Option<(i64, i64)> = None;
        loop {
            let catalogue = self.catalogue();
            let (rule_version, rules) =
                self.rules.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let inputs_known = catalogue.loaded && rule_version >= 0;
            if inputs_known && built_from != Some((catalogue.revision, rule_version)) {
                let input = EngineInput {
                    catalogue_revision: catalogue.revision,
                    rule_version,
                    brands: catalogue.brands.values().cloned().collect(),
                    rules: (*rules).clone(),
                    thresholds: self.thresholds,
                    rates: self.rates.clone(),
                };
                let started = Instant::now();
                match tokio::task::spawn_blocking(move || Engine::compile(input)).await {
                    Ok(Ok(engine)) => {
                        let stats = engine.stats();
                        self.current.store(Some(Arc::new(engine)));
                        *self.built.lock().unwrap_or_else(|e| e.into_inner()) = Some(Built {
                            time: assay_common::time::now(),
                        });
                        built_from = Some((catalogue.revision, rule_version));
                        self.in_use.send_replace((catalogue.revision, rule_version));
                        tracing::info!(
                            catalogue_revision = catalogue.revision,
                            rule_version,
                            brands = stats.brands,
                            terms = stats.brand_terms + stats.vocabulary_terms,
                            millis = started.elapsed().as_millis() as u64,
                            "screening engine built"
                        );
                        if !status.is_ready() {
                            status.set_ready(true).await;
                        }
                    }
                    Ok(Err(error)) => tracing::error!(%error, "building the engine failed"),
                    Err(error) => tracing::error!(%error, "the engine build panicked"),
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.changed.notified() => {}
            }
        }
    }
}

/// Polls the rule set version, so that rules changed on another replica reach this one.
pub async fn poll_rules_forever(
    engines: Arc<Engines>,
    db: DatabaseConnection,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        if let Err(error) = engines.refresh_rules(&db).await {
            tracing::warn!(%error, "reading the rules failed; will retry");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// Follows the registry's catalogue: watches it from the revision held, applies each
/// revision only once all its batches arrived, and reconnects with backoff when the stream
/// breaks. The engine keeps serving the last catalogue meanwhile.
pub async fn follow_catalogue_forever(
    engines: Arc<Engines>,
    channel: PeerChannel,
    shutdown: CancellationToken,
) {
    let mut client =
        RegistryServiceClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);
    let mut backoff = Duration::from_millis(100);
    loop {
        let held = engines.catalogue();
        let result = tokio::select! {
            () = shutdown.cancelled() => return,
            result = follow_once(&engines, &mut client, &held) => result,
        };
        match result {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(error) => {
                tracing::warn!(error = %error, retry_in = ?backoff, "catalogue watch broke");
            }
        }
        // Jitter, so replicas do not reconnect in step.
        let jitter =
            Duration::from_millis(rand::random::<u64>() % (backoff.as_millis() as u64 / 2 + 1));
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(backoff + jitter) => {}
        }
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

async fn follow_once(
    engines: &Engines,
    client: &mut RegistryServiceClient<PeerChannel>,
    held: &Catalogue,
) -> Result<(), tonic::Status> {
    let mut stream = client
        .watch_catalogue(WatchCatalogueRequest {
            since_revision: if held.loaded { held.revision } else { 0 },
        })
        .await?
        .into_inner();
    let mut working = held.clone();
    let mut dirty = false;
    while let Some(batch) = stream.message().await? {
        if batch.reset && !dirty {
            working.brands.clear();
        }
        dirty = true;
        for brand in batch.upserts {
            working.brands.insert(brand.brand_id.clone(), brand);
        }
        for removed in batch.removed_brand_ids {
            working.brands.remove(&removed);
        }
        if batch.complete {
            dirty = false;
            if !working.loaded || batch.revision != working.revision {
                working.loaded = true;
                working.revision = batch.revision;
                tracing::debug!(
                    revision = batch.revision,
                    brands = working.brands.len(),
                    "catalogue revision received"
                );
                engines.set_catalogue(working.clone());
            }
        }
    }
    Err(tonic::Status::unavailable(
        "the registry ended the catalogue watch",
    ))
}
