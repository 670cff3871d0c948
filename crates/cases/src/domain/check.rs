//! Checks of what callers send that belong to cases: listings, brands, evidence, contacts,
//! assignees. Each names the bad field under its prefix and returns the checked value.

use std::collections::BTreeSet;

use assay_common::ids::BrandId;
use assay_common::{FieldViolations, validate};
use assay_proto::cases::v1::{CaseListing, EvidenceInput, EvidenceKind};
use sha2::{Digest, Sha256};

/// Evidence as checked, about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvidence {
    pub kind: EvidenceKind,
    pub description: String,
    pub media_type: String,
    pub sha256: String,
    pub content: Option<Vec<u8>>,
    pub reference_uri: String,
}

/// Listings on one case (or notice), at most.
pub const MAX_LISTINGS: usize = 500;
/// Stored evidence content, at most.
pub const MAX_EVIDENCE_BYTES: usize = 4 * 1024 * 1024;

/// Checks the listings of a notice or case: 1 to 500, ids valid and not repeated.
pub fn listings(
    violations: &mut FieldViolations,
    field: &str,
    listings: &[CaseListing],
) -> Vec<CaseListing> {
    let listings = validate::bounded(violations, field, listings, 1, MAX_LISTINGS);
    let mut seen = BTreeSet::new();
    let mut checked = Vec::with_capacity(listings.len());
    for (i, listing) in listings.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        let listing_id = violations.check(
            &at("listing_id"),
            validate::external_id(&listing.listing_id),
        );
        let seller_id =
            violations.check(&at("seller_id"), validate::external_id(&listing.seller_id));
        let title = violations.check(
            &at("title"),
            validate::optional_listing_text(&listing.title, 500),
        );
        if let Some(id) = &listing_id
            && !seen.insert(id.clone())
        {
            violations.add(at("listing_id"), "is a duplicate");
        }
        if let (Some(listing_id), Some(seller_id), Some(title)) = (listing_id, seller_id, title) {
            checked.push(CaseListing {
                listing_id,
                seller_id,
                title,
                ..CaseListing::default()
            });
        }
    }
    checked
}

pub fn brand_ids(violations: &mut FieldViolations, field: &str, ids: &[String]) -> Vec<BrandId> {
    validate::each(violations, field, ids, 0..=50, |id| BrandId::parse(id))
}

/// Checks what a seller sends with its counter-notice, as [`evidence`] checks any
/// evidence, and more: content it sends must be a document (PDF, JPEG, PNG, TIFF or WebP)
/// by what the bytes show, and its media type is what they show.
pub fn counter_notice_evidence(
    violations: &mut FieldViolations,
    prefix: &str,
    input: &EvidenceInput,
) -> Option<NewEvidence> {
    let mut new = evidence(violations, prefix, input)?;
    if let Some(content) = &new.content {
        let Some(shown) = assay_common::documents::media_type_of(content) else {
            violations.add(
                format!("{prefix}.content"),
                "is not a PDF, JPEG, PNG, TIFF or WebP file, as its content shows",
            );
            return None;
        };
        new.media_type = shown.to_owned();
    }
    Some(new)
}

