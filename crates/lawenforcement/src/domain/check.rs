//! Checks of what agencies and staff send, and the rules about requests that need no I/O:
//! which e-mail domains vouch for a requester, when an emergency is confirmed, and what a
//! narrowed approval may name.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};

use assay_common::money::Money;
use assay_common::{ApiResult, FieldViolations, validate};
use assay_proto::common::v1::Contact;
use assay_proto::lawenforcement::v1::*;

pub fn contacts(violations: &mut FieldViolations, field: &str, contacts: &[Contact]) {
    let contacts = validate::bounded(violations, field, contacts, 0, 20);
    for (i, contact) in contacts.iter().enumerate() {
        validate::contact(violations, &format!("{field}[{i}]"), contact);
    }
}

/// Checks an agency's editable fields, naming bad ones under `prefix`.
pub fn agency(violations: &mut FieldViolations, prefix: &str, agency: &Agency) -> Option<Agency> {
    let field = |name: &str| format!("{prefix}.{name}");
    let name = violations.check(&field("name"), validate::text(&agency.name, 200));
    let country = violations.check(
        &field("country_code"),
        validate::country_code(&agency.country_code),
    );
    let level = violations.check(
        &field("level"),
        validate::required_enum::<AgencyLevel>(agency.level),
    );
    let domains = validate::each(
        violations,
        &field("verified_email_domains"),
        &agency.verified_email_domains,
        1..=20,
        |d| validate::domain(&d.to_ascii_lowercase()),
    );
    contacts(violations, &field("contacts"), &agency.contacts);
    Some(Agency {
        name: name?,
        country_code: country?,
        level: level? as i32,
        verified_email_domains: domains,
        contacts: agency.contacts.clone(),
        ..Agency::default()
    })
}

/// Checks targets: 1 to 100, kinds set, marketplace ids, no repeats.
pub fn targets(violations: &mut FieldViolations, field: &str, targets: &[Target]) -> Vec<Target> {
    validate::each(violations, field, targets, 1..=100, |t| {
        let kind =
            validate::required_enum::<TargetKind>(t.kind).map_err(|e| format!("kind {e}"))?;
        let id = validate::external_id(&t.id).map_err(|e| format!("id {e}"))?;
        Ok(Target {
            kind: kind as i32,
            id,
        })
    })
}

pub fn categories(
    violations: &mut FieldViolations,
    field: &str,
    categories: &[i32],
) -> Vec<DataCategory> {
    validate::each(violations, field, categories, 1..=10, |c| {
        validate::required_enum::<DataCategory>(*c)
    })
}

pub fn outcome(
    violations: &mut FieldViolations,
    field: &str,
    outcome: Option<&Outcome>,
) -> Option<(Outcome, Option<Money>)> {
    let Some(outcome) = outcome else {
        violations.add(field, "must be set");
        return None;
    };
    let value = validate::outcome_figures(
        violations,
        field,
        outcome.arrests,
        outcome.seized_units,
        outcome.convictions,
        outcome.seized_value.as_ref(),
    );
    let note = violations.check(
        &format!("{field}.note"),
        validate::optional_text(&outcome.note, 2000),
    )?;
    Some((
        Outcome {
            note,
            ..outcome.clone()
        },
        value,
    ))
}

/// The e-mail domain of an address, lower case ("" for no valid address).
pub fn email_domain(email: &str) -> String {
    validate::email_domain(email).unwrap_or_default()
}

/// Whether `email` is at one of `domains` (or a subdomain of one).
pub fn domain_verified(email: &str, domains: &[String]) -> bool {
    let Some(domain) = validate::email_domain(email) else {
        return false;
    };
    domains.iter().any(|d| {
        let d = d.to_ascii_lowercase();
        domain == d || domain.ends_with(&format!(".{d}"))
    })
}

/// Emergency requests need two confirmations by different people, one of them out of band,
/// before data goes out.
pub fn emergency_confirmed(request: &LegalRequest) -> bool {
    let confirmers: BTreeSet<&str> = request
        .confirmations
        .iter()
        .map(|c| c.confirmed_by.as_str())
        .collect();
    let out_of_band = request
        .confirmations
        .iter()
        .any(|c| c.channel != ConfirmationChannel::Email as i32);
    !request.emergency || (confirmers.len() >= 2 && out_of_band)
}

/// Whether `confirmation` may confirm an emergency request that is `status`: one already
/// verified and still undecided, by someone who has not confirmed it yet, out of band.
pub fn second_confirmation(
    request: &LegalRequest,
    status: RequestStatus,
    confirmation: &Confirmation,
) -> Result<(), String> {
    if !request.emergency {
        return Err("this is not an emergency request".to_owned());
    }
    if request.confirmations.is_empty() {
        return Err("complete the verification first: this confirms it independently".to_owned());
    }
    if matches!(
        status,
        RequestStatus::Rejected | RequestStatus::Disclosed | RequestStatus::Closed
    ) {
        return Err(format!(
            "a request that is {} needs no confirmation",
            super::status_word(status)
        ));
    }
    if request
        .confirmations
        .iter()
        .any(|c| c.confirmed_by == confirmation.confirmed_by)
    {
        return Err(
            "a second confirmation must come from someone else: you already confirmed this request"
                .to_owned(),
        );
    }
    if confirmation.channel == ConfirmationChannel::Email as i32 {
        return Err("an emergency cannot be confirmed by e-mail, which a hijacked mailbox answers itself: call the agency back on its published number, or use its credentials or a known liaison".to_owned());
    }
    Ok(())
}

