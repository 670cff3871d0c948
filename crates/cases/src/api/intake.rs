//! Where cases come from: rights holders' notices, staff, and screening's alerts.

use super::*;

impl CasesApi {
    pub(super) async fn submit_notice(
        &self,
        principal: &Principal,
        req: SubmitNoticeRequest,
    ) -> ApiResult<Case> {
        let Some(notice) = &req.notice else {
            return Err(ApiError::invalid("notice", "must be set"));
        };
        let mut violations = FieldViolations::new();
        let key = Key::of("SubmitNotice", principal, &mut violations, &req);
        violations.check("notice.member_id", MemberId::parse(&notice.member_id));
        violations.check("notice.ip_right_id", IpRightId::parse(&notice.ip_right_id));
        let listings = check::listings(&mut violations, "notice.listings", &notice.listings);
        let statement = violations.check(
            "notice.statement",
            validate::text(&notice.statement, 10_000),
        );
        if !notice.good_faith {
            violations.add(
                "notice.good_faith",
                "must be true: the rights holder states in good faith that the use is not authorised and the notice is accurate",
            );
        }
        let statement = violations.require(statement)?;
        principal.scope(
            Owner::Members(&[notice.member_id.as_str()]),
            "member",
            &notice.member_id,
        )?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(self.db()).await?
        {
            return self
                .respond(&store::find_case(self.db(), &existing).await?)
                .await;
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

        let accuracy = store::notice_accuracy(self.db(), &notice.member_id, None, None).await?;
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
            id: id.as_str().to_owned(),
            source: CaseSource::Notice,
            title,
            summary: statement,
            brand_ids: vec![right.brand_id.clone()],
            listings,
            member_id: notice.member_id.clone(),
            ip_right_id: right.id.clone(),
            hit_id: String::new(),
            source_key: None,
            risk_score: 0.0,
            fast_track,
            due_time: self
                .inner
                .config
                .sla
                .opened(CaseSource::Notice, fast_track, now),
        };
        self.open_case(principal, key, new, now).await
    }

    pub(super) async fn create_case(
        &self,
        principal: &Principal,
        req: CreateCaseRequest,
    ) -> ApiResult<Case> {
        let Some(case) = &req.r#case else {
            return Err(ApiError::invalid("case", "must be set"));
        };
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
            id: CaseId::generate().into_string(),
            source: CaseSource::Staff,
            title,
            summary,
            brand_ids,
            listings,
            member_id: String::new(),
            ip_right_id: String::new(),
            hit_id: String::new(),
            source_key: None,
            risk_score: 0.0,
            fast_track: false,
            due_time: self.inner.config.sla.opened(CaseSource::Staff, false, now),
        };
        self.open_case(principal, key, new, now).await
    }

    /// Opens a case from a notice or by staff, once per request id.
    async fn open_case(
        &self,
        principal: &Principal,
        key: Option<Key>,
        new: NewCase,
        now: DateTime<Utc>,
    ) -> ApiResult<Case> {
        let txn = self.db().begin().await?;
        let model = create_once(
            &txn,
            key.as_ref(),
            async |existing| store::find_case(&txn, &existing).await,
            async || {
                let model = store::insert_case(&txn, new, &principal.actor(), now).await?;
                Ok((model.id.clone(), model))
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
        let hit = req.alert.and_then(|a| a.hit);
        let Some(hit) = hit else {
            return Err(ApiError::invalid("alert.hit", "must be set"));
        };
        let mut violations = FieldViolations::new();
        violations.check("alert.hit.id", HitId::parse(&hit.id));
        let listing = hit.listing.clone().unwrap_or_default();
        let listing_id = violations.check(
            "alert.hit.listing.listing_id",
            validate::external_id(&listing.listing_id),
        );
        let seller_id = violations.check(
            "alert.hit.listing.seller_id",
            validate::external_id(&listing.seller_id),
        );
        let verdict = hit.verdict.clone().unwrap_or_default();
        let brand_ids: Vec<String> = verdict.brands.iter().map(|b| b.brand_id.clone()).collect();
        let brand_ids = check::brand_ids(&mut violations, "alert.hit.verdict.brands", &brand_ids);
        let (listing_id, seller_id) = violations.require(listing_id.zip(seller_id))?;

        let source_key = format!("{}/{}", topic::SCREENING_HIT, hit.id);
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
        let now = time::now();
        let new = NewCase {
            id: CaseId::generate().into_string(),
            source: CaseSource::ScreeningAlert,
            title,
            summary,
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
            hit_id: hit.id.clone(),
            source_key: Some(source_key.clone()),
            risk_score: verdict.risk_score,
            fast_track: false,
            due_time: self
                .inner
                .config
                .sla
                .opened(CaseSource::ScreeningAlert, false, now),
        };
        // Exactly once: the source key is unique. A concurrent duplicate delivery loses the
        // insert and finds the winner's case.
        let txn = self.db().begin().await?;
        if let Some(existing) = store::find_by_source_key(&txn, &source_key).await? {
            return Ok(ReceiveHitAlertResponse {
                case_id: existing.id,
                created: false,
            });
        }
        let inserted = store::insert_case(&txn, new, &principal.actor(), now).await;
        match inserted {
            Ok(model) => {
                txn.commit().await?;
                crate::metrics::case_opened(&model.source);
                Ok(ReceiveHitAlertResponse {
                    case_id: model.id,
                    created: true,
                })
            }
            Err(error) => {
                drop(txn);
                match store::find_by_source_key(self.db(), &source_key).await? {
                    Some(existing) => Ok(ReceiveHitAlertResponse {
                        case_id: existing.id,
                        created: false,
                    }),
                    None => Err(error),
                }
            }
        }
    }
}
