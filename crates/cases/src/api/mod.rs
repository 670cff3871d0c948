//! The gRPC handlers, one file per resource: intake (notices, alerts, staff), the work
//! queue (reading, assignment, bulk work, merging), the lifecycle (the status machine),
//! referrals, evidence, sellers and figures. Each handler decodes, authorises, checks the
//! request with `domain::check`, asks `domain::moves` what a change does, and has the store
//! apply it.

mod evidence;
mod figures;
mod intake;
mod lifecycle;
mod notifications;
mod queue;
mod referrals;
mod sellers;

use std::sync::Arc;

use assay_common::auth::{Owner, Principal};
use assay_common::catalogue::{Catalogue, CatalogueCopy};
use assay_common::client::PeerChannel;
use assay_common::db::Db;
use assay_common::holds::HoldChecker;
use assay_common::idempotency::{Key, create_once};
use assay_common::ids::{AgencyId, BrandId, HitId, IpRightId, MemberId};
use assay_common::outbox::{RelayWaker, topic};
use assay_common::page::{PageTokens, page_size};
use assay_common::resource::check_etag;
use assay_common::{ApiError, ApiResult, FieldViolations, outbox, time, validate};
use assay_proto::cases::v1::cases_service_server::CasesService;
use assay_proto::cases::v1::*;
use assay_proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_proto::registry::v1::{GetIpRightRequest, VerificationStatus};
use assay_proto::screening::v1::{FieldViolation, HitAlert};
use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use tokio::sync::Notify;

use crate::config::Config;
use crate::convert;
use crate::domain;
use crate::domain::check::{self, NewEvidence};
use crate::domain::moves::{self, Effect, Event, Move};
use crate::domain::reasons;
use crate::entity::case;
use crate::ids::{CaseId, EvidenceId, ReferralId};
use crate::store::{self, NewCase};

/// Cases in one bulk update, at most.
const MAX_BULK: usize = 500;
/// Source cases in one merge, at most.
const MAX_MERGE: usize = 100;
/// Evidence supplied with a counter-notice, at most.
const MAX_COUNTER_EVIDENCE: usize = 20;
/// Alerts delivered in one call, at most.
const MAX_ALERTS: usize = 500;

/// The case management service.
#[derive(Clone)]
pub struct CasesApi {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    catalogue: Arc<CatalogueCopy>,
    registry: RegistryServiceClient<PeerChannel>,
    lawenforcement: Option<LawEnforcementServiceClient<PeerChannel>>,
    page_tokens: PageTokens,
    config: Arc<Config>,
    relay: RelayWaker,
    holds: HoldChecker,
}

fn case_id(field: &str, value: &str) -> ApiResult<CaseId> {
    CaseId::parse(value).map_err(|e| ApiError::invalid(field, e))
}

fn note(field: &str, value: &str) -> ApiResult<String> {
    validate::text(value, 2000).map_err(|e| ApiError::invalid(field, e))
}

/// Cases as callers see them at `now`, their parts read in a few queries.
async fn encode(
    db: &impl sea_orm::ConnectionTrait,
    models: &[case::Model],
    now: DateTime<Utc>,
) -> ApiResult<Vec<Case>> {
    let parts = store::case_parts(db, models).await?;
    convert::cases(models, parts, now)
}

async fn encode_one(
    db: &impl sea_orm::ConnectionTrait,
    model: &case::Model,
    now: DateTime<Utc>,
) -> ApiResult<Case> {
    let mut cases = encode(db, std::slice::from_ref(model), now).await?;
    cases
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("case vanished")))
}

/// How many entries of a feed (enforcement actions, deliveries) one call returns: 1 to
/// 1000, 100 when 0 is asked for.
fn feed_page(requested: i32) -> Result<u64, String> {
    match requested {
        0 => Ok(100),
        n @ 1..=1000 => Ok(n as u64),
        _ => Err("must be between 0 and 1000".to_owned()),
    }
}

