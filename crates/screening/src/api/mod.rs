//! The gRPC handlers: screening itself (one listing, a batch or a feed) here, rules and
//! hits (with feedback and precision) in their own files.

mod calibrations;
mod hits;
mod rules;
mod sellers;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use assay_common::auth::{self, Principal};
use assay_common::db::Db;
use assay_common::holds::HoldChecker;
use assay_common::idempotency::{Key, create_once};
use assay_common::ids::BrandId;
use assay_common::language::{self, Language};
use assay_common::outbox::RelayWaker;
use assay_common::page::{PageTokens, page_size};
use assay_common::resource::{check_etag, mask_paths};
use assay_common::{ApiError, ApiResult, FieldViolations, time, validate};
use assay_proto::screening::v1::screening_service_server::ScreeningService;
use assay_proto::screening::v1::*;
use futures::FutureExt;
use prost::Message;
use sea_orm::TransactionTrait;
use tokio::sync::{Notify, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status, Streaming};

use crate::engine::{Engine, Scratch, say};
use crate::feed::Engines;
use crate::ids::{HitId, RuleId};
use crate::listing::{CheckedListing, check};
use crate::rules as rule_domain;
use crate::sellers::{SellerBook, Standings};
use crate::writer::{HitWriter, Lane};
use crate::{convert, store};

/// Listings of a feed screened and stored together, at most.
const FEED_BATCH: usize = 256;
/// Answers of a feed waiting for the caller to read them, at most.
const FEED_BUFFER: usize = 16;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Screens a listing with what case management knows of its seller at `now`.
fn screen_one(
    engine: &Engine,
    sellers: &Standings,
    now: chrono::DateTime<chrono::Utc>,
    listing: &CheckedListing,
) -> Verdict {
    let standing = if sellers.is_empty() {
        None
    } else {
        sellers.get(&listing.listing.seller_id)
    };
    let input = listing.input_with(standing.map(|s| s.record(now)));
    let verdict = SCRATCH.with(|scratch| engine.screen(&input, &mut scratch.borrow_mut()));
    crate::metrics::screened(verdict.decision);
    verdict
}

/// The screening service.
#[derive(Clone)]
pub struct ScreeningApi {
    db: Db,
    engines: Arc<Engines>,
    page_tokens: PageTokens,
    /// Cancelled when open feeds are to finish what they received and end.
    drain: CancellationToken,
    /// Images decoded at once, off the runtime.
    decoding: Arc<tokio::sync::Semaphore>,
    /// Wakes the outbox relay when hits were stored.
    relay: RelayWaker,
    writer: HitWriter,
    holds: HoldChecker,
    /// What case management knows of sellers.
    sellers: Arc<SellerBook>,
    /// How long a screening waits for the catalogue revision its caller asked for.
    catalogue_wait: std::time::Duration,
}

impl ScreeningApi {
    pub fn new(
        db: Db,
        engines: Arc<Engines>,
        page_tokens: PageTokens,
        drain: CancellationToken,
        holds: HoldChecker,
    ) -> Self {
        let relay = RelayWaker::default();
        Self {
            writer: HitWriter::start(db.clone(), relay.clone()),
            db,
            engines,
            page_tokens,
            drain,
            decoding: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            relay,
            holds,
            sellers: Arc::default(),
            catalogue_wait: std::time::Duration::from_secs(10),
        }
    }

    /// What case management knows of sellers, for the replica to follow.
    pub fn sellers(&self) -> Arc<SellerBook> {
        self.sellers.clone()
    }

    /// How long a screening waits for the catalogue revision its caller asked for.
    pub fn with_catalogue_wait(mut self, wait: std::time::Duration) -> Self {
        self.catalogue_wait = wait;
        self
    }

    /// Deletes hits screened before `before`, keeping those a preservation hold covers;
    /// returns (purged, held). Asks about holds batch by batch, and deletes each batch in
    /// one transaction.
    pub async fn purge(&self, before: chrono::DateTime<chrono::Utc>) -> ApiResult<(u64, u64)> {
        let db = &self.db;
        let (purged, kept) = self
            .holds
            .purge_unless_held(
                500,
                |after, limit| async move {
                    store::hits_before(db, before, after.as_deref(), limit).await
                },
                |doomed| async move {
                    let txn = db.begin().await?;
                    let purged = store::delete_hits(&txn, &doomed).await?;
                    txn.commit().await?;
                    Ok(purged)
                },
            )
            .await?;
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
        self.relay.set(waker);
    }

    fn engine(&self) -> ApiResult<Arc<Engine>> {
        self.engines.current().ok_or_else(|| {
            ApiError::Unavailable("no catalogue loaded yet: try again shortly".to_owned())
        })
    }

