//! The status machine: review, action, rejection, counter-notices, escalation and closing.
//! What each step does is decided in `domain::moves`; here it is authorised and applied.

use super::*;

impl CasesApi {
    pub(super) async fn start_review(
        &self,
        principal: &Principal,
        req: StartReviewRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let reviewer = match principal {
            Principal::Staff { subject, .. } => Some(subject.as_str()),
            _ => None,
        };
        self.act(principal, &id, &req.etag, |from, current| {
            moves::start_review(from, &current.assignee, reviewer)
        })
        .await
    }

    pub(super) async fn take_action(
        &self,
        principal: &Principal,
        req: TakeActionRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let why = note("note", &req.note)?;
        let mut violations = FieldViolations::new();
        let given = reasons::check(&mut violations, "reason_codes", &req.reason_codes);
        let given = violations.require(given)?;
        self.act(principal, &id, &req.etag, |from, current| {
            let noticed = reasons::decode(&current.reason_codes);
            moves::take_action(from, &why, reasons::upheld(given, noticed))
        })
        .await
    }

    pub(super) async fn reverse_removal(
        &self,
        principal: &Principal,
        req: ReverseRemovalRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let why = note("note", &req.note)?;
        self.act(principal, &id, &req.etag, |from, current| {
            moves::reverse_removal(from, current.self_service, &why)
        })
        .await
    }

    pub(super) async fn reject_case(
        &self,
        principal: &Principal,
        req: RejectCaseRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let why = note("note", &req.note)?;
        self.act(principal, &id, &req.etag, |from, _| {
            moves::reject(from, &why)
        })
        .await
    }

    pub(super) async fn escalate_case(
        &self,
        principal: &Principal,
        req: EscalateCaseRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let why = note("note", &req.note)?;
        self.act(principal, &id, &req.etag, |from, _| {
            moves::escalate(from, &why)
        })
        .await
    }

    pub(super) async fn close_case(
        &self,
        principal: &Principal,
        req: CloseCaseRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let why = note("note", &req.note)?;
        self.act(principal, &id, &req.etag, |from, _| {
            moves::close(from, &why)
        })
        .await
    }

    pub(super) async fn file_counter_notice(
        &self,
        principal: &Principal,
        req: FileCounterNoticeRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let counter = validate::present("counter_notice", req.counter_notice.as_ref())?;
        let mut violations = FieldViolations::new();
        let statement = violations.check(
            "counter_notice.statement",
            validate::text(&counter.statement, 10_000),
        );
        check::contact(
            &mut violations,
            "counter_notice.contact",
            counter.contact.as_ref(),
        );
        let evidence: Vec<(EvidenceId, NewEvidence)> = validate::bounded(
            &mut violations,
            "evidence",
            &req.evidence,
            0,
            MAX_COUNTER_EVIDENCE,
        )
        .iter()
        .enumerate()
        .filter_map(|(i, e)| {
            check::counter_notice_evidence(&mut violations, &format!("evidence[{i}]"), e)
        })
        .map(|new| (EvidenceId::generate(), new))
        .collect();
        let statement = violations.require(statement)?;
        let now = time::now();
        let actor = principal.actor();
        let filed = CounterNotice {
            statement,
            contact: counter.contact.clone(),
            evidence_ids: evidence.iter().map(|(id, _)| id.to_string()).collect(),
            filed_by: actor.clone(),
            file_time: Some(time::to_timestamp(now)),
            reply: None,
        };
        let txn = self.db().begin().await?;
        let (current, from) = self.open(&txn, principal, &id, &req.etag).await?;
        let mv = moves::file_counter_notice(from, filed).map_err(ApiError::precondition)?;
        for (evidence_id, item) in evidence {
            store::insert_evidence(&txn, &evidence_id, &id, item, &actor, now).await?;
        }
        let model = self.apply(&txn, &current, &mv, &actor, now).await?;
        txn.commit().await?;
        // Its moves may have queued feedback for screening.
        self.inner.relay.wake();
        self.respond(&model).await
    }

    pub(super) async fn reply_to_counter_notice(
        &self,
        principal: &Principal,
        req: ReplyToCounterNoticeRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let reply = validate::present("reply", req.reply.as_ref())?;
        let statement = validate::text(&reply.statement, 10_000)
            .map_err(|e| ApiError::invalid("reply.statement", e))?;
        let now = time::now();
        let actor = principal.actor();
        let reply = CounterNoticeReply {
            maintains_notice: reply.maintains_notice,
            statement,
            replied_by: actor.clone(),
            reply_time: Some(time::to_timestamp(now)),
        };
        let txn = self.db().begin().await?;
        let (current, from) = self.open(&txn, principal, &id, &req.etag).await?;
        let counter = store::counter_notice_of(&current)?.unwrap_or_default();
        let mv =
            moves::reply_to_counter_notice(from, counter, reply).map_err(ApiError::precondition)?;
        let model = self.apply(&txn, &current, &mv, &actor, now).await?;
        txn.commit().await?;
        self.respond(&model).await
    }

    pub(super) async fn resolve_counter_notice(
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
        let reinstate = decision == CounterNoticeDecision::Reinstate;
        self.act(principal, &id, &req.etag, |from, _| {
            moves::resolve_counter_notice(from, reinstate, &why)
        })
        .await
    }
}
