//! Legal requests: how they arrive, are read, closed, kept confidential and reported on,
//! and the deadlines they carry.

use super::*;

impl LawEnforcementApi {
    pub(super) async fn submit_request(
        &self,
        principal: &Principal,
        req: SubmitRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let caller = Self::caller(principal);
        let filed = validate::present("legal_request", req.legal_request.as_ref())?;
        let mut violations = FieldViolations::new();
        let key = Key::of("SubmitRequest", principal, &mut violations, &req);
        let agency_id = match &caller {
            // The caller's own agency, checked live when it authenticated.
            Caller::Agency(own) if filed.agency_id.is_empty() || filed.agency_id == *own => {
                Some(AgencyId::from_trusted(own.clone()))
            }
            Caller::Agency(_) => {
                return Err(ApiError::denied(
                    "an agency files requests in its own name only",
                ));
            }
            Caller::Marketplace => {
                violations.check("legal_request.agency_id", AgencyId::parse(&filed.agency_id))
            }
        };
        let process = violations.check(
            "legal_request.process",
            validate::required_enum::<LegalProcess>(filed.process),
        );
        let reference = violations.check(
            "legal_request.reference",
            validate::text(&filed.reference, 200),
        );
        let requester_name = violations.check(
            "legal_request.requester_name",
            validate::text(&filed.requester_name, 200),
        );
        let requester_email = violations.check(
            "legal_request.requester_email",
            validate::email(&filed.requester_email),
        );
        let targets = check::targets(&mut violations, "legal_request.targets", &filed.targets);
        let categories = check::categories(
            &mut violations,
            "legal_request.data_categories",
            &filed.data_categories,
        );
        let justification = if filed.emergency {
            violations.check(
                "legal_request.emergency_justification",
                validate::text(&filed.emergency_justification, 2000),
            )
        } else {
            violations.check(
                "legal_request.emergency_justification",
                validate::optional_text(&filed.emergency_justification, 2000),
            )
        };
        let non_disclosure = violations.check(
            "legal_request.non_disclosure_days",
            domain::non_disclosure_days(filed.non_disclosure_days),
        );
        let now = time::now();
        let respond_by = filed.respond_by.as_ref().and_then(|t| {
            violations.check(
                "legal_request.respond_by",
                time::from_timestamp(t).and_then(|t| {
                    if t > now {
                        Ok(t)
                    } else {
                        Err("must be in the future".to_owned())
                    }
                }),
            )
        });
        let (process, reference, requester_name, requester_email, justification, non_disclosure) =
            violations.finish(|| {
                (
                    process.unwrap_or_default(),
                    reference.unwrap_or_default(),
                    requester_name.unwrap_or_default(),
                    requester_email.unwrap_or_default(),
                    justification.unwrap_or_default(),
                    non_disclosure.unwrap_or_default(),
                )
            })?;
        // Checked above: an agency files in its own name, the marketplace names one.
        let agency_id =
            agency_id.ok_or_else(|| ApiError::invalid("legal_request.agency_id", "must be set"))?;
        let agency_model = store::find_agency(self.db(), &agency_id)
            .await?
            .ok_or_else(|| ApiError::not_found("agency", agency_id.as_str()))?;
        let agency = convert::agency(&agency_model)?;
        if agency.status != AgencyStatus::Active as i32 {
            return Err(ApiError::precondition(format!(
                "agency {agency_id} is not active"
            )));
        }
        let due = domain::due(process, filed.emergency, now, respond_by);
        let body = LegalRequest {
            id: RequestId::generate().into_string(),
            agency_id: agency_id.to_string(),
            process: process as i32,
            reference,
            requester_name,
            domain_verified: check::domain_verified(
                &requester_email,
                &agency.verified_email_domains,
            ),
            requester_email,
            targets,
            data_categories: categories.iter().map(|c| *c as i32).collect(),
            emergency: filed.emergency,
            emergency_justification: justification,
            non_disclosure_days: non_disclosure,
            respond_by: respond_by.map(time::to_timestamp),
            status: RequestStatus::Received as i32,
            due_time: Some(time::to_timestamp(due)),
            non_disclosure_until: (non_disclosure > 0).then(|| {
                time::to_timestamp(now + chrono::Duration::days(i64::from(non_disclosure)))
            }),
            create_time: Some(time::to_timestamp(now)),
            update_time: Some(time::to_timestamp(now)),
            ..LegalRequest::default()
        };
        let txn = self.db().begin().await?;
        let once = create_once(
            &txn,
            key.as_ref(),
            async |existing| {
                let existing = RequestId::from_trusted(existing);
                store::find_request(&txn, &existing)
                    .await?
                    .ok_or_else(|| ApiError::not_found("legal request", existing.as_str()))
            },
            async || {
                let model =
                    store::insert_request(&txn, &body, &agency.country_code, due, now).await?;
                self.audit(
                    &txn,
                    principal,
                    "request.submit",
                    &body.id,
                    format!(
                        "{} from {agency_id}, {} targets{}",
                        process.as_str_name(),
                        body.targets.len(),
                        if body.emergency { ", EMERGENCY" } else { "" }
                    ),
                )
                .await?;
                Ok((body.id.clone(), model))
            },
        )
        .await?;
        txn.commit().await?;
        self.respond(&once.into_inner())
    }

    pub(super) async fn get_request(
        &self,
        principal: &Principal,
        req: GetRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_request(txn, principal, &caller, &id, "request.read")
            .await?;
        self.audit(&txn, principal, "request.read", id.as_str(), String::new())
            .await?;
        txn.commit().await?;
        self.respond(&model)
    }

