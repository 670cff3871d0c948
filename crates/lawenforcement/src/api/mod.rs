//! The gRPC handlers, one file per resource: agencies, requests, disclosure (verification,
//! review, gathering, packages), holds, referrals, and the audit log. Agencies see only their own requests and referrals: anything else
//! answers NOT_FOUND, exactly as an id that does not exist, so ids leak nothing. Every read
//! of a request, package or personal data, and every disclosure, is written to the audit
//! log in the transaction that does it; a refusal is written once that transaction is over.

mod agencies;
mod audit;
mod disclosure;
mod documents;
mod holds;
mod notifications;
mod referrals;
mod requests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use assay_common::auth::{Owner, Principal};
use assay_common::db::Db;
use assay_common::directory::Directory;
use assay_common::idempotency::{Key, create_once};
use assay_common::ids::{CaseId, ReferralId};
use assay_common::outbox::{RelayWaker, topic};
use assay_common::page::{PageTokens, page_size};
use assay_common::resource::{check_etag, mask_paths};
use assay_common::{ApiError, ApiResult, FieldViolations, outbox, time, validate};
use assay_proto::cases::v1 as cases;
use assay_proto::lawenforcement::v1::law_enforcement_service_server::LawEnforcementService;
use assay_proto::lawenforcement::v1::*;
use prost::Message;
use sea_orm::{DatabaseTransaction, TransactionTrait};
use tokio::sync::Notify;

use crate::audit::{self as audit_log, Audit, Entry};
use crate::config::Config;
use crate::domain::check;
use crate::domain::{self, Action, package};
use crate::entity::request;
use crate::gather::Sources;
use crate::ids::{AgencyId, HoldId, RequestId};
use crate::{convert, store};

/// The law-enforcement service.
#[derive(Clone)]
pub struct LawEnforcementApi {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    audit: Audit,
    sources: Sources,
    page_tokens: PageTokens,
    config: Arc<Config>,
    /// Told when an agency's status changes, so its credentials feel it at once.
    directory: Directory,
    relay: RelayWaker,
    /// Where signed legal processes are kept.
    documents: assay_common::documents::Documents,
}

/// Who is calling, as far as requests are concerned.
enum Caller {
    /// An active agency: sees only its own.
    Agency(String),
    /// Staff or an internal service.
    Marketplace,
}

impl Caller {
    fn sees(&self, agency_id: &str) -> bool {
        match self {
            Caller::Agency(own) => own == agency_id,
            Caller::Marketplace => true,
        }
    }
}

fn request_id_arg(field: &str, value: &str) -> ApiResult<RequestId> {
    RequestId::parse(value).map_err(|e| ApiError::invalid(field, e))
}

