//! Case management, through its generated client.

use std::time::{Duration, Instant};

use assay::ServiceName;
use assay_tests::proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_tests::proto::cases::v1::*;
use assay_tests::proto::common::v1::{Contact, Money, TimeRange};
use assay_tests::proto::registry::v1 as registry;
use assay_tests::proto::screening::v1 as screening;
use assay_tests::{
    Authed, Backend, Sandbox, answers_like_missing, bad_fields, expect_code, in_language,
    on_both_backends,
};
use sha2::{Digest, Sha256};
use tonic::Code;

use crate::fixtures::*;

pub(crate) type Cases = CasesServiceClient<Authed>;

/// The marketplace's seller portal, through which sellers appeal.
pub(crate) const SELLER_PORTAL: &str = "service:seller-portal";
/// The marketplace's seller management, which reports sellers' identifiers.
const SELLER_MANAGEMENT: &str = "service:seller-management";
/// A marketplace service that the policy names nowhere in cases.
const MARKETPLACE: &str = "service:marketplace";

pub(crate) async fn cases(sandbox: &Sandbox, principal: &str) -> Cases {
    CasesServiceClient::new(sandbox.as_principal(Some(principal)).await)
}

pub(crate) fn member(id: &str) -> String {
    format!("member:{id}")
}

pub(crate) fn listing(id: &str, seller: &str) -> CaseListing {
    CaseListing {
        listing_id: id.to_owned(),
        seller_id: seller.to_owned(),
        title: format!("listing {id}"),
        ..CaseListing::default()
    }
}

pub(crate) fn notice(member_id: &str, right_id: &str, listings: Vec<CaseListing>) -> Notice {
    Notice {
        member_id: member_id.to_owned(),
        ip_right_id: right_id.to_owned(),
        listings,
        statement: "These bags copy our registered mark and quilting.".to_owned(),
        good_faith: true,
        reason_codes: vec![],
    }
}

