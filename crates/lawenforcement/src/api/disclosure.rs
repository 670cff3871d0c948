//! From a received request to a disclosed package: verifying the requester, confirming
//! emergencies, legal review, gathering the data, and downloading what was disclosed.

use super::*;

impl LawEnforcementApi {
    pub(super) async fn start_verification(
        &self,
        principal: &Principal,
        req: StartVerificationRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let txn = self.db().begin().await?;
        let (model, mut body, to) = self
            .open_for(&txn, &id, &req.etag, Action::StartVerification)
            .await?;
        let agency = store::find_agency(&txn, &model.agency_id)
            .await?
            .map(|a| convert::agency(&a))
            .transpose()?
            .unwrap_or_default();
        body.domain_verified =
            check::domain_verified(&body.requester_email, &agency.verified_email_domains);
        body.status = to as i32;
        let detail = format!(
            "requester domain {} {}",
            check::email_domain(&body.requester_email),
            if body.domain_verified {
                "is verified for the agency"
            } else {
                "is NOT a verified domain of the agency"
            }
        );
        self.save(txn, principal, &model, body, "request.verify", detail)
            .await
    }

    fn confirmation(
        &self,
        principal: &Principal,
        field: &str,
        confirmation: Option<&Confirmation>,
    ) -> ApiResult<Confirmation> {
        let given = confirmation.cloned().unwrap_or_default();
        let mut violations = FieldViolations::new();
        let method = violations.check(
            &format!("{field}.method"),
            validate::text(&given.method, 500),
        );
        let channel = violations.check(
            &format!("{field}.channel"),
            validate::required_enum::<ConfirmationChannel>(given.channel),
        );
        let (method, channel) = violations.require(method.zip(channel))?;
        Ok(Confirmation {
            confirmed_by: principal.actor(),
            method,
            confirm_time: Some(time::to_timestamp(time::now())),
            channel: channel as i32,
        })
    }

    pub(super) async fn complete_verification(
        &self,
        principal: &Principal,
        req: CompleteVerificationRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let confirmation =
            self.confirmation(principal, "confirmation", req.confirmation.as_ref())?;
        let txn = self.db().begin().await?;
        let (model, mut body, to) = self
            .open_for(&txn, &id, &req.etag, Action::CompleteVerification)
            .await?;
        if !body.domain_verified {
            return Err(ApiError::precondition(format!(
                "the requester's e-mail domain {} is not a verified domain of agency {}: reject the request or verify the domain first",
                check::email_domain(&body.requester_email),
                body.agency_id
            )));
        }
        body.confirmations.push(confirmation.clone());
        body.status = to as i32;
        self.save(
            txn,
            principal,
            &model,
            body,
            "request.verified",
            confirmation.method,
        )
        .await
    }

    pub(super) async fn confirm_emergency(
        &self,
        principal: &Principal,
        req: ConfirmEmergencyRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let confirmation =
            self.confirmation(principal, "confirmation", req.confirmation.as_ref())?;
        let txn = self.db().begin().await?;
        let model = store::find_request(&txn, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("legal request", id.as_str()))?;
        let mut body = convert::request(&model)?;
        check::second_confirmation(&body, store::status_of(&model)?, &confirmation)
            .map_err(ApiError::precondition)?;
        body.confirmations.push(confirmation.clone());
        self.save(
            txn,
            principal,
            &model,
            body,
            "request.emergency_confirmed",
            confirmation.method,
        )
        .await
    }

    pub(super) async fn review_request(
        &self,
        principal: &Principal,
        req: ReviewRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let mut violations = FieldViolations::new();
        let decision = violations.check(
            "decision",
            validate::required_enum::<ReviewDecision>(req.decision),
        );
        let reasons = violations.check("reasons", validate::text(&req.reasons, 4000));
        let narrowing = decision == Some(ReviewDecision::Narrow);
        let targets = if narrowing {
            check::targets(&mut violations, "approved_targets", &req.approved_targets)
        } else {
            if !req.approved_targets.is_empty() {
                violations.add("approved_targets", "only a NARROW decision names targets");
            }
            Vec::new()
        };
        let categories = if narrowing {
            check::categories(
                &mut violations,
                "approved_categories",
                &req.approved_categories,
            )
        } else {
            if !req.approved_categories.is_empty() {
                violations.add(
                    "approved_categories",
                    "only a NARROW decision names categories",
                );
            }
            Vec::new()
        };
        let (decision, reasons) = violations.require(decision.zip(reasons))?;
        let action = match decision {
            ReviewDecision::Approve => Action::Approve,
            ReviewDecision::Narrow => Action::Narrow,
            _ => Action::Reject,
        };
        let now = time::now();
        let txn = self.db().begin().await?;
        let (model, mut body, to) = self.open_for(&txn, &id, &req.etag, action).await?;
        let process = store::process_of(&model);
        let review = check::review(&body, process, decision, (targets, categories), now)?;
        let mut detail = format!("{}: {reasons}", decision.as_str_name());
        if let Some(until) = review.hold_until {
            let hold_id = HoldId::generate();
            store::place_hold(
                &txn,
                &hold_id,
                &id,
                process,
                &review.approved_targets,
                until,
                now,
            )
            .await?;
            detail.push_str(&format!("; hold {hold_id} placed until {until}"));
        }
        body.review_decision = decision as i32;
        body.review_reasons = reasons;
        body.approved_targets = review.approved_targets;
        body.approved_categories = review.approved_categories;
        body.status = to as i32;
        self.save(txn, principal, &model, body, "request.review", detail)
            .await
    }