/// Checks evidence: stored content (with its hash checked if sent) or a reference with
/// its hash.
pub fn evidence(
    violations: &mut FieldViolations,
    prefix: &str,
    evidence: &EvidenceInput,
) -> Option<NewEvidence> {
    let field = |name: &str| format!("{prefix}.{name}");
    let kind = violations.check(
        &field("kind"),
        validate::required_enum::<EvidenceKind>(evidence.kind),
    );
    let description = violations.check(
        &field("description"),
        validate::text(&evidence.description, 2000),
    );
    let media_type = violations.check(&field("media_type"), media_type(&evidence.media_type));
    let sent_hash = evidence.sha256.trim().to_ascii_lowercase();
    if !sent_hash.is_empty() && (sent_hash.len() != 64 || hex::decode(&sent_hash).is_err()) {
        violations.add(field("sha256"), "must be 64 hex digits");
    }
    let stored = match (
        evidence.content.is_empty(),
        evidence.reference_uri.is_empty(),
    ) {
        (false, true) => {
            if evidence.content.len() > MAX_EVIDENCE_BYTES {
                violations.add(
                    field("content"),
                    format!(
                        "must be at most {MAX_EVIDENCE_BYTES} bytes, got {}: store it elsewhere and send reference_uri",
                        evidence.content.len()
                    ),
                );
                return None;
            }
            let hash = hex::encode(Sha256::digest(&evidence.content));
            if !sent_hash.is_empty() && sent_hash != hash {
                violations.add(
                    field("sha256"),
                    "does not match the content: it may have been corrupted on the way",
                );
            }
            Some((Some(evidence.content.to_vec()), String::new(), hash))
        }
        (true, false) => {
            let uri = violations.check(
                &field("reference_uri"),
                validate::optional_url(&evidence.reference_uri),
            );
            if sent_hash.is_empty() {
                violations.add(
                    field("sha256"),
                    "must be set for a reference: it is how the content is recognised later",
                );
            }
            uri.map(|uri| (None, uri, sent_hash.clone()))
        }
        (false, false) => {
            violations.add(field("content"), "send content or reference_uri, not both");
            None
        }
        (true, true) => {
            violations.add(field("content"), "content or reference_uri must be set");
            None
        }
    };
    let (content, reference_uri, sha256) = stored?;
    Some(NewEvidence {
        kind: kind?,
        description: description?,
        media_type: media_type?,
        sha256,
        content,
        reference_uri,
    })
}

pub fn media_type(value: &str) -> Result<String, String> {
    let value = value.trim().to_ascii_lowercase();
    if value.is_empty() {
        return Ok("application/octet-stream".to_owned());
    }
    let valid = value.len() <= 100
        && value.split_once('/').is_some_and(|(kind, sub)| {
            let token = |s: &str| {
                !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
            };
            token(kind) && token(sub)
        });
    if valid {
        Ok(value)
    } else {
        Err(format!(
            "{value:?} is not a media type such as \"image/png\""
        ))
    }
}

/// The seller's contact on a counter-notice: required.
pub fn contact(
    violations: &mut FieldViolations,
    field: &str,
    contact: Option<&assay_proto::common::v1::Contact>,
) {
    match contact {
        Some(contact) => validate::contact(violations, field, contact),
        None => violations.add(field, "must be set"),
    }
}

