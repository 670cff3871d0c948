//! Screening alerts reach case management exactly once, with real processes killed
//! (SIGKILL) at unlucky moments: process A runs the registry and screening (and so the
//! relay of screening's outbox), process B runs case management. Every hit must become
//! exactly one case.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use assay_common::outbox;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_proto::cases::v1::{CaseSource, ListCasesRequest};
use assay_proto::common::v1::Money;
use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_proto::screening::v1::{Listing, ScreenListingsRequest, screen_listings_response};
use sea_orm::{ConnectionTrait, Database};

mod common;
use common::{Process, authed, protect_a_brand, wait_for_brands};

/// Listings fed per round; every one is a hit.
const PER_ROUND: usize = 60;

/// The hit ids of all alert cases, read from B (`None` while B is down).
async fn alert_hits(b: &Process, token: &str) -> Option<Vec<String>> {
    let mut client = CasesServiceClient::new(authed(b.channel().await, token));
    let mut hits = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_cases(ListCasesRequest {
                page_size: 1000,
                page_token: page_token.clone(),
                source: CaseSource::ScreeningAlert as i32,
                ..Default::default()
            })
            .await
            .ok()?
            .into_inner();
        hits.extend(page.cases.into_iter().map(|c| c.hit_id));
        if page.next_page_token.is_empty() {
            return Some(hits);
        }
        page_token = page.next_page_token;
    }
}

