//! Where cases come from: rights holders' notices (and trusted members' removals), staff,
//! and screening's alerts.

use super::*;

/// What a notice comes to: a case to open, or the one a retry already opened.
#[allow(clippy::large_enum_variant)] // one a request, moved once
enum Noticed {
    New(NewCase, DateTime<Utc>),
    Earlier(Case),
}

impl CasesApi {
    pub(super) async fn submit_notice(
        &self,
        principal: &Principal,
        req: SubmitNoticeRequest,
    ) -> ApiResult<Case> {
        let mut violations = FieldViolations::new();
        let key = Key::of("SubmitNotice", principal, &mut violations, &req);
        match self
            .notice_case(principal, req.notice.as_ref(), violations, &key)
            .await?
        {
            Noticed::Earlier(case) => Ok(case),
            Noticed::New(new, now) => self.open_case(principal, key, new, now, false).await,
        }
    }

    /// A trusted member's notice, its listings taken down at once: eligibility is checked
    /// live, and a change of it recorded whether or not the removal goes ahead.
    pub(super) async fn remove_listings(
        &self,
        principal: &Principal,
        req: RemoveListingsRequest,
    ) -> ApiResult<Case> {
        let mut violations = FieldViolations::new();
        let key = Key::of("RemoveListings", principal, &mut violations, &req);
        let (new, now) = match self
            .notice_case(principal, req.notice.as_ref(), violations, &key)
            .await?
        {
            Noticed::Earlier(case) => return Ok(case),
            Noticed::New(new, now) => (new, now),
        };
        let txn = self.db().begin().await?;
        let accuracy = self
            .settle_self_service(&txn, &new.member_id, "asked to remove listings", now)
            .await?;
        txn.commit().await?;
        let policy = &self.inner.config.self_service_removal;
        if !policy.admits(&accuracy) {
            return Err(ApiError::precondition(policy.refusal(&accuracy)));
        }
        self.open_case(principal, key, new, now, true).await
    }

    /// The case a notice opens, checked as a rights holder's notice must be (or the case
    /// an earlier request with the same key opened).
    async fn notice_case(
        &self,
        principal: &Principal,
        notice: Option<&Notice>,
        mut violations: FieldViolations,
        key: &Option<Key>,
    ) -> ApiResult<Noticed> {
        let notice = validate::present("notice", notice)?;
        violations.check("notice.member_id", MemberId::parse(&notice.member_id));
        violations.check("notice.ip_right_id", IpRightId::parse(&notice.ip_right_id));
        let listings = check::listings(&mut violations, "notice.listings", &notice.listings);
        let statement = violations.check(
            "notice.statement",
            validate::text(&notice.statement, 10_000),
        );
        let grounds = reasons::check(&mut violations, "notice.reason_codes", &notice.reason_codes);
        if !notice.good_faith {
            violations.add(
                "notice.good_faith",
                "must be true: the rights holder states in good faith that the use is not authorised and the notice is accurate",
            );
        }
        let (statement, grounds) = violations.require(statement.zip(grounds))?;
        principal.scope(
            Owner::Members(&[notice.member_id.as_str()]),
            "member",
            &notice.member_id,
        )?;
        if let Some(key) = key
            && let Some(existing) = key.earlier(self.db()).await?
        {
            let earlier = store::find_case(self.db(), &CaseId::from_trusted(existing)).await?;
            return Ok(Noticed::Earlier(self.respond(&earlier).await?));
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

        let accuracy =
            store::notice_accuracy(self.db(), Some(&notice.member_id), None, None).await?;
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
            id,
            source: CaseSource::Notice,
            title,
            summary: statement,
            summary_translations: None,
            // The registry's own answer names the brand.
            brand_ids: vec![BrandId::from_trusted(right.brand_id.clone())],
            listings,
            member_id: notice.member_id.clone(),
            ip_right_id: right.id.clone(),
            hit_id: String::new(),
            source_key: None,
            risk_score: 0.0,
            fast_track,
            traceparent: None,
            captured: Vec::new(),
            reason_codes: grounds,
            due_time: self
                .inner
                .config
                .sla
                .opened(CaseSource::Notice, fast_track, now),
        };
        Ok(Noticed::New(new, now))
    }

