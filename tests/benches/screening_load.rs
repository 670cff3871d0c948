//! A load run of screening over loopback, through the generated client, against the whole
//! system in one process (registry and screening, SQLite), as `assay serve` runs it.
//!
//! 1. The feed: 100,000 synthetic listings streamed through `ScreenListings`; listings per
//!    second end to end (validation, screening, storing hits, answering in order).
//! 2. Latency: `ScreenListing` called at a fixed rate (open loop: requests start on schedule
//!    whether or not earlier ones finished); p50, p90, p99 and the worst.
//!
//! Run with `cargo bench -p assay-tests --bench screening_load`. Client and server share the
//! machine's cores. Options: `-- --brands N --feed N --rate N --seconds N`.

use std::time::{Duration, Instant};

use assay_screening::synthetic;
use assay_tests::proto::common::v1::Date;
use assay_tests::proto::registry::v1 as registry;
use assay_tests::proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_tests::proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_tests::proto::screening::v1::{
    GetEngineStatusRequest, ScreenListingRequest, ScreenListingsRequest,
};
use assay_tests::{Backend, Sandbox};
use tokio_stream::StreamExt;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Options {
    brands: usize,
    feed: usize,
    rate: u64,
    seconds: u64,
}

fn options() -> Options {
    let mut options = Options {
        brands: 1_000,
        feed: 100_000,
        rate: 1_000,
        seconds: 10,
    };
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        let value = || pair[1].parse().expect("a number");
        match pair[0].as_str() {
            "--brands" => options.brands = value() as usize,
            "--feed" => options.feed = value() as usize,
            "--rate" => options.rate = value(),
            "--seconds" => options.seconds = value(),
            _ => {}
        }
    }
    options
}

/// Registers `count` synthetic brands, each protected by a verified trade mark.
async fn protect(sandbox: &Sandbox, count: usize) -> Vec<registry::CatalogueBrand> {
    let mut admin =
        RegistryServiceClient::new(sandbox.as_principal(Some("staff:load:admin")).await);
    let mut member_id = String::new();
    for (i, brand) in synthetic::catalogue(count, 7).into_iter().enumerate() {
        if i % 5 == 0 {
            let member = admin
                .create_member(registry::CreateMemberRequest {
                    member: Some(registry::Member {
                        legal_name: format!("Load Member {i}"),
                        kind: registry::MemberKind::BrandOwner as i32,
                        country_code: "FR".into(),
                        contacts: vec![assay_tests::proto::common::v1::Contact {
                            name: "Desk".into(),
                            email: "desk@load.example".into(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .unwrap()
                .into_inner()
                .member
                .unwrap();
            admin
                .activate_member(registry::ActivateMemberRequest {
                    id: member.id.clone(),
                    ..Default::default()
                })
                .await
                .unwrap();
            member_id = member.id;
        }
        let created = admin
            .create_brand(registry::CreateBrandRequest {
                brand: Some(registry::Brand {
                    member_id: member_id.clone(),
                    name: brand.name,
                    aliases: brand.aliases,
                    categories: brand.categories,
                    reference_prices: brand.reference_prices,
                    authorized_seller_ids: brand.authorized_seller_ids,
                    logo_hashes: brand.logo_hashes,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .brand
            .unwrap();
        let right = admin
            .create_ip_right(registry::CreateIpRightRequest {
                ip_right: Some(registry::IpRight {
                    brand_id: created.id,
                    kind: registry::IpRightKind::Trademark as i32,
                    office: registry::IpOffice::Euipo as i32,
                    registration_number: format!("{:09}", 100_000_000 + i),
                    nice_classes: vec![18, 25],
                    valid_from: Some(Date {
                        year: 2020,
                        month: 1,
                        day: 1,
                    }),
                    valid_until: Some(Date {
                        year: 2035,
                        month: 1,
                        day: 1,
                    }),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .ip_right
            .unwrap();
        admin
            .verify_ip_right(registry::VerifyIpRightRequest {
                id: right.id,
                ..Default::default()
            })
            .await
            .unwrap();
    }
    admin
        .get_catalogue(registry::GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner()
        .brands
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let sandbox = Sandbox::start_with(Backend::Sqlite, assay::ServiceName::ALL, |config| {
            config.server.max_concurrent_requests = 4096;
        })
        .await;
        let started = Instant::now();
        let catalogue = protect(&sandbox, options.brands).await;
        println!(
            "catalogue: {} protected brands registered in {:.1} s",
            catalogue.len(),
            started.elapsed().as_secs_f64()
        );
        let mut client =
            ScreeningServiceClient::new(sandbox.as_principal(Some("service:listing-pipeline")).await);
        loop {
            let status = client
                .get_engine_status(GetEngineStatusRequest {})
                .await
                .unwrap()
                .into_inner();
            if status.brands as usize == catalogue.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        // 1. The feed.
        let listings = synthetic::listings(&catalogue, options.feed, 11);
        let requests: Vec<ScreenListingsRequest> = listings
            .iter()
            .cloned()
            .map(|listing| ScreenListingsRequest {
                listing: Some(listing),
            })
            .collect();
        let started = Instant::now();
        let mut answers = client
            .screen_listings(tokio_stream::iter(requests))
            .await
            .unwrap()
            .into_inner();
        let (mut answered, mut hits) = (0usize, 0usize);
        while let Some(answer) = answers.next().await {
            let answer = answer.unwrap();
            assert_eq!(answer.listing_id, listings[answered].listing_id, "in order");
            hits += usize::from(!answer.hit_id.is_empty());
            answered += 1;
        }
        let elapsed = started.elapsed();
        assert_eq!(answered, options.feed);
        println!(
            "feed: {answered} listings in {:.2} s = {:.0} listings/s end to end ({hits} hits stored)",
            elapsed.as_secs_f64(),
            answered as f64 / elapsed.as_secs_f64()
        );

        // 2. Latency at a fixed rate.
        let total = (options.rate * options.seconds) as usize;
        let interval = Duration::from_secs_f64(1.0 / options.rate as f64);
        let mut tasks = Vec::with_capacity(total);
        let start = tokio::time::Instant::now();
        for i in 0..total {
            tokio::time::sleep_until(start + interval * i as u32).await;
            let mut client = client.clone();
            let mut listing = listings[i % listings.len()].clone();
            listing.listing_id = format!("lat-{i}");
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                client
                    .screen_listing(ScreenListingRequest {
                        listing: Some(listing),
                    })
                    .await
                    .expect("screened");
                sent.elapsed()
            }));
        }
        let mut latencies = Vec::with_capacity(total);
        for task in tasks {
            latencies.push(task.await.unwrap());
        }
        let achieved = total as f64 / start.elapsed().as_secs_f64();
        latencies.sort();
        println!(
            "ScreenListing at {} requests/s for {} s ({achieved:.0}/s achieved): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            options.rate,
            options.seconds,
            percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            percentile(&latencies, 0.90).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            latencies.last().unwrap().as_secs_f64() * 1e3,
        );
        sandbox.stop().await;
    });
}
