//! Preservation holds, as services that purge see them: before deleting anything about a
//! seller or listing, ask the law-enforcement service which of them are held. Fails closed:
//! when it cannot be asked, nothing is purged.

use std::collections::BTreeSet;

use assay_proto::lawenforcement::v1::CheckHoldsRequest;
use assay_proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;

use crate::client::PeerChannel;
use crate::error::{ApiError, ApiResult};

/// Ids asked about per call, at most (the service's limit).
const CHUNK: usize = 1000;

/// Those of some sellers and listings under a hold.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Held {
    pub sellers: BTreeSet<String>,
    pub listings: BTreeSet<String>,
}

impl Held {
    /// Whether a record of `seller_id` or `listing_id` must be kept.
    pub fn covers(&self, seller_id: &str, listing_id: &str) -> bool {
        self.sellers.contains(seller_id) || self.listings.contains(listing_id)
    }
}

/// Asks the law-enforcement service about holds.
#[derive(Clone)]
pub struct HoldChecker {
    client: Option<LawEnforcementServiceClient<PeerChannel>>,
}

impl HoldChecker {
    /// `None`: no law-enforcement service is reachable, and every purge is refused.
    pub fn new(channel: Option<PeerChannel>) -> Self {
        Self {
            client: channel.map(LawEnforcementServiceClient::new),
        }
    }

    pub fn is_configured(&self) -> bool {
        self.client.is_some()
    }

    /// Which of `sellers` and `listings` are held.
    pub async fn held(&self, sellers: &[String], listings: &[String]) -> ApiResult<Held> {
        let Some(client) = &self.client else {
            return Err(ApiError::Unavailable(
                "preservation holds cannot be checked: no law-enforcement service is configured, so nothing is purged".to_owned(),
            ));
        };
        let mut held = Held::default();
        let rounds = sellers
            .len()
            .div_ceil(CHUNK)
            .max(listings.len().div_ceil(CHUNK));
        for round in 0..rounds {
            let chunk = |ids: &[String]| -> Vec<String> {
                ids.iter()
                    .skip(round * CHUNK)
                    .take(CHUNK)
                    .cloned()
                    .collect()
            };
            let answer = client
                .clone()
                .check_holds(CheckHoldsRequest {
                    seller_ids: chunk(sellers),
                    listing_ids: chunk(listings),
                })
                .await
                .map_err(|status| {
                    ApiError::Unavailable(format!(
                        "preservation holds could not be checked ({}): nothing was purged",
                        status.message()
                    ))
                })?
                .into_inner();
            held.sellers.extend(answer.held_seller_ids);
            held.listings.extend(answer.held_listing_ids);
        }
        Ok(held)
    }
}

/// A record a purge would delete, with the (seller, listing) pairs it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purgeable {
    pub id: String,
    pub about: Vec<(String, String)>,
}

impl HoldChecker {
    /// Deletes old records batch by batch, keeping each one a preservation hold covers:
    /// `next` reads up to `batch` records after a record id (in id order), `delete` deletes
    /// the given ids in a transaction of its own. Returns how many were purged and held.
    pub async fn purge_unless_held<N, D>(
        &self,
        batch: u64,
        mut next: impl FnMut(Option<String>, u64) -> N,
        mut delete: impl FnMut(Vec<String>) -> D,
    ) -> ApiResult<(u64, u64)>
    where
        N: Future<Output = ApiResult<Vec<Purgeable>>>,
        D: Future<Output = ApiResult<u64>>,
    {
        let (mut purged, mut kept) = (0u64, 0u64);
        let mut after: Option<String> = None;
        loop {
            let records = next(after.take(), batch).await?;
            let Some(last) = records.last() else {
                break;
            };
            after = Some(last.id.clone());
            let (sellers, listings): (Vec<String>, Vec<String>) =
                records.iter().flat_map(|r| r.about.iter().cloned()).unzip();
            let held = self.held(&sellers, &listings).await?;
            let doomed: Vec<String> = records
                .iter()
                .filter(|r| !r.about.iter().any(|(s, l)| held.covers(s, l)))
                .map(|r| r.id.clone())
                .collect();
            kept += (records.len() - doomed.len()) as u64;
            purged += delete(doomed).await?;
            if (records.len() as u64) < batch {
                break;
            }
        }
        Ok((purged, kept))
    }
}