    /// Stores the hits among `screened` (those not allowed), with their outbox messages,
    /// through the group-committing writer of `lane`; returns the hit id of each (empty
    /// for allowed listings) once they are durable.
    async fn store_hits(
        &self,
        lane: Lane,
        screened: &[(&Listing, &Verdict)],
    ) -> ApiResult<Vec<String>> {
        let now = time::now();
        let hits: Vec<store::NewHit> = screened
            .iter()
            .filter(|(_, verdict)| verdict.decision != Decision::Allow as i32)
            .map(|(listing, verdict)| store::new_hit(HitId::generate(), listing, verdict, now))
            .collect();
        let mut stored = self.writer.write(lane, hits).await?.into_iter();
        Ok(screened
            .iter()
            .map(|(_, verdict)| {
                if verdict.decision == Decision::Allow as i32 {
                    String::new()
                } else {
                    stored.next().map(HitId::into_string).unwrap_or_default()
                }
            })
            .collect())
    }

    async fn screen_listing(&self, req: ScreenListingRequest) -> ApiResult<ScreenListingResponse> {
        let listing = validate::present("listing", req.listing)?;
        match req.min_catalogue_revision {
            ..0 => {
                return Err(ApiError::invalid(
                    "min_catalogue_revision",
                    "must be 0 or a catalogue revision",
                ));
            }
            0 => {}
            wanted => {
                if !self
                    .engines
                    .wait_for_catalogue(wanted, self.catalogue_wait)
                    .await
                {
                    return Err(ApiError::Behind(format!(
                        "the engine has not reached catalogue revision {wanted} within {:?}: try again",
                        self.catalogue_wait
                    )));
                }
            }
        }
        let checked = self
            .check_listing(listing)
            .await?
            .map_err(ApiError::InvalidArgument)?;
        let engine = self.engine()?;
        let mut verdict = screen_one(&engine, &self.sellers.snapshot(), time::now(), &checked);
        let ids = self
            .store_hits(Lane::Call, &[(&checked.listing, &verdict)])
            .await?;
        say::write(&mut verdict, language::current());
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
        let (sellers, now) = (self.sellers.snapshot(), time::now());
        let mut answers: Vec<ScreenListingsResponse> = Vec::with_capacity(batch.len());
        let mut screened: Vec<(CheckedListing, Verdict, usize)> = Vec::new();
        for (index, request) in batch.into_iter().enumerate() {
            let listing = request.listing.unwrap_or_default();
            let listing_id = listing.listing_id.clone();
            match self.check_listing(listing).await? {
                Ok(checked) => {
                    let verdict = screen_one(&engine, &sellers, now, &checked);
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
        let ids = self.store_hits(Lane::Feed, &pairs).await?;
        let language = language::current();
        for ((_, mut verdict, index), id) in screened.into_iter().zip(ids) {
            say::write(&mut verdict, language);
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
            calibration_version: engine.calibration_version(),
        }
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
        record_seller_standings(RecordSellerStandingsRequest) -> RecordSellerStandingsResponse =
            |_, req| self.record_seller_standings(req);
        get_seller_standing(GetSellerStandingRequest) -> GetSellerStandingResponse =
            |_, req| self.get_seller_standing(req);
        get_precision_report(GetPrecisionReportRequest) -> GetPrecisionReportResponse =
            |_, req| self.get_precision_report(req);
        purge_hits(PurgeHitsRequest) -> PurgeHitsResponse = |_, req| self.purge_hits(req);
        create_calibration(CreateCalibrationRequest) -> CreateCalibrationResponse =
            |p, req| self.create_calibration(&p, req),
            |c| CreateCalibrationResponse { calibration: Some(c) };
        list_calibrations(ListCalibrationsRequest) -> ListCalibrationsResponse =
            |_, req| self.list_calibrations(req);
        activate_calibration(ActivateCalibrationRequest) -> ActivateCalibrationResponse =
            |_, req| self.activate_calibration(req);
    }
    {
        type ScreenListingsStream = ReceiverStream<Result<ScreenListingsResponse, Status>>;

        async fn screen_listings(
            &self,
            request: Request<Streaming<ScreenListingsRequest>>,
        ) -> Result<Response<Self::ScreenListingsStream>, Status> {
            auth::principal(&request)?;
            self.engine()?;
            let language = Language::of_metadata(request.metadata());
            let (tx, rx) = mpsc::channel(FEED_BUFFER);
            tokio::spawn(language::speaking(
                language,
                self.clone().run_feed(request.into_inner(), tx),
            ));
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
