//! SIGTERM on a real process: health turns NOT_SERVING at once and stays reachable through
//! `shutdown_delay`; then an open feed answers every listing it received and ends cleanly,
//! and the process exits.

use std::time::Duration;

use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_proto::screening::v1::{Listing, ScreenListingsRequest};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

mod common;
use common::{Process, authed, eur, mint, protect_a_brand};

const SENT: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_open_feeds_finish_what_they_received() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Process::new(
        "a",
        &["registry", "screening"],
        dir.path(),
        vec![("ASSAY_SERVER__SHUTDOWN_DELAY".to_owned(), "2s".to_owned())],
    );
    a.start();
    a.wait_serving(&[
        "assay.registry.v1.RegistryService",
        "assay.screening.v1.ScreeningService",
    ])
    .await;
    let admin = std::fs::read_to_string(dir.path().join("data/bootstrap-token")).unwrap();
    protect_a_brand(&a, admin.trim()).await;
    let pipeline = mint(dir.path(), "service:listing-pipeline");

    // A feed that has sent everything but does not close its side, as a marketplace's
    // long-lived feed would.
    let (tx, rx) = tokio::sync::mpsc::channel::<ScreenListingsRequest>(SENT);
    for i in 0..SENT {
        tx.try_send(ScreenListingsRequest {
            listing: Some(Listing {
                listing_id: format!("lst-{i}"),
                seller_id: "s-1".to_owned(),
                title: format!("Velmora handbag replica {i}"),
                category: "handbags".to_owned(),
                price: Some(eur(40)),
                ..Default::default()
            }),
        })
        .unwrap();
    }
    let mut client = ScreeningServiceClient::new(authed(a.channel().await, &pipeline));
    let mut answers = client
        .screen_listings(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .expect("feed")
        .into_inner();
    let first = answers.message().await.unwrap().expect("an answer");
    assert_eq!(first.listing_id, "lst-0");

    a.terminate();
    // Health says NOT_SERVING at once, and still answers during the delay.
    let mut health = HealthClient::new(a.channel().await);
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    loop {
        let status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health answers while draining")
            .into_inner()
            .status();
        if status == ServingStatus::NotServing {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Every listing received is answered, in order, and the feed ends cleanly.
    let mut received = 1;
    while let Some(answer) = answers
        .message()
        .await
        .expect("the feed ends cleanly, not cut")
    {
        assert_eq!(answer.listing_id, format!("lst-{received}"));
        received += 1;
    }
    assert_eq!(
        received, SENT,
        "every listing sent before the drain is answered"
    );
    drop(tx);
    let status = a.wait_exit(Duration::from_secs(30));
    assert!(status.success(), "{status:?}");
}