/// A narrowed approval names only targets and categories the request asked for.
pub fn narrowed(
    request: &LegalRequest,
    targets: &[Target],
    categories: &[DataCategory],
) -> FieldViolations {
    let mut violations = FieldViolations::new();
    let asked: HashSet<&Target> = request.targets.iter().collect();
    for (i, target) in targets.iter().enumerate() {
        if !asked.contains(target) {
            violations.add(
                format!("approved_targets[{i}]"),
                "is not one of the request's targets",
            );
        }
    }
    let asked: HashSet<i32> = request.data_categories.iter().copied().collect();
    for (i, category) in categories.iter().enumerate() {
        if !asked.contains(&(*category as i32)) {
            violations.add(
                format!("approved_categories[{i}]"),
                "is not one of the categories asked for",
            );
        }
    }
    violations
}

/// What a legal review decides, for the store to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub approved_targets: Vec<Target>,
    pub approved_categories: Vec<i32>,
    /// Until when a preservation hold on the approved targets is placed, if one is.
    pub hold_until: Option<DateTime<Utc>>,
}

/// The outcome of reviewing `request` under `process` at `now`: an approval covers what was
/// asked, a narrowing what it names (which must be a part of what was asked), a rejection
/// nothing; an approved preservation request places a hold for its legal period.
pub fn review(
    request: &LegalRequest,
    process: LegalProcess,
    decision: ReviewDecision,
    narrowed_to: (Vec<Target>, Vec<DataCategory>),
    now: DateTime<Utc>,
) -> ApiResult<Review> {
    let (approved_targets, approved_categories) = match decision {
        ReviewDecision::Approve => (request.targets.clone(), request.data_categories.clone()),
        ReviewDecision::Narrow => {
            let (targets, categories) = narrowed_to;
            narrowed(request, &targets, &categories).into_result(())?;
            (targets, categories.iter().map(|c| *c as i32).collect())
        }
        _ => (Vec::new(), Vec::new()),
    };
    let approved = matches!(decision, ReviewDecision::Approve | ReviewDecision::Narrow);
    let hold_until = approved
        .then(|| super::hold_periods(process))
        .flatten()
        .map(|(period, _)| now + period);
    Ok(Review {
        approved_targets,
        approved_categories,
        hold_until,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(id: &str) -> Target {
        Target {
            kind: TargetKind::Seller as i32,
            id: id.into(),
        }
    }

    /// A request for the profiles of sellers S1 and S2.
    fn two_sellers_profiles() -> LegalRequest {
        LegalRequest {
            targets: vec![target("S1"), target("S2")],
            data_categories: vec![DataCategory::SellerProfile as i32],
            ..LegalRequest::default()
        }
    }

    fn fields(violations: &FieldViolations) -> Vec<&str> {
        violations.iter().map(|(field, _)| field).collect()
    }

    fn confirmation(by: &str, channel: ConfirmationChannel) -> Confirmation {
        Confirmation {
            confirmed_by: by.into(),
            channel: channel as i32,
            ..Confirmation::default()
        }
    }

    #[test]
    fn a_requester_is_vouched_for_by_its_agency_domains_and_their_subdomains() {
        let domains = ["police.example".to_owned()];
        assert!(domain_verified("a@police.example", &domains));
        assert!(domain_verified("a@Cyber.POLICE.example", &domains));
        assert!(!domain_verified("a@notpolice.example", &domains));
        assert!(!domain_verified("a@police.example.evil", &domains));
        assert!(!domain_verified("not an address", &domains));
        assert!(!domain_verified("a@police.example", &[]));
        assert_eq!(email_domain("A@Police.Example"), "police.example");
        assert_eq!(email_domain("nobody"), "");
    }

    #[test]
    fn an_emergency_needs_two_people_and_one_channel_besides_email() {
        let mut request = LegalRequest {
            emergency: true,
            ..LegalRequest::default()
        };
        assert!(!emergency_confirmed(&request));
        request.confirmations = vec![
            confirmation("alice", ConfirmationChannel::Email),
            confirmation("alice", ConfirmationChannel::Callback),
        ];
        assert!(!emergency_confirmed(&request), "one person twice");
        request.confirmations = vec![
            confirmation("alice", ConfirmationChannel::Email),
            confirmation("bob", ConfirmationChannel::Email),
        ];
        assert!(!emergency_confirmed(&request), "e-mail only");
        request.confirmations[1] = confirmation("bob", ConfirmationChannel::Callback);
        assert!(emergency_confirmed(&request));
        request.emergency = false;
        request.confirmations.clear();
        assert!(
            emergency_confirmed(&request),
            "no emergency, nothing to confirm"
        );
    }

    #[test]
    fn a_second_confirmation_is_independent_of_the_first() {
        let mut request = LegalRequest {
            emergency: true,
            ..LegalRequest::default()
        };
        let bob = confirmation("bob", ConfirmationChannel::Callback);
        let verifying = RequestStatus::LegalReview;
        let refused = |request: &LegalRequest, status, c: &Confirmation| {
            second_confirmation(request, status, c).unwrap_err()
        };
        assert!(refused(&request, verifying, &bob).contains("verification first"));
        request.confirmations = vec![confirmation("alice", ConfirmationChannel::Email)];
        assert_eq!(second_confirmation(&request, verifying, &bob), Ok(()));
        let alice = confirmation("alice", ConfirmationChannel::Callback);
        assert!(refused(&request, verifying, &alice).contains("someone else"));
        let by_mail = confirmation("bob", ConfirmationChannel::Email);
        assert!(refused(&request, verifying, &by_mail).contains("e-mail"));
        assert!(refused(&request, RequestStatus::Disclosed, &bob).contains("DISCLOSED"));
        request.emergency = false;
        assert!(refused(&request, verifying, &bob).contains("not an emergency"));
    }

    #[test]
    fn a_review_approves_what_it_says_and_preservation_places_a_hold() {
        let request = two_sellers_profiles();
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let none = (Vec::new(), Vec::new());
        let approved = review(
            &request,
            LegalProcess::Subpoena,
            ReviewDecision::Approve,
            none.clone(),
            now,
        )
        .unwrap();
        assert_eq!(approved.approved_targets, request.targets);
        assert_eq!(approved.hold_until, None);
        let preserved = review(
            &request,
            LegalProcess::Preservation,
            ReviewDecision::Approve,
            none.clone(),
            now,
        )
        .unwrap();
        assert_eq!(preserved.hold_until, Some(now + chrono::Duration::days(90)));
        let narrowed = review(
            &request,
            LegalProcess::EuPreservationOrder,
            ReviewDecision::Narrow,
            (vec![target("S2")], vec![DataCategory::SellerProfile]),
            now,
        )
        .unwrap();
        assert_eq!(narrowed.approved_targets, [target("S2")]);
        assert_eq!(narrowed.hold_until, Some(now + chrono::Duration::days(60)));
        let wider = review(
            &request,
            LegalProcess::Subpoena,
            ReviewDecision::Narrow,
            (vec![target("S9")], Vec::new()),
            now,
        );
        assert!(wider.is_err());
        let rejected = review(
            &request,
            LegalProcess::Preservation,
            ReviewDecision::Reject,
            none,
            now,
        )
        .unwrap();
        assert!(rejected.approved_targets.is_empty());
        assert_eq!(
            rejected.hold_until, None,
            "a rejected preservation request holds nothing"
        );
    }

    #[test]
    fn a_narrowed_approval_is_a_part_of_what_was_asked() {
        let request = two_sellers_profiles();
        assert!(narrowed(&request, &[target("S2")], &[DataCategory::SellerProfile]).is_empty());
        let wider = narrowed(
            &request,
            &[target("S1"), target("S3")],
            &[DataCategory::SellerProfile, DataCategory::SellerNetwork],
        );
        assert_eq!(
            fields(&wider),
            ["approved_targets[1]", "approved_categories[1]"]
        );
    }

    #[test]
    fn targets_categories_and_outcomes_are_checked_by_field() {
        let mut v = FieldViolations::new();
        let checked = targets(
            &mut v,
            "targets",
            &[Target {
                kind: 0,
                id: "S1".into(),
            }],
        );
        assert!(checked.is_empty());
        assert_eq!(fields(&v), ["targets[0]"]);
        let mut none = FieldViolations::new();
        categories(&mut none, "data_categories", &[]);
        assert_eq!(fields(&none), ["data_categories"]);
        let mut missing = FieldViolations::new();
        assert!(outcome(&mut missing, "outcome", None).is_none());
        assert_eq!(fields(&missing), ["outcome"]);
        let mut negative = FieldViolations::new();
        let bad = Outcome {
            arrests: -1,
            ..Outcome::default()
        };
        outcome(&mut negative, "outcome", Some(&bad));
        assert_eq!(fields(&negative), ["outcome.arrests"]);
    }

    #[test]
    fn an_agency_names_each_bad_field() {
        let mut v = FieldViolations::new();
        let bad = Agency {
            name: String::new(),
            country_code: "XX1".into(),
            contacts: vec![Contact::default()],
            ..Agency::default()
        };
        assert!(agency(&mut v, "agency", &bad).is_none());
        let named = fields(&v);
        for field in [
            "agency.name",
            "agency.country_code",
            "agency.contacts[0].name",
        ] {
            assert!(named.contains(&field), "{field} in {named:?}");
        }
    }
}
