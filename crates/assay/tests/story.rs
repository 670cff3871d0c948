//! The whole story, end to end, on real processes: a member joins and its trade mark is
//! verified; a counterfeit listing is blocked; the alert becomes a case; the listing is
//! taken down; the seller's counter-notice fails; the case is referred to an agency, which
//! reports arrests; the agency asks for information about the seller, and the request is
//! verified, approved and disclosed. The alliance figures, the enforcement figures and the
//! transparency report show it all.
//!
//! Process A runs the registry and screening, process B cases and law enforcement; both
//! export their spans and metrics to a real OTLP receiver here, which must see one trace
//! from the screening of the listing through the alert and the case to the referral; and
//! both serve Prometheus metrics that count what happened.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assay_proto::cases::v1 as cases;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_proto::common::v1::{Contact, TimeRange};
use assay_proto::lawenforcement::v1 as le;
use assay_proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_proto::registry::v1 as registry;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_proto::screening::v1 as screening;
use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

mod common;
use common::{Process, active_agency, authed, eur, protect_a_brand};

/// A span as the receiver got it, with the service that sent it.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    /// The resource's `service.version`.
    version: String,
    trace_id: Vec<u8>,
    span_id: Vec<u8>,
    parent_span_id: Vec<u8>,
    name: String,
    kind: i32,
    attributes: HashMap<String, String>,
}

/// An OTLP/gRPC receiver that keeps the spans it is sent, and the names of the metrics.
#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<Received>>>,
    metrics: Arc<Mutex<Vec<(String, String)>>>,
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        let mut metrics = self.metrics.lock().unwrap();
        for resource in request.into_inner().resource_metrics {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| &r.attributes)
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref()?.value.as_ref())
                .map(|v| match v {
                    any_value::Value::StringValue(s) => s.clone(),
                    other => format!("{other:?}"),
                })
                .unwrap_or_default();
            for scope in resource.scope_metrics {
                for metric in scope.metrics {
                    metrics.push((service.clone(), metric.name));
                }
            }
        }
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// A free port on 127.0.0.1.
fn free_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
}

/// `GET /metrics` at `addr`, as Prometheus scrapes it.
async fn scrape(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: assay\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    body.to_owned()
}

