//! The law-enforcement service: the directory of partner agencies, their requests for
//! information under legal process with the legal clocks, verification, legal review,
//! gathering from screening and cases into disclosure packages, preservation holds,
//! referrals received from case management, outcomes, the transparency report, and the
//! hash-chained audit log of every read and disclosure.

mod api;
pub mod audit;
mod config;
mod convert;
pub mod domain;
pub mod entity;
mod gather;
pub mod ids;
mod jobs;
pub mod migration;
pub mod policy;
mod relay;
mod store;

use std::sync::Arc;

use assay_common::db::Db;
use assay_common::directory::{Lookup, Standing, status_word};
use assay_common::outbox::{Relay, topic};
use assay_common::policy::RefusalHook;
use assay_common::server::ServiceStatus;
use assay_common::service::{BoxFuture, Service};
use assay_common::{ApiResult, Platform};
use assay_proto::lawenforcement::v1::AgencyStatus;
use assay_proto::lawenforcement::v1::law_enforcement_service_server::LawEnforcementServiceServer;
use audit::Audit;
use ids::AgencyId;

pub use api::LawEnforcementApi;

pub use config::Config;

pub const NAME: &str = "lawenforcement";

/// Where the law-enforcement service reaches its peers; `None` where none is configured.
#[derive(Debug, Clone, Default)]
pub struct Peers {
    pub screening: Option<String>,
    pub cases: Option<String>,
}

/// The law-enforcement service of a process.
pub struct LawEnforcement {
    db: Db,
    audit: Audit,
    /// The audit key was created by this start: a log written before keys is sealed.
    seal_audit_log: bool,
    api: LawEnforcementApi,
    platform: Platform,
    config: Arc<Config>,
    peers: Peers,
}

impl LawEnforcement {
    pub async fn new(platform: Platform, config: Config, peers: Peers) -> anyhow::Result<Self> {
        assay_common::config::ensure_valid(config.problems())?;
        let db = platform
            .database(NAME, config.database_url.as_deref())
            .await?;
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
        let (audit, seal_audit_log) = audit_key(&platform, &config)?;
        let config = Arc::new(config);
        platform
            .directory
            .set_agencies(Arc::new(LocalAgencies(db.clone())), true);
        platform.refusals.listen(
            policy::POLICY.service,
            audit_refusals(db.clone(), audit.clone()),
        );
        let api = LawEnforcementApi::new(
            db.clone(),
            sources,
            platform.page_tokens.clone(),
            config.clone(),
            platform.directory.clone(),
            audit.clone(),
            platform.documents(NAME)?,
        );
        Ok(Self {
            db,
            audit,
            seal_audit_log,
            api,
            platform,
            config,
            peers,
        })
    }
}

/// The audit log's key: from `audit_key_file`, or created under the data directory with
/// `auth.generate_secrets`. Also says whether it was created just now.
fn audit_key(platform: &Platform, config: &Config) -> anyhow::Result<(Audit, bool)> {
    use anyhow::Context;
    if platform.is_offline() {
        // Migrating writes no audit entry: a throwaway key, and the real one stays unread.
        return Ok((Audit::new(&rand::random::<[u8; 32]>())?, false));
    }
    let (key, created) = match &config.audit_key_file {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("reading the audit key {}", path.display()))?
                .trim()
                .to_owned(),
            false,
        ),
        None if platform.config.auth.generate_secrets => assay_common::auth::read_or_create_secret(
            &platform.config.data_file("audit-key"),
            assay_common::auth::generate_token,
        )?,
        None => anyhow::bail!(
            "[lawenforcement] audit_key_file is needed: the key that chains the audit log"
        ),
    };
    Ok((Audit::new(key.as_bytes())?, created))
}

/// Agencies' standing, from the service's own directory.
struct LocalAgencies(Db);

impl Lookup for LocalAgencies {
    fn standing<'a>(&'a self, id: &'a str) -> BoxFuture<'a, ApiResult<Standing>> {
        Box::pin(async move {
            let Ok(id) = AgencyId::parse(id) else {
                return Ok(Standing::Unknown);
            };
            let Some(agency) = store::find_agency(&self.0, &id).await? else {
                return Ok(Standing::Unknown);
            };
            Ok(if agency.status == AgencyStatus::Active.as_str_name() {
                Standing::Active
            } else {
                Standing::Inactive(status_word(&agency.status, "AGENCY_STATUS_"))
            })
        })
    }
}

/// Every call the guard refuses to a known caller — one the policy does not admit, or a
/// suspended agency — goes into the audit log. Calls without valid credentials name
/// nobody and are only logged: writing them would let anyone fill the log.
fn audit_refusals(db: Db, audit: Audit) -> RefusalHook {
    Arc::new(move |method, principal, error| {
        let Some(principal) = principal else {
            return;
        };
        let (db, audit) = (db.clone(), audit.clone());
        let actor = principal.actor();
        let action = format!("call.{method}");
        let outcome = format!("refused: {:?}", error.code().grpc());
        let detail = error.to_string();
        tokio::spawn(async move {
            let entry = audit::Entry {
                actor: &actor,
                action: &action,
                resource: "",
                outcome: &outcome,
                detail: &detail,
            };
            if let Err(error) = audit.append(&db, entry).await {
                tracing::error!(%error, "could not write a refusal to the audit log");
            }
        });
    })
}

impl Service for LawEnforcement {
    assay_common::service_parts!(
        NAME,
        policy::POLICY,
        LawEnforcementServiceServer,
        migration::Migrator
    );

    fn start(&self, status: ServiceStatus) -> BoxFuture<'_, anyhow::Result<()>> {
        Box::pin(async move {
            let shutdown = self.platform.shutdown.clone();
            let mut relay = Relay::new(self.db.clone(), self.platform.config.outbox.clone());
            match &self.peers.cases {
                Some(endpoint) => {
                    let channel =
                        assay_common::client::connect(endpoint, self.platform.credentials(NAME))?;
                    relay = relay.route(
                        topic::REFERRAL_OUTCOME,
                        relay::ReferralOutcomes::new(channel),
                    );
                }
                None => tracing::warn!(
                    "no [lawenforcement] cases_endpoint: referral outcomes wait in the outbox"
                ),
            }
            relay = relay.route(
                topic::AGENCY_NOTIFICATION,
                assay_common::webhooks::Webhooks::new(self.db.clone(), &self.config.notifications)?,
            );
            self.api.set_waker(relay.waker());
            tokio::spawn(relay.run(shutdown.clone()));
            if self.seal_audit_log {
                self.audit.seal_unkeyed(&self.db).await?;
            }
            tokio::spawn(jobs::watch_deadlines_forever(
                self.db.clone(),
                self.audit.clone(),
                self.config.deadline_check_interval,
                self.config.hold_warning,
                shutdown.clone(),
            ));
            let api = self.api.clone();
            tokio::spawn(assay_common::jobs::retention_forever(
                "documents' contents",
                self.platform.config.documents.retention,
                shutdown,
                move |before| {
                    let api = api.clone();
                    async move { api.purge_documents(before, "system:retention").await }
                },
            ));
            status.set_ready(true).await;
            Ok(())
        })
    }
}
