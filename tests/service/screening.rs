//! Listing screening, through its generated client.

use std::time::{Duration, Instant};

use assay_tests::proto::common::v1::{Money, TimeRange};
use assay_tests::proto::registry::v1 as registry;
use assay_tests::proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_tests::proto::screening::v1::*;
use assay_tests::{
    Authed, Backend, Sandbox, answers_like_missing, bad_fields, expect_code, in_language,
    on_both_backends,
};
use tokio_stream::StreamExt;
use tonic::Code;

use crate::fixtures::*;

type Screening = ScreeningServiceClient<Authed>;

async fn screening(sandbox: &Sandbox, principal: &str) -> Screening {
    ScreeningServiceClient::new(sandbox.as_principal(Some(principal)).await)
}

fn usd(units: i64) -> Money {
    Money {
        currency_code: "USD".into(),
        units,
        nanos: 0,
    }
}

fn listing(id: &str, title: &str, category: &str, price: Money) -> Listing {
    Listing {
        listing_id: id.into(),
        seller_id: "seller-7".into(),
        title: title.into(),
        description: String::new(),
        category: category.into(),
        price: Some(price),
        images: vec![],
        ship_from_country: "CN".into(),
        seller: Some(SellerFacts {
            account_age_days: 400,
            rating: Some(4.1),
            prior_strikes: 0,
        }),
    }
}

async fn screen(client: &mut Screening, listing: Listing) -> ScreenListingResponse {
    client
        .screen_listing(ScreenListingRequest {
            listing: Some(listing),
            min_catalogue_revision: 0,
        })
        .await
        .expect("screen")
        .into_inner()
}

/// Streams `requests` through one feed and collects every answer.
async fn feed(
    client: &mut Screening,
    requests: Vec<ScreenListingsRequest>,
) -> Vec<ScreenListingsResponse> {
    client
        .screen_listings(tokio_stream::iter(requests))
        .await
        .expect("the feed opens")
        .into_inner()
        .collect::<Result<_, _>>()
        .await
        .expect("every listing answered")
}

on_both_backends!(
    counterfeits_are_blocked_and_explained,
    explanations_are_written_in_the_callers_language,
    a_catalogue_change_reaches_verdicts_within_a_second,
    a_screening_waits_for_the_catalogue_revision_it_names,
    bad_listings_are_refused_and_nothing_is_stored,
    a_hit_is_stored_once_per_listing_outcome,
    hits_committed_together_are_stored_once_each,
    a_feed_is_answered_in_order_with_errors_in_place,
    a_slow_feed_reader_holds_the_server_back,
    members_manage_rules_of_their_own_brands_only,
    rules_are_versioned_and_change_verdicts,
    feedback_gives_precision_per_signal_and_brand,
    feedback_calibrates_the_weights_and_a_calibration_can_be_taken_back,
    members_see_only_hits_about_their_brands,
    a_whole_page_of_seller_standings_is_recorded_at_once,
);

/// The explanations of `verdict`, one per signal.
fn explanations(verdict: &Verdict) -> Vec<&str> {
    verdict
        .signals
        .iter()
        .map(|s| s.explanation.as_str())
        .collect()
}

async fn explanations_are_written_in_the_callers_language(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    screened_brand(&sandbox, "Marquise", "018700002").await;
    let mut client = screening(&sandbox, MARKETPLACE).await;
    let replica = |id: &str| listing(id, "M4rquise tote bag replica AAA 1:1", "handbags", usd(45));
    let request = |id: &str| ScreenListingRequest {
        listing: Some(replica(id)),
        min_catalogue_revision: 0,
    };

    let english = screen(&mut client, replica("lst-en"))
        .await
        .verdict
        .unwrap();
    let chinese = client
        .screen_listing(in_language(request("lst-zh"), "zh-CN,zh;q=0.9,en;q=0.8"))
        .await
        .unwrap()
        .into_inner();
    let hit_id = chinese.hit_id.clone();
    let chinese = chinese.verdict.unwrap();
    assert!(
        explanations(&english).contains(
            &r#""M4rquise" in the title matches brand "Marquise" through leetspeak ("4" for "a")"#
        ),
        "{:?}",
        explanations(&english)
    );
    assert!(
        explanations(&chinese).contains(
            &r#"标题中的 "M4rquise" 与品牌 "Marquise" 相符，手法为以数字或符号代替字母（"4" 代替 "a"）"#
        ),
        "{:?}",
        explanations(&chinese)
    );
    // The same evidence and the same messages, whatever the language.
    assert_eq!(english.signals.len(), chinese.signals.len());
    for (en, zh) in english.signals.iter().zip(&chinese.signals) {
        assert_eq!(en.explanation_parts, zh.explanation_parts);
        assert!(!en.explanation_parts.is_empty(), "{en:?}");
        assert_ne!(en.explanation, zh.explanation);
    }
    let chinese_text = explanations(&chinese).join(" ");
    assert!(
        !chinese_text.contains(" in the ") && !chinese_text.contains("priced"),
        "{chinese_text}"
    );

    // A stored hit is read in the reader's language, whoever screened it.
    let mut analyst = screening(&sandbox, ANALYST).await;
    let read = |language: Option<&str>| {
        let request = GetHitRequest { id: hit_id.clone() };
        match language {
            Some(language) => in_language(request, language),
            None => tonic::Request::new(request),
        }
    };
    let as_stored = analyst.get_hit(read(None)).await.unwrap().into_inner();
    let stored = as_stored.hit.unwrap().verdict.unwrap();
    assert_eq!(explanations(&stored), explanations(&english));
    for (language, expected) in [
        ("zh-Hans", &chinese),
        ("fr-CH, zh;q=0.8", &chinese),
        ("zh-TW", &english),
        ("en-GB;q=0.9, zh;q=0.5", &english),
        ("*;q=0.1, de", &english),
        (";;;,q=2,zh;q=nan", &english),
    ] {
        let read = analyst.get_hit(read(Some(language))).await.unwrap();
        let verdict = read.into_inner().hit.unwrap().verdict.unwrap();
        assert_eq!(
            explanations(&verdict),
            explanations(expected),
            "accept-language: {language}"
        );
    }

    // A feed is answered in the language it was opened in.
    let mut opened = tonic::Request::new(tokio_stream::iter(vec![ScreenListingsRequest {
        listing: Some(replica("lst-feed")),
    }]));
    opened
        .metadata_mut()
        .insert("accept-language", "zh".parse().unwrap());
    let answers: Vec<ScreenListingsResponse> = client
        .screen_listings(opened)
        .await
        .unwrap()
        .into_inner()
        .collect::<Result<_, _>>()
        .await
        .unwrap();
    match &answers[0].result {
        Some(screen_listings_response::Result::Verdict(verdict)) => {
            assert_eq!(explanations(verdict), explanations(&chinese))
        }
        other => panic!("{other:?}"),
    }
}