/// The value of the sample of `name` whose labels include all of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines().find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let bare = series.split('{').next()?;
        (bare == name && labels.iter().all(|l| series.contains(l))).then(|| value.parse().ok())?
    })
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let attributes = |list: &[opentelemetry_proto::tonic::common::v1::KeyValue]| {
                list.iter()
                    .map(|kv| {
                        let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                            Some(any_value::Value::StringValue(s)) => s.clone(),
                            Some(any_value::Value::IntValue(i)) => i.to_string(),
                            Some(any_value::Value::BoolValue(b)) => b.to_string(),
                            Some(other) => format!("{other:?}"),
                            None => String::new(),
                        };
                        (kv.key.clone(), value)
                    })
                    .collect::<HashMap<_, _>>()
            };
            let resource = resource_spans
                .resource
                .as_ref()
                .map(|r| attributes(&r.attributes))
                .unwrap_or_default();
            let service = resource.get("service.name").cloned().unwrap_or_default();
            let version = resource.get("service.version").cloned().unwrap_or_default();
            for scope in resource_spans.scope_spans {
                for span in scope.spans {
                    spans.push(Received {
                        service: service.clone(),
                        version: version.clone(),
                        trace_id: span.trace_id,
                        span_id: span.span_id,
                        parent_span_id: span.parent_span_id,
                        name: span.name,
                        kind: span.kind,
                        attributes: attributes(&span.attributes),
                    });
                }
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

impl Receiver {
    async fn start(self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(self.clone()))
                .add_service(MetricsServiceServer::new(self))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        addr
    }

    fn snapshot(&self) -> Vec<Received> {
        self.spans.lock().unwrap().clone()
    }

    /// The first span named `name` in the trace of `trace_id` (any trace if `None`) whose
    /// attributes include `attribute`, waiting up to ten seconds for it to arrive.
    async fn wait_for(
        &self,
        name: &str,
        trace_id: Option<&[u8]>,
        attribute: Option<(&str, &str)>,
    ) -> Received {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self.snapshot().into_iter().find(|s| {
                s.name == name
                    && trace_id.is_none_or(|t| s.trace_id == t)
                    && attribute.is_none_or(|(k, v)| s.attributes.get(k).is_some_and(|x| x == v))
            });
            if let Some(span) = found {
                return span;
            }
            assert!(
                Instant::now() < deadline,
                "no span {name:?} in the trace; spans seen: {:#?}",
                self.snapshot()
                    .iter()
                    .map(|s| (&s.service, &s.name))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Polls `probe` until it returns `Some`, for up to ten seconds.
async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    what: &str,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what} never happened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_a_counterfeit_listing_to_arrests_and_a_disclosure() {
    let receiver = Receiver::default();
    let otlp = receiver.clone().start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut a = Process::new("a", &["registry", "screening"], dir.path(), Vec::new());
    let mut b = Process::new("b", &["cases", "lawenforcement"], dir.path(), Vec::new());
    let common = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{otlp}")),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "200".to_owned()),
        ("ASSAY_OUTBOX__POLL_INTERVAL", "50ms".to_owned()),
    ]
    .map(|(k, v)| (k.to_owned(), v));
    let (a_metrics, b_metrics) = (free_port(), free_port());
    a.env = common.to_vec();
    a.env.extend([
        (
            "ASSAY_SERVER__METRICS_LISTEN".to_owned(),
            a_metrics.to_string(),
        ),
        ("ASSAY_SCREENING__CASES_ENDPOINT".to_owned(), b.endpoint()),
        (
            "ASSAY_SCREENING__LAWENFORCEMENT_ENDPOINT".to_owned(),
            b.endpoint(),
        ),
    ]);
    b.env = common.to_vec();
    b.env.extend([
        (
            "ASSAY_SERVER__METRICS_LISTEN".to_owned(),
            b_metrics.to_string(),
        ),
        ("ASSAY_CASES__REGISTRY_ENDPOINT".to_owned(), a.endpoint()),
        ("ASSAY_CASES__SCREENING_ENDPOINT".to_owned(), a.endpoint()),
        (
            "ASSAY_LAWENFORCEMENT__SCREENING_ENDPOINT".to_owned(),
            a.endpoint(),
        ),
    ]);
    a.start();
    a.wait_serving(&[
        "assay.registry.v1.RegistryService",
        "assay.screening.v1.ScreeningService",
    ])
    .await;
    b.start();
    b.wait_serving(&[
        "assay.cases.v1.CasesService",
        "assay.lawenforcement.v1.LawEnforcementService",
    ])
    .await;

    // Both processes share the data directory: its bootstrap admin token and signing key,
    // with which `assay token mint` signs.
    let admin = std::fs::read_to_string(dir.path().join("data/bootstrap-token")).unwrap();
    let admin = admin.trim().to_owned();
    let token = |principal: &str| common::mint(dir.path(), principal);

    // A member joins; its trade mark is verified; screening learns the brand.
    let protected = protect_a_brand(&a, &admin).await;
    let owner = token(&format!("member:{}", protected.member_id));

    // A counterfeit listing is blocked.
    let pipeline = token("service:listing-pipeline");
    let screened = ScreeningServiceClient::new(authed(a.channel().await, &pipeline))
        .screen_listing(screening::ScreenListingRequest {
            listing: Some(screening::Listing {
                listing_id: "lst-4711".to_owned(),
                seller_id: "s-ring".to_owned(),
                title: "V.e.l.m.o.r.a replica handbag, 1:1 mirror quality".to_owned(),
                category: "handbags".to_owned(),
                price: Some(eur(45)),
                ..Default::default()
            }),
            // Screened against the catalogue that verifying the mark made.
            min_catalogue_revision: protected.catalogue_revision,
        })
        .await
        .unwrap()
        .into_inner();
    let verdict = screened.verdict.unwrap();
    // And one bad listing, refused.
    let refused = ScreeningServiceClient::new(authed(a.channel().await, &pipeline))
        .screen_listing(screening::ScreenListingRequest {
            listing: Some(screening::Listing {
                listing_id: "lst-empty".to_owned(),
                seller_id: "s-ring".to_owned(),
                ..Default::default()
            }),
            min_catalogue_revision: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(verdict.decision, screening::Decision::Block as i32);
    assert_eq!(verdict.brands[0].brand_id, protected.brand_id);
    let hit_id = screened.hit_id;

    // The alert becomes a case in the other process.
    let mut analyst = CasesServiceClient::new(authed(b.channel().await, &admin));
    let case = eventually("the alert becoming a case", || {
        let mut analyst = analyst.clone();
        let hit_id = hit_id.clone();
        async move {
            analyst
                .list_cases(cases::ListCasesRequest {
                    source: cases::CaseSource::ScreeningAlert as i32,
                    ..Default::default()
                })
                .await
                .ok()?
                .into_inner()
                .cases
                .into_iter()
                .find(|c| c.hit_id == hit_id)
        }
    })
    .await;
    assert_eq!(case.brand_ids, [protected.brand_id.as_str()]);

    // The listing is taken down.
    analyst
        .start_review(cases::StartReviewRequest {
            id: case.id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    let acted = analyst
        .take_action(cases::TakeActionRequest {
            id: case.id.clone(),
            etag: String::new(),
            note: "test purchase: counterfeit".to_owned(),
            reason_codes: vec![],
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert!(acted.listings[0].takedown_time.is_some());

    // The seller's counter-notice fails: the rights holder maintains its notice.
    let seller_portal = token("service:seller-portal");
    CasesServiceClient::new(authed(b.channel().await, &seller_portal))
        .file_counter_notice(cases::FileCounterNoticeRequest {
            id: case.id.clone(),
            etag: String::new(),
            counter_notice: Some(cases::CounterNotice {
                statement: "These bags are genuine.".to_owned(),
                contact: Some(Contact {
                    name: "Ring Trading".to_owned(),
                    email: "shop@ring.example".to_owned(),
                    ..Contact::default()
                }),
                ..Default::default()
            }),
            evidence: vec![],
        })
        .await
        .unwrap();
    CasesServiceClient::new(authed(b.channel().await, &owner))
        .reply_to_counter_notice(cases::ReplyToCounterNoticeRequest {
            id: case.id.clone(),
            etag: String::new(),
            reply: Some(cases::CounterNoticeReply {
                maintains_notice: true,
                statement: "No invoice; the stitching is not ours.".to_owned(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let upheld = analyst
        .resolve_counter_notice(cases::ResolveCounterNoticeRequest {
            id: case.id.clone(),
            etag: String::new(),
            decision: cases::CounterNoticeDecision::Uphold as i32,
            note: "the seller showed nothing".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(upheld.status, cases::CaseStatus::Upheld as i32);

    // The case is referred to an agency, which reports arrests.
    let agency = active_agency(&b, &admin, "Guardia di Finanza", "IT", "gdf.it").await;
    let mut legal = LawEnforcementServiceClient::new(authed(b.channel().await, &admin));
    analyst
        .escalate_case(cases::EscalateCaseRequest {
            id: case.id.clone(),
            etag: String::new(),
            note: "a ring of sellers".to_owned(),
        })
        .await
        .unwrap();
    let referred = analyst
        .refer_case(cases::ReferCaseRequest {
            id: case.id.clone(),
            etag: String::new(),
            referral: Some(cases::Referral {
                agency_id: agency.id.clone(),
                summary: "Seller s-ring ships counterfeit Velmora bags from a warehouse".to_owned(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    let referral_id = referred.referral.unwrap().id;
    let officer = token(&format!("agency:{}", agency.id));
    let mut as_agency = LawEnforcementServiceClient::new(authed(b.channel().await, &officer));
    eventually("the referral reaching the agency", || {
        let mut as_agency = as_agency.clone();
        let referral_id = referral_id.clone();
        async move {
            as_agency
                .get_referral(le::GetReferralRequest { id: referral_id })
                .await
                .ok()
        }
    })
    .await;
    as_agency
        .acknowledge_referral(le::AcknowledgeReferralRequest {
            id: referral_id.clone(),
        })
        .await
        .unwrap();
    as_agency
        .report_referral_outcome(le::ReportReferralOutcomeRequest {
            id: referral_id.clone(),
            outcome: Some(le::Outcome {
                arrests: 3,
                seized_units: 1200,
                note: "warehouse raided".to_owned(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    eventually("the arrests reaching the case", || {
        let mut analyst = analyst.clone();
        let id = case.id.clone();
        async move {
            let case = analyst
                .get_case(cases::GetCaseRequest { id })
                .await
                .ok()?
                .into_inner()
                .r#case?;
            let outcomes = case.referral?.outcomes;
            outcomes.iter().any(|o| o.arrests == 3).then_some(())
        }
    })
    .await;

    // The agency asks about the seller; the request is verified, approved and disclosed.
    let filed = as_agency
        .submit_request(le::SubmitRequestRequest {
            legal_request: Some(le::LegalRequest {
                process: le::LegalProcess::CourtOrder as i32,
                reference: "Proc. 2291/26 Tribunale di Napoli".to_owned(),
                requester_name: "Cap. Russo".to_owned(),
                requester_email: "russo@gdf.it".to_owned(),
                targets: vec![le::Target {
                    kind: le::TargetKind::Seller as i32,
                    id: "s-ring".to_owned(),
                }],
                data_categories: vec![
                    le::DataCategory::ScreenedListings as i32,
                    le::DataCategory::Cases as i32,
                ],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap();
    let id = filed.id.clone();
    legal
        .start_verification(le::StartVerificationRequest {
            id: id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    legal
        .complete_verification(le::CompleteVerificationRequest {
            id: id.clone(),
            etag: String::new(),
            confirmation: Some(le::Confirmation {
                method: "called the GdF operations room on its published number".to_owned(),
                channel: le::ConfirmationChannel::Callback as i32,
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    legal
        .review_request(le::ReviewRequestRequest {
            id: id.clone(),
            decision: le::ReviewDecision::Approve as i32,
            reasons: "a court order, proportionate".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
    legal
        .gather_request(le::GatherRequestRequest {
            id: id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    legal
        .disclose_request(le::DiscloseRequestRequest {
            id: id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    let package = as_agency
        .download_package(le::DownloadPackageRequest { id: id.clone() })
        .await
        .unwrap()
        .into_inner();
    let names: Vec<&str> = package
        .files
        .iter()
        .map(|f| f.item.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "seller/s-ring/screened_listings.json",
            "seller/s-ring/cases.json"
        ]
    );
    let listings = String::from_utf8(package.files[0].content.clone()).unwrap();
    assert!(
        listings.contains("lst-4711") && listings.contains(&hit_id),
        "{listings}"
    );

    // The agency reports what its request led to.
    as_agency
        .report_request_outcome(le::ReportRequestOutcomeRequest {
            id: id.clone(),
            outcome: Some(le::Outcome {
                arrests: 2,
                note: "two accomplices found through the payment account".to_owned(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();

    // The figures show it all.
    let alliance = RegistryServiceClient::new(authed(a.channel().await, &admin))
        .get_alliance_figures(registry::GetAllianceFiguresRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (
            alliance.active_members,
            alliance.protected_brands,
            alliance.verified_rights
        ),
        (1, 1, 1)
    );
    let enforcement = analyst
        .get_enforcement_figures(cases::GetEnforcementFiguresRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(enforcement.screening_alerts, 1);
    assert_eq!(enforcement.listings_taken_down, 1);
    assert_eq!(enforcement.counter_notices, 1);
    assert_eq!(enforcement.listings_reinstated, 0);
    assert_eq!(enforcement.referrals, 1);
    assert_eq!(enforcement.arrests, 3);
    assert_eq!(enforcement.seized_units, 1200);
    let transparency = legal
        .get_transparency_report(le::GetTransparencyReportRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(transparency.requests, 1);
    assert_eq!(transparency.accounts_specified, 1);
    assert_eq!(transparency.share_with_data_produced, 1.0);
    assert_eq!(transparency.referrals, 1);
    assert_eq!(transparency.requests_answered, 1);
    assert_eq!(transparency.arrests, 5);
    assert_eq!(transparency.from_requests.unwrap().arrests, 2);
    assert_eq!(transparency.from_referrals.unwrap().arrests, 3);

    // The programme's year, as it publishes it: case management puts it together with the
    // registry (in the other process) and law enforcement, arrests from referrals and from
    // requests kept apart.
    let today = chrono::Utc::now().date_naive();
    let midnight = |day: chrono::NaiveDate| prost_types::Timestamp {
        seconds: day.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp(),
        nanos: 0,
    };
    let year = analyst
        .get_programme_report(cases::GetProgrammeReportRequest {
            period: Some(TimeRange {
                start_time: Some(midnight(today - chrono::Days::new(364))),
                end_time: Some(midnight(today + chrono::Days::new(1))),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(year.alliance.unwrap().active_members, 1);
    let proactive = year.proactive.unwrap();
    assert_eq!(
        (proactive.screening_alerts, proactive.listings_taken_down),
        (1, 1)
    );
    assert_eq!(year.notices.unwrap().filed, 0);
    let referrals = year.referrals.unwrap();
    assert_eq!((referrals.referred, referrals.arrests), (1, 3));
    let requests = year.requests.unwrap();
    assert_eq!(
        (requests.received, requests.answered, requests.arrests),
        (1, 1, 2)
    );

    // One trace: the screening of the listing (A), the alert's delivery and the case made
    // from it (B), and the referral's delivery to law enforcement (B), each a child of the
    // one before, across the outbox's asynchronous hops and the two processes.
    let screen = receiver
        .wait_for(
            "assay.screening.v1.ScreeningService/ScreenListing",
            None,
            None,
        )
        .await;
    let trace = screen.trace_id.clone();
    assert_eq!(screen.service, "assay");
    assert_eq!(screen.version, env!("CARGO_PKG_VERSION"), "service.version");
    assert_eq!(screen.kind, SpanKind::Server as i32);
    for (key, value) in [
        ("rpc.system.name", "grpc"),
        (
            "rpc.method",
            "assay.screening.v1.ScreeningService/ScreenListing",
        ),
        ("rpc.response.status_code", "OK"),
    ] {
        assert_eq!(
            screen.attributes.get(key).map(String::as_str),
            Some(value),
            "{key}"
        );
    }
    let alert = receiver
        .wait_for("process screening.hit", Some(&trace), None)
        .await;
    assert_eq!(alert.kind, SpanKind::Consumer as i32);
    assert_eq!(alert.attributes["messaging.message.id"], hit_id);
    let received = receiver
        .wait_for(
            "assay.cases.v1.CasesService/ReceiveHitAlerts",
            Some(&trace),
            None,
        )
        .await;
    assert_eq!(received.parent_span_id, alert.span_id);
    let referral = receiver
        .wait_for("process cases.referral", Some(&trace), None)
        .await;
    assert_eq!(referral.attributes["messaging.message.id"], referral_id);
    let delivered = receiver
        .wait_for(
            "assay.lawenforcement.v1.LawEnforcementService/ReceiveReferral",
            Some(&trace),
            None,
        )
        .await;
    assert_eq!(delivered.parent_span_id, referral.span_id);
    assert_eq!(delivered.kind, SpanKind::Server as i32);
    // Prometheus sees the same story: the RPCs with their status codes, the domain counters.
    let a_text = scrape(a_metrics).await;
    let screen_listing = [
        "rpc_system_name=\"grpc\"",
        "rpc_method=\"assay.screening.v1.ScreeningService/ScreenListing\"",
    ];
    let ok = [
        screen_listing[0],
        screen_listing[1],
        "rpc_response_status_code=\"OK\"",
    ];
    let bad = [
        screen_listing[0],
        screen_listing[1],
        "rpc_response_status_code=\"INVALID_ARGUMENT\"",
    ];
    assert_eq!(
        sample(&a_text, "rpc_server_call_duration_seconds_count", &ok),
        Some(1.0),
        "{a_text}"
    );
    assert_eq!(
        sample(&a_text, "rpc_server_call_duration_seconds_count", &bad),
        Some(1.0)
    );
    assert!(sample(&a_text, "rpc_server_call_duration_seconds_bucket", &ok).is_some());
    assert_eq!(
        sample(
            &a_text,
            "assay_screening_listings_total",
            &["decision=\"BLOCK\""]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&a_text, "assay_screening_hits_total", &[]),
        Some(1.0)
    );
    // What the process and its pools and outbox say of themselves.
    let version = format!("version=\"{}\"", env!("CARGO_PKG_VERSION"));
    assert_eq!(
        sample(&a_text, "assay_build_info", &[&version]),
        Some(1.0),
        "{a_text}"
    );
    assert!(sample(&a_text, "process_memory_usage_bytes", &[]).is_some_and(|b| b > 1e6));
    assert!(sample(&a_text, "process_cpu_time_seconds_total", &[]).is_some_and(|s| s > 0.0));
    assert!(sample(&a_text, "process_unix_file_descriptor_count", &[]).is_some_and(|n| n > 3.0));
    let writer = ["db_client_connection_pool_name=\"screening.writer\""];
    assert!(
        sample(&a_text, "db_client_connection_count", &writer).is_some(),
        "{a_text}"
    );
    let hits = ["topic=\"screening.hit\""];
    assert!(
        sample(&a_text, "assay_outbox_pending", &hits).is_some(),
        "{a_text}"
    );
    assert!(sample(&a_text, "assay_outbox_oldest_pending_age_seconds", &hits).is_some());
    let b_text = scrape(b_metrics).await;
    assert_eq!(
        sample(
            &b_text,
            "assay_cases_opened_total",
            &["source=\"SCREENING_ALERT\""]
        ),
        Some(1.0),
        "{b_text}"
    );
    assert_eq!(
        sample(&b_text, "assay_lawenforcement_requests_overdue", &[]),
        Some(0.0)
    );
    // And the OTLP receiver got them too.
    eventually("metrics exported over OTLP", || {
        let metrics = receiver.metrics.lock().unwrap().clone();
        async move {
            let has = |name: &str| metrics.iter().any(|(_, n)| n == name);
            (has("rpc.server.call.duration")
                && has("assay.screening.listings")
                && has("assay.cases.opened"))
            .then_some(())
        }
    })
    .await;

    // The alert was written in the screening request's trace; the processes differ.
    assert!(
        receiver
            .snapshot()
            .iter()
            .any(|s| s.span_id == alert.parent_span_id && s.trace_id == trace),
        "the alert's delivery continues a span of the screening"
    );
}