pub(crate) async fn submit(client: &mut Cases, notice: Notice) -> Result<Case, tonic::Status> {
    client
        .submit_notice(SubmitNoticeRequest {
            notice: Some(notice),
            request_id: String::new(),
        })
        .await
        .map(|r| r.into_inner().r#case.expect("case"))
}

pub(crate) fn status_of(case: &Case) -> CaseStatus {
    CaseStatus::try_from(case.status).unwrap()
}

async fn get(client: &mut Cases, id: &str) -> Case {
    client
        .get_case(GetCaseRequest { id: id.to_owned() })
        .await
        .expect("get case")
        .into_inner()
        .r#case
        .expect("case")
}

pub(crate) async fn review(client: &mut Cases, id: &str) -> Case {
    client
        .start_review(StartReviewRequest {
            id: id.to_owned(),
            etag: String::new(),
        })
        .await
        .expect("start review")
        .into_inner()
        .r#case
        .unwrap()
}

pub(crate) async fn act(client: &mut Cases, id: &str) -> Case {
    client
        .take_action(TakeActionRequest {
            id: id.to_owned(),
            etag: String::new(),
            note: "confirmed by test purchase".to_owned(),
            reason_codes: vec![],
        })
        .await
        .expect("take action")
        .into_inner()
        .r#case
        .unwrap()
}

pub(crate) async fn staff_case(
    client: &mut Cases,
    title: &str,
    listings: Vec<CaseListing>,
) -> Case {
    client
        .create_case(CreateCaseRequest {
            r#case: Some(Case {
                title: title.to_owned(),
                summary: "found while browsing".to_owned(),
                listings,
                ..Case::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create case")
        .into_inner()
        .r#case
        .unwrap()
}

pub(crate) async fn events(client: &mut Cases, id: &str) -> Vec<CaseEvent> {
    client
        .list_case_events(ListCaseEventsRequest {
            case_id: id.to_owned(),
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .expect("events")
        .into_inner()
        .events
}

fn evidence(content: &[u8], description: &str) -> EvidenceInput {
    EvidenceInput {
        kind: EvidenceKind::TestPurchase as i32,
        description: description.to_owned(),
        content: content.to_vec(),
        media_type: "image/jpeg".to_owned(),
        reference_uri: String::new(),
        sha256: String::new(),
    }
}

async fn list_ids(client: &mut Cases, request: ListCasesRequest) -> Vec<String> {
    let mut ids: Vec<String> = client
        .list_cases(request)
        .await
        .expect("list cases")
        .into_inner()
        .cases
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

/// Waits until case management's copy of the catalogue lets `member` read cases of
/// `brand_id` (it follows the registry asynchronously).
pub(crate) async fn member_known(sandbox: &Sandbox, member_id: &str, brand_id: &str) {
    let mut client = cases(sandbox, &member(member_id)).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while client
        .list_cases(ListCasesRequest {
            brand_id: brand_id.to_owned(),
            ..Default::default()
        })
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "cases never learnt of {brand_id}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

on_both_backends!(
    notices_must_cite_a_verified_right_of_the_member,
    a_notice_lives_from_submission_to_closing,
    a_counter_notice_can_reinstate_the_listings,
    notices_and_takedowns_are_counted_by_their_grounds,
    illegal_moves_and_stale_etags_are_refused,
    bulk_updates_are_all_or_nothing,
    duplicate_cases_merge_with_their_evidence,
    evidence_keeps_its_chain_of_custody,
    screening_alerts_become_cases_and_decisions_go_back,
    alerts_delivered_together_are_answered_one_by_one,
    members_see_only_cases_about_their_brands,
    strikes_make_repeat_infringers_and_clusters_find_them,
    what_cases_learn_of_sellers_reaches_screening,
    cases_past_their_deadline_are_escalated_once,
    strikes_bring_enforcement_actions_up_and_down,
    linked_storefronts_are_suspended_with_the_seller_where_configured,
    decisions_at_the_same_moment_count_every_strike,
    strikes_that_expire_step_the_seller_back,
    near_duplicate_product_images_link_sellers,
    screened_images_link_sellers_and_analysts_confirm_or_break_links,
    subscribers_hear_of_their_own_records_in_signed_webhooks,
    webhooks_never_reach_into_the_services_own_network,
    subscribers_can_be_told_by_email,
    notifications_to_a_dead_endpoint_are_given_up_and_can_be_sent_again,
    members_hear_the_outcome_of_their_referred_cases,
    overdue_cases_are_listed,
    bad_requests_name_their_fields,
);

async fn notices_must_cite_a_verified_right_of_the_member(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800001").await;
    let (other, _, other_right) = protected_right(&sandbox, "Corvane", "018800002").await;
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;

    // Another member's right.
    let status = expect_code(
        submit(
            &mut owner_client,
            notice(&owner.id, &other_right.id, vec![listing("l-1", "s-1")]),
        )
        .await,
        Code::PermissionDenied,
    );
    assert!(
        status.message().contains("neither owns nor acts for"),
        "{status:?}"
    );

    // A right still pending verification.
    let mut admin = registry(&sandbox, ADMIN).await;
    let pending = create_right(&mut admin, trademark_msg(&brand.id, "018800003")).await;
    let status = expect_code(
        submit(
            &mut owner_client,
            notice(&owner.id, &pending.id, vec![listing("l-1", "s-1")]),
        )
        .await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("PENDING"), "{status:?}");

    // A right that does not exist.
    expect_code(
        submit(
            &mut owner_client,
            notice(
                &owner.id,
                "ipr_0123456789abcdef0123456789abcdef",
                vec![listing("l-1", "s-1")],
            ),
        )
        .await,
        Code::NotFound,
    );

    // Filing in another member's name: that member reads as one that does not exist.
    expect_code(
        submit(
            &mut owner_client,
            notice(&other.id, &other_right.id, vec![listing("l-1", "s-1")]),
        )
        .await,
        Code::NotFound,
    );

    // Nothing was stored by the refusals.
    let mut analyst = cases(&sandbox, ANALYST).await;
    assert!(
        list_ids(&mut analyst, ListCasesRequest::default())
            .await
            .is_empty()
    );

    // The owner's own verified right works; a retry with the same request id answers the
    // same case.
    let request = SubmitNoticeRequest {
        notice: Some(notice(&owner.id, &right.id, vec![listing("l-1", "s-1")])),
        request_id: "0b8e4c1e-7d53-4b5e-9a7d-6f1e7a2c9d10".to_owned(),
    };
    let first = owner_client
        .submit_notice(request.clone())
        .await
        .unwrap()
        .into_inner();
    let again = owner_client
        .submit_notice(request)
        .await
        .unwrap()
        .into_inner();
    let case = first.r#case.unwrap();
    assert_eq!(case.id, again.r#case.unwrap().id);
    assert_eq!(status_of(&case), CaseStatus::Open);
    assert_eq!(
        CaseSource::try_from(case.source).unwrap(),
        CaseSource::Notice
    );
    assert_eq!(case.brand_ids, [brand.id.as_str()]);
    assert_eq!(case.member_id, owner.id);
    assert!(case.due_time.is_some() && !case.overdue && !case.fast_track);
    assert_eq!(
        list_ids(&mut analyst, ListCasesRequest::default())
            .await
            .len(),
        1
    );
}

async fn a_notice_lives_from_submission_to_closing(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (owner, _, right) = protected_right(&sandbox, "Maison Ardent", "018800011").await;
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let mut legal = cases(&sandbox, LEGAL).await;

    let case = submit(
        &mut owner_client,
        notice(
            &owner.id,
            &right.id,
            vec![
                listing("l-1", "shady-1"),
                listing("l-2", "shady-1"),
                listing("l-3", "shady-2"),
            ],
        ),
    )
    .await
    .unwrap();
    let id = case.id.clone();

    let reviewed = review(&mut analyst, &id).await;
    assert_eq!(status_of(&reviewed), CaseStatus::UnderReview);
    assert_eq!(
        reviewed.assignee, "ann",
        "the reviewer takes an unassigned case"
    );
    let acted = act(&mut analyst, &id).await;
    assert_eq!(status_of(&acted), CaseStatus::ActionTaken);
    assert!(acted.listings.iter().all(|l| l.takedown_time.is_some()));
    assert!(acted.due_time.is_none(), "nothing is owed once decided");
    let seller = analyst
        .get_seller(GetSellerRequest {
            seller_id: "shady-1".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .seller
        .unwrap();
    assert_eq!(
        (seller.active_strikes, seller.case_count),
        (1, 1),
        "one strike per case"
    );

    let escalated = analyst
        .escalate_case(EscalateCaseRequest {
            id: id.clone(),
            etag: acted.etag.clone(),
            note: "the same seller ships from a known warehouse".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(status_of(&escalated), CaseStatus::Investigating);
    assert!(
        escalated.due_time.is_some(),
        "an investigation has a deadline"
    );

    let photo = b"jpeg bytes of the seized bag";
    analyst
        .add_evidence(AddEvidenceRequest {
            case_id: id.clone(),
            evidence: Some(evidence(photo, "test purchase of l-1")),
            request_id: String::new(),
        })
        .await
        .unwrap();

    // Referral is for legal staff.
    let referral = Referral {
        agency_id: "agy_0123456789abcdef0123456789abcdef".to_owned(),
        summary: "Warehouse in Guangzhou supplying three sellers.".to_owned(),
        ..Referral::default()
    };
    expect_code(
        analyst
            .refer_case(ReferCaseRequest {
                id: id.clone(),
                etag: String::new(),
                referral: Some(referral.clone()),
            })
            .await,
        Code::PermissionDenied,
    );
    let referred = legal
        .refer_case(ReferCaseRequest {
            id: id.clone(),
            etag: String::new(),
            referral: Some(referral),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(status_of(&referred), CaseStatus::Referred);
    let sent = referred.referral.unwrap();
    assert_eq!(sent.package.len(), 1);
    assert_eq!(sent.package[0].sha256, hex::encode(Sha256::digest(photo)));
    assert_eq!(sent.package_sha256.len(), 64);
    assert_eq!(
        ReferralState::try_from(sent.state).unwrap(),
        ReferralState::Pending
    );

    let outcome = ReferralOutcome {
        arrests: 4,
        seized_units: 1200,
        seized_value: Some(Money {
            currency_code: "EUR".to_owned(),
            units: 180_000,
            nanos: 0,
        }),
        convictions: 0,
        note: "raid on 2026-11-20".to_owned(),
        ..ReferralOutcome::default()
    };
    let recorded = legal
        .record_referral_outcome(RecordReferralOutcomeRequest {
            id: id.clone(),
            outcome: Some(outcome.clone()),
            request_id: "a1b2c3d4".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    // A retried report is recorded once.
    legal
        .record_referral_outcome(RecordReferralOutcomeRequest {
            id: id.clone(),
            outcome: Some(outcome),
            request_id: "a1b2c3d4".to_owned(),
        })
        .await
        .unwrap();
    assert_eq!(recorded.referral.unwrap().outcomes.len(), 1);
    // Figures past any sane bound are refused by field: the enforcement figures never wrap.
    let status = expect_code(
        legal
            .record_referral_outcome(RecordReferralOutcomeRequest {
                id: id.clone(),
                outcome: Some(ReferralOutcome {
                    seized_units: i64::MAX,
                    ..ReferralOutcome::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["outcome.seized_units"]);

    let closed = analyst
        .close_case(CloseCaseRequest {
            id: id.clone(),
            etag: String::new(),
            note: "referral concluded".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(status_of(&closed), CaseStatus::Closed);
    assert_eq!(
        get(&mut analyst, &id)
            .await
            .referral
            .unwrap()
            .outcomes
            .len(),
        1
    );

    let timeline = events(&mut analyst, &id).await;
    let changes: Vec<(CaseStatus, CaseStatus)> = timeline
        .iter()
        .filter(|e| e.kind == CaseEventKind::StatusChanged as i32)
        .map(|e| {
            (
                CaseStatus::try_from(e.from_status).unwrap(),
                CaseStatus::try_from(e.to_status).unwrap(),
            )
        })
        .collect();
    use CaseStatus::*;
    assert_eq!(
        changes,
        [
            (Open, UnderReview),
            (UnderReview, ActionTaken),
            (ActionTaken, Investigating),
            (Investigating, Referred),
            (Referred, Closed),
        ]
    );
    assert!(
        timeline
            .windows(2)
            .all(|w| w[1].sequence == w[0].sequence + 1)
    );
    assert!(
        timeline
            .iter()
            .any(|e| e.kind == CaseEventKind::Referred as i32)
    );
    assert_eq!(timeline[0].actor, member(&owner.id));

    let figures = analyst
        .get_enforcement_figures(GetEnforcementFiguresRequest { period: None })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            figures.notices,
            figures.listings_taken_down,
            figures.referrals,
            figures.arrests
        ),
        (1, 3, 1, 4)
    );
    assert_eq!(figures.seized_units, 1200);
    assert_eq!(figures.seized_value[0].units, 180_000);
    assert_eq!(figures.sellers_struck, 2);
    // A period before it all shows nothing.
    let empty = analyst
        .get_enforcement_figures(GetEnforcementFiguresRequest {
            period: Some(TimeRange {
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
    assert_eq!((empty.notices, empty.arrests), (0, 0));

    // The programme's report for the period around it keeps each source apart.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let around = |from: i64, until: i64| TimeRange {
        start_time: Some(prost_types::Timestamp {
            seconds: from,
            nanos: 0,
        }),
        end_time: Some(prost_types::Timestamp {
            seconds: until,
            nanos: 0,
        }),
    };
    let report = analyst
        .get_programme_report(GetProgrammeReportRequest {
            period: Some(around(now - 86_400, now + 86_400)),
        })
        .await
        .unwrap()
        .into_inner();
    let alliance = report.alliance.unwrap();
    assert_eq!(
        (alliance.active_members, alliance.protected_brands),
        (1, 1),
        "the alliance today, the period not being over"
    );
    let notices = report.notices.unwrap();
    assert_eq!(
        (
            notices.filed,
            notices.upheld,
            notices.pending,
            notices.listings_taken_down
        ),
        (1, 1, 0, 3)
    );
    let proactive = report.proactive.unwrap();
    assert_eq!(
        (proactive.screening_alerts, proactive.listings_taken_down),
        (0, 0),
        "nothing was removed but on the notice"
    );
    let referrals = report.referrals.unwrap();
    assert_eq!(
        (
            referrals.referred,
            referrals.arrests,
            referrals.seized_units
        ),
        (1, 4, 1200)
    );
    assert_eq!(referrals.seized_value[0].units, 180_000);
    let requests = report.requests.expect("law enforcement runs beside cases");
    assert_eq!((requests.received, requests.arrests), (0, 0));
    // A year long past: nothing but the alliance, which had no members then.
    let past = analyst
        .get_programme_report(GetProgrammeReportRequest {
            period: Some(around(1_500_000_000, 1_531_536_000)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(past.alliance.unwrap().active_members, 0);
    assert_eq!(past.notices.unwrap().filed, 0);
    assert_eq!(past.referrals.unwrap().arrests, 0);
    // Only staff read it.
    expect_code(
        owner_client
            .get_programme_report(GetProgrammeReportRequest {
                period: Some(around(now - 86_400, now + 86_400)),
            })
            .await,
        Code::PermissionDenied,
    );

    let accuracy = owner_client
        .get_notice_accuracy(GetNoticeAccuracyRequest {
            member_id: owner.id.clone(),
            create_time: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (accuracy.notices, accuracy.upheld, accuracy.accuracy),
        (1, 1, 1.0)
    );
    assert!(!accuracy.trusted, "one notice is not a track record");
}

async fn notices_and_takedowns_are_counted_by_their_grounds(backend: Backend) {
    use ReasonCode::*;
    let sandbox = Sandbox::start(backend).await;
    let (owner, _, right) = protected_right(&sandbox, "Maison Ardent", "018800012").await;
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let grounded = |listing_id: &str, grounds: &[ReasonCode]| Notice {
        reason_codes: grounds.iter().map(|g| *g as i32).collect(),
        ..notice(&owner.id, &right.id, vec![listing(listing_id, "seller-g")])
    };
    let grounds = |codes: &[i32]| -> Vec<ReasonCode> {
        codes
            .iter()
            .map(|c| ReasonCode::try_from(*c).unwrap())
            .collect()
    };

    // Grounds come back in the order of the enum, whatever order they were given in.
    let pictures = submit(
        &mut owner_client,
        grounded("g-1", &[CopyrightImages, Counterfeit]),
    )
    .await
    .unwrap();
    assert_eq!(
        grounds(&pictures.reason_codes),
        [Counterfeit, CopyrightImages]
    );
    let none = submit(&mut owner_client, grounded("g-2", &[]))
        .await
        .unwrap();
    let design = submit(&mut owner_client, grounded("g-3", &[DesignRight]))
        .await
        .unwrap();
    assert!(none.reason_codes.is_empty());

    // A takedown upholds the grounds the analyst names, or else the notice's own.
    review(&mut analyst, &pictures.id).await;
    let acted = act(&mut analyst, &pictures.id).await;
    assert_eq!(
        grounds(&acted.decision_reason_codes),
        [Counterfeit, CopyrightImages]
    );
    review(&mut analyst, &design.id).await;
    let bad = bad_fields(
        &analyst
            .take_action(TakeActionRequest {
                id: design.id.clone(),
                etag: String::new(),
                note: "copied design".to_owned(),
                reason_codes: vec![Counterfeit as i32, Counterfeit as i32],
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(bad, ["reason_codes[1]"]);
    assert_eq!(
        status_of(&get(&mut analyst, &design.id).await),
        CaseStatus::UnderReview,
        "a refused decision changes nothing"
    );
    let acted = analyst
        .take_action(TakeActionRequest {
            id: design.id.clone(),
            etag: String::new(),
            note: "the design and the mark".to_owned(),
            reason_codes: vec![DesignRight as i32, Counterfeit as i32],
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(
        grounds(&acted.decision_reason_codes),
        [Counterfeit, DesignRight]
    );
    assert_eq!(
        grounds(&get(&mut owner_client, &design.id).await.reason_codes),
        [DesignRight],
        "the notice keeps its own grounds"
    );

    // A queue per ground: what the notice gives or the takedown upheld.
    let queue = |reason: i32| {
        let mut analyst = analyst.clone();
        async move {
            analyst
                .list_cases(ListCasesRequest {
                    reason_code: reason,
                    ..ListCasesRequest::default()
                })
                .await
        }
    };
    let ids = |listed: ListCasesResponse| -> Vec<String> {
        let mut ids: Vec<String> = listed.cases.into_iter().map(|c| c.id).collect();
        ids.sort();
        ids
    };
    let mut both = vec![pictures.id.clone(), design.id.clone()];
    both.sort();
    for (reason, expected) in [
        (CopyrightImages, vec![pictures.id.clone()]),
        (DesignRight, vec![design.id.clone()]),
        (Counterfeit, both),
        (Patent, vec![]),
    ] {
        let listed = queue(reason as i32).await.unwrap().into_inner();
        assert_eq!(ids(listed), expected, "{reason:?}");
    }
    assert_eq!(bad_fields(&queue(99).await.unwrap_err()), ["reason_code"]);

    let figures = analyst
        .get_enforcement_figures(GetEnforcementFiguresRequest::default())
        .await
        .unwrap()
        .into_inner();
    let rows: Vec<(ReasonCode, i64, i64)> = figures
        .by_reason
        .iter()
        .map(|r| {
            (
                ReasonCode::try_from(r.reason).unwrap(),
                r.notices,
                r.takedowns,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (Unspecified, 1, 0),
            (Counterfeit, 1, 2),
            (CopyrightImages, 1, 1),
            (DesignRight, 1, 1),
        ]
    );
}

async fn a_counter_notice_can_reinstate_the_listings(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800021").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let mut legal = cases(&sandbox, LEGAL).await;
    let mut marketplace = cases(&sandbox, SELLER_PORTAL).await;

    let id = submit(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("l-9", "honest-shop")]),
    )
    .await
    .unwrap()
    .id;
    review(&mut analyst, &id).await;
    act(&mut analyst, &id).await;

    // What a seller attaches must be a document by its content, whatever it says it is.
    let planted = marketplace
        .file_counter_notice(FileCounterNoticeRequest {
            id: id.clone(),
            etag: String::new(),
            counter_notice: Some(CounterNotice {
                statement: "See the attached invoice.".to_owned(),
                contact: Some(Contact {
                    name: "Honest Shop Ltd".to_owned(),
                    email: "legal@honest.example".to_owned(),
                    ..Contact::default()
                }),
                ..CounterNotice::default()
            }),
            evidence: vec![EvidenceInput {
                kind: EvidenceKind::Document as i32,
                media_type: "application/pdf".to_owned(),
                ..evidence(b"<html><script>fetch('/steal')</script></html>", "invoice")
            }],
        })
        .await
        .unwrap_err();
    assert_eq!(bad_fields(&planted), ["evidence[0].content"]);

    // The seller appeals through the marketplace, with its invoice.
    let invoice = b"%PDF invoice from the brand's distributor";
    let appealed = marketplace
        .file_counter_notice(FileCounterNoticeRequest {
            id: id.clone(),
            etag: String::new(),
            counter_notice: Some(CounterNotice {
                statement: "Bought from the authorised distributor; invoice attached.".to_owned(),
                contact: Some(Contact {
                    name: "Honest Shop Ltd".to_owned(),
                    email: "legal@honest.example".to_owned(),
                    ..Contact::default()
                }),
                ..CounterNotice::default()
            }),
            evidence: vec![EvidenceInput {
                kind: EvidenceKind::Document as i32,
                media_type: "application/pdf".to_owned(),
                ..evidence(invoice, "distributor invoice")
            }],
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(status_of(&appealed), CaseStatus::CounterNoticed);
    assert!(
        appealed.due_time.is_some(),
        "the counter-notice has a deadline"
    );
    let filed = appealed.counter_notice.unwrap();
    assert_eq!(filed.evidence_ids.len(), 1);
    assert_eq!(filed.filed_by, SELLER_PORTAL);

    // The rights holder sees the seller's evidence, and replies once.
    let seen = owner_client
        .get_evidence(GetEvidenceRequest {
            id: filed.evidence_ids[0].clone(),
            purpose: "reviewing the appeal".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(seen.content, invoice);
    let reply = CounterNoticeReply {
        maintains_notice: false,
        statement: "The invoice is genuine; we withdraw.".to_owned(),
        ..CounterNoticeReply::default()
    };
    owner_client
        .reply_to_counter_notice(ReplyToCounterNoticeRequest {
            id: id.clone(),
            etag: String::new(),
            reply: Some(reply.clone()),
        })
        .await
        .unwrap();
    expect_code(
        owner_client
            .reply_to_counter_notice(ReplyToCounterNoticeRequest {
                id: id.clone(),
                etag: String::new(),
                reply: Some(reply),
            })
            .await,
        Code::FailedPrecondition,
    );
    // Deciding is staff's.
    expect_code(
        owner_client
            .resolve_counter_notice(ResolveCounterNoticeRequest {
                id: id.clone(),
                etag: String::new(),
                decision: CounterNoticeDecision::Reinstate as i32,
                note: "withdrawn".to_owned(),
            })
            .await,
        Code::PermissionDenied,
    );
    let reinstated = legal
        .resolve_counter_notice(ResolveCounterNoticeRequest {
            id: id.clone(),
            etag: String::new(),
            decision: CounterNoticeDecision::Reinstate as i32,
            note: "the rights holder withdrew".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(status_of(&reinstated), CaseStatus::Reinstated);
    assert!(reinstated.listings[0].reinstate_time.is_some());
    assert!(
        !reinstated
            .counter_notice
            .unwrap()
            .reply
            .unwrap()
            .maintains_notice
    );

    let seller = analyst
        .get_seller(GetSellerRequest {
            seller_id: "honest-shop".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .seller
        .unwrap();
    assert_eq!(seller.active_strikes, 0);
    assert!(seller.strikes[0].withdraw_time.is_some());

    let accuracy = analyst
        .get_notice_accuracy(GetNoticeAccuracyRequest {
            member_id: owner.id.clone(),
            create_time: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (accuracy.upheld, accuracy.overturned, accuracy.accuracy),
        (0, 1, 0.0)
    );
    let figures = analyst
        .get_enforcement_figures(GetEnforcementFiguresRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (figures.counter_notices, figures.listings_reinstated),
        (1, 1)
    );
    assert_eq!(
        figures.sellers_struck, 0,
        "a withdrawn strike does not count"
    );
}

async fn illegal_moves_and_stale_etags_are_refused(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let case = staff_case(
        &mut analyst,
        "Suspicious watches",
        vec![listing("w-1", "s-1")],
    )
    .await;

    let status = expect_code(
        analyst
            .take_action(TakeActionRequest {
                id: case.id.clone(),
                etag: String::new(),
                note: "obvious".to_owned(),
                reason_codes: vec![],
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(
        status
            .message()
            .contains("from OPEN you can: start reviewing, reject"),
        "{status:?}"
    );
    // What a client branches on, without reading the sentence.
    {
        use tonic_types::StatusExt;
        let info = status.get_details_error_info().expect("ErrorInfo");
        assert_eq!(
            (info.reason.as_str(), info.domain.as_str()),
            ("INVALID_TRANSITION", "assay.dev")
        );
        assert_eq!(
            info.metadata["allowed_actions"],
            "start reviewing,reject,merge away"
        );
        let failure = status
            .get_details_precondition_failure()
            .expect("PreconditionFailure");
        assert_eq!(failure.violations[0].r#type, "STATUS");
    }
    expect_code(
        analyst
            .file_counter_notice(FileCounterNoticeRequest {
                id: case.id.clone(),
                etag: String::new(),
                counter_notice: Some(CounterNotice {
                    statement: "not mine".to_owned(),
                    contact: Some(Contact {
                        name: "Seller".to_owned(),
                        email: "s@example.com".to_owned(),
                        ..Contact::default()
                    }),
                    ..CounterNotice::default()
                }),
                evidence: vec![],
            })
            .await,
        Code::FailedPrecondition,
    );

    // An etag read before someone else's change is stale.
    let reviewed = review(&mut analyst, &case.id).await;
    let stale = expect_code(
        analyst
            .reject_case(RejectCaseRequest {
                id: case.id.clone(),
                etag: case.etag.clone(),
                note: "genuine".to_owned(),
            })
            .await,
        Code::Aborted,
    );
    {
        use tonic_types::StatusExt;
        let info = stale.get_details_error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "STALE_ETAG", "read again, not merely retry");
        assert!(stale.get_details_retry_info().is_none());
    }
    let rejected = analyst
        .reject_case(RejectCaseRequest {
            id: case.id.clone(),
            etag: reviewed.etag.clone(),
            note: "genuine stock".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(status_of(&rejected), CaseStatus::Rejected);
    assert_eq!(rejected.resolution_note, "genuine stock");

    // Closed is final.
    analyst
        .close_case(CloseCaseRequest {
            id: case.id.clone(),
            etag: String::new(),
            note: "done".to_owned(),
        })
        .await
        .unwrap();
    let status = expect_code(
        analyst
            .close_case(CloseCaseRequest {
                id: case.id.clone(),
                etag: String::new(),
                note: "again".to_owned(),
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("CLOSED"), "{status:?}");
    // Nothing about the refused moves is in the timeline.
    let kinds: Vec<i32> = events(&mut analyst, &case.id)
        .await
        .iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds.len(),
        5,
        "opened, review, assigned, rejected, closed: {kinds:?}"
    );

    // Members and agencies do not work cases.
    let mut stranger = cases(&sandbox, "agency:agy_0123456789abcdef0123456789abcdef").await;
    expect_code(
        stranger
            .get_case(GetCaseRequest {
                id: case.id.clone(),
            })
            .await,
        Code::PermissionDenied,
    );
    expect_code(
        analyst
            .get_case(GetCaseRequest {
                id: "cas_0123456789abcdef0123456789abcdef".to_owned(),
            })
            .await,
        Code::NotFound,
    );
}

async fn bulk_updates_are_all_or_nothing(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            staff_case(
                &mut analyst,
                &format!("case {i}"),
                vec![listing(&format!("l-{i}"), "s")],
            )
            .await
            .id,
        );
    }
    let assigned = analyst
        .bulk_update_cases(BulkUpdateCasesRequest {
            case_ids: ids.clone(),
            action: Some(bulk_update_cases_request::Action::AssignTo(
                "bob".to_owned(),
            )),
        })
        .await
        .unwrap()
        .into_inner()
        .cases;
    assert!(assigned.iter().all(|c| c.assignee == "bob"));
    assert_eq!(
        list_ids(
            &mut analyst,
            ListCasesRequest {
                assignee: "bob".to_owned(),
                ..Default::default()
            }
        )
        .await,
        sorted(&ids.iter().map(String::as_str).collect::<Vec<_>>())
    );

    analyst
        .bulk_update_cases(BulkUpdateCasesRequest {
            case_ids: ids[..2].to_vec(),
            action: Some(bulk_update_cases_request::Action::Tags(TagChange {
                add: vec!["wave-42".to_owned(), "watches".to_owned()],
                remove: vec![],
            })),
        })
        .await
        .unwrap();
    assert_eq!(
        list_ids(
            &mut analyst,
            ListCasesRequest {
                tag: "wave-42".to_owned(),
                ..Default::default()
            }
        )
        .await,
        sorted(&[&ids[0], &ids[1]])
    );

    // Closing needs a decision first: the open case fails the whole batch.
    review(&mut analyst, &ids[0]).await;
    act(&mut analyst, &ids[0]).await;
    let status = expect_code(
        analyst
            .bulk_update_cases(BulkUpdateCasesRequest {
                case_ids: ids[..2].to_vec(),
                action: Some(bulk_update_cases_request::Action::CloseNote(
                    "wave finished".to_owned(),
                )),
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(
        status.message().contains(&ids[1]),
        "names the case: {status:?}"
    );
    assert_eq!(
        status_of(&get(&mut analyst, &ids[0]).await),
        CaseStatus::ActionTaken
    );

    let closed = analyst
        .bulk_update_cases(BulkUpdateCasesRequest {
            case_ids: ids[..1].to_vec(),
            action: Some(bulk_update_cases_request::Action::CloseNote(
                "wave finished".to_owned(),
            )),
        })
        .await
        .unwrap()
        .into_inner()
        .cases;
    assert_eq!(status_of(&closed[0]), CaseStatus::Closed);

    let fields = bad_fields(
        &analyst
            .bulk_update_cases(BulkUpdateCasesRequest {
                case_ids: vec![ids[1].clone(), ids[1].clone(), "nope".to_owned()],
                action: None,
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(fields, ["case_ids[1]", "case_ids[2]", "action"]);
}

async fn duplicate_cases_merge_with_their_evidence(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let target = staff_case(&mut analyst, "Sneakers ring", vec![listing("k-1", "s-1")]).await;
    let duplicate = staff_case(
        &mut analyst,
        "Sneakers again",
        vec![listing("k-1", "s-1"), listing("k-2", "s-2")],
    )
    .await;
    let added = analyst
        .add_evidence(AddEvidenceRequest {
            case_id: duplicate.id.clone(),
            evidence: Some(evidence(b"screenshot", "listing k-2")),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .unwrap();

    expect_code(
        analyst
            .merge_cases(MergeCasesRequest {
                target_case_id: target.id.clone(),
                source_case_ids: vec![target.id.clone()],
            })
            .await,
        Code::InvalidArgument,
    );
    let merged = analyst
        .merge_cases(MergeCasesRequest {
            target_case_id: target.id.clone(),
            source_case_ids: vec![duplicate.id.clone()],
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let listings: Vec<&str> = merged
        .listings
        .iter()
        .map(|l| l.listing_id.as_str())
        .collect();
    assert_eq!(listings, ["k-1", "k-2"]);
    let moved = analyst
        .list_evidence(ListEvidenceRequest {
            case_id: target.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].id, added.id);

    let source = get(&mut analyst, &duplicate.id).await;
    assert_eq!(status_of(&source), CaseStatus::Merged);
    assert_eq!(source.merged_into_case_id, target.id);
    assert!(source.listings.is_empty());

    let custody = analyst
        .list_custody_events(ListCustodyEventsRequest {
            evidence_id: added.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let actions: Vec<CustodyAction> = custody
        .iter()
        .map(|e| CustodyAction::try_from(e.action).unwrap())
        .collect();
    assert_eq!(actions, [CustodyAction::Added, CustodyAction::Transferred]);

    // A merged case merges no more.
    expect_code(
        analyst
            .merge_cases(MergeCasesRequest {
                target_case_id: target.id.clone(),
                source_case_ids: vec![duplicate.id.clone()],
            })
            .await,
        Code::FailedPrecondition,
    );
}

async fn evidence_keeps_its_chain_of_custody(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let mut auditor = cases(&sandbox, "staff:aud:auditor").await;
    let case = staff_case(&mut analyst, "Perfume", vec![listing("p-1", "s-1")]).await;
    let content = b"lab report: not the original formula".to_vec();
    let hash = hex::encode(Sha256::digest(&content));

    // A hash that does not match the content is refused, and nothing is stored.
    let fields = bad_fields(
        &analyst
            .add_evidence(AddEvidenceRequest {
                case_id: case.id.clone(),
                evidence: Some(EvidenceInput {
                    sha256: "00".repeat(32),
                    ..evidence(&content, "lab report")
                }),
                request_id: String::new(),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(fields, ["evidence.sha256"]);

    let stored = analyst
        .add_evidence(AddEvidenceRequest {
            case_id: case.id.clone(),
            evidence: Some(EvidenceInput {
                kind: EvidenceKind::ExpertReport as i32,
                sha256: hash.to_uppercase(),
                ..evidence(&content, "lab report")
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .unwrap();
    assert_eq!(stored.sha256, hash);
    assert_eq!(stored.size_bytes, content.len() as i64);
    let reference = analyst
        .add_evidence(AddEvidenceRequest {
            case_id: case.id.clone(),
            evidence: Some(EvidenceInput {
                kind: EvidenceKind::Screenshot as i32,
                description: "video of the unboxing".to_owned(),
                reference_uri: "https://evidence.example/v/123".to_owned(),
                sha256: "ab".repeat(32),
                ..EvidenceInput::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .unwrap();
    assert_eq!(reference.size_bytes, 0);

    for purpose in ["preparing the referral", "second look"] {
        let read = auditor
            .get_evidence(GetEvidenceRequest {
                id: stored.id.clone(),
                purpose: purpose.to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(read.content, content);
    }
    let chain = auditor
        .list_custody_events(ListCustodyEventsRequest {
            evidence_id: stored.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let entries: Vec<(CustodyAction, &str, &str)> = chain
        .iter()
        .map(|e| {
            (
                CustodyAction::try_from(e.action).unwrap(),
                e.actor.as_str(),
                e.detail.as_str(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (CustodyAction::Added, "staff:ann", ""),
            (CustodyAction::Viewed, "staff:aud", "preparing the referral"),
            (CustodyAction::Viewed, "staff:aud", "second look"),
        ]
    );
    assert!(chain.iter().all(|e| e.sha256 == hash));
    let listed = analyst
        .list_evidence(ListEvidenceRequest {
            case_id: case.id.clone(),
            page_size: 1,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.evidence.len(), 1);
    assert!(!listed.next_page_token.is_empty());
    // Members and the marketplace's services do not read chains of custody.
    expect_code(
        cases(&sandbox, MARKETPLACE)
            .await
            .list_custody_events(ListCustodyEventsRequest {
                evidence_id: stored.id.clone(),
                ..Default::default()
            })
            .await,
        Code::PermissionDenied,
    );
}

async fn screening_alerts_become_cases_and_decisions_go_back(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (_, brand) = screened_brand(&sandbox, "Velmora", "018800031").await;
    let mut pipeline = screening::screening_service_client::ScreeningServiceClient::new(
        sandbox
            .as_principal(Some(crate::fixtures::MARKETPLACE))
            .await,
    );
    let answer = pipeline
        .screen_listing(screening::ScreenListingRequest {
            listing: Some(velmora_replica("lst-77", "seller-77")),
            min_catalogue_revision: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.verdict.is_some_and(|v| v.brands.len() == 1));
    let hit_id = answer.hit_id;

    // The relay delivers it; one case per hit.
    let mut analyst = cases(&sandbox, ANALYST).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let case = loop {
        let found = analyst
            .list_cases(ListCasesRequest {
                source: CaseSource::ScreeningAlert as i32,
                brand_id: brand.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .cases;
        if let Some(case) = found.into_iter().next() {
            break case;
        }
        assert!(Instant::now() < deadline, "the alert never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(case.hit_id, hit_id);
    assert_eq!(case.brand_ids, [brand.id.as_str()]);
    assert_eq!(case.listings[0].listing_id, "lst-77");
    assert!(case.risk_score >= 0.8, "{case:?}");
    assert!(case.summary.contains("replica"), "{}", case.summary);
    // Screening wrote its reasons in each language; the reader's is read.
    let read_in = async |analyst: &mut Cases, language: &str| {
        analyst
            .get_case(in_language(
                GetCaseRequest {
                    id: case.id.clone(),
                },
                language,
            ))
            .await
            .unwrap()
            .into_inner()
            .r#case
            .unwrap()
            .summary
    };
    let chinese = read_in(&mut analyst, "zh-CN").await;
    assert!(
        chinese
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
        "{chinese}"
    );
    assert!(chinese.contains("Velmora"), "{chinese}");
    assert_eq!(chinese.lines().count(), case.summary.lines().count());
    assert_eq!(read_in(&mut analyst, "en-GB").await, case.summary);

    // A repeated delivery (as after a relay crash) makes no second case.
    let mut hits = screening::screening_service_client::ScreeningServiceClient::new(
        sandbox.as_principal(Some(ANALYST)).await,
    );
    let hit = hits
        .get_hit(screening::GetHitRequest { id: hit_id.clone() })
        .await
        .unwrap()
        .into_inner()
        .hit
        .unwrap();
    let mut screening_service = cases(&sandbox, "service:screening").await;
    let again = screening_service
        .receive_hit_alert(ReceiveHitAlertRequest {
            alert: Some(screening::HitAlert {
                hit: Some(hit),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (again.case_id.as_str(), again.created),
        (case.id.as_str(), false)
    );
    // Only services deliver alerts.
    expect_code(
        analyst
            .receive_hit_alert(ReceiveHitAlertRequest::default())
            .await,
        Code::PermissionDenied,
    );

    // Deciding the case tells screening.
    review(&mut analyst, &case.id).await;
    act(&mut analyst, &case.id).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let hit = hits
            .get_hit(screening::GetHitRequest { id: hit_id.clone() })
            .await
            .unwrap()
            .into_inner()
            .hit
            .unwrap();
        if let Some(feedback) = hit.feedback {
            assert_eq!(
                feedback.outcome,
                screening::FeedbackOutcome::ConfirmedCounterfeit as i32
            );
            assert!(feedback.note.contains(&case.id), "{feedback:?}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the feedback never reached screening"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Referred by someone reading Chinese, on the screening hit alone: the referrer reads
    // the summary in Chinese, and the agency is sent it as kept, in English.
    use assay_tests::proto::lawenforcement::v1 as le;
    use le::law_enforcement_service_client::LawEnforcementServiceClient;
    let mut le_legal = LawEnforcementServiceClient::new(sandbox.as_principal(Some(LEGAL)).await);
    let agency = agency(&mut le_legal, "Guardia di Finanza", "IT", "gdf.it").await;
    analyst
        .escalate_case(EscalateCaseRequest {
            id: case.id.clone(),
            etag: String::new(),
            note: "a repeat seller".to_owned(),
        })
        .await
        .unwrap();
    let referred = cases(&sandbox, LEGAL)
        .await
        .refer_case(in_language(
            ReferCaseRequest {
                id: case.id.clone(),
                etag: String::new(),
                referral: Some(Referral {
                    agency_id: agency.id.clone(),
                    summary: "Counterfeit Velmora bags".to_owned(),
                    ..Referral::default()
                }),
            },
            "zh-CN",
        ))
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(referred.summary, chinese);
    let mut as_agency = LawEnforcementServiceClient::new(
        sandbox
            .as_principal(Some(&format!("agency:{}", agency.id)))
            .await,
    );
    let received = crate::lawenforcement::first_referral(&mut as_agency).await;
    assert_eq!(received.r#case.unwrap().summary, case.summary);
}

/// The relay sends what waits in screening's outbox in one call: every alert is answered
/// on its own, in order; a bad one makes no case and holds back no other; the same hit
/// twice, in one call or in two, is one case.
async fn alerts_delivered_together_are_answered_one_by_one(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let brand = "brd_0123456789abcdef0123456789abcdef";
    let (first, second) = (
        "hit_0123456789abcdef0123456789abcde1",
        "hit_0123456789abcdef0123456789abcde2",
    );
    let mut relay = cases(&sandbox, "service:screening").await;
    let mut no_listing = hit_alert("hit_0123456789abcdef0123456789abcde3", "", brand);
    no_listing.hit.as_mut().unwrap().listing = None;
    let mut bad_trace = hit_alert("hit_0123456789abcdef0123456789abcde4", "l-4", brand);
    bad_trace.traceparent = "not a trace".to_owned();
    let answers = relay
        .receive_hit_alerts(ReceiveHitAlertsRequest {
            alerts: vec![
                hit_alert(first, "l-1", brand),
                no_listing,
                hit_alert(first, "l-1", brand),
                hit_alert(second, "l-2", brand),
                bad_trace,
                screening::HitAlert::default(),
            ],
        })
        .await
        .unwrap()
        .into_inner()
        .alerts;
    let summary: Vec<(&str, bool, Vec<&str>)> = answers
        .iter()
        .map(|a| {
            (
                a.hit_id.as_str(),
                a.created,
                a.field_violations
                    .iter()
                    .map(|v| v.field.as_str())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (first, true, vec![]),
            (
                "hit_0123456789abcdef0123456789abcde3",
                false,
                vec![
                    "alerts[1].hit.listing.listing_id",
                    "alerts[1].hit.listing.seller_id"
                ]
            ),
            (first, false, vec![]),
            (second, true, vec![]),
            (
                "hit_0123456789abcdef0123456789abcde4",
                false,
                vec!["alerts[4].traceparent"]
            ),
            ("", false, vec!["alerts[5].hit"]),
        ]
    );
    let (one, two) = (answers[0].case_id.clone(), answers[3].case_id.clone());
    assert_eq!(answers[2].case_id, one, "the same hit twice is one case");
    assert!(!two.is_empty() && two != one);
    for refused in [1, 4, 5] {
        assert_eq!(answers[refused].case_id, "");
    }

    // Delivered again (as after a relay crash): the same cases, none made.
    let again = relay
        .receive_hit_alerts(ReceiveHitAlertsRequest {
            alerts: vec![
                hit_alert(second, "l-2", brand),
                hit_alert(first, "l-1", brand),
            ],
        })
        .await
        .unwrap()
        .into_inner()
        .alerts;
    let again: Vec<(&str, bool)> = again
        .iter()
        .map(|a| (a.case_id.as_str(), a.created))
        .collect();
    assert_eq!(again, [(two.as_str(), false), (one.as_str(), false)]);
    // The single-alert call agrees.
    let single = relay
        .receive_hit_alert(ReceiveHitAlertRequest {
            alert: Some(hit_alert(first, "l-1", brand)),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (single.case_id.as_str(), single.created),
        (one.as_str(), false)
    );

    let mut analyst = cases(&sandbox, ANALYST).await;
    let opened = analyst
        .list_cases(ListCasesRequest {
            source: CaseSource::ScreeningAlert as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .cases;
    let mut opened: Vec<(String, String, Vec<String>)> = opened
        .into_iter()
        .map(|c| (c.hit_id, c.listings[0].listing_id.clone(), c.brand_ids))
        .collect();
    opened.sort();
    assert_eq!(
        opened,
        [
            (first.to_owned(), "l-1".to_owned(), vec![brand.to_owned()]),
            (second.to_owned(), "l-2".to_owned(), vec![brand.to_owned()]),
        ]
    );
    let events = analyst
        .list_case_events(ListCaseEventsRequest {
            case_id: one.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(events.len(), 1, "{events:?}");

    // Bounded: 1 to 500 alerts a call, from screening only.
    for count in [0, 501] {
        let status = expect_code(
            relay
                .receive_hit_alerts(ReceiveHitAlertsRequest {
                    alerts: vec![hit_alert(first, "l-1", brand); count],
                })
                .await,
            Code::InvalidArgument,
        );
        assert_eq!(bad_fields(&status), ["alerts"]);
    }
    expect_code(
        analyst
            .receive_hit_alerts(ReceiveHitAlertsRequest {
                alerts: vec![hit_alert(first, "l-1", brand)],
            })
            .await,
        Code::PermissionDenied,
    );
}

async fn members_see_only_cases_about_their_brands(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (alpha, alpha_brand, alpha_right) = protected_right(&sandbox, "Elandor", "018800041").await;
    let (beta, beta_brand, beta_right) = protected_right(&sandbox, "Fenwick", "018800042").await;
    member_known(&sandbox, &alpha.id, &alpha_brand.id).await;
    member_known(&sandbox, &beta.id, &beta_brand.id).await;
    let mut alpha_client = cases(&sandbox, &member(&alpha.id)).await;
    let mut beta_client = cases(&sandbox, &member(&beta.id)).await;
    let alpha_case = submit(
        &mut alpha_client,
        notice(&alpha.id, &alpha_right.id, vec![listing("a-1", "s-1")]),
    )
    .await
    .unwrap();
    let beta_case = submit(
        &mut beta_client,
        notice(&beta.id, &beta_right.id, vec![listing("b-1", "s-1")]),
    )
    .await
    .unwrap();
    let mut analyst = cases(&sandbox, ANALYST).await;
    staff_case(&mut analyst, "no brand yet", vec![listing("x-1", "s-1")]).await;

    assert_eq!(
        list_ids(&mut alpha_client, ListCasesRequest::default()).await,
        [alpha_case.id.as_str()]
    );
    assert_eq!(
        list_ids(&mut beta_client, ListCasesRequest::default()).await,
        [beta_case.id.as_str()]
    );
    assert_eq!(
        list_ids(&mut analyst, ListCasesRequest::default())
            .await
            .len(),
        3
    );
    get(&mut alpha_client, &alpha_case.id).await;
    // Another member's case, its brand, timeline, evidence and figures read exactly like
    // ones that do not exist.
    const NO_CASE: &str = "cas_0123456789abcdef0123456789abcdef";
    const NO_BRAND: &str = "brd_0123456789abcdef0123456789abcdef";
    const NO_MEMBER: &str = "mbr_0123456789abcdef0123456789abcdef";
    let get_case = |id: &str| GetCaseRequest { id: id.to_owned() };
    answers_like_missing(
        alpha_client.get_case(get_case(&beta_case.id)).await,
        &beta_case.id,
        alpha_client.get_case(get_case(NO_CASE)).await,
        NO_CASE,
    );
    let by_brand = |brand_id: &str| ListCasesRequest {
        brand_id: brand_id.to_owned(),
        ..Default::default()
    };
    answers_like_missing(
        alpha_client.list_cases(by_brand(&beta_brand.id)).await,
        &beta_brand.id,
        alpha_client.list_cases(by_brand(NO_BRAND)).await,
        NO_BRAND,
    );
    let events = |case_id: &str| ListCaseEventsRequest {
        case_id: case_id.to_owned(),
        ..Default::default()
    };
    answers_like_missing(
        alpha_client.list_case_events(events(&beta_case.id)).await,
        &beta_case.id,
        alpha_client.list_case_events(events(NO_CASE)).await,
        NO_CASE,
    );
    let add = |case_id: &str| AddEvidenceRequest {
        case_id: case_id.to_owned(),
        evidence: Some(evidence(b"x", "mine")),
        request_id: String::new(),
    };
    answers_like_missing(
        alpha_client.add_evidence(add(&beta_case.id)).await,
        &beta_case.id,
        alpha_client.add_evidence(add(NO_CASE)).await,
        NO_CASE,
    );
    let list_evidence = |case_id: &str| ListEvidenceRequest {
        case_id: case_id.to_owned(),
        ..Default::default()
    };
    answers_like_missing(
        alpha_client
            .list_evidence(list_evidence(&beta_case.id))
            .await,
        &beta_case.id,
        alpha_client.list_evidence(list_evidence(NO_CASE)).await,
        NO_CASE,
    );
    let accuracy = |member_id: &str| GetNoticeAccuracyRequest {
        member_id: member_id.to_owned(),
        create_time: None,
    };
    answers_like_missing(
        alpha_client.get_notice_accuracy(accuracy(&beta.id)).await,
        &beta.id,
        alpha_client.get_notice_accuracy(accuracy(NO_MEMBER)).await,
        NO_MEMBER,
    );
    // An agent the owner delegates to sees the owner's cases.
    let mut admin = registry(&sandbox, ADMIN).await;
    let agent = active_member(&mut admin, "Watchdog LLP", registry::MemberKind::Agent).await;
    admin
        .create_delegation(registry::CreateDelegationRequest {
            delegation: Some(registry::Delegation {
                agent_member_id: agent.id.clone(),
                principal_member_id: alpha.id.clone(),
                brand_ids: vec![alpha_brand.id.clone()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    member_known(&sandbox, &agent.id, &alpha_brand.id).await;
    let mut agent_client = cases(&sandbox, &member(&agent.id)).await;
    assert_eq!(
        list_ids(&mut agent_client, ListCasesRequest::default()).await,
        [alpha_case.id.as_str()]
    );
}

async fn strikes_make_repeat_infringers_and_clusters_find_them(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    for i in 0..3 {
        let case = staff_case(
            &mut analyst,
            &format!("fake watches {i}"),
            vec![listing(&format!("w-{i}"), "banned-shop")],
        )
        .await;
        review(&mut analyst, &case.id).await;
        act(&mut analyst, &case.id).await;
    }
    let banned = analyst
        .get_seller(GetSellerRequest {
            seller_id: "banned-shop".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .seller
        .unwrap();
    assert_eq!((banned.active_strikes, banned.repeat_infringer), (3, true));

    let mut marketplace = cases(&sandbox, SELLER_MANAGEMENT).await;
    let record =
        |seller: &str, identifiers: Vec<(IdentifierKind, &str)>| RecordSellerIdentifiersRequest {
            seller_id: seller.to_owned(),
            identifiers: identifiers
                .into_iter()
                .map(|(kind, value)| SellerIdentifier {
                    kind: kind as i32,
                    value: value.to_owned(),
                })
                .collect(),
        };
    marketplace
        .record_seller_identifiers(record(
            "banned-shop",
            vec![(
                IdentifierKind::PaymentAccount,
                "DE89 3704 0044 0532 0130 00",
            )],
        ))
        .await
        .unwrap();
    // A middleman shares the payout account (written differently) and a phone ...
    marketplace
        .record_seller_identifiers(record(
            "middleman",
            vec![
                (IdentifierKind::PaymentAccount, "de89370400440532013000"),
                (IdentifierKind::Phone, "+86 138 0013 8000"),
            ],
        ))
        .await
        .unwrap();
    // ... with the new account, which shares nothing with the banned one directly.
    let fresh = marketplace
        .record_seller_identifiers(record(
            "fresh-account",
            vec![
                (IdentifierKind::Phone, "+86 (138) 0013-8000"),
                (IdentifierKind::Email, "New@Shop.example"),
            ],
        ))
        .await
        .unwrap()
        .into_inner()
        .seller
        .unwrap();
    assert_eq!(fresh.identifiers.len(), 2);
    marketplace
        .record_seller_identifiers(record(
            "unrelated",
            vec![(IdentifierKind::Phone, "+1 555 0100 200")],
        ))
        .await
        .unwrap();

    let (cluster, members) = cluster_of(&mut analyst, "fresh-account").await;
    assert_eq!(members, ["fresh-account", "middleman", "banned-shop"]);
    assert!(cluster.contains_repeat_infringer && !cluster.truncated);
    assert!(cluster.sellers[2].repeat_infringer);
    assert_eq!(
        cluster.sellers[0].shared_identifiers[0].value,
        "8613800138000"
    );

    let fields = bad_fields(
        &marketplace
            .record_seller_identifiers(record(
                "x",
                vec![
                    (IdentifierKind::Phone, "call me"),
                    (IdentifierKind::Unspecified, "a"),
                    (IdentifierKind::ImageHash, "8f3c1e0f0f1e3c8f"),
                ],
            ))
            .await
            .unwrap_err(),
    );
    assert_eq!(fields, ["identifiers[0]", "identifiers[1]"]);
    expect_code(
        cases(&sandbox, "member:mbr_0123456789abcdef0123456789abcdef")
            .await
            .get_seller_cluster(GetSellerClusterRequest {
                seller_id: "fresh-account".to_owned(),
            })
            .await,
        Code::PermissionDenied,
    );
}

async fn overdue_cases_are_listed(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |config| config.cases.sla.staff_case = Duration::from_millis(200),
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let late = staff_case(&mut analyst, "late", vec![listing("o-1", "s")]).await;
    let decided = staff_case(&mut analyst, "decided", vec![listing("o-2", "s")]).await;
    review(&mut analyst, &decided.id).await;
    act(&mut analyst, &decided.id).await;
    assert!(!late.overdue);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let overdue = ListCasesRequest {
        overdue_only: true,
        ..Default::default()
    };
    assert_eq!(
        list_ids(&mut analyst, overdue.clone()).await,
        [late.id.as_str()]
    );
    assert!(get(&mut analyst, &late.id).await.overdue);
    review(&mut analyst, &late.id).await;
    assert_eq!(
        list_ids(&mut analyst, overdue.clone()).await,
        [late.id.as_str()],
        "review is no decision"
    );
    analyst
        .reject_case(RejectCaseRequest {
            id: late.id.clone(),
            etag: String::new(),
            note: "fine".to_owned(),
        })
        .await
        .unwrap();
    assert!(list_ids(&mut analyst, overdue).await.is_empty());
}

async fn bad_requests_name_their_fields(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let fields = bad_fields(
        &analyst
            .submit_notice(SubmitNoticeRequest {
                notice: Some(Notice {
                    member_id: "nobody".to_owned(),
                    ip_right_id: String::new(),
                    listings: vec![listing("dup", "s"), listing("dup", "bad seller!")],
                    statement: " ".to_owned(),
                    good_faith: false,
                    reason_codes: vec![ReasonCode::Counterfeit as i32, 0, 99],
                }),
                request_id: "not a uuid!".to_owned(),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(
        fields,
        [
            "request_id",
            "notice.member_id",
            "notice.ip_right_id",
            "notice.listings[1].seller_id",
            "notice.listings[1].listing_id",
            "notice.statement",
            "notice.reason_codes[1]",
            "notice.reason_codes[2]",
            "notice.good_faith",
        ]
    );
    let fields = bad_fields(
        &analyst
            .create_case(CreateCaseRequest {
                r#case: Some(Case {
                    title: String::new(),
                    brand_ids: vec!["brd_nope".to_owned()],
                    listings: vec![],
                    ..Case::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(fields, ["case.title", "case.brand_ids[0]", "case.listings"]);
    let case = staff_case(&mut analyst, "x", vec![listing("l", "s")]).await;
    let fields = bad_fields(
        &analyst
            .add_evidence(AddEvidenceRequest {
                case_id: case.id.clone(),
                evidence: Some(EvidenceInput {
                    kind: 0,
                    description: String::new(),
                    media_type: "not a type".to_owned(),
                    content: vec![],
                    reference_uri: String::new(),
                    sha256: String::new(),
                }),
                request_id: String::new(),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(
        fields,
        [
            "evidence.kind",
            "evidence.description",
            "evidence.media_type",
            "evidence.content"
        ]
    );
    let fields = bad_fields(
        &analyst
            .record_referral_outcome(RecordReferralOutcomeRequest {
                id: case.id.clone(),
                outcome: Some(ReferralOutcome {
                    arrests: -1,
                    seized_value: Some(Money {
                        currency_code: "XXY".to_owned(),
                        units: 5,
                        nanos: 0,
                    }),
                    ..ReferralOutcome::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(fields, ["outcome.arrests", "outcome.seized_value"]);
    let fields = bad_fields(
        &analyst
            .list_cases(ListCasesRequest {
                statuses: vec![99],
                seller_id: "bad seller".to_owned(),
                tag: "Not A Slug".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(fields, ["statuses[0]", "seller_id", "tag"]);
    let at = |seconds| Some(prost_types::Timestamp { seconds, nanos: 0 });
    for (period, named) in [
        (None, vec!["period"]),
        (
            Some(TimeRange::default()),
            vec!["period.start_time", "period.end_time"],
        ),
        (
            Some(TimeRange {
                start_time: at(1_700_000_000),
                end_time: None,
            }),
            vec!["period.end_time"],
        ),
        (
            Some(TimeRange {
                start_time: at(1_700_000_000),
                end_time: at(1_600_000_000),
            }),
            vec!["period.end_time"],
        ),
        (
            Some(TimeRange {
                start_time: Some(prost_types::Timestamp {
                    seconds: 1_700_000_000,
                    nanos: -1,
                }),
                end_time: at(1_800_000_000),
            }),
            vec!["period.start_time"],
        ),
    ] {
        let fields = bad_fields(
            &analyst
                .get_programme_report(GetProgrammeReportRequest { period })
                .await
                .unwrap_err(),
        );
        assert_eq!(fields, named);
    }
    bad_fields(
        &analyst
            .take_action(TakeActionRequest {
                id: "cas_x".to_owned(),
                etag: String::new(),
                note: "n".to_owned(),
                reason_codes: vec![],
            })
            .await
            .unwrap_err(),
    );
    // Nothing of the refused requests was stored.
    assert_eq!(
        list_ids(&mut analyst, ListCasesRequest::default()).await,
        [case.id.as_str()]
    );
    assert_eq!(events(&mut analyst, &case.id).await.len(), 1);
}

/// Strikes and links reach screening through the outbox, with no call per listing: the
/// seller's next listing carries the seller signal, a seller linked to a repeat infringer
/// is named so, a reversed decision takes the strike back, and nobody but case management
/// may tell screening such things.
async fn what_cases_learn_of_sellers_reaches_screening(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    screened_brand(&sandbox, "Velmora", "018800041").await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let mut pipeline = screening::screening_service_client::ScreeningServiceClient::new(
        sandbox
            .as_principal(Some(crate::fixtures::MARKETPLACE))
            .await,
    );
    let mut staff = screening::screening_service_client::ScreeningServiceClient::new(
        sandbox.as_principal(Some(ANALYST)).await,
    );
    // Waits until screening holds `strikes` for the seller (and, if asked, its first link).
    let mut standing_of = async |seller: &str, strikes: i32, link: Option<&str>| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let held = staff
                .get_seller_standing(screening::GetSellerStandingRequest {
                    seller_id: seller.to_owned(),
                })
                .await
                .unwrap()
                .into_inner();
            let linked = held
                .standing
                .as_ref()
                .and_then(|s| s.links.first())
                .map(|l| l.seller_id.as_str());
            if held.active_strikes == strikes && linked == link {
                return held;
            }
            assert!(
                Instant::now() < deadline,
                "{seller}: screening holds {held:?}, not {strikes} strikes and link {link:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let mut seller_signals = async |listing: &str, seller: &str| -> Vec<String> {
        let verdict = pipeline
            .screen_listing(screening::ScreenListingRequest {
                listing: Some(velmora_replica(listing, seller)),
                min_catalogue_revision: 0,
            })
            .await
            .unwrap()
            .into_inner()
            .verdict
            .unwrap();
        verdict
            .signals
            .into_iter()
            .filter(|s| s.kind == screening::SignalKind::Seller as i32)
            .map(|s| s.explanation)
            .collect()
    };

    let mut struck = Vec::new();
    for i in 0..3 {
        struck.push(struck_case(&mut analyst, &format!("v-{i}"), "shop-77").await);
        let held = standing_of("shop-77", i + 1, None).await;
        assert_eq!(held.repeat_infringer, i == 2);
        let said = seller_signals(&format!("next-{i}"), "shop-77").await;
        assert!(
            said.iter().any(|s| s
                == &format!(
                    "seller shop-77 has {} confirmed strike{} in the last 365 days",
                    i + 1,
                    if i == 0 { "" } else { "s" }
                )),
            "{said:?}"
        );
        assert_eq!(
            said.iter()
                .any(|s| s == "seller shop-77 is a repeat infringer"),
            i == 2,
            "{said:?}"
        );
    }
    // Another seller's listing says nothing of shop-77.
    assert!(seller_signals("other", "shop-12").await.is_empty());

    // A new account paid into the repeat infringer's account is linked to it.
    let mut marketplace = cases(&sandbox, SELLER_MANAGEMENT).await;
    for seller in ["shop-77", "shop-78"] {
        marketplace
            .record_seller_identifiers(RecordSellerIdentifiersRequest {
                seller_id: seller.to_owned(),
                identifiers: vec![SellerIdentifier {
                    kind: IdentifierKind::PaymentAccount as i32,
                    value: "DE89 3704 0044 0532 0130 00".to_owned(),
                }],
            })
            .await
            .unwrap();
    }
    let held = standing_of("shop-78", 0, Some("shop-77")).await;
    assert_eq!(held.standing.unwrap().links[0].evidence, "payment-account");
    let said = seller_signals("new-shop", "shop-78").await;
    assert_eq!(
        said,
        ["seller shop-78 is linked to repeat infringer shop-77 by a shared payment account"]
    );

    // A counter-notice that reinstates the listings takes the strike back, and shop-77 is
    // no longer a repeat infringer: screening drops the link from shop-78 too.
    let case = struck.pop().unwrap();
    reinstate_on_appeal(&sandbox, &case).await;
    standing_of("shop-77", 2, None).await;
    standing_of("shop-78", 0, None).await;
    assert!(seller_signals("later", "shop-78").await.is_empty());

    // Only case management tells screening about sellers, and what it says is checked.
    let mut analyst_screening = screening::screening_service_client::ScreeningServiceClient::new(
        sandbox.as_principal(Some(ANALYST)).await,
    );
    expect_code(
        analyst_screening
            .record_seller_standings(screening::RecordSellerStandingsRequest::default())
            .await,
        Code::PermissionDenied,
    );
    let mut from_cases = screening::screening_service_client::ScreeningServiceClient::new(
        sandbox.as_principal(Some("service:cases")).await,
    );
    let bad = from_cases
        .record_seller_standings(screening::RecordSellerStandingsRequest {
            standings: vec![screening::SellerStanding {
                seller_id: "shop 77\u{202e}".to_owned(),
                ..Default::default()
            }],
        })
        .await;
    let named = bad_fields(&bad.unwrap_err());
    for field in [
        "standings[0].seller_id",
        "standings[0].strike_window",
        "standings[0].repeat_infringer_strikes",
        "standings[0].as_of",
    ] {
        assert!(named.iter().any(|f| f == field), "{field} not in {named:?}");
    }
    // An older standing than the one held changes nothing.
    let mut stale = standing_of("shop-77", 2, None).await.standing.unwrap();
    stale.strike_times.clear();
    stale.as_of = Some(prost_types::Timestamp {
        seconds: stale.as_of.unwrap().seconds - 60,
        nanos: 0,
    });
    let answer = from_cases
        .record_seller_standings(screening::RecordSellerStandingsRequest {
            standings: vec![stale],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.recorded, 0);
    standing_of("shop-77", 2, None).await;
}

/// A case left undecided past its deadline is escalated by the deadline check: once,
/// however many rounds find it, to the configured owner, tagged, on its timeline and in
/// the figures; a case decided in time is not.
async fn cases_past_their_deadline_are_escalated_once(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |config| {
            config.cases.sla.staff_case = Duration::from_millis(1500);
            config.cases.sla.check_interval = Duration::from_millis(100);
            config.cases.sla.escalate_to = "lead-ana".to_owned();
        },
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let late = staff_case(&mut analyst, "left alone", vec![listing("l-1", "shop-1")]).await;
    assert!(late.sla_breach_time.is_none());
    let on_time = staff_case(&mut analyst, "decided", vec![listing("l-2", "shop-2")]).await;
    review(&mut analyst, &on_time.id).await;
    act(&mut analyst, &on_time.id).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let escalated = loop {
        let case = get(&mut analyst, &late.id).await;
        if case.sla_breach_time.is_some() {
            break case;
        }
        assert!(Instant::now() < deadline, "never escalated: {case:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(escalated.assignee, "lead-ana");
    assert!(
        escalated.tags.contains(&"sla-breached".to_owned()),
        "{escalated:?}"
    );
    assert!(escalated.overdue);
    // Several more rounds find it still overdue, and change nothing.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let after = get(&mut analyst, &late.id).await;
    assert_eq!(after.etag, escalated.etag, "escalated again: {after:?}");
    let events = analyst
        .list_case_events(ListCaseEventsRequest {
            case_id: late.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let breaches: Vec<&CaseEvent> = events
        .iter()
        .filter(|e| e.kind == CaseEventKind::SlaBreached as i32)
        .collect();
    assert_eq!(breaches.len(), 1, "{events:?}");
    assert_eq!(breaches[0].actor, "system:sla");
    assert!(
        breaches[0].detail.contains("past its deadline")
            && breaches[0]
                .detail
                .ends_with("while OPEN; escalated to lead-ana"),
        "{}",
        breaches[0].detail
    );

    let decided = get(&mut analyst, &on_time.id).await;
    assert!(decided.sla_breach_time.is_none(), "{decided:?}");
    let figures = analyst
        .get_enforcement_figures(GetEnforcementFiguresRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(figures.sla_breaches, 1);
    // Overdue cases are a queue of their own.
    let tagged = analyst
        .list_cases(ListCasesRequest {
            tag: "sla-breached".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .cases;
    assert_eq!(tagged.len(), 1);
}

/// The repeat-infringer policy's consequences: each strike moves the seller a step (warn,
/// restrict, suspend) with the cases behind it, the marketplace reads them as a feed, and
/// a reinstated listing takes the seller a step back.
async fn strikes_bring_enforcement_actions_up_and_down(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let mut struck = Vec::new();
    for i in 0..4 {
        struck.push(struck_case(&mut analyst, &format!("e-{i}"), "shop-9").await);
    }
    // Another seller's strike is its own.
    struck_case(&mut analyst, "x-1", "shop-10").await;

    let mut marketplace = cases(&sandbox, SELLER_MANAGEMENT).await;
    let feed = |after: i64, seller: &str| ListEnforcementActionsRequest {
        after_sequence: after,
        page_size: 0,
        seller_id: seller.to_owned(),
    };
    let actions = marketplace
        .list_enforcement_actions(feed(0, "shop-9"))
        .await
        .unwrap()
        .into_inner()
        .actions;
    let levels: Vec<(EnforcementLevel, EnforcementLevel, i32)> = actions
        .iter()
        .map(|a| (a.previous_level(), a.level(), a.active_strikes))
        .collect();
    assert_eq!(
        levels,
        [
            (EnforcementLevel::None, EnforcementLevel::Warn, 1),
            (EnforcementLevel::Warn, EnforcementLevel::Restrict, 2),
            (EnforcementLevel::Restrict, EnforcementLevel::Suspend, 3),
        ],
        "a fourth strike changes nothing: {actions:?}"
    );
    let newest_first = |cases: &[String]| cases.iter().rev().cloned().collect::<Vec<_>>();
    assert_eq!(actions[2].case_ids, newest_first(&struck[..3]));
    assert_eq!(actions[2].reason, "3 strikes within 365 days: suspend");
    assert!(actions.windows(2).all(|w| w[0].sequence < w[1].sequence));
    // Seller management reads the reasons in the language it passes them on in.
    let in_chinese = marketplace
        .list_enforcement_actions(in_language(feed(0, "shop-9"), "zh-CN"))
        .await
        .unwrap()
        .into_inner()
        .actions;
    let reasons: Vec<&str> = in_chinese.iter().map(|a| a.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "365 天内 1 次违规：警告",
            "365 天内 2 次违规：限制经营",
            "365 天内 3 次违规：暂停经营",
        ]
    );
    assert_eq!(actions[0].reason, "1 strike within 365 days: warn");
    for (en, zh) in actions.iter().zip(&in_chinese) {
        assert_eq!(en.reason_parts, zh.reason_parts);
        assert_eq!(en.reason_parts.len(), 1, "{en:?}");
    }
    let seller = analyst
        .get_seller(GetSellerRequest {
            seller_id: "shop-9".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .seller
        .unwrap();
    assert_eq!(seller.enforcement(), EnforcementLevel::Suspend);

    // The whole feed, read in pages from where the reader left off.
    let everything = marketplace
        .list_enforcement_actions(feed(0, ""))
        .await
        .unwrap()
        .into_inner()
        .actions;
    assert_eq!(everything.len(), 4);
    let rest = marketplace
        .list_enforcement_actions(feed(everything[1].sequence, ""))
        .await
        .unwrap()
        .into_inner()
        .actions;
    assert_eq!(rest, everything[2..]);

    // Two of the four strikes are withdrawn on appeal: the seller goes back to restricted.
    for case in &struck[..2] {
        reinstate_on_appeal(&sandbox, case).await;
    }
    let after = marketplace
        .list_enforcement_actions(feed(actions[2].sequence, "shop-9"))
        .await
        .unwrap()
        .into_inner()
        .actions;
    assert_eq!(
        after.len(),
        1,
        "3 strikes still stood after the first appeal: {after:?}"
    );
    assert_eq!(
        (
            after[0].previous_level(),
            after[0].level(),
            after[0].active_strikes
        ),
        (EnforcementLevel::Suspend, EnforcementLevel::Restrict, 2)
    );
    assert_eq!(after[0].case_ids, newest_first(&struck[2..]));
    assert_eq!(
        after[0].reason,
        "strikes withdrawn or expired, 2 strikes within 365 days stand: restrict (was suspend)"
    );

    for bad in [ListEnforcementActionsRequest {
        after_sequence: -1,
        page_size: 5000,
        seller_id: "shop 9\u{202e}".to_owned(),
    }] {
        let named = bad_fields(&marketplace.list_enforcement_actions(bad).await.unwrap_err());
        assert_eq!(named, ["after_sequence", "page_size", "seller_id"]);
    }
}

/// What a test endpoint received: the `Assay-*` headers and the body, by path.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) path: String,
    pub(crate) event: String,
    pub(crate) delivery: String,
    pub(crate) signature: String,
    pub(crate) body: String,
    /// Whether the endpoint refused it.
    pub(crate) refused: bool,
}

/// An HTTP endpoint on 127.0.0.1 that records what it receives, and answers 500 to the
/// first request to one path.
pub(crate) struct Endpoint {
    pub(crate) url: String,
    pub(crate) received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

/// Registry and cases, with webhooks allowed to this machine's test endpoints over http;
/// `more` changes the rest of `[cases.notifications]`.
async fn webhook_sandbox(
    backend: Backend,
    more: impl FnOnce(&mut assay_common::webhooks::NotificationConfig),
) -> Sandbox {
    Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |config| {
            let notifications = &mut config.cases.notifications;
            notifications.allow_http = true;
            notifications.allow_private_targets = true;
            more(notifications);
        },
    )
    .await
}

pub(crate) async fn endpoint(refuse_first_to: &'static str) -> Endpoint {
    use axum::http::{HeaderMap, StatusCode, Uri};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let failures = std::sync::Arc::new(AtomicUsize::new(1));
    let store = received.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: String| {
        let (store, failures) = (store.clone(), failures.clone());
        async move {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            // Deciding and recording under one lock: concurrent deliveries are told apart.
            let mut store = store.lock().unwrap();
            let fail = uri.path() == refuse_first_to
                && failures
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            store.push(Received {
                path: uri.path().to_owned(),
                event: header("assay-event"),
                delivery: header("assay-delivery"),
                signature: header("assay-signature"),
                body,
                refused: fail,
            });
            if fail {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::NO_CONTENT
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Endpoint { url, received }
}

impl Endpoint {
    pub(crate) fn at(&self, path: &str) -> Vec<Received> {
        let all = self.received.lock().unwrap();
        all.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Waits (up to 10 s) until `path` received `count` requests of `event`.
    pub(crate) async fn wait(&self, path: &str, event: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got: Vec<Received> = self
                .at(path)
                .into_iter()
                .filter(|r| r.event == event)
                .collect();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: {count} of {event} never arrived: {:?}",
                self.at(path)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn notify_name(event: EventType) -> &'static str {
    match event {
        EventType::CaseOpened => "case.opened",
        EventType::CaseDecided => "case.decided",
        _ => "other",
    }
}

/// Checks an `Assay-Signature` header as a receiver would: HMAC-SHA256 over
/// "<timestamp>.<body>" with the subscription's secret, and a timestamp within 5 minutes.
pub(crate) fn signed_by(received: &Received, secret: &str) -> bool {
    use hmac::{Hmac, Mac};
    let Some((t, v1)) = received
        .signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let Ok(timestamp) = t.parse::<i64>() else {
        return false;
    };
    let fresh = (chrono::Utc::now().timestamp() - timestamp).abs() < 300;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", received.body).as_bytes());
    fresh
        && mac
            .verify_slice(&hex::decode(v1).unwrap_or_default())
            .is_ok()
}

/// Webhooks, end to end: a rights holder hears of its notice's case being opened and
/// decided, signed with its secret and retried until its endpoint takes it; the
/// marketplace hears of the enforcement action; another member hears nothing; deliveries
/// are logged and can be sent again; and nobody reaches anyone else's subscription.
async fn subscribers_hear_of_their_own_records_in_signed_webhooks(backend: Backend) {
    let sandbox = webhook_sandbox(backend, |_| {}).await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800051").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let other = active_member(&mut admin, "Beta SA", registry::MemberKind::BrandOwner).await;
    // The owner's endpoint refuses the first delivery.
    let hooks = endpoint("/owner").await;
    let subscribe = |events: Vec<EventType>, path: &str| CreateSubscriptionRequest {
        subscription: Some(Subscription {
            url: format!("{}{path}", hooks.url),
            event_types: events.into_iter().map(|e| e as i32).collect(),
            ..Default::default()
        }),
    };
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let mut other_client = cases(&sandbox, &member(&other.id)).await;
    let mut marketplace = cases(&sandbox, SELLER_MANAGEMENT).await;
    let mine = owner_client
        .create_subscription(subscribe(
            vec![EventType::CaseOpened, EventType::CaseDecided],
            "/owner",
        ))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();
    assert_eq!(mine.signing_secret.len(), 64);
    assert_eq!(mine.owner, member(&owner.id));
    let theirs = other_client
        .create_subscription(subscribe(vec![EventType::CaseOpened], "/other"))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();
    let sellers = marketplace
        .create_subscription(subscribe(vec![EventType::EnforcementAction], "/sellers"))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();

    let case = submit(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("h-1", "shop-h")]),
    )
    .await
    .unwrap();
    let mut analyst = cases(&sandbox, ANALYST).await;
    review(&mut analyst, &case.id).await;
    act(&mut analyst, &case.id).await;

    let opened = hooks.wait("/owner", "case.opened", 1).await;
    let decided = hooks.wait("/owner", "case.decided", 1).await;
    // Whichever came first was refused, and came again: the same notification.
    let refused = hooks
        .at("/owner")
        .into_iter()
        .find(|r| r.refused)
        .expect("the first delivery was refused");
    let deadline = Instant::now() + Duration::from_secs(10);
    while hooks
        .at("/owner")
        .iter()
        .filter(|r| r.delivery == refused.delivery)
        .count()
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "never retried: {:?}",
            hooks.at("/owner")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all = hooks.at("/owner");
    assert!(
        all.iter().all(|r| signed_by(r, &mine.signing_secret)),
        "{all:?}"
    );
    assert!(!signed_by(&opened[0], &sellers.signing_secret));
    let body: serde_json::Value = serde_json::from_str(&opened[0].body).unwrap();
    assert_eq!(body["type"], "case.opened");
    assert_eq!(body["id"], opened[0].delivery.as_str());
    assert_eq!(body["data"]["case_id"], case.id.as_str());
    let body: serde_json::Value = serde_json::from_str(&decided[0].body).unwrap();
    assert_eq!(body["data"]["status"], "CASE_STATUS_ACTION_TAKEN");
    let enforced = hooks.wait("/sellers", "seller.enforcement_action", 1).await;
    assert!(signed_by(&enforced[0], &sellers.signing_secret));
    let body: serde_json::Value = serde_json::from_str(&enforced[0].body).unwrap();
    assert_eq!(
        (
            body["data"]["seller_id"].as_str(),
            body["data"]["level"].as_str()
        ),
        (Some("shop-h"), Some("ENFORCEMENT_LEVEL_WARN"))
    );
    // The seller is told why in either language.
    assert_eq!(
        body["data"]["reasons"],
        serde_json::json!({
            "en": "1 strike within 365 days: warn",
            "zh-Hans": "365 天内 1 次违规：警告",
        })
    );
    assert_eq!(body["data"]["reason"], "1 strike within 365 days: warn");
    // The other member's case events are not about it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(hooks.at("/other").is_empty(), "{:?}", hooks.at("/other"));

    // The log shows the refusal and the delivery, newest first.
    let log = owner_client
        .list_deliveries(ListDeliveriesRequest {
            notification_id: refused.delivery.clone(),
            page_size: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    let attempts: Vec<(i32, bool)> = log.iter().map(|d| (d.status_code, d.delivered)).collect();
    assert_eq!(attempts, [(204, true), (500, false)]);
    assert_eq!(log[0].subscription_id, mine.id);
    assert_eq!(
        notify_name(log[0].event_type()),
        refused.event,
        "the log names what was told"
    );

    // Sent again on request, as it was.
    owner_client
        .redeliver_notification(RedeliverNotificationRequest {
            notification_id: opened[0].delivery.clone(),
        })
        .await
        .unwrap();
    let times = hooks
        .at("/owner")
        .iter()
        .filter(|r| r.event == "case.opened")
        .count()
        + 1;
    let again = hooks.wait("/owner", "case.opened", times).await;
    assert_eq!(again[times - 1].body, opened[0].body);

    // Nobody reaches another's subscriptions or notifications, and the answer is that of
    // one that does not exist.
    let (no_sub, no_ntf) = (
        "sub_00000000000000000000000000000000",
        "ntf_00000000000000000000000000000000",
    );
    answers_like_missing(
        other_client
            .delete_subscription(DeleteSubscriptionRequest {
                id: mine.id.clone(),
            })
            .await,
        &mine.id,
        other_client
            .delete_subscription(DeleteSubscriptionRequest {
                id: no_sub.to_owned(),
            })
            .await,
        no_sub,
    );
    answers_like_missing(
        other_client
            .redeliver_notification(RedeliverNotificationRequest {
                notification_id: opened[0].delivery.clone(),
            })
            .await,
        &opened[0].delivery,
        other_client
            .redeliver_notification(RedeliverNotificationRequest {
                notification_id: no_ntf.to_owned(),
            })
            .await,
        no_ntf,
    );
    let seen = other_client
        .list_deliveries(ListDeliveriesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert!(seen.is_empty(), "{seen:?}");
    let listed = owner_client
        .list_subscriptions(ListSubscriptionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .subscriptions;
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].signing_secret.is_empty(),
        "the secret is shown once"
    );
    // Members hear of their records only; staff do not subscribe.
    let named = bad_fields(
        &owner_client
            .create_subscription(CreateSubscriptionRequest {
                subscription: Some(Subscription {
                    url: "ftp://hooks.example/".to_owned(),
                    event_types: vec![EventType::EnforcementAction as i32, 99],
                    ..Default::default()
                }),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(
        named,
        [
            "subscription.url",
            "subscription.event_types[0]",
            "subscription.event_types[1]"
        ]
    );
    expect_code(
        analyst
            .create_subscription(subscribe(vec![EventType::CaseOpened], "/staff"))
            .await,
        Code::PermissionDenied,
    );
    // A deleted subscription is told nothing more.
    other_client
        .delete_subscription(DeleteSubscriptionRequest { id: theirs.id })
        .await
        .unwrap();
    assert!(
        other_client
            .list_subscriptions(ListSubscriptionsRequest {})
            .await
            .unwrap()
            .into_inner()
            .subscriptions
            .is_empty()
    );
}

/// With the default configuration a webhook is https and reaches public addresses only:
/// a subscriber cannot point this service at its own network, by address or by name.
async fn webhooks_never_reach_into_the_services_own_network(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800061").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let subscribe = |url: &str| CreateSubscriptionRequest {
        subscription: Some(Subscription {
            url: url.to_owned(),
            event_types: vec![EventType::CaseOpened as i32],
            ..Default::default()
        }),
    };
    let named = bad_fields(
        &owner_client
            .create_subscription(subscribe("http://hooks.example.com/"))
            .await
            .unwrap_err(),
    );
    assert_eq!(named, ["subscription.url"]);
    // Without an SMTP relay there is no e-mail.
    expect_code(
        owner_client
            .create_subscription(CreateSubscriptionRequest {
                subscription: Some(Subscription {
                    email: "ip@maison-ardent.example".to_owned(),
                    event_types: vec![EventType::CaseOpened as i32],
                    ..Default::default()
                }),
            })
            .await,
        Code::FailedPrecondition,
    );
    for url in [
        "https://127.0.0.1:9/hook",
        "https://[::1]:9/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost:9/hook",
    ] {
        owner_client
            .create_subscription(subscribe(url))
            .await
            .unwrap();
    }
    submit(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("n-1", "shop-n")]),
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let log = owner_client
            .list_deliveries(ListDeliveriesRequest::default())
            .await
            .unwrap()
            .into_inner()
            .deliveries;
        let notifications: std::collections::BTreeSet<&str> =
            log.iter().map(|d| d.notification_id.as_str()).collect();
        if notifications.len() == 4 {
            break log;
        }
        assert!(
            Instant::now() < deadline,
            "not every endpoint was tried: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for attempt in &refused {
        assert!(
            !attempt.delivered && attempt.status_code == 0,
            "{attempt:?}"
        );
        assert!(
            attempt.error.contains("is not a public address")
                || attempt.error.contains("has no public address"),
            "{attempt:?}"
        );
    }
}

/// A small SMTP server on 127.0.0.1 that takes every message (RFC 5321's happy path) and
/// keeps the recipients and data of each.
async fn smtp_server() -> (
    u16,
    std::sync::Arc<std::sync::Mutex<Vec<(Vec<String>, String)>>>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mail = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = mail.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test ESMTP\r\n").await;
                let (mut recipients, mut data, mut in_data) = (Vec::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            kept.lock()
                                .unwrap()
                                .push((std::mem::take(&mut recipients), std::mem::take(&mut data)));
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 test\r\n",
                        "RCPT" => {
                            recipients.push(line.clone());
                            b"250 ok\r\n"
                        }
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, mail)
}

/// E-mail notifications through the deployment's SMTP relay: the member's address gets
/// its case's events, another member's gets none, and a deployment without a relay says so.
async fn subscribers_can_be_told_by_email(backend: Backend) {
    let (port, mail) = smtp_server().await;
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        move |config| {
            config.cases.notifications.smtp = Some(assay_common::webhooks::SmtpConfig {
                host: "127.0.0.1".to_owned(),
                port,
                tls: assay_common::webhooks::SmtpTls::None,
                from: "Assay <assay@marketplace.example>".to_owned(),
                username: None,
                password_file: None,
            });
        },
    )
    .await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800071").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let other = active_member(&mut admin, "Beta SA", registry::MemberKind::BrandOwner).await;
    let by_mail = |address: &str| CreateSubscriptionRequest {
        subscription: Some(Subscription {
            email: address.to_owned(),
            event_types: vec![EventType::CaseOpened as i32],
            ..Default::default()
        }),
    };
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let made = owner_client
        .create_subscription(by_mail("ip@maison-ardent.example"))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();
    assert_eq!(
        (made.email.as_str(), made.url.as_str()),
        ("ip@maison-ardent.example", "")
    );
    cases(&sandbox, &member(&other.id))
        .await
        .create_subscription(by_mail("legal@beta.example"))
        .await
        .unwrap();
    let named = bad_fields(
        &owner_client
            .create_subscription(by_mail("not an address"))
            .await
            .unwrap_err(),
    );
    assert_eq!(named, ["subscription.email"]);

    let case = submit(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("m-1", "shop-m")]),
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while mail.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no mail arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = mail.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "only the owner's address: {sent:?}");
    let (recipients, data) = &sent[0];
    assert_eq!(recipients, &["RCPT TO:<ip@maison-ardent.example>"]);
    assert!(data.contains("Subject: Assay: case.opened"), "{data}");
    assert!(data.contains(case.id.as_str()), "{data}");
    let log = owner_client
        .list_deliveries(ListDeliveriesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(
        log.iter()
            .map(|d| (d.status_code, d.delivered))
            .collect::<Vec<_>>(),
        [(250, true)]
    );
}

/// The seller appeals the takedown of `case` through the seller portal, and legal staff
/// reinstate the listings: its strikes are withdrawn.
async fn linked_storefronts_are_suspended_with_the_seller_where_configured(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |config| config.cases.enforcement.suspend_linked = true,
    )
    .await;
    let mut marketplace = cases(&sandbox, SELLER_MANAGEMENT).await;
    let account = |seller: &str, value: &str| RecordSellerIdentifiersRequest {
        seller_id: seller.to_owned(),
        identifiers: vec![SellerIdentifier {
            kind: IdentifierKind::PaymentAccount as i32,
            value: value.to_owned(),
        }],
    };
    for (seller, value) in [
        ("origin", "GB33BUKB20201555555555"),
        ("storefront", "GB33 BUKB 2020 1555 5555 55"),
        ("bystander", "NL91ABNA0417164300"),
    ] {
        marketplace
            .record_seller_identifiers(account(seller, value))
            .await
            .unwrap();
    }
    let mut analyst = cases(&sandbox, ANALYST).await;
    // The storefront's one strike would only warn it.
    struck_case(&mut analyst, "f-0", "storefront").await;
    let mut struck = Vec::new();
    for i in 0..3 {
        struck.push(struck_case(&mut analyst, &format!("o-{i}"), "origin").await);
    }

    let levels = async |marketplace: &mut Cases, seller: &str, want: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let actions = marketplace
                .list_enforcement_actions(ListEnforcementActionsRequest {
                    seller_id: seller.to_owned(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .actions;
            if actions.len() >= want {
                return actions;
            }
            assert!(
                Instant::now() < deadline,
                "{seller} has {} actions, not {want}: {actions:?}",
                actions.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let origin = levels(&mut marketplace, "origin", 3).await;
    assert_eq!(origin[2].level(), EnforcementLevel::Suspend);
    assert!(origin[2].linked_seller_id.is_empty(), "its own strikes");
    let storefront = levels(&mut marketplace, "storefront", 2).await;
    assert_eq!(
        (storefront[1].previous_level(), storefront[1].level()),
        (EnforcementLevel::Warn, EnforcementLevel::Suspend)
    );
    assert_eq!(storefront[1].linked_seller_id, "origin");
    assert_eq!(
        storefront[1].reason,
        "linked to suspended seller origin by a shared payment account: suspend"
    );
    // What links them is the seller's to read in Chinese too.
    let in_chinese = marketplace
        .list_enforcement_actions(in_language(
            ListEnforcementActionsRequest {
                seller_id: "storefront".to_owned(),
                ..Default::default()
            },
            "zh-CN",
        ))
        .await
        .unwrap()
        .into_inner()
        .actions;
    assert_eq!(
        in_chinese[1].reason,
        "因 共用支付账户 与已暂停经营的卖家 origin 相关联：暂停经营"
    );
    assert!(
        levels(&mut marketplace, "bystander", 0).await.is_empty(),
        "a seller sharing nothing is left alone"
    );

    // The analyst finds the account is a payment provider's pooled one: the storefront
    // goes back to its own level.
    analyst
        .decide_seller_link(DecideSellerLinkRequest {
            seller_id: "storefront".to_owned(),
            linked_seller_id: "origin".to_owned(),
            decision: LinkDecision::Broken as i32,
            note: "pooled account of a payment provider".to_owned(),
        })
        .await
        .unwrap();
    let storefront = levels(&mut marketplace, "storefront", 3).await;
    assert_eq!(
        (storefront[2].previous_level(), storefront[2].level()),
        (EnforcementLevel::Suspend, EnforcementLevel::Warn)
    );
    assert!(storefront[2].linked_seller_id.is_empty());
    assert!(
        storefront[2]
            .reason
            .starts_with("no longer linked to a suspended seller (was origin)"),
        "{}",
        storefront[2].reason
    );

    // A storefront that turns up later with the origin's phone is suspended as it appears.
    for seller in ["origin", "latecomer"] {
        marketplace
            .record_seller_identifiers(RecordSellerIdentifiersRequest {
                seller_id: seller.to_owned(),
                identifiers: vec![SellerIdentifier {
                    kind: IdentifierKind::Phone as i32,
                    value: "+44 20 7946 0000".to_owned(),
                }],
            })
            .await
            .unwrap();
    }
    let latecomer = levels(&mut marketplace, "latecomer", 1).await;
    assert_eq!(
        (latecomer[0].level(), latecomer[0].linked_seller_id.as_str()),
        (EnforcementLevel::Suspend, "origin")
    );

    // The origin's strikes withdrawn on appeal: every storefront suspended with it is
    // reinstated.
    reinstate_on_appeal(&sandbox, &struck[0]).await;
    let origin = levels(&mut marketplace, "origin", 4).await;
    assert_eq!(origin[3].level(), EnforcementLevel::Restrict);
    let latecomer = levels(&mut marketplace, "latecomer", 2).await;
    assert_eq!(
        (latecomer[1].level(), latecomer[1].linked_seller_id.as_str()),
        (EnforcementLevel::None, "")
    );
    let storefront = levels(&mut marketplace, "storefront", 3).await;
    assert_eq!(storefront.len(), 3, "already back at its own level");
}

async fn notifications_to_a_dead_endpoint_are_given_up_and_can_be_sent_again(backend: Backend) {
    let sandbox = webhook_sandbox(backend, |notifications| {
        notifications.give_up_after = Duration::from_millis(400);
    })
    .await;
    // A port nothing listens on: every attempt is refused.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hooks", listener.local_addr().unwrap())
    };
    let mut marketplace = cases(&sandbox, SELLER_MANAGEMENT).await;
    marketplace
        .create_subscription(CreateSubscriptionRequest {
            subscription: Some(Subscription {
                url: dead,
                event_types: vec![EventType::EnforcementAction as i32],
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let mut analyst = cases(&sandbox, ANALYST).await;
    struck_case(&mut analyst, "d-1", "shop-d").await;

    let attempts = async |marketplace: &mut Cases| {
        marketplace
            .list_deliveries(ListDeliveriesRequest::default())
            .await
            .unwrap()
            .into_inner()
            .deliveries
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let tried = loop {
        let tried = attempts(&mut marketplace).await;
        if tried.iter().any(|d| d.given_up) {
            break tried;
        }
        assert!(Instant::now() < deadline, "never given up: {tried:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Newest first: the last attempt says it was the last; the ones before were retried.
    assert!(tried.len() >= 2, "{tried:?}");
    assert!(tried[0].given_up && !tried[0].delivered && tried[0].status_code == 0);
    assert!(!tried[0].error.is_empty());
    assert!(tried[1..].iter().all(|d| !d.given_up && !d.delivered));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        attempts(&mut marketplace).await.len(),
        tried.len(),
        "no attempt after giving up"
    );

    // Sent again on request, with retries of its own.
    marketplace
        .redeliver_notification(RedeliverNotificationRequest {
            notification_id: tried[0].notification_id.clone(),
        })
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let again = attempts(&mut marketplace).await;
        if again.iter().filter(|d| d.given_up).count() == 2 {
            assert!(again.len() > tried.len() + 1, "{again:?}");
            break;
        }
        assert!(Instant::now() < deadline, "not sent again: {again:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn members_hear_the_outcome_of_their_referred_cases(backend: Backend) {
    let sandbox = webhook_sandbox(backend, |_| {}).await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800071").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let other = active_member(&mut admin, "Beta SA", registry::MemberKind::BrandOwner).await;
    let hooks = endpoint("/nobody-refused").await;
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    for (client, path) in [
        (&mut owner_client, "/owner"),
        (&mut cases(&sandbox, &member(&other.id)).await, "/other"),
    ] {
        client
            .create_subscription(CreateSubscriptionRequest {
                subscription: Some(Subscription {
                    url: format!("{}{path}", hooks.url),
                    event_types: vec![EventType::ReferralOutcome as i32],
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
    }
    let case = submit(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("r-1", "shop-r")]),
    )
    .await
    .unwrap();
    let mut analyst = cases(&sandbox, ANALYST).await;
    review(&mut analyst, &case.id).await;
    act(&mut analyst, &case.id).await;
    analyst
        .escalate_case(EscalateCaseRequest {
            id: case.id.clone(),
            etag: String::new(),
            note: "a warehouse behind it".to_owned(),
        })
        .await
        .unwrap();
    analyst
        .add_evidence(AddEvidenceRequest {
            case_id: case.id.clone(),
            evidence: Some(evidence(b"jpeg bytes of the warehouse", "the warehouse")),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let mut legal = cases(&sandbox, LEGAL).await;
    legal
        .refer_case(ReferCaseRequest {
            id: case.id.clone(),
            etag: String::new(),
            referral: Some(Referral {
                agency_id: "agy_0123456789abcdef0123456789abcdef".to_owned(),
                summary: "Warehouse supplying the seller.".to_owned(),
                ..Referral::default()
            }),
        })
        .await
        .unwrap();
    let report = RecordReferralOutcomeRequest {
        id: case.id.clone(),
        outcome: Some(ReferralOutcome {
            arrests: 2,
            seized_units: 800,
            note: "informant's name withheld".to_owned(),
            ..ReferralOutcome::default()
        }),
        request_id: "outcome-1".to_owned(),
    };
    // Reported twice (a retry): told once.
    for _ in 0..2 {
        legal.record_referral_outcome(report.clone()).await.unwrap();
    }
    let told = hooks.wait("/owner", "case.referral_outcome", 1).await;
    let body: serde_json::Value = serde_json::from_str(&told[0].body).unwrap();
    assert_eq!(body["data"]["case_id"], case.id.as_str());
    assert_eq!(
        (
            body["data"]["arrests"].as_i64(),
            body["data"]["seized_units"].as_i64()
        ),
        (Some(2), Some(800))
    );
    assert!(
        !told[0].body.contains("informant"),
        "the agency's note stays with staff: {}",
        told[0].body
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hooks.at("/owner").len(), 1, "{:?}", hooks.at("/owner"));
    assert!(
        hooks.at("/other").is_empty(),
        "another member hears nothing"
    );
}

/// The seller appeals the takedown of `case` through the marketplace's seller portal.
pub(crate) async fn appeal(sandbox: &Sandbox, case: &str) {
    cases(sandbox, SELLER_PORTAL)
        .await
        .file_counter_notice(FileCounterNoticeRequest {
            id: case.to_owned(),
            etag: String::new(),
            counter_notice: Some(CounterNotice {
                statement: "Genuine stock from the brand's distributor.".to_owned(),
                contact: Some(Contact {
                    name: "The seller".to_owned(),
                    email: "legal@seller.example".to_owned(),
                    ..Contact::default()
                }),
                ..CounterNotice::default()
            }),
            evidence: Vec::new(),
        })
        .await
        .unwrap();
}

async fn reinstate_on_appeal(sandbox: &Sandbox, case: &str) {
    appeal(sandbox, case).await;
    cases(sandbox, LEGAL)
        .await
        .resolve_counter_notice(ResolveCounterNoticeRequest {
            id: case.to_owned(),
            etag: String::new(),
            decision: CounterNoticeDecision::Reinstate as i32,
            note: "the invoice holds".to_owned(),
        })
        .await
        .unwrap();
}

/// A staff case about one listing, decided with a takedown: a strike on its seller.
async fn struck_case(analyst: &mut Cases, listing_id: &str, seller: &str) -> String {
    let case = staff_case(
        analyst,
        &format!("counterfeit {listing_id}"),
        vec![listing(listing_id, seller)],
    )
    .await;
    review(analyst, &case.id).await;
    act(analyst, &case.id).await;
    case.id
}

/// Takedowns of one seller decided at the same moment, each in its own transaction, still
/// count every strike: the seller ends suspended, through each level once.
async fn decisions_at_the_same_moment_count_every_strike(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let case = staff_case(
            &mut analyst,
            &format!("race {i}"),
            vec![listing(&format!("r-{i}"), "shop-race")],
        )
        .await;
        review(&mut analyst, &case.id).await;
        ids.push(case.id);
    }
    let (mut a, mut b, mut c) = (
        cases(&sandbox, ANALYST).await,
        cases(&sandbox, ANALYST).await,
        cases(&sandbox, ANALYST).await,
    );
    tokio::join!(
        act(&mut a, &ids[0]),
        act(&mut b, &ids[1]),
        act(&mut c, &ids[2])
    );
    let actions = cases(&sandbox, SELLER_MANAGEMENT)
        .await
        .list_enforcement_actions(ListEnforcementActionsRequest {
            seller_id: "shop-race".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .actions;
    let levels: Vec<EnforcementLevel> = actions.iter().map(|a| a.level()).collect();
    assert_eq!(
        levels,
        [
            EnforcementLevel::Warn,
            EnforcementLevel::Restrict,
            EnforcementLevel::Suspend
        ],
        "{actions:?}"
    );
}

/// A strike that runs out of the repeat-infringer window steps the seller back by itself,
/// once: the deadline check finds it.
async fn strikes_that_expire_step_the_seller_back(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |config| {
            config.cases.repeat_infringer.window = Duration::from_millis(1500);
            config.cases.sla.check_interval = Duration::from_millis(100);
        },
    )
    .await;
    let mut analyst = cases(&sandbox, ANALYST).await;
    struck_case(&mut analyst, "t-1", "shop-time").await;
    let mut marketplace = cases(&sandbox, SELLER_MANAGEMENT).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    let actions = loop {
        let actions = marketplace
            .list_enforcement_actions(ListEnforcementActionsRequest {
                seller_id: "shop-time".to_owned(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .actions;
        if actions.len() >= 2 {
            break actions;
        }
        assert!(Instant::now() < deadline, "never stepped back: {actions:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = marketplace
        .list_enforcement_actions(ListEnforcementActionsRequest {
            seller_id: "shop-time".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .actions;
    assert_eq!(after, actions, "stepped back once");
    assert_eq!(
        actions.iter().map(|a| a.level()).collect::<Vec<_>>(),
        [EnforcementLevel::Warn, EnforcementLevel::None]
    );
    assert!(
        actions[1].reason.contains("expired"),
        "{}",
        actions[1].reason
    );
    assert!(actions[1].case_ids.is_empty());
}

/// The same product photo, re-encoded (a few bits of its perceptual hash apart), links two
/// storefronts; a different photo does not, and the index behind it shows nowhere.
async fn near_duplicate_product_images_link_sellers(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let mut marketplace = cases(&sandbox, SELLER_MANAGEMENT).await;
    for (seller, hash) in [
        ("shop-photo", "ffffffff00000000"),
        // Three bits apart, each in another quarter of the hash.
        ("shop-copy", "FFFEFFFE00000001"),
        // Five bits apart: another picture.
        ("shop-other", "ffffffff0000001f"),
    ] {
        marketplace
            .record_seller_identifiers(RecordSellerIdentifiersRequest {
                seller_id: seller.to_owned(),
                identifiers: vec![SellerIdentifier {
                    kind: IdentifierKind::ImageHash as i32,
                    value: hash.to_owned(),
                }],
            })
            .await
            .unwrap();
    }
    let mut analyst = cases(&sandbox, ANALYST).await;
    let (cluster, members) = cluster_of(&mut analyst, "shop-photo").await;
    assert_eq!(members, ["shop-photo", "shop-copy"]);
    let copy = &cluster.sellers[1];
    assert_eq!(
        copy.shared_identifiers
            .iter()
            .map(|i| (i.kind(), i.value.as_str()))
            .collect::<Vec<_>>(),
        // The evidence: both pictures' hashes, three bits apart.
        [
            (IdentifierKind::ImageHash, "fffefffe00000001"),
            (IdentifierKind::ImageHash, "ffffffff00000000")
        ]
    );
    let seller = analyst
        .get_seller(GetSellerRequest {
            seller_id: "shop-copy".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .seller
        .unwrap();
    assert_eq!(seller.identifiers.len(), 1, "{:?}", seller.identifiers);
}

/// The logo every brand of [`protected_brand`] is registered with.
const VELMORA_LOGO: u64 = 0x8f3c_1e0f_0f1e_3c8f;

async fn screened_images_link_sellers_and_analysts_confirm_or_break_links(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    screened_brand(&sandbox, "Velmora", "018800031").await;
    let mut pipeline = screening::screening_service_client::ScreeningServiceClient::new(
        sandbox
            .as_principal(Some(crate::fixtures::MARKETPLACE))
            .await,
    );
    let photo = |hash: u64| screening::ListingImage {
        source: Some(screening::listing_image::Source::PerceptualHash(hash)),
    };
    // The same product photo, re-encoded (one bit apart), on two sellers' counterfeits; a
    // blank image on a third seller's, which must link nobody; a picture of its own on a
    // fourth's.
    for (listing, seller, images) in [
        (
            "lst-a",
            "photo-shop",
            vec![photo(0x8f3c_61e0_5a5a_0ff1), photo(0)],
        ),
        ("lst-b", "photo-copy", vec![photo(0x8f3c_61e0_5a5a_0ff3)]),
        ("lst-c", "blank-shop", vec![photo(0)]),
        // A picture nobody else has: no link.
        ("lst-d", "lone-shop", vec![photo(0x1234_5678_9abc_def0)]),
        // Velmora's own logo (a bit or two off) on two counterfeiters' listings: every
        // counterfeiter of the brand shows it, so it links nobody.
        ("lst-e", "logo-one", vec![photo(VELMORA_LOGO ^ 0b1)]),
        ("lst-f", "logo-two", vec![photo(VELMORA_LOGO ^ 0b110)]),
    ] {
        let answer = pipeline
            .screen_listing(screening::ScreenListingRequest {
                listing: Some(screening::Listing {
                    images,
                    ..velmora_replica(listing, seller)
                }),
                min_catalogue_revision: 0,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(!answer.hit_id.is_empty(), "{listing} is a hit");
    }
    let mut analyst = cases(&sandbox, ANALYST).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while list_ids(
        &mut analyst,
        ListCasesRequest {
            source: CaseSource::ScreeningAlert as i32,
            ..Default::default()
        },
    )
    .await
    .len()
        < 6
    {
        assert!(Instant::now() < deadline, "the alerts never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (cluster, members) = cluster_of(&mut analyst, "photo-shop").await;
    assert_eq!(members, ["photo-shop", "photo-copy"]);
    assert_eq!(
        cluster.sellers[1]
            .shared_identifiers
            .iter()
            .map(|i| (i.kind(), i.value.as_str()))
            .collect::<Vec<_>>(),
        [
            (IdentifierKind::ImageHash, "8f3c61e05a5a0ff1"),
            (IdentifierKind::ImageHash, "8f3c61e05a5a0ff3")
        ]
    );
    let (_, blank) = cluster_of(&mut analyst, "blank-shop").await;
    assert_eq!(blank, ["blank-shop"], "a blank image is no evidence");
    // Only the sellers a captured picture links are sent to screening again.
    let db = sea_orm::Database::connect(sandbox.database_url(ServiceName::Cases))
        .await
        .unwrap();
    let queued = async |seller: &str| {
        use sea_orm::ConnectionTrait;
        db.query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT COUNT(*) AS n FROM outbox WHERE topic = 'cases.seller_standing' \
                 AND key LIKE '{seller}/%'"
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
    };
    assert_eq!(queued("blank-shop").await, 0);
    assert_eq!(
        queued("lone-shop").await,
        0,
        "a picture nobody shares changes nothing"
    );
    let (_, logo) = cluster_of(&mut analyst, "logo-one").await;
    assert_eq!(logo, ["logo-one"], "a brand's logo is no evidence");
    assert!(queued("photo-shop").await + queued("photo-copy").await >= 1);

    // The analyst finds the photo is the brand's own press image: not a link.
    let decide =
        |seller: &str, other: &str, decision: LinkDecision, note: &str| DecideSellerLinkRequest {
            seller_id: seller.to_owned(),
            linked_seller_id: other.to_owned(),
            decision: decision as i32,
            note: note.to_owned(),
        };
    let broken = analyst
        .decide_seller_link(decide(
            "photo-shop",
            "photo-copy",
            LinkDecision::Broken,
            "the brand's press photo",
        ))
        .await
        .unwrap()
        .into_inner()
        .link
        .unwrap();
    // Filed under the pair in order, whichever way round it was asked.
    assert_eq!(
        (broken.seller_id.as_str(), broken.linked_seller_id.as_str()),
        ("photo-copy", "photo-shop")
    );
    assert_eq!(broken.decided_by, "staff:ann");
    let (cluster, members) = cluster_of(&mut analyst, "photo-shop").await;
    assert_eq!(members, ["photo-shop"]);
    assert_eq!(
        cluster.link_decisions.len(),
        1,
        "it says why photo-copy is gone"
    );
    assert_eq!(cluster.link_decisions[0].decision(), LinkDecision::Broken);

    // Another seller shares nothing recorded, but the analyst knows them for one operation;
    // a later decision replaces the earlier one.
    analyst
        .decide_seller_link(decide(
            "blank-shop",
            "photo-shop",
            LinkDecision::Confirmed,
            "same warehouse seen on a test buy",
        ))
        .await
        .unwrap();
    analyst
        .decide_seller_link(decide(
            "photo-copy",
            "photo-shop",
            LinkDecision::Confirmed,
            "same owner after all",
        ))
        .await
        .unwrap();
    let (cluster, members) = cluster_of(&mut analyst, "blank-shop").await;
    assert_eq!(members, ["blank-shop", "photo-shop", "photo-copy"]);
    assert_eq!(cluster.sellers[0].confirmed_links, ["photo-shop"]);
    assert_eq!(
        cluster.sellers[1].confirmed_links,
        ["blank-shop", "photo-copy"]
    );
    assert_eq!(cluster.link_decisions.len(), 2);
    assert!(
        cluster
            .link_decisions
            .iter()
            .all(|d| d.decision() == LinkDecision::Confirmed)
    );

    let fields = bad_fields(
        &analyst
            .decide_seller_link(decide("s-1", "s-1", LinkDecision::Unspecified, " "))
            .await
            .unwrap_err(),
    );
    assert_eq!(fields, ["linked_seller_id", "decision", "note"]);
}

/// The cluster of `seller`, with its members' ids in the order they were reached.
async fn cluster_of(analyst: &mut Cases, seller: &str) -> (GetSellerClusterResponse, Vec<String>) {
    let cluster = analyst
        .get_seller_cluster(GetSellerClusterRequest {
            seller_id: seller.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let members = cluster
        .sellers
        .iter()
        .map(|s| s.seller_id.clone())
        .collect();
    (cluster, members)
}
