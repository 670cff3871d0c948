//! Following the registry's catalogue of protected brands: services that decide who may see
//! what by brand (screening, cases) keep a copy, updated through the registry's watch stream.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_proto::registry::v1::{CatalogueBrand, WatchCatalogueRequest};
use tokio_util::sync::CancellationToken;

use crate::client::PeerChannel;
use crate::error::{ApiError, ApiResult};
use crate::principal::Principal;

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

    /// Whether `member_id` owns or acts for the brand.
    pub fn acts_for(&self, member_id: &str, brand_id: &str) -> bool {
        self.brands.get(brand_id).is_some_and(|b| {
            b.member_id == member_id || b.agent_member_ids.iter().any(|a| a == member_id)
        })
    }

    /// The brands a list asked for by `principal` covers: a member's own brands (those it
    /// acts for), or the one `brand_id` among them, which answers NOT_FOUND when it is not
    /// one of them; anyone else's: `brand_id` when set, else every brand (`None`).
    pub fn brands_to_list(
        &self,
        principal: &Principal,
        brand_id: &str,
    ) -> ApiResult<Option<Vec<String>>> {
        let Some(member_id) = principal.member_id() else {
            return Ok((!brand_id.is_empty()).then(|| vec![brand_id.to_owned()]));
        };
        let mine = self.brands_of(member_id);
        if brand_id.is_empty() {
            Ok(Some(mine))
        } else if mine.iter().any(|b| b == brand_id) {
            Ok(Some(vec![brand_id.to_owned()]))
        } else {
            Err(ApiError::not_found("brand", brand_id))
        }
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

/// A shared, always-whole copy of the catalogue.
#[derive(Debug, Default)]
pub struct CatalogueCopy(ArcSwap<Catalogue>);

impl CatalogueCopy {
    pub fn current(&self) -> Arc<Catalogue> {
        self.0.load_full()
    }

    pub fn store(&self, catalogue: Catalogue) {
        self.0.store(Arc::new(catalogue));
    }
}

/// Follows the registry's catalogue: watches it from the revision held, hands each revision
/// to `apply` only once all its batches arrived, and reconnects with backoff when the
/// stream breaks. Whoever uses it keeps the last catalogue meanwhile.
pub async fn follow_forever(
    channel: PeerChannel,
    apply: impl Fn(&Catalogue) + Send + Sync,
    shutdown: CancellationToken,
) {
    let mut client =
        RegistryServiceClient::new(channel).max_decoding_message_size(64 * 1024 * 1024);
    let mut held = Catalogue::default();
    let mut backoff = Duration::from_millis(100);
    loop {
        let result = tokio::select! {
            () = shutdown.cancelled() => return,
            result = follow_once(&mut client, &mut held, &apply) => result,
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
    client: &mut RegistryServiceClient<PeerChannel>,
    held: &mut Catalogue,
    apply: &(impl Fn(&Catalogue) + Send + Sync),
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
                *held = working.clone();
                apply(held);
            }
        }
    }
    Err(crate::error::status(
        tonic::Code::Unavailable,
        crate::error::reason::UNAVAILABLE,
        "the registry ended the catalogue watch",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        let brand = |id: &str, owner: &str, agents: &[&str]| {
            let brand = CatalogueBrand {
                brand_id: id.to_owned(),
                member_id: owner.to_owned(),
                agent_member_ids: agents.iter().map(|a| a.to_string()).collect(),
                ..CatalogueBrand::default()
            };
            (id.to_owned(), brand)
        };
        Catalogue {
            loaded: true,
            revision: 1,
            brands: BTreeMap::from([
                brand("brd_a", "mbr_owner", &[]),
                brand("brd_b", "mbr_other", &["mbr_owner"]),
                brand("brd_c", "mbr_other", &[]),
            ]),
        }
    }

    #[test]
    fn a_member_lists_only_the_brands_it_acts_for() {
        let member = Principal::Member {
            subject: "mbr_owner".into(),
            member_id: "mbr_owner".into(),
        };
        let catalogue = catalogue();
        assert_eq!(
            catalogue.brands_to_list(&member, "").unwrap(),
            Some(vec!["brd_a".to_owned(), "brd_b".to_owned()])
        );
        assert_eq!(
            catalogue.brands_to_list(&member, "brd_b").unwrap(),
            Some(vec!["brd_b".to_owned()])
        );
        // Another member's brand answers as one that does not exist.
        let refused = catalogue.brands_to_list(&member, "brd_c").unwrap_err();
        let missing = catalogue.brands_to_list(&member, "brd_zzz").unwrap_err();
        assert_eq!(
            refused.to_string().replace("brd_c", "X"),
            missing.to_string().replace("brd_zzz", "X")
        );
        let staff = Principal::Staff {
            subject: "alice".into(),
            roles: Vec::new(),
        };
        assert_eq!(catalogue.brands_to_list(&staff, "").unwrap(), None);
        assert_eq!(
            catalogue.brands_to_list(&staff, "brd_c").unwrap(),
            Some(vec!["brd_c".to_owned()])
        );
    }
}
