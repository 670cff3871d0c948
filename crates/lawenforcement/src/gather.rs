//! Gathering: asks screening and case management, through their APIs, for what concerns the
//! approved targets in the approved categories, and renders each answer as a JSON file of
//! the disclosure package.

use assay_common::client::PeerChannel;
use assay_common::{ApiError, ApiResult};
use assay_proto::cases::v1 as cases;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_proto::lawenforcement::v1::{DataCategory, PackageItem, Target, TargetKind};
use assay_proto::screening::v1 as screening;
use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Where data comes from; `None` where the service is not reachable from here.
#[derive(Clone)]
pub struct Sources {
    pub screening: Option<PeerChannel>,
    pub cases: Option<PeerChannel>,
}

/// A gathered package: its files and the targets nothing was found for.
pub struct Gathered {
    pub files: Vec<(PackageItem, Vec<u8>)>,
    pub not_found: Vec<Target>,
}

/// Most records of one kind gathered for one target; a file cut short says so
/// (`"truncated": true`), so that nobody reads it as everything there is.
const MAX_RECORDS: usize = 10_000;

fn unavailable(service: &str, status: tonic::Status) -> ApiError {
    ApiError::Unavailable(format!(
        "{service} could not be asked ({}): nothing was gathered; try again",
        status.message()
    ))
}

fn timestamp(ts: &Option<prost_types::Timestamp>) -> Value {
    ts.as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos as u32))
        .map(|t| Value::String(t.to_rfc3339()))
        .unwrap_or(Value::Null)
}

fn enum_name(name: Option<&str>, prefix: &str) -> Value {
    Value::String(
        name.map(|n| n.strip_prefix(prefix).unwrap_or(n).to_owned())
            .unwrap_or_default(),
    )
}

impl Sources {
    fn screening(&self) -> ApiResult<ScreeningServiceClient<PeerChannel>> {
        self.screening
            .clone()
            .map(ScreeningServiceClient::new)
            .ok_or_else(|| {
                ApiError::Unavailable(
                    "no screening service is configured ([lawenforcement] screening_endpoint)"
                        .to_owned(),
                )
            })
    }

    fn cases(&self) -> ApiResult<CasesServiceClient<PeerChannel>> {
        self.cases
            .clone()
            .map(CasesServiceClient::new)
            .ok_or_else(|| {
                ApiError::Unavailable(
                    "no case management service is configured ([lawenforcement] cases_endpoint)"
                        .to_owned(),
                )
            })
    }