async fn wait_for_more_cases(b: &Process, token: &str, than: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if alert_hits(b, token).await.is_some_and(|h| h.len() > than) {
            return;
        }
        assert!(Instant::now() < deadline, "no alert was delivered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Feeds a round of counterfeit listings; returns their hit ids.
async fn feed(a: &Process, token: &str, round: usize) -> Vec<String> {
    let mut client = ScreeningServiceClient::new(authed(a.channel().await, token));
    let requests: Vec<ScreenListingsRequest> = (0..PER_ROUND)
        .map(|i| ScreenListingsRequest {
            listing: Some(Listing {
                listing_id: format!("lst-{round}-{i}"),
                seller_id: format!("seller-{}", i % 7),
                title: format!("Velmora replica handbag lot {round}-{i}, 1:1 mirror quality"),
                category: "handbags".to_owned(),
                price: Some(Money {
                    currency_code: "EUR".to_owned(),
                    units: 40,
                    nanos: 0,
                }),
                ..Default::default()
            }),
        })
        .collect();
    let mut answers = client
        .screen_listings(tokio_stream::iter(requests))
        .await
        .expect("feed")
        .into_inner();
    let mut hits = Vec::new();
    while let Some(answer) = answers.message().await.expect("feed answer") {
        match answer.result {
            Some(screen_listings_response::Result::Verdict(_)) if !answer.hit_id.is_empty() => {
                hits.push(answer.hit_id)
            }
            other => panic!("listing {} was not a hit: {other:?}", answer.listing_id),
        }
    }
    assert_eq!(hits.len(), PER_ROUND);
    hits
}

async fn alerts_survive_killed_processes(database_env: Vec<(String, String)>) {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Process::new("a", &["registry", "screening"], dir.path(), Vec::new());
    let mut b = Process::new("b", &["cases"], dir.path(), Vec::new());
    let common = [
        ("ASSAY_OUTBOX__POLL_INTERVAL", "50ms"),
        ("ASSAY_OUTBOX__MIN_BACKOFF", "20ms"),
        ("ASSAY_OUTBOX__MAX_BACKOFF", "300ms"),
        ("ASSAY_OUTBOX__LEASE", "1s"),
        ("ASSAY_OUTBOX__BATCH_SIZE", "10"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    a.env = common.iter().cloned().chain(database_env.clone()).collect();
    a.env
        .push(("ASSAY_SCREENING__CASES_ENDPOINT".into(), b.endpoint()));
    b.env = common.iter().cloned().chain(database_env).collect();
    b.env
        .push(("ASSAY_CASES__REGISTRY_ENDPOINT".into(), a.endpoint()));
    b.env
        .push(("ASSAY_CASES__SCREENING_ENDPOINT".into(), a.endpoint()));
    let a_services = [
        "assay.registry.v1.RegistryService",
        "assay.screening.v1.ScreeningService",
    ];
    let b_services = ["assay.cases.v1.CasesService"];

    a.start();
    a.wait_serving(&a_services).await;
    b.start();
    b.wait_serving(&b_services).await;
    let token = std::fs::read_to_string(dir.path().join("data/bootstrap-token")).unwrap();
    let token = token.trim().to_owned();
    protect_a_brand(&a, &token).await;

    let mut fed: Vec<String> = Vec::new();
    for round in 0..4 {
        let seen = alert_hits(&b, &token).await.unwrap_or_default().len();
        fed.extend(feed(&a, &token, round).await);
        match round {
            // The receiver dies as the first deliveries come in.
            0 => {
                wait_for_more_cases(&b, &token, seen).await;
                b.kill();
                tokio::time::sleep(Duration::from_millis(400)).await;
                b.start();
                b.wait_serving(&b_services).await;
            }
            // The relay dies mid-delivery.
            1 | 3 => {
                wait_for_more_cases(&b, &token, seen).await;
                a.kill();
                tokio::time::sleep(Duration::from_millis(200)).await;
                a.start();
                a.wait_serving(&a_services).await;
            }
            // The receiver dies at once, before anything arrived.
            _ => {
                b.kill();
                tokio::time::sleep(Duration::from_millis(300)).await;
                b.start();
                b.wait_serving(&b_services).await;
            }
        }
    }

    let expected: BTreeSet<String> = fed.iter().cloned().collect();
    assert_eq!(
        expected.len(),
        4 * PER_ROUND,
        "every listing was its own hit"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let delivered = loop {
        if let Some(hits) = alert_hits(&b, &token).await
            && hits.len() >= expected.len()
        {
            break hits;
        }
        assert!(Instant::now() < deadline, "alerts were lost");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    // Let any stray redelivery land before judging.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let delivered = alert_hits(&b, &token).await.unwrap_or(delivered);
    let unique: BTreeSet<String> = delivered.iter().cloned().collect();
    assert_eq!(unique.len(), delivered.len(), "an alert became two cases");
    assert_eq!(unique, expected, "every hit became exactly one case");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_survive_killed_processes_on_sqlite() {
    alerts_survive_killed_processes(Vec::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_survive_killed_processes_on_postgres() {
    let databases = Databases::create("kill").await;
    alerts_survive_killed_processes(databases.env.clone()).await;
    databases.drop().await;
}

/// One PostgreSQL database per service, for one test.
struct Databases {
    admin: sea_orm::DatabaseConnection,
    names: Vec<String>,
    /// `ASSAY_<SERVICE>__DATABASE_URL` for each.
    env: Vec<(String, String)>,
}

impl Databases {
    async fn create(test: &str) -> Self {
        let admin_url = std::env::var("TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let admin = Database::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin_url} is needed for this test: {e}"));
        let base = uuid::Uuid::now_v7().simple().to_string();
        let server = admin_url
            .split('?')
            .next()
            .and_then(|u| u.rsplit_once('/'))
            .map(|(server, _)| server.to_owned())
            .unwrap_or_else(|| admin_url.clone());
        let mut env = Vec::new();
        let mut names = Vec::new();
        for service in ["registry", "screening", "cases"] {
            let name = format!("assay_{test}_{base}_{service}");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            env.push((
                format!("ASSAY_{}__DATABASE_URL", service.to_uppercase()),
                format!("{server}/{name}"),
            ));
            names.push(name);
        }
        Self { admin, names, env }
    }

    fn url(&self, service: &str) -> String {
        let key = format!("ASSAY_{}__DATABASE_URL", service.to_uppercase());
        self.env.iter().find(|(k, _)| *k == key).unwrap().1.clone()
    }

    async fn drop(self) {
        for name in self.names {
            let _ = self
                .admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

/// Two screening replicas and two case-management replicas on one PostgreSQL: feeds go
/// through both screening replicas at once; their relays take from the one outbox, each
/// delivering to its own cases replica, woken by notifications (no fast polling); one cases
/// replica is killed mid-feed and started again. Every hit becomes exactly one case, and
/// nothing is left in the outbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_once_across_replicas_on_postgres() {
    let databases = Databases::create("replicas").await;
    let dir = tempfile::tempdir().unwrap();
    let mut a = Process::new("a", &["registry", "screening"], dir.path(), Vec::new());
    let mut s2 = Process::new("s2", &["screening"], dir.path(), Vec::new());
    let mut c1 = Process::new("c1", &["cases"], dir.path(), Vec::new());
    let mut c2 = Process::new("c2", &["cases"], dir.path(), Vec::new());
    let common: Vec<(String, String)> = [
        // Only notifications and retries wake the relays: no fast polling hides a lost one.
        ("ASSAY_OUTBOX__FALLBACK_INTERVAL", "30s"),
        ("ASSAY_OUTBOX__MIN_BACKOFF", "20ms"),
        ("ASSAY_OUTBOX__MAX_BACKOFF", "300ms"),
        ("ASSAY_OUTBOX__LEASE", "1s"),
        ("ASSAY_OUTBOX__BATCH_SIZE", "10"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into_iter()
    .chain(databases.env.clone())
    .collect();
    let env = |pairs: &[(&str, String)]| {
        common
            .iter()
            .cloned()
            .chain(pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())))
            .collect::<Vec<_>>()
    };
    a.env = env(&[("ASSAY_SCREENING__CASES_ENDPOINT", c1.endpoint())]);
    s2.env = env(&[
        ("ASSAY_SCREENING__CASES_ENDPOINT", c2.endpoint()),
        ("ASSAY_SCREENING__REGISTRY_ENDPOINT", a.endpoint()),
    ]);
    for c in [&mut c1, &mut c2] {
        c.env = env(&[
            ("ASSAY_CASES__REGISTRY_ENDPOINT", a.endpoint()),
            ("ASSAY_CASES__SCREENING_ENDPOINT", a.endpoint()),
        ]);
    }
    let screening = ["assay.screening.v1.ScreeningService"];
    let cases = ["assay.cases.v1.CasesService"];
    a.start();
    a.wait_serving(&["assay.registry.v1.RegistryService", screening[0]])
        .await;
    // One replica migrates a fresh database before the next starts (replicas starting at
    // the same moment on a fresh database are issue 18).
    c1.start();
    c1.wait_serving(&cases).await;
    c2.start();
    s2.start();
    c2.wait_serving(&cases).await;
    s2.wait_serving(&screening).await;
    let token = std::fs::read_to_string(dir.path().join("data/bootstrap-token")).unwrap();
    let token = token.trim().to_owned();
    protect_a_brand(&a, &token).await;
    wait_for_brands(&s2, &token, 1).await;

    let mut fed: Vec<String> = Vec::new();
    for round in 0..3 {
        let seen = alert_hits(&c2, &token).await.unwrap_or_default().len();
        let (one, two) = tokio::join!(
            feed(&a, &token, 2 * round),
            feed(&s2, &token, 2 * round + 1)
        );
        fed.extend(one);
        fed.extend(two);
        if round == 1 {
            // A receiver dies as deliveries come in; its relay retries until it is back.
            wait_for_more_cases(&c2, &token, seen).await;
            c1.kill();
            tokio::time::sleep(Duration::from_millis(300)).await;
            c1.start();
            c1.wait_serving(&cases).await;
        }
    }

    let expected: BTreeSet<String> = fed.iter().cloned().collect();
    assert_eq!(
        expected.len(),
        6 * PER_ROUND,
        "every listing was its own hit"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if alert_hits(&c1, &token)
            .await
            .is_some_and(|hits| hits.len() >= expected.len())
        {
            break;
        }
        assert!(Instant::now() < deadline, "alerts were lost");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Both replicas read the one database: each sees every case, once.
    for c in [&c1, &c2] {
        let delivered = alert_hits(c, &token).await.unwrap();
        let unique: BTreeSet<String> = delivered.iter().cloned().collect();
        assert_eq!(unique.len(), delivered.len(), "an alert became two cases");
        assert_eq!(unique, expected, "every hit became exactly one case");
    }
    let screening_db = Database::connect(databases.url("screening")).await.unwrap();
    let waiting = outbox::pending(&screening_db, outbox::topic::SCREENING_HIT)
        .await
        .unwrap();
    assert_eq!(waiting, 0, "alerts left in the outbox");
    drop(screening_db);
    for p in [&mut a, &mut s2, &mut c1, &mut c2] {
        p.kill();
    }
    databases.drop().await;
}
