//! Moving cases: illegal moves and stale etags, bulk updates, duplicates merged,
//! evidence and its chain of custody, overdue and escalated cases.

use super::*;

on_both_backends!(
    illegal_moves_and_stale_etags_are_refused,
    bulk_updates_are_all_or_nothing,
    duplicate_cases_merge_with_their_evidence,
    evidence_keeps_its_chain_of_custody,
    overdue_cases_are_listed,
    cases_past_their_deadline_are_escalated_once,
);

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
