//! Entities to protos: rules and hits as callers see them.

use assay_common::language;
use assay_common::resource::etag;
use assay_common::time::to_timestamp;
use assay_common::{ApiError, ApiResult};
use assay_proto::common::v1::TimeRange;
use assay_proto::screening::v1::{
    Calibration, CalibrationBin, CalibrationReport, FeedbackOutcome, Hit, HitFeedback, Listing,
    Rule, Verdict, VocabularyTerm, WeightShift, weight_shift::Subject,
};
use prost::Message;

use crate::calibration::{Bin, Fit, Shifts, Weight};
use crate::engine::say;
use crate::entity::{calibration, hit, rule};
use crate::store::rule_spec;

fn corrupt(what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::internal(anyhow::anyhow!("corrupt {what} in the database: {error}"))
}

pub fn rule(model: &rule::Model) -> ApiResult<Rule> {
    let spec = rule_spec(model)?;
    Ok(Rule {
        id: model.id.to_string(),
        brand_id: model.brand_id.clone(),
        description: spec.description,
        vocabulary: spec
            .vocabulary
            .into_iter()
            .map(|(term, weight)| VocabularyTerm { term, weight })
            .collect(),
        review_threshold: spec.review_threshold,
        block_threshold: spec.block_threshold,
        ambiguous_terms: spec.ambiguous_terms,
        version: model.version,
        create_time: Some(to_timestamp(model.create_time)),
        update_time: Some(to_timestamp(model.update_time)),
        updated_by: model.updated_by.clone(),
        etag: etag(model.version),
    })
}

pub fn hit(model: &hit::Model) -> ApiResult<Hit> {
    let feedback = match (&model.feedback_outcome, model.feedback_time) {
        (Some(outcome), Some(time)) => Some(HitFeedback {
            outcome: FeedbackOutcome::from_str_name(outcome)
                .ok_or_else(|| corrupt("feedback outcome", outcome))? as i32,
            note: model.feedback_note.clone(),
            recorded_by: model.feedback_by.clone(),
            record_time: Some(to_timestamp(time)),
        }),
        _ => None,
    };
    Ok(Hit {
        id: model.id.to_string(),
        listing: Some(
            Listing::decode(model.listing.as_slice()).map_err(|e| corrupt("listing", e))?,
        ),
        verdict: Some({
            let mut verdict =
                Verdict::decode(model.verdict.as_slice()).map_err(|e| corrupt("verdict", e))?;
            // Stored as messages; read in the caller's language.
            say::write(&mut verdict, language::current());
            verdict
        }),
        feedback,
        create_time: Some(to_timestamp(model.create_time)),
    })
}

pub fn calibration(model: &calibration::Model, active: bool) -> ApiResult<Calibration> {
    let body = Calibration::decode(model.body.as_slice()).map_err(|e| corrupt("calibration", e))?;
    Ok(Calibration {
        version: model.version,
        create_time: Some(to_timestamp(model.create_time)),
        created_by: model.created_by.clone(),
        active,
        ..body
    })
}

/// What the engine applies of a calibration.
pub fn shifts(calibration: &Calibration) -> Shifts {
    let mut kinds = Vec::new();
    let mut brands = Vec::new();
    for weight in calibration.signals.iter().chain(&calibration.brands) {
        match &weight.subject {
            Some(Subject::Kind(kind)) => kinds.push((*kind, weight.shift)),
            Some(Subject::BrandId(brand)) => brands.push((brand.clone(), weight.shift)),
            None => {}
        }
    }
    Shifts::new(calibration.version, kinds, brands)
}

/// A fit as the body of a new calibration.
pub fn fit(fit: &Fit, hits_screened: Option<TimeRange>) -> Calibration {
    fn weight(w: &Weight<impl Clone>, subject: Subject) -> WeightShift {
        WeightShift {
            subject: Some(subject),
            shift: w.shift,
            previous_shift: w.previous_shift,
            confirmed: w.confirmed,
            false_positives: w.false_positives,
        }
    }
    let report = &fit.report;
    Calibration {
        hits_screened,
        hits_used: fit.hits_used,
        signals: fit
            .kinds
            .iter()
            .map(|w| weight(w, Subject::Kind(w.subject as i32)))
            .collect(),
        brands: fit
            .brands
            .iter()
            .map(|w| weight(w, Subject::BrandId(w.subject.clone())))
            .collect(),
        report: Some(CalibrationReport {
            previous_version: report.previous_version,
            log_loss_before: report.log_loss_before,
            log_loss_after: report.log_loss_after,
            bins_before: bins(&report.bins_before),
            bins_after: bins(&report.bins_after),
            confirmed_no_longer_flagged: report.confirmed_no_longer_flagged,
            false_positives_no_longer_flagged: report.false_positives_no_longer_flagged,
        }),
        ..Calibration::default()
    }
}

pub fn bins(bins: &[Bin]) -> Vec<CalibrationBin> {
    bins.iter()
        .map(|b| CalibrationBin {
            risk_from: b.risk_from,
            risk_to: b.risk_to,
            hits: b.hits,
            mean_risk: b.mean_risk,
            confirmed_share: b.confirmed_share,
        })
        .collect()
}
