//! Notices from rights holders: what they must cite, how a case lives from submission
//! to closing, counter-notices, the figures by grounds, who sees which case, and bad
//! requests.

use super::*;

on_both_backends!(
    notices_must_cite_a_verified_right_of_the_member,
    a_notice_lives_from_submission_to_closing,
    notices_and_takedowns_are_counted_by_their_grounds,
    a_counter_notice_can_reinstate_the_listings,
    members_see_only_cases_about_their_brands,
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
