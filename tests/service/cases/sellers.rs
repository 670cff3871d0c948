//! Sellers: strikes and repeat infringers, enforcement actions up and down, linked
//! storefronts, clusters found through shared identifiers and images.

use super::*;

on_both_backends!(
    strikes_make_repeat_infringers_and_clusters_find_them,
    strikes_bring_enforcement_actions_up_and_down,
    linked_storefronts_are_suspended_with_the_seller_where_configured,
    decisions_at_the_same_moment_count_every_strike,
    strikes_that_expire_step_the_seller_back,
    near_duplicate_product_images_link_sellers,
    screened_images_link_sellers_and_analysts_confirm_or_break_links,
);

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