async fn counterfeits_are_blocked_and_explained(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (member, brand) = screened_brand(&sandbox, "Marquise", "018700001").await;
    let mut client = screening(&sandbox, MARKETPLACE).await;

    let blocked = screen(
        &mut client,
        listing(
            "lst-1",
            "M4rquise tote bag replica AAA 1:1",
            "handbags",
            usd(45),
        ),
    )
    .await;
    let verdict = blocked.verdict.unwrap();
    assert_eq!(verdict.decision(), Decision::Block, "{verdict:?}");
    assert!(
        !blocked.hit_id.is_empty(),
        "a blocked listing is stored as a hit"
    );
    assert_eq!(verdict.brands[0].brand_id, brand.id);
    assert_eq!(verdict.brands[0].member_id, member.id);
    let text = verdict
        .signals
        .iter()
        .find_map(|s| match &s.detail {
            Some(signal::Detail::Text(t)) if s.kind == SignalKind::BrandText as i32 => Some(t),
            _ => None,
        })
        .expect("a brand text signal");
    assert_eq!(text.matched_text, "M4rquise");
    assert_eq!((text.start, text.end), (0, 8));
    assert_eq!(text.methods, [MatchMethod::Leetspeak as i32]);
    let price = verdict
        .signals
        .iter()
        .find_map(|s| match &s.detail {
            Some(signal::Detail::Price(p)) => Some(p),
            _ => None,
        })
        .expect("a price signal");
    assert!(price.ratio < 0.05, "{price:?}");
    assert!(verdict.signals.iter().all(|s| !s.explanation.is_empty()));

    // The same listing from the brand's authorised seller is allowed.
    let mut official = listing("lst-2", "Marquise tote bag", "handbags", usd(1600));
    official.seller_id = "official-store".into();
    let allowed = screen(&mut client, official).await;
    assert_eq!(allowed.verdict.unwrap().decision(), Decision::Allow);
    assert!(allowed.hit_id.is_empty());

    // A listing that merely mentions an ordinary word is allowed.
    let plain = screen(
        &mut client,
        listing("lst-3", "Wooden toy train", "toys", usd(20)),
    )
    .await;
    assert_eq!(plain.verdict.unwrap().decision(), Decision::Allow);

    // Only staff and services screen.
    let mut owner = screening(&sandbox, &format!("member:{}", member.id)).await;
    expect_code(
        owner
            .screen_listing(ScreenListingRequest {
                listing: Some(listing("lst-4", "x", "", usd(1))),
                min_catalogue_revision: 0,
            })
            .await,
        Code::PermissionDenied,
    );
}