impl CasesApi {
    pub fn new(
        db: Db,
        catalogue: Arc<CatalogueCopy>,
        registry: PeerChannel,
        lawenforcement: Option<PeerChannel>,
        page_tokens: PageTokens,
        config: Arc<Config>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                catalogue,
                registry: RegistryServiceClient::new(registry),
                lawenforcement: lawenforcement.clone().map(LawEnforcementServiceClient::new),
                holds: HoldChecker::new(lawenforcement),
                page_tokens,
                config,
                relay: RelayWaker::default(),
            }),
        }
    }

    /// Deletes closed and merged cases last changed before `before`, keeping those a
    /// preservation hold covers; returns (purged, held).
    pub async fn purge(&self, before: DateTime<Utc>) -> ApiResult<(u64, u64)> {
        let db = self.db();
        let (purged, kept) = self
            .inner
            .holds
            .purge_unless_held(
                200,
                |after, limit| async move {
                    store::purgeable_cases(db, before, after.as_deref(), limit).await
                },
                |doomed| async move {
                    let txn = db.begin().await?;
                    let purged = store::delete_cases(&txn, &doomed).await?;
                    txn.commit().await?;
                    Ok(purged)
                },
            )
            .await?;
        if purged > 0 || kept > 0 {
            tracing::info!(purged, held = kept, %before, "closed cases purged");
        }
        Ok((purged, kept))
    }

    /// Escalates every case past its deadline and not yet escalated, each in its own
    /// transaction; a case another replica escalated first is left to it. Returns how many
    /// this call escalated.
    pub async fn escalate_overdue(&self) -> ApiResult<u64> {
        const BATCH: u64 = 200;
        let sla = &self.inner.config.sla;
        let mut escalated = 0;
        loop {
            let now = time::now();
            let due = store::breached(self.db(), now, BATCH).await?;
            let (found, before) = (due.len() as u64, escalated);
            for current in due {
                let Some(deadline) = current.due_time else {
                    continue;
                };
                let status = store::status_of(&current)?;
                let breach = sla.breach(status, deadline, &current.assignee, now);
                let txn = self.db().begin().await?;
                match store::record_breach(&txn, &current, status, breach, now).await {
                    Ok(_) => {
                        txn.commit().await?;
                        escalated += 1;
                    }
                    // Changed since it was read: another replica escalated it, or someone
                    // decided it; the next round looks again.
                    Err(ApiError::StaleEtag { .. }) => {}
                    Err(error) => return Err(error),
                }
            }
            // A short batch was the last; a batch of nothing but conflicts is left to the
            // next round.
            if found < BATCH || escalated == before {
                return Ok(escalated);
            }
        }
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
        self.inner.relay.set(waker);
    }

    fn db(&self) -> &Db {
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
        case_id: &CaseId,
    ) -> ApiResult<bool> {
        let catalogue = self.catalogue()?;
        let brands = store::brands_of_case(db, case_id).await?;
        Ok(brands
            .iter()
            .any(|b| catalogue.acts_for(member_id, b.as_str())))
    }

    /// Keeps a member to the cases of brands it acts for: any other case answers as a
    /// missing `kind id` (the case's, or a record of it). Staff and services passed the
    /// policy table.
    async fn scope_case(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        principal: &Principal,
        case_id: &CaseId,
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
        encode_one(self.db(), model, time::now()).await
    }

    /// Reads case `id` for a change inside `txn`: authorised and its etag checked. Returns
    /// it with its status.
    async fn open(
        &self,
        txn: &DatabaseTransaction,
        principal: &Principal,
        id: &CaseId,
        etag: &str,
    ) -> ApiResult<(case::Model, CaseStatus)> {
        let current = store::find_case(txn, id).await?;
        self.scope_case(txn, principal, id, "case", id.as_str())
            .await?;
        check_etag(etag, current.version, "case")?;
        let from = store::status_of(&current)?;
        Ok((current, from))
    }

    /// Applies a decided move to `current` inside `txn`, its deadline following the SLA.
    async fn apply(
        &self,
        txn: &DatabaseTransaction,
        current: &case::Model,
        mv: &Move,
        actor: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<case::Model> {
        let due = self.inner.config.sla.moved(mv.to, current.due_time, now);
        let model = store::apply_move(txn, current, mv, due, actor, now).await?;
        let told = match mv.to {
            CaseStatus::ActionTaken | CaseStatus::Rejected => Some(EventType::CaseDecided),
            CaseStatus::CounterNoticed => Some(EventType::CounterNoticeFiled),
            _ => None,
        };
        if let Some(event) = told.filter(|_| !model.member_id.is_empty()) {
            store::notify(
                txn,
                store::Recipients::Member(model.member_id.clone()),
                event,
                store::case_notice(&model, mv.to),
                now,
            )
            .await?;
        }
        if mv
            .effects
            .iter()
            .any(|e| matches!(e, Effect::StrikeSellers | Effect::WithdrawStrikes))
        {
            self.enforce(txn, &current.id, now).await?;
        }
        // A decided notice moves its member's accuracy, and may grant or withdraw
        // self-service removal.
        if let Some(decision) = mv.fields.decision
            && model.source == CaseSource::Notice.as_str_name()
            && !model.member_id.is_empty()
        {
            let cause = format!("case {} decided {}", model.id, decision.as_str());
            self.settle_self_service(txn, &model.member_id, &cause, now)
                .await?;
        }
        Ok(model)
    }

    /// The member's accuracy now, with a record written if that makes it eligible for
    /// self-service removal where it was not (or the other way round).
    async fn settle_self_service(
        &self,
        txn: &DatabaseTransaction,
        member_id: &str,
        cause: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<domain::Accuracy> {
        let accuracy = store::notice_accuracy(txn, Some(member_id), None, None).await?;
        let eligible = self.inner.config.self_service_removal.admits(&accuracy);
        let recorded = store::self_service_recorded(txn, member_id).await?;
        if let Some(eligible) = domain::SelfServicePolicy::change(recorded, eligible) {
            store::record_self_service_change(txn, member_id, eligible, &accuracy, cause, now)
                .await?;
        }
        Ok(accuracy)
    }

    /// One change to case `id` in one transaction: `decide` says what it does from the
    /// case as it is (or why it cannot be done), the store applies it, and the answer is
    /// the case after.
    async fn act(
        &self,
        principal: &Principal,
        id: &CaseId,
        etag: &str,
        decide: impl FnOnce(CaseStatus, &case::Model) -> Result<Move, assay_common::error::Refusal>,
    ) -> ApiResult<Case> {
        let now = time::now();
        let txn = self.db().begin().await?;
        let (current, from) = self.open(&txn, principal, id, etag).await?;
        let mv = decide(from, &current).map_err(ApiError::precondition)?;
        let model = self
            .apply(&txn, &current, &mv, &principal.actor(), now)
            .await?;
        txn.commit().await?;
        if mv.sends() {
            self.inner.relay.wake();
        }
        self.respond(&model).await
    }
}

assay_common::rpcs! {
    impl CasesService for CasesApi (self) with webhooks {
        submit_notice(SubmitNoticeRequest) -> SubmitNoticeResponse =
            |p, req| self.submit_notice(&p, req), |c| SubmitNoticeResponse { r#case: Some(c) };
        remove_listings(RemoveListingsRequest) -> RemoveListingsResponse =
            |p, req| self.remove_listings(&p, req),
            |c| RemoveListingsResponse { r#case: Some(c) };
        reverse_removal(ReverseRemovalRequest) -> ReverseRemovalResponse =
            |p, req| self.reverse_removal(&p, req),
            |c| ReverseRemovalResponse { r#case: Some(c) };
        list_self_service_changes(ListSelfServiceChangesRequest) -> ListSelfServiceChangesResponse =
            |p, req| self.list_self_service_changes(&p, req);
        record_test_purchase(RecordTestPurchaseRequest) -> RecordTestPurchaseResponse =
            |p, req| self.record_test_purchase(&p, req),
            |t| RecordTestPurchaseResponse { test_purchase: Some(t) };
        list_test_purchases(ListTestPurchasesRequest) -> ListTestPurchasesResponse =
            |p, req| self.list_test_purchases(&p, req);
        create_case(CreateCaseRequest) -> CreateCaseResponse =
            |p, req| self.create_case(&p, req), |c| CreateCaseResponse { r#case: Some(c) };
        receive_hit_alert(ReceiveHitAlertRequest) -> ReceiveHitAlertResponse =
            |p, req| self.receive_hit_alert(&p, req);
        receive_hit_alerts(ReceiveHitAlertsRequest) -> ReceiveHitAlertsResponse =
            |p, req| self.receive_hit_alerts(&p, req);
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
        decide_seller_link(DecideSellerLinkRequest) -> DecideSellerLinkResponse =
            |p, req| self.decide_seller_link(&p, req);
        list_enforcement_actions(ListEnforcementActionsRequest) -> ListEnforcementActionsResponse =
            |_, req| self.list_enforcement_actions(req);
        get_notice_accuracy(GetNoticeAccuracyRequest) -> GetNoticeAccuracyResponse =
            |p, req| self.get_notice_accuracy(&p, req);
        get_enforcement_figures(GetEnforcementFiguresRequest) -> GetEnforcementFiguresResponse =
            |_, req| self.get_enforcement_figures(req);
        get_programme_report(GetProgrammeReportRequest) -> GetProgrammeReportResponse =
            |_, req| self.get_programme_report(req);
        purge_cases(PurgeCasesRequest) -> PurgeCasesResponse = |_, req| self.purge_cases(req);
    }
}