impl LawEnforcementApi {
    pub fn new(
        db: Db,
        sources: Sources,
        page_tokens: PageTokens,
        config: Arc<Config>,
        directory: Directory,
        audit: Audit,
        documents: assay_common::documents::Documents,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                audit,
                sources,
                page_tokens,
                config,
                directory,
                relay: RelayWaker::default(),
                documents,
            }),
        }
    }

    /// Where to say that the outbox has something new.
    pub fn set_waker(&self, waker: Arc<Notify>) {
        self.inner.relay.set(waker);
    }

    fn db(&self) -> &Db {
        &self.inner.db
    }

    /// Records a refusal in the audit log. Call it only once the refused work's transaction
    /// has ended: on SQLite that transaction holds the one connection there is.
    async fn audit_refusal(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
        why: &ApiError,
    ) {
        let outcome = match why {
            ApiError::NotFound { .. } => "not found".to_owned(),
            other => format!("refused: {}", other.code().grpc()),
        };
        let written = self
            .inner
            .audit
            .append(
                self.db(),
                Entry {
                    actor: &principal.actor(),
                    action,
                    resource,
                    outcome: &outcome,
                    detail: "",
                },
            )
            .await;
        if let Err(error) = written {
            tracing::error!(%error, "could not write a refusal to the audit log");
        }
    }

    /// Who the caller is for requests. The guard has already applied the policy table and
    /// checked that an agency is in the directory and active.
    fn caller(principal: &Principal) -> Caller {
        match principal.agency_id() {
            Some(agency_id) => Caller::Agency(agency_id.to_owned()),
            None => Caller::Marketplace,
        }
    }

    /// Reads, inside `txn`, a request the caller may see, and hands the transaction back.
    /// Otherwise the transaction is abandoned, the refusal audited, and NOT_FOUND returned,
    /// just as for an id that does not exist.
    async fn visible_request(
        &self,
        txn: DatabaseTransaction,
        principal: &Principal,
        caller: &Caller,
        id: &RequestId,
        action: &str,
    ) -> ApiResult<(DatabaseTransaction, request::Model)> {
        match store::find_request(&txn, id).await? {
            Some(model) if caller.sees(model.agency_id.as_str()) => Ok((txn, model)),
            _ => {
                txn.rollback().await?;
                let error = ApiError::not_found("legal request", id.as_str());
                self.audit_refusal(principal, action, id.as_str(), &error)
                    .await;
                Err(error)
            }
        }
    }

    fn respond(&self, model: &request::Model) -> ApiResult<LegalRequest> {
        let mut request = convert::request(model)?;
        let status = store::status_of(model)?;
        let owed = domain::is_owed(status, store::process_of(model));
        request.urgency =
            domain::urgency(owed, model.create_time, model.due_time, time::now()) as i32;
        Ok(request)
    }

    /// Reads a request for a change inside `txn` (legal staff), checks the etag and the
    /// move; returns it decoded with the status after.
    async fn open_for(
        &self,
        txn: &DatabaseTransaction,
        id: &RequestId,
        etag: &str,
        action: Action,
    ) -> ApiResult<(request::Model, LegalRequest, RequestStatus)> {
        let model = store::find_request(txn, id)
            .await?
            .ok_or_else(|| ApiError::not_found("legal request", id.as_str()))?;
        check_etag(etag, model.version, "request")?;
        let from = store::status_of(&model)?;
        let to = domain::transition(from, action, store::process_of(&model))
            .map_err(ApiError::precondition)?;
        let body = convert::request(&model)?;
        Ok((model, body, to))
    }

    /// Writes a changed request with its audit entry, commits, and answers with it.
    async fn save(
        &self,
        txn: DatabaseTransaction,
        principal: &Principal,
        model: &request::Model,
        mut body: LegalRequest,
        action: &str,
        detail: String,
    ) -> ApiResult<LegalRequest> {
        body.update_time = Some(time::to_timestamp(time::now()));
        let saved = store::save_request(&txn, model, &body).await?;
        self.audit(&txn, principal, action, model.id.as_str(), detail)
            .await?;
        txn.commit().await?;
        self.respond(&saved)
    }

    async fn audit(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        principal: &Principal,
        action: &str,
        resource: &str,
        detail: String,
    ) -> ApiResult<()> {
        self.inner
            .audit
            .append(
                txn,
                Entry {
                    actor: &principal.actor(),
                    action,
                    resource,
                    outcome: "ok",
                    detail: &detail,
                },
            )
            .await
            .map(|_| ())
    }

    /// Records which records a listing showed the caller, in a transaction of its own.
    async fn audit_listed(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
        ids: impl Iterator<Item = &str>,
    ) -> ApiResult<()> {
        let txn = self.db().begin().await?;
        self.audit(
            &txn,
            principal,
            action,
            resource,
            ids.collect::<Vec<_>>().join(","),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }
}