    pub(super) async fn create_case(
        &self,
        principal: &Principal,
        req: CreateCaseRequest,
    ) -> ApiResult<Case> {
        let case = validate::present("case", req.r#case.as_ref())?;
        let mut violations = FieldViolations::new();
        let key = Key::of("CreateCase", principal, &mut violations, &req);
        let title = violations.check("case.title", validate::text(&case.title, 300));
        let summary = violations.check(
            "case.summary",
            validate::optional_text(&case.summary, 10_000),
        );
        let brand_ids = check::brand_ids(&mut violations, "case.brand_ids", &case.brand_ids);
        let listings = check::listings(&mut violations, "case.listings", &case.listings);
        let (title, summary) = violations.require(title.zip(summary))?;
        let now = time::now();
        let new = NewCase {
            id: CaseId::generate(),
            source: CaseSource::Staff,
            title,
            summary,
            summary_translations: None,
            brand_ids,
            listings,
            member_id: String::new(),
            ip_right_id: String::new(),
            hit_id: String::new(),
            source_key: None,
            risk_score: 0.0,
            fast_track: false,
            traceparent: None,
            captured: Vec::new(),
            reason_codes: Vec::new(),
            due_time: self.inner.config.sla.opened(CaseSource::Staff, false, now),
        };
        self.open_case(principal, key, new, now, false).await
    }

    /// Opens a case from a notice or by staff, once per request id; `remove_at_once`: a
    /// trusted member's self-service removal, taken down in the same transaction.
    async fn open_case(
        &self,
        principal: &Principal,
        key: Option<Key>,
        new: NewCase,
        now: DateTime<Utc>,
        remove_at_once: bool,
    ) -> ApiResult<Case> {
        let actor = principal.actor();
        let grounds = new.reason_codes.clone();
        let member_id = new.member_id.clone();
        let txn = self.db().begin().await?;
        let model = create_once(
            &txn,
            key.as_ref(),
            async |existing| store::find_case(&txn, &CaseId::from_trusted(existing)).await,
            async || {
                if remove_at_once {
                    // Asked again inside the transaction: a reversal decided since the
                    // first look may have withdrawn the member's eligibility.
                    let accuracy =
                        store::notice_accuracy(&txn, Some(&member_id), None, None).await?;
                    let policy = &self.inner.config.self_service_removal;
                    if !policy.admits(&accuracy) {
                        return Err(ApiError::precondition(policy.refusal(&accuracy)));
                    }
                }
                let mut model = store::insert_case(&txn, new, &actor, now).await?;
                if remove_at_once {
                    let mv = moves::remove_at_once(CaseStatus::Open, grounds)
                        .map_err(ApiError::precondition)?;
                    model = self.apply(&txn, &model, &mv, &actor, now).await?;
                }
                Ok((model.id.to_string(), model))
            },
        )
        .await?;
        txn.commit().await?;
        let created = model.is_created();
        let model = model.into_inner();
        if created {
            crate::metrics::case_opened(&model.source);
        }
        self.respond(&model).await
    }

    pub(super) async fn receive_hit_alert(
        &self,
        principal: &Principal,
        req: ReceiveHitAlertRequest,
    ) -> ApiResult<ReceiveHitAlertResponse> {
        let now = time::now();
        let new = self
            .alert_case(req.alert.unwrap_or_default(), "alert", &self.logos(), now)
            .map_err(ApiError::InvalidArgument)?;
        let (case_id, created) = self
            .open_alert_cases(principal, vec![new], now)
            .await?
            .pop()
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("an alert went unanswered")))?;
        Ok(ReceiveHitAlertResponse { case_id, created })
    }

    pub(super) async fn receive_hit_alerts(
        &self,
        principal: &Principal,
        req: ReceiveHitAlertsRequest,
    ) -> ApiResult<ReceiveHitAlertsResponse> {
        validate::count(&req.alerts, 1, MAX_ALERTS).map_err(|e| ApiError::invalid("alerts", e))?;
        let now = time::now();
        let mut answers = Vec::with_capacity(req.alerts.len());
        let mut news = Vec::with_capacity(req.alerts.len());
        let mut opened_at = Vec::with_capacity(req.alerts.len());
        let logos = self.logos();
        for (index, alert) in req.alerts.into_iter().enumerate() {
            let hit_id = alert
                .hit
                .as_ref()
                .and_then(|hit| HitId::parse(&hit.id).ok())
                .map(String::from)
                .unwrap_or_default();
            let mut answer = ReceivedHitAlert {
                hit_id,
                ..Default::default()
            };
            match self.alert_case(alert, &format!("alerts[{index}]"), &logos, now) {
                Ok(new) => {
                    news.push(new);
                    opened_at.push(index);
                }
                Err(violations) => {
                    answer.field_violations = violations
                        .iter()
                        .map(|(field, description)| FieldViolation {
                            field: field.to_owned(),
                            description: description.to_owned(),
                        })
                        .collect();
                }
            }
            answers.push(answer);
        }
        let opened = self.open_alert_cases(principal, news, now).await?;
        for (index, (case_id, created)) in opened_at.into_iter().zip(opened) {
            answers[index].case_id = case_id;
            answers[index].created = created;
        }
        Ok(ReceiveHitAlertsResponse { alerts: answers })
    }

    /// Every brand's logo hashes, as the catalogue held has them: a listing's image near one
    /// is the brand's, not the seller's.
    fn logos(&self) -> Vec<u64> {
        self.inner
            .catalogue
            .current()
            .brands
            .values()
            .flat_map(|b| b.logo_hashes.iter().copied())
            .collect()
    }

    /// The case an alert asks for, or what is wrong with the alert (fields under `at`);
    /// `logos`: every brand's logo hashes.
    fn alert_case(
        &self,
        alert: HitAlert,
        at: &str,
        logos: &[u64],
        now: DateTime<Utc>,
    ) -> Result<NewCase, FieldViolations> {
        let field = |name: &str| format!("{at}.{name}");
        let mut violations = FieldViolations::new();
        let traceparent = violations.check(
            &field("traceparent"),
            validate::traceparent(&alert.traceparent),
        );
        let translations = alert.translations;
        let Some(hit) = alert.hit else {
            violations.add(field("hit"), "must be set");
            return Err(violations);
        };
        let hit_id = violations.check(&field("hit.id"), HitId::parse(&hit.id));
        let listing = hit.listing.unwrap_or_default();
        let listing_id = violations.check(
            &field("hit.listing.listing_id"),
            validate::external_id(&listing.listing_id),
        );
        let seller_id = violations.check(
            &field("hit.listing.seller_id"),
            validate::external_id(&listing.seller_id),
        );
        let verdict = hit.verdict.unwrap_or_default();
        let brand_ids: Vec<String> = verdict.brands.iter().map(|b| b.brand_id.clone()).collect();
        let brand_ids = check::brand_ids(&mut violations, &field("hit.verdict.brands"), &brand_ids);
        let (Some(hit_id), Some(listing_id), Some(seller_id), Some(traceparent)) =
            (hit_id, listing_id, seller_id, traceparent)
        else {
            return Err(violations);
        };
        if !violations.is_empty() {
            return Err(violations);
        }

        let brands: Vec<&str> = verdict
            .brands
            .iter()
            .map(|b| b.brand_name.as_str())
            .collect();
        let explanations: Vec<&str> = verdict
            .signals
            .iter()
            .map(|s| s.explanation.as_str())
            .collect();
        let (title, summary) = domain::intake::from_hit(&listing.title, &brands, &explanations);
        let summary_translations = domain::intake::translated_summaries(&translations);
        let hashes = listing.images.iter().filter_map(|i| match i.source {
            Some(assay_proto::screening::v1::listing_image::Source::PerceptualHash(hash)) => {
                Some(hash)
            }
            _ => None,
        });
        let captured = domain::cluster::captured_images(hashes, logos);
        Ok(NewCase {
            id: CaseId::generate(),
            source: CaseSource::ScreeningAlert,
            title,
            summary,
            summary_translations,
            brand_ids,
            listings: vec![CaseListing {
                listing_id,
                seller_id,
                title: listing
                    .title
                    .chars()
                    .take(domain::intake::LISTING_TITLE)
                    .collect(),
                ..CaseListing::default()
            }],
            member_id: String::new(),
            ip_right_id: String::new(),
            source_key: Some(format!("{}/{hit_id}", topic::SCREENING_HIT)),
            hit_id: hit_id.into_string(),
            risk_score: verdict.risk_score,
            fast_track: false,
            due_time: self
                .inner
                .config
                .sla
                .opened(CaseSource::ScreeningAlert, false, now),
            traceparent,
            captured,
            reason_codes: Vec::new(),
        })
    }

    /// Opens the cases of alerts in one transaction, exactly once each: an alert whose
    /// hit already has a case (a repeated delivery, or the same hit twice in one call)
    /// answers that case. Answers (case id, made now) for each, in order.
    ///
    /// A delivery racing another one (from a second relay) leaves the cases the other
    /// opens at the same moment to it, and answers them as made before.
    async fn open_alert_cases(
        &self,
        principal: &Principal,
        news: Vec<NewCase>,
        now: DateTime<Utc>,
    ) -> ApiResult<Vec<(String, bool)>> {
        if news.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<&str> = news
            .iter()
            .filter_map(|n| n.source_key.as_deref())
            .collect();
        let txn = self.db().begin().await?;
        let mut known = store::case_ids_by_source_key(&txn, &keys).await?;
        let mut answers = Vec::with_capacity(news.len());
        let mut answered_keys = Vec::with_capacity(news.len());
        let mut fresh = Vec::with_capacity(news.len());
        for new in news {
            let key = new.source_key.clone().unwrap_or_default();
            answered_keys.push(key.clone());
            if let Some(id) = known.get(&key) {
                answers.push((id.clone(), false));
                continue;
            }
            known.insert(key, new.id.to_string());
            answers.push((new.id.to_string(), true));
            fresh.push(new);
        }
        // What the screened listings show of their sellers links them to others.
        let captured: Vec<_> = fresh
            .iter_mut()
            .flat_map(|new| {
                let seller = new.listings.first().map(|l| l.seller_id.clone());
                std::mem::take(&mut new.captured)
                    .into_iter()
                    .filter_map(move |identifier| Some((seller.clone()?, identifier)))
            })
            .collect();
        let opened = store::insert_cases(&txn, fresh, &principal.actor(), now).await?;
        for (answer, key) in answers.iter_mut().zip(&answered_keys) {
            if let Some(id) = opened.theirs.get(key) {
                *answer = (id.clone(), false);
            }
        }
        store::record_identifiers(&txn, &captured, now).await?;
        let linked: std::collections::BTreeSet<String> =
            captured.into_iter().map(|(seller, _)| seller).collect();
        self.links_changed(&txn, linked).await?;
        txn.commit().await?;
        for case in &opened.cases {
            crate::metrics::case_opened(&case.source);
        }
        Ok(answers)
    }
}