/// A client that has just verified a trade mark screens against it at once, by naming the
/// catalogue revision the verification answered with; a revision this replica has not
/// reached is refused with a reason to branch on, once the configured wait is over.
async fn a_screening_waits_for_the_catalogue_revision_it_names(backend: Backend) {
    use tonic_types::StatusExt;
    let sandbox = Sandbox::start_with(backend, assay::ServiceName::ALL, |config| {
        config.screening.catalogue_wait = Duration::from_millis(300);
    })
    .await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let mut legal = registry(&sandbox, LEGAL).await;
    let member = active_member(&mut admin, "Quillane SA", registry::MemberKind::BrandOwner).await;
    let brand = create_brand(&mut admin, &member.id, "Quillane").await;
    let right = create_right(&mut admin, trademark_msg(&brand.id, "018700091")).await;
    let verified = legal
        .verify_ip_right(registry::VerifyIpRightRequest {
            id: right.id.clone(),
            etag: String::new(),
            note: "checked".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let revision = verified.catalogue_revision;
    assert!(revision > 0, "verifying protected the brand: {verified:?}");

    let mut client = screening(&sandbox, MARKETPLACE).await;
    let ask = |min_catalogue_revision: i64| ScreenListingRequest {
        listing: Some(listing(
            "lst-q",
            "Quillane replica handbag AAA 1:1",
            "handbags",
            usd(40),
        )),
        min_catalogue_revision,
    };
    // No polling: the call waits until the engine has the revision.
    let screened = client
        .screen_listing(ask(revision))
        .await
        .unwrap()
        .into_inner();
    let verdict = screened.verdict.unwrap();
    assert_eq!(verdict.brands[0].brand_id, brand.id, "{verdict:?}");
    assert!(verdict.catalogue_revision >= revision);

    let started = Instant::now();
    let behind = expect_code(
        client.screen_listing(ask(revision + 1000)).await,
        Code::Unavailable,
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    let info = behind.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "CATALOGUE_BEHIND");
    assert!(behind.get_details_retry_info().is_some());
    let bad = expect_code(client.screen_listing(ask(-1)).await, Code::InvalidArgument);
    assert!(bad.message().contains("min_catalogue_revision"), "{bad:?}");
    // Other changes to the catalogue answer with their revision too; one that changes
    // nothing answers 0.
    let suspended = admin
        .suspend_member(registry::SuspendMemberRequest {
            id: member.id.clone(),
            etag: String::new(),
            reason: "unpaid".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(suspended.catalogue_revision > revision);
    let reactivated = admin
        .activate_member(registry::ActivateMemberRequest {
            id: member.id.clone(),
            etag: String::new(),
            reason: "paid".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(reactivated.catalogue_revision > suspended.catalogue_revision);
}

async fn a_catalogue_change_reaches_verdicts_within_a_second(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut client = screening(&sandbox, MARKETPLACE).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let mut legal = registry(&sandbox, LEGAL).await;
    let member = active_member(&mut admin, "Velmora SA", registry::MemberKind::BrandOwner).await;
    let brand = create_brand(&mut admin, &member.id, "Velmora").await;
    let right = create_right(&mut admin, trademark_msg(&brand.id, "018700002")).await;
    let counterfeit = || listing("lst-v", "Velmora wallet replica AAA", "wallets", usd(20));

    let before = screen(&mut client, counterfeit()).await.verdict.unwrap();
    assert!(before.brands.is_empty(), "not protected yet: {before:?}");

    verify(&mut legal, &right.id).await;
    let verified_at = Instant::now();
    loop {
        let verdict = screen(&mut client, counterfeit()).await.verdict.unwrap();
        if verdict.brands.iter().any(|b| b.brand_id == brand.id) {
            assert_eq!(verdict.decision(), Decision::Block);
            break;
        }
        assert!(
            verified_at.elapsed() < Duration::from_secs(1),
            "the verification did not reach screening within a second"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Suspending the member takes the brand back out.
    admin
        .suspend_member(registry::SuspendMemberRequest {
            id: member.id,
            etag: String::new(),
            reason: "audit".into(),
        })
        .await
        .unwrap();
    let suspended_at = Instant::now();
    loop {
        let verdict = screen(&mut client, counterfeit()).await.verdict.unwrap();
        if verdict.brands.is_empty() {
            break;
        }
        assert!(suspended_at.elapsed() < Duration::from_secs(1));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn bad_listings_are_refused_and_nothing_is_stored(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    screened_brand(&sandbox, "Orvane", "018700003").await;
    let mut client = screening(&sandbox, MARKETPLACE).await;
    let mut analyst = screening(&sandbox, ANALYST).await;
    let good = || listing("lst-bad", "Orvane replica bag", "handbags", usd(10));
    let cases: Vec<(Listing, &str)> = vec![
        (
            Listing {
                title: String::new(),
                ..good()
            },
            "listing.title",
        ),
        (
            Listing {
                title: "t".repeat(501),
                ..good()
            },
            "listing.title",
        ),
        (
            Listing {
                description: "d".repeat(20_001),
                ..good()
            },
            "listing.description",
        ),
        (
            Listing {
                price: Some(usd(-5)),
                ..good()
            },
            "listing.price",
        ),
        (
            Listing {
                price: Some(Money {
                    currency_code: "XXQ".into(),
                    units: 5,
                    nanos: 0,
                }),
                ..good()
            },
            "listing.price",
        ),
        (
            Listing {
                price: None,
                ..good()
            },
            "listing.price",
        ),
        (
            Listing {
                listing_id: String::new(),
                ..good()
            },
            "listing.listing_id",
        ),
        (
            Listing {
                seller_id: "bad seller".into(),
                ..good()
            },
            "listing.seller_id",
        ),
        (
            Listing {
                category: "Hand Bags".into(),
                ..good()
            },
            "listing.category",
        ),
        (
            Listing {
                ship_from_country: "XX".into(),
                ..good()
            },
            "listing.ship_from_country",
        ),
        (
            Listing {
                images: vec![ListingImage {
                    source: Some(listing_image::Source::Content(vec![7; 300_000])),
                }],
                ..good()
            },
            "listing.images[0].content",
        ),
        (
            Listing {
                images: (0..11)
                    .map(|i| ListingImage {
                        source: Some(listing_image::Source::PerceptualHash(i)),
                    })
                    .collect(),
                ..good()
            },
            "listing.images",
        ),
        (
            Listing {
                seller: Some(SellerFacts {
                    account_age_days: -1,
                    rating: None,
                    prior_strikes: 0,
                }),
                ..good()
            },
            "listing.seller.account_age_days",
        ),
    ];
    for (bad, field) in cases {
        let status = expect_code(
            client
                .screen_listing(ScreenListingRequest {
                    listing: Some(bad),
                    ..Default::default()
                })
                .await,
            Code::InvalidArgument,
        );
        assert_eq!(bad_fields(&status), [field], "{status:?}");
    }
    let hits = analyst
        .list_hits(ListHitsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .hits;
    assert!(
        hits.is_empty(),
        "nothing stored for refused listings: {hits:?}"
    );
}

async fn a_hit_is_stored_once_per_listing_outcome(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (_, brand) = screened_brand(&sandbox, "Sorelle", "018700004").await;
    let mut client = screening(&sandbox, MARKETPLACE).await;
    let mut analyst = screening(&sandbox, ANALYST).await;
    let counterfeit = listing("lst-s", "Sorelle handbag 高仿 复刻", "handbags", usd(30));
    let first = screen(&mut client, counterfeit.clone()).await;
    let again = screen(&mut client, counterfeit.clone()).await;
    assert_eq!(
        first.hit_id, again.hit_id,
        "screening the same listing again adds no hit"
    );
    let edited = screen(
        &mut client,
        Listing {
            title: "Sorelle handbag 高仿 复刻 new colours".into(),
            ..counterfeit
        },
    )
    .await;
    assert_ne!(
        edited.hit_id, first.hit_id,
        "an edited listing is a new hit"
    );

    let hits = analyst
        .list_hits(ListHitsRequest {
            brand_id: brand.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hits;
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].id, edited.hit_id, "newest first");
    let hit = analyst
        .get_hit(GetHitRequest {
            id: first.hit_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .hit
        .unwrap();
    assert_eq!(hit.listing.unwrap().listing_id, "lst-s");
    assert_eq!(hit.verdict.unwrap(), first.verdict.unwrap());

    // Filters: seller, decision, time; and pagination.
    let by_seller = analyst
        .list_hits(ListHitsRequest {
            seller_id: "seller-7".into(),
            decision: Decision::Block as i32,
            page_size: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_seller.hits.len(), 1);
    let rest = analyst
        .list_hits(ListHitsRequest {
            seller_id: "seller-7".into(),
            decision: Decision::Block as i32,
            page_size: 1,
            page_token: by_seller.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(rest.hits.len(), 1);
    assert_ne!(rest.hits[0].id, by_seller.hits[0].id);
    let future = analyst
        .list_hits(ListHitsRequest {
            create_time: Some(TimeRange {
                start_time: Some(prost_types::Timestamp {
                    seconds: 4_000_000_000,
                    nanos: 0,
                }),
                end_time: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(future.hits.is_empty());
    let other_seller = analyst
        .list_hits(ListHitsRequest {
            seller_id: "seller-8".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(other_seller.hits.is_empty());
}

/// Hits from concurrent calls and feeds are written together: the same listing arriving
/// twice in one group, or from many callers at once, is still one hit, and every answer
/// names it.
async fn hits_committed_together_are_stored_once_each(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    screened_brand(&sandbox, "Quintera", "018700009").await;
    let client = screening(&sandbox, MARKETPLACE).await;
    let mut analyst = screening(&sandbox, ANALYST).await;
    let fake = |id: &str| listing(id, "Quintera wallet 1:1 replica", "wallets", usd(9));

    // Twice in one batch of a feed, between others.
    let requests: Vec<ScreenListingsRequest> = ["g-1", "g-2", "g-1", "g-3", "g-2"]
        .iter()
        .map(|id| ScreenListingsRequest {
            listing: Some(fake(id)),
        })
        .collect();
    let answers = feed(&mut client.clone(), requests).await;
    let ids: Vec<&str> = answers.iter().map(|a| a.hit_id.as_str()).collect();
    assert!(ids.iter().all(|id| !id.is_empty()), "{ids:?}");
    assert_eq!(ids[0], ids[2], "the same listing twice in one group");
    assert_eq!(ids[1], ids[4]);
    assert!(ids[0] != ids[1] && ids[1] != ids[3] && ids[0] != ids[3]);

    // Many callers at once, with one listing among them all and one of their own each.
    let calls: Vec<_> = (0..24)
        .map(|i| {
            let mut client = client.clone();
            let listing = if i % 2 == 0 {
                fake("g-shared")
            } else {
                fake(&format!("g-own-{i}"))
            };
            tokio::spawn(async move { screen(&mut client, listing).await.hit_id })
        })
        .collect();
    let mut answered = Vec::new();
    for call in calls {
        answered.push(call.await.unwrap());
    }
    let shared: std::collections::BTreeSet<&String> = answered.iter().step_by(2).collect();
    assert_eq!(
        shared.len(),
        1,
        "one hit for the shared listing: {shared:?}"
    );
    let own: std::collections::BTreeSet<&String> = answered.iter().skip(1).step_by(2).collect();
    assert_eq!(own.len(), 12, "a hit of its own for each other listing");
    assert!(!own.contains(shared.first().unwrap()));

    let stored = count_hits(&mut analyst).await;
    assert_eq!(stored, 3 + 1 + 12, "every hit stored once");

    // Feeds and single calls are written by writers of their own, side by side: the same
    // listings from both at once are still one hit each, named alike in every answer.
    let both = |i: usize| {
        let id = format!("g-both-{}", i % 4);
        listing(&id, "Quintera wallet 1:1 replica", "wallets", usd(9))
    };
    let feeding = tokio::spawn({
        let mut client = client.clone();
        let requests = (0..64)
            .map(|i| ScreenListingsRequest {
                listing: Some(both(i)),
            })
            .collect();
        async move { feed(&mut client, requests).await }
    });
    let calls: Vec<_> = (0..16)
        .map(|i| {
            let mut client = client.clone();
            tokio::spawn(async move { (i % 4, screen(&mut client, both(i)).await.hit_id) })
        })
        .collect();
    let mut named = std::collections::BTreeMap::<usize, std::collections::BTreeSet<String>>::new();
    for call in calls {
        let (listing, id) = call.await.unwrap();
        named.entry(listing).or_default().insert(id);
    }
    for (i, answer) in feeding.await.unwrap().into_iter().enumerate() {
        named.entry(i % 4).or_default().insert(answer.hit_id);
    }
    assert_eq!(named.len(), 4);
    for (listing, ids) in &named {
        assert_eq!(
            ids.len(),
            1,
            "g-both-{listing} is named by one hit: {ids:?}"
        );
        assert!(!ids.first().unwrap().is_empty());
    }
    assert_eq!(
        count_hits(&mut analyst).await,
        stored + 4,
        "one hit for each listing both lanes carried"
    );
}

async fn a_feed_is_answered_in_order_with_errors_in_place(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    screened_brand(&sandbox, "Tessaro", "018700005").await;
    let mut client = screening(&sandbox, MARKETPLACE).await;
    let requests: Vec<ScreenListingsRequest> = (0..1000)
        .map(|i| {
            let mut l = match i % 3 {
                0 => listing(
                    &format!("f-{i}"),
                    "Tessaro wallet 1:1 replica",
                    "wallets",
                    usd(9),
                ),
                1 => listing(
                    &format!("f-{i}"),
                    "Plain leather wallet",
                    "wallets",
                    usd(40),
                ),
                _ => listing(&format!("f-{i}"), "T3ssaro belt", "wallets", usd(30)),
            };
            if i % 97 == 0 {
                l.title.clear(); // invalid
            }
            ScreenListingsRequest { listing: Some(l) }
        })
        .collect();
    let responses = feed(&mut client, requests).await;
    assert_eq!(responses.len(), 1000);
    for (i, response) in responses.iter().enumerate() {
        assert_eq!(
            response.listing_id,
            format!("f-{i}"),
            "answers come in order"
        );
        match &response.result {
            Some(screen_listings_response::Result::Error(error)) => {
                assert_eq!(i % 97, 0);
                assert_eq!(error.field_violations[0].field, "listing.title");
            }
            Some(screen_listings_response::Result::Verdict(verdict)) => {
                assert_ne!(i % 97, 0);
                let expected_allow = i % 3 == 1;
                assert_eq!(
                    verdict.decision() == Decision::Allow,
                    expected_allow,
                    "{i}: {verdict:?}"
                );
                assert_eq!(response.hit_id.is_empty(), expected_allow);
            }
            None => panic!("answer {i} is empty"),
        }
    }
}

async fn a_slow_feed_reader_holds_the_server_back(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    screened_brand(&sandbox, "Quillon", "018700006").await;
    let mut client = ScreeningServiceClient::new(sandbox.narrow_channel(MARKETPLACE).await);
    const SENT: usize = 5_000;
    let (tx, rx) = tokio::sync::mpsc::channel::<ScreenListingsRequest>(SENT);
    for i in 0..SENT {
        tx.try_send(ScreenListingsRequest {
            listing: Some(listing(
                &format!("q-{i}"),
                "Quillon watch replica AAA",
                "handbags",
                usd(5),
            )),
        })
        .unwrap();
    }
    drop(tx);
    let mut answers = client
        .screen_listings(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    // Read nothing for a while: the server must stop, not screen (and buffer) everything.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut reader = screening(&sandbox, ADMIN).await;
    let stored_while_stalled = count_hits(&mut reader).await;
    eprintln!("{stored_while_stalled} of {SENT} screened while the reader stalled");
    // The server screens a batch ahead and holds a few answers; the rest waits in the
    // client's small receive window. Everything else must wait for the reader.
    assert!(
        stored_while_stalled < 1_000,
        "{stored_while_stalled} of {SENT} screened while nobody read the answers"
    );
    let mut received = 0;
    while let Some(answer) = answers.message().await.unwrap() {
        assert_eq!(answer.listing_id, format!("q-{received}"));
        received += 1;
    }
    assert_eq!(
        received, SENT,
        "every listing answered once reading resumed"
    );
}

async fn count_hits(client: &mut Screening) -> usize {
    let mut count = 0;
    let mut token = String::new();
    loop {
        let page = client
            .list_hits(ListHitsRequest {
                page_size: 1000,
                page_token: token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        count += page.hits.len();
        if page.next_page_token.is_empty() {
            return count;
        }
        token = page.next_page_token;
    }
}

async fn members_manage_rules_of_their_own_brands_only(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (alpha, alpha_brand) = screened_brand(&sandbox, "Alvora", "018700007").await;
    let (_, beta_brand) = screened_brand(&sandbox, "Betrix", "018700008").await;
    let mut alpha_client = screening(&sandbox, &format!("member:{}", alpha.id)).await;
    let rule_for = |brand_id: &str| CreateRuleRequest {
        rule: Some(Rule {
            brand_id: brand_id.to_owned(),
            description: "look-alike line names".into(),
            vocabulary: vec![VocabularyTerm {
                term: "vintage inspired".into(),
                weight: 0.5,
            }],
            ..Rule::default()
        }),
        request_id: String::new(),
    };
    let own = alpha_client
        .create_rule(rule_for(&alpha_brand.id))
        .await
        .unwrap()
        .into_inner()
        .rule
        .unwrap();
    assert_eq!(own.version, 1);
    const NO_BRAND: &str = "brd_0123456789abcdef0123456789abcdef";
    const NO_RULE: &str = "rul_0123456789abcdef0123456789abcdef";
    answers_like_missing(
        alpha_client.create_rule(rule_for(&beta_brand.id)).await,
        &beta_brand.id,
        alpha_client.create_rule(rule_for(NO_BRAND)).await,
        NO_BRAND,
    );
    expect_code(
        alpha_client.create_rule(rule_for("")).await,
        Code::PermissionDenied,
    );

    let mut analyst = screening(&sandbox, ANALYST).await;
    let beta_rule = analyst
        .create_rule(rule_for(&beta_brand.id))
        .await
        .unwrap()
        .into_inner()
        .rule
        .unwrap();
    // Another member's rule reads exactly like one that does not exist.
    let update = |id: &str| UpdateRuleRequest {
        rule: Some(Rule {
            id: id.to_owned(),
            vocabulary: vec![],
            ..Rule::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["vocabulary".into()],
        }),
    };
    answers_like_missing(
        alpha_client.update_rule(update(&beta_rule.id)).await,
        &beta_rule.id,
        alpha_client.update_rule(update(NO_RULE)).await,
        NO_RULE,
    );
    let delete = |id: &str| DeleteRuleRequest {
        id: id.to_owned(),
        etag: String::new(),
    };
    answers_like_missing(
        alpha_client.delete_rule(delete(&beta_rule.id)).await,
        &beta_rule.id,
        alpha_client.delete_rule(delete(NO_RULE)).await,
        NO_RULE,
    );
    let get = |id: &str| GetRuleRequest { id: id.to_owned() };
    answers_like_missing(
        alpha_client.get_rule(get(&beta_rule.id)).await,
        &beta_rule.id,
        alpha_client.get_rule(get(NO_RULE)).await,
        NO_RULE,
    );
    let listed = alpha_client
        .list_rules(ListRulesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .rules;
    assert_eq!(
        listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [own.id.as_str()]
    );

    // Bad rules name their fields; unknown brands are refused.
    let status = expect_code(
        analyst
            .create_rule(CreateRuleRequest {
                rule: Some(Rule {
                    brand_id: alpha_brand.id.clone(),
                    vocabulary: vec![VocabularyTerm {
                        term: String::new(),
                        weight: 2.0,
                    }],
                    review_threshold: Some(0.9),
                    block_threshold: Some(0.1),
                    ..Rule::default()
                }),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(
        bad_fields(&status),
        [
            "rule.vocabulary[0].term",
            "rule.vocabulary[0].weight",
            "rule.block_threshold"
        ]
    );
    expect_code(
        analyst
            .create_rule(rule_for("brd_0193c9a0b1c2d3e4f5a6b7c8d9e0f1a2"))
            .await,
        Code::FailedPrecondition,
    );
}

async fn rules_are_versioned_and_change_verdicts(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (_, brand) = screened_brand(&sandbox, "Calvora", "018700009").await;
    let mut marketplace = screening(&sandbox, MARKETPLACE).await;
    let mut analyst = screening(&sandbox, ANALYST).await;
    let subtle = || {
        listing(
            "lst-c",
            "Calvora bag, factory overrun",
            "handbags",
            usd(1500),
        )
    };

    let before = screen(&mut marketplace, subtle()).await.verdict.unwrap();
    assert_eq!(before.decision(), Decision::Allow, "{before:?}");
    let rule_version_before = before.rule_version;

    let rule = analyst
        .create_rule(CreateRuleRequest {
            rule: Some(Rule {
                brand_id: brand.id.clone(),
                vocabulary: vec![VocabularyTerm {
                    term: "factory overrun".into(),
                    weight: 0.7,
                }],
                ..Rule::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .rule
        .unwrap();
    let after = screen(&mut marketplace, subtle()).await.verdict.unwrap();
    assert!(after.rule_version > rule_version_before);
    assert_eq!(after.decision(), Decision::Block, "{after:?}");
    let status = engine_at(&mut marketplace, 0).await;
    assert_eq!(status.rule_version, after.rule_version);
    assert!(status.vocabulary_terms > 0 && status.brands == 1);

    // Raise this brand's thresholds: the same listing is only reviewed.
    let updated = analyst
        .update_rule(UpdateRuleRequest {
            rule: Some(Rule {
                id: rule.id.clone(),
                review_threshold: Some(0.5),
                block_threshold: Some(0.99),
                etag: rule.etag.clone(),
                ..Rule::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["review_threshold".into(), "block_threshold".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .rule
        .unwrap();
    assert_eq!(updated.version, 2);
    assert_eq!(
        updated.vocabulary.len(),
        1,
        "fields outside the mask are kept"
    );
    let reviewed = screen(&mut marketplace, subtle()).await.verdict.unwrap();
    assert_eq!(reviewed.decision(), Decision::Review);
    expect_code(
        analyst
            .update_rule(UpdateRuleRequest {
                rule: Some(Rule {
                    id: rule.id.clone(),
                    etag: rule.etag.clone(),
                    ..Rule::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["description".into()],
                }),
            })
            .await,
        Code::Aborted,
    );

    analyst
        .delete_rule(DeleteRuleRequest {
            id: rule.id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    let revisions = analyst
        .list_rule_revisions(ListRuleRevisionsRequest {
            rule_id: rule.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .revisions;
    let versions: Vec<(i64, bool)> = revisions
        .iter()
        .map(|r| (r.rule.as_ref().unwrap().version, r.deleted))
        .collect();
    assert_eq!(versions, [(3, true), (2, false), (1, false)]);
    assert!(
        revisions
            .windows(2)
            .all(|w| w[0].rule_set_version > w[1].rule_set_version)
    );
    let back = screen(&mut marketplace, subtle()).await.verdict.unwrap();
    assert_eq!(back.decision(), Decision::Allow);
    expect_code(
        analyst.get_rule(GetRuleRequest { id: rule.id }).await,
        Code::NotFound,
    );
}

async fn feedback_gives_precision_per_signal_and_brand(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (_, brand) = screened_brand(&sandbox, "Dorian", "018700010").await;
    let mut marketplace = screening(&sandbox, MARKETPLACE).await;
    let mut analyst = screening(&sandbox, ANALYST).await;
    let mut hits = Vec::new();
    for i in 0..4 {
        let response = screen(
            &mut marketplace,
            listing(
                &format!("lst-d{i}"),
                "Dorian handbag replica",
                "handbags",
                usd(30 + i),
            ),
        )
        .await;
        hits.push(response.hit_id);
    }
    for (i, hit) in hits.iter().enumerate() {
        let outcome = if i < 3 {
            FeedbackOutcome::ConfirmedCounterfeit
        } else {
            FeedbackOutcome::FalsePositive
        };
        let recorded = analyst
            .record_hit_feedback(RecordHitFeedbackRequest {
                hit_id: hit.clone(),
                outcome: outcome as i32,
                note: "checked by test purchase".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .hit
            .unwrap();
        assert_eq!(recorded.feedback.unwrap().recorded_by, "staff:ann");
    }
    let report = analyst
        .get_precision_report(GetPrecisionReportRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.hits_with_feedback, 4);
    let vocabulary = report
        .signals
        .iter()
        .find(|s| s.kind == SignalKind::Vocabulary as i32)
        .unwrap();
    assert_eq!((vocabulary.confirmed, vocabulary.false_positives), (3, 1));
    assert!((vocabulary.precision - 0.75).abs() < 1e-9);
    assert_eq!(report.brands.len(), 1);
    assert_eq!(report.brands[0].brand_id, brand.id);

    let status = expect_code(
        analyst
            .record_hit_feedback(RecordHitFeedbackRequest {
                hit_id: hits[0].clone(),
                outcome: 0,
                note: String::new(),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["outcome"]);
}

/// A brand whose flagged listings analysts mostly dismiss: a calibration learns it, weakens
/// the brand's evidence until such listings are allowed, reports what it changed, and is
/// taken back by putting none in use.
async fn feedback_calibrates_the_weights_and_a_calibration_can_be_taken_back(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (_, brand) = screened_brand(&sandbox, "Orlanique", "018700012").await;
    let mut marketplace = screening(&sandbox, MARKETPLACE).await;
    let mut analyst = screening(&sandbox, ANALYST).await;
    let plain = |i: i64| {
        listing(
            &format!("lst-o{i}"),
            "Orlanique handbag",
            "handbags",
            usd(30 + i),
        )
    };
    let before = screen(&mut marketplace, plain(0)).await;
    let verdict = before.verdict.clone().unwrap();
    assert_ne!(verdict.decision, Decision::Allow as i32);
    assert_eq!(verdict.calibration_version, 0);
    for signal in &verdict.signals {
        assert_eq!(signal.base_contribution, signal.contribution, "{signal:?}");
    }
    let mut hits = vec![before.hit_id];
    for i in 1..40 {
        hits.push(screen(&mut marketplace, plain(i)).await.hit_id);
    }
    for (i, hit) in hits.iter().enumerate() {
        let outcome = if i % 10 == 0 {
            FeedbackOutcome::ConfirmedCounterfeit
        } else {
            FeedbackOutcome::FalsePositive
        };
        analyst
            .record_hit_feedback(RecordHitFeedbackRequest {
                hit_id: hit.clone(),
                outcome: outcome as i32,
                note: String::new(),
            })
            .await
            .unwrap();
    }
    let report = analyst
        .get_precision_report(GetPrecisionReportRequest::default())
        .await
        .unwrap()
        .into_inner();
    // Predicted risk against the confirmed share: every hit in one band, 4 of 40 confirmed.
    assert_eq!(report.calibration.len(), 1, "{:?}", report.calibration);
    let band = &report.calibration[0];
    assert_eq!(band.hits, 40);
    assert!((band.confirmed_share - 0.1).abs() < 1e-9);
    assert!(band.mean_risk >= band.risk_from && band.mean_risk < band.risk_to);

    let request = CreateCalibrationRequest {
        request_id: "0a8f7c36-5d1e-4c1b-9a53-3f6b2c9d1e01".into(),
        hits_screened: None,
        activate: true,
    };
    let made = analyst
        .create_calibration(request.clone())
        .await
        .unwrap()
        .into_inner()
        .calibration
        .unwrap();
    assert_eq!((made.version, made.active, made.hits_used), (1, true, 40));
    assert_eq!(made.created_by, "staff:ann");
    let moved = made
        .brands
        .iter()
        .find(|w| w.subject == Some(weight_shift::Subject::BrandId(brand.id.clone())))
        .expect("the brand has enough feedback to move");
    assert!(moved.shift < 0.0, "{moved:?}");
    assert_eq!((moved.confirmed, moved.false_positives), (4, 36));
    let changes = made.report.unwrap();
    assert!(
        changes.log_loss_after < changes.log_loss_before,
        "{changes:?}"
    );
    assert_eq!(changes.false_positives_no_longer_flagged, 36);
    // A retry returns the same calibration and makes no second one.
    let again = analyst
        .create_calibration(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.calibration.unwrap().version, 1);

    // Screening uses it at once: the listing is now allowed, and says why.
    let after = screen(&mut marketplace, plain(100)).await.verdict.unwrap();
    assert_eq!(after.decision, Decision::Allow as i32);
    assert_eq!(after.calibration_version, 1);
    assert!(after.rule_version > verdict.rule_version);
    let text = |v: &Verdict| {
        v.signals
            .iter()
            .find(|s| s.kind == SignalKind::BrandText as i32)
            .cloned()
            .unwrap()
    };
    assert_eq!(text(&after).base_contribution, text(&verdict).contribution);
    assert!(text(&after).contribution < text(&verdict).contribution);

    // A calibration stored for review is not used until it is put in use.
    let stored = analyst
        .create_calibration(CreateCalibrationRequest::default())
        .await
        .unwrap()
        .into_inner()
        .calibration
        .unwrap();
    assert_eq!((stored.version, stored.active), (2, false));
    assert_eq!(stored.report.unwrap().previous_version, 1);

    // Taken back: none in use, and the verdict is what it was.
    let taken_back = analyst
        .activate_calibration(ActivateCalibrationRequest { version: 0 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(taken_back.version, 0);
    let restored = screen(&mut marketplace, plain(0)).await.verdict.unwrap();
    assert_eq!(restored.calibration_version, 0);
    assert_eq!(restored.rule_version, taken_back.rule_version);
    assert_eq!(
        (restored.risk_score, restored.decision, restored.signals),
        (
            verdict.risk_score,
            verdict.decision,
            verdict.signals.clone()
        )
    );
    let listed = analyst
        .list_calibrations(ListCalibrationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    let versions: Vec<(i64, bool)> = listed
        .calibrations
        .iter()
        .map(|c| (c.version, c.active))
        .collect();
    assert_eq!(versions, [(2, false), (1, false)]);
    let status = marketplace
        .get_engine_status(GetEngineStatusRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.calibration_version, 0);

    let bad_range = expect_code(
        analyst
            .create_calibration(CreateCalibrationRequest {
                hits_screened: Some(TimeRange {
                    start_time: Some(prost_types::Timestamp {
                        seconds: 2_000_000_000,
                        nanos: 0,
                    }),
                    end_time: Some(prost_types::Timestamp {
                        seconds: 1_000_000_000,
                        nanos: 0,
                    }),
                }),
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&bad_range), ["hits_screened.end_time"]);
    let negative = expect_code(
        analyst
            .activate_calibration(ActivateCalibrationRequest { version: -1 })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&negative), ["version"]);
    expect_code(
        analyst
            .activate_calibration(ActivateCalibrationRequest { version: 99 })
            .await,
        Code::NotFound,
    );
    // Nothing of that reached the engine.
    let listed = analyst
        .list_calibrations(ListCalibrationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.calibrations.len(), 2);
}

async fn members_see_only_hits_about_their_brands(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (alpha, alpha_brand) = screened_brand(&sandbox, "Elandor", "018700011").await;
    let (beta, _) = screened_brand(&sandbox, "Fenwick", "018700012").await;
    let mut marketplace = screening(&sandbox, MARKETPLACE).await;
    let alpha_hit = screen(
        &mut marketplace,
        listing("lst-e", "Elandor wallet replica", "wallets", usd(9)),
    )
    .await
    .hit_id;
    let beta_hit = screen(
        &mut marketplace,
        listing("lst-f", "Fenwick wallet replica", "wallets", usd(9)),
    )
    .await
    .hit_id;
    let mut alpha_client = screening(&sandbox, &format!("member:{}", alpha.id)).await;
    let seen = alpha_client
        .list_hits(ListHitsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .hits;
    assert_eq!(
        seen.iter().map(|h| h.id.as_str()).collect::<Vec<_>>(),
        [alpha_hit.as_str()]
    );
    alpha_client
        .get_hit(GetHitRequest {
            id: alpha_hit.clone(),
        })
        .await
        .unwrap();
    // Another member's hits read exactly like ones that do not exist.
    const NO_HIT: &str = "hit_0123456789abcdef0123456789abcdef";
    const NO_BRAND: &str = "brd_0123456789abcdef0123456789abcdef";
    let get = |id: &str| GetHitRequest { id: id.to_owned() };
    answers_like_missing(
        alpha_client.get_hit(get(&beta_hit)).await,
        &beta_hit,
        alpha_client.get_hit(get(NO_HIT)).await,
        NO_HIT,
    );
    let mut beta_client = screening(&sandbox, &format!("member:{}", beta.id)).await;
    let by_brand = |brand_id: &str| ListHitsRequest {
        brand_id: brand_id.to_owned(),
        ..Default::default()
    };
    answers_like_missing(
        beta_client.list_hits(by_brand(&alpha_brand.id)).await,
        &alpha_brand.id,
        beta_client.list_hits(by_brand(NO_BRAND)).await,
        NO_BRAND,
    );
    // A member confirms a hit about its own brand.
    alpha_client
        .record_hit_feedback(RecordHitFeedbackRequest {
            hit_id: alpha_hit,
            outcome: FeedbackOutcome::ConfirmedCounterfeit as i32,
            note: String::new(),
        })
        .await
        .unwrap();
    let feedback = |hit_id: &str| RecordHitFeedbackRequest {
        hit_id: hit_id.to_owned(),
        outcome: FeedbackOutcome::FalsePositive as i32,
        note: String::new(),
    };
    answers_like_missing(
        alpha_client.record_hit_feedback(feedback(&beta_hit)).await,
        &beta_hit,
        alpha_client.record_hit_feedback(feedback(NO_HIT)).await,
        NO_HIT,
    );
}

/// Case management's relay sends standings a thousand at a time: every one is recorded,
/// an older copy replaces none, and each is read back as sent.
async fn a_whole_page_of_seller_standings_is_recorded_at_once(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[assay::ServiceName::Registry, assay::ServiceName::Screening],
        |_| {},
    )
    .await;
    let mut relay = screening(&sandbox, "service:cases").await;
    let now = std::time::SystemTime::now();
    let page = |as_of: std::time::SystemTime| RecordSellerStandingsRequest {
        standings: (0..1000)
            .map(|i| SellerStanding {
                seller_id: format!("seller-{i}"),
                strike_times: (0..i % 5)
                    .map(|k| {
                        prost_types::Timestamp::from(now - Duration::from_secs(86_400 * (k + 1)))
                    })
                    .collect(),
                strike_window: Some(prost_types::Duration {
                    seconds: 365 * 86_400,
                    nanos: 0,
                }),
                repeat_infringer_strikes: 3,
                links: if i % 10 == 3 {
                    vec![SellerLink {
                        seller_id: "seller-4".to_owned(),
                        evidence: "payment account".to_owned(),
                    }]
                } else {
                    Vec::new()
                },
                as_of: Some(prost_types::Timestamp::from(as_of)),
            })
            .collect(),
    };
    let recorded = relay
        .record_seller_standings(page(now))
        .await
        .unwrap()
        .into_inner()
        .recorded;
    assert_eq!(recorded, 1000);
    let older = relay
        .record_seller_standings(page(now - Duration::from_secs(60)))
        .await
        .unwrap()
        .into_inner()
        .recorded;
    assert_eq!(older, 0, "an older standing replaces nothing");
    // Two relays sending the same sellers at once, in opposite orders: neither waits on
    // the other for ever (PostgreSQL would end one as a deadlock).
    for round in 1..=3u64 {
        let forward = page(now + Duration::from_secs(2 * round));
        let mut backward = page(now + Duration::from_secs(2 * round + 1));
        backward.standings.reverse();
        let mut other = relay.clone();
        let (one, two) = tokio::join!(
            relay.record_seller_standings(forward),
            other.record_seller_standings(backward)
        );
        // Whichever came second recorded only what was newer than the first.
        let (one, two) = (one.unwrap().into_inner(), two.unwrap().into_inner());
        assert!(one.recorded + two.recorded >= 1000, "{one:?} {two:?}");
    }
    let read = screening(&sandbox, ANALYST)
        .await
        .get_seller_standing(GetSellerStandingRequest {
            seller_id: "seller-13".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .standing
        .unwrap();
    assert_eq!(read.strike_times.len(), 3);
    assert_eq!(read.links.len(), 1);
}
