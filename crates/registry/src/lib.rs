//! The alliance member registry: rights holders, their brands, the IP rights behind them,
//! the agents acting for them, and the versioned catalogue of protected brands that
//! screening consumes.

mod api;
mod catalogue;
mod convert;
pub mod domain;
pub mod entity;
pub mod ids;
pub mod migration;
pub mod policy;
mod store;

use std::sync::Arc;
use std::time::Duration;

use assay_common::db::Db;
use assay_common::directory::{Lookup, Standing, member_standing};
use assay_common::ids::MemberId;
use assay_common::server::ServiceStatus;
use assay_common::service::{BoxFuture, Service};
use assay_common::{ApiResult, Platform};
use assay_proto::registry::v1::registry_service_server::RegistryServiceServer;
use serde::{Deserialize, Serialize};

pub use api::RegistryApi;
pub use catalogue::CatalogueHub;

pub const NAME: &str = "registry";

/// The registry's own configuration (`[registry]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Its database; unset: `<data_dir>/registry.db`.
    pub database_url: Option<String>,
    /// How often protection is re-derived as rights start, end, and delegations expire.
    #[serde(with = "humantime_serde")]
    pub catalogue_sweep_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            catalogue_sweep_interval: Duration::from_secs(60),
        }
    }
}

/// The registry service of a process.
pub struct Registry {
    db: Db,
    api: RegistryApi,
    hub: CatalogueHub,
    platform: Platform,
    config: Config,
}

impl Registry {
    /// Opens its database (lazily: nothing is connected until migrations run).
    pub async fn new(platform: Platform, config: Config) -> anyhow::Result<Self> {
        let db = platform
            .database(NAME, config.database_url.as_deref())
            .await?;
        let hub = CatalogueHub::default();
        platform
            .directory
            .set_members(Arc::new(LocalMembers(db.clone())), true);
        let api = RegistryApi::new(
            db.clone(),
            platform.page_tokens.clone(),
            hub.clone(),
            platform.shutdown.clone(),
            platform.directory.clone(),
            platform.documents(NAME)?,
        );
        Ok(Self {
            db,
            api,
            hub,
            platform,
            config,
        })
    }
}

/// Members' standing, from the registry's own database.
struct LocalMembers(Db);

impl Lookup for LocalMembers {
    fn standing<'a>(&'a self, id: &'a str) -> BoxFuture<'a, ApiResult<Standing>> {
        Box::pin(async move {
            let Ok(id) = MemberId::parse(id) else {
                return Ok(Standing::Unknown);
            };
            Ok(match store::find_member(&self.0, &id).await? {
                None => Standing::Unknown,
                Some(member) => member_standing(store::member_status(&member.status)?),
            })
        })
    }
}

impl Service for Registry {
    assay_common::service_parts!(
        NAME,
        policy::POLICY,
        RegistryServiceServer,
        migration::Migrator
    );

    fn start(&self, status: ServiceStatus) -> BoxFuture<'_, anyhow::Result<()>> {
        self.hub
            .hear_replicas(&self.db, self.platform.shutdown.clone());
        tokio::spawn(catalogue::sweep_forever(
            self.db.clone(),
            self.hub.clone(),
            self.config.catalogue_sweep_interval,
            self.platform.shutdown.clone(),
        ));
        let api = self.api.clone();
        tokio::spawn(assay_common::jobs::retention_forever(
            "documents' contents",
            self.platform.config.documents.retention,
            self.platform.shutdown.clone(),
            move |before| {
                let api = api.clone();
                async move { api.purge_documents(before).await.map(|purged| (purged, 0)) }
            },
        ));
        Box::pin(async move {
            status.set_ready(true).await;
            Ok(())
        })
    }
}
