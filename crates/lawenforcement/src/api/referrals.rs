//! Referrals from case management: received, acknowledged, and what came of them.

use super::*;

impl LawEnforcementApi {
    pub(super) async fn receive_referral(
        &self,
        principal: &Principal,
        req: ReceiveReferralRequest,
    ) -> ApiResult<ReceiveReferralResponse> {
        let case = validate::present("case", req.r#case)?;
        let referral = validate::present("case.referral", case.referral.clone())?;
        let mut violations = FieldViolations::new();
        violations.check("case.id", CaseId::parse(&case.id));
        let referral_id = violations.check("case.referral.id", ReferralId::parse(&referral.id));
        let agency_id = violations.check(
            "case.referral.agency_id",
            AgencyId::parse(&referral.agency_id),
        );
        let (referral_id, agency_id) = violations.require(referral_id.zip(agency_id))?;
        let now = time::now();
        let txn = self.db().begin().await?;
        if store::find_referral(&txn, &referral_id).await?.is_some() {
            return Ok(ReceiveReferralResponse {
                referral_id: referral.id,
                created: false,
            });
        }
        if store::find_agency(&txn, &agency_id).await?.is_none() {
            return Err(ApiError::precondition(format!(
                "agency {} is not in the directory: add it, and the referral will be delivered",
                referral.agency_id
            )));
        }
        let body = Referral {
            id: referral.id.clone(),
            agency_id: referral.agency_id.clone(),
            r#case: Some(case.clone()),
            status: ReferralStatus::Received as i32,
            outcomes: Vec::new(),
            receive_time: Some(time::to_timestamp(now)),
            acknowledge_time: None,
        };
        // A concurrent delivery of the same referral may win the insert: then it is here.
        if let Err(error) = store::insert_referral(&txn, &body, now).await {
            txn.rollback().await?;
            return match store::find_referral(self.db(), &referral_id).await? {
                Some(_) => Ok(ReceiveReferralResponse {
                    referral_id: referral.id,
                    created: false,
                }),
                None => Err(error),
            };
        }
        self.audit(
            &txn,
            principal,
            "referral.receive",
            &referral.id,
            format!("case {} for {}", case.id, referral.agency_id),
        )
        .await?;
        store::tell_agency(
            &txn,
            agency_id.as_str(),
            EventType::ReferralReceived,
            serde_json::json!({
                "referral_id": referral.id,
                "case_id": case.id,
                "summary": referral.summary,
            }),
            now,
        )
        .await?;
        txn.commit().await?;
        self.inner.relay.wake();
        Ok(ReceiveReferralResponse {
            referral_id: referral.id,
            created: true,
        })
    }

    /// Like [`Self::visible_request`], for a referral.
    async fn visible_referral(
        &self,
        txn: DatabaseTransaction,
        principal: &Principal,
        caller: &Caller,
        id: &ReferralId,
        action: &str,
    ) -> ApiResult<(DatabaseTransaction, crate::entity::referral::Model)> {
        match store::find_referral(&txn, id).await? {
            Some(model) if caller.sees(model.agency_id.as_str()) => Ok((txn, model)),
            _ => {
                txn.rollback().await?;
                let id = id.as_str();
                let error = ApiError::not_found("referral", id);
                self.audit_refusal(principal, action, id, &error).await;
                Err(error)
            }
        }
    }

    pub(super) async fn get_referral(
        &self,
        principal: &Principal,
        req: GetReferralRequest,
    ) -> ApiResult<Referral> {
        let id = ReferralId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_referral(txn, principal, &caller, &id, "referral.read")
            .await?;
        self.audit(&txn, principal, "referral.read", &req.id, String::new())
            .await?;
        txn.commit().await?;
        convert::referral(&model)
    }

    pub(super) async fn list_referrals(
        &self,
        principal: &Principal,
        req: ListReferralsRequest,
    ) -> ApiResult<ListReferralsResponse> {
        let size = page_size(req.page_size)?;
        let caller = Self::caller(principal);
        let agency = match &caller {
            Caller::Agency(own) => Some(AgencyId::from_trusted(own.clone())),
            Caller::Marketplace => None,
        };
        let scope = format!("ListReferrals|{agency:?}");
        let before = self.inner.page_tokens.decode(&scope, &req.page_token)?;
        let rows =
            store::list_referrals(self.db(), agency.as_ref(), before.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |r| r.id.to_string());
        self.audit_listed(
            principal,
            "referral.list",
            "referrals",
            rows.iter().map(|r| r.id.as_str()),
        )
        .await?;
        Ok(ListReferralsResponse {
            referrals: rows
                .iter()
                .map(convert::referral)
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    pub(super) async fn acknowledge_referral(
        &self,
        principal: &Principal,
        req: AcknowledgeReferralRequest,
    ) -> ApiResult<Referral> {
        let id = ReferralId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        if principal.agency_id().is_none() {
            return Err(ApiError::denied(
                "referrals are acknowledged by their agency",
            ));
        }
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_referral(txn, principal, &caller, &id, "referral.acknowledge")
            .await?;
        let mut body = convert::referral(&model)?;
        if body.status == ReferralStatus::Acknowledged as i32 {
            return Err(ApiError::precondition(
                "the referral was already acknowledged",
            ));
        }
        body.status = ReferralStatus::Acknowledged as i32;
        body.acknowledge_time = Some(time::to_timestamp(time::now()));
        let saved = store::save_referral(&txn, &model, &body).await?;
        self.audit(
            &txn,
            principal,
            "referral.acknowledge",
            &req.id,
            String::new(),
        )
        .await?;
        txn.commit().await?;
        convert::referral(&saved)
    }

    pub(super) async fn report_referral_outcome(
        &self,
        principal: &Principal,
        req: ReportReferralOutcomeRequest,
    ) -> ApiResult<Referral> {
        let id = ReferralId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let mut violations = FieldViolations::new();
        let key = Key::of("ReportReferralOutcome", principal, &mut violations, &req);
        let outcome = check::outcome(&mut violations, "outcome", req.outcome.as_ref());
        let (outcome, value) = violations.require(outcome)?;
        if principal.agency_id().is_none() {
            return Err(ApiError::denied(
                "outcomes of referrals are reported by their agency",
            ));
        }
        let caller = Self::caller(principal);
        let now = time::now();
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_referral(txn, principal, &caller, &id, "referral.outcome")
            .await?;
        let once = create_once(
            &txn,
            key.as_ref(),
            async |_| Ok(model.clone()),
            async || {
                let mut body = convert::referral(&model)?;
                let reported = Outcome {
                    reported_by: principal.actor(),
                    report_time: Some(time::to_timestamp(now)),
                    ..outcome.clone()
                };
                body.outcomes.push(reported);
                let case_id = body
                    .r#case
                    .as_ref()
                    .map(|c| c.id.to_string())
                    .unwrap_or_default();
                let saved = store::save_referral(&txn, &model, &body).await?;
                // Case management records it on the case, through the outbox.
                let delivery_key = format!("{}-{}", req.id, body.outcomes.len());
                let forward = cases::RecordReferralOutcomeRequest {
                    id: case_id.clone(),
                    outcome: Some(cases::ReferralOutcome {
                        arrests: outcome.arrests,
                        seized_units: outcome.seized_units,
                        seized_value: value.map(|v| v.to_proto()),
                        convictions: outcome.convictions,
                        note: format!("reported by {}: {}", principal.actor(), outcome.note)
                            .chars()
                            .take(2000)
                            .collect(),
                        ..Default::default()
                    }),
                    request_id: delivery_key.clone(),
                };
                outbox::enqueue(
                    &txn,
                    topic::REFERRAL_OUTCOME,
                    &delivery_key,
                    forward.encode_to_vec(),
                )
                .await?;
                self.audit(
                    &txn,
                    principal,
                    "referral.outcome",
                    &req.id,
                    format!(
                        "case {case_id}: {} arrests, {} units seized, {} convictions",
                        outcome.arrests, outcome.seized_units, outcome.convictions
                    ),
                )
                .await?;
                Ok((req.id.clone(), saved))
            },
        )
        .await?;
        txn.commit().await?;
        if once.is_created() {
            self.inner.relay.wake();
        }
        convert::referral(&once.into_inner())
    }
}
