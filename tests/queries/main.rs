//! Statements per call: every SQL statement a handler sends on PostgreSQL is counted
//! against the RPC whose span it runs in (sqlx logs each statement in the calling task),
//! and each RPC is held to its budget. A change that adds a round trip to a hot path, or
//! makes a batch cost a statement per item, fails here.
//!
//! `SHOW_STATEMENTS=1 cargo test -p assay-tests --test queries -- --nocapture` prints each
//! statement with its RPC.
//!
//! PostgreSQL only: sqlx runs SQLite statements on a worker thread, outside the caller's
//! span. Statements of background work (the hit writer, relays) belong to no RPC and are
//! not counted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use assay_tests::fixtures::*;
use assay_tests::proto::cases::v1 as cases;
use assay_tests::proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_tests::proto::lawenforcement::v1 as le;
use assay_tests::proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_tests::proto::registry::v1 as registry;
use assay_tests::proto::screening::v1 as screening;
use assay_tests::proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_tests::{Backend, Sandbox};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

/// Statements counted per RPC method.
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<HashMap<String, usize>>>);

impl Statements {
    /// The statements `method` sent since the last look, and forgets them.
    fn take(&self, method: &str) -> usize {
        self.0.lock().unwrap().remove(method).unwrap_or(0)
    }

    fn forget(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// The `summary` sqlx gives a statement.
struct Summary(String);

impl Visit for Summary {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = format!("{value:?}");
        }
    }
}

/// The method an `rpc` span serves.
struct Method(String);

struct MethodVisitor(Option<String>);

impl Visit for MethodVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "rpc.method" {
            // "package.Service/Method": the budgets name the method.
            let full = format!("{value:?}");
            self.0 = Some(full.rsplit('/').next().unwrap_or(&full).to_owned());
        }
    }
}

impl<S> Layer<S> for Statements
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "rpc" {
            return;
        }
        let mut visitor = MethodVisitor(None);
        attrs.record(&mut visitor);
        if let (Some(method), Some(span)) = (visitor.0, ctx.span(id)) {
            span.extensions_mut().insert(Method(method));
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            if let Some(Method(method)) = span.extensions().get::<Method>() {
                if std::env::var_os("SHOW_STATEMENTS").is_some() {
                    let mut summary = Summary(String::new());
                    event.record(&mut summary);
                    println!("{method}: {}", summary.0);
                }
                *self.0.lock().unwrap().entry(method.clone()).or_default() += 1;
                return;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rpc_keeps_to_its_statement_budget_on_postgres() {
    if !assay_tests::postgres_available().await {
        return;
    }
    let statements = Statements::default();
    tracing::subscriber::set_global_default(Registry::default().with(statements.clone()))
        .expect("the only subscriber of this binary");
    let sandbox = Sandbox::start_with(Backend::Postgres, assay::ServiceName::ALL, |config| {
        config.database.log_statements = true;
    })
    .await;
    let (member, brand) = screened_brand(&sandbox, "Velmora", "018800031").await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let mut pipeline = ScreeningServiceClient::new(sandbox.as_principal(Some(MARKETPLACE)).await);
    let mut relay = CasesServiceClient::new(sandbox.as_principal(Some("service:screening")).await);
    let mut analyst = CasesServiceClient::new(sandbox.as_principal(Some(ANALYST)).await);
    let mut hits = ScreeningServiceClient::new(sandbox.as_principal(Some(ANALYST)).await);

    let mut seen: Vec<(&str, usize, usize)> = Vec::new();
    let mut check = |method: &'static str, budget: usize| {
        seen.push((method, statements.take(method), budget));
    };

    admin
        .get_member(registry::GetMemberRequest {
            id: member.id.clone(),
        })
        .await
        .unwrap();
    check("GetMember", 1);
    admin
        .get_brand(registry::GetBrandRequest {
            id: brand.id.clone(),
        })
        .await
        .unwrap();
    check("GetBrand", 2);
    admin
        .list_brands(registry::ListBrandsRequest {
            page_size: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    check("ListBrands", 2);
    // A member reading its own brand: its standing is checked live, and whom it acts for.
    let mut owner = registry(&sandbox, &format!("member:{}", member.id)).await;
    owner
        .get_brand(registry::GetBrandRequest {
            id: brand.id.clone(),
        })
        .await
        .unwrap();
    check("GetBrand", 4);

    // Screening stores hits through its writer, off the caller's task: a call itself reads
    // and writes nothing.
    let screened = pipeline
        .screen_listing(screening::ScreenListingRequest {
            listing: Some(velmora_replica("lst-1", "seller-1")),
            min_catalogue_revision: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!screened.hit_id.is_empty());
    check("ScreenListing", 0);
    hits.get_hit(screening::GetHitRequest {
        id: screened.hit_id.clone(),
    })
    .await
    .unwrap();
    check("GetHit", 1);
    hits.list_hits(screening::ListHitsRequest {
        page_size: 100,
        ..Default::default()
    })
    .await
    .unwrap();
    check("ListHits", 1);
    // The relay's own delivery of that hit is not what is counted below.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while analyst
        .list_cases(cases::ListCasesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .cases
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the alert never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    statements.forget();

    // One alert or fifty: the same statements (the look for earlier deliveries, four
    // multi-row inserts, the commit).
    for (count, first) in [(1, 1_000), (50, 2_000)] {
        let answers = relay
            .receive_hit_alerts(cases::ReceiveHitAlertsRequest {
                alerts: (first..first + count)
                    .map(|n| hit_alert(&format!("hit_{n:032x}"), &format!("l-{n}"), &brand.id))
                    .collect(),
            })
            .await
            .unwrap()
            .into_inner()
            .alerts;
        assert!(answers.iter().all(|a| a.created), "{answers:?}");
        check("ReceiveHitAlerts", 6);
    }
    let case_id = {
        let listed = analyst
            .list_cases(cases::ListCasesRequest {
                page_size: 100,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.cases.len(), 52);
        listed.cases[0].id.clone()
    };
    check("ListCases", 5);
    analyst
        .get_case(cases::GetCaseRequest { id: case_id })
        .await
        .unwrap();
    check("GetCase", 5);

    let mut legal = LawEnforcementServiceClient::new(sandbox.as_principal(Some(LEGAL)).await);
    let made = agency(&mut legal, "Guardia di Finanza", "IT", "gdf.gov.it").await;
    statements.forget();
    legal
        .get_agency(le::GetAgencyRequest { id: made.id })
        .await
        .unwrap();
    // Law enforcement audits every read, in the hash chain: the head moved on and read
    // back in one statement, the entry, the head's new hash, the commit.
    check("GetAgency", 5);

    let over: Vec<String> = seen
        .iter()
        .filter(|(_, sent, budget)| sent > budget)
        .map(|(method, sent, budget)| format!("{method}: {sent} statements, budget {budget}"))
        .collect();
    assert!(over.is_empty(), "over budget: {over:#?}");
    sandbox.stop().await;
}