assay_common::rpcs! {
    impl LawEnforcementService for LawEnforcementApi (self) with webhooks {
        create_agency(CreateAgencyRequest) -> CreateAgencyResponse =
            |p, req| self.create_agency(&p, req), |a| CreateAgencyResponse { agency: Some(a) };
        get_agency(GetAgencyRequest) -> GetAgencyResponse =
            |p, req| self.get_agency(&p, req), |a| GetAgencyResponse { agency: Some(a) };
        list_agencies(ListAgenciesRequest) -> ListAgenciesResponse =
            |p, req| self.list_agencies(&p, req);
        update_agency(UpdateAgencyRequest) -> UpdateAgencyResponse =
            |p, req| self.update_agency(&p, req), |a| UpdateAgencyResponse { agency: Some(a) };
        activate_agency(ActivateAgencyRequest) -> ActivateAgencyResponse =
            |p, req| self.set_agency_status(&p, &req.id, &req.etag, AgencyStatus::Active, None),
            |a| ActivateAgencyResponse { agency: Some(a) };
        suspend_agency(SuspendAgencyRequest) -> SuspendAgencyResponse =
            |p, req| self.set_agency_status(
                &p, &req.id, &req.etag, AgencyStatus::Suspended, Some(&req.reason),
            ),
            |a| SuspendAgencyResponse { agency: Some(a) };
        submit_request(SubmitRequestRequest) -> SubmitRequestResponse =
            |p, req| self.submit_request(&p, req),
            |r| SubmitRequestResponse { legal_request: Some(r) };
        get_request(GetRequestRequest) -> GetRequestResponse =
            |p, req| self.get_request(&p, req), |r| GetRequestResponse { legal_request: Some(r) };
        attach_document(AttachDocumentRequest) -> AttachDocumentResponse =
            |p, req| self.attach_document(&p, req),
            |d| AttachDocumentResponse { document: Some(d) };
        list_documents(ListDocumentsRequest) -> ListDocumentsResponse =
            |p, req| self.list_documents(&p, req);
        get_document(GetDocumentRequest) -> GetDocumentResponse =
            |p, req| self.get_document(&p, req);
        purge_documents(PurgeDocumentsRequest) -> PurgeDocumentsResponse =
            |p, req| self.purge_documents_before(&p, req);
        list_requests(ListRequestsRequest) -> ListRequestsResponse =
            |p, req| self.list_requests(&p, req);
        start_verification(StartVerificationRequest) -> StartVerificationResponse =
            |p, req| self.start_verification(&p, req),
            |r| StartVerificationResponse { legal_request: Some(r) };
        complete_verification(CompleteVerificationRequest) -> CompleteVerificationResponse =
            |p, req| self.complete_verification(&p, req),
            |r| CompleteVerificationResponse { legal_request: Some(r) };
        confirm_emergency(ConfirmEmergencyRequest) -> ConfirmEmergencyResponse =
            |p, req| self.confirm_emergency(&p, req),
            |r| ConfirmEmergencyResponse { legal_request: Some(r) };
        review_request(ReviewRequestRequest) -> ReviewRequestResponse =
            |p, req| self.review_request(&p, req),
            |r| ReviewRequestResponse { legal_request: Some(r) };
        gather_request(GatherRequestRequest) -> GatherRequestResponse =
            |p, req| self.gather_request(&p, req),
            |r| GatherRequestResponse { legal_request: Some(r) };
        disclose_request(DiscloseRequestRequest) -> DiscloseRequestResponse =
            |p, req| self.disclose_request(&p, req),
            |r| DiscloseRequestResponse { legal_request: Some(r) };
        download_package(DownloadPackageRequest) -> DownloadPackageResponse =
            |p, req| self.download_package(&p, req);
        close_request(CloseRequestRequest) -> CloseRequestResponse =
            |p, req| self.close_request(&p, req),
            |r| CloseRequestResponse { legal_request: Some(r) };
        extend_non_disclosure(ExtendNonDisclosureRequest) -> ExtendNonDisclosureResponse =
            |p, req| self.extend_non_disclosure(&p, req),
            |r| ExtendNonDisclosureResponse { legal_request: Some(r) };
        report_request_outcome(ReportRequestOutcomeRequest) -> ReportRequestOutcomeResponse =
            |p, req| self.report_request_outcome(&p, req),
            |r| ReportRequestOutcomeResponse { legal_request: Some(r) };
        list_deadlines(ListDeadlinesRequest) -> ListDeadlinesResponse =
            |p, req| self.list_deadlines(&p, req);
        list_holds(ListHoldsRequest) -> ListHoldsResponse = |p, req| self.list_holds(&p, req);
        extend_hold(ExtendHoldRequest) -> ExtendHoldResponse =
            |p, req| self.extend_hold(&p, req), |h| ExtendHoldResponse { hold: Some(h) };
        check_holds(CheckHoldsRequest) -> CheckHoldsResponse = |p, req| self.check_holds(&p, req);
        receive_referral(ReceiveReferralRequest) -> ReceiveReferralResponse =
            |p, req| self.receive_referral(&p, req);
        get_referral(GetReferralRequest) -> GetReferralResponse =
            |p, req| self.get_referral(&p, req), |r| GetReferralResponse { referral: Some(r) };
        list_referrals(ListReferralsRequest) -> ListReferralsResponse =
            |p, req| self.list_referrals(&p, req);
        acknowledge_referral(AcknowledgeReferralRequest) -> AcknowledgeReferralResponse =
            |p, req| self.acknowledge_referral(&p, req),
            |r| AcknowledgeReferralResponse { referral: Some(r) };
        report_referral_outcome(ReportReferralOutcomeRequest) -> ReportReferralOutcomeResponse =
            |p, req| self.report_referral_outcome(&p, req),
            |r| ReportReferralOutcomeResponse { referral: Some(r) };
        get_transparency_report(GetTransparencyReportRequest) -> GetTransparencyReportResponse =
            |_, req| self.get_transparency_report(req);
        list_audit_entries(ListAuditEntriesRequest) -> ListAuditEntriesResponse =
            |_, req| self.list_audit_entries(req);
        verify_audit_log(VerifyAuditLogRequest) -> VerifyAuditLogResponse =
            |_, _req| self.verify_audit_log();
    }
}
