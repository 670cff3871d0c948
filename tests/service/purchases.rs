//! Test purchases as a case step: the order, what was paid, who examined it and what they
//! concluded, tied to the listing and its seller, its report and photos evidence under
//! custody; enough, when it found a counterfeit, to take down and refer.

use assay::ServiceName;
use assay_tests::proto::cases::v1::*;
use assay_tests::proto::common::v1::{Date, Money};
use assay_tests::proto::registry::v1 as registry;
use assay_tests::{Backend, Sandbox, bad_fields, expect_code, on_both_backends};
use tonic::Code;

use crate::cases::{
    Cases, act, cases, events, listing, member, member_known, notice, review, submit,
};
use crate::fixtures::*;

on_both_backends!(a_test_purchase_is_recorded_with_its_evidence_and_supports_a_referral);

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn purchase(listing_id: &str) -> TestPurchase {
    TestPurchase {
        listing_id: listing_id.to_owned(),
        order_reference: "ORD-2291-77".to_owned(),
        order_date: Some(Date {
            year: 2026,
            month: 3,
            day: 2,
        }),
        price_paid: Some(Money {
            currency_code: "EUR".to_owned(),
            units: 45,
            nanos: 500_000_000,
        }),
        delivered_to: "Via Roma 1, 80100 Napoli, IT".to_owned(),
        authenticator: "M. Rossi, Maison Ardent product integrity".to_owned(),
        method: TestPurchaseMethod::BrandExpert as i32,
        conclusion: TestPurchaseConclusion::Counterfeit as i32,
        findings: "Misaligned logo, 9 stitches an inch against 12, no serial.".to_owned(),
        ..Default::default()
    }
}

fn photo(content: &[u8]) -> EvidenceInput {
    EvidenceInput {
        kind: EvidenceKind::TestPurchase as i32,
        description: "the bag as delivered".to_owned(),
        content: content.to_vec(),
        ..Default::default()
    }
}

async fn record(
    client: &mut Cases,
    case_id: &str,
    purchase: TestPurchase,
    photos: Vec<EvidenceInput>,
    request_id: &str,
) -> Result<TestPurchase, tonic::Status> {
    client
        .record_test_purchase(RecordTestPurchaseRequest {
            case_id: case_id.to_owned(),
            test_purchase: Some(purchase),
            photos,
            request_id: request_id.to_owned(),
        })
        .await
        .map(|r| r.into_inner().test_purchase.unwrap())
}

