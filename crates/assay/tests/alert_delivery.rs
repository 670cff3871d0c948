//! Screening alerts reach case management exactly once, with real processes killed
//! (SIGKILL) at unlucky moments: process A runs the registry and screening (and so the
//! relay of screening's outbox), process B runs case management. Every hit must become
//! exactly one case.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use assay_common::outbox;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_proto::cases::v1::{CaseSource, ListCasesRequest};
use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_proto::screening::v1::{Listing, ScreenListingsRequest, screen_listings_response};
use sea_orm::{ConnectionTrait, Database};

mod common;
use common::{
    Process, active_agency, authed, eur, mint, protect_a_brand, protect_a_brand_at, wait_for_brands,
};

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
                price: Some(eur(40)),
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
    let Some(databases) = Databases::create("kill").await else {
        return;
    };
    alerts_survive_killed_processes(databases.env.clone()).await;
    databases.drop().await;
}

/// One PostgreSQL database per service, for one test.
struct Databases {
    databases: Vec<assay_common::db::TestDatabase>,
    /// `ASSAY_<SERVICE>__DATABASE_URL` for each.
    env: Vec<(String, String)>,
}

impl Databases {
    /// `None` where no PostgreSQL answers (see `db::test_postgres`).
    async fn create(test: &str) -> Option<Self> {
        Self::create_for(test, &["registry", "screening", "cases"]).await
    }

    async fn create_for(test: &str, services: &[&str]) -> Option<Self> {
        let mut databases = Vec::new();
        let mut env = Vec::new();
        for service in services {
            let database =
                assay_common::db::TestDatabase::create(&format!("assay_{test}_{service}")).await?;
            env.push((
                format!("ASSAY_{}__DATABASE_URL", service.to_uppercase()),
                database.url.clone(),
            ));
            databases.push(database);
        }
        Some(Self { databases, env })
    }

    fn url(&self, service: &str) -> String {
        let key = format!("ASSAY_{}__DATABASE_URL", service.to_uppercase());
        self.env.iter().find(|(k, _)| *k == key).unwrap().1.clone()
    }

    async fn drop(self) {
        for database in self.databases {
            database.drop().await;
        }
    }
}

