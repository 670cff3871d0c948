//! Keeping the engine current: the catalogue comes from the registry's watch stream, the
//! rules from the database; whenever either changes, a new engine is compiled off the
//! request path and swapped in atomically. Requests always see a whole engine, old or new.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use assay_common::catalogue::Catalogue;
use assay_common::db::Db;
use assay_common::server::ServiceStatus;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EngineInput, ExchangeRates, Thresholds};
use crate::rules::RuleSet;
use crate::store;

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
    /// The rule set version with the rules and calibration it names.
    rules: Mutex<(i64, Arc<RuleSet>)>,
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
            rules: Mutex::new((-1, Arc::new(RuleSet::default()))),
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

    pub fn set_catalogue(&self, catalogue: &Catalogue) {
        *self.catalogue.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalogue.clone());
        self.changed.notify_one();
    }

    /// Loads the rules and the calibration in use from the database if their version moved;
    /// returns the version.
    pub async fn refresh_rules(&self, db: &Db) -> anyhow::Result<i64> {
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

    /// Waits (up to `timeout`) until the engine in use was built from catalogue `revision`
    /// or a later one, so that a brand the caller just protected is screened for.
    pub async fn wait_for_catalogue(&self, revision: i64, timeout: Duration) -> bool {
        let mut in_use = self.in_use.subscribe();
        tokio::time::timeout(
            timeout,
            in_use.wait_for(|&(catalogue, _)| catalogue >= revision),
        )
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
            let (rule_version, set) = self.rules.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let inputs_known = catalogue.loaded && rule_version >= 0;
            if inputs_known && built_from != Some((catalogue.revision, rule_version)) {
                let input = EngineInput {
                    catalogue_revision: catalogue.revision,
                    rule_version,
                    brands: catalogue.brands.values().cloned().collect(),
                    rules: set.rules.clone(),
                    thresholds: self.thresholds,
                    rates: self.rates.clone(),
                    calibration: set.calibration.clone(),
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
                            calibration_version = set.calibration.version,
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
    db: Db,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut rounds = assay_common::jobs::Rounds::every(interval, shutdown);
    while rounds.next().await {
        if let Err(error) = engines.refresh_rules(&db).await {
            tracing::warn!(%error, "reading the rules failed; will retry");
        }
    }
}