async fn evidence_of(client: &mut Cases, case_id: &str) -> Vec<Evidence> {
    client
        .list_evidence(ListEvidenceRequest {
            case_id: case_id.to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
}

async fn a_test_purchase_is_recorded_with_its_evidence_and_supports_a_referral(backend: Backend) {
    let sandbox = Sandbox::start_with(backend, ServiceName::ALL, |_| {}).await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800093").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let other = active_member(&mut admin, "Beta SA", registry::MemberKind::BrandOwner).await;
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let case = submit(
        &mut owner_client,
        notice(
            &owner.id,
            &right.id,
            vec![listing("tp-1", "shop-t"), listing("tp-2", "shop-u")],
        ),
    )
    .await
    .unwrap();

    // The rights holder bought and examined the bag itself.
    let request_id = "0b5d7c6e-8a1f-4c3e-9f2d-7e6a5b4c3d21";
    let recorded = record(
        &mut owner_client,
        &case.id,
        purchase("tp-1"),
        vec![photo(PNG)],
        request_id,
    )
    .await
    .unwrap();
    assert_eq!(recorded.seller_id, "shop-t", "tied to the listing's seller");
    assert_eq!(recorded.case_id, case.id);
    assert_eq!(recorded.recorded_by, member(&owner.id));
    assert_eq!(recorded.photo_evidence_ids.len(), 1);
    assert_eq!(recorded.price_paid.as_ref().unwrap().nanos, 500_000_000);
    let retried = record(
        &mut owner_client,
        &case.id,
        purchase("tp-1"),
        vec![photo(PNG)],
        request_id,
    )
    .await
    .unwrap();
    assert_eq!(retried.id, recorded.id, "a retry records nothing more");

    // Its report and photo are evidence under custody; the timeline says what was found.
    let evidence = evidence_of(&mut analyst, &case.id).await;
    let kinds: Vec<(i32, &str)> = evidence
        .iter()
        .map(|e| (e.kind, e.media_type.as_str()))
        .collect();
    assert_eq!(evidence.len(), 2, "{evidence:?}");
    assert!(kinds.contains(&(EvidenceKind::TestPurchase as i32, "image/png")));
    assert!(kinds.contains(&(EvidenceKind::TestPurchase as i32, "application/json")));
    let report = analyst
        .get_evidence(GetEvidenceRequest {
            id: recorded.report_evidence_id.clone(),
            purpose: "checking the test purchase".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let body: serde_json::Value = serde_json::from_slice(&report.content).unwrap();
    assert_eq!(
        (
            body["order_reference"].as_str(),
            body["seller_id"].as_str(),
            body["listing_id"].as_str(),
            body["price_paid"].as_str()
        ),
        (
            Some("ORD-2291-77"),
            Some("shop-t"),
            Some("tp-1"),
            Some("45.50 EUR")
        )
    );
    let custody = analyst
        .list_custody_events(ListCustodyEventsRequest {
            evidence_id: recorded.report_evidence_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(custody.len(), 2, "added, then viewed: {custody:?}");
    let timeline = events(&mut analyst, &case.id).await;
    assert!(
        timeline
            .iter()
            .any(|e| e.kind == CaseEventKind::TestPurchase as i32
                && e.detail.contains("COUNTERFEIT")
                && e.detail.contains("seller shop-t")),
        "{timeline:?}"
    );

    // Bad input is refused by field, and leaves nothing behind.
    let refused = record(
        &mut owner_client,
        &case.id,
        TestPurchase {
            order_date: Some(Date {
                year: 2999,
                month: 1,
                day: 1,
            }),
            method: 0,
            ..purchase("tp-1")
        },
        vec![photo(b"%PDF-1.7 this is no photo")],
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(
        bad_fields(&refused),
        [
            "test_purchase.order_date",
            "test_purchase.method",
            "photos[0].content"
        ]
    );
    let elsewhere = record(
        &mut owner_client,
        &case.id,
        purchase("not-on-case"),
        vec![],
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(bad_fields(&elsewhere), ["test_purchase.listing_id"]);
    assert_eq!(evidence_of(&mut analyst, &case.id).await.len(), 2);

    // Another member's case answers as one that does not exist.
    let mut other_client = cases(&sandbox, &member(&other.id)).await;
    let theirs = record(&mut other_client, &case.id, purchase("tp-1"), vec![], "")
        .await
        .unwrap_err();
    let missing = "cas_00000000000000000000000000000000";
    let unknown = record(&mut other_client, missing, purchase("tp-1"), vec![], "")
        .await
        .unwrap_err();
    assert_eq!(theirs.code(), Code::NotFound);
    assert_eq!(
        theirs.message().replace(&case.id, "?"),
        unknown.message().replace(missing, "?")
    );
    expect_code(
        other_client
            .list_test_purchases(ListTestPurchasesRequest {
                case_id: case.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    let listed = owner_client
        .list_test_purchases(ListTestPurchasesRequest {
            case_id: case.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .test_purchases;
    assert_eq!(listed, std::slice::from_ref(&recorded));

    // A duplicate case's test purchase follows it into the case it merges into.
    let duplicate = crate::cases::staff_case(
        &mut analyst,
        "the same seller again",
        vec![listing("tp-9", "shop-z")],
    )
    .await;
    let inconclusive = record(
        &mut analyst,
        &duplicate.id,
        TestPurchase {
            conclusion: TestPurchaseConclusion::Inconclusive as i32,
            ..purchase("tp-9")
        },
        vec![],
        "",
    )
    .await
    .unwrap();
    analyst
        .merge_cases(MergeCasesRequest {
            target_case_id: case.id.clone(),
            source_case_ids: vec![duplicate.id.clone()],
        })
        .await
        .unwrap();
    let merged = analyst
        .list_test_purchases(ListTestPurchasesRequest {
            case_id: case.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .test_purchases;
    assert_eq!(
        merged.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        [recorded.id.as_str(), inconclusive.id.as_str()]
    );

    // Nothing more is needed: taken down, escalated and referred on the test purchase,
    // whose report and photo go with the referral.
    let mut legal = cases(&sandbox, LEGAL).await;
    review(&mut analyst, &case.id).await;
    act(&mut analyst, &case.id).await;
    escalate(&mut analyst, &case.id).await;
    refer(&mut legal, &case.id).await.unwrap();
    let timeline = events(&mut analyst, &case.id).await;
    assert!(
        timeline
            .iter()
            .any(|e| e.kind == CaseEventKind::Referred as i32
                && e.detail.contains("with 3 evidence")),
        "{timeline:?}"
    );

    // Without it, a notice alone is not referred; a purchase that found the goods genuine
    // stands against a referral until another finds a counterfeit.
    let bare = submit(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("tp-5", "shop-v")]),
    )
    .await
    .unwrap();
    review(&mut analyst, &bare.id).await;
    escalate(&mut analyst, &bare.id).await;
    let refused = refer(&mut legal, &bare.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused
            .message()
            .contains("nothing on the case shows a counterfeit"),
        "{refused:?}"
    );
    let genuine = TestPurchase {
        conclusion: TestPurchaseConclusion::Genuine as i32,
        findings: "Serial number and stitching match the factory's records.".to_owned(),
        ..purchase("tp-5")
    };
    record(&mut owner_client, &bare.id, genuine, vec![photo(PNG)], "")
        .await
        .unwrap();
    let refused = refer(&mut legal, &bare.id).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("found the goods genuine"),
        "{refused:?}"
    );
    let timeline = events(&mut analyst, &bare.id).await;
    assert!(
        !timeline
            .iter()
            .any(|e| e.kind == CaseEventKind::Referred as i32),
        "refused, and nothing referred: {timeline:?}"
    );
    record(&mut owner_client, &bare.id, purchase("tp-5"), vec![], "")
        .await
        .unwrap();
    let referred = refer(&mut legal, &bare.id).await.unwrap();
    assert_eq!(referred.status, CaseStatus::Referred as i32);
}

async fn escalate(analyst: &mut Cases, case_id: &str) {
    analyst
        .escalate_case(EscalateCaseRequest {
            id: case_id.to_owned(),
            etag: String::new(),
            note: "the seller ships from a warehouse".to_owned(),
        })
        .await
        .unwrap();
}

async fn refer(legal: &mut Cases, case_id: &str) -> Result<Case, tonic::Status> {
    legal
        .refer_case(ReferCaseRequest {
            id: case_id.to_owned(),
            etag: String::new(),
            referral: Some(Referral {
                agency_id: "agy_0123456789abcdef0123456789abcdef".to_owned(),
                summary: "Counterfeit bags, confirmed by a test purchase.".to_owned(),
                ..Referral::default()
            }),
        })
        .await
        .map(|r| r.into_inner().r#case.unwrap())
}
