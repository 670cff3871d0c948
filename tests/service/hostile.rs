//! Hostile input: oversized repeated fields are refused before any entry is looked at, error
//! answers stay small, and names shown to people cannot hide or reorder what they say.

use assay_tests::proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_tests::proto::cases::v1::*;
use assay_tests::proto::registry::v1::*;
use assay_tests::{Backend, Sandbox, bad_fields, expect_code, on_both_backends};
use tonic::Code;
use tonic_types::StatusExt;

use crate::fixtures::*;
use crate::python;

on_both_backends!(
    oversized_lists_are_refused_whole_with_a_short_answer,
    names_shown_to_people_cannot_hide_or_reorder_text,
    open_streams_count_against_the_limits_for_their_whole_life,
    many_fast_feeds_on_one_connection_are_all_answered,
    long_fast_feeds_are_all_answered,
    a_feed_that_sends_a_message_too_large_ends_with_the_reason,
    each_caller_is_held_to_its_rate,
);

async fn oversized_lists_are_refused_whole_with_a_short_answer(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut analyst = CasesServiceClient::new(sandbox.as_principal(Some(ANALYST)).await);

    // 100,000 statuses, each of them bad: one violation for the field, not 100,000.
    let status = expect_code(
        analyst
            .list_cases(ListCasesRequest {
                statuses: vec![99; 100_000],
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["statuses"]);
    assert!(status.message().len() < 4096, "{}", status.message().len());

    // 100,000 case ids in a bulk update are 3.8 MB: far more than the RPC takes, refused
    // from the message's length prefix before it is read.
    let bulk = |ids: usize| BulkUpdateCasesRequest {
        case_ids: vec!["cas_0123456789abcdef0123456789abcdef".to_owned(); ids],
        action: Some(bulk_update_cases_request::Action::CloseNote("x".to_owned())),
    };
    let status = expect_code(
        analyst.bulk_update_cases(bulk(100_000)).await,
        Code::ResourceExhausted,
    );
    assert!(
        status
            .message()
            .contains("larger than the 262144 bytes this RPC takes"),
        "{}",
        status.message()
    );
    // 5,000 (all the same) fit in the message but not the bulk limit: refused whole.
    let status = expect_code(
        analyst.bulk_update_cases(bulk(5_000)).await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["case_ids"]);
    // The connection that carried them is still good.
    expect_code(analyst.bulk_update_cases(bulk(1)).await, Code::NotFound);

    // Many bad entries under the limit: at most twenty named, the rest counted.
    let mut admin = registry(&sandbox, ADMIN).await;
    let member = active_member(&mut admin, "Many Sellers SA", MemberKind::BrandOwner).await;
    let status = expect_code(
        admin
            .create_brand(CreateBrandRequest {
                brand: Some(Brand {
                    authorized_seller_ids: (0..5_000).map(|i| format!("bad id {i}")).collect(),
                    ..brand_msg(&member.id, "Crowded")
                }),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
    );
    let named = status.get_details_bad_request().unwrap().field_violations;
    assert_eq!(named.len(), 20);
    assert!(
        status.message().contains("and 4980 more"),
        "{}",
        status.message()
    );
    assert!(status.message().len() < 4096);
}

async fn names_shown_to_people_cannot_hide_or_reorder_text(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    // "Maison Lumière" that displays as something else: a right-to-left override.
    let status = expect_code(
        admin
            .create_member(CreateMemberRequest {
                member: Some(member_msg("Maison \u{202E}erèimuL", MemberKind::BrandOwner)),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["member.legal_name"]);
    let member = active_member(&mut admin, "Maison Lumière SA", MemberKind::BrandOwner).await;
    let status = expect_code(
        admin
            .create_brand(CreateBrandRequest {
                brand: Some(brand_msg(&member.id, "Lumi\u{200B}ère")),
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
    );
    // brand_msg also gives it the alias "Lumi\u{200B}ère Paris".
    assert_eq!(bad_fields(&status), ["brand.name", "brand.aliases[0]"]);
    // Persian needs its zero-width non-joiner: such names stay welcome.
    create_brand(&mut admin, &member.id, "می\u{200C}خواهم").await;
}

/// One member token once held 500 catalogue watches past a limit of 8 calls at once.
async fn open_streams_count_against_the_limits_for_their_whole_life(backend: Backend) {
    let sandbox = Sandbox::start_with(backend, assay::ServiceName::ALL, |config| {
        config.server.max_concurrent_requests = 8;
        config.server.max_streams_per_principal = 3;
    })
    .await;
    let watch = |principal: &'static str| {
        let sandbox = &sandbox;
        async move {
            let mut client = registry(sandbox, principal).await;
            client
                .watch_catalogue(WatchCatalogueRequest { since_revision: 0 })
                .await
                .map(|r| r.into_inner())
        }
    };
    // Three watches of one caller stay open; its fourth is refused, with when to retry.
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut stream = watch(ADMIN).await.expect("a watch within the limit");
        stream.message().await.expect("the first revision");
        open.push(stream);
    }
    let refused = expect_code(watch(ADMIN).await, Code::ResourceExhausted);
    assert!(refused.get_details_retry_info().is_some(), "{refused:?}");
    // Another caller still gets its own, up to the server's limit of 8 at once (screening
    // and cases in this process hold a watch each).
    for _ in 0..3 {
        let mut stream = watch("staff:audrey:auditor")
            .await
            .expect("its own watches");
        stream.message().await.unwrap();
        open.push(stream);
    }
    let full = expect_code(watch("staff:ann:analyst").await, Code::ResourceExhausted);
    assert!(full.get_details_retry_info().is_some());
    // Health is never shed.
    sandbox.wait_until_serving("").await;
    // Closing streams gives their places back.
    open.clear();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match watch(ADMIN).await {
            Ok(_) => break,
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted);
                assert!(
                    std::time::Instant::now() < deadline,
                    "places never came back"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Marketplaces send without waiting for answers: feeds of small listings, one message per
/// DATA frame, sent as fast as the client can on a busy machine, all complete with every
/// answer in order (once the server dropped whole connections with GOAWAY
/// ENHANCE_YOUR_CALM, "too_many_data_frames").
async fn many_fast_feeds_on_one_connection_are_all_answered(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    protected_brand(&sandbox, "Quillon", "018700066").await;
    let channel = sandbox.as_principal(Some(MARKETPLACE)).await;
    feed_all(vec![channel; 200], 200).await;
}

async fn long_fast_feeds_are_all_answered(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    protected_brand(&sandbox, "Quillon", "018700067").await;
    let mut channels = Vec::new();
    for _ in 0..10 {
        // One connection per feed.
        channels.push(sandbox.as_principal(Some(MARKETPLACE)).await);
    }
    feed_all(channels, 20_000).await;
}

/// A listing over the feed's message limit ends the feed with RESOURCE_EXHAUSTED after the
/// listings before it are answered: never an OK that silently drops the rest.
async fn a_feed_that_sends_a_message_too_large_ends_with_the_reason(backend: Backend) {
    use assay_tests::proto::screening::v1::listing_image::Source;
    use assay_tests::proto::screening::v1::screening_service_client::ScreeningServiceClient;
    use assay_tests::proto::screening::v1::{Listing, ListingImage, ScreenListingsRequest};
    let sandbox = Sandbox::start(backend).await;
    protected_brand(&sandbox, "Quillon", "018700068").await;
    let mut client = ScreeningServiceClient::new(sandbox.as_principal(Some(MARKETPLACE)).await);
    let listing = |i: usize, image_bytes: usize| ScreenListingsRequest {
        listing: Some(Listing {
            listing_id: format!("l-{i}"),
            seller_id: "s".into(),
            title: format!("bag {i}"),
            category: "bags".into(),
            images: (image_bytes > 0)
                .then(|| ListingImage {
                    source: Some(Source::Content(vec![0; image_bytes])),
                })
                .into_iter()
                .collect(),
            ..Default::default()
        }),
    };
    // The fourth listing carries 4 MiB, over the feed's 3 MiB per message.
    let requests: Vec<_> = (0..6)
        .map(|i| listing(i, if i == 3 { 4 << 20 } else { 0 }))
        .collect();
    let mut answers = client
        .screen_listings(tokio_stream::iter(requests))
        .await
        .expect("the feed opens")
        .into_inner();
    let mut answered = Vec::new();
    let status = loop {
        match answers.message().await {
            Ok(Some(answer)) => answered.push(answer.listing_id),
            Ok(None) => panic!("the feed ended with OK after {answered:?}"),
            Err(status) => break status,
        }
    };
    assert_eq!(answered, ["l-0", "l-1", "l-2"]);
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("larger than"),
        "{}",
        status.message()
    );
}

/// Runs one feed of `listings` per channel at once, with two threads spinning meanwhile,
/// and asserts every feed is answered whole and in order.
async fn feed_all(channels: Vec<assay_tests::Authed>, listings: usize) {
    use assay_tests::proto::common::v1::Money;
    use assay_tests::proto::screening::v1::screening_service_client::ScreeningServiceClient;
    use assay_tests::proto::screening::v1::{Listing, ScreenListingsRequest};
    let _busy = Busy::start(2);
    let mut feeds = Vec::new();
    for (feed, channel) in channels.into_iter().enumerate() {
        let mut client = ScreeningServiceClient::new(channel);
        feeds.push(tokio::spawn(async move {
            let requests = (0..listings).map(move |i| ScreenListingsRequest {
                listing: Some(Listing {
                    listing_id: format!("f{feed}-{i}"),
                    seller_id: "s".into(),
                    title: format!("bag {i}"),
                    category: "bags".into(),
                    price: Some(Money {
                        currency_code: "EUR".into(),
                        units: 90,
                        nanos: 0,
                    }),
                    ..Default::default()
                }),
            });
            // One message per DATA frame, as clients that send as they go produce: the
            // sender yields between listings, so nothing coalesces them.
            let paced = tokio_stream::StreamExt::then(tokio_stream::iter(requests), |l| async {
                tokio::task::yield_now().await;
                l
            });
            let mut answers = client.screen_listings(paced).await?.into_inner();
            let mut answered = 0;
            while let Some(answer) = answers.message().await? {
                assert_eq!(answer.listing_id, format!("f{feed}-{answered}"));
                answered += 1;
            }
            Ok::<usize, tonic::Status>(answered)
        }));
    }
    let mut failed = Vec::new();
    for (feed, handle) in feeds.into_iter().enumerate() {
        match handle.await.unwrap() {
            Ok(answered) => assert_eq!(answered, listings, "feed {feed}"),
            Err(status) => failed.push(format!("feed {feed}: {status:?}")),
        }
    }
    assert!(
        failed.is_empty(),
        "{} feeds failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
}

async fn each_caller_is_held_to_its_rate(backend: Backend) {
    let sandbox = Sandbox::start_with(backend, assay::ServiceName::ALL, |config| {
        config.server.rate_limits.member = assay_common::config::Rate {
            per_second: 1,
            burst: 3,
        };
    })
    .await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let alpha = active_member(&mut admin, "Alpha SA", MemberKind::BrandOwner).await;
    let beta = active_member(&mut admin, "Beta SA", MemberKind::BrandOwner).await;
    let mut as_alpha = registry(&sandbox, &format!("member:{}", alpha.id)).await;
    let mut as_beta = registry(&sandbox, &format!("member:{}", beta.id)).await;
    let list = || ListBrandsRequest::default();
    for _ in 0..3 {
        as_alpha
            .list_brands(list())
            .await
            .expect("within its burst");
    }
    let refused = expect_code(as_alpha.list_brands(list()).await, Code::ResourceExhausted);
    let retry = refused
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .expect("says when to retry");
    assert!(retry <= std::time::Duration::from_secs(1), "{retry:?}");
    // Another member has a rate of its own.
    as_beta
        .list_brands(list())
        .await
        .expect("beta is not held back by alpha");
    tokio::time::sleep(retry).await;
    as_alpha
        .list_brands(list())
        .await
        .expect("after the wait, alpha goes on");
}

/// The same feeds from Python's grpcio (asyncio), as many integrators will write them: 200
/// streams x 200 listings on one connection, then 10 x 20,000 with a connection each, on a
/// busy server. Flow control does not depend on the database, so this runs on SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_grpcio_feeds_are_all_answered() {
    let python = python::client();
    let sandbox = Sandbox::start(Backend::Sqlite).await;
    protected_brand(&sandbox, "Quillon", "018700068").await;
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), sandbox.token(MARKETPLACE)).unwrap();
    let _busy = Busy::start(2);
    for (streams, listings, own_connections) in [(200, 200, false), (10, 20_000, true)] {
        let mut feeds = python.script("feeds.py");
        feeds
            .arg(sandbox.addr.to_string())
            .arg(token.path())
            .args(["--streams", &streams.to_string()])
            .args(["--listings", &listings.to_string()]);
        if own_connections {
            feeds.arg("--connection-per-stream");
        }
        let out = tokio::task::spawn_blocking(move || feeds.output())
            .await
            .unwrap()
            .expect("run feeds.py");
        let summary = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{streams} x {listings}: {summary}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            summary.contains(&format!("\"completed\": {streams},")),
            "{summary}"
        );
    }
}

/// Threads spinning for as long as it is alive, so that the server reads late; they stop
/// when it is dropped, a failing test included, and after 30 s in any case.
struct Busy {
    running: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Busy {
    fn start(threads: usize) -> Self {
        let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let threads = (0..threads)
            .map(|_| {
                let running = running.clone();
                std::thread::spawn(move || {
                    let started = std::time::Instant::now();
                    while running.load(std::sync::atomic::Ordering::Relaxed)
                        && started.elapsed() < std::time::Duration::from_secs(30)
                    {
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        Self { running, threads }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.running
            .store(false, std::sync::atomic::Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// What Python's grpcio-status reads from Assay's errors: the reason to branch on, in
/// Assay's domain, with the fields, the resource or the missing credentials it is about.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_grpcio_status_reads_the_error_details() {
    let python = python::client();
    let sandbox = Sandbox::start(Backend::Sqlite).await;
    let token = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token.path(), sandbox.token(ADMIN)).unwrap();
    let mut errors = python.script("errors.py");
    errors.arg(sandbox.addr.to_string()).arg(token.path());
    let out = tokio::task::spawn_blocking(move || errors.output())
        .await
        .unwrap()
        .expect("run errors.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["invalid"]["code"], "INVALID_ARGUMENT");
    assert_eq!(seen["invalid"]["reason"], "INVALID_ARGUMENT");
    assert_eq!(seen["invalid"]["domain"], "assay.dev");
    assert!(
        seen["invalid"]["fields"]
            .as_array()
            .is_some_and(|f| f.iter().any(|f| f == "member")),
        "{seen}"
    );
    assert_eq!(seen["missing"]["code"], "NOT_FOUND");
    assert_eq!(seen["missing"]["reason"], "NOT_FOUND");
    assert_eq!(seen["missing"]["resource_type"], "member");
    assert_eq!(seen["anonymous"]["code"], "UNAUTHENTICATED");
    assert_eq!(seen["anonymous"]["reason"], "UNAUTHENTICATED");
}
