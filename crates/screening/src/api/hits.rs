//! Hits: what screening flagged, what became of it, and how precise it was.

use super::*;
use crate::calibration;

impl ScreeningApi {
    /// Staff and services see every hit; a member, those about brands it acts for. Any
    /// other hit answers NOT_FOUND, as a missing one does.
    async fn scope_hit(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        principal: &Principal,
        hit_id: &HitId,
    ) -> ApiResult<()> {
        let Some(member_id) = principal.member_id() else {
            return Ok(());
        };
        let mine = self.engines.catalogue().brands_of(member_id);
        let brands = store::hit_brands(db, hit_id).await?;
        if brands.iter().any(|b| mine.iter().any(|m| m == b.as_str())) {
            Ok(())
        } else {
            Err(ApiError::not_found("hit", hit_id.as_str()))
        }
    }

    pub(super) async fn get_hit(
        &self,
        principal: &Principal,
        req: GetHitRequest,
    ) -> ApiResult<Hit> {
        let id = HitId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let model = store::get_hit(&self.db, &id).await?;
        self.scope_hit(&self.db, principal, &id).await?;
        convert::hit(&model)
    }

    pub(super) async fn list_hits(
        &self,
        principal: &Principal,
        req: ListHitsRequest,
    ) -> ApiResult<ListHitsResponse> {
        let size = page_size(req.page_size)?;
        let mut violations = FieldViolations::new();
        violations.check_optional("brand_id", &req.brand_id, BrandId::parse);
        violations.check_optional("seller_id", &req.seller_id, validate::external_id);
        violations.check_optional("listing_id", &req.listing_id, validate::external_id);
        let decision = violations
            .check(
                "decision",
                validate::optional_enum::<Decision>(req.decision),
            )
            .flatten();
        let (from, until) =
            validate::time_range(&mut violations, "create_time", req.create_time.as_ref());
        violations.into_result(())?;
        let brand_ids = self
            .engines
            .catalogue()
            .brands_to_list(principal, &req.brand_id)?;
        let filter = store::HitFilter {
            brand_ids,
            seller_id: (!req.seller_id.is_empty()).then(|| req.seller_id.clone()),
            listing_id: (!req.listing_id.is_empty()).then(|| req.listing_id.clone()),
            decision,
            from,
            until,
        };
        let scope = format!("ListHits|{filter:?}");
        let before = self.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_hits(&self.db, &filter, before.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .page_tokens
            .page(&scope, rows, size, |h| h.id.to_string());
        Ok(ListHitsResponse {
            hits: rows.iter().map(convert::hit).collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    pub(super) async fn record_hit_feedback(
        &self,
        principal: &Principal,
        req: RecordHitFeedbackRequest,
    ) -> ApiResult<Hit> {
        let mut violations = FieldViolations::new();
        let id = violations.check("hit_id", HitId::parse(&req.hit_id));
        let outcome = violations.check(
            "outcome",
            validate::required_enum::<FeedbackOutcome>(req.outcome),
        );
        let note = violations.check("note", validate::optional_text(&req.note, 2000));
        let (id, (outcome, note)) = violations.require(id.zip(outcome.zip(note)))?;
        let txn = self.db.begin().await?;
        let current = store::get_hit(&txn, &id).await?;
        self.scope_hit(&txn, principal, &id).await?;
        let model = store::record_feedback(
            &txn,
            current,
            outcome,
            &note,
            &principal.actor(),
            time::now(),
        )
        .await?;
        txn.commit().await?;
        convert::hit(&model)
    }

    pub(super) async fn get_precision_report(
        &self,
        req: GetPrecisionReportRequest,
    ) -> ApiResult<GetPrecisionReportResponse> {
        let mut violations = FieldViolations::new();
        let (from, until) =
            validate::time_range(&mut violations, "create_time", req.create_time.as_ref());
        violations.into_result(())?;
        let rows = store::feedback_in(&self.db, from, until).await?;
        let mut signals: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut brands: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for (outcome, _, kinds, hit_brands) in &rows {
            let confirmed = *outcome == FeedbackOutcome::ConfirmedCounterfeit;
            for kind in kinds {
                let entry = signals.entry(kind.clone()).or_default();
                if confirmed {
                    entry.0 += 1
                } else {
                    entry.1 += 1
                }
            }
            for brand in hit_brands {
                let entry = brands.entry(brand.clone()).or_default();
                if confirmed {
                    entry.0 += 1
                } else {
                    entry.1 += 1
                }
            }
        }
        let precision = |(confirmed, false_positives): (i64, i64)| {
            let total = confirmed + false_positives;
            if total == 0 {
                0.0
            } else {
                confirmed as f64 / total as f64
            }
        };
        let mut brand_rows: Vec<BrandPrecision> = brands
            .into_iter()
            .map(|(brand_id, counts)| BrandPrecision {
                brand_id,
                confirmed: counts.0,
                false_positives: counts.1,
                precision: precision(counts),
            })
            .collect();
        brand_rows.sort_by(|a, b| {
            (b.confirmed + b.false_positives)
                .cmp(&(a.confirmed + a.false_positives))
                .then_with(|| a.brand_id.cmp(&b.brand_id))
        });
        Ok(GetPrecisionReportResponse {
            signals: signals
                .into_iter()
                .filter_map(|(kind, counts)| {
                    Some(SignalPrecision {
                        kind: SignalKind::from_str_name(&kind)? as i32,
                        confirmed: counts.0,
                        false_positives: counts.1,
                        precision: precision(counts),
                    })
                })
                .collect(),
            brands: brand_rows,
            hits_with_feedback: rows.len() as i64,
            calibration: convert::bins(&calibration::bins(rows.iter().map(
                |(outcome, risk, _, _)| (*risk, *outcome == FeedbackOutcome::ConfirmedCounterfeit),
            ))),
            calibration_version: self
                .engines
                .current()
                .map_or(0, |e| e.calibration_version()),
        })
    }
}
