//! The grounds of a notice and of a takedown ("counterfeit", "copyright in pictures", ...):
//! checked as they come in, kept on the case as a short list of names, and counted.

use std::collections::BTreeMap;

use assay_common::{FieldViolations, validate};
use assay_proto::cases::v1::ReasonCode;

/// Grounds at most on a notice or a decision: each of them once.
pub const MAX_REASON_CODES: usize = 7;

/// The grounds `codes` names, in the order of the enum: each a known ground, each once, at
/// most [`MAX_REASON_CODES`]. `None`, with the violations added under `field`, otherwise.
pub fn check(
    violations: &mut FieldViolations,
    field: &str,
    codes: &[i32],
) -> Option<Vec<ReasonCode>> {
    if codes.len() > MAX_REASON_CODES {
        violations.add(
            field,
            format!("at most {MAX_REASON_CODES} grounds, each once"),
        );
        return None;
    }
    let mut grounds = Vec::with_capacity(codes.len());
    let mut valid = true;
    for (at, &code) in codes.iter().enumerate() {
        match validate::required_enum::<ReasonCode>(code) {
            Ok(ground) if grounds.contains(&ground) => {
                violations.add(format!("{field}[{at}]"), "is given twice");
                valid = false;
            }
            Ok(ground) => grounds.push(ground),
            Err(problem) => {
                violations.add(format!("{field}[{at}]"), problem);
                valid = false;
            }
        }
    }
    grounds.sort_unstable_by_key(|ground| *ground as i32);
    valid.then_some(grounds)
}

/// What a takedown upholds: the grounds the analyst gives, or else the notice's own.
pub fn upheld(given: Vec<ReasonCode>, noticed: Vec<ReasonCode>) -> Vec<ReasonCode> {
    if given.is_empty() { noticed } else { given }
}

/// The grounds as kept on a case: their names, comma-separated ("" for none).
pub fn encode(grounds: &[ReasonCode]) -> String {
    grounds
        .iter()
        .map(|ground| ground.as_str_name())
        .collect::<Vec<_>>()
        .join(",")
}

/// The grounds kept as [`encode`] wrote them; a name this build does not know is left out.
pub fn decode(kept: &str) -> Vec<ReasonCode> {
    kept.split(',')
        .filter_map(ReasonCode::from_str_name)
        .filter(|ground| *ground != ReasonCode::Unspecified)
        .collect()
}

/// Cases counted per ground, from counts per kept list: a case of two grounds counts under
/// both, a case of none under [`ReasonCode::Unspecified`].
pub fn count(lists: impl IntoIterator<Item = (String, i64)>) -> BTreeMap<ReasonCode, i64> {
    let mut counts = BTreeMap::new();
    for (kept, cases) in lists {
        let grounds = decode(&kept);
        if grounds.is_empty() {
            *counts.entry(ReasonCode::Unspecified).or_default() += cases;
        }
        for ground in grounds {
            *counts.entry(ground).or_default() += cases;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grounds_are_known_once_each_and_few() {
        let mut violations = FieldViolations::new();
        let grounds = check(
            &mut violations,
            "notice.reason_codes",
            &[ReasonCode::Patent as i32, ReasonCode::Counterfeit as i32],
        );
        assert_eq!(
            grounds,
            Some(vec![ReasonCode::Counterfeit, ReasonCode::Patent])
        );
        assert_eq!(check(&mut violations, "f", &[]), Some(vec![]));
        assert!(violations.is_empty());

        for bad in [vec![0], vec![99], vec![1, 1], vec![1, 2, 3, 4, 5, 6, 7, 1]] {
            let mut violations = FieldViolations::new();
            assert_eq!(check(&mut violations, "f", &bad), None, "{bad:?}");
            assert!(!violations.is_empty(), "{bad:?}");
        }
        let mut violations = FieldViolations::new();
        check(&mut violations, "notice.reason_codes", &[1, 1]);
        let fields: Vec<&str> = violations.iter().map(|(field, _)| field).collect();
        assert_eq!(fields, ["notice.reason_codes[1]"]);
    }

    #[test]
    fn a_takedown_upholds_what_it_names_or_else_the_notice() {
        let noticed = vec![ReasonCode::Counterfeit, ReasonCode::CopyrightImages];
        assert_eq!(upheld(vec![], noticed.clone()), noticed);
        assert_eq!(
            upheld(vec![ReasonCode::CopyrightImages], noticed),
            vec![ReasonCode::CopyrightImages]
        );
    }

    #[test]
    fn grounds_are_kept_and_read_back_and_counted() {
        let grounds = vec![ReasonCode::Counterfeit, ReasonCode::DesignRight];
        assert_eq!(decode(&encode(&grounds)), grounds);
        assert_eq!(decode(""), vec![]);
        assert_eq!(
            decode("REASON_CODE_COUNTERFEIT,SOMETHING_NEWER"),
            vec![ReasonCode::Counterfeit]
        );
        let counts = count([
            (encode(&grounds), 3),
            (encode(&[ReasonCode::Counterfeit]), 2),
            (String::new(), 4),
        ]);
        assert_eq!(counts[&ReasonCode::Counterfeit], 5);
        assert_eq!(counts[&ReasonCode::DesignRight], 3);
        assert_eq!(counts[&ReasonCode::Unspecified], 4);
        assert_eq!(counts.len(), 3);
    }
}
