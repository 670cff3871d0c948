//! Entities to protos: rules and hits as callers see them.

use assay_common::resource::etag;
use assay_common::time::to_timestamp;
use assay_common::{ApiError, ApiResult};
use assay_proto::screening::v1::{
    FeedbackOutcome, Hit, HitFeedback, Listing, Rule, Verdict, VocabularyTerm,
};
use prost::Message;

use crate::entity::{hit, rule};
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
        verdict: Some(
            Verdict::decode(model.verdict.as_slice()).map_err(|e| corrupt("verdict", e))?,
        ),
        feedback,
        create_time: Some(to_timestamp(model.create_time)),
    })
}
