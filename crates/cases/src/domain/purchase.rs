//! Test purchases: an order of a case's listing, examined, recorded with its report and
//! photos as evidence. What a caller sends is checked here; the report is written here.

use assay_common::error::Refusal;
use assay_common::money::Money;
use assay_common::{FieldViolations, time, validate};
use assay_proto::cases::v1::{
    CaseEventKind, CaseStatus, EvidenceInput, EvidenceKind, TestPurchase, TestPurchaseConclusion,
    TestPurchaseMethod,
};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

use super::check::{self, NewEvidence};
use super::moves::Event;
use super::status_word;

/// Photos of one test purchase, at most.
pub const MAX_PHOTOS: usize = 10;
/// Test purchases of one case, at most.
pub const MAX_PER_CASE: u64 = 100;

/// A test purchase as checked, about to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTestPurchase {
    pub listing_id: String,
    pub order_reference: String,
    pub order_date: NaiveDate,
    pub price: Money,
    pub delivered_to: String,
    pub authenticator: String,
    pub method: TestPurchaseMethod,
    pub conclusion: TestPurchaseConclusion,
    pub findings: String,
}

/// Checks a test purchase (`today`: the last day an order may have been placed).
pub fn check(
    violations: &mut FieldViolations,
    prefix: &str,
    input: &TestPurchase,
    today: NaiveDate,
) -> Option<NewTestPurchase> {
    let field = |name: &str| format!("{prefix}.{name}");
    let listing_id = violations.check(
        &field("listing_id"),
        validate::external_id(&input.listing_id),
    );
    let order_reference = violations.check(
        &field("order_reference"),
        validate::text(&input.order_reference, 200),
    );
    let order_date = violations.check(
        &field("order_date"),
        time::required_date(input.order_date.as_ref()).and_then(|day| {
            if day > today {
                Err("must not be in the future".to_owned())
            } else {
                Ok(day)
            }
        }),
    );
    let price = violations.check(
        &field("price_paid"),
        input
            .price_paid
            .as_ref()
            .ok_or_else(|| "must be set".to_owned())
            .and_then(Money::positive_from_proto)
            .and_then(|money| {
                i64::try_from(money.nanos)
                    .map(|_| money)
                    .map_err(|_| "is too large for a test purchase".to_owned())
            }),
    );
    let delivered_to = violations.check(
        &field("delivered_to"),
        validate::text(&input.delivered_to, 500),
    );
    let authenticator = violations.check(
        &field("authenticator"),
        validate::text(&input.authenticator, 200),
    );
    let method = violations.check(
        &field("method"),
        validate::required_enum::<TestPurchaseMethod>(input.method),
    );
    let conclusion = violations.check(
        &field("conclusion"),
        validate::required_enum::<TestPurchaseConclusion>(input.conclusion),
    );
    let findings = violations.check(&field("findings"), validate::text(&input.findings, 10_000));
    Some(NewTestPurchase {
        listing_id: listing_id?,
        order_reference: order_reference?,
        order_date: order_date?,
        price: price?,
        delivered_to: delivered_to?,
        authenticator: authenticator?,
        method: method?,
        conclusion: conclusion?,
        findings: findings?,
    })
}

/// The media type `content` shows, among those a photo may have: the documents' types
/// that are photographs.
pub fn photo_type(content: &[u8]) -> Option<&'static str> {
    assay_common::documents::media_type_of(content)
        .filter(|mime| matches!(*mime, "image/jpeg" | "image/png" | "image/webp"))
}

/// Checks the photos: 0 to 10, each stored content of kind TEST_PURCHASE whose bytes are a
/// JPEG, PNG or WebP image (the declared media type, if any, must agree).
pub fn photos(
    violations: &mut FieldViolations,
    field: &str,
    photos: &[EvidenceInput],
) -> Vec<NewEvidence> {
    let photos = validate::bounded(violations, field, photos, 0, MAX_PHOTOS);
    let mut checked = Vec::with_capacity(photos.len());
    for (i, photo) in photos.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if photo.kind != EvidenceKind::TestPurchase as i32 {
            violations.add(format!("{at}.kind"), "must be EVIDENCE_KIND_TEST_PURCHASE");
            continue;
        }
        if photo.content.is_empty() {
            violations.add(
                format!("{at}.content"),
                "must hold the photo: test purchase photos are stored",
            );
            continue;
        }
        let Some(shown) = photo_type(&photo.content) else {
            violations.add(format!("{at}.content"), "is not a JPEG, PNG or WebP image");
            continue;
        };
        let declared = photo.media_type.trim().to_ascii_lowercase();
        if !declared.is_empty() && declared != shown {
            violations.add(
                format!("{at}.media_type"),
                format!("says {declared:?} but the content is {shown}"),
            );
            continue;
        }
        if let Some(mut new) = check::evidence(violations, &at, photo) {
            new.media_type = shown.to_owned();
            checked.push(new);
        }
    }
    checked
}

