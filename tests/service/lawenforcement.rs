//! The law-enforcement service, through its generated client.

use std::time::{Duration, Instant};

use assay::ServiceName;
use assay_tests::proto::cases::v1 as cases;
use assay_tests::proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_tests::proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_tests::proto::lawenforcement::v1::*;
use assay_tests::proto::screening::v1 as screening;
use assay_tests::proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_tests::{Authed, Backend, Sandbox, bad_fields, expect_code, on_both_backends};
use sea_orm::{ConnectionTrait, Database};
use sha2::{Digest, Sha256};
use tonic::Code;

use crate::fixtures::*;

pub(crate) type Le = LawEnforcementServiceClient<Authed>;

const AUDITOR: &str = "staff:audrey:auditor";
const SECOND_LEGAL: &str = "staff:leo:legal";

async fn le(sandbox: &Sandbox, principal: &str) -> Le {
    LawEnforcementServiceClient::new(sandbox.as_principal(Some(principal)).await)
}

/// The first referral `agency` sees, once the relay has delivered one (within 10 s).
pub(crate) async fn first_referral(agency: &mut Le) -> Referral {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = agency
            .list_referrals(ListReferralsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .referrals;
        if let Some(referral) = listed.into_iter().next() {
            return referral;
        }
        assert!(Instant::now() < deadline, "the referral never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn agency_principal(id: &str) -> String {
    format!("agency:{id}")
}

fn seller(id: &str) -> Target {
    Target {
        kind: TargetKind::Seller as i32,
        id: id.to_owned(),
    }
}

fn request(process: LegalProcess, domain: &str, targets: Vec<Target>) -> LegalRequest {
    LegalRequest {
        process: process as i32,
        reference: "OP-BLUE-2026-114".to_owned(),
        requester_name: "Det. Insp. Rowe".to_owned(),
        requester_email: format!("rowe@{domain}"),
        targets,
        data_categories: vec![DataCategory::ScreenedListings as i32],
        ..LegalRequest::default()
    }
}

async fn submit(client: &mut Le, request: LegalRequest) -> Result<LegalRequest, tonic::Status> {
    client
        .submit_request(SubmitRequestRequest {
            legal_request: Some(request),
            request_id: String::new(),
        })
        .await
        .map(|r| r.into_inner().legal_request.unwrap())
}

fn status(request: &LegalRequest) -> RequestStatus {
    RequestStatus::try_from(request.status).unwrap()
}

fn seconds_between(
    from: &Option<prost_types::Timestamp>,
    to: &Option<prost_types::Timestamp>,
) -> i64 {
    to.as_ref().unwrap().seconds - from.as_ref().unwrap().seconds
}

/// Verifies a request and sends it to legal review.
async fn verified(legal: &mut Le, id: &str) -> LegalRequest {
    let started = legal
        .start_verification(StartVerificationRequest {
            id: id.to_owned(),
            etag: String::new(),
        })
        .await
        .expect("start verification")
        .into_inner()
        .legal_request
        .unwrap();
    assert!(started.domain_verified, "{started:?}");
    legal
        .complete_verification(CompleteVerificationRequest {
            id: id.to_owned(),
            etag: String::new(),
            confirmation: Some(Confirmation {
                method: "replied from the requester's address".to_owned(),
                channel: ConfirmationChannel::Email as i32,
                ..Confirmation::default()
            }),
        })
        .await
        .expect("complete verification")
        .into_inner()
        .legal_request
        .unwrap()
}

async fn review(
    legal: &mut Le,
    id: &str,
    decision: ReviewDecision,
    targets: Vec<Target>,
    categories: Vec<DataCategory>,
) -> Result<LegalRequest, tonic::Status> {
    legal
        .review_request(ReviewRequestRequest {
            id: id.to_owned(),
            etag: String::new(),
            decision: decision as i32,
            reasons: "necessary and proportionate".to_owned(),
            approved_targets: targets,
            approved_categories: categories.into_iter().map(|c| c as i32).collect(),
        })
        .await
        .map(|r| r.into_inner().legal_request.unwrap())
}

async fn gather(legal: &mut Le, id: &str) -> Result<LegalRequest, tonic::Status> {
    legal
        .gather_request(GatherRequestRequest {
            id: id.to_owned(),
            etag: String::new(),
        })
        .await
        .map(|r| r.into_inner().legal_request.unwrap())
}

async fn disclose(legal: &mut Le, id: &str) -> Result<LegalRequest, tonic::Status> {
    legal
        .disclose_request(DiscloseRequestRequest {
            id: id.to_owned(),
            etag: String::new(),
        })
        .await
        .map(|r| r.into_inner().legal_request.unwrap())
}

/// A staff case about `seller`'s listing, with a screenshot of its storefront as evidence,
/// reviewed, escalated and referred by legal staff to agency `agency_id`: the case, and its
/// referral's id.
async fn referred_case(
    sandbox: &Sandbox,
    agency_id: &str,
    title: &str,
    seller: &str,
) -> (cases::Case, String) {
    let mut analyst = CasesServiceClient::new(sandbox.as_principal(Some(ANALYST)).await);
    let case = analyst
        .create_case(cases::CreateCaseRequest {
            r#case: Some(cases::Case {
                title: title.to_owned(),
                listings: vec![cases::CaseListing {
                    listing_id: format!("lst-{seller}"),
                    seller_id: seller.to_owned(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    analyst
        .add_evidence(cases::AddEvidenceRequest {
            case_id: case.id.clone(),
            evidence: Some(cases::EvidenceInput {
                kind: cases::EvidenceKind::Screenshot as i32,
                description: format!("{seller}'s storefront"),
                content: format!("a screenshot of {seller}'s storefront").into_bytes(),
                media_type: "image/png".to_owned(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    analyst
        .start_review(cases::StartReviewRequest {
            id: case.id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    analyst
        .escalate_case(cases::EscalateCaseRequest {
            id: case.id.clone(),
            etag: String::new(),
            note: "supplier of many".to_owned(),
        })
        .await
        .unwrap();
    let referred = CasesServiceClient::new(sandbox.as_principal(Some(LEGAL)).await)
        .refer_case(cases::ReferCaseRequest {
            id: case.id.clone(),
            etag: String::new(),
            referral: Some(cases::Referral {
                agency_id: agency_id.to_owned(),
                summary: "Warehouse supplying counterfeit handbags".to_owned(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let referral_id = referred.referral.unwrap().id;
    (case, referral_id)
}

/// Files a request of `process` about `sellers` as the agency (`domain` is its verified
/// e-mail domain), has legal staff verify it and approve it whole: the request approved.
async fn approved(
    as_agency: &mut Le,
    legal: &mut Le,
    process: LegalProcess,
    domain: &str,
    sellers: &[&str],
) -> LegalRequest {
    let filed = submit(
        as_agency,
        request(process, domain, sellers.iter().map(|s| seller(s)).collect()),
    )
    .await
    .unwrap();
    verified(legal, &filed.id).await;
    review(legal, &filed.id, ReviewDecision::Approve, vec![], vec![])
        .await
        .unwrap()
}

/// The audit log's entries about `resource`, oldest first.
async fn audit_entries(sandbox: &Sandbox, resource: &str) -> Vec<AuditEntry> {
    le(sandbox, AUDITOR)
        .await
        .list_audit_entries(ListAuditEntriesRequest {
            resource: resource.to_owned(),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries
}

/// Waits until the audit log records `action` on `resource` with `outcome`.
async fn audited(sandbox: &Sandbox, resource: &str, action: &str, outcome: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let entries = audit_entries(sandbox, resource).await;
        if entries
            .iter()
            .any(|e| e.action == action && e.outcome == outcome)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {action} {outcome} on {resource}: {entries:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Screens a counterfeit listing of `brand` (which screening must already know, see
/// [`screened_brand`]) and returns its hit.
async fn hit(sandbox: &Sandbox, brand: &str, listing_id: &str, seller_id: &str) -> String {
    let mut pipeline = ScreeningServiceClient::new(sandbox.as_principal(Some(MARKETPLACE)).await);
    let answer = pipeline
        .screen_listing(screening::ScreenListingRequest {
            listing: Some(screening::Listing {
                listing_id: listing_id.to_owned(),
                seller_id: seller_id.to_owned(),
                title: format!("{brand} replica bag 1:1"),
                category: "handbags".to_owned(),
                price: Some(eur(30)),
                ..Default::default()
            }),
            min_catalogue_revision: 0,
        })
        .await
        .unwrap()
        .into_inner();
    let verdict = answer.verdict.expect("a verdict");
    assert_eq!(
        verdict.brands.len(),
        1,
        "{listing_id} names {brand}: {verdict:?}"
    );
    assert!(!answer.hit_id.is_empty(), "{listing_id} is stored as a hit");
    answer.hit_id
}

on_both_backends!(
    agencies_see_only_their_own_requests,
    emergencies_need_a_second_confirmation,
    a_narrowed_request_discloses_only_what_was_approved,
    an_expired_package_is_deleted_but_its_manifest_kept,
    the_legal_clocks,
    preserved_sellers_survive_a_purge,
    legal_processes_of_ended_requests_are_purged_unless_held,
    purges_fail_closed_when_holds_cannot_be_checked,
    altering_any_audit_entry_breaks_the_chain_there,
    a_database_writer_cannot_rewrite_the_audit_chain,
    reads_of_holds_and_deadlines_and_refused_downloads_are_audited,
    the_transparency_report_counts_requests_and_outcomes,
    referrals_reach_the_agency_and_outcomes_reach_the_case,
    a_referral_delivered_twice_is_received_once,
    requests_are_validated_and_verified,
    agencies_hear_of_their_own_packages_holds_and_referrals,
);

async fn agencies_see_only_their_own_requests(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::LawEnforcement],
        |_| {},
    )
    .await;
    let mut legal = le(&sandbox, LEGAL).await;
    let a = agency(&mut legal, "National Crime Agency", "GB", "nca.gov.uk").await;
    let b = agency(&mut legal, "Guardia di Finanza", "IT", "gdf.it").await;
    let mut as_a = le(&sandbox, &agency_principal(&a.id)).await;
    let mut as_b = le(&sandbox, &agency_principal(&b.id)).await;
    let mine = submit(
        &mut as_a,
        request(LegalProcess::CourtOrder, "nca.gov.uk", vec![seller("s-1")]),
    )
    .await
    .unwrap();
    assert_eq!(mine.agency_id, a.id);
    let theirs = submit(
        &mut as_b,
        request(LegalProcess::Subpoena, "gdf.it", vec![seller("s-2")]),
    )
    .await
    .unwrap();

    // B's request is, to A, exactly like one that does not exist.
    let unknown = "lrq_0123456789abcdef0123456789abcdef";
    for id in [theirs.id.as_str(), unknown] {
        let status = expect_code(
            as_a.get_request(GetRequestRequest { id: id.to_owned() })
                .await,
            Code::NotFound,
        );
        assert_eq!(status.message(), format!("legal request {id} not found"));
        expect_code(
            as_a.download_package(DownloadPackageRequest { id: id.to_owned() })
                .await,
            Code::NotFound,
        );
        expect_code(
            as_a.extend_non_disclosure(ExtendNonDisclosureRequest {
                id: id.to_owned(),
                reason: "ongoing".to_owned(),
            })
            .await,
            Code::NotFound,
        );
        expect_code(
            as_a.report_request_outcome(ReportRequestOutcomeRequest {
                id: id.to_owned(),
                outcome: Some(Outcome {
                    arrests: 1,
                    ..Outcome::default()
                }),
                request_id: String::new(),
            })
            .await,
            Code::NotFound,
        );
    }
    // Asking for B's requests by filter still lists A's own only.
    let listed = as_a
        .list_requests(ListRequestsRequest {
            agency_id: b.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .legal_requests;
    assert_eq!(
        listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [mine.id.as_str()]
    );
    // A files in its own name only, and cannot work its own request.
    expect_code(
        submit(
            &mut as_a,
            LegalRequest {
                agency_id: b.id.clone(),
                ..request(LegalProcess::Subpoena, "nca.gov.uk", vec![seller("s-1")])
            },
        )
        .await,
        Code::PermissionDenied,
    );
    expect_code(
        as_a.start_verification(StartVerificationRequest {
            id: mine.id.clone(),
            etag: String::new(),
        })
        .await,
        Code::PermissionDenied,
    );
    // Every attempt on B's request is in the audit log, with who tried.
    let entries = le(&sandbox, AUDITOR)
        .await
        .list_audit_entries(ListAuditEntriesRequest {
            resource: theirs.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    for action in [
        "request.read",
        "package.download",
        "request.non_disclosure",
        "request.outcome",
    ] {
        assert!(
            entries.iter().any(|e| e.actor == agency_principal(&a.id)
                && e.action == action
                && e.outcome == "not found"),
            "no refused {action} in {entries:?}"
        );
    }
    // A suspended agency is refused altogether.
    legal
        .suspend_agency(SuspendAgencyRequest {
            id: a.id.clone(),
            etag: String::new(),
            reason: "mailbox compromised".to_owned(),
        })
        .await
        .unwrap();
    expect_code(
        as_a.get_request(GetRequestRequest {
            id: mine.id.clone(),
        })
        .await,
        Code::PermissionDenied,
    );
    // Agencies do not browse the directory.
    expect_code(
        as_b.list_agencies(ListAgenciesRequest::default()).await,
        Code::PermissionDenied,
    );
    as_b.get_agency(GetAgencyRequest { id: b.id.clone() })
        .await
        .unwrap();
    expect_code(
        as_b.get_agency(GetAgencyRequest { id: a.id.clone() }).await,
        Code::NotFound,
    );
}

async fn emergencies_need_a_second_confirmation(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (_, brand) = screened_brand(&sandbox, "Velmora", "018900101").await;
    hit(&sandbox, &brand.name, "lst-1", "s-danger").await;
    let mut legal = le(&sandbox, LEGAL).await;
    let mut second = le(&sandbox, SECOND_LEGAL).await;
    let a = agency(&mut legal, "Bundeskriminalamt", "DE", "bka.bund.de").await;
    let mut as_a = le(&sandbox, &agency_principal(&a.id)).await;
    let filed = submit(
        &mut as_a,
        LegalRequest {
            emergency: true,
            emergency_justification: "Seller threatens a buyer's life; location needed".to_owned(),
            ..request(
                LegalProcess::EmergencyDisclosure,
                "bka.bund.de",
                vec![seller("s-danger")],
            )
        },
    )
    .await
    .unwrap();
    assert_eq!(
        seconds_between(&filed.create_time, &filed.due_time),
        8 * 3600
    );
    verified(&mut legal, &filed.id).await;
    review(
        &mut legal,
        &filed.id,
        ReviewDecision::Approve,
        vec![],
        vec![],
    )
    .await
    .unwrap();

    let status = expect_code(
        gather(&mut legal, &filed.id).await,
        Code::FailedPrecondition,
    );
    assert!(
        status
            .message()
            .contains("second, independent confirmation"),
        "{status:?}"
    );
    // The verifier cannot be the second confirmation ...
    expect_code(
        legal
            .confirm_emergency(ConfirmEmergencyRequest {
                id: filed.id.clone(),
                confirmation: Some(Confirmation {
                    method: "again".to_owned(),
                    channel: ConfirmationChannel::Callback as i32,
                    ..Confirmation::default()
                }),
            })
            .await,
        Code::FailedPrecondition,
    );
    // ... and a second e-mail from the same (perhaps hijacked) mailbox confirms nothing.
    let by_mail = expect_code(
        second
            .confirm_emergency(ConfirmEmergencyRequest {
                id: filed.id.clone(),
                confirmation: Some(Confirmation {
                    method: "the requester replied again".to_owned(),
                    channel: ConfirmationChannel::Email as i32,
                    ..Confirmation::default()
                }),
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(
        by_mail.message().contains("hijacked mailbox"),
        "{by_mail:?}"
    );
    let fields = bad_fields(
        &second
            .confirm_emergency(ConfirmEmergencyRequest {
                id: filed.id.clone(),
                confirmation: Some(Confirmation {
                    method: "called back".to_owned(),
                    ..Confirmation::default()
                }),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(fields, ["confirmation.channel"]);
    let read = legal
        .get_request(GetRequestRequest {
            id: filed.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap();
    assert!(read.package.is_none(), "nothing was gathered");
    expect_code(
        as_a.download_package(DownloadPackageRequest {
            id: filed.id.clone(),
        })
        .await,
        Code::FailedPrecondition,
    );

    second
        .confirm_emergency(ConfirmEmergencyRequest {
            id: filed.id.clone(),
            confirmation: Some(Confirmation {
                method: "called the BKA duty desk back on its published number".to_owned(),
                channel: ConfirmationChannel::Callback as i32,
                ..Confirmation::default()
            }),
        })
        .await
        .unwrap();
    let gathered = gather(&mut legal, &filed.id).await.unwrap();
    assert_eq!(gathered.package.unwrap().items.len(), 1);
    disclose(&mut legal, &filed.id).await.unwrap();
    let package = as_a
        .download_package(DownloadPackageRequest {
            id: filed.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(package.files.len(), 1);
}

async fn a_narrowed_request_discloses_only_what_was_approved(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (_, brand) = screened_brand(&sandbox, "Velmora", "018900201").await;
    hit(&sandbox, &brand.name, "lst-a", "s-approved").await;
    hit(&sandbox, &brand.name, "lst-b", "s-refused").await;
    let mut marketplace = CasesServiceClient::new(
        sandbox
            .as_principal(Some("service:seller-management"))
            .await,
    );
    for seller_id in ["s-approved", "s-refused"] {
        marketplace
            .record_seller_identifiers(cases::RecordSellerIdentifiersRequest {
                seller_id: seller_id.to_owned(),
                identifiers: vec![cases::SellerIdentifier {
                    kind: cases::IdentifierKind::Phone as i32,
                    value: format!(
                        "+44 20 7946 {}",
                        if seller_id == "s-approved" {
                            "0001"
                        } else {
                            "0002"
                        }
                    ),
                }],
            })
            .await
            .unwrap();
    }
    // One case holds listings of both sellers.
    CasesServiceClient::new(sandbox.as_principal(Some(ANALYST)).await)
        .create_case(cases::CreateCaseRequest {
            r#case: Some(cases::Case {
                title: "a ring of two sellers".to_owned(),
                listings: ["s-approved", "s-refused"]
                    .map(|seller_id| cases::CaseListing {
                        listing_id: format!("lst-ring-{seller_id}"),
                        seller_id: seller_id.to_owned(),
                        ..Default::default()
                    })
                    .to_vec(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let mut legal = le(&sandbox, LEGAL).await;
    let a = agency(
        &mut legal,
        "City of London Police",
        "GB",
        "cityoflondon.police.uk",
    )
    .await;
    let mut as_a = le(&sandbox, &agency_principal(&a.id)).await;
    let filed = submit(
        &mut as_a,
        LegalRequest {
            data_categories: vec![
                DataCategory::ScreenedListings as i32,
                DataCategory::SellerIdentifiers as i32,
                DataCategory::Cases as i32,
            ],
            ..request(
                LegalProcess::CourtOrder,
                "cityoflondon.police.uk",
                vec![seller("s-approved"), seller("s-refused")],
            )
        },
    )
    .await
    .unwrap();
    verified(&mut legal, &filed.id).await;
    // Narrowing to something not asked for is refused.
    let fields = bad_fields(
        &review(
            &mut legal,
            &filed.id,
            ReviewDecision::Narrow,
            vec![seller("s-other")],
            vec![DataCategory::SellerNetwork],
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(fields, ["approved_targets[0]", "approved_categories[0]"]);
    let narrowed = review(
        &mut legal,
        &filed.id,
        ReviewDecision::Narrow,
        vec![seller("s-approved")],
        vec![DataCategory::ScreenedListings, DataCategory::Cases],
    )
    .await
    .unwrap();
    assert_eq!(status(&narrowed), RequestStatus::Narrowed);
    // Nothing before release.
    gather(&mut legal, &filed.id).await.unwrap();
    expect_code(
        as_a.download_package(DownloadPackageRequest {
            id: filed.id.clone(),
        })
        .await,
        Code::FailedPrecondition,
    );
    disclose(&mut legal, &filed.id).await.unwrap();

    let download = as_a
        .download_package(DownloadPackageRequest {
            id: filed.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = download
        .files
        .iter()
        .map(|f| f.item.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "seller/s-approved/screened_listings.json",
            "seller/s-approved/cases.json"
        ]
    );
    for file in &download.files {
        let text = String::from_utf8(file.content.clone()).unwrap();
        assert!(
            !text.contains("s-refused") && !text.contains("7946"),
            "the refused seller leaked: {text}"
        );
        assert_eq!(
            file.item.as_ref().unwrap().sha256,
            hex::encode(Sha256::digest(&file.content))
        );
    }
    let text = |i: usize| String::from_utf8(download.files[i].content.clone()).unwrap();
    assert!(text(0).contains("lst-a") && !text(0).contains("lst-b"));
    assert!(
        text(0).contains("\"truncated\": false"),
        "a complete file says so"
    );
    assert!(text(1).contains("lst-ring-s-approved") && text(1).contains("a ring of two sellers"));
    let package = download.package.unwrap();
    let expected: String = download
        .files
        .iter()
        .map(|f| {
            let item = f.item.as_ref().unwrap();
            format!("{}  {}  {}\n", item.sha256, f.content.len(), item.name)
        })
        .collect();
    assert_eq!(package.manifest, expected);
    assert_eq!(
        package.manifest_sha256,
        hex::encode(Sha256::digest(package.manifest.as_bytes()))
    );
    assert!(package.expire_time.is_some());

    // The disclosure and the download are in the audit log.
    let actions: Vec<String> = le(&sandbox, AUDITOR)
        .await
        .list_audit_entries(ListAuditEntriesRequest {
            resource: filed.id.clone(),
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries
        .into_iter()
        .map(|e| e.action)
        .collect();
    for action in [
        "request.review",
        "request.gather",
        "request.disclose",
        "package.download",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} missing from {actions:?}"
        );
    }
}

async fn an_expired_package_is_deleted_but_its_manifest_kept(backend: Backend) {
    let sandbox = Sandbox::start_with(backend, ServiceName::ALL, |config| {
        config.lawenforcement.package_ttl = Duration::from_secs(2);
        config.lawenforcement.deadline_check_interval = Duration::from_millis(100);
    })
    .await;
    let (_, brand) = screened_brand(&sandbox, "Velmora", "018900501").await;
    hit(&sandbox, &brand.name, "lst-e", "s-expiring").await;
    let mut legal = le(&sandbox, LEGAL).await;
    let a = agency(&mut legal, "Garda Síochána", "IE", "garda.ie").await;
    let mut as_a = le(&sandbox, &agency_principal(&a.id)).await;
    let filed = approved(
        &mut as_a,
        &mut legal,
        LegalProcess::CourtOrder,
        "garda.ie",
        &["s-expiring"],
    )
    .await;
    gather(&mut legal, &filed.id).await.unwrap();
    disclose(&mut legal, &filed.id).await.unwrap();
    let download = as_a
        .download_package(DownloadPackageRequest {
            id: filed.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(download.files.len(), 1);
    assert!(!download.files[0].content.is_empty());

    audited(&sandbox, &filed.id, "package.delete", "ok").await;
    let refused = expect_code(
        as_a.download_package(DownloadPackageRequest {
            id: filed.id.clone(),
        })
        .await,
        Code::FailedPrecondition,
    );
    assert!(refused.message().contains("deleted"), "{refused:?}");
    // What went out stays on record; the data itself is gone from the database.
    let kept = legal
        .get_request(GetRequestRequest {
            id: filed.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap()
        .package
        .unwrap();
    assert!(kept.delete_time.is_some());
    assert_eq!(kept.manifest, download.package.unwrap().manifest);
    let db = Database::connect(sandbox.database_url(ServiceName::LawEnforcement))
        .await
        .unwrap();
    let rows = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT COUNT(*) AS n FROM package_items WHERE request_id = '{}'",
                filed.id
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(rows, 0, "the files were deleted");
}

async fn the_legal_clocks(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::LawEnforcement],
        |config| config.lawenforcement.deadline_check_interval = Duration::from_millis(100),
    )
    .await;
    let mut legal = le(&sandbox, LEGAL).await;
    let a = agency(&mut legal, "Europol liaison", "NL", "europol.europa.eu").await;
    let mut as_a = le(&sandbox, &agency_principal(&a.id)).await;
    let day = 24 * 3600;
    for (process, emergency, due_in) in [
        (LegalProcess::EuProductionOrder, false, 10 * day),
        (LegalProcess::EuProductionOrder, true, 8 * 3600),
        (LegalProcess::Subpoena, false, 14 * day),
        (LegalProcess::SearchWarrant, false, 10 * day),
        (LegalProcess::Mlat, false, 30 * day),
        (LegalProcess::Preservation, false, day),
    ] {
        let filed = submit(
            &mut as_a,
            LegalRequest {
                emergency,
                emergency_justification: if emergency {
                    "imminent".to_owned()
                } else {
                    String::new()
                },
                ..request(process, "europol.europa.eu", vec![seller("s-1")])
            },
        )
        .await
        .unwrap();
        assert_eq!(
            seconds_between(&filed.create_time, &filed.due_time),
            due_in,
            "{process:?} emergency={emergency}"
        );
    }

    // Preservation: 90 days, one 90-day extension.
    for (process, period, extension) in [
        (LegalProcess::Preservation, 90 * day, 90 * day),
        (LegalProcess::EuPreservationOrder, 60 * day, 30 * day),
    ] {
        let filed = submit(
            &mut as_a,
            request(process, "europol.europa.eu", vec![seller("s-keep")]),
        )
        .await
        .unwrap();
        verified(&mut legal, &filed.id).await;
        let approved = review(
            &mut legal,
            &filed.id,
            ReviewDecision::Approve,
            vec![],
            vec![],
        )
        .await
        .unwrap();
        assert_eq!(
            approved.urgency,
            Urgency::OnTrack as i32,
            "the hold answers it"
        );
        let holds = legal
            .list_holds(ListHoldsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .holds;
        let hold = holds
            .into_iter()
            .find(|h| h.request_id == filed.id)
            .unwrap();
        assert_eq!(
            seconds_between(&hold.create_time, &hold.expire_time),
            period
        );
        let extended = legal
            .extend_hold(ExtendHoldRequest {
                id: hold.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .hold
            .unwrap();
        assert_eq!(
            seconds_between(&hold.create_time, &extended.expire_time),
            period + extension
        );
        expect_code(
            legal
                .extend_hold(ExtendHoldRequest {
                    id: hold.id.clone(),
                })
                .await,
            Code::FailedPrecondition,
        );
        // Preservation discloses nothing: it closes once the hold is placed.
        expect_code(
            gather(&mut legal, &filed.id).await,
            Code::FailedPrecondition,
        );
        legal
            .close_request(CloseRequestRequest {
                id: filed.id.clone(),
                etag: String::new(),
                note: String::new(),
            })
            .await
            .unwrap();
    }

    // Non-disclosure in 90-day steps, up to 360.
    let fields = bad_fields(
        &submit(
            &mut as_a,
            LegalRequest {
                non_disclosure_days: 30,
                ..request(
                    LegalProcess::CourtOrder,
                    "europol.europa.eu",
                    vec![seller("s-1")],
                )
            },
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(fields, ["legal_request.non_disclosure_days"]);
    let quiet = submit(
        &mut as_a,
        LegalRequest {
            non_disclosure_days: 270,
            ..request(
                LegalProcess::CourtOrder,
                "europol.europa.eu",
                vec![seller("s-1")],
            )
        },
    )
    .await
    .unwrap();
    assert_eq!(
        seconds_between(&quiet.create_time, &quiet.non_disclosure_until),
        270 * day
    );
    let extended = as_a
        .extend_non_disclosure(ExtendNonDisclosureRequest {
            id: quiet.id.clone(),
            reason: "the investigation continues".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap();
    assert_eq!(
        seconds_between(&quiet.create_time, &extended.non_disclosure_until),
        360 * day
    );
    expect_code(
        as_a.extend_non_disclosure(ExtendNonDisclosureRequest {
            id: quiet.id.clone(),
            reason: "more".to_owned(),
        })
        .await,
        Code::FailedPrecondition,
    );

    // A deadline about to pass is escalated; one that passed is overdue.
    let soon = submit(
        &mut as_a,
        LegalRequest {
            respond_by: Some(prost_types::Timestamp {
                seconds: (std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    + 2) as i64,
                nanos: 0,
            }),
            ..request(
                LegalProcess::Subpoena,
                "europol.europa.eu",
                vec![seller("s-2")],
            )
        },
    )
    .await
    .unwrap();
    assert_eq!(
        soon.urgency,
        Urgency::DueSoon as i32,
        "two seconds left: {soon:?}"
    );
    let deadlines = legal
        .list_deadlines(ListDeadlinesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(deadlines.legal_requests[0].id, soon.id);
    // The watcher raises it once as due soon, and once more when the deadline passed.
    audited(&sandbox, &soon.id, "request.deadline", "due soon").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    audited(&sandbox, &soon.id, "request.deadline", "overdue").await;
    let raised: Vec<String> = audit_entries(&sandbox, &soon.id)
        .await
        .into_iter()
        .filter(|e| e.action == "request.deadline")
        .map(|e| e.outcome)
        .collect();
    assert_eq!(raised, ["due soon", "overdue"], "each raised once");
    let overdue = legal
        .list_requests(ListRequestsRequest {
            overdue_only: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .legal_requests;
    assert_eq!(
        overdue.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [soon.id.as_str()]
    );
    assert_eq!(overdue[0].urgency, Urgency::Overdue as i32);
}

async fn preserved_sellers_survive_a_purge(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (_, brand) = screened_brand(&sandbox, "Velmora", "018900301").await;
    let kept_hit = hit(&sandbox, &brand.name, "lst-kept", "s-preserved").await;
    let gone_hit = hit(&sandbox, &brand.name, "lst-gone", "s-free").await;
    // A closed case for each seller.
    let mut analyst = CasesServiceClient::new(sandbox.as_principal(Some(ANALYST)).await);
    let mut case_ids = Vec::new();
    for (listing, seller_id) in [("c-kept", "s-preserved"), ("c-gone", "s-free")] {
        let case = analyst
            .create_case(cases::CreateCaseRequest {
                r#case: Some(cases::Case {
                    title: format!("case of {seller_id}"),
                    listings: vec![cases::CaseListing {
                        listing_id: listing.to_owned(),
                        seller_id: seller_id.to_owned(),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .r#case
            .unwrap();
        analyst
            .reject_case(cases::RejectCaseRequest {
                id: case.id.clone(),
                etag: String::new(),
                note: "nothing to act on".to_owned(),
            })
            .await
            .unwrap();
        analyst
            .close_case(cases::CloseCaseRequest {
                id: case.id.clone(),
                etag: String::new(),
                note: "done".to_owned(),
            })
            .await
            .unwrap();
        case_ids.push(case.id);
    }

    let mut legal = le(&sandbox, LEGAL).await;
    let a = agency(&mut legal, "HSI", "US", "ice.dhs.gov").await;
    let mut as_a = le(&sandbox, &agency_principal(&a.id)).await;
    approved(
        &mut as_a,
        &mut legal,
        LegalProcess::Preservation,
        "ice.dhs.gov",
        &["s-preserved"],
    )
    .await;

    let now = prost_types::Timestamp {
        seconds: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
        nanos: 0,
    };
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let admin = sandbox.as_principal(Some(ADMIN)).await;
    let purged = ScreeningServiceClient::new(admin.clone())
        .purge_hits(screening::PurgeHitsRequest {
            screened_before: Some(prost_types::Timestamp {
                seconds: now.seconds + 1,
                nanos: 0,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((purged.purged, purged.held), (1, 1));
    let mut pipeline = ScreeningServiceClient::new(admin.clone());
    pipeline
        .get_hit(screening::GetHitRequest { id: kept_hit })
        .await
        .expect("the preserved seller's hit survives");
    expect_code(
        pipeline
            .get_hit(screening::GetHitRequest { id: gone_hit })
            .await,
        Code::NotFound,
    );

    let purged = CasesServiceClient::new(admin.clone())
        .purge_cases(cases::PurgeCasesRequest {
            closed_before: Some(prost_types::Timestamp {
                seconds: now.seconds + 1,
                nanos: 0,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((purged.purged, purged.held), (1, 1));
    analyst
        .get_case(cases::GetCaseRequest {
            id: case_ids[0].clone(),
        })
        .await
        .expect("the preserved seller's case survives");
    expect_code(
        analyst
            .get_case(cases::GetCaseRequest {
                id: case_ids[1].clone(),
            })
            .await,
        Code::NotFound,
    );
    // Purging is for admins, up to a time that has passed.
    expect_code(
        analyst
            .purge_cases(cases::PurgeCasesRequest {
                closed_before: Some(now),
            })
            .await,
        Code::PermissionDenied,
    );
    let missing = ScreeningServiceClient::new(admin.clone())
        .purge_hits(screening::PurgeHitsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&missing), ["screened_before"]);
    let ahead = CasesServiceClient::new(admin.clone())
        .purge_cases(cases::PurgeCasesRequest {
            closed_before: Some(prost_types::Timestamp {
                seconds: now.seconds + 3600,
                nanos: 0,
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&ahead), ["closed_before"]);
}

/// The registry and law enforcement, with one active agency writing from `domain`: the
/// sandbox, legal staff, and the agency.
async fn with_agency(
    backend: Backend,
    name: &str,
    country: &str,
    domain: &str,
) -> (Sandbox, Le, Le) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::LawEnforcement],
        |_| {},
    )
    .await;
    let mut legal = le(&sandbox, LEGAL).await;
    let a = agency(&mut legal, name, country, domain).await;
    let as_a = le(&sandbox, &agency_principal(&a.id)).await;
    (sandbox, legal, as_a)
}

async fn legal_processes_of_ended_requests_are_purged_unless_held(backend: Backend) {
    let (sandbox, mut legal, mut as_a) =
        with_agency(backend, "Guardia di Finanza", "IT", "gdf.gov.it").await;
    let attach = async |client: &mut Le, request: &LegalRequest| {
        client
            .attach_document(AttachDocumentRequest {
                parent: request.id.clone(),
                name: "signed-process.pdf".to_owned(),
                content: crate::documents::PDF.to_vec(),
                sha256: String::new(),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .document
            .unwrap()
    };
    let read = async |client: &mut Le, id: &str| {
        client
            .get_document(GetDocumentRequest { id: id.to_owned() })
            .await
            .map(|r| r.into_inner().content)
    };
    let court_order =
        |target: &str| request(LegalProcess::CourtOrder, "gdf.gov.it", vec![seller(target)]);

    // Rejected: its process goes once the retention is over.
    let refused = submit(&mut as_a, court_order("s-free")).await.unwrap();
    let refused_doc = attach(&mut as_a, &refused).await;
    verified(&mut legal, &refused.id).await;
    review(
        &mut legal,
        &refused.id,
        ReviewDecision::Reject,
        vec![],
        vec![],
    )
    .await
    .unwrap();
    // Preserved and closed: the hold it placed keeps its process.
    let preserved = approved(
        &mut as_a,
        &mut legal,
        LegalProcess::Preservation,
        "gdf.gov.it",
        &["s-held"],
    )
    .await;
    let preserved_doc = attach(&mut legal, &preserved).await;
    legal
        .close_request(CloseRequestRequest {
            id: preserved.id.clone(),
            etag: String::new(),
            note: String::new(),
        })
        .await
        .unwrap();
    // Still open: kept.
    let open = submit(&mut as_a, court_order("s-open")).await.unwrap();
    let open_doc = attach(&mut as_a, &open).await;

    tokio::time::sleep(Duration::from_millis(20)).await;
    let now = crate::documents::timestamp(std::time::SystemTime::now());
    let mut admin = le(&sandbox, ADMIN).await;
    let purge = PurgeDocumentsRequest {
        ended_before: Some(now),
    };
    let done = admin.purge_documents(purge).await.unwrap().into_inner();
    assert_eq!((done.purged, done.held), (1, 1));

    let gone = read(&mut as_a, &refused_doc.id).await.unwrap_err();
    assert_eq!(gone.code(), Code::FailedPrecondition, "{gone:?}");
    let described = legal
        .list_documents(ListDocumentsRequest {
            parent: refused.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .documents;
    assert!(described[0].purge_time.is_some(), "{described:?}");
    assert_eq!(described[0].sha256, refused_doc.sha256);
    for kept in [&preserved_doc, &open_doc] {
        assert_eq!(
            read(&mut legal, &kept.id).await.unwrap(),
            crate::documents::PDF
        );
    }
    audited(&sandbox, &refused.id, "document.purge", "ok").await;

    // Once is enough; the held one stays held; nobody but admins purges.
    let again = admin.purge_documents(purge).await.unwrap().into_inner();
    assert_eq!((again.purged, again.held), (0, 1));
    for caller in [&mut legal, &mut as_a] {
        expect_code(caller.purge_documents(purge).await, Code::PermissionDenied);
    }
    let missing = admin
        .purge_documents(PurgeDocumentsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&missing), ["ended_before"]);
}

/// Without a law-enforcement service to ask about holds, nothing is purged at all.
async fn purges_fail_closed_when_holds_cannot_be_checked(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Screening],
        |_| {},
    )
    .await;
    let (_, brand) = screened_brand(&sandbox, "Velmora", "018900601").await;
    let kept = hit(&sandbox, &brand.name, "lst-1", "s-1").await;
    // Cut-offs are whole seconds: let the hit be older than the next one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let admin = sandbox.as_principal(Some(ADMIN)).await;
    let mut screening = ScreeningServiceClient::new(admin);
    let refused = expect_code(
        screening
            .purge_hits(screening::PurgeHitsRequest {
                screened_before: Some(prost_types::Timestamp {
                    seconds: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap()
                        .as_secs() as i64,
                    nanos: 0,
                }),
            })
            .await,
        Code::Unavailable,
    );
    assert!(
        refused.message().contains("nothing is purged"),
        "{refused:?}"
    );
    screening
        .get_hit(screening::GetHitRequest { id: kept })
        .await
        .expect("the hit is still there");
}

/// Registry and law enforcement only, an active agency, and a court order it filed.
struct Filed {
    sandbox: Sandbox,
    legal: Le,
    as_agency: Le,
    request: LegalRequest,
}

async fn one_request_filed(backend: Backend) -> Filed {
    let (sandbox, legal, mut as_a) =
        with_agency(backend, "Policía Nacional", "ES", "policia.es").await;
    let filed = submit(
        &mut as_a,
        request(LegalProcess::CourtOrder, "policia.es", vec![seller("s-1")]),
    )
    .await
    .unwrap();
    Filed {
        sandbox,
        legal,
        as_agency: as_a,
        request: filed,
    }
}

async fn altering_any_audit_entry_breaks_the_chain_there(backend: Backend) {
    let Filed {
        sandbox,
        mut legal,
        as_agency: mut as_a,
        request: filed,
    } = one_request_filed(backend).await;
    as_a.get_request(GetRequestRequest {
        id: filed.id.clone(),
    })
    .await
    .unwrap();
    verified(&mut legal, &filed.id).await;
    let mut auditor = le(&sandbox, AUDITOR).await;
    let clean = auditor
        .verify_audit_log(VerifyAuditLogRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(clean.valid, "{clean:?}");
    let entries = clean.entries_checked;
    assert!(
        entries >= 6,
        "agency create, activate, submit, read, verify x2: {entries}"
    );
    expect_code(
        legal.verify_audit_log(VerifyAuditLogRequest {}).await,
        Code::PermissionDenied,
    );

    let db = Database::connect(sandbox.database_url(ServiceName::LawEnforcement))
        .await
        .unwrap();
    for sequence in 1..=entries {
        for (column, value) in [("detail", "'nothing to see'"), ("actor", "'staff:nobody'")] {
            let original: String = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    format!("SELECT {column} FROM audit_entries WHERE sequence = {sequence}"),
                ))
                .await
                .unwrap()
                .unwrap()
                .try_get("", column)
                .unwrap();
            db.execute_unprepared(&format!(
                "UPDATE audit_entries SET {column} = {value} WHERE sequence = {sequence}"
            ))
            .await
            .unwrap();
            let broken = auditor
                .verify_audit_log(VerifyAuditLogRequest {})
                .await
                .unwrap()
                .into_inner();
            assert!(!broken.valid);
            assert_eq!(
                broken.first_broken_sequence, sequence,
                "{column} of {sequence}"
            );
            assert_eq!(broken.entries_checked, sequence - 1);
            db.execute_unprepared(&format!(
                "UPDATE audit_entries SET {column} = '{}' WHERE sequence = {sequence}",
                original.replace('\'', "''")
            ))
            .await
            .unwrap();
        }
    }
    assert!(
        auditor
            .verify_audit_log(VerifyAuditLogRequest {})
            .await
            .unwrap()
            .into_inner()
            .valid
    );
    // Removing the newest entry is noticed too.
    db.execute_unprepared(&format!(
        "DELETE FROM audit_entries WHERE sequence = {entries}"
    ))
    .await
    .unwrap();
    let truncated = auditor
        .verify_audit_log(VerifyAuditLogRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(!truncated.valid);
    assert_eq!(truncated.first_broken_sequence, entries);
}

/// What someone who can write the database (but not read the audit key) would do: change an
/// entry, then recompute every later hash and the head so the chain links up again.
async fn rewrite_chain_from(
    db: &sea_orm::DatabaseConnection,
    sequence: i64,
    hash: impl Fn(&[String]) -> String,
) {
    let backend = db.get_database_backend();
    db.execute_unprepared(&format!(
        "UPDATE audit_entries SET detail = 'nothing to see' WHERE sequence = {sequence}"
    ))
    .await
    .unwrap();
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            backend,
            "SELECT sequence, time, actor, action, resource, outcome, detail, hash \
             FROM audit_entries ORDER BY sequence"
                .to_owned(),
        ))
        .await
        .unwrap();
    let mut previous = String::new();
    for row in rows {
        let seq: i64 = row.try_get("", "sequence").unwrap();
        let time: chrono::DateTime<chrono::Utc> = row.try_get("", "time").unwrap();
        let text = |c: &str| row.try_get::<String>("", c).unwrap();
        if seq < sequence {
            previous = text("hash");
            continue;
        }
        let fields = vec![
            previous.clone(),
            seq.to_string(),
            time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            text("actor"),
            text("action"),
            text("resource"),
            text("outcome"),
            text("detail"),
        ];
        let new = hash(&fields);
        db.execute_unprepared(&format!(
            "UPDATE audit_entries SET previous_hash = '{previous}', hash = '{new}' WHERE sequence = {seq}"
        ))
        .await
        .unwrap();
        previous = new;
    }
    db.execute_unprepared(&format!("UPDATE audit_head SET hash = '{previous}'"))
        .await
        .unwrap();
}

async fn a_database_writer_cannot_rewrite_the_audit_chain(backend: Backend) {
    let Filed { sandbox, .. } = one_request_filed(backend).await;
    let auditor = le(&sandbox, AUDITOR).await;
    let verify = || {
        let mut auditor = auditor.clone();
        async move {
            auditor
                .verify_audit_log(VerifyAuditLogRequest {})
                .await
                .unwrap()
                .into_inner()
        }
    };
    assert!(verify().await.valid);
    let db = Database::connect(sandbox.database_url(ServiceName::LawEnforcement))
        .await
        .unwrap();
    let length_prefixed = |fields: &[String]| -> Vec<u8> {
        let mut bytes = Vec::new();
        for field in fields {
            bytes.extend((field.len() as u64).to_be_bytes());
            bytes.extend(field.as_bytes());
        }
        bytes
    };
    // With the plain SHA-256 of the fields, as an unkeyed chain would be computed.
    rewrite_chain_from(&db, 2, |fields| {
        hex::encode(Sha256::digest(length_prefixed(fields)))
    })
    .await;
    let broken = verify().await;
    assert!(!broken.valid, "{broken:?}");
    assert_eq!(broken.first_broken_sequence, 2);
    // With an HMAC under a key of the writer's own.
    rewrite_chain_from(&db, 2, |fields| {
        use hmac::Mac;
        let mut mac =
            hmac::Hmac::<Sha256>::new_from_slice(b"a key the writer made up....").unwrap();
        mac.update(&length_prefixed(fields));
        hex::encode(mac.finalize().into_bytes())
    })
    .await;
    let broken = verify().await;
    assert!(!broken.valid, "{broken:?}");
    assert_eq!(broken.first_broken_sequence, 2);
}

async fn reads_of_holds_and_deadlines_and_refused_downloads_are_audited(backend: Backend) {
    let Filed {
        sandbox,
        mut legal,
        as_agency: mut as_a,
        request: filed,
    } = one_request_filed(backend).await;
    legal
        .list_deadlines(ListDeadlinesRequest::default())
        .await
        .unwrap();
    legal
        .list_agencies(ListAgenciesRequest::default())
        .await
        .unwrap();
    legal.list_holds(ListHoldsRequest::default()).await.unwrap();
    legal
        .check_holds(CheckHoldsRequest {
            seller_ids: vec!["s-1".to_owned()],
            ..Default::default()
        })
        .await
        .unwrap();
    expect_code(
        as_a.download_package(DownloadPackageRequest {
            id: filed.id.clone(),
        })
        .await,
        Code::FailedPrecondition,
    );
    let entries = le(&sandbox, AUDITOR)
        .await
        .list_audit_entries(ListAuditEntriesRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    for (actor, action) in [
        ("staff:lena", "deadlines.list"),
        ("staff:lena", "holds.list"),
        ("staff:lena", "holds.check"),
        ("staff:lena", "agencies.list"),
    ] {
        assert!(
            entries
                .iter()
                .any(|e| e.actor == actor && e.action == action),
            "{action} not audited: {entries:#?}"
        );
    }
    assert!(
        entries.iter().any(|e| e.action == "package.download"
            && e.resource == filed.id
            && e.outcome.starts_with("refused")),
        "the refused download is audited: {entries:#?}"
    );
}

async fn the_transparency_report_counts_requests_and_outcomes(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (_, brand) = screened_brand(&sandbox, "Velmora", "018900401").await;
    hit(&sandbox, &brand.name, "lst-r", "s-9").await;
    let mut legal = le(&sandbox, LEGAL).await;
    let gb = agency(&mut legal, "National Crime Agency", "GB", "nca.gov.uk").await;
    let de = agency(&mut legal, "Bundeskriminalamt", "DE", "bka.bund.de").await;
    let mut as_gb = le(&sandbox, &agency_principal(&gb.id)).await;
    let mut as_de = le(&sandbox, &agency_principal(&de.id)).await;

    let produced = submit(
        &mut as_gb,
        request(
            LegalProcess::CourtOrder,
            "nca.gov.uk",
            vec![seller("s-9"), seller("s-10")],
        ),
    )
    .await
    .unwrap();
    verified(&mut legal, &produced.id).await;
    review(
        &mut legal,
        &produced.id,
        ReviewDecision::Approve,
        vec![],
        vec![],
    )
    .await
    .unwrap();
    gather(&mut legal, &produced.id).await.unwrap();
    disclose(&mut legal, &produced.id).await.unwrap();
    as_gb
        .report_request_outcome(ReportRequestOutcomeRequest {
            id: produced.id.clone(),
            outcome: Some(Outcome {
                arrests: 3,
                seized_units: 500,
                ..Outcome::default()
            }),
            request_id: "outcome-1".to_owned(),
        })
        .await
        .unwrap();
    // Absurd figures are refused by field, so no sum can wrap into a negative report.
    for (outcome, field) in [
        (
            Outcome {
                seized_units: i64::MAX,
                ..Outcome::default()
            },
            "outcome.seized_units",
        ),
        (
            Outcome {
                arrests: i32::MAX,
                ..Outcome::default()
            },
            "outcome.arrests",
        ),
        (
            Outcome {
                convictions: -1,
                arrests: 1,
                ..Outcome::default()
            },
            "outcome.convictions",
        ),
    ] {
        let status = expect_code(
            as_gb
                .report_request_outcome(ReportRequestOutcomeRequest {
                    id: produced.id.clone(),
                    outcome: Some(outcome),
                    request_id: String::new(),
                })
                .await,
            Code::InvalidArgument,
        );
        assert_eq!(bad_fields(&status), [field]);
    }
    let refused = submit(
        &mut as_de,
        request(LegalProcess::Subpoena, "bka.bund.de", vec![seller("s-9")]),
    )
    .await
    .unwrap();
    review(
        &mut legal,
        &refused.id,
        ReviewDecision::Reject,
        vec![],
        vec![],
    )
    .await
    .unwrap();
    submit(
        &mut as_de,
        LegalRequest {
            emergency: true,
            emergency_justification: "kidnapping".to_owned(),
            ..request(
                LegalProcess::EmergencyDisclosure,
                "bka.bund.de",
                vec![seller("s-11")],
            )
        },
    )
    .await
    .unwrap();

    let report = legal
        .get_transparency_report(GetTransparencyReportRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.requests, 3);
    assert_eq!(report.accounts_specified, 3, "s-9, s-10, s-11");
    assert_eq!((report.emergency_requests, report.rejected), (1, 1));
    assert_eq!((report.arrests, report.seized_units), (3, 500));
    // Apart, as the programme publishes them: these came on requests.
    let from_requests = report.from_requests.unwrap();
    assert_eq!(
        (from_requests.arrests, from_requests.seized_units),
        (3, 500)
    );
    assert_eq!(report.from_referrals, Some(OutcomeTotals::default()));
    assert_eq!(
        report.share_with_data_produced, 0.5,
        "one of the two decided"
    );
    let by_country: Vec<(&str, i64, i64)> = report
        .by_country
        .iter()
        .map(|c| (c.key.as_str(), c.requests, c.with_data_produced))
        .collect();
    assert_eq!(by_country, [("DE", 2, 0), ("GB", 1, 1)]);
    let by_process: Vec<(&str, i64)> = report
        .by_process
        .iter()
        .map(|p| (p.key.as_str(), p.requests))
        .collect();
    assert_eq!(
        by_process,
        [
            ("COURT_ORDER", 1),
            ("EMERGENCY_DISCLOSURE", 1),
            ("SUBPOENA", 1)
        ]
    );
    // A period before any of it counts nothing.
    let empty = legal
        .get_transparency_report(GetTransparencyReportRequest {
            period: Some(assay_tests::proto::common::v1::TimeRange {
                start_time: Some(prost_types::Timestamp {
                    seconds: 1_500_000_000,
                    nanos: 0,
                }),
                end_time: Some(prost_types::Timestamp {
                    seconds: 1_600_000_000,
                    nanos: 0,
                }),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((empty.requests, empty.arrests), (0, 0));
}

/// The outbox delivers at least once, and a lease that ran out can have two relays deliver
/// the same referral at the same moment: it is still received once.
async fn a_referral_delivered_twice_is_received_once(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::LawEnforcement],
        |_| {},
    )
    .await;
    let mut legal = le(&sandbox, LEGAL).await;
    let a = agency(&mut legal, "Guardia di Finanza", "IT", "gdf.it").await;
    let delivery = ReceiveReferralRequest {
        r#case: Some(cases::Case {
            id: "cas_0123456789abcdef0123456789abcdef".to_owned(),
            title: "Warehouse in Naples".to_owned(),
            referral: Some(cases::Referral {
                id: "ref_0123456789abcdef0123456789abcdef".to_owned(),
                agency_id: a.id.clone(),
                summary: "Counterfeit handbags".to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        }),
    };
    let mut first = le(&sandbox, "service:cases").await;
    let mut second = le(&sandbox, "service:cases").await;
    let (one, two) = tokio::join!(
        first.receive_referral(delivery.clone()),
        second.receive_referral(delivery.clone())
    );
    let created: Vec<bool> = [one, two]
        .into_iter()
        .map(|answer| {
            answer
                .expect("both deliveries succeed")
                .into_inner()
                .created
        })
        .collect();
    assert_eq!(created.iter().filter(|c| **c).count(), 1, "{created:?}");
    let again = first.receive_referral(delivery).await.unwrap().into_inner();
    assert!(!again.created);
    let listed = le(&sandbox, &agency_principal(&a.id))
        .await
        .list_referrals(ListReferralsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .referrals;
    assert_eq!(listed.len(), 1);
}

async fn referrals_reach_the_agency_and_outcomes_reach_the_case(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut legal = le(&sandbox, LEGAL).await;
    let a = agency(&mut legal, "Guardia di Finanza", "IT", "gdf.it").await;
    let mut analyst = CasesServiceClient::new(sandbox.as_principal(Some(ANALYST)).await);
    let (case, referral_id) =
        referred_case(&sandbox, &a.id, "Warehouse in Naples", "s-naples").await;

    // The relay delivers it; the agency sees it, and no other agency does.
    let mut as_a = le(&sandbox, &agency_principal(&a.id)).await;
    let received = first_referral(&mut as_a).await;
    assert_eq!(received.id, referral_id);
    assert_eq!(received.r#case.as_ref().unwrap().id, case.id);
    let b = agency(&mut legal, "Other", "FR", "interieur.gouv.fr").await;
    let mut as_b = le(&sandbox, &agency_principal(&b.id)).await;
    expect_code(
        as_b.get_referral(GetReferralRequest {
            id: referral_id.clone(),
        })
        .await,
        Code::NotFound,
    );
    assert!(
        as_b.list_referrals(ListReferralsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .referrals
            .is_empty()
    );

    as_a.acknowledge_referral(AcknowledgeReferralRequest {
        id: referral_id.clone(),
    })
    .await
    .unwrap();
    expect_code(
        as_a.acknowledge_referral(AcknowledgeReferralRequest {
            id: referral_id.clone(),
        })
        .await,
        Code::FailedPrecondition,
    );
    as_a.report_referral_outcome(ReportReferralOutcomeRequest {
        id: referral_id.clone(),
        outcome: Some(Outcome {
            arrests: 2,
            seized_units: 3000,
            convictions: 1,
            note: "raid of 21 November".to_owned(),
            ..Outcome::default()
        }),
        request_id: String::new(),
    })
    .await
    .unwrap();

    // Case management hears of it, and marked the referral delivered.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = analyst
            .get_case(cases::GetCaseRequest {
                id: case.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .r#case
            .unwrap();
        let referral = now.referral.unwrap();
        if let Some(outcome) = referral.outcomes.first() {
            assert_eq!(
                (outcome.arrests, outcome.seized_units, outcome.convictions),
                (2, 3000, 1)
            );
            assert_eq!(referral.state, cases::ReferralState::Delivered as i32);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the outcome never reached the case"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let report = legal
        .get_transparency_report(GetTransparencyReportRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (report.referrals, report.arrests, report.convictions),
        (1, 2, 1)
    );
    let from_referrals = report.from_referrals.unwrap();
    assert_eq!((from_referrals.arrests, from_referrals.convictions), (2, 1));
    assert_eq!(report.from_requests.map(|t| t.arrests), Some(0));
}

async fn requests_are_validated_and_verified(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::LawEnforcement],
        |_| {},
    )
    .await;
    let mut legal = le(&sandbox, LEGAL).await;
    let fields = bad_fields(
        &legal
            .create_agency(CreateAgencyRequest {
                agency: Some(Agency {
                    name: String::new(),
                    country_code: "XX".to_owned(),
                    level: 0,
                    verified_email_domains: vec!["not a domain".to_owned()],
                    ..Agency::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(
        fields,
        [
            "agency.name",
            "agency.country_code",
            "agency.level",
            "agency.verified_email_domains[0]"
        ]
    );
    let a = agency(&mut legal, "Polizia di Stato", "IT", "poliziadistato.it").await;
    let mut as_a = le(&sandbox, &agency_principal(&a.id)).await;
    let fields = bad_fields(
        &submit(
            &mut as_a,
            LegalRequest {
                process: 0,
                reference: String::new(),
                requester_name: "x".to_owned(),
                requester_email: "nobody".to_owned(),
                targets: vec![
                    Target {
                        kind: 0,
                        id: "s-1".to_owned(),
                    },
                    seller("bad id!"),
                ],
                data_categories: vec![],
                emergency: true,
                ..LegalRequest::default()
            },
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(
        fields,
        [
            "legal_request.process",
            "legal_request.reference",
            "legal_request.requester_email",
            "legal_request.targets[0]",
            "legal_request.targets[1]",
            "legal_request.data_categories",
            "legal_request.emergency_justification",
        ]
    );
    // A request from an address outside the agency's verified domains cannot be verified:
    // the classic forged "police" mailbox.
    let forged = submit(
        &mut as_a,
        LegalRequest {
            requester_email: "rowe@poliziadistato-it.com".to_owned(),
            ..request(
                LegalProcess::Subpoena,
                "poliziadistato.it",
                vec![seller("s-1")],
            )
        },
    )
    .await
    .unwrap();
    assert!(!forged.domain_verified);
    let started = legal
        .start_verification(StartVerificationRequest {
            id: forged.id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap();
    assert_eq!(status(&started), RequestStatus::Verifying);
    let refused = expect_code(
        legal
            .complete_verification(CompleteVerificationRequest {
                id: forged.id.clone(),
                etag: String::new(),
                confirmation: Some(Confirmation {
                    method: "looks fine".to_owned(),
                    channel: ConfirmationChannel::Email as i32,
                    ..Confirmation::default()
                }),
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(
        refused.message().contains("poliziadistato-it.com"),
        "{refused:?}"
    );
    // It can only be rejected, and a rejected request discloses nothing.
    expect_code(
        review(
            &mut legal,
            &forged.id,
            ReviewDecision::Approve,
            vec![],
            vec![],
        )
        .await,
        Code::FailedPrecondition,
    );
    let rejected = review(
        &mut legal,
        &forged.id,
        ReviewDecision::Reject,
        vec![],
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(status(&rejected), RequestStatus::Rejected);
    expect_code(
        gather(&mut legal, &forged.id).await,
        Code::FailedPrecondition,
    );
    // A subdomain of a verified domain is the agency's.
    let sub = submit(
        &mut as_a,
        LegalRequest {
            requester_email: "rowe@cnaipic.poliziadistato.it".to_owned(),
            ..request(
                LegalProcess::Subpoena,
                "poliziadistato.it",
                vec![seller("s-1")],
            )
        },
    )
    .await
    .unwrap();
    assert!(sub.domain_verified);
    // Staff may not file in no agency's name; services not at all.
    let fields = bad_fields(
        &submit(
            &mut legal,
            request(
                LegalProcess::Subpoena,
                "poliziadistato.it",
                vec![seller("s-1")],
            ),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(fields, ["legal_request.agency_id"]);
    expect_code(
        submit(
            &mut le(&sandbox, "service:marketplace").await,
            request(
                LegalProcess::Subpoena,
                "poliziadistato.it",
                vec![seller("s-1")],
            ),
        )
        .await,
        Code::PermissionDenied,
    );
}

async fn agencies_hear_of_their_own_packages_holds_and_referrals(backend: Backend) {
    let sandbox = Sandbox::start_with(backend, ServiceName::ALL, |config| {
        let notifications = &mut config.lawenforcement.notifications;
        notifications.allow_http = true;
        notifications.allow_private_targets = true;
        // Every hold placed here ends within the warning.
        config.lawenforcement.hold_warning = Duration::from_secs(400 * 86_400);
        config.lawenforcement.deadline_check_interval = Duration::from_millis(100);
    })
    .await;
    let (_, brand) = screened_brand(&sandbox, "Velmora", "018900901").await;
    hit(&sandbox, &brand.name, "lst-w", "s-watched").await;
    let mut legal = le(&sandbox, LEGAL).await;
    let a = agency(&mut legal, "Garda Síochána", "IE", "garda.ie").await;
    let b = agency(&mut legal, "Politie", "NL", "politie.nl").await;
    let hooks = crate::cases::endpoint("/nobody-refused").await;
    let mut as_a = le(&sandbox, &agency_principal(&a.id)).await;
    let mut as_b = le(&sandbox, &agency_principal(&b.id)).await;
    let everything = vec![
        EventType::PackageReady as i32,
        EventType::HoldExpiring as i32,
        EventType::ReferralReceived as i32,
    ];
    let mut secrets = Vec::new();
    for (client, path) in [(&mut as_a, "/a"), (&mut as_b, "/b")] {
        let made = client
            .create_subscription(CreateSubscriptionRequest {
                subscription: Some(Subscription {
                    url: format!("{}{path}", hooks.url),
                    event_types: everything.clone(),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner()
            .subscription
            .unwrap();
        secrets.push(made.signing_secret);
    }

    // A court order, disclosed: the package is ready.
    let order = approved(
        &mut as_a,
        &mut legal,
        LegalProcess::CourtOrder,
        "garda.ie",
        &["s-watched"],
    )
    .await;
    gather(&mut legal, &order.id).await.unwrap();
    disclose(&mut legal, &order.id).await.unwrap();
    let ready = hooks.wait("/a", "request.package_ready", 1).await;
    assert!(crate::cases::signed_by(&ready[0], &secrets[0]));
    let body: serde_json::Value = serde_json::from_str(&ready[0].body).unwrap();
    assert_eq!(body["data"]["request_id"], order.id.as_str());
    assert_eq!(body["data"]["files"], 1);

    // A preservation request places a hold; its agency is warned of its end, once.
    let preserve = approved(
        &mut as_a,
        &mut legal,
        LegalProcess::Preservation,
        "garda.ie",
        &["s-watched"],
    )
    .await;
    let expiring = hooks.wait("/a", "hold.expiring", 1).await;
    let body: serde_json::Value = serde_json::from_str(&expiring[0].body).unwrap();
    assert_eq!(body["data"]["request_id"], preserve.id.as_str());
    let hold_id = body["data"]["hold_id"].as_str().unwrap().to_owned();
    audited(&sandbox, &hold_id, "hold.expiring", "warned").await;
    // Extended, it has a new end: the agency is warned of that one too.
    legal
        .extend_hold(ExtendHoldRequest {
            id: hold_id.clone(),
        })
        .await
        .unwrap();
    let expiring = hooks.wait("/a", "hold.expiring", 2).await;
    let later: serde_json::Value = serde_json::from_str(&expiring[1].body).unwrap();
    assert_eq!(later["data"]["extended"], true);
    assert!(later["data"]["expire_time"].as_str() > body["data"]["expire_time"].as_str());

    // A case referred to the agency.
    let (case, _) = referred_case(&sandbox, &a.id, "Warehouse in Cork", "s-cork").await;
    let referred = hooks.wait("/a", "referral.received", 1).await;
    let body: serde_json::Value = serde_json::from_str(&referred[0].body).unwrap();
    assert_eq!(body["data"]["case_id"], case.id.as_str());

    // Each once (the hold once per end), and the other agency hears of none of it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let told: Vec<String> = hooks.at("/a").into_iter().map(|r| r.event).collect();
    assert_eq!(told.len(), 4, "{told:?}");
    assert!(hooks.at("/b").is_empty(), "{:?}", hooks.at("/b"));
    let attempts = as_a
        .list_deliveries(ListDeliveriesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(attempts.len(), 4);
    assert!(attempts.iter().all(|d| d.delivered));
    // Another agency's notification answers like one that does not exist.
    let theirs = expect_code(
        as_b.redeliver_notification(RedeliverNotificationRequest {
            notification_id: attempts[0].notification_id.clone(),
        })
        .await,
        Code::NotFound,
    );
    let missing = expect_code(
        as_b.redeliver_notification(RedeliverNotificationRequest {
            notification_id: "ntf_0123456789abcdef0123456789abcdef".to_owned(),
        })
        .await,
        Code::NotFound,
    );
    assert_eq!(
        theirs.message().replace(&attempts[0].notification_id, "X"),
        missing
            .message()
            .replace("ntf_0123456789abcdef0123456789abcdef", "X")
    );
    let subscribed = as_a
        .list_subscriptions(ListSubscriptionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .subscriptions;
    audited(&sandbox, &subscribed[0].id, "subscription.create", "ok").await;
    assert!(subscribed[0].signing_secret.is_empty(), "shown once only");
}