    pub(super) async fn gather_request(
        &self,
        principal: &Principal,
        req: GatherRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        // Check before asking anyone for anything.
        let model = store::find_request(self.db(), &id)
            .await?
            .ok_or_else(|| ApiError::not_found("legal request", id.as_str()))?;
        check_etag(&req.etag, model.version, "request")?;
        let from = store::status_of(&model)?;
        domain::transition(from, Action::Gather, store::process_of(&model))
            .map_err(ApiError::precondition)?;
        let body = convert::request(&model)?;
        let categories = package::gathering(&body).map_err(ApiError::precondition)?;
        let gathered = self
            .inner
            .sources
            .gather(&body.approved_targets, &categories)
            .await?;

        let txn = self.db().begin().await?;
        // Nobody may have moved it while we gathered.
        let (model, mut body, to) = self
            .open_for(
                &txn,
                &id,
                &assay_common::resource::etag(model.version),
                Action::Gather,
            )
            .await?;
        let items: Vec<PackageItem> = gathered
            .files
            .iter()
            .map(|(item, _)| item.clone())
            .collect();
        let files: Vec<(String, String, Vec<u8>)> = gathered
            .files
            .into_iter()
            .map(|(item, content)| (item.name, item.sha256, content))
            .collect();
        store::insert_package(&txn, &id, &files).await?;
        let assembled = package::assemble(items, gathered.not_found, time::now());
        let manifest_sha256 = assembled.manifest_sha256.clone();
        body.package = Some(assembled);
        body.status = to as i32;
        self.save(
            txn,
            principal,
            &model,
            body,
            "request.gather",
            format!(
                "{} files, manifest sha256 {manifest_sha256}: {}",
                files.len(),
                files
                    .iter()
                    .map(|f| f.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .await
    }

    pub(super) async fn disclose_request(
        &self,
        principal: &Principal,
        req: DiscloseRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let now = time::now();
        let txn = self.db().begin().await?;
        let (model, mut body, to) = self
            .open_for(&txn, &id, &req.etag, Action::Disclose)
            .await?;
        let ttl = chrono::Duration::from_std(self.inner.config.package_ttl)
            .unwrap_or(chrono::Duration::days(30));
        let expires = package::release(&mut body, now, ttl).map_err(ApiError::precondition)?;
        store::release_package(&txn, &id, expires).await?;
        let (files, manifest) = body
            .package
            .as_ref()
            .map_or((0, ""), |p| (p.items.len(), p.manifest_sha256.as_str()));
        let detail = format!(
            "released {files} files to {} until {expires}, manifest sha256 {manifest}",
            body.agency_id,
        );
        store::tell_agency(
            &txn,
            &body.agency_id,
            EventType::PackageReady,
            serde_json::json!({
                "request_id": id.as_str(),
                "files": files,
                "manifest_sha256": manifest,
                "expire_time": expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            }),
            now,
        )
        .await?;
        body.status = to as i32;
        let saved = self
            .save(txn, principal, &model, body, "request.disclose", detail)
            .await?;
        self.inner.relay.wake();
        Ok(saved)
    }

    pub(super) async fn download_package(
        &self,
        principal: &Principal,
        req: DownloadPackageRequest,
    ) -> ApiResult<DownloadPackageResponse> {
        let id = request_id_arg("id", &req.id)?;
        let result = self.download(principal, &id).await;
        // A request the caller may not see was audited as such already.
        if let Err(error) = &result
            && !matches!(error, ApiError::NotFound { .. })
        {
            self.audit_refusal(principal, "package.download", id.as_str(), error)
                .await;
        }
        result
    }

    async fn download(
        &self,
        principal: &Principal,
        id: &RequestId,
    ) -> ApiResult<DownloadPackageResponse> {
        let id = id.clone();
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_request(txn, principal, &caller, &id, "package.download")
            .await?;
        let body = convert::request(&model)?;
        let package = body.package.clone().unwrap_or_default();
        package::downloadable(store::status_of(&model)?, &package, time::now())
            .map_err(ApiError::precondition)?;
        let files = store::package_files(&txn, &id).await?;
        self.audit(
            &txn,
            principal,
            "package.download",
            id.as_str(),
            format!(
                "{} files, manifest sha256 {}",
                files.len(),
                package.manifest_sha256
            ),
        )
        .await?;
        txn.commit().await?;
        let files = package::files(
            &package.items,
            files.into_iter().map(|f| (f.name, f.content)).collect(),
        );
        Ok(DownloadPackageResponse {
            package: Some(package),
            files,
        })
    }
}