/// Test purchases are recorded on cases still open to evidence.
pub fn accepted(case_id: &str, status: CaseStatus) -> Result<(), Refusal> {
    if matches!(status, CaseStatus::Closed | CaseStatus::Merged) {
        return Err(format!(
            "case {case_id} is {}: test purchases go to open cases",
            status_word(status)
        )
        .into());
    }
    Ok(())
}

/// The word for a conclusion, e.g. `COUNTERFEIT`.
pub fn conclusion_word(conclusion: TestPurchaseConclusion) -> &'static str {
    conclusion
        .as_str_name()
        .strip_prefix("TEST_PURCHASE_CONCLUSION_")
        .unwrap_or("UNSPECIFIED")
}

/// The timeline's entry for a recorded test purchase.
pub fn event(id: &str, purchase: &NewTestPurchase, seller_id: &str) -> Event {
    Event::new(
        CaseEventKind::TestPurchase,
        format!(
            "test purchase {id} of listing {} (seller {seller_id}), order {}: {} by {}",
            purchase.listing_id,
            purchase.order_reference,
            conclusion_word(purchase.conclusion),
            purchase.authenticator
        ),
    )
}

/// The report, kept as evidence with the photos: everything recorded, tied to the
/// listing and its seller, in JSON.
pub fn report(
    id: &str,
    case_id: &str,
    seller_id: &str,
    purchase: &NewTestPurchase,
    photo_sha256: &[String],
) -> NewEvidence {
    let body = serde_json::json!({
        "test_purchase_id": id,
        "case_id": case_id,
        "listing_id": purchase.listing_id,
        "seller_id": seller_id,
        "order_reference": purchase.order_reference,
        "order_date": purchase.order_date.to_string(),
        "price_paid": purchase.price.to_string(),
        "delivered_to": purchase.delivered_to,
        "authenticator": purchase.authenticator,
        "method": purchase.method.as_str_name(),
        "conclusion": purchase.conclusion.as_str_name(),
        "findings": purchase.findings,
        "photo_sha256": photo_sha256,
    });
    let content = serde_json::to_vec_pretty(&body).unwrap_or_default();
    NewEvidence {
        kind: EvidenceKind::TestPurchase,
        description: format!(
            "test purchase report: order {}, {}",
            purchase.order_reference,
            conclusion_word(purchase.conclusion)
        )
        .chars()
        .take(2000)
        .collect(),
        media_type: "application/json".to_owned(),
        sha256: hex::encode(Sha256::digest(&content)),
        content: Some(content),
        reference_uri: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_proto::common::v1 as pb;

    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0";

    fn input() -> TestPurchase {
        TestPurchase {
            listing_id: "lst-1".to_owned(),
            order_reference: "ORD-2291".to_owned(),
            order_date: Some(pb::Date {
                year: 2026,
                month: 3,
                day: 2,
            }),
            price_paid: Some(pb::Money {
                currency_code: "EUR".to_owned(),
                units: 45,
                nanos: 0,
            }),
            delivered_to: "Via Roma 1, Napoli, IT".to_owned(),
            authenticator: "M. Rossi, Maison Ardent product integrity".to_owned(),
            method: TestPurchaseMethod::BrandExpert as i32,
            conclusion: TestPurchaseConclusion::Counterfeit as i32,
            findings: "Misaligned logo, wrong stitching count, no serial.".to_owned(),
            ..Default::default()
        }
    }

    fn fields(violations: FieldViolations) -> Vec<String> {
        violations
            .iter()
            .map(|(field, _)| field.to_owned())
            .collect()
    }

    fn photo(content: &[u8], media_type: &str) -> EvidenceInput {
        EvidenceInput {
            kind: EvidenceKind::TestPurchase as i32,
            description: "the item".to_owned(),
            media_type: media_type.to_owned(),
            content: content.to_vec(),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_test_purchase_passes_and_every_missing_part_is_named() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let mut ok = FieldViolations::new();
        let new = check(&mut ok, "test_purchase", &input(), today).unwrap();
        assert!(ok.is_empty());
        assert_eq!(new.price.to_string(), "45.00 EUR");

        let mut empty = FieldViolations::new();
        assert!(check(&mut empty, "tp", &TestPurchase::default(), today).is_none());
        assert_eq!(
            fields(empty),
            [
                "tp.listing_id",
                "tp.order_reference",
                "tp.order_date",
                "tp.price_paid",
                "tp.delivered_to",
                "tp.authenticator",
                "tp.method",
                "tp.conclusion",
                "tp.findings"
            ]
        );
        let mut future = FieldViolations::new();
        check(
            &mut future,
            "tp",
            &input(),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        );
        assert_eq!(fields(future), ["tp.order_date"]);
        let mut free = FieldViolations::new();
        let mut nothing_paid = input();
        nothing_paid.price_paid.as_mut().unwrap().units = 0;
        check(&mut free, "tp", &nothing_paid, today);
        assert_eq!(fields(free), ["tp.price_paid"]);
    }

    #[test]
    fn photos_are_images_by_their_content() {
        let mut ok = FieldViolations::new();
        let checked = photos(
            &mut ok,
            "photos",
            &[photo(PNG, ""), photo(JPEG, "image/jpeg")],
        );
        assert!(ok.is_empty());
        assert_eq!(
            checked
                .iter()
                .map(|p| p.media_type.as_str())
                .collect::<Vec<_>>(),
            ["image/png", "image/jpeg"]
        );

        let mut bad = FieldViolations::new();
        let mut wrong_kind = photo(PNG, "");
        wrong_kind.kind = EvidenceKind::Screenshot as i32;
        let referenced = EvidenceInput {
            reference_uri: "https://example.com/a.png".to_owned(),
            ..photo(b"", "")
        };
        photos(
            &mut bad,
            "photos",
            &[
                photo(b"%PDF-1.7 not an image", "image/png"),
                photo(PNG, "image/jpeg"),
                wrong_kind,
                referenced,
            ],
        );
        assert_eq!(
            fields(bad),
            [
                "photos[0].content",
                "photos[1].media_type",
                "photos[2].kind",
                "photos[3].content"
            ]
        );
        let mut many = FieldViolations::new();
        assert!(photos(&mut many, "photos", &vec![photo(PNG, ""); 11]).is_empty());
        assert_eq!(fields(many), ["photos"]);
    }

    #[test]
    fn the_report_ties_the_purchase_to_the_listing_and_its_seller() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 5).unwrap();
        let new = check(&mut FieldViolations::new(), "tp", &input(), today).unwrap();
        let report = report("tpu_1", "cas_1", "shop-9", &new, &["ab".to_owned()]);
        let body: serde_json::Value =
            serde_json::from_slice(report.content.as_deref().unwrap()).unwrap();
        assert_eq!(body["listing_id"], "lst-1");
        assert_eq!(body["seller_id"], "shop-9");
        assert_eq!(body["conclusion"], "TEST_PURCHASE_CONCLUSION_COUNTERFEIT");
        assert_eq!(body["price_paid"], "45.00 EUR");
        assert_eq!(
            report.sha256,
            hex::encode(Sha256::digest(report.content.as_deref().unwrap()))
        );
        assert_eq!(
            report.description,
            "test purchase report: order ORD-2291, COUNTERFEIT"
        );
        assert!(accepted("cas_1", CaseStatus::ActionTaken).is_ok());
        assert!(accepted("cas_1", CaseStatus::Closed).is_err());
        let event = event("tpu_1", &new, "shop-9");
        assert_eq!(
            event.detail,
            "test purchase tpu_1 of listing lst-1 (seller shop-9), order ORD-2291: COUNTERFEIT by M. Rossi, Maison Ardent product integrity"
        );
    }
}