/// Three replicas of every service, started at the same moment on fresh PostgreSQL
/// databases and one data directory: all of them serve (the migrations take turns under
/// their lock). Feeds go through two screening replicas at once; their relays take from
/// the one outbox, woken by notifications (no fast polling hides a lost one). One cases
/// replica is killed mid-feed; meanwhile a newer release migrates the cases database
/// further, and the old binary starts again on it and serves. Every hit becomes exactly
/// one case, nothing is left in the outbox, and what all three law-enforcement replicas'
/// clocks do happens once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_of_each_service_on_postgres() {
    let Some(databases) = Databases::create_for(
        "replicas",
        &["registry", "screening", "cases", "lawenforcement"],
    )
    .await
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let replicas = |service: &'static [&'static str], names: [&'static str; 3]| {
        names.map(|name| Process::new(name, service, dir.path(), Vec::new()))
    };
    let mut r = replicas(&["registry"], ["r1", "r2", "r3"]);
    let mut s = replicas(&["screening"], ["s1", "s2", "s3"]);
    let mut c = replicas(&["cases"], ["c1", "c2", "c3"]);
    let mut l = replicas(&["lawenforcement"], ["l1", "l2", "l3"]);
    let common: Vec<(String, String)> = [
        ("ASSAY_OUTBOX__FALLBACK_INTERVAL", "30s"),
        ("ASSAY_OUTBOX__MIN_BACKOFF", "20ms"),
        ("ASSAY_OUTBOX__MAX_BACKOFF", "300ms"),
        ("ASSAY_OUTBOX__LEASE", "1s"),
        ("ASSAY_OUTBOX__BATCH_SIZE", "10"),
        ("ASSAY_LAWENFORCEMENT__DEADLINE_CHECK_INTERVAL", "100ms"),
        ("ASSAY_LAWENFORCEMENT__PACKAGE_TTL", "2s"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into_iter()
    .chain(databases.env.clone())
    .collect();
    for i in 0..3 {
        let peers = |pairs: &[(&str, &Process)]| {
            common
                .iter()
                .cloned()
                .chain(pairs.iter().map(|(k, p)| ((*k).to_owned(), p.endpoint())))
                .collect::<Vec<_>>()
        };
        r[i].env = common.clone();
        s[i].env = peers(&[
            ("ASSAY_SCREENING__REGISTRY_ENDPOINT", &r[i]),
            ("ASSAY_SCREENING__CASES_ENDPOINT", &c[i]),
            ("ASSAY_SCREENING__LAWENFORCEMENT_ENDPOINT", &l[i]),
        ]);
        c[i].env = peers(&[
            ("ASSAY_CASES__REGISTRY_ENDPOINT", &r[i]),
            ("ASSAY_CASES__SCREENING_ENDPOINT", &s[i]),
            ("ASSAY_CASES__LAWENFORCEMENT_ENDPOINT", &l[i]),
        ]);
        l[i].env = peers(&[
            ("ASSAY_LAWENFORCEMENT__SCREENING_ENDPOINT", &s[i]),
            ("ASSAY_LAWENFORCEMENT__CASES_ENDPOINT", &c[i]),
        ]);
    }
    let registry = ["assay.registry.v1.RegistryService"];
    let screening = ["assay.screening.v1.ScreeningService"];
    let cases = ["assay.cases.v1.CasesService"];
    let lawenforcement = ["assay.lawenforcement.v1.LawEnforcementService"];
    for p in r.iter_mut().chain(&mut s).chain(&mut c).chain(&mut l) {
        p.start();
    }
    for (group, services) in [
        (&r, &registry),
        (&s, &screening),
        (&c, &cases),
        (&l, &lawenforcement),
    ] {
        for p in group {
            p.wait_serving(services).await;
        }
    }
    let token = std::fs::read_to_string(dir.path().join("data/bootstrap-token")).unwrap();
    let token = token.trim().to_owned();
    protect_a_brand_at(&r[0], &s[0], &token).await;
    wait_for_brands(&s[1], &token, 1).await;

    let mut fed: Vec<String> = Vec::new();
    for round in 0..3 {
        let seen = alert_hits(&c[1], &token).await.unwrap_or_default().len();
        let (one, two) = tokio::join!(
            feed(&s[0], &token, 2 * round),
            feed(&s[1], &token, 2 * round + 1)
        );
        fed.extend(one);
        fed.extend(two);
        if round == 1 {
            // A receiver dies as deliveries come in; the relays retry or go to the others.
            wait_for_more_cases(&c[1], &token, seen).await;
            c[0].kill();
            // A newer release, rolled out beside, adds to the schema (expand only).
            let cases_db = Database::connect(databases.url("cases")).await.unwrap();
            for sql in [
                "ALTER TABLE cases ADD COLUMN added_by_a_newer_release TEXT",
                "INSERT INTO cases_migrations (version, applied_at) \
                 VALUES ('m20991231_000001_added_by_a_newer_release', 0)",
            ] {
                cases_db.execute_unprepared(sql).await.unwrap();
            }
            drop(cases_db);
            c[0].start();
            c[0].wait_serving(&cases).await;
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
        if alert_hits(&c[0], &token)
            .await
            .is_some_and(|hits| hits.len() >= expected.len())
        {
            break;
        }
        assert!(Instant::now() < deadline, "alerts were lost");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Every replica reads the one database: each sees every case, once.
    for replica in &c {
        let delivered = alert_hits(replica, &token).await.unwrap();
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

    law_enforcement_jobs_act_once(&l, dir.path()).await;

    for p in r.iter_mut().chain(&mut s).chain(&mut c).chain(&mut l) {
        p.kill();
    }
    databases.drop().await;
}

/// A request due in three seconds, filed at one replica, is raised once as due soon and
/// once as overdue, and a package disclosed for another expires and is deleted once,
/// though three replicas watch deadlines and packages ten times a second.
async fn law_enforcement_jobs_act_once(l: &[Process; 3], dir: &std::path::Path) {
    use assay_proto::lawenforcement::v1 as le;
    use assay_proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;

    let client = async |at: &Process, principal: &str| {
        LawEnforcementServiceClient::new(authed(at.channel().await, &mint(dir, principal)))
    };
    let legal = mint(dir, "staff:lena:legal");
    let agency = active_agency(&l[0], &legal, "Garda Síochána", "IE", "garda.ie").await;
    let mut as_agency = client(&l[1], &format!("agency:{}", agency.id)).await;
    let mut submit = async |respond_by: Option<prost_types::Timestamp>| {
        as_agency
            .submit_request(le::SubmitRequestRequest {
                legal_request: Some(le::LegalRequest {
                    process: le::LegalProcess::CourtOrder as i32,
                    reference: "OP-BLUE-2026-114".to_owned(),
                    requester_name: "Det. Insp. Rowe".to_owned(),
                    requester_email: "rowe@garda.ie".to_owned(),
                    targets: vec![le::Target {
                        kind: le::TargetKind::Seller as i32,
                        id: "seller-3".to_owned(),
                    }],
                    data_categories: vec![le::DataCategory::ScreenedListings as i32],
                    respond_by,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .legal_request
            .unwrap()
            .id
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let due = submit(Some(prost_types::Timestamp {
        seconds: now + 3,
        nanos: 0,
    }))
    .await;
    let disclosed = submit(None).await;

    // The second is verified, approved, gathered and disclosed, a step at each replica.
    let mut legal_at = [
        client(&l[0], "staff:lena:legal").await,
        client(&l[1], "staff:lena:legal").await,
        client(&l[2], "staff:lena:legal").await,
    ];
    let id = || disclosed.clone();
    legal_at[0]
        .start_verification(le::StartVerificationRequest {
            id: id(),
            etag: String::new(),
        })
        .await
        .unwrap();
    legal_at[1]
        .complete_verification(le::CompleteVerificationRequest {
            id: id(),
            etag: String::new(),
            confirmation: Some(le::Confirmation {
                method: "replied from the requester's address".to_owned(),
                channel: le::ConfirmationChannel::Email as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    legal_at[2]
        .review_request(le::ReviewRequestRequest {
            id: id(),
            etag: String::new(),
            decision: le::ReviewDecision::Approve as i32,
            reasons: "necessary and proportionate".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
    legal_at[0]
        .gather_request(le::GatherRequestRequest {
            id: id(),
            etag: String::new(),
        })
        .await
        .unwrap();
    legal_at[1]
        .disclose_request(le::DiscloseRequestRequest {
            id: id(),
            etag: String::new(),
        })
        .await
        .unwrap();

    let auditor = client(&l[2], "staff:audrey:auditor").await;
    let done = async |resource: &str, action: &str| -> Vec<String> {
        auditor
            .clone()
            .list_audit_entries(le::ListAuditEntriesRequest {
                resource: resource.to_owned(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .entries
            .into_iter()
            .filter(|e| e.action == action)
            .map(|e| e.outcome)
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done(&due, "request.deadline")
        .await
        .iter()
        .any(|o| o == "overdue")
        || done(&disclosed, "package.delete").await.is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the deadline was never raised as overdue, or the package never deleted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Three replicas look ten times a second; give each many chances to act again.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(
        done(&due, "request.deadline").await,
        ["due soon", "overdue"],
        "each raised once"
    );
    assert_eq!(
        done(&disclosed, "package.delete").await,
        ["ok"],
        "the package deleted once"
    );
}