    /// Gathers every approved category for every approved target.
    pub async fn gather(
        &self,
        targets: &[Target],
        categories: &[DataCategory],
    ) -> ApiResult<Gathered> {
        let mut files = Vec::new();
        let mut not_found = Vec::new();
        for target in targets {
            let kind = TargetKind::try_from(target.kind).unwrap_or_default();
            let mut found = false;
            for category in categories {
                let content = match (kind, category) {
                    (TargetKind::Seller, DataCategory::SellerProfile) => {
                        self.seller(&target.id, false).await?
                    }
                    (TargetKind::Seller, DataCategory::SellerIdentifiers) => {
                        self.seller(&target.id, true).await?
                    }
                    (TargetKind::Seller, DataCategory::SellerNetwork) => {
                        self.network(&target.id).await?
                    }
                    (TargetKind::Seller | TargetKind::Listing, DataCategory::ScreenedListings) => {
                        self.hits(kind, &target.id).await?
                    }
                    (TargetKind::Seller | TargetKind::Listing, DataCategory::Cases) => {
                        self.cases_of(kind, &target.id).await?
                    }
                    // Assay holds no orders, and a listing has no seller profile of its own.
                    _ => None,
                };
                let Some(content) = content else { continue };
                found = true;
                let bytes = serde_json::to_vec_pretty(&content)
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("rendering JSON: {e}")))?;
                let kind_word = match kind {
                    TargetKind::Seller => "seller",
                    TargetKind::Listing => "listing",
                    _ => "other",
                };
                let category_word = category
                    .as_str_name()
                    .strip_prefix("DATA_CATEGORY_")
                    .unwrap_or("DATA")
                    .to_lowercase();
                files.push((
                    PackageItem {
                        name: format!("{kind_word}/{}/{category_word}.json", target.id),
                        category: *category as i32,
                        target: Some(target.clone()),
                        sha256: hex::encode(Sha256::digest(&bytes)),
                        size_bytes: bytes.len() as i64,
                    },
                    bytes,
                ));
            }
            if !found {
                not_found.push(target.clone());
            }
        }
        Ok(Gathered { files, not_found })
    }

    /// A seller's standing, or its identifiers; `None` for a seller case management does
    /// not know.
    async fn seller(&self, seller_id: &str, identifiers: bool) -> ApiResult<Option<Value>> {
        let seller = self
            .cases()?
            .get_seller(cases::GetSellerRequest {
                seller_id: seller_id.to_owned(),
            })
            .await
            .map_err(|s| unavailable("case management", s))?
            .into_inner()
            .seller
            .unwrap_or_default();
        if identifiers {
            if seller.identifiers.is_empty() {
                return Ok(None);
            }
            return Ok(Some(json!({
                "seller_id": seller.seller_id,
                "identifiers": seller.identifiers.iter().map(|i| json!({
                    "kind": enum_name(cases::IdentifierKind::try_from(i.kind).ok().map(|k| k.as_str_name()), "IDENTIFIER_KIND_"),
                    "value": i.value,
                })).collect::<Vec<_>>(),
            })));
        }
        if seller.strikes.is_empty() && seller.case_count == 0 {
            return Ok(None);
        }
        Ok(Some(json!({
            "seller_id": seller.seller_id,
            "active_strikes": seller.active_strikes,
            "repeat_infringer": seller.repeat_infringer,
            "case_count": seller.case_count,
            "strikes": seller.strikes.iter().map(|s| json!({
                "case_id": s.case_id,
                "strike_time": timestamp(&s.strike_time),
                "withdraw_time": timestamp(&s.withdraw_time),
            })).collect::<Vec<_>>(),
        })))
    }

    async fn network(&self, seller_id: &str) -> ApiResult<Option<Value>> {
        let cluster = self
            .cases()?
            .get_seller_cluster(cases::GetSellerClusterRequest {
                seller_id: seller_id.to_owned(),
            })
            .await
            .map_err(|s| unavailable("case management", s))?
            .into_inner();
        if cluster.sellers.len() <= 1 {
            return Ok(None);
        }
        Ok(Some(json!({
            "seller_id": seller_id,
            "truncated": cluster.truncated,
            "linked_sellers": cluster.sellers.iter().skip(1).map(|m| json!({
                "seller_id": m.seller_id,
                "repeat_infringer": m.repeat_infringer,
                "shared_identifier_kinds": m.shared_identifiers.iter()
                    .map(|i| enum_name(cases::IdentifierKind::try_from(i.kind).ok().map(|k| k.as_str_name()), "IDENTIFIER_KIND_"))
                    .collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })))
    }

    async fn hits(&self, kind: TargetKind, id: &str) -> ApiResult<Option<Value>> {
        let mut client = self.screening()?;
        let mut pages = Pages::new();
        while let Some(page_token) = pages.next_token() {
            let mut request = screening::ListHitsRequest {
                page_size: 1000,
                page_token,
                ..Default::default()
            };
            match kind {
                TargetKind::Seller => request.seller_id = id.to_owned(),
                _ => request.listing_id = id.to_owned(),
            }
            let page = client
                .list_hits(request)
                .await
                .map_err(|s| unavailable("screening", s))?
                .into_inner();
            let records = page.hits.into_iter().map(|hit| {
                let listing = hit.listing.unwrap_or_default();
                let verdict = hit.verdict.unwrap_or_default();
                json!({
                    "hit_id": hit.id,
                    "screen_time": timestamp(&hit.create_time),
                    "listing_id": listing.listing_id,
                    "seller_id": listing.seller_id,
                    "title": listing.title,
                    "category": listing.category,
                    "ship_from_country": listing.ship_from_country,
                    "decision": enum_name(screening::Decision::try_from(verdict.decision).ok().map(|d| d.as_str_name()), "DECISION_"),
                    "risk_score": verdict.risk_score,
                    "brands": verdict.brands.iter().map(|b| b.brand_name.clone()).collect::<Vec<_>>(),
                    "why": verdict.signals.iter().map(|s| s.explanation.clone()).collect::<Vec<_>>(),
                })
            });
            pages.add(records, page.next_page_token);
        }
        let (records, truncated) = pages.finish();
        Ok((!records.is_empty())
            .then(|| json!({ "screened_listings": records, "truncated": truncated })))
    }

    async fn cases_of(&self, kind: TargetKind, id: &str) -> ApiResult<Option<Value>> {
        let mut client = self.cases()?;
        // A case may hold other sellers' listings: they were not asked for.
        let own = |l: &&cases::CaseListing| match kind {
            TargetKind::Seller => l.seller_id == id,
            _ => l.listing_id == id,
        };
        let mut pages = Pages::new();
        while let Some(page_token) = pages.next_token() {
            let mut request = cases::ListCasesRequest {
                page_size: 1000,
                page_token,
                ..Default::default()
            };
            match kind {
                TargetKind::Seller => request.seller_id = id.to_owned(),
                _ => request.listing_id = id.to_owned(),
            }
            let page = client
                .list_cases(request)
                .await
                .map_err(|s| unavailable("case management", s))?
                .into_inner();
            let records = page.cases.into_iter().map(|case| {
                json!({
                    "case_id": case.id,
                    "source": enum_name(cases::CaseSource::try_from(case.source).ok().map(|s| s.as_str_name()), "CASE_SOURCE_"),
                    "status": enum_name(cases::CaseStatus::try_from(case.status).ok().map(|s| s.as_str_name()), "CASE_STATUS_"),
                    "title": case.title,
                    "open_time": timestamp(&case.create_time),
                    "resolution": case.resolution_note,
                    "listings": case.listings.iter().filter(own).map(|l| json!({
                        "listing_id": l.listing_id,
                        "seller_id": l.seller_id,
                        "title": l.title,
                        "takedown_time": timestamp(&l.takedown_time),
                        "reinstate_time": timestamp(&l.reinstate_time),
                    })).collect::<Vec<_>>(),
                })
            });
            pages.add(records, page.next_page_token);
        }
        let (records, truncated) = pages.finish();
        Ok((!records.is_empty()).then(|| json!({ "cases": records, "truncated": truncated })))
    }
}

/// The records of a list followed page by page, to its end or to [`MAX_RECORDS`].
struct Pages {
    records: Vec<Value>,
    /// The token of the page to read next (empty for the first): `None` once the list
    /// ended or enough was read.
    next: Option<String>,
    truncated: bool,
}

impl Pages {
    fn new() -> Self {
        Self {
            records: Vec::new(),
            next: Some(String::new()),
            truncated: false,
        }
    }

    fn next_token(&mut self) -> Option<String> {
        self.next.take()
    }

    fn add(&mut self, records: impl Iterator<Item = Value>, next_page_token: String) {
        self.records.extend(records);
        if next_page_token.is_empty() {
            return;
        }
        if self.records.len() >= MAX_RECORDS {
            self.truncated = true;
        } else {
            self.next = Some(next_page_token);
        }
    }

    /// The records, and whether there were more.
    fn finish(self) -> (Vec<Value>, bool) {
        (self.records, self.truncated)
    }
}