    pub(super) async fn list_requests(
        &self,
        principal: &Principal,
        req: ListRequestsRequest,
    ) -> ApiResult<ListRequestsResponse> {
        let size = page_size(req.page_size)?;
        let caller = Self::caller(principal);
        let mut violations = FieldViolations::new();
        let statuses = validate::each(&mut violations, "statuses", &req.statuses, 0..=20, |s| {
            validate::required_enum::<RequestStatus>(*s)
        });
        let process = violations
            .check(
                "process",
                validate::optional_enum::<LegalProcess>(req.process),
            )
            .flatten();
        let asked = (!req.agency_id.is_empty())
            .then(|| violations.check("agency_id", AgencyId::parse(&req.agency_id)))
            .flatten();
        violations.into_result(())?;
        let agency_id = match &caller {
            // An agency's own requests only, whatever it asks for.
            Caller::Agency(own) => Some(AgencyId::from_trusted(own.clone())),
            Caller::Marketplace => asked,
        };
        let now = time::now();
        let filter = store::RequestFilter {
            agency_id,
            statuses,
            process,
            overdue_at: req.overdue_only.then_some(now),
        };
        let scope = format!(
            "ListRequests|{:?}|{}",
            store::RequestFilter {
                overdue_at: None,
                ..filter.clone()
            },
            req.overdue_only
        );
        let before = self.inner.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_requests(self.db(), &filter, before.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |r| r.id.to_string());
        self.audit_listed(
            principal,
            "request.list",
            "requests",
            rows.iter().map(|r| r.id.as_str()),
        )
        .await?;
        Ok(ListRequestsResponse {
            legal_requests: rows
                .iter()
                .map(|r| self.respond(r))
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    pub(super) async fn close_request(
        &self,
        principal: &Principal,
        req: CloseRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let note =
            validate::optional_text(&req.note, 2000).map_err(|e| ApiError::invalid("note", e))?;
        let txn = self.db().begin().await?;
        let (model, mut body, to) = self.open_for(&txn, &id, &req.etag, Action::Close).await?;
        body.status = to as i32;
        self.save(txn, principal, &model, body, "request.close", note)
            .await
    }

    pub(super) async fn extend_non_disclosure(
        &self,
        principal: &Principal,
        req: ExtendNonDisclosureRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let reason =
            validate::text(&req.reason, 2000).map_err(|e| ApiError::invalid("reason", e))?;
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_request(txn, principal, &caller, &id, "request.non_disclosure")
            .await?;
        let mut body = convert::request(&model)?;
        let now = time::now();
        let until = body
            .non_disclosure_until
            .as_ref()
            .and_then(|t| time::from_timestamp(t).ok());
        let extended = domain::extend_non_disclosure(model.create_time, until, now)
            .map_err(ApiError::precondition)?;
        body.non_disclosure_until = Some(time::to_timestamp(extended));
        body.non_disclosure_days += domain::NON_DISCLOSURE_STEP_DAYS;
        self.save(
            txn,
            principal,
            &model,
            body,
            "request.non_disclosure",
            format!("until {extended}: {reason}"),
        )
        .await
    }

    pub(super) async fn report_request_outcome(
        &self,
        principal: &Principal,
        req: ReportRequestOutcomeRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let mut violations = FieldViolations::new();
        let key = Key::of("ReportRequestOutcome", principal, &mut violations, &req);
        let outcome = check::outcome(&mut violations, "outcome", req.outcome.as_ref());
        let (outcome, _) = violations.require(outcome)?;
        let Some(agency) = principal.agency_id() else {
            return Err(ApiError::denied(
                "outcomes of requests are reported by the requesting agency",
            ));
        };
        let caller = Self::caller(principal);
        let now = time::now();
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_request(txn, principal, &caller, &id, "request.outcome")
            .await?;
        let once = create_once(
            &txn,
            key.as_ref(),
            async |_| Ok(model.clone()),
            async || {
                let mut body = convert::request(&model)?;
                body.outcomes.push(Outcome {
                    reported_by: principal.actor(),
                    report_time: Some(time::to_timestamp(now)),
                    ..outcome.clone()
                });
                let saved = store::save_request(&txn, &model, &body).await?;
                self.audit(
                    &txn,
                    principal,
                    "request.outcome",
                    id.as_str(),
                    format!(
                        "{agency}: {} arrests, {} units seized, {} convictions",
                        outcome.arrests, outcome.seized_units, outcome.convictions
                    ),
                )
                .await?;
                Ok((id.as_str().to_owned(), saved))
            },
        )
        .await?;
        txn.commit().await?;
        self.respond(&once.into_inner())
    }

    pub(super) async fn list_deadlines(
        &self,
        principal: &Principal,
        req: ListDeadlinesRequest,
    ) -> ApiResult<ListDeadlinesResponse> {
        let size = page_size(req.page_size)?;
        let now = time::now();
        // The warning window is at most two days.
        let rows = store::owed_before(self.db(), now + chrono::Duration::days(2), 10_000).await?;
        let mut urgent: Vec<(Urgency, request::Model)> = rows
            .into_iter()
            .filter_map(|m| {
                let urgency = domain::urgency(true, m.create_time, m.due_time, now);
                (urgency != Urgency::OnTrack).then_some((urgency, m))
            })
            .collect();
        urgent.sort_by_key(|(u, m)| (std::cmp::Reverse(*u as i32), m.due_time));
        urgent.truncate(size as usize);
        self.audit_listed(
            principal,
            "deadlines.list",
            "",
            urgent.iter().map(|(_, m)| m.id.as_str()),
        )
        .await?;
        Ok(ListDeadlinesResponse {
            legal_requests: urgent
                .iter()
                .map(|(_, m)| self.respond(m))
                .collect::<ApiResult<_>>()?,
        })
    }
}
