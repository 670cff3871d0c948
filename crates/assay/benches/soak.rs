//! Soak: a real `assay serve registry screening` process under mixed hostile load for a
//! bounded time, on loopback, once on SQLite and once on PostgreSQL.
//!
//! 1. Quiet: health checks and `GetMember` reads, one after another, alone.
//! 2. Bombs: the same while two feeds send listings of large images (ten 2000x2000 PNGs,
//!    which are decoded, or eight 8000x8000 ones, refused from their header).
//! 3. Soak: four feeds of mixed listings, reads, bad input (hidden characters, thousands of
//!    bad entries, oversized messages), a feed of large images and health checks at once;
//!    halfway through, the process is killed with SIGKILL and started again. Afterwards
//!    every hit a feed was answered with must be stored.
//!
//! Prints calls, answers by code and latency percentiles per kind of call.
//!
//!     cargo bench -p assay --bench soak                # 40 s of soak per backend
//!     SOAK_SECONDS=120 SOAK_BACKENDS=postgres cargo bench -p assay --bench soak

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assay_proto::common::v1::Money;
use assay_proto::registry::v1 as registry;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_proto::screening::v1::listing_image::Source;
use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_proto::screening::v1::{GetHitRequest, Listing, ListingImage, ScreenListingsRequest};
use sea_orm::ConnectionTrait;
use tokio::task::JoinSet;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

#[path = "../tests/common/mod.rs"]
mod common;
use common::{Process, authed, mint, protect_a_brand};

/// Latencies and answers by kind of call.
#[derive(Default)]
struct Tally {
    kinds: BTreeMap<&'static str, Kind>,
}

#[derive(Default)]
struct Kind {
    latencies: Vec<Duration>,
    codes: BTreeMap<String, u64>,
}

type Shared = Arc<Mutex<Tally>>;

fn record(tally: &Shared, kind: &'static str, started: Instant, code: Code) {
    let mut tally = tally.lock().unwrap();
    let entry = tally.kinds.entry(kind).or_default();
    entry.latencies.push(started.elapsed());
    *entry.codes.entry(format!("{code:?}")).or_default() += 1;
}

fn code<T>(result: &Result<T, tonic::Status>) -> Code {
    result
        .as_ref()
        .map_or_else(tonic::Status::code, |_| Code::Ok)
}

fn report(title: &str, tally: &Shared) {
    println!("\n### {title}\n");
    println!("| calls | n | p50 ms | p99 ms | max ms | answers |");
    println!("|---|---:|---:|---:|---:|---|");
    for (kind, entry) in &mut tally.lock().unwrap().kinds {
        entry.latencies.sort();
        let at = |q: f64| {
            let i = ((entry.latencies.len() as f64 - 1.0) * q).round() as usize;
            entry
                .latencies
                .get(i)
                .map_or(0.0, |d| d.as_secs_f64() * 1e3)
        };
        let codes: Vec<String> = entry
            .codes
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        println!(
            "| {kind} | {} | {:.1} | {:.1} | {:.1} | {} |",
            entry.latencies.len(),
            at(0.5),
            at(0.99),
            at(1.0),
            codes.join(", ")
        );
    }
}

/// A grayscale PNG of `side` x `side` pixels of one shade: it compresses to almost
/// nothing, as a decompression bomb does (8000x8000 is 64 MB decoded, 62 KB sent).
fn png(side: u32) -> Vec<u8> {
    use image::ImageEncoder;
    let pixels = vec![7u8; (side * side) as usize];
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(&pixels, side, side, image::ExtendedColorType::L8)
        .unwrap();
    out
}

/// What every load task needs: where the server is and the callers' tokens.
struct Target {
    endpoint: String,
    admin: String,
    pipeline: String,
    analyst: String,
    /// Staff, sending bad input.
    mallory: String,
    member_id: String,
}

impl Target {
    /// A channel that reconnects by itself after the process is killed and restarted.
    fn channel(&self) -> Channel {
        Channel::from_shared(self.endpoint.clone())
            .unwrap()
            .connect_timeout(Duration::from_secs(1))
            .connect_lazy()
    }
}

