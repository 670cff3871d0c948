//! Calibrations: the weights of the evidence fitted to analysts' feedback, one version at a
//! time in use.

use super::*;
use crate::calibration::{self, Observation};

/// Hits with feedback read from the database at once while fitting.
const FIT_PAGE: u64 = 2_000;

impl ScreeningApi {
    pub(super) async fn create_calibration(
        &self,
        principal: &Principal,
        req: CreateCalibrationRequest,
    ) -> ApiResult<Calibration> {
        let mut violations = FieldViolations::new();
        let key = Key::of("CreateCalibration", principal, &mut violations, &req);
        let (from, until) =
            validate::time_range(&mut violations, "hits_screened", req.hits_screened.as_ref());
        violations.into_result(())?;
        // A retry returns what the first call made without fitting again.
        if let Some(key) = &key
            && let Some(version) = key.earlier(&self.db).await?
        {
            return self.calibration(parse_version(&version)?).await;
        }
        let engine = self.engine()?;
        let previous =
            store::shifts_of(&self.db, store::active_calibration(&self.db).await?).await?;
        let observations = self.observations(&engine, from, until).await?;
        let fit = tokio::task::spawn_blocking(move || calibration::fit(&observations, &previous))
            .await
            .map_err(ApiError::internal)?;
        let body = convert::fit(&fit, req.hits_screened);
        let txn = self.db.begin().await?;
        let created = create_once(
            &txn,
            key.as_ref(),
            async |existing| store::get_calibration(&txn, parse_version(&existing)?).await,
            async || {
                let model =
                    store::insert_calibration(&txn, &body, &principal.actor(), time::now()).await?;
                Ok((model.version.to_string(), model))
            },
        )
        .await?;
        let activated = created.is_created() && req.activate;
        let model = created.into_inner();
        if activated {
            store::activate_calibration(&txn, model.version).await?;
        }
        txn.commit().await?;
        if activated {
            tracing::info!(
                version = model.version,
                hits = fit.hits_used,
                "calibration made and put in use"
            );
            self.rules_changed().await;
        }
        let active = store::active_calibration(&self.db).await? == model.version;
        convert::calibration(&model, active)
    }

    /// What a fit learns from: the latest hits with feedback in the period, read page by
    /// page and kept only as the evidence that matters.
    async fn observations(
        &self,
        engine: &Engine,
        from: Option<chrono::DateTime<chrono::Utc>>,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> ApiResult<Vec<Observation>> {
        let mut observations = Vec::new();
        let mut before = None;
        let mut read = 0;
        while read < calibration::MAX_HITS {
            let limit = FIT_PAGE.min(calibration::MAX_HITS - read);
            let page = store::feedback_verdicts(&self.db, from, until, before, limit).await?;
            read += page.len() as u64;
            let last = page.len() < limit as usize;
            for (id, outcome, verdict) in &page {
                let verdict = Verdict::decode(verdict.as_slice()).map_err(|e| {
                    ApiError::internal(anyhow::anyhow!("corrupt verdict of hit {id}: {e}"))
                })?;
                let confirmed = *outcome == FeedbackOutcome::ConfirmedCounterfeit;
                observations.extend(Observation::of(&verdict, confirmed, |brand| {
                    engine.review_threshold(brand)
                }));
            }
            before = page.into_iter().last().map(|(id, _, _)| id);
            if last || before.is_none() {
                break;
            }
        }
        Ok(observations)
    }

    async fn calibration(&self, version: i64) -> ApiResult<Calibration> {
        let model = store::get_calibration(&self.db, version).await?;
        let active = store::active_calibration(&self.db).await? == version;
        convert::calibration(&model, active)
    }

    pub(super) async fn list_calibrations(
        &self,
        req: ListCalibrationsRequest,
    ) -> ApiResult<ListCalibrationsResponse> {
        let size = page_size(req.page_size)?;
        let scope = "ListCalibrations";
        let before = self
            .page_tokens
            .decode(scope, &req.page_token)?
            .map(|v| parse_version(&v))
            .transpose()?;
        let rows = store::list_calibrations(&self.db, before, size + 1).await?;
        let active = store::active_calibration(&self.db).await?;
        let (rows, next_page_token) = self
            .page_tokens
            .page(scope, rows, size, |c| c.version.to_string());
        Ok(ListCalibrationsResponse {
            calibrations: rows
                .iter()
                .map(|c| convert::calibration(c, c.version == active))
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    pub(super) async fn activate_calibration(
        &self,
        req: ActivateCalibrationRequest,
    ) -> ApiResult<ActivateCalibrationResponse> {
        if req.version < 0 {
            return Err(ApiError::invalid(
                "version",
                "must be 0 (none) or a version",
            ));
        }
        let txn = self.db.begin().await?;
        if req.version > 0 {
            store::get_calibration(&txn, req.version).await?;
        }
        let changed = store::active_calibration(&txn).await? != req.version;
        let rule_version = if changed {
            store::activate_calibration(&txn, req.version).await?
        } else {
            store::rule_version(&txn).await?
        };
        txn.commit().await?;
        if changed {
            tracing::info!(
                version = req.version,
                rule_version,
                "calibration put in use"
            );
            self.rules_changed().await;
        }
        Ok(ActivateCalibrationResponse {
            version: req.version,
            rule_version,
        })
    }
}

/// A calibration version as written in a page token or an idempotency record.
fn parse_version(text: &str) -> ApiResult<i64> {
    text.parse()
        .map_err(|_| ApiError::internal(anyhow::anyhow!("bad calibration version {text:?}")))
}
