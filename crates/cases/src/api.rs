//! The gRPC handler: intake (notices, alerts, staff), the status machine, assignment and
//! bulk work, evidence, sellers, referrals and figures.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, OnceLock};

use assay_common::auth::{Owner, Principal};
use assay_common::catalogue::{Catalogue, CatalogueCopy};
use assay_common::client::PeerChannel;
use assay_common::holds::HoldChecker;
use assay_common::idempotency::{self, Key};
use assay_common::ids::{AgencyId, BrandId, HitId, IpRightId, MemberId};
use assay_common::money::Money;
use assay_common::outbox::topic;
use assay_common::page::{PageTokens, page_size};
use assay_common::resource::check_etag;
use assay_common::{ApiError, ApiResult, FieldViolations, outbox, time, validate};
use assay_proto::cases::v1::cases_service_server::CasesService;
use assay_proto::cases::v1::*;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_proto::registry::v1::{GetIpRightRequest, VerificationStatus};
use assay_proto::screening::v1::{FeedbackOutcome, RecordHitFeedbackRequest};
use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::{ActiveValue::Set, DatabaseConnection, DatabaseTransaction, TransactionTrait};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use crate::config::Config;
use crate::domain::{self, Action, Decision};
use crate::entity::{case, referral};
use crate::ids::{CaseId, EvidenceId, ReferralId};
use crate::store::{self, Event, NewCase, NewEvidence};

/// Listings on one case (or notice), at most.
const MAX_LISTINGS: usize = 500;
/// Stored evidence content, at most.
const MAX_EVIDENCE_BYTES: usize = 4 * 1024 * 1024;
/// Cases in one bulk update, at most.
const MAX_BULK: usize = 500;
/// Source cases in one merge, at most.
const MAX_MERGE: usize = 100;
/// Evidence supplied with a counter-notice, at most.
const MAX_COUNTER_EVIDENCE: usize = 20;

/// The case management service.
#[derive(Clone)]
pub struct CasesApi {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    catalogue: Arc<CatalogueCopy>,
    registry: RegistryServiceClient<PeerChannel>,
    page_tokens: PageTokens,
    config: Arc<Config>,
    relay: OnceLock<Arc<Notify>>,
    holds: HoldChecker,
}

fn case_id(field: &str, value: &str) -> ApiResult<CaseId> {
    CaseId::parse(value).map_err(|e| ApiError::invalid(field, e))
}

fn note(field: &str, value: &str) -> ApiResult<String> {
    validate::text(value, 2000).map_err(|e| ApiError::invalid(field, e))
}

fn time_range(
    violations: &mut FieldViolations,
    field: &str,
    range: Option<&assay_proto::common::v1::TimeRange>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let Some(range) = range else {
        return (None, None);
    };
    let from = range
        .start_time
        .as_ref()
        .and_then(|t| violations.check(&format!("{field}.start_time"), time::from_timestamp(t)));
    let until = range
        .end_time
        .as_ref()
        .and_then(|t| violations.check(&format!("{field}.end_time"), time::from_timestamp(t)));
    if let (Some(from), Some(until)) = (from, until)
        && until < from
    {
        violations.add(format!("{field}.end_time"), "must not be before start_time");
    }
    (from, until)
}

/// Checks the listings of a notice or case: 1 to 500, ids valid and not repeated.
fn check_listings(
    violations: &mut FieldViolations,
    field: &str,
    listings: &[CaseListing],
) -> Vec<CaseListing> {
    let listings = validate::bounded(violations, field, listings, 1, MAX_LISTINGS);
    let mut seen = BTreeSet::new();
    let mut checked = Vec::with_capacity(listings.len());
    for (i, listing) in listings.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        let listing_id = violations.check(
            &at("listing_id"),
            validate::external_id(&listing.listing_id),
        );
        let seller_id =
            violations.check(&at("seller_id"), validate::external_id(&listing.seller_id));
        let title = violations.check(
            &at("title"),
            validate::optional_listing_text(&listing.title, 500),
        );
        if let Some(id) = &listing_id
            && !seen.insert(id.clone())
        {
            violations.add(at("listing_id"), "is a duplicate");
        }
        if let (Some(listing_id), Some(seller_id), Some(title)) = (listing_id, seller_id, title) {
            checked.push(CaseListing {
                listing_id,
                seller_id,
                title,
                ..CaseListing::default()
            });
        }
    }
    checked
}

fn check_brand_ids(violations: &mut FieldViolations, field: &str, ids: &[String]) -> Vec<String> {
    validate::each(violations, field, ids, 0..=50, |id| {
        BrandId::parse(id).map(String::from)
    })
}

/// Checks evidence: stored content (with its hash checked if sent) or a reference with
/// its hash.
fn check_evidence(
    violations: &mut FieldViolations,
    prefix: &str,
    evidence: &EvidenceInput,
) -> Option<NewEvidence> {
    let field = |name: &str| format!("{prefix}.{name}");
    let kind = violations.check(
        &field("kind"),
        validate::required_enum::<EvidenceKind>(evidence.kind),
    );
    let description = violations.check(
        &field("description"),
        validate::text(&evidence.description, 2000),
    );
    let media_type = violations.check(&field("media_type"), media_type(&evidence.media_type));
    let sent_hash = evidence.sha256.trim().to_ascii_lowercase();
    if !sent_hash.is_empty() && (sent_hash.len() != 64 || hex::decode(&sent_hash).is_err()) {
        violations.add(field("sha256"), "must be 64 hex digits");
    }
    let stored = match (
        evidence.content.is_empty(),
        evidence.reference_uri.is_empty(),
    ) {
        (false, true) => {
            if evidence.content.len() > MAX_EVIDENCE_BYTES {
                violations.add(
                    field("content"),
                    format!(
                        "must be at most {MAX_EVIDENCE_BYTES} bytes, got {}: store it elsewhere and send reference_uri",
                        evidence.content.len()
                    ),
                );
                return None;
            }
            let hash = hex::encode(Sha256::digest(&evidence.content));
            if !sent_hash.is_empty() && sent_hash != hash {
                violations.add(
                    field("sha256"),
                    "does not match the content: it may have been corrupted on the way",
                );
            }
            Some((Some(evidence.content.to_vec()), String::new(), hash))
        }
        (true, false) => {
            let uri = violations.check(
                &field("reference_uri"),
                validate::optional_url(&evidence.reference_uri),
            );
            if sent_hash.is_empty() {
                violations.add(
                    field("sha256"),
                    "must be set for a reference: it is how the content is recognised later",
                );
            }
            uri.map(|uri| (None, uri, sent_hash.clone()))
        }
        (false, false) => {
            violations.add(field("content"), "send content or reference_uri, not both");
            None
        }
        (true, true) => {
            violations.add(field("content"), "content or reference_uri must be set");
            None
        }
    };
    let (content, reference_uri, sha256) = stored?;
    Some(NewEvidence {
        kind: kind?,
        description: description?,
        media_type: media_type?,
        sha256,
        content,
        reference_uri,
    })
}

fn media_type(value: &str) -> Result<String, String> {
    let value = value.trim().to_ascii_lowercase();
    if value.is_empty() {
        return Ok("application/octet-stream".to_owned());
    }
    let valid = value.len() <= 100
        && value.split_once('/').is_some_and(|(kind, sub)| {
            let token = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
            };
            token(kind) && token(sub)
        });
    if valid {
        Ok(value)
    } else {
        Err(format!(
            "{value:?} is not a media type such as \"image/png\""
        ))
    }
}

fn check_contact(
    violations: &mut FieldViolations,
    prefix: &str,
    contact: Option<&assay_proto::common::v1::Contact>,
) {
    let Some(contact) = contact else {
        violations.add(prefix, "must be set");
        return;
    };
    violations.check(
        &format!("{prefix}.name"),
        validate::text(&contact.name, 200),
    );
    violations.check(&format!("{prefix}.email"), validate::email(&contact.email));
    violations.check(&format!("{prefix}.phone"), validate::phone(&contact.phone));
    violations.check(
        &format!("{prefix}.role"),
        validate::optional_text(&contact.role, 100),
    );
}

/// A staff subject as an assignee: what tokens carry after `staff:`.
fn assignee(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    validate::external_id(value)
}

