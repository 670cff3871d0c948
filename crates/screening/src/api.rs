//! The gRPC handler: screening (one listing or a feed), rules, hits and feedback.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use assay_common::auth::{self, Principal};
use assay_common::holds::HoldChecker;
use assay_common::idempotency::{self, Key};
use assay_common::ids::BrandId;
use assay_common::page::{PageTokens, page_size};
use assay_common::resource::{check_etag, mask_paths};
use assay_common::{ApiError, ApiResult, FieldViolations, time, validate};
use assay_proto::screening::v1::screening_service_server::ScreeningService;
use assay_proto::screening::v1::*;
use futures::FutureExt;
use prost::Message;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio::sync::{Notify, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::engine::{Engine, Scratch};
use crate::feed::Engines;
use crate::ids::{HitId, RuleId};
use crate::listing::{CheckedListing, check};
use crate::{rules, store};

/// Listings of a feed screened and stored together, at most.
const FEED_BATCH: usize = 256;
/// Answers of a feed waiting for the caller to read them, at most.
const FEED_BUFFER: usize = 16;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn screen_one(engine: &Engine, listing: &CheckedListing) -> Verdict {
    let verdict =
        SCRATCH.with(|scratch| engine.screen(&listing.input(), &mut scratch.borrow_mut()));
    crate::metrics::screened(verdict.decision);
    verdict
}

/// The screening service.
#[derive(Clone)]
pub struct ScreeningApi {
    db: DatabaseConnection,
    engines: Arc<Engines>,
    page_tokens: PageTokens,
    /// Cancelled when open feeds are to finish what they received and end.
    drain: CancellationToken,
    /// Images decoded at once, off the runtime.
    decoding: Arc<tokio::sync::Semaphore>,
    /// Wakes the outbox relay when hits were stored.
    relay: Arc<OnceLock<Arc<Notify>>>,
    holds: HoldChecker,
}

impl ScreeningApi {
    pub fn new(
        db: DatabaseConnection,
        engines: Arc<Engines>,
        page_tokens: PageTokens,
        drain: CancellationToken,
        holds: HoldChecker,
    ) -> Self {
        Self {
            db,
            engines,
            page_tokens,
            drain,
            decoding: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            relay: Arc::new(OnceLock::new()),
            holds,
        }
    }

    /// Deletes hits screened before `before`, keeping those a preservation hold covers;
    /// returns (purged, held). Asks about holds batch by batch, and deletes each batch in
    /// one transaction.
    pub async fn purge(&self, before: chrono::DateTime<chrono::Utc>) -> ApiResult<(u64, u64)> {
        const BATCH: u64 = 500;
        let (mut purged, mut kept) = (0u64, 0u64);
        let mut after: Option<String> = None;
        loop {
            let batch = store::hits_before(&self.db, before, after.as_deref(), BATCH).await?;
            let Some((last, _, _)) = batch.last() else {
                break;
            };
            after = Some(last.clone());
            let sellers: Vec<String> = batch.iter().map(|(_, s, _)| s.clone()).collect();
            let listings: Vec<String> = batch.iter().map(|(_, _, l)| l.clone()).collect();
            let held = self.holds.held(&sellers, &listings).await?;
            let doomed: Vec<String> = batch
                .iter()
                .filter(|(_, seller, listing)| !held.covers(seller, listing))
                .map(|(id, _, _)| id.clone())
                .collect();
            kept += (batch.len() - doomed.len()) as u64;
            let txn = self.db.begin().await?;
            purged += store::delete_hits(&txn, &doomed).await?;
            txn.commit().await?;
            if (batch.len() as u64) < BATCH {
                break;
            }
        }
        if purged > 0 || kept > 0 {
            tracing::info!(purged, held = kept, %before, "hits purged");
        }
        Ok((purged, kept))
    }

    async fn purge_hits(&self, req: PurgeHitsRequest) -> ApiResult<PurgeHitsResponse> {
        let before = time::past_timestamp(req.screened_before.as_ref())
            .map_err(|e| ApiError::invalid("screened_before", e))?;
        let (purged, held) = self.purge(before).await?;
        Ok(PurgeHitsResponse {
            purged: purged as i64,
            held: held as i64,
        })
    }

    /// Where to say that the outbox has something new.
    pub fn set_waker(&self, waker: Arc<Notify>) {
        let _ = self.relay.set(waker);
    }

    fn engine(&self) -> ApiResult<Arc<Engine>> {
        self.engines.current().ok_or_else(|| {
            ApiError::Unavailable("no catalogue loaded yet: try again shortly".to_owned())
        })
    }

    /// Stores the hits among `screened` (those not allowed), with their outbox messages, in
    /// one transaction; returns the hit id of each (empty for allowed listings).
    async fn store_hits(&self, screened: &[(&Listing, &Verdict)]) -> ApiResult<Vec<String>> {
        if screened
            .iter()
            .all(|(_, v)| v.decision == Decision::Allow as i32)
        {
            return Ok(vec![String::new(); screened.len()]);
        }
        // A concurrent identical screening may win the unique key: the retry finds its hit.
        match self.try_store_hits(screened).await {
            Ok(ids) => Ok(ids),
            Err(_) => self.try_store_hits(screened).await,
        }
    }

    async fn try_store_hits(&self, screened: &[(&Listing, &Verdict)]) -> ApiResult<Vec<String>> {
        let now = time::now();
        let txn = self.db.begin().await?;
        let mut ids = Vec::with_capacity(screened.len());
        let mut stored = 0;
        for (listing, verdict) in screened {
            if verdict.decision == Decision::Allow as i32 {
                ids.push(String::new());
                continue;
            }
            let key = store::dedup_key(listing, verdict);
            let id = match store::find_hit_by_key(&txn, &key).await? {
                Some(existing) => existing.id,
                None => {
                    let id = HitId::generate().into_string();
                    store::insert_hit(&txn, &id, listing, verdict, &key, now).await?;
                    stored += 1;
                    id
                }
            };
            ids.push(id);
        }
        txn.commit().await?;
        crate::metrics::hits_stored(stored);
        if let Some(waker) = self.relay.get() {
            waker.notify_one();
        }
        Ok(ids)
    }

    async fn screen_listing(&self, req: ScreenListingRequest) -> ApiResult<ScreenListingResponse> {
        let Some(listing) = req.listing else {
            return Err(ApiError::invalid("listing", "must be set"));
        };
        let checked = self
            .check_listing(listing)
            .await?
            .map_err(ApiError::InvalidArgument)?;
        let engine = self.engine()?;
        let verdict = screen_one(&engine, &checked);
        let ids = self.store_hits(&[(&checked.listing, &verdict)]).await?;
        Ok(ScreenListingResponse {
            verdict: Some(verdict),
            hit_id: ids.into_iter().next().unwrap_or_default(),
        })
    }

    /// Screens one batch of a feed and answers it in order.
    async fn screen_batch(
        &self,
        batch: Vec<ScreenListingsRequest>,
        out: &mpsc::Sender<Result<ScreenListingsResponse, Status>>,
    ) -> ApiResult<bool> {
        let engine = self.engine()?;
        let mut answers: Vec<ScreenListingsResponse> = Vec::with_capacity(batch.len());
        let mut screened: Vec<(CheckedListing, Verdict, usize)> = Vec::new();
        for (index, request) in batch.into_iter().enumerate() {
            let listing = request.listing.unwrap_or_default();
            let listing_id = listing.listing_id.clone();
            match self.check_listing(listing).await? {
                Ok(checked) => {
                    let verdict = screen_one(&engine, &checked);
                    answers.push(ScreenListingsResponse {
                        listing_id,
                        result: None,
                        hit_id: String::new(),
                    });
                    screened.push((checked, verdict, index));
                }
                Err(violations) => answers.push(ScreenListingsResponse {
                    listing_id,
                    result: Some(screen_listings_response::Result::Error(ListingError {
                        field_violations: violations
                            .iter()
                            .map(|(field, description)| FieldViolation {
                                field: field.to_owned(),
                                description: description.to_owned(),
                            })
                            .collect(),
                    })),
                    hit_id: String::new(),
                }),
            }
        }
        let pairs: Vec<(&Listing, &Verdict)> =
            screened.iter().map(|(l, v, _)| (&l.listing, v)).collect();
        let ids = self.store_hits(&pairs).await?;
        for ((_, verdict, index), id) in screened.into_iter().zip(ids) {
            answers[index].result = Some(screen_listings_response::Result::Verdict(verdict));
            answers[index].hit_id = id;
        }
        for answer in answers {
            if out.send(Ok(answer)).await.is_err() {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Checks a listing; one carrying image bytes is decoded on the blocking pool, a few at
    /// a time, so that images never hold up the requests the runtime serves.
    async fn check_listing(
        &self,
        listing: Listing,
    ) -> ApiResult<Result<CheckedListing, FieldViolations>> {
        let has_content = listing
            .images
            .iter()
            .any(|i| matches!(i.source, Some(listing_image::Source::Content(_))));
        if !has_content {
            return Ok(check(listing, "listing"));
        }
        let _slot = self
            .decoding
            .acquire()
            .await
            .map_err(|_| ApiError::Unavailable("shutting down".to_owned()))?;
        tokio::task::spawn_blocking(move || check(listing, "listing"))
            .await
            .map_err(ApiError::internal)
    }

    /// Reads a feed, batch by batch: it takes what has arrived (up to a batch) and reads no
    /// further until those answers are handed to the transport, so a slow reader holds back
    /// the feed through HTTP/2 flow control instead of growing buffers here.
    async fn run_feed(
        self,
        mut inbound: Streaming<ScreenListingsRequest>,
        out: mpsc::Sender<Result<ScreenListingsResponse, Status>>,
    ) {
        loop {
            let first = tokio::select! {
                // Draining: what has arrived is answered below, then the feed ends cleanly
                // and the client sends the rest to another replica.
                () = self.drain.cancelled() => match inbound.message().now_or_never() {
                    Some(message) => message,
                    None => {
                        tracing::info!("feed ended for the drain");
                        return;
                    }
                },
                message = inbound.message() => message,
            };
            let first = match first {
                Ok(Some(message)) => message,
                Ok(None) => return,
                Err(status) => {
                    // A message the server refused (too large, undecodable) or a stream the
                    // caller broke off: what came before it was answered; the feed ends with
                    // the reason, never with OK, so no listing after it is silently dropped.
                    tracing::debug!(%status, "feed ended on a bad inbound message");
                    let _ = out.send(Err(status)).await;
                    return;
                }
            };
            let mut batch = vec![first];
            // A bad message behind the batch: the batch is answered, then the feed ends
            // with it.
            let mut refused = None;
            while batch.len() < FEED_BATCH {
                match inbound.message().now_or_never() {
                    Some(Ok(Some(message))) => batch.push(message),
                    Some(Err(status)) => {
                        refused = Some(status);
                        break;
                    }
                    _ => break,
                }
            }
            match self.screen_batch(batch, &out).await {
                Ok(true) => {}
                Ok(false) => return,
                Err(error) => {
                    let _ = out.send(Err(error.into())).await;
                    return;
                }
            }
            if let Some(status) = refused {
                tracing::debug!(%status, "feed ended on a bad inbound message");
                let _ = out.send(Err(status)).await;
                return;
            }
        }
    }

    async fn get_engine_status(&self) -> GetEngineStatusResponse {
        let Some(engine) = self.engines.current() else {
            return GetEngineStatusResponse::default();
        };
        let stats = engine.stats();
        GetEngineStatusResponse {
            loaded: true,
            catalogue_revision: engine.catalogue_revision(),
            rule_version: engine.rule_version(),
            brands: stats.brands as i64,
            brand_terms: stats.brand_terms as i64,
            vocabulary_terms: stats.vocabulary_terms as i64,
            fuzzy_keys: stats.fuzzy_keys as i64,
            logo_hashes: stats.logo_hashes as i64,
            build_time: self.engines.built().map(|b| time::to_timestamp(b.time)),
            build_millis: stats.build_millis,
        }
    }

    // ---- rules ----------------------------------------------------------------------------

    /// Keeps a member to the rules of brands it acts for: a rule of another brand, or a
    /// global one (empty `brand_id`), answers as a missing `kind id`.
    fn scope_rule(
        &self,
        principal: &Principal,
        brand_id: &str,
        kind: &'static str,
        id: &str,
    ) -> ApiResult<()> {
        let Some(member_id) = principal.member_id() else {
            return Ok(());
        };
        if !brand_id.is_empty() && self.engines.catalogue().acts_for(member_id, brand_id) {
            Ok(())
        } else {
            Err(ApiError::not_found(kind, id))
        }
    }

    fn check_brand(&self, field: &str, brand_id: &str) -> ApiResult<()> {
        if brand_id.is_empty() {
            return Ok(());
        }
        BrandId::parse(brand_id).map_err(|e| ApiError::invalid(field, e))?;
        if !self.engines.catalogue().brands.contains_key(brand_id) {
            return Err(ApiError::precondition(format!(
                "brand {brand_id} is not in the catalogue of protected brands"
            )));
        }
        Ok(())
    }

    async fn create_rule(&self, principal: &Principal, req: CreateRuleRequest) -> ApiResult<Rule> {
        let Some(rule) = &req.rule else {
            return Err(ApiError::invalid("rule", "must be set"));
        };
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let spec = rules::validate(rule, "rule", &mut violations);
        let spec = violations.require(spec)?;
        if principal.member_id().is_some() && rule.brand_id.is_empty() {
            return Err(ApiError::denied(
                "members write rules for their own brands: global rules are the marketplace's",
            ));
        }
        self.scope_rule(principal, &rule.brand_id, "brand", &rule.brand_id)?;
        self.check_brand("rule.brand_id", &rule.brand_id)?;
        let key = Key::new(
            "CreateRule",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&CreateRuleRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );
        let txn = self.db.begin().await?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(&txn).await?
        {
            return store::rule_proto(&store::get_rule(&txn, &existing).await?);
        }
        let id = RuleId::generate();
        let model = store::insert_rule(
            &txn,
            id.as_str(),
            &rule.brand_id,
            &spec,
            &principal.actor(),
            time::now(),
        )
        .await?;
        if let Some(key) = &key {
            key.record(&txn, id.as_str()).await?;
        }
        txn.commit().await?;
        self.rules_changed().await;
        store::rule_proto(&model)
    }

    /// After a rule change: reload the rules, and wait briefly for the engine that uses
    /// them, so the caller's next screening sees the change.
    async fn rules_changed(&self) {
        match self.engines.refresh_rules(&self.db).await {
            Ok(version) => {
                if !self
                    .engines
                    .wait_for_rules(version, std::time::Duration::from_secs(5))
                    .await
                {
                    tracing::warn!(version, "the engine did not pick up the new rules in time");
                }
            }
            Err(error) => tracing::warn!(%error, "reloading rules failed; the poller will retry"),
        }
    }

    async fn get_rule(&self, principal: &Principal, req: GetRuleRequest) -> ApiResult<Rule> {
        let id = RuleId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let model = store::get_rule(&self.db, id.as_str()).await?;
        self.scope_rule(principal, &model.brand_id, "rule", id.as_str())?;
        store::rule_proto(&model)
    }

    async fn list_rules(
        &self,
        principal: &Principal,
        req: ListRulesRequest,
    ) -> ApiResult<ListRulesResponse> {
        let size = page_size(req.page_size)?;
        if !req.brand_id.is_empty() {
            BrandId::parse(&req.brand_id).map_err(|e| ApiError::invalid("brand_id", e))?;
            self.scope_rule(principal, &req.brand_id, "brand", &req.brand_id)?;
        }
        let brand_ids: Option<Vec<String>> = match (req.brand_id.is_empty(), principal) {
            (false, _) => Some(vec![req.brand_id.clone()]),
            (true, Principal::Member { member_id, .. }) => {
                Some(self.engines.catalogue().brands_of(member_id))
            }
            (true, _) => None,
        };
        let scope = format!("ListRules|{:?}", brand_ids);
        let after = self.page_tokens.decode(&scope, &req.page_token)?;
        let rows =
            store::list_rules(&self.db, brand_ids.as_deref(), after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self.page_tokens.page(&scope, rows, size, |r| r.id.clone());
        Ok(ListRulesResponse {
            rules: rows
                .iter()
                .map(store::rule_proto)
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    async fn update_rule(&self, principal: &Principal, req: UpdateRuleRequest) -> ApiResult<Rule> {
        let Some(update) = req.rule else {
            return Err(ApiError::invalid("rule", "must be set"));
        };
        let id = RuleId::parse(&update.id).map_err(|e| ApiError::invalid("rule.id", e))?;
        const FIELDS: &[&str] = &[
            "description",
            "vocabulary",
            "review_threshold",
            "block_threshold",
            "ambiguous_terms",
        ];
        let paths = mask_paths(req.update_mask.as_ref(), FIELDS)?;
        let txn = self.db.begin().await?;
        let current = store::get_rule(&txn, id.as_str()).await?;
        self.scope_rule(principal, &current.brand_id, "rule", id.as_str())?;
        check_etag(&update.etag, current.version, "rule")?;
        let mut merged = store::rule_proto(&current)?;
        for path in &paths {
            match *path {
                "description" => merged.description = update.description.clone(),
                "vocabulary" => merged.vocabulary = update.vocabulary.clone(),
                "review_threshold" => merged.review_threshold = update.review_threshold,
                "block_threshold" => merged.block_threshold = update.block_threshold,
                "ambiguous_terms" => merged.ambiguous_terms = update.ambiguous_terms.clone(),
                _ => {}
            }
        }
        let mut violations = FieldViolations::new();
        let spec = rules::validate(&merged, "rule", &mut violations);
        let spec = violations.require(spec)?;
        let model =
            store::update_rule(&txn, current, &spec, &principal.actor(), time::now()).await?;
        txn.commit().await?;
        self.rules_changed().await;
        store::rule_proto(&model)
    }

    async fn delete_rule(&self, principal: &Principal, req: DeleteRuleRequest) -> ApiResult<()> {
        let id = RuleId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let txn = self.db.begin().await?;
        let current = store::get_rule(&txn, id.as_str()).await?;
        self.scope_rule(principal, &current.brand_id, "rule", id.as_str())?;
        check_etag(&req.etag, current.version, "rule")?;
        store::delete_rule(&txn, current, &principal.actor(), time::now()).await?;
        txn.commit().await?;
        self.rules_changed().await;
        Ok(())
    }

    async fn list_rule_revisions(
        &self,
        principal: &Principal,
        req: ListRuleRevisionsRequest,
    ) -> ApiResult<ListRuleRevisionsResponse> {
        let id = RuleId::parse(&req.rule_id).map_err(|e| ApiError::invalid("rule_id", e))?;
        let size = page_size(req.page_size)?;
        let revisions_scope = format!("ListRuleRevisions|{id}");
        let before = self
            .page_tokens
            .decode(&revisions_scope, &req.page_token)?
            .map(|cursor| cursor.parse::<i64>())
            .transpose()
            .map_err(|_| ApiError::invalid("page_token", "is not a token of this request"))?;
        let rows = store::list_revisions(&self.db, id.as_str(), before, size + 1).await?;
        let Some(newest) = rows.first() else {
            return Err(ApiError::not_found("rule", id.as_str()));
        };
        let brand_id = Rule::decode(newest.body.as_slice())
            .map(|r| r.brand_id)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("corrupt rule revision: {e}")))?;
        self.scope_rule(principal, &brand_id, "rule", id.as_str())?;
        let (rows, next_page_token) = self
            .page_tokens
            .page(&revisions_scope, rows, size, |r| r.version.to_string());
        let revisions = rows
            .iter()
            .map(|r| {
                Ok(RuleRevision {
                    rule: Some(Rule::decode(r.body.as_slice()).map_err(|e| {
                        ApiError::internal(anyhow::anyhow!("corrupt rule revision: {e}"))
                    })?),
                    deleted: r.deleted,
                    rule_set_version: r.rule_set_version,
                })
            })
            .collect::<ApiResult<_>>()?;
        Ok(ListRuleRevisionsResponse {
            revisions,
            next_page_token,
        })
    }

    // ---- hits -----------------------------------------------------------------------------

    /// Staff and services see every hit; a member, those about brands it acts for. Any
    /// other hit answers NOT_FOUND, as a missing one does.
    async fn scope_hit(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        principal: &Principal,
        hit_id: &str,
    ) -> ApiResult<()> {
        let Some(member_id) = principal.member_id() else {
            return Ok(());
        };
        let mine = self.engines.catalogue().brands_of(member_id);
        let brands = store::hit_brands(db, hit_id).await?;
        if brands.iter().any(|b| mine.contains(b)) {
            Ok(())
        } else {
            Err(ApiError::not_found("hit", hit_id))
        }
    }

    async fn get_hit(&self, principal: &Principal, req: GetHitRequest) -> ApiResult<Hit> {
        let id = HitId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let model = store::get_hit(&self.db, id.as_str()).await?;
        self.scope_hit(&self.db, principal, id.as_str()).await?;
        store::hit_proto(&model)
    }

    async fn list_hits(
        &self,
        principal: &Principal,
        req: ListHitsRequest,
    ) -> ApiResult<ListHitsResponse> {
        let size = page_size(req.page_size)?;
        let mut violations = FieldViolations::new();
        if !req.brand_id.is_empty() {
            violations.check("brand_id", BrandId::parse(&req.brand_id));
        }
        if !req.seller_id.is_empty() {
            violations.check("seller_id", validate::external_id(&req.seller_id));
        }
        if !req.listing_id.is_empty() {
            violations.check("listing_id", validate::external_id(&req.listing_id));
        }
        let decision = violations
            .check(
                "decision",
                validate::optional_enum::<Decision>(req.decision),
            )
            .flatten();
        let (from, until) = match &req.create_time {
            None => (None, None),
            Some(range) => (
                range.start_time.as_ref().and_then(|t| {
                    violations.check("create_time.start_time", time::from_timestamp(t))
                }),
                range.end_time.as_ref().and_then(|t| {
                    violations.check("create_time.end_time", time::from_timestamp(t))
                }),
            ),
        };
        violations.into_result(())?;
        let brand_ids = if let Some(member_id) = principal.member_id() {
            let mine = self.engines.catalogue().brands_of(member_id);
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
        let filter = store::HitFilter {
            brand_ids,
            seller_id: (!req.seller_id.is_empty()).then(|| req.seller_id.clone()),
            listing_id: (!req.listing_id.is_empty()).then(|| req.listing_id.clone()),
            decision,
            from,
            until,
        };
        let scope = format!("ListHits|{filter:?}");
        let before = self.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_hits(&self.db, &filter, before.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self.page_tokens.page(&scope, rows, size, |h| h.id.clone());
        Ok(ListHitsResponse {
            hits: rows
                .iter()
                .map(store::hit_proto)
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    async fn record_hit_feedback(
        &self,
        principal: &Principal,
        req: RecordHitFeedbackRequest,
    ) -> ApiResult<Hit> {
        let mut violations = FieldViolations::new();
        let id = violations.check("hit_id", HitId::parse(&req.hit_id));
        let outcome = violations.check(
            "outcome",
            validate::required_enum::<FeedbackOutcome>(req.outcome),
        );
        let note = violations.check("note", validate::optional_text(&req.note, 2000));
        let (id, (outcome, note)) = violations.require(id.zip(outcome.zip(note)))?;
        let txn = self.db.begin().await?;
        let current = store::get_hit(&txn, id.as_str()).await?;
        self.scope_hit(&txn, principal, id.as_str()).await?;
        let model = store::record_feedback(
            &txn,
            current,
            outcome,
            &note,
            &principal.actor(),
            time::now(),
        )
        .await?;
        txn.commit().await?;
        store::hit_proto(&model)
    }

    async fn get_precision_report(
        &self,
        req: GetPrecisionReportRequest,
    ) -> ApiResult<GetPrecisionReportResponse> {
        let mut violations = FieldViolations::new();
        let (from, until) = match &req.create_time {
            None => (None, None),
            Some(range) => (
                range.start_time.as_ref().and_then(|t| {
                    violations.check("create_time.start_time", time::from_timestamp(t))
                }),
                range.end_time.as_ref().and_then(|t| {
                    violations.check("create_time.end_time", time::from_timestamp(t))
                }),
            ),
        };
        violations.into_result(())?;
        let rows = store::feedback_in(&self.db, from, until).await?;
        let mut signals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut brands: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (outcome, kinds, hit_brands) in &rows {
            let confirmed = *outcome == FeedbackOutcome::ConfirmedCounterfeit;
            for kind in kinds {
                let entry = signals.entry(kind.clone()).or_default();
                if confirmed {
                    entry.0 += 1
                } else {
                    entry.1 += 1
                }
            }
            for brand in hit_brands {
                let entry = brands.entry(brand.clone()).or_default();
                if confirmed {
                    entry.0 += 1
                } else {
                    entry.1 += 1
                }
            }
        }
        let precision = |(confirmed, false_positives): (i64, i64)| {
            let total = confirmed + false_positives;
            if total == 0 {
                0.0
            } else {
                confirmed as f64 / total as f64
            }
        };
        let mut brand_rows: Vec<BrandPrecision> = brands
            .into_iter()
            .map(|(brand_id, counts)| BrandPrecision {
                brand_id,
                confirmed: counts.0,
                false_positives: counts.1,
                precision: precision(counts),
            })
            .collect();
        brand_rows.sort_by(|a, b| {
            (b.confirmed + b.false_positives)
                .cmp(&(a.confirmed + a.false_positives))
                .then_with(|| a.brand_id.cmp(&b.brand_id))
        });
        Ok(GetPrecisionReportResponse {
            signals: signals
                .into_iter()
                .filter_map(|(kind, counts)| {
                    Some(SignalPrecision {
                        kind: SignalKind::from_str_name(&kind)? as i32,
                        confirmed: counts.0,
                        false_positives: counts.1,
                        precision: precision(counts),
                    })
                })
                .collect(),
            brands: brand_rows,
            hits_with_feedback: rows.len() as i64,
        })
    }
}

assay_common::rpcs! {
    impl ScreeningService for ScreeningApi (self) {
        screen_listing(ScreenListingRequest) -> ScreenListingResponse =
            |_, req| self.screen_listing(req);
        create_rule(CreateRuleRequest) -> CreateRuleResponse =
            |p, req| self.create_rule(&p, req), |r| CreateRuleResponse { rule: Some(r) };
        get_rule(GetRuleRequest) -> GetRuleResponse =
            |p, req| self.get_rule(&p, req), |r| GetRuleResponse { rule: Some(r) };
        list_rules(ListRulesRequest) -> ListRulesResponse = |p, req| self.list_rules(&p, req);
        update_rule(UpdateRuleRequest) -> UpdateRuleResponse =
            |p, req| self.update_rule(&p, req), |r| UpdateRuleResponse { rule: Some(r) };
        delete_rule(DeleteRuleRequest) -> DeleteRuleResponse =
            |p, req| self.delete_rule(&p, req), |()| DeleteRuleResponse {};
        list_rule_revisions(ListRuleRevisionsRequest) -> ListRuleRevisionsResponse =
            |p, req| self.list_rule_revisions(&p, req);
        get_hit(GetHitRequest) -> GetHitResponse =
            |p, req| self.get_hit(&p, req), |h| GetHitResponse { hit: Some(h) };
        list_hits(ListHitsRequest) -> ListHitsResponse = |p, req| self.list_hits(&p, req);
        record_hit_feedback(RecordHitFeedbackRequest) -> RecordHitFeedbackResponse =
            |p, req| self.record_hit_feedback(&p, req),
            |h| RecordHitFeedbackResponse { hit: Some(h) };
        get_precision_report(GetPrecisionReportRequest) -> GetPrecisionReportResponse =
            |_, req| self.get_precision_report(req);
        purge_hits(PurgeHitsRequest) -> PurgeHitsResponse = |_, req| self.purge_hits(req);
    }
    {
        type ScreenListingsStream = ReceiverStream<Result<ScreenListingsResponse, Status>>;

        async fn screen_listings(
            &self,
            request: Request<Streaming<ScreenListingsRequest>>,
        ) -> Result<Response<Self::ScreenListingsStream>, Status> {
            auth::principal(&request)?;
            self.engine()?;
            let (tx, rx) = mpsc::channel(FEED_BUFFER);
            tokio::spawn(self.clone().run_feed(request.into_inner(), tx));
            Ok(Response::new(ReceiverStream::new(rx)))
        }

        async fn get_engine_status(
            &self,
            request: Request<GetEngineStatusRequest>,
        ) -> Result<Response<GetEngineStatusResponse>, Status> {
            auth::principal(&request)?;
            Ok(Response::new(self.get_engine_status().await))
        }
    }
}