/// A staff subject as an assignee: what tokens carry after `staff:`.
pub fn assignee(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok(String::new());
    }
    validate::external_id(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(id: &str, seller: &str) -> CaseListing {
        CaseListing {
            listing_id: id.into(),
            seller_id: seller.into(),
            title: "a bag".into(),
            ..CaseListing::default()
        }
    }

    fn fields(violations: FieldViolations) -> Vec<String> {
        violations
            .iter()
            .map(|(field, _)| field.to_owned())
            .collect()
    }

    #[test]
    fn listings_are_counted_checked_and_not_repeated() {
        let mut v = FieldViolations::new();
        let checked = listings(
            &mut v,
            "case.listings",
            &[listing("L1", "S1"), listing("L1", "S2"), listing("", "S3")],
        );
        assert_eq!(checked.len(), 2);
        assert_eq!(
            fields(v),
            ["case.listings[1].listing_id", "case.listings[2].listing_id"]
        );
        let mut none = FieldViolations::new();
        assert!(listings(&mut none, "case.listings", &[]).is_empty());
        assert_eq!(fields(none), ["case.listings"]);
        let many = vec![listing("L", "S"); MAX_LISTINGS + 1];
        let mut over = FieldViolations::new();
        listings(&mut over, "case.listings", &many);
        assert_eq!(fields(over), ["case.listings"]);
    }

    fn input(content: &[u8], reference_uri: &str, sha256: &str) -> EvidenceInput {
        EvidenceInput {
            kind: EvidenceKind::Screenshot as i32,
            description: "the listing page".into(),
            media_type: String::new(),
            sha256: sha256.into(),
            content: content.to_vec(),
            reference_uri: reference_uri.into(),
        }
    }

    #[test]
    fn stored_evidence_is_hashed_and_a_sent_hash_must_match() {
        let mut v = FieldViolations::new();
        let new = evidence(&mut v, "evidence", &input(b"png", "", "")).unwrap();
        assert_eq!(new.sha256, hex::encode(Sha256::digest(b"png")));
        assert_eq!(new.media_type, "application/octet-stream");
        assert_eq!(new.content.as_deref(), Some(&b"png"[..]));
        assert!(fields(v).is_empty());

        let mut wrong = FieldViolations::new();
        evidence(&mut wrong, "evidence", &input(b"png", "", &"0".repeat(64)));
        assert_eq!(fields(wrong), ["evidence.sha256"]);
        let mut malformed = FieldViolations::new();
        evidence(&mut malformed, "evidence", &input(b"png", "", "xyz"));
        let said: Vec<_> = malformed.iter().map(|(_, d)| d.to_owned()).collect();
        assert_eq!(said[0], "must be 64 hex digits");
    }

    #[test]
    fn referenced_evidence_needs_its_hash_and_content_excludes_a_reference() {
        let hash = "a".repeat(64);
        let mut v = FieldViolations::new();
        let new = evidence(&mut v, "e", &input(b"", "https://example.com/x", &hash)).unwrap();
        assert_eq!((new.content, new.sha256), (None, hash));
        let mut unhashed = FieldViolations::new();
        evidence(&mut unhashed, "e", &input(b"", "https://example.com/x", ""));
        assert_eq!(fields(unhashed), ["e.sha256"]);
        let mut both = FieldViolations::new();
        evidence(&mut both, "e", &input(b"x", "https://example.com/x", ""));
        assert_eq!(fields(both), ["e.content"]);
        let mut neither = FieldViolations::new();
        evidence(&mut neither, "e", &input(b"", "", ""));
        assert_eq!(fields(neither), ["e.content"]);
        let mut big = FieldViolations::new();
        let large = vec![0u8; MAX_EVIDENCE_BYTES + 1];
        assert!(evidence(&mut big, "e", &input(&large, "", "")).is_none());
        assert_eq!(fields(big), ["e.content"]);
    }

    #[test]
    fn a_seller_sends_documents_and_says_what_they_are_by_their_content() {
        let mut ok = FieldViolations::new();
        let pdf =
            counter_notice_evidence(&mut ok, "e", &input(b"%PDF-1.7 invoice", "", "")).unwrap();
        assert!(ok.is_empty());
        assert_eq!(pdf.media_type, "application/pdf");
        let mut bad = FieldViolations::new();
        let page = EvidenceInput {
            media_type: "application/pdf".to_owned(),
            ..input(b"<html><script>alert(1)</script></html>", "", "")
        };
        assert!(counter_notice_evidence(&mut bad, "e", &page).is_none());
        assert_eq!(fields(bad), ["e.content"]);
        let hash = "a".repeat(64);
        let mut referenced = FieldViolations::new();
        let linked = counter_notice_evidence(
            &mut referenced,
            "e",
            &input(b"", "https://example.com/invoice.pdf", &hash),
        );
        assert!(
            linked.is_some() && referenced.is_empty(),
            "a reference is kept as sent"
        );
    }

    #[test]
    fn media_types_are_two_tokens() {
        assert_eq!(media_type(" Image/PNG ").unwrap(), "image/png");
        assert_eq!(media_type("").unwrap(), "application/octet-stream");
        for bad in ["image", "image/", "/png", "image/p ng", "a/b/c"] {
            assert!(media_type(bad).is_err(), "{bad}");
        }
        assert!(media_type(&format!("a/{}", "b".repeat(100))).is_err());
    }

    #[test]
    fn contacts_are_required_and_assignees_are_subjects() {
        let mut missing = FieldViolations::new();
        contact(&mut missing, "counter_notice.contact", None);
        assert_eq!(fields(missing), ["counter_notice.contact"]);
        assert_eq!(assignee("").unwrap(), "");
        assert_eq!(assignee("alice").unwrap(), "alice");
        assert!(assignee("al ice").is_err());
        let mut brands = FieldViolations::new();
        let ids = brand_ids(&mut brands, "case.brand_ids", &["nope".into()]);
        assert!(ids.is_empty());
        assert_eq!(fields(brands), ["case.brand_ids[0]"]);
    }
}