/// Health and `GetMember`, one after another until `until`.
async fn reads(target: Arc<Target>, tally: Shared, until: Instant, kinds: [&'static str; 2]) {
    let mut health = HealthClient::new(target.channel());
    let mut registry = RegistryServiceClient::new(authed(target.channel(), &target.admin));
    while Instant::now() < until {
        let started = Instant::now();
        let result = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await;
        record(&tally, kinds[0], started, code(&result));
        let started = Instant::now();
        let result = registry
            .get_member(registry::GetMemberRequest {
                id: target.member_id.clone(),
            })
            .await;
        record(&tally, kinds[1], started, code(&result));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Feeds of `per_feed` listings with `images` each, sent without waiting, one after
/// another until `until`. Returns the ids of the hits the feeds were answered with.
async fn feeds(
    target: Arc<Target>,
    tally: Shared,
    until: Instant,
    kind: &'static str,
    per_feed: usize,
    images: Arc<Vec<Vec<u8>>>,
) -> Vec<String> {
    let mut acknowledged = Vec::new();
    let mut round = 0;
    let feed = uuid::Uuid::now_v7().simple().to_string();
    while Instant::now() < until {
        round += 1;
        let mut client = ScreeningServiceClient::new(authed(target.channel(), &target.pipeline));
        let images = images.clone();
        let feed = feed.clone();
        let requests = (0..per_feed).map(move |i| {
            let title = if i % 3 == 0 {
                format!("Velmora handbag replica {round}-{i}")
            } else {
                format!("canvas tote bag {round}-{i}")
            };
            ScreenListingsRequest {
                listing: Some(Listing {
                    listing_id: format!("{feed}-{round}-{i}"),
                    seller_id: "s-1".to_owned(),
                    title,
                    category: "handbags".to_owned(),
                    price: Some(Money {
                        currency_code: "EUR".to_owned(),
                        units: 40,
                        nanos: 0,
                    }),
                    images: images
                        .iter()
                        .map(|content| ListingImage {
                            source: Some(Source::Content(content.clone())),
                        })
                        .collect(),
                    ..Default::default()
                }),
            }
        });
        let started = Instant::now();
        let result = match client.screen_listings(tokio_stream::iter(requests)).await {
            Ok(answers) => {
                let mut answers = answers.into_inner();
                loop {
                    match answers.message().await {
                        Ok(Some(answer)) if !answer.hit_id.is_empty() => {
                            acknowledged.push(answer.hit_id)
                        }
                        Ok(Some(_)) => {}
                        Ok(None) => break Ok(()),
                        Err(status) => break Err(status),
                    }
                }
            }
            Err(status) => Err(status),
        };
        record(&tally, kind, started, code(&result));
        if result.is_err() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    acknowledged
}

/// Requests the server must refuse: INVALID_ARGUMENT or RESOURCE_EXHAUSTED.
async fn bad_input(target: Arc<Target>, tally: Shared, until: Instant) {
    // A caller of its own, so its rate is not the readers'.
    let mut registry = RegistryServiceClient::new(authed(target.channel(), &target.mallory));
    let brand = |name: String, sellers: usize| registry::CreateBrandRequest {
        brand: Some(registry::Brand {
            member_id: target.member_id.clone(),
            name,
            categories: vec!["handbags".to_owned()],
            authorized_seller_ids: (0..sellers).map(|i| format!("bad id {i}")).collect(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    while Instant::now() < until {
        for (kind, request) in [
            (
                "bad input: hidden characters",
                brand("Velm\u{202E}ora".to_owned(), 0),
            ),
            (
                "bad input: 5,000 bad entries",
                brand("Crowded".to_owned(), 5_000),
            ),
            ("bad input: 300 KB message", brand("x".repeat(300_000), 0)),
        ] {
            let started = Instant::now();
            let result = registry.create_brand(request).await;
            record(&tally, kind, started, code(&result));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Starts the process; on PostgreSQL in databases of its own, whose names are returned.
async fn start(backend: &str, dir: &std::path::Path) -> (Process, Target, Vec<String>) {
    let mut env = Vec::new();
    let mut databases = Vec::new();
    if backend == "postgres" {
        let admin = sea_orm::Database::connect(POSTGRES)
            .await
            .expect("PostgreSQL on 127.0.0.1:5432");
        let suffix = uuid::Uuid::now_v7().simple().to_string();
        for service in ["registry", "screening"] {
            let name = format!("assay_soak_{suffix}_{service}");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
            databases.push(name.clone());
            env.push((
                format!("ASSAY_{}__DATABASE_URL", service.to_uppercase()),
                format!("postgres://postgres@127.0.0.1:5432/{name}"),
            ));
        }
    }
    // Staff may call fast enough for the check at the end to read every hit.
    env.push((
        "ASSAY_SERVER__RATE_LIMITS__STAFF__PER_SECOND".to_owned(),
        "1000000".to_owned(),
    ));
    env.push((
        "ASSAY_SERVER__RATE_LIMITS__STAFF__BURST".to_owned(),
        "1000000".to_owned(),
    ));
    let mut process = Process::new("soak", &["registry", "screening"], dir, env);
    process.start();
    process.wait_serving(&SERVICES).await;
    let admin = std::fs::read_to_string(dir.join("data/bootstrap-token"))
        .unwrap()
        .trim()
        .to_owned();
    let protected = protect_a_brand(&process, &admin).await;
    let target = Target {
        endpoint: process.endpoint(),
        pipeline: mint(dir, "service:listing-pipeline"),
        analyst: mint(dir, "staff:soak:analyst"),
        mallory: mint(dir, "staff:mallory:admin"),
        member_id: protected.member_id,
        admin,
    };
    (process, target, databases)
}

const SERVICES: [&str; 2] = [
    "assay.registry.v1.RegistryService",
    "assay.screening.v1.ScreeningService",
];

async fn run(backend: &str, soak: Duration) {
    println!("\n## {backend}");
    let dir = tempfile::tempdir().unwrap();
    let (mut process, target, databases) = start(backend, dir.path()).await;
    let target = Arc::new(target);
    // As many as fit in the feed's 3 MiB per listing.
    let large = Arc::new(vec![png(2000); 10]);
    let bombs = Arc::new(vec![png(8000); 8]);
    println!(
        "\nlistings of ten 2000x2000 PNGs of {} bytes (decoded), or eight 8000x8000 PNGs of {} bytes (refused from their header)",
        large[0].len(),
        bombs[0].len()
    );

    // 1 and 2: reads alone, then beside two feeds of image bombs.
    let phase = Duration::from_secs(8);
    let tally = Shared::default();
    reads(
        target.clone(),
        tally.clone(),
        Instant::now() + phase,
        ["health, alone", "GetMember, alone"],
    )
    .await;
    let until = Instant::now() + phase;
    let mut load = JoinSet::new();
    load.spawn(feeds(
        target.clone(),
        tally.clone(),
        until,
        "feed of 2000x2000 images",
        20,
        large.clone(),
    ));
    load.spawn(feeds(
        target.clone(),
        tally.clone(),
        until,
        "feed of 8000x8000 bombs",
        20,
        bombs,
    ));
    reads(
        target.clone(),
        tally.clone(),
        until,
        ["health, beside bomb feeds", "GetMember, beside bomb feeds"],
    )
    .await;
    let mut acknowledged: Vec<String> = load.join_all().await.into_iter().flatten().collect();
    report("reads alone, then beside two feeds of image bombs", &tally);

    // 3: everything at once, and a SIGKILL halfway.
    let tally = Shared::default();
    let until = Instant::now() + soak;
    let mut load = JoinSet::new();
    for _ in 0..4 {
        load.spawn(feeds(
            target.clone(),
            tally.clone(),
            until,
            "feed of 500 listings",
            500,
            Arc::new(Vec::new()),
        ));
    }
    load.spawn(feeds(
        target.clone(),
        tally.clone(),
        until,
        "feed of 2000x2000 images",
        10,
        large,
    ));
    load.spawn({
        let (target, tally) = (target.clone(), tally.clone());
        async move {
            reads(target, tally, until, ["health", "GetMember"]).await;
            Vec::new()
        }
    });
    load.spawn({
        let (target, tally) = (target.clone(), tally.clone());
        async move {
            bad_input(target, tally, until).await;
            Vec::new()
        }
    });
    tokio::time::sleep(soak / 2).await;
    process.kill();
    let killed = Instant::now();
    process.start();
    process.wait_serving(&SERVICES).await;
    let down = killed.elapsed();
    acknowledged.extend(load.join_all().await.into_iter().flatten());
    report(
        &format!(
            "everything at once for {} s; SIGKILL at {} s, serving again after {} ms",
            soak.as_secs(),
            (soak / 2).as_secs(),
            down.as_millis()
        ),
        &tally,
    );

    // Every hit a feed was told about is stored: asked for by eight readers at once.
    let mut readers = JoinSet::new();
    let share = acknowledged.len().div_ceil(8).max(1);
    for ids in acknowledged.chunks(share) {
        let ids = ids.to_vec();
        let mut screening = ScreeningServiceClient::new(authed(target.channel(), &target.analyst));
        readers.spawn(async move {
            let mut lost = 0;
            for id in ids {
                match screening.get_hit(GetHitRequest { id: id.clone() }).await {
                    Ok(_) => {}
                    Err(status) if status.code() == Code::NotFound => lost += 1,
                    Err(status) => panic!("GetHit {id}: {status:?}"),
                }
            }
            lost
        });
    }
    let lost: usize = readers.join_all().await.into_iter().sum();
    println!(
        "\nhits acknowledged to feeds: {}; lost: {lost}",
        acknowledged.len()
    );
    assert_eq!(lost, 0, "acknowledged hits were lost");

    process.kill();
    if !databases.is_empty() {
        let admin = sea_orm::Database::connect(POSTGRES).await.unwrap();
        for name in databases {
            admin
                .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
                .await
                .unwrap();
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // `cargo bench` passes --bench; a filter that names nothing here skips the run.
    if std::env::args()
        .skip(1)
        .any(|a| !a.starts_with("--") && !"soak".contains(&*a))
    {
        return;
    }
    let soak = Duration::from_secs(
        std::env::var("SOAK_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(40),
    );
    let backends = std::env::var("SOAK_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".to_owned());
    for backend in backends.split(',') {
        run(backend.trim(), soak).await;
    }
}
