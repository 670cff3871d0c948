//! Rules: validation, and what the engine makes of them.

use assay_common::{FieldViolations, validate};
use assay_proto::screening::v1::{Rule, VocabularyTerm};

use crate::calibration::Shifts;
use crate::engine::RuleInput;
use crate::engine::normalize::normalize_term;

pub const MAX_VOCABULARY: usize = 500;
pub const MAX_AMBIGUOUS: usize = 200;

/// A rule as checked and cleaned.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    pub description: String,
    pub vocabulary: Vec<(String, f64)>,
    pub review_threshold: Option<f64>,
    pub block_threshold: Option<f64>,
    pub ambiguous_terms: Vec<String>,
}

fn threshold(value: Option<f64>) -> Result<Option<f64>, String> {
    match value {
        Some(v) if !(0.0..=1.0).contains(&v) => Err("must be between 0 and 1".to_owned()),
        other => Ok(other),
    }
}

/// Checks the editable fields of `rule`, naming bad ones under `prefix`.
pub fn validate(rule: &Rule, prefix: &str, violations: &mut FieldViolations) -> Option<RuleSpec> {
    let field = |name: &str| format!("{prefix}.{name}");
    let description = violations.check(
        &field("description"),
        validate::optional_text(&rule.description, 1000),
    );
    let terms = match validate::count(&rule.vocabulary, 0, MAX_VOCABULARY) {
        Ok(()) => &rule.vocabulary[..],
        Err(e) => {
            violations.add(field("vocabulary"), e);
            &[]
        }
    };
    let mut seen = std::collections::HashSet::new();
    let mut vocabulary = Vec::with_capacity(terms.len());
    for (i, VocabularyTerm { term, weight }) in terms.iter().enumerate() {
        let at = |name: &str| format!("{prefix}.vocabulary[{i}].{name}");
        let cleaned = violations.check(&at("term"), validate::text(term, 100));
        if !(0.0..=1.0).contains(weight) {
            violations.add(at("weight"), "must be between 0 and 1");
        }
        if let Some(cleaned) = cleaned {
            let normalized = normalize_term(&cleaned);
            if normalized.is_empty() {
                violations.add(at("term"), "has no letters or digits");
            } else if !seen.insert(normalized) {
                violations.add(at("term"), "repeats another term of the rule");
            } else {
                vocabulary.push((cleaned, *weight));
            }
        }
    }
    let review_threshold =
        violations.check(&field("review_threshold"), threshold(rule.review_threshold));
    let block_threshold =
        violations.check(&field("block_threshold"), threshold(rule.block_threshold));
    if let (Some(Some(review)), Some(Some(block))) = (review_threshold, block_threshold)
        && block < review
    {
        violations.add(
            field("block_threshold"),
            "must not be below review_threshold",
        );
    }
    let ambiguous_terms = validate::each(
        violations,
        &field("ambiguous_terms"),
        &rule.ambiguous_terms,
        0..=MAX_AMBIGUOUS,
        |t| validate::text(t, 100),
    );
    Some(RuleSpec {
        description: description?,
        vocabulary,
        review_threshold: review_threshold?,
        block_threshold: block_threshold?,
        ambiguous_terms,
    })
}

/// What the engine is compiled from besides the catalogue.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub rules: Vec<RuleInput>,
    /// The calibration of the weights in use.
    pub calibration: Shifts,
}

/// The engine's view of a rule.
pub fn input(brand_id: &str, spec: &RuleSpec) -> RuleInput {
    RuleInput {
        brand_id: (!brand_id.is_empty()).then(|| brand_id.to_owned()),
        vocabulary: spec.vocabulary.clone(),
        review_threshold: spec.review_threshold,
        block_threshold: spec.block_threshold,
        ambiguous_terms: spec.ambiguous_terms.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule() -> Rule {
        Rule {
            description: "Marmont look-alikes".into(),
            vocabulary: vec![VocabularyTerm {
                term: "marmont style".into(),
                weight: 0.5,
            }],
            review_threshold: Some(0.4),
            block_threshold: Some(0.7),
            ambiguous_terms: vec!["gg".into()],
            ..Rule::default()
        }
    }

    fn fields(rule: &Rule) -> Vec<String> {
        let mut violations = FieldViolations::new();
        validate(rule, "rule", &mut violations);
        violations.iter().map(|(f, _)| f.to_owned()).collect()
    }

    #[test]
    fn a_good_rule_passes() {
        assert!(fields(&rule()).is_empty());
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut bad = rule();
        bad.vocabulary.push(VocabularyTerm {
            term: "MARMONT-style".into(),
            weight: 0.2,
        });
        bad.vocabulary.push(VocabularyTerm {
            term: "...".into(),
            weight: 1.5,
        });
        bad.review_threshold = Some(0.9);
        bad.block_threshold = Some(0.5);
        bad.ambiguous_terms.push(String::new());
        assert_eq!(
            fields(&bad),
            [
                "rule.vocabulary[1].term",
                "rule.vocabulary[2].weight",
                "rule.vocabulary[2].term",
                "rule.block_threshold",
                "rule.ambiguous_terms[1]",
            ]
        );
        let mut out_of_range = rule();
        out_of_range.review_threshold = Some(-0.1);
        assert_eq!(fields(&out_of_range), ["rule.review_threshold"]);
    }
}
