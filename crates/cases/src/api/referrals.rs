//! Referrals to law enforcement and what comes of them.

use super::*;

impl CasesApi {
    pub(super) async fn refer_case(
        &self,
        principal: &Principal,
        req: ReferCaseRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let referral = validate::present("referral", req.referral.as_ref())?;
        let mut violations = FieldViolations::new();
        let agency_id =
            violations.check("referral.agency_id", AgencyId::parse(&referral.agency_id));
        let summary = violations.check(
            "referral.summary",
            validate::text(&referral.summary, 10_000),
        );
        let (agency_id, summary) = violations.require(agency_id.zip(summary))?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let (current, from) = self.open(&txn, principal, &id, &req.etag).await?;
        let evidence = store::list_evidence(&txn, &id, None, 100_000).await?;
        let purchases = store::test_purchases_of(&txn, &id, domain::purchase::MAX_PER_CASE).await?;
        let filed_by_seller = store::counter_notice_of(&current)?
            .map(|c| c.evidence_ids)
            .unwrap_or_default();
        let grounds = moves::Grounds::of(
            evidence.iter().map(|e| e.id.as_str()),
            &filed_by_seller,
            &purchases
                .iter()
                .map(store::purchase_findings)
                .collect::<Vec<_>>(),
            !current.hit_id.is_empty(),
        );
        let (package, package_sha256) = store::package(&evidence);
        let mv = moves::refer(
            from,
            agency_id.as_str(),
            grounds,
            evidence.len(),
            &package_sha256,
        )
        .map_err(ApiError::precondition)?;
        let referral_id = ReferralId::generate();
        store::insert_referral(
            &txn,
            store::NewReferral {
                id: &referral_id,
                case_id: &id,
                agency_id: &agency_id,
                summary,
                package,
                package_sha256: &package_sha256,
                referred_by: &actor,
            },
            now,
        )
        .await?;
        let custody = format!("packaged for referral {referral_id} to {agency_id}");
        for item in &evidence {
            store::append_custody(&txn, item, CustodyAction::Packaged, &actor, &custody, now)
                .await?;
        }
        let model = self.apply(&txn, &current, &mv, &actor, now).await?;
        // The law-enforcement service takes it from the outbox, in the trace the case began
        // in (the screening hit's, for an alert), so that one trace tells its whole story.
        let case = encode_one(&txn, &model, now).await?;
        let trace = if model.trace_context.is_empty() {
            assay_common::telemetry::current_traceparent()
        } else {
            model.trace_context.clone()
        };
        // The agency is sent the summary as kept, whatever the referrer reads.
        let sent = Case {
            summary: model.summary.clone(),
            ..case.clone()
        };
        outbox::enqueue_in_trace(
            &txn,
            topic::REFERRAL,
            referral_id.as_str(),
            sent.encode_to_vec(),
            &trace,
        )
        .await?;
        txn.commit().await?;
        self.inner.relay.wake();
        // The case as sent is the case as it now is: no need to read its parts again.
        Ok(case)
    }

    pub(super) async fn record_referral_outcome(
        &self,
        principal: &Principal,
        req: RecordReferralOutcomeRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let outcome = validate::present("outcome", req.outcome.as_ref())?;
        let mut violations = FieldViolations::new();
        let key = Key::of("RecordReferralOutcome", principal, &mut violations, &req);
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
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        // A retry answers with the case as it is now.
        let model = create_once(
            &txn,
            key.as_ref(),
            async |_| store::find_case(&txn, &id).await,
            async || {
                let (current, from) = self.open(&txn, principal, &id, "").await?;
                let mut detail = format!(
                    "{} arrests, {} units seized, {} convictions",
                    outcome.arrests, outcome.seized_units, outcome.convictions
                );
                if let Some(value) = seized_value {
                    detail.push_str(&format!(", worth {value}"));
                }
                let mv =
                    moves::record_referral_outcome(from, detail).map_err(ApiError::precondition)?;
                let Some(referral) = store::referral_of_case(&txn, &id).await? else {
                    return Err(ApiError::precondition("this case was not referred"));
                };
                let recorded = ReferralOutcome {
                    note: note_text,
                    ..outcome.clone()
                };
                store::insert_outcome(&txn, &referral.id, &recorded, seized_value, &actor, now)
                    .await?;
                let model = self.apply(&txn, &current, &mv, &actor, now).await?;
                if !model.member_id.is_empty() {
                    // The figures, not the agency's note: that stays with staff.
                    let mut data = store::case_notice(&model, store::status_of(&model)?);
                    data["arrests"] = recorded.arrests.into();
                    data["seized_units"] = recorded.seized_units.into();
                    data["convictions"] = recorded.convictions.into();
                    if let Some(value) = seized_value {
                        data["seized_value"] = value.to_string().into();
                    }
                    store::notify(
                        &txn,
                        store::Recipients::Member(model.member_id.clone()),
                        EventType::ReferralOutcome,
                        data,
                        now,
                    )
                    .await?;
                }
                Ok((id.as_str().to_owned(), model))
            },
        )
        .await?
        .into_inner();
        txn.commit().await?;
        // Its moves may have queued feedback for screening.
        self.inner.relay.wake();
        self.respond(&model).await
    }
}