impl CasesApi {
    pub fn new(
        db: DatabaseConnection,
        catalogue: Arc<CatalogueCopy>,
        registry: PeerChannel,
        page_tokens: PageTokens,
        config: Arc<Config>,
        holds: HoldChecker,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                catalogue,
                registry: RegistryServiceClient::new(registry),
                page_tokens,
                config,
                relay: OnceLock::new(),
                holds,
            }),
        }
    }

    /// Deletes closed and merged cases last changed before `before`, keeping those a
    /// preservation hold covers; returns (purged, held).
    pub async fn purge(&self, before: DateTime<Utc>) -> ApiResult<(u64, u64)> {
        const BATCH: u64 = 200;
        let (mut purged, mut kept) = (0u64, 0u64);
        let mut after: Option<String> = None;
        loop {
            let batch = store::purgeable_cases(self.db(), before, after.as_deref(), BATCH).await?;
            let Some((last, _)) = batch.last() else {
                break;
            };
            after = Some(last.clone());
            let sellers: Vec<String> = batch
                .iter()
                .flat_map(|(_, pairs)| pairs.iter().map(|(s, _)| s.clone()))
                .collect();
            let listings: Vec<String> = batch
                .iter()
                .flat_map(|(_, pairs)| pairs.iter().map(|(_, l)| l.clone()))
                .collect();
            let held = self.inner.holds.held(&sellers, &listings).await?;
            let doomed: Vec<String> = batch
                .iter()
                .filter(|(_, pairs)| !pairs.iter().any(|(s, l)| held.covers(s, l)))
                .map(|(id, _)| id.clone())
                .collect();
            kept += (batch.len() - doomed.len()) as u64;
            let txn = self.db().begin().await?;
            purged += store::delete_cases(&txn, &doomed).await?;
            txn.commit().await?;
            if (batch.len() as u64) < BATCH {
                break;
            }
        }
        if purged > 0 || kept > 0 {
            tracing::info!(purged, held = kept, %before, "closed cases purged");
        }
        Ok((purged, kept))
    }

    async fn purge_cases(&self, req: PurgeCasesRequest) -> ApiResult<PurgeCasesResponse> {
        let before = time::past_timestamp(req.closed_before.as_ref())
            .map_err(|e| ApiError::invalid("closed_before", e))?;
        let (purged, held) = self.purge(before).await?;
        Ok(PurgeCasesResponse {
            purged: purged as i64,
            held: held as i64,
        })
    }

    /// Where to say that the outbox has something new.
    pub fn set_waker(&self, waker: Arc<Notify>) {
        let _ = self.inner.relay.set(waker);
    }

    fn wake_relay(&self) {
        if let Some(waker) = self.inner.relay.get() {
            waker.notify_one();
        }
    }

    fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    fn catalogue(&self) -> ApiResult<Arc<Catalogue>> {
        let catalogue = self.inner.catalogue.current();
        if catalogue.loaded {
            Ok(catalogue)
        } else {
            Err(ApiError::Unavailable(
                "the catalogue of brands is not loaded yet: try again shortly".to_owned(),
            ))
        }
    }

    /// Whether a member acts for any of the case's brands.
    async fn member_concerned(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        member_id: &str,
        case_id: &str,
    ) -> ApiResult<bool> {
        let catalogue = self.catalogue()?;
        let brands = store::brands_of_case(db, case_id).await?;
        Ok(brands.iter().any(|b| catalogue.acts_for(member_id, b)))
    }

    /// Keeps a member to the cases of brands it acts for: any other case answers as a
    /// missing `kind id` (the case's, or a record of it). Staff and services passed the
    /// policy table.
    async fn scope_case(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        principal: &Principal,
        case_id: &str,
        kind: &'static str,
        id: &str,
    ) -> ApiResult<()> {
        let concerned = match principal {
            Principal::Member { member_id, .. } => {
                self.member_concerned(db, member_id, case_id).await?
            }
            Principal::Agency { .. } => false,
            Principal::Staff { .. } | Principal::Service { .. } => true,
        };
        if concerned {
            Ok(())
        } else {
            Err(ApiError::not_found(kind, id))
        }
    }

    async fn respond(&self, model: &case::Model) -> ApiResult<Case> {
        store::case_proto(self.db(), model, time::now()).await
    }

    /// Moves `current` from `from` to `to` (its deadline following), writes the timeline,
    /// and applies `change`.
    #[allow(clippy::too_many_arguments)]
    async fn moved(
        &self,
        txn: &DatabaseTransaction,
        current: &case::Model,
        from: CaseStatus,
        to: CaseStatus,
        actor: &str,
        detail: String,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut case::ActiveModel),
    ) -> ApiResult<case::Model> {
        let due = self.inner.config.sla.moved(to, current.due_time, now);
        let model = store::update_case(
            txn,
            current,
            |m| {
                m.status = Set(to.as_str_name().to_owned());
                m.due_time = Set(due);
                change(m);
            },
            now,
        )
        .await?;
        if from != to {
            store::append_event(
                txn,
                &current.id,
                Event::new(CaseEventKind::StatusChanged, detail).status(from, to),
                actor,
                now,
            )
            .await?;
        }
        Ok(model)
    }

    /// Reads a case for a change inside `txn`: authorised, etag checked, and the move
    /// allowed by the status machine. Returns it with its status and the status after.
    async fn open_for(
        &self,
        txn: &DatabaseTransaction,
        principal: &Principal,
        id: &CaseId,
        etag: &str,
        action: Action,
    ) -> ApiResult<(case::Model, CaseStatus, CaseStatus)> {
        let current = store::find_case(txn, id.as_str()).await?;
        self.scope_case(txn, principal, id.as_str(), "case", id.as_str())
            .await?;
        check_etag(etag, current.version, "case")?;
        let from = store::status_of(&current)?;
        let to = domain::transition(from, action).map_err(ApiError::precondition)?;
        Ok((current, from, to))
    }

    /// Queues feedback on the case's hit for screening (inside the case's transaction).
    async fn feedback(
        &self,
        txn: &DatabaseTransaction,
        model: &case::Model,
        outcome: FeedbackOutcome,
        why: &str,
    ) -> ApiResult<()> {
        if model.hit_id.is_empty() {
            return Ok(());
        }
        let note: String = format!("case {}: {why}", model.id)
            .chars()
            .take(2000)
            .collect();
        let request = RecordHitFeedbackRequest {
            hit_id: model.hit_id.clone(),
            outcome: outcome as i32,
            note,
        };
        outbox::enqueue(
            txn,
            topic::HIT_FEEDBACK,
            &format!(
                "{}/{}/{}",
                model.hit_id,
                outcome.as_str_name(),
                model.version
            ),
            request.encode_to_vec(),
        )
        .await
    }

    // ---- intake ---------------------------------------------------------------------------

    async fn submit_notice(
        &self,
        principal: &Principal,
        req: SubmitNoticeRequest,
    ) -> ApiResult<Case> {
        let Some(notice) = &req.notice else {
            return Err(ApiError::invalid("notice", "must be set"));
        };
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        violations.check("notice.member_id", MemberId::parse(&notice.member_id));
        violations.check("notice.ip_right_id", IpRightId::parse(&notice.ip_right_id));
        let listings = check_listings(&mut violations, "notice.listings", &notice.listings);
        let statement = violations.check(
            "notice.statement",
            validate::text(&notice.statement, 10_000),
        );
        if !notice.good_faith {
            violations.add(
                "notice.good_faith",
                "must be true: the rights holder states in good faith that the use is not authorised and the notice is accurate",
            );
        }
        let statement = violations.require(statement)?;
        principal.scope(
            Owner::Members(&[notice.member_id.as_str()]),
            "member",
            &notice.member_id,
        )?;
        let key = Key::new(
            "SubmitNotice",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&SubmitNoticeRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );
        if let Some(key) = &key
            && let Some(existing) = key.earlier(self.db()).await?
        {
            return self
                .respond(&store::find_case(self.db(), &existing).await?)
                .await;
        }

        // The right must be verified, unexpired, and the member's (or its principal's).
        let right = self
            .inner
            .registry
            .clone()
            .get_ip_right(GetIpRightRequest {
                id: notice.ip_right_id.clone(),
            })
            .await
            .map_err(|status| match status.code() {
                tonic::Code::NotFound => ApiError::not_found("ip right", &notice.ip_right_id),
                _ => ApiError::Unavailable(format!(
                    "the registry could not be asked about the IP right: {}",
                    status.message()
                )),
            })?
            .into_inner()
            .ip_right
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("registry sent no right")))?;
        let catalogue = self.catalogue()?;
        if right.member_id != notice.member_id
            && !catalogue.acts_for(&notice.member_id, &right.brand_id)
        {
            return Err(ApiError::denied(format!(
                "member {} neither owns nor acts for the brand protected by IP right {}",
                notice.member_id, right.id
            )));
        }
        let status = VerificationStatus::try_from(right.verification_status).unwrap_or_default();
        if status != VerificationStatus::Verified {
            let word = status
                .as_str_name()
                .strip_prefix("VERIFICATION_STATUS_")
                .unwrap_or("UNKNOWN");
            return Err(ApiError::precondition(format!(
                "IP right {} is {word}: a notice must rely on a verified, unexpired right",
                right.id
            )));
        }

        let accuracy = store::notice_accuracy(self.db(), &notice.member_id, None, None).await?;
        let fast_track = accuracy.trusted(&self.inner.config.trusted_notices);
        let brand_name = catalogue
            .brands
            .get(&right.brand_id)
            .map(|b| b.name.clone())
            .unwrap_or_else(|| right.brand_id.clone());
        let now = time::now();
        let id = CaseId::generate();
        let title = format!(
            "Notice: {} listing{} infringing {brand_name}",
            listings.len(),
            if listings.len() == 1 { "" } else { "s" }
        );
        let new = NewCase {
            id: id.as_str().to_owned(),
            source: CaseSource::Notice,
            title,
            summary: statement,
            brand_ids: vec![right.brand_id.clone()],
            listings,
            member_id: notice.member_id.clone(),
            ip_right_id: right.id.clone(),
            hit_id: String::new(),
            source_key: None,
            risk_score: 0.0,
            fast_track,
            due_time: self
                .inner
                .config
                .sla
                .opened(CaseSource::Notice, fast_track, now),
        };
        let txn = self.db().begin().await?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(&txn).await?
        {
            drop(txn);
            return self
                .respond(&store::find_case(self.db(), &existing).await?)
                .await;
        }
        let model = store::insert_case(&txn, new, &principal.actor(), now).await?;
        if let Some(key) = &key {
            key.record(&txn, id.as_str()).await?;
        }
        txn.commit().await?;
        crate::metrics::case_opened(&model.source);
        self.respond(&model).await
    }

    async fn create_case(&self, principal: &Principal, req: CreateCaseRequest) -> ApiResult<Case> {
        let Some(case) = &req.r#case else {
            return Err(ApiError::invalid("case", "must be set"));
        };
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let title = violations.check("case.title", validate::text(&case.title, 300));
        let summary = violations.check(
            "case.summary",
            validate::optional_text(&case.summary, 10_000),
        );
        let brand_ids = check_brand_ids(&mut violations, "case.brand_ids", &case.brand_ids);
        let listings = check_listings(&mut violations, "case.listings", &case.listings);
        let (title, summary) = violations.require(title.zip(summary))?;
        let key = Key::new(
            "CreateCase",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&CreateCaseRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );
        let now = time::now();
        let id = CaseId::generate();
        let txn = self.db().begin().await?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(&txn).await?
        {
            drop(txn);
            return self
                .respond(&store::find_case(self.db(), &existing).await?)
                .await;
        }
        let model = store::insert_case(
            &txn,
            NewCase {
                id: id.as_str().to_owned(),
                source: CaseSource::Staff,
                title,
                summary,
                brand_ids,
                listings,
                member_id: String::new(),
                ip_right_id: String::new(),
                hit_id: String::new(),
                source_key: None,
                risk_score: 0.0,
                fast_track: false,
                due_time: self.inner.config.sla.opened(CaseSource::Staff, false, now),
            },
            &principal.actor(),
            now,
        )
        .await?;
        if let Some(key) = &key {
            key.record(&txn, id.as_str()).await?;
        }
        txn.commit().await?;
        crate::metrics::case_opened(&model.source);
        self.respond(&model).await
    }

    async fn receive_hit_alert(
        &self,
        principal: &Principal,
        req: ReceiveHitAlertRequest,
    ) -> ApiResult<ReceiveHitAlertResponse> {
        let hit = req.alert.and_then(|a| a.hit);
        let Some(hit) = hit else {
            return Err(ApiError::invalid("alert.hit", "must be set"));
        };
        let mut violations = FieldViolations::new();
        violations.check("alert.hit.id", HitId::parse(&hit.id));
        let listing = hit.listing.clone().unwrap_or_default();
        let listing_id = violations.check(
            "alert.hit.listing.listing_id",
            validate::external_id(&listing.listing_id),
        );
        let seller_id = violations.check(
            "alert.hit.listing.seller_id",
            validate::external_id(&listing.seller_id),
        );
        let verdict = hit.verdict.clone().unwrap_or_default();
        let brand_ids: Vec<String> = verdict.brands.iter().map(|b| b.brand_id.clone()).collect();
        let brand_ids = check_brand_ids(&mut violations, "alert.hit.verdict.brands", &brand_ids);
        let (listing_id, seller_id) = violations.require(listing_id.zip(seller_id))?;

        let source_key = format!("{}/{}", topic::SCREENING_HIT, hit.id);
        let title: String = listing.title.chars().take(200).collect();
        let brands: Vec<&str> = verdict
            .brands
            .iter()
            .map(|b| b.brand_name.as_str())
            .collect();
        let summary: String = verdict
            .signals
            .iter()
            .map(|s| s.explanation.as_str())
            .collect::<Vec<_>>()
            .join("\n")
            .chars()
            .take(10_000)
            .collect();
        let now = time::now();
        let new = NewCase {
            id: CaseId::generate().into_string(),
            source: CaseSource::ScreeningAlert,
            title: if brands.is_empty() {
                format!("Screening: {title}")
            } else {
                format!("Screening ({}): {title}", brands.join(", "))
            },
            summary,
            brand_ids,
            listings: vec![CaseListing {
                listing_id,
                seller_id,
                title: listing.title.chars().take(500).collect(),
                ..CaseListing::default()
            }],
            member_id: String::new(),
            ip_right_id: String::new(),
            hit_id: hit.id.clone(),
            source_key: Some(source_key.clone()),
            risk_score: verdict.risk_score,
            fast_track: false,
            due_time: self
                .inner
                .config
                .sla
                .opened(CaseSource::ScreeningAlert, false, now),
        };
        // Exactly once: the source key is unique. A concurrent duplicate delivery loses the
        // insert and finds the winner's case.
        let txn = self.db().begin().await?;
        if let Some(existing) = store::find_by_source_key(&txn, &source_key).await? {
            return Ok(ReceiveHitAlertResponse {
                case_id: existing.id,
                created: false,
            });
        }
        let inserted = store::insert_case(&txn, new, &principal.actor(), now).await;
        match inserted {
            Ok(model) => {
                txn.commit().await?;
                crate::metrics::case_opened(&model.source);
                Ok(ReceiveHitAlertResponse {
                    case_id: model.id,
                    created: true,
                })
            }
            Err(error) => {
                drop(txn);
                match store::find_by_source_key(self.db(), &source_key).await? {
                    Some(existing) => Ok(ReceiveHitAlertResponse {
                        case_id: existing.id,
                        created: false,
                    }),
                    None => Err(error),
                }
            }
        }
    }

    // ---- reading --------------------------------------------------------------------------

    async fn get_case(&self, principal: &Principal, req: GetCaseRequest) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let model = store::find_case(self.db(), id.as_str()).await?;
        self.scope_case(self.db(), principal, id.as_str(), "case", id.as_str())
            .await?;
        self.respond(&model).await
    }

    async fn list_cases(
        &self,
        principal: &Principal,
        req: ListCasesRequest,
    ) -> ApiResult<ListCasesResponse> {
        let size = page_size(req.page_size)?;
        let mut violations = FieldViolations::new();
        let statuses = validate::each(&mut violations, "statuses", &req.statuses, 0..=20, |s| {
            validate::required_enum::<CaseStatus>(*s)
        });
        let source = violations
            .check("source", validate::optional_enum::<CaseSource>(req.source))
            .flatten();
        let assignee = violations.check("assignee", assignee(&req.assignee));
        if !req.brand_id.is_empty() {
            violations.check("brand_id", BrandId::parse(&req.brand_id));
        }
        if !req.seller_id.is_empty() {
            violations.check("seller_id", validate::external_id(&req.seller_id));
        }
        if !req.listing_id.is_empty() {
            violations.check("listing_id", validate::external_id(&req.listing_id));
        }
        if !req.tag.is_empty() {
            violations.check("tag", validate::slug(&req.tag));
        }
        let (from, until) = time_range(&mut violations, "create_time", req.create_time.as_ref());
        violations.into_result(())?;
        let brand_ids = if let Some(member) = principal.member_id() {
            let mine = self.catalogue()?.brands_of(member);
            if req.brand_id.is_empty() {
                Some(mine)
            } else if mine.contains(&req.brand_id) {
                Some(vec![req.brand_id.clone()])
            } else {
                return Err(ApiError::not_found("brand", req.brand_id.as_str()));
            }
        } else {
            (!req.brand_id.is_empty()).then(|| vec![req.brand_id.clone()])
        };
        let now = time::now();
        let filter = store::CaseFilter {
            brand_ids,
            statuses,
            source,
            assignee: assignee.filter(|a| !a.is_empty()),
            seller_id: (!req.seller_id.is_empty()).then(|| req.seller_id.clone()),
            listing_id: (!req.listing_id.is_empty()).then(|| req.listing_id.clone()),
            tag: (!req.tag.is_empty()).then(|| req.tag.clone()),
            overdue_at: req.overdue_only.then_some(now),
            from,
            until,
        };
        // The scope pins the filter (not the moment of an overdue listing).
        let scope = format!(
            "ListCases|{:?}",
            store::CaseFilter {
                overdue_at: None,
                ..filter.clone()
            }
        ) + if req.overdue_only { "|overdue" } else { "" };
        let before = self.inner.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_cases(self.db(), &filter, before.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |c| c.id.clone());
        Ok(ListCasesResponse {
            cases: store::case_protos(self.db(), &rows, now).await?,
            next_page_token,
        })
    }

    async fn list_case_events(
        &self,
        principal: &Principal,
        req: ListCaseEventsRequest,
    ) -> ApiResult<ListCaseEventsResponse> {
        let id = case_id("case_id", &req.case_id)?;
        let size = page_size(req.page_size)?;
        store::find_case(self.db(), id.as_str()).await?;
        self.scope_case(self.db(), principal, id.as_str(), "case", id.as_str())
            .await?;
        let scope = format!("ListCaseEvents|{id}");
        let after = self
            .inner
            .page_tokens
            .decode(&scope, &req.page_token)?
            .map(|cursor| cursor.parse::<i64>())
            .transpose()
            .map_err(|_| ApiError::invalid("page_token", "is not a token of this request"))?;
        let rows = store::list_events(self.db(), id.as_str(), after, size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |e| e.sequence.to_string());
        Ok(ListCaseEventsResponse {
            events: rows.iter().map(store::event_proto).collect(),
            next_page_token,
        })
    }

    // ---- the status machine -----------------------------------------------------------------

    async fn start_review(
        &self,
        principal: &Principal,
        req: StartReviewRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let (current, from, to) = self
            .open_for(&txn, principal, &id, &req.etag, Action::StartReview)
            .await?;
        let take = current.assignee.is_empty();
        let subject = match principal {
            Principal::Staff { subject, .. } if take => subject.clone(),
            _ => current.assignee.clone(),
        };
        let model = self
            .moved(
                &txn,
                &current,
                from,
                to,
                &actor,
                "review started".into(),
                now,
                |m| {
                    m.assignee = Set(subject.clone());
                },
            )
            .await?;
        if take && !subject.is_empty() {
            store::append_event(
                &txn,
                id.as_str(),
                Event::new(CaseEventKind::Assigned, format!("assigned to {subject}")),
                &actor,
                now,
            )
            .await?;
        }
        txn.commit().await?;
        self.respond(&model).await
    }

    async fn take_action(&self, principal: &Principal, req: TakeActionRequest) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let why = note("note", &req.note)?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let (current, from, to) = self
            .open_for(&txn, principal, &id, &req.etag, Action::TakeAction)
            .await?;
        store::take_down_listings(&txn, id.as_str(), now).await?;
        store::strike_sellers(&txn, id.as_str(), now).await?;
        let model = self
            .moved(
                &txn,
                &current,
                from,
                to,
                &actor,
                format!("listings taken down and sellers struck: {why}"),
                now,
                |m| {
                    m.resolution_note = Set(why.clone());
                    m.decision = Set(Decision::Upheld.as_str().to_owned());
                    m.decision_time = Set(Some(now));
                },
            )
            .await?;
        self.feedback(&txn, &model, FeedbackOutcome::ConfirmedCounterfeit, &why)
            .await?;
        txn.commit().await?;
        self.wake_relay();
        self.respond(&model).await
    }

    async fn reject_case(&self, principal: &Principal, req: RejectCaseRequest) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let why = note("note", &req.note)?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let (current, from, to) = self
            .open_for(&txn, principal, &id, &req.etag, Action::Reject)
            .await?;
        let model = self
            .moved(
                &txn,
                &current,
                from,
                to,
                &actor,
                format!("rejected: {why}"),
                now,
                |m| {
                    m.resolution_note = Set(why.clone());
                    m.decision = Set(Decision::Rejected.as_str().to_owned());
                    m.decision_time = Set(Some(now));
                },
            )
            .await?;
        self.feedback(&txn, &model, FeedbackOutcome::FalsePositive, &why)
            .await?;
        txn.commit().await?;
        self.wake_relay();
        self.respond(&model).await
    }

    async fn file_counter_notice(
        &self,
        principal: &Principal,
        req: FileCounterNoticeRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let Some(counter) = &req.counter_notice else {
            return Err(ApiError::invalid("counter_notice", "must be set"));
        };
        let mut violations = FieldViolations::new();
        let statement = violations.check(
            "counter_notice.statement",
            validate::text(&counter.statement, 10_000),
        );
        check_contact(
            &mut violations,
            "counter_notice.contact",
            counter.contact.as_ref(),
        );
        let evidence: Vec<NewEvidence> = validate::bounded(
            &mut violations,
            "evidence",
            &req.evidence,
            0,
            MAX_COUNTER_EVIDENCE,
        )
        .iter()
        .enumerate()
        .filter_map(|(i, e)| check_evidence(&mut violations, &format!("evidence[{i}]"), e))
        .collect();
        let statement = violations.require(statement)?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let (current, from, to) = self
            .open_for(&txn, principal, &id, &req.etag, Action::FileCounterNotice)
            .await?;
        let mut evidence_ids = Vec::with_capacity(evidence.len());
        for item in evidence {
            let evidence_id = EvidenceId::generate();
            store::insert_evidence(&txn, evidence_id.as_str(), id.as_str(), item, &actor, now)
                .await?;
            evidence_ids.push(evidence_id.into_string());
        }
        let filed = CounterNotice {
            statement,
            contact: counter.contact.clone(),
            evidence_ids,
            filed_by: actor.clone(),
            file_time: Some(time::to_timestamp(now)),
            reply: None,
        };
        store::append_event(
            &txn,
            id.as_str(),
            Event::new(
                CaseEventKind::CounterNoticeFiled,
                format!(
                    "counter-notice filed with {} evidence",
                    filed.evidence_ids.len()
                ),
            ),
            &actor,
            now,
        )
        .await?;
        let model = self
            .moved(
                &txn,
                &current,
                from,
                to,
                &actor,
                "the seller appealed the takedown".into(),
                now,
                |m| {
                    m.counter_notice = Set(Some(filed.encode_to_vec()));
                    m.counter_notice_time = Set(Some(now));
                },
            )
            .await?;
        txn.commit().await?;
        self.respond(&model).await
    }

    async fn reply_to_counter_notice(
        &self,
        principal: &Principal,
        req: ReplyToCounterNoticeRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let Some(reply) = &req.reply else {
            return Err(ApiError::invalid("reply", "must be set"));
        };
        let statement = validate::text(&reply.statement, 10_000)
            .map_err(|e| ApiError::invalid("reply.statement", e))?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let (current, from, to) = self
            .open_for(
                &txn,
                principal,
                &id,
                &req.etag,
                Action::ReplyToCounterNotice,
            )
            .await?;
        let mut counter = current
            .counter_notice
            .as_deref()
            .map(CounterNotice::decode)
            .transpose()
            .map_err(|e| ApiError::internal(anyhow::anyhow!("corrupt counter-notice: {e}")))?
            .unwrap_or_default();
        if counter.reply.is_some() {
            return Err(ApiError::precondition(
                "the rights holder already replied to this counter-notice",
            ));
        }
        counter.reply = Some(CounterNoticeReply {
            maintains_notice: reply.maintains_notice,
            statement,
            replied_by: actor.clone(),
            reply_time: Some(time::to_timestamp(now)),
        });
        let detail = if reply.maintains_notice {
            "the rights holder maintains its notice"
        } else {
            "the rights holder withdraws its notice"
        };
        store::append_event(
            &txn,
            id.as_str(),
            Event::new(CaseEventKind::CounterNoticeReplied, detail),
            &actor,
            now,
        )
        .await?;
        let model = self
            .moved(&txn, &current, from, to, &actor, String::new(), now, |m| {
                m.counter_notice = Set(Some(counter.encode_to_vec()));
            })
            .await?;
        txn.commit().await?;
        self.respond(&model).await
    }

    async fn resolve_counter_notice(
        &self,
        principal: &Principal,
        req: ResolveCounterNoticeRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let mut violations = FieldViolations::new();
        let decision = violations.check(
            "decision",
            validate::required_enum::<CounterNoticeDecision>(req.decision),
        );
        let why = violations.check("note", validate::text(&req.note, 2000));
        let (decision, why) = violations.require(decision.zip(why))?;
        let action = match decision {
            CounterNoticeDecision::Reinstate => Action::Reinstate,
            _ => Action::Uphold,
        };
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let (current, from, to) = self
            .open_for(&txn, principal, &id, &req.etag, action)
            .await?;
        let reinstate = action == Action::Reinstate;
        if reinstate {
            store::reinstate_listings(&txn, id.as_str(), now).await?;
            store::withdraw_strikes(&txn, id.as_str(), now).await?;
        }
        let detail = if reinstate {
            format!("counter-notice granted, listings reinstated and strikes withdrawn: {why}")
        } else {
            format!("counter-notice refused, the takedown stands: {why}")
        };
        let model = self
            .moved(&txn, &current, from, to, &actor, detail, now, |m| {
                m.resolution_note = Set(why.clone());
                if reinstate {
                    m.decision = Set(Decision::Overturned.as_str().to_owned());
                    m.decision_time = Set(Some(now));
                }
            })
            .await?;
        if reinstate {
            self.feedback(&txn, &model, FeedbackOutcome::FalsePositive, &why)
                .await?;
        }
        txn.commit().await?;
        self.wake_relay();
        self.respond(&model).await
    }

    async fn escalate_case(
        &self,
        principal: &Principal,
        req: EscalateCaseRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let why = note("note", &req.note)?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let (current, from, to) = self
            .open_for(&txn, principal, &id, &req.etag, Action::Escalate)
            .await?;
        let model = self
            .moved(
                &txn,
                &current,
                from,
                to,
                &actor,
                format!("escalated: {why}"),
                now,
                |_| {},
            )
            .await?;
        txn.commit().await?;
        self.respond(&model).await
    }

    async fn refer_case(&self, principal: &Principal, req: ReferCaseRequest) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let Some(referral) = &req.referral else {
            return Err(ApiError::invalid("referral", "must be set"));
        };
        let mut violations = FieldViolations::new();
        violations.check("referral.agency_id", AgencyId::parse(&referral.agency_id));
        let summary = violations.check(
            "referral.summary",
            validate::text(&referral.summary, 10_000),
        );
        let summary = violations.require(summary)?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let (current, from, to) = self
            .open_for(&txn, principal, &id, &req.etag, Action::Refer)
            .await?;
        let evidence = store::list_evidence(&txn, id.as_str(), None, 100_000).await?;
        let (package, package_sha256) = store::package(&evidence);
        let referral_id = ReferralId::generate();
        store::insert_referral(
            &txn,
            referral::ActiveModel {
                id: Set(referral_id.as_str().to_owned()),
                case_id: Set(id.as_str().to_owned()),
                agency_id: Set(referral.agency_id.clone()),
                summary: Set(summary),
                package: Set(Referral {
                    package,
                    ..Referral::default()
                }
                .encode_to_vec()),
                package_sha256: Set(package_sha256.clone()),
                state: Set(ReferralState::Pending.as_str_name().to_owned()),
                referred_by: Set(actor.clone()),
                create_time: Set(now),
            },
        )
        .await?;
        let detail = format!(
            "packaged for referral {referral_id} to {}",
            referral.agency_id
        );
        for item in &evidence {
            store::append_custody(&txn, item, CustodyAction::Packaged, &actor, &detail, now)
                .await?;
        }
        store::append_event(
            &txn,
            id.as_str(),
            Event::new(
                CaseEventKind::Referred,
                format!(
                    "referred to {} with {} evidence (package sha256 {package_sha256})",
                    referral.agency_id,
                    evidence.len()
                ),
            ),
            &actor,
            now,
        )
        .await?;
        let model = self
            .moved(
                &txn,
                &current,
                from,
                to,
                &actor,
                "referred to law enforcement".into(),
                now,
                |_| {},
            )
            .await?;
        // The law-enforcement service takes it from the outbox, in the trace the case began
        // in (the screening hit's, for an alert), so that one trace tells its whole story.
        let case = store::case_proto(&txn, &model, now).await?;
        let trace = if model.trace_context.is_empty() {
            assay_common::telemetry::current_traceparent()
        } else {
            model.trace_context.clone()
        };
        outbox::enqueue_in_trace(
            &txn,
            topic::REFERRAL,
            referral_id.as_str(),
            case.encode_to_vec(),
            &trace,
        )
        .await?;
        txn.commit().await?;
        self.wake_relay();
        self.respond(&model).await
    }

    async fn record_referral_outcome(
        &self,
        principal: &Principal,
        req: RecordReferralOutcomeRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let Some(outcome) = &req.outcome else {
            return Err(ApiError::invalid("outcome", "must be set"));
        };
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let seized_value = validate::outcome_figures(
            &mut violations,
            "outcome",
            outcome.arrests,
            outcome.seized_units,
            outcome.convictions,
            outcome.seized_value.as_ref(),
        );
        let note_text =
            violations.check("outcome.note", validate::optional_text(&outcome.note, 2000));
        let note_text = violations.require(note_text)?;
        let key = Key::new(
            "RecordReferralOutcome",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&RecordReferralOutcomeRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        if let Some(key) = &key
            && key.earlier(&txn).await?.is_some()
        {
            drop(txn);
            return self
                .respond(&store::find_case(self.db(), id.as_str()).await?)
                .await;
        }
        let (current, from, to) = self
            .open_for(&txn, principal, &id, "", Action::RecordReferralOutcome)
            .await?;
        let Some(referral) = store::referral_of_case(&txn, id.as_str()).await? else {
            return Err(ApiError::precondition("this case was not referred"));
        };
        let recorded = ReferralOutcome {
            note: note_text,
            ..outcome.clone()
        };
        store::insert_outcome(&txn, &referral.id, &recorded, seized_value, &actor, now).await?;
        let mut detail = format!(
            "{} arrests, {} units seized, {} convictions",
            outcome.arrests, outcome.seized_units, outcome.convictions
        );
        if let Some(value) = seized_value {
            detail.push_str(&format!(", worth {value}"));
        }
        store::append_event(
            &txn,
            id.as_str(),
            Event::new(CaseEventKind::ReferralOutcome, detail),
            &actor,
            now,
        )
        .await?;
        let model = self
            .moved(&txn, &current, from, to, &actor, String::new(), now, |_| {})
            .await?;
        if let Some(key) = &key {
            key.record(&txn, id.as_str()).await?;
        }
        txn.commit().await?;
        self.respond(&model).await
    }

    async fn close_case(&self, principal: &Principal, req: CloseCaseRequest) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let why = note("note", &req.note)?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let (current, from, to) = self
            .open_for(&txn, principal, &id, &req.etag, Action::Close)
            .await?;
        let model = self
            .moved(
                &txn,
                &current,
                from,
                to,
                &actor,
                format!("closed: {why}"),
                now,
                |m| {
                    m.resolution_note = Set(why.clone());
                },
            )
            .await?;
        txn.commit().await?;
        self.respond(&model).await
    }

    // ---- assignment, bulk work, merging -------------------------------------------------------

    /// Assigns one case inside `txn` (refusing final cases).
    async fn assign_in(
        &self,
        txn: &DatabaseTransaction,
        current: &case::Model,
        assignee: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<case::Model> {
        let status = store::status_of(current)?;
        if matches!(status, CaseStatus::Closed | CaseStatus::Merged) {
            return Err(ApiError::precondition(format!(
                "case {} is {}: only open work can be assigned",
                current.id,
                domain::status_word(status)
            )));
        }
        if current.assignee == assignee {
            return Ok(current.clone());
        }
        let model =
            store::update_case(txn, current, |m| m.assignee = Set(assignee.to_owned()), now)
                .await?;
        let detail = if assignee.is_empty() {
            "unassigned".to_owned()
        } else {
            format!("assigned to {assignee}")
        };
        store::append_event(
            txn,
            &current.id,
            Event::new(CaseEventKind::Assigned, detail),
            actor,
            now,
        )
        .await?;
        Ok(model)
    }

    async fn assign_case(&self, principal: &Principal, req: AssignCaseRequest) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let assignee = assignee(&req.assignee).map_err(|e| ApiError::invalid("assignee", e))?;
        let now = time::now();
        let txn = self.db().begin().await?;
        let current = store::find_case(&txn, id.as_str()).await?;
        check_etag(&req.etag, current.version, "case")?;
        let model = self
            .assign_in(&txn, &current, &assignee, &principal.actor(), now)
            .await?;
        txn.commit().await?;
        self.respond(&model).await
    }

    async fn bulk_update_cases(
        &self,
        principal: &Principal,
        req: BulkUpdateCasesRequest,
    ) -> ApiResult<BulkUpdateCasesResponse> {
        use bulk_update_cases_request::Action as Bulk;
        let mut violations = FieldViolations::new();
        let ids = validate::each(
            &mut violations,
            "case_ids",
            &req.case_ids,
            1..=MAX_BULK,
            |id| CaseId::parse(id),
        );
        match &req.action {
            None => violations.add("action", "must be set: assign_to, close_note or tags"),
            Some(Bulk::AssignTo(who)) => {
                violations.check("assign_to", assignee(who));
            }
            Some(Bulk::CloseNote(text)) => {
                violations.check("close_note", validate::text(text, 2000));
            }
            Some(Bulk::Tags(change)) => {
                if change.add.is_empty() && change.remove.is_empty() {
                    violations.add("tags", "must add or remove at least one tag");
                }
                for (field, tags) in [("tags.add", &change.add), ("tags.remove", &change.remove)] {
                    validate::each(&mut violations, field, tags, 0..=20, |t| validate::slug(t));
                }
            }
        }
        violations.into_result(())?;
        let action = req.action.unwrap_or(Bulk::CloseNote(String::new()));
        let now = time::now();
        let actor = principal.actor();
        // All or nothing: one transaction, and the first case that cannot take the change
        // fails the whole request, naming it.
        let txn = self.db().begin().await?;
        let mut changed = Vec::with_capacity(ids.len());
        for id in &ids {
            let current = store::find_case(&txn, id.as_str()).await?;
            let model = match &action {
                Bulk::AssignTo(who) => {
                    self.assign_in(&txn, &current, who.trim(), &actor, now)
                        .await?
                }
                Bulk::CloseNote(text) => {
                    let from = store::status_of(&current)?;
                    let to = domain::transition(from, Action::Close)
                        .map_err(|e| ApiError::precondition(format!("case {id}: {e}")))?;
                    let why = text.trim().to_owned();
                    self.moved(
                        &txn,
                        &current,
                        from,
                        to,
                        &actor,
                        format!("closed: {why}"),
                        now,
                        |m| {
                            m.resolution_note = Set(why.clone());
                        },
                    )
                    .await?
                }
                Bulk::Tags(change) => {
                    let status = store::status_of(&current)?;
                    if status == CaseStatus::Merged {
                        return Err(ApiError::precondition(format!(
                            "case {id} was merged into {}: tag that case instead",
                            current.merged_into
                        )));
                    }
                    store::set_tags(&txn, id.as_str(), &change.add, &change.remove).await?;
                    let mut parts = Vec::new();
                    if !change.add.is_empty() {
                        parts.push(format!("tagged {}", change.add.join(", ")));
                    }
                    if !change.remove.is_empty() {
                        parts.push(format!("untagged {}", change.remove.join(", ")));
                    }
                    store::append_event(
                        &txn,
                        id.as_str(),
                        Event::new(CaseEventKind::Tagged, parts.join("; ")),
                        &actor,
                        now,
                    )
                    .await?;
                    store::update_case(&txn, &current, |_| {}, now).await?
                }
            };
            changed.push(model);
        }
        txn.commit().await?;
        Ok(BulkUpdateCasesResponse {
            cases: store::case_protos(self.db(), &changed, now).await?,
        })
    }

    async fn merge_cases(&self, principal: &Principal, req: MergeCasesRequest) -> ApiResult<Case> {
        let mut violations = FieldViolations::new();
        let target = violations.check("target_case_id", CaseId::parse(&req.target_case_id));
        let sources = validate::each(
            &mut violations,
            "source_case_ids",
            &req.source_case_ids,
            1..=MAX_MERGE,
            |id| CaseId::parse(id),
        );
        if let Some(target) = &target
            && let Some(i) = sources.iter().position(|s| s == target)
        {
            violations.add(format!("source_case_ids[{i}]"), "is the target itself");
        }
        let target = violations.require(target)?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let current_target = store::find_case(&txn, target.as_str()).await?;
        let target_status = store::status_of(&current_target)?;
        domain::transition(target_status, Action::MergeInto)
            .map_err(|e| ApiError::precondition(format!("target case {target}: {e}")))?;
        for source in &sources {
            let current = store::find_case(&txn, source.as_str()).await?;
            let from = store::status_of(&current)?;
            let to = domain::transition(from, Action::MergeAway)
                .map_err(|e| ApiError::precondition(format!("case {source}: {e}")))?;
            let moved = store::move_case_contents(&txn, source.as_str(), target.as_str()).await?;
            for item in &moved {
                store::append_custody(
                    &txn,
                    item,
                    CustodyAction::Transferred,
                    &actor,
                    &format!("moved from case {source} to case {target} by a merge"),
                    now,
                )
                .await?;
            }
            store::append_event(
                &txn,
                source.as_str(),
                Event::new(CaseEventKind::Merged, format!("merged into case {target}")),
                &actor,
                now,
            )
            .await?;
            self.moved(
                &txn,
                &current,
                from,
                to,
                &actor,
                format!("duplicate of case {target}"),
                now,
                |m| m.merged_into = Set(target.as_str().to_owned()),
            )
            .await?;
            store::append_event(
                &txn,
                target.as_str(),
                Event::new(
                    CaseEventKind::Merged,
                    format!(
                        "case {source} merged into this one ({} evidence moved)",
                        moved.len()
                    ),
                ),
                &actor,
                now,
            )
            .await?;
        }
        let model = store::update_case(&txn, &current_target, |_| {}, now).await?;
        txn.commit().await?;
        self.respond(&model).await
    }

    // ---- evidence ---------------------------------------------------------------------------

    async fn add_evidence(
        &self,
        principal: &Principal,
        req: AddEvidenceRequest,
    ) -> ApiResult<Evidence> {
        let id = case_id("case_id", &req.case_id)?;
        let Some(input) = &req.evidence else {
            return Err(ApiError::invalid("evidence", "must be set"));
        };
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let new = check_evidence(&mut violations, "evidence", input);
        let new = violations.require(new)?;
        let key = Key::new(
            "AddEvidence",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&AddEvidenceRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(&txn).await?
        {
            drop(txn);
            return Ok(store::evidence_proto(
                &store::find_evidence(self.db(), &existing).await?,
            ));
        }
        let current = store::find_case(&txn, id.as_str()).await?;
        self.scope_case(&txn, principal, id.as_str(), "case", id.as_str())
            .await?;
        let status = store::status_of(&current)?;
        if matches!(status, CaseStatus::Closed | CaseStatus::Merged) {
            return Err(ApiError::precondition(format!(
                "case {id} is {}: evidence goes to open cases",
                domain::status_word(status)
            )));
        }
        let evidence_id = EvidenceId::generate();
        let model =
            store::insert_evidence(&txn, evidence_id.as_str(), id.as_str(), new, &actor, now)
                .await?;
        store::update_case(&txn, &current, |_| {}, now).await?;
        if let Some(key) = &key {
            key.record(&txn, evidence_id.as_str()).await?;
        }
        txn.commit().await?;
        Ok(store::evidence_proto(&model))
    }

    async fn get_evidence(
        &self,
        principal: &Principal,
        req: GetEvidenceRequest,
    ) -> ApiResult<GetEvidenceResponse> {
        let id = EvidenceId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let purpose = validate::optional_text(&req.purpose, 500)
            .map_err(|e| ApiError::invalid("purpose", e))?;
        let now = time::now();
        let actor = principal.actor();
        // The view is entered in the chain of custody in the same transaction as the read.
        let txn = self.db().begin().await?;
        let model = store::find_evidence(&txn, id.as_str()).await?;
        self.scope_case(&txn, principal, &model.case_id, "evidence", id.as_str())
            .await?;
        store::append_custody(&txn, &model, CustodyAction::Viewed, &actor, &purpose, now).await?;
        txn.commit().await?;
        Ok(GetEvidenceResponse {
            evidence: Some(store::evidence_proto(&model)),
            content: model.content.unwrap_or_default(),
        })
    }

    async fn list_evidence(
        &self,
        principal: &Principal,
        req: ListEvidenceRequest,
    ) -> ApiResult<ListEvidenceResponse> {
        let id = case_id("case_id", &req.case_id)?;
        let size = page_size(req.page_size)?;
        store::find_case(self.db(), id.as_str()).await?;
        self.scope_case(self.db(), principal, id.as_str(), "case", id.as_str())
            .await?;
        let scope = format!("ListEvidence|{id}");
        let after = self.inner.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_evidence(self.db(), id.as_str(), after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |e| e.id.clone());
        Ok(ListEvidenceResponse {
            evidence: rows.iter().map(store::evidence_proto).collect(),
            next_page_token,
        })
    }

    async fn list_custody_events(
        &self,
        req: ListCustodyEventsRequest,
    ) -> ApiResult<ListCustodyEventsResponse> {
        let id =
            EvidenceId::parse(&req.evidence_id).map_err(|e| ApiError::invalid("evidence_id", e))?;
        let size = page_size(req.page_size)?;
        store::find_evidence(self.db(), id.as_str()).await?;
        let scope = format!("ListCustodyEvents|{id}");
        let after = self
            .inner
            .page_tokens
            .decode(&scope, &req.page_token)?
            .map(|cursor| cursor.parse::<i64>())
            .transpose()
            .map_err(|_| ApiError::invalid("page_token", "is not a token of this request"))?;
        let rows = store::list_custody(self.db(), id.as_str(), after, size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |e| e.sequence.to_string());
        Ok(ListCustodyEventsResponse {
            events: rows,
            next_page_token,
        })
    }

    // ---- sellers ----------------------------------------------------------------------------

    async fn seller(&self, seller_id: &str) -> ApiResult<Seller> {
        let now = time::now();
        let ids = [seller_id.to_owned()];
        let strikes = store::strikes_of(self.db(), &ids).await?;
        let times: Vec<_> = strikes
            .iter()
            .map(|s| (s.strike_time, s.withdraw_time))
            .collect();
        let policy = &self.inner.config.repeat_infringer;
        let active = policy.active(&times, now);
        let identifiers = store::identifiers_of(self.db(), &ids).await?;
        Ok(Seller {
            seller_id: seller_id.to_owned(),
            strikes: strikes
                .iter()
                .map(|s| Strike {
                    case_id: s.case_id.clone(),
                    strike_time: Some(time::to_timestamp(s.strike_time)),
                    withdraw_time: time::opt_timestamp(s.withdraw_time),
                })
                .collect(),
            active_strikes: active as i32,
            repeat_infringer: policy.is_repeat_infringer(active),
            identifiers: identifiers
                .into_iter()
                .map(|i| SellerIdentifier {
                    kind: IdentifierKind::from_str_name(&i.kind).unwrap_or_default() as i32,
                    value: i.value,
                })
                .collect(),
            case_count: store::case_count_of_seller(self.db(), seller_id).await? as i32,
        })
    }

    async fn get_seller(&self, req: GetSellerRequest) -> ApiResult<Seller> {
        let seller_id =
            validate::external_id(&req.seller_id).map_err(|e| ApiError::invalid("seller_id", e))?;
        self.seller(&seller_id).await
    }

    async fn record_seller_identifiers(
        &self,
        req: RecordSellerIdentifiersRequest,
    ) -> ApiResult<Seller> {
        let mut violations = FieldViolations::new();
        let seller_id = violations.check("seller_id", validate::external_id(&req.seller_id));
        let identifiers = validate::each(
            &mut violations,
            "identifiers",
            &req.identifiers,
            1..=50,
            |i| {
                let kind = validate::required_enum::<IdentifierKind>(i.kind)
                    .map_err(|e| format!("kind {e}"))?;
                let value = domain::normalize_identifier(kind, &i.value)
                    .map_err(|e| format!("value {e}"))?;
                Ok((kind.as_str_name().to_owned(), value))
            },
        );
        let seller_id = violations.require(seller_id)?;
        store::record_identifiers(self.db(), &seller_id, &identifiers, time::now()).await?;
        self.seller(&seller_id).await
    }

    async fn get_seller_cluster(
        &self,
        req: GetSellerClusterRequest,
    ) -> ApiResult<GetSellerClusterResponse> {
        let seller_id =
            validate::external_id(&req.seller_id).map_err(|e| ApiError::invalid("seller_id", e))?;
        // Breadth first over shared identifiers, bounded.
        let mut members: Vec<String> = vec![seller_id.clone()];
        let mut seen: BTreeSet<String> = members.iter().cloned().collect();
        let mut shared: BTreeMap<String, BTreeSet<(String, String)>> = BTreeMap::new();
        let mut queue: VecDeque<String> = VecDeque::from([seller_id.clone()]);
        let mut truncated = false;
        while let Some(seller) = queue.pop_front() {
            let own = store::identifiers_of(self.db(), std::slice::from_ref(&seller)).await?;
            let keys: Vec<(String, String)> = own.into_iter().map(|i| (i.kind, i.value)).collect();
            for holder in store::sellers_with(self.db(), &keys).await? {
                if holder.seller_id == seller {
                    continue;
                }
                let link = (holder.kind.clone(), holder.value.clone());
                shared
                    .entry(seller.clone())
                    .or_default()
                    .insert(link.clone());
                shared
                    .entry(holder.seller_id.clone())
                    .or_default()
                    .insert(link);
                if !seen.contains(&holder.seller_id) {
                    if seen.len() >= domain::MAX_CLUSTER {
                        truncated = true;
                        continue;
                    }
                    seen.insert(holder.seller_id.clone());
                    members.push(holder.seller_id.clone());
                    queue.push_back(holder.seller_id);
                }
            }
        }
        let now = time::now();
        let strikes = store::strikes_of(self.db(), &members).await?;
        let policy = &self.inner.config.repeat_infringer;
        let mut sellers = Vec::with_capacity(members.len());
        for member in members {
            let times: Vec<_> = strikes
                .iter()
                .filter(|s| s.seller_id == member)
                .map(|s| (s.strike_time, s.withdraw_time))
                .collect();
            let active = policy.active(&times, now);
            sellers.push(ClusterMember {
                shared_identifiers: shared
                    .remove(&member)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(kind, value)| SellerIdentifier {
                        kind: IdentifierKind::from_str_name(&kind).unwrap_or_default() as i32,
                        value,
                    })
                    .collect(),
                seller_id: member,
                active_strikes: active as i32,
                repeat_infringer: policy.is_repeat_infringer(active),
            });
        }
        Ok(GetSellerClusterResponse {
            contains_repeat_infringer: sellers.iter().any(|s| s.repeat_infringer),
            sellers,
            truncated,
        })
    }

    // ---- figures ----------------------------------------------------------------------------

    async fn get_notice_accuracy(
        &self,
        principal: &Principal,
        req: GetNoticeAccuracyRequest,
    ) -> ApiResult<GetNoticeAccuracyResponse> {
        let mut violations = FieldViolations::new();
        violations.check("member_id", MemberId::parse(&req.member_id));
        let (from, until) = time_range(&mut violations, "create_time", req.create_time.as_ref());
        violations.into_result(())?;
        principal.scope(
            Owner::Members(&[req.member_id.as_str()]),
            "member",
            &req.member_id,
        )?;
        let accuracy = store::notice_accuracy(self.db(), &req.member_id, from, until).await?;
        // Trust is earned over all notices, whatever the period asked about.
        let overall = if from.is_none() && until.is_none() {
            accuracy
        } else {
            store::notice_accuracy(self.db(), &req.member_id, None, None).await?
        };
        Ok(GetNoticeAccuracyResponse {
            notices: accuracy.notices,
            upheld: accuracy.upheld,
            rejected: accuracy.rejected,
            overturned: accuracy.overturned,
            pending: accuracy.pending,
            accuracy: accuracy.ratio(),
            trusted: overall.trusted(&self.inner.config.trusted_notices),
        })
    }

    async fn get_enforcement_figures(
        &self,
        req: GetEnforcementFiguresRequest,
    ) -> ApiResult<GetEnforcementFiguresResponse> {
        let mut violations = FieldViolations::new();
        let (from, until) = time_range(&mut violations, "period", req.period.as_ref());
        violations.into_result(())?;
        let figures = store::figures(self.db(), from, until).await?;
        let source = |s: CaseSource| figures.by_source.get(s.as_str_name()).copied().unwrap_or(0);
        Ok(GetEnforcementFiguresResponse {
            notices: source(CaseSource::Notice),
            screening_alerts: source(CaseSource::ScreeningAlert),
            staff_cases: source(CaseSource::Staff),
            listings_taken_down: figures.listings_taken_down,
            counter_notices: figures.counter_notices,
            listings_reinstated: figures.listings_reinstated,
            referrals: figures.referrals,
            arrests: figures.arrests,
            seized_units: figures.seized_units,
            seized_value: figures
                .seized_value
                .iter()
                .filter_map(|(code, nanos)| {
                    Some(
                        Money {
                            currency: assay_common::money::CurrencyCode::parse(code).ok()?,
                            nanos: *nanos,
                        }
                        .to_proto(),
                    )
                })
                .collect(),
            convictions: figures.convictions,
            sellers_struck: figures.sellers_struck,
        })
    }
}

