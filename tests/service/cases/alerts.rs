//! Screening's alerts: each becomes a case, decisions go back, and what cases learn of
//! sellers reaches screening.

use super::*;

on_both_backends!(
    screening_alerts_become_cases_and_decisions_go_back,
    alerts_delivered_together_are_answered_one_by_one,
    what_cases_learn_of_sellers_reaches_screening,
);

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
/// Deliveries of the same alerts at once (two relays, or a relay and a replay) open each
/// case once: a delivery that meets a case another is opening waits for it and answers that
/// case, however many such cases it meets. (PostgreSQL only: on SQLite one writer at a time
/// writes, so deliveries never meet.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_racing_each_other_open_each_case_once_on_postgres() {
    use sea_orm::{ConnectionTrait, Database, TransactionTrait};

    if !assay_tests::postgres_available().await {
        return;
    }
    let sandbox = Sandbox::start(Backend::Postgres).await;
    let brand = "brd_0123456789abcdef0123456789abcdef";
    let hits = [
        "hit_0123456789abcdef0123456789abcd01",
        "hit_0123456789abcdef0123456789abcd02",
    ];
    let mut relay = cases(&sandbox, "service:screening").await;
    let model = relay
        .receive_hit_alert(ReceiveHitAlertRequest {
            alert: Some(hit_alert(
                "hit_0123456789abcdef0123456789abcd00",
                "l-0",
                brand,
            )),
        })
        .await
        .unwrap()
        .into_inner()
        .case_id;

    // Two other deliveries are opening the cases of both hits, and have not committed.
    let mut others = Vec::new();
    for (i, hit) in hits.iter().enumerate() {
        let db = Database::connect(sandbox.database_url(ServiceName::Cases))
            .await
            .unwrap();
        let txn = db.begin().await.unwrap();
        let id = format!("cas_0123456789abcdef0123456789abcd{i:02}");
        txn.execute_unprepared(&format!(
            "CREATE TEMP TABLE copied ON COMMIT DROP AS SELECT * FROM cases WHERE id = '{model}'; \
             UPDATE copied SET id = '{id}', hit_id = '{hit}', source_key = 'screening.hit/{hit}'; \
             INSERT INTO cases SELECT * FROM copied"
        ))
        .await
        .unwrap();
        others.push((db, txn, id));
    }

    let delivering = tokio::spawn(async move {
        relay
            .receive_hit_alerts(ReceiveHitAlertsRequest {
                alerts: vec![
                    hit_alert(hits[0], "l-1", brand),
                    hit_alert(hits[1], "l-2", brand),
                ],
            })
            .await
    });
    let mut opened_by_others = Vec::new();
    for (db, txn, id) in others {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !delivering.is_finished(),
            "the delivery waits for the other"
        );
        txn.commit().await.unwrap();
        drop(db);
        opened_by_others.push(id);
    }
    let answers = delivering.await.unwrap().unwrap().into_inner().alerts;
    let answers: Vec<(&str, &str, bool)> = answers
        .iter()
        .map(|a| (a.hit_id.as_str(), a.case_id.as_str(), a.created))
        .collect();
    assert_eq!(
        answers,
        [
            (hits[0], opened_by_others[0].as_str(), false),
            (hits[1], opened_by_others[1].as_str(), false),
        ],
        "each alert answered with the case the other delivery opened"
    );
    assert_eq!(
        alert_cases(&sandbox).await.len(),
        3,
        "one case for each hit"
    );
}

/// Every case opened from an alert, as an analyst lists them.
async fn alert_cases(sandbox: &Sandbox) -> Vec<Case> {
    cases(sandbox, ANALYST)
        .await
        .list_cases(ListCasesRequest {
            source: CaseSource::ScreeningAlert as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .cases
}

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

    let mut opened: Vec<(String, String, Vec<String>)> = alert_cases(&sandbox)
        .await
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
    let mut analyst = cases(&sandbox, ANALYST).await;
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
