//! A load run of the data path over loopback, through the generated clients, against the
//! whole system in one process, as `assay serve` runs it — on SQLite and on PostgreSQL,
//! one after the other in the same run, each beside its baseline:
//!
//! 1. The feed: synthetic listings streamed through `ScreenListings`, at the synthetic hit
//!    rate (about a quarter of listings stored as hits) and at a realistic ~2%; listings
//!    and hits per second end to end (validation, screening, storing hits with their
//!    outbox alerts, answering in order), and the process's memory meanwhile. On
//!    PostgreSQL beside `pgbench` TPC-B on the same server.
//! 2. Latency: `ScreenListing` called at a fixed rate (open loop: requests start on schedule
//!    whether or not earlier ones finished) while a feed runs; p50, p90, p99 and the worst.
//! 3. One-row reads: `GetMember` and `GetCase` beside a bare tonic call (health) from 8
//!    callers at once, the three in turns; on PostgreSQL beside `pgbench -S -M prepared`.
//!
//! Run with `cargo bench -p assay-tests --bench screening_load`. Client and server share the
//! machine's cores. Options: `-- --backend sqlite|postgres|both --brands N --feed N
//! --rate N --seconds N --without-cases` (the last leaves case management out, so alerts
//! wait in the outbox: what screening and storing hits cost alone).

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use assay_common::outbox;
use assay_screening::synthetic;
use assay_tests::proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_tests::proto::cases::v1::{GetCaseRequest, ListCasesRequest};
use assay_tests::proto::common::v1::Date;
use assay_tests::proto::registry::v1 as registry;
use assay_tests::proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_tests::proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_tests::proto::screening::v1::{
    GetEngineStatusRequest, Listing, RecordSellerStandingsRequest, ScreenListingRequest,
    ScreenListingsRequest, SellerLink, SellerStanding,
};
use assay_tests::{Authed, Backend, Sandbox};
use tokio_stream::StreamExt;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Options {
    backends: Vec<Backend>,
    /// Without case management, hits wait in the outbox: what storing them costs alone.
    without_cases: bool,
    brands: usize,
    feed: usize,
    rate: u64,
    seconds: u64,
}

fn options() -> Options {
    let mut options = Options {
        backends: vec![Backend::Sqlite, Backend::Postgres],
        without_cases: false,
        brands: 1_000,
        feed: 100_000,
        rate: 1_000,
        seconds: 10,
    };
    let args: Vec<String> = std::env::args().collect();
    options.without_cases = args.iter().any(|a| a == "--without-cases");
    for pair in args.windows(2) {
        let value = || pair[1].parse().expect("a number");
        match pair[0].as_str() {
            "--backend" => {
                options.backends = match pair[1].as_str() {
                    "sqlite" => vec![Backend::Sqlite],
                    "postgres" => vec![Backend::Postgres],
                    "both" => vec![Backend::Sqlite, Backend::Postgres],
                    other => panic!("--backend {other}: sqlite, postgres or both"),
                }
            }
            "--brands" => options.brands = value() as usize,
            "--feed" => options.feed = value() as usize,
            "--rate" => options.rate = value(),
            "--seconds" => options.seconds = value(),
            _ => {}
        }
    }
    options
}