assay_common::rpcs! {
    impl CasesService for CasesApi (self) {
        submit_notice(SubmitNoticeRequest) -> SubmitNoticeResponse =
            |p, req| self.submit_notice(&p, req), |c| SubmitNoticeResponse { r#case: Some(c) };
        create_case(CreateCaseRequest) -> CreateCaseResponse =
            |p, req| self.create_case(&p, req), |c| CreateCaseResponse { r#case: Some(c) };
        receive_hit_alert(ReceiveHitAlertRequest) -> ReceiveHitAlertResponse =
            |p, req| self.receive_hit_alert(&p, req);
        get_case(GetCaseRequest) -> GetCaseResponse =
            |p, req| self.get_case(&p, req), |c| GetCaseResponse { r#case: Some(c) };
        list_cases(ListCasesRequest) -> ListCasesResponse = |p, req| self.list_cases(&p, req);
        list_case_events(ListCaseEventsRequest) -> ListCaseEventsResponse =
            |p, req| self.list_case_events(&p, req);
        start_review(StartReviewRequest) -> StartReviewResponse =
            |p, req| self.start_review(&p, req), |c| StartReviewResponse { r#case: Some(c) };
        take_action(TakeActionRequest) -> TakeActionResponse =
            |p, req| self.take_action(&p, req), |c| TakeActionResponse { r#case: Some(c) };
        reject_case(RejectCaseRequest) -> RejectCaseResponse =
            |p, req| self.reject_case(&p, req), |c| RejectCaseResponse { r#case: Some(c) };
        file_counter_notice(FileCounterNoticeRequest) -> FileCounterNoticeResponse =
            |p, req| self.file_counter_notice(&p, req),
            |c| FileCounterNoticeResponse { r#case: Some(c) };
        reply_to_counter_notice(ReplyToCounterNoticeRequest) -> ReplyToCounterNoticeResponse =
            |p, req| self.reply_to_counter_notice(&p, req),
            |c| ReplyToCounterNoticeResponse { r#case: Some(c) };
        resolve_counter_notice(ResolveCounterNoticeRequest) -> ResolveCounterNoticeResponse =
            |p, req| self.resolve_counter_notice(&p, req),
            |c| ResolveCounterNoticeResponse { r#case: Some(c) };
        escalate_case(EscalateCaseRequest) -> EscalateCaseResponse =
            |p, req| self.escalate_case(&p, req), |c| EscalateCaseResponse { r#case: Some(c) };
        refer_case(ReferCaseRequest) -> ReferCaseResponse =
            |p, req| self.refer_case(&p, req), |c| ReferCaseResponse { r#case: Some(c) };
        record_referral_outcome(RecordReferralOutcomeRequest) -> RecordReferralOutcomeResponse =
            |p, req| self.record_referral_outcome(&p, req),
            |c| RecordReferralOutcomeResponse { r#case: Some(c) };
        close_case(CloseCaseRequest) -> CloseCaseResponse =
            |p, req| self.close_case(&p, req), |c| CloseCaseResponse { r#case: Some(c) };
        assign_case(AssignCaseRequest) -> AssignCaseResponse =
            |p, req| self.assign_case(&p, req), |c| AssignCaseResponse { r#case: Some(c) };
        bulk_update_cases(BulkUpdateCasesRequest) -> BulkUpdateCasesResponse =
            |p, req| self.bulk_update_cases(&p, req);
        merge_cases(MergeCasesRequest) -> MergeCasesResponse =
            |p, req| self.merge_cases(&p, req), |c| MergeCasesResponse { r#case: Some(c) };
        add_evidence(AddEvidenceRequest) -> AddEvidenceResponse =
            |p, req| self.add_evidence(&p, req), |e| AddEvidenceResponse { evidence: Some(e) };
        get_evidence(GetEvidenceRequest) -> GetEvidenceResponse =
            |p, req| self.get_evidence(&p, req);
        list_evidence(ListEvidenceRequest) -> ListEvidenceResponse =
            |p, req| self.list_evidence(&p, req);
        list_custody_events(ListCustodyEventsRequest) -> ListCustodyEventsResponse =
            |_, req| self.list_custody_events(req);
        get_seller(GetSellerRequest) -> GetSellerResponse =
            |_, req| self.get_seller(req), |s| GetSellerResponse { seller: Some(s) };
        record_seller_identifiers(RecordSellerIdentifiersRequest) -> RecordSellerIdentifiersResponse =
            |_, req| self.record_seller_identifiers(req),
            |s| RecordSellerIdentifiersResponse { seller: Some(s) };
        get_seller_cluster(GetSellerClusterRequest) -> GetSellerClusterResponse =
            |_, req| self.get_seller_cluster(req);
        get_notice_accuracy(GetNoticeAccuracyRequest) -> GetNoticeAccuracyResponse =
            |p, req| self.get_notice_accuracy(&p, req);
        get_enforcement_figures(GetEnforcementFiguresRequest) -> GetEnforcementFiguresResponse =
            |_, req| self.get_enforcement_figures(req);
        purge_cases(PurgeCasesRequest) -> PurgeCasesResponse = |_, req| self.purge_cases(req);
    }
}