/// Waits (up to five minutes) until every alert in screening's outbox was delivered to
/// case management, that is became a case; returns how many still wait.
async fn alerts_become_cases(screening_db: &sea_orm::DatabaseConnection) -> u64 {
    let started = Instant::now();
    loop {
        let waiting = outbox::pending(screening_db, outbox::topic::SCREENING_HIT)
            .await
            .unwrap();
        if waiting == 0 || started.elapsed() > Duration::from_secs(300) {
            return waiting;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

/// The feed at a realistic hit rate: one listing in eleven about a brand (about one in
/// fifty stored as a hit), the rest about nothing protected.
fn realistic(catalogue: &[registry::CatalogueBrand], count: usize, seed: u64) -> Vec<Listing> {
    let branded = synthetic::listings(catalogue, count / 11 + 1, seed);
    let plain = synthetic::listings(&[], count, seed + 1);
    (0..count)
        .map(|i| {
            let mut listing = if i % 11 == 0 {
                branded[i / 11].clone()
            } else {
                plain[i].clone()
            };
            listing.listing_id = format!("real-{seed}-{i}");
            listing
        })
        .collect()
}

/// The standings case management would send for the sellers of `listings`: one in five
/// with 1 to 4 strikes in the last 100 days, one in ten linked to a repeat infringer, the
/// rest known with nothing against them.
fn seller_standings(listings: &[Listing]) -> Vec<SellerStanding> {
    let sellers: std::collections::BTreeSet<&str> =
        listings.iter().map(|l| l.seller_id.as_str()).collect();
    let now = std::time::SystemTime::now();
    let ago = |days: u64| prost_types::Timestamp::from(now - Duration::from_secs(days * 86_400));
    sellers
        .into_iter()
        .enumerate()
        .map(|(i, seller)| SellerStanding {
            seller_id: seller.to_owned(),
            strike_times: if i % 5 == 0 {
                (0..1 + i % 4).map(|k| ago(10 + 20 * k as u64)).collect()
            } else {
                Vec::new()
            },
            strike_window: Some(prost_types::Duration {
                seconds: 365 * 86_400,
                nanos: 0,
            }),
            repeat_infringer_strikes: 3,
            links: if i % 10 == 3 {
                vec![SellerLink {
                    seller_id: "seller-0".to_owned(),
                    evidence: "payment account".to_owned(),
                }]
            } else {
                Vec::new()
            },
            as_of: Some(ago(0)),
        })
        .collect()
}

/// The resident memory of this process (server and client), in MiB.
fn resident_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Streams `listings` through one feed; returns (listings/s, hits stored, peak MiB).
async fn feed(
    client: &mut ScreeningServiceClient<Authed>,
    listings: &[Listing],
) -> (f64, usize, f64) {
    let requests: Vec<ScreenListingsRequest> = listings
        .iter()
        .cloned()
        .map(|listing| ScreenListingsRequest {
            listing: Some(listing),
        })
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn({
        let (done, peak) = (done.clone(), peak.clone());
        async move {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(resident_mib() as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    });
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
    done.store(true, Ordering::Relaxed);
    sampler.await.unwrap();
    assert_eq!(answered, listings.len());
    (
        answered as f64 / elapsed.as_secs_f64(),
        hits,
        peak.load(Ordering::Relaxed) as f64,
    )
}

/// Calls `call` from `callers` tasks at once for `seconds`; returns calls per second.
async fn closed_loop<F, Fut>(callers: usize, seconds: f64, call: F) -> f64
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let calls = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (call, calls) = (call.clone(), calls.clone());
            tokio::spawn(async move {
                while Instant::now() < until {
                    call().await;
                    calls.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    calls.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// `pgbench` on the PostgreSQL the sandbox uses, in a database of its own: (TPC-B tps,
/// select-only prepared tps), or `None` where pgbench is missing.
fn pgbench(seconds: u64) -> Option<(f64, f64)> {
    let admin = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let url = admin
        .rsplit_once('/')
        .map_or(admin.clone(), |(base, _)| format!("{base}/assay_pgbench"));
    let run = |args: &[&str]| -> Option<String> {
        let out = Command::new("pgbench").args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let _ = Command::new("psql")
        .args([admin.as_str(), "-qc", "CREATE DATABASE assay_pgbench"])
        .output();
    run(&["-i", "-q", "-s", "1", &url])?;
    let tps = |out: String| {
        out.lines()
            .find_map(|l| l.strip_prefix("tps = "))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0.0)
    };
    let seconds = seconds.to_string();
    let tpcb = tps(run(&["-n", "-c", "8", "-j", "2", "-T", &seconds, &url])?);
    let select = tps(run(&[
        "-n", "-S", "-M", "prepared", "-c", "8", "-j", "2", "-T", &seconds, &url,
    ])?);
    Some((tpcb, select))
}

async fn run(backend: Backend, options: &Options) {
    let name = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    println!("== {name}");
    let services: &[assay::ServiceName] = if options.without_cases {
        &[assay::ServiceName::Registry, assay::ServiceName::Screening]
    } else {
        assay::ServiceName::ALL
    };
    let sandbox = Sandbox::start_with(backend, services, |config| {
        config.server.max_concurrent_requests = 4096;
        // The bench measures the data path, not the per-caller limits in front of it.
        let unlimited = assay_common::config::Rate {
            per_second: 1_000_000,
            burst: 1_000_000,
        };
        config.server.rate_limits.staff = unlimited;
        config.server.rate_limits.service = unlimited;
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

    // 1. The feed, at the synthetic and at a realistic hit rate.
    let listings = synthetic::listings(&catalogue, options.feed, 11);
    let plain = realistic(&catalogue, options.feed, 13);
    let screening_db =
        sea_orm::Database::connect(sandbox.database_url(assay::ServiceName::Screening))
            .await
            .unwrap();
    for (name, feed_listings) in [("synthetic", &listings), ("realistic", &plain)] {
        let started = Instant::now();
        let (rate, hits, peak) = feed(&mut client, feed_listings).await;
        let share = hits as f64 / feed_listings.len() as f64;
        println!(
            "feed, {name} hit rate: {} listings, {rate:.0} listings/s, {hits} hits ({:.1}%) = {:.0} hits stored/s; peak RSS {peak:.0} MiB",
            feed_listings.len(),
            100.0 * share,
            rate * share,
        );
        if !options.without_cases {
            // End to end: until the last alert of the feed is a case.
            let fed = started.elapsed();
            let waiting = alerts_become_cases(&screening_db).await;
            let total = started.elapsed();
            println!(
                "  through to cases: {:.0} listings/s, the last alert a case {:.1} s after the feed ended ({waiting} still waiting)",
                feed_listings.len() as f64 / total.as_secs_f64(),
                (total - fed).as_secs_f64(),
            );
        }
    }

    // 1b. The realistic feed again (new listing ids), with case management's standing of
    // its sellers known, as the seller-standings relay leaves it.
    let standings = seller_standings(&plain);
    let mut relay = ScreeningServiceClient::new(sandbox.as_principal(Some("service:cases")).await);
    for chunk in standings.chunks(1000) {
        relay
            .record_seller_standings(RecordSellerStandingsRequest {
                standings: chunk.to_vec(),
            })
            .await
            .unwrap();
    }
    let again: Vec<Listing> = plain
        .iter()
        .cloned()
        .map(|mut listing| {
            listing.listing_id.push_str("-again");
            listing
        })
        .collect();
    let (rate, hits, peak) = feed(&mut client, &again).await;
    println!(
        "feed, realistic hit rate, with the standing of {} sellers ({} with strikes, {} linked to a repeat infringer): {rate:.0} listings/s, {hits} hits ({:.1}%); peak RSS {peak:.0} MiB",
        standings.len(),
        standings
            .iter()
            .filter(|s| !s.strike_times.is_empty())
            .count(),
        standings.iter().filter(|s| !s.links.is_empty()).count(),
        100.0 * hits as f64 / again.len() as f64,
    );
    if !options.without_cases {
        let waiting = alerts_become_cases(&screening_db).await;
        println!("  ({waiting} alerts still waiting for cases)");
    }

    // 2. Latency at a fixed rate, while a feed runs.
    let background = tokio::spawn({
        let mut client = client.clone();
        let listings = realistic(&catalogue, options.feed, 17);
        async move { feed(&mut client, &listings).await }
    });
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
            let answer = client
                .screen_listing(ScreenListingRequest {
                    listing: Some(listing),
                    min_catalogue_revision: 0,
                })
                .await
                .expect("screened");
            (sent.elapsed(), !answer.into_inner().hit_id.is_empty())
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    let (mut stored, mut allowed) = (Vec::new(), Vec::new());
    for task in tasks {
        let (latency, hit) = task.await.unwrap();
        latencies.push(latency);
        if hit { &mut stored } else { &mut allowed }.push(latency);
    }
    let achieved = total as f64 / start.elapsed().as_secs_f64();
    latencies.sort();
    stored.sort();
    allowed.sort();
    let (beside, _, _) = background.await.unwrap();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "ScreenListing at {} requests/s for {} s ({achieved:.0}/s achieved) beside a feed ({beside:.0} listings/s): p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        options.rate,
        options.seconds,
        ms(percentile(&latencies, 0.50)),
        ms(percentile(&latencies, 0.90)),
        ms(percentile(&latencies, 0.99)),
        ms(*latencies.last().unwrap()),
    );
    for (calls, which) in [(&allowed, "allowed"), (&stored, "whose hit was stored")] {
        if !calls.is_empty() {
            println!(
                "  of which the {} calls {which}: p50 {:.2} ms, p99 {:.2} ms",
                calls.len(),
                ms(percentile(calls, 0.50)),
                ms(percentile(calls, 0.99)),
            );
        }
    }

    if options.without_cases {
        sandbox.stop().await;
        if backend == Backend::Postgres
            && let Some((tpcb, _)) = pgbench(10)
        {
            println!("pgbench on the same server, 8 clients: TPC-B {tpcb:.0} tps");
        }
        return;
    }
    // Case management takes the alerts behind the feeds: how long until the last is a case.
    let started = Instant::now();
    let waiting = alerts_become_cases(&screening_db).await;
    println!(
        "alerts: the last became a case {:.1} s after the feeds ended ({waiting} still waiting)",
        started.elapsed().as_secs_f64()
    );

    // 3. One-row reads beside a bare tonic call.
    let admin = sandbox.as_principal(Some("staff:load:admin")).await;
    let member_id = catalogue[0].member_id.clone();
    let cases = CasesServiceClient::new(sandbox.as_principal(Some("staff:load:analyst")).await);
    let case_id = loop {
        let page = cases
            .clone()
            .list_cases(ListCasesRequest {
                page_size: 1,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        if let Some(case) = page.cases.into_iter().next() {
            break case.id;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let health = HealthClient::new(sandbox.channel().await);
    let health_call = move || {
        let mut health = health.clone();
        async move {
            health
                .check(HealthCheckRequest::default())
                .await
                .expect("health");
        }
    };
    let registry = RegistryServiceClient::new(admin);
    let member_call = move || {
        let (mut registry, id) = (registry.clone(), member_id.clone());
        async move {
            registry
                .get_member(registry::GetMemberRequest { id })
                .await
                .expect("GetMember");
        }
    };
    let case_call = move || {
        let (mut cases, id) = (cases.clone(), case_id.clone());
        async move {
            cases
                .get_case(GetCaseRequest { id })
                .await
                .expect("GetCase");
        }
    };
    // Five seconds each, taken in turns of half a second, so that a machine whose speed
    // drifts during the run (a shared host does) weighs on the three alike.
    const TURNS: u32 = 10;
    let turn = 5.0 / f64::from(TURNS);
    let (mut bare, mut get_member, mut get_case) = (0.0, 0.0, 0.0);
    for _ in 0..TURNS {
        bare += closed_loop(8, turn, health_call.clone()).await / f64::from(TURNS);
        get_member += closed_loop(8, turn, member_call.clone()).await / f64::from(TURNS);
        get_case += closed_loop(8, turn, case_call.clone()).await / f64::from(TURNS);
    }
    println!(
        "reads, 8 callers: health {bare:.0}/s; GetMember {get_member:.0}/s ({:.2}x the cost of health); GetCase {get_case:.0}/s ({:.2}x)",
        bare / get_member,
        bare / get_case,
    );
    sandbox.stop().await;

    if backend == Backend::Postgres {
        // pgbench's figures, beside which those above are read.
        match pgbench(10) {
            Some((tpcb, select)) => println!(
                "pgbench on the same server, 8 clients: TPC-B {tpcb:.0} tps; -S -M prepared {select:.0} tps (GetMember {:.0}%, GetCase {:.0}% of it)",
                100.0 * get_member / select,
                100.0 * get_case / select,
            ),
            None => println!("pgbench: not available"),
        }
    }
}

fn main() {
    // The servers' logs, when asked for (`RUST_LOG=warn`): an error's cause is there.
    if let Ok(filter) = std::env::var("RUST_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
    let options = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        for backend in options.backends.clone() {
            run(backend, &options).await;
        }
    });
}
