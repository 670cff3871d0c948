//! Case management, through its generated client.

use std::time::{Duration, Instant};

use assay::ServiceName;
use assay_tests::proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_tests::proto::cases::v1::*;
use assay_tests::proto::common::v1::{Contact, Money, TimeRange};
use assay_tests::proto::registry::v1 as registry;
use assay_tests::proto::screening::v1 as screening;
use assay_tests::{
    Authed, Backend, Sandbox, answers_like_missing, bad_fields, expect_code, in_language,
    on_both_backends,
};
use sha2::{Digest, Sha256};
use tonic::Code;

use crate::fixtures::*;

mod alerts;
mod lifecycle;
mod notices;
mod notifications;
mod sellers;

pub(crate) use notifications::{endpoint, signed_by};

pub(crate) type Cases = CasesServiceClient<Authed>;

/// The marketplace's seller portal, through which sellers appeal.
pub(crate) const SELLER_PORTAL: &str = "service:seller-portal";
/// The marketplace's seller management, which reports sellers' identifiers.
const SELLER_MANAGEMENT: &str = "service:seller-management";
/// A marketplace service that the policy names nowhere in cases.
const MARKETPLACE: &str = "service:marketplace";

pub(crate) async fn cases(sandbox: &Sandbox, principal: &str) -> Cases {
    CasesServiceClient::new(sandbox.as_principal(Some(principal)).await)
}

pub(crate) fn member(id: &str) -> String {
    format!("member:{id}")
}

pub(crate) fn listing(id: &str, seller: &str) -> CaseListing {
    CaseListing {
        listing_id: id.to_owned(),
        seller_id: seller.to_owned(),
        title: format!("listing {id}"),
        ..CaseListing::default()
    }
}

pub(crate) fn notice(member_id: &str, right_id: &str, listings: Vec<CaseListing>) -> Notice {
    Notice {
        member_id: member_id.to_owned(),
        ip_right_id: right_id.to_owned(),
        listings,
        statement: "These bags copy our registered mark and quilting.".to_owned(),
        good_faith: true,
        reason_codes: vec![],
    }
}

pub(crate) async fn submit(client: &mut Cases, notice: Notice) -> Result<Case, tonic::Status> {
    client
        .submit_notice(SubmitNoticeRequest {
            notice: Some(notice),
            request_id: String::new(),
        })
        .await
        .map(|r| r.into_inner().r#case.expect("case"))
}

pub(crate) fn status_of(case: &Case) -> CaseStatus {
    CaseStatus::try_from(case.status).unwrap()
}

async fn get(client: &mut Cases, id: &str) -> Case {
    client
        .get_case(GetCaseRequest { id: id.to_owned() })
        .await
        .expect("get case")
        .into_inner()
        .r#case
        .expect("case")
}

pub(crate) async fn review(client: &mut Cases, id: &str) -> Case {
    client
        .start_review(StartReviewRequest {
            id: id.to_owned(),
            etag: String::new(),
        })
        .await
        .expect("start review")
        .into_inner()
        .r#case
        .unwrap()
}

pub(crate) async fn act(client: &mut Cases, id: &str) -> Case {
    client
        .take_action(TakeActionRequest {
            id: id.to_owned(),
            etag: String::new(),
            note: "confirmed by test purchase".to_owned(),
            reason_codes: vec![],
        })
        .await
        .expect("take action")
        .into_inner()
        .r#case
        .unwrap()
}

pub(crate) async fn staff_case(
    client: &mut Cases,
    title: &str,
    listings: Vec<CaseListing>,
) -> Case {
    client
        .create_case(CreateCaseRequest {
            r#case: Some(Case {
                title: title.to_owned(),
                summary: "found while browsing".to_owned(),
                listings,
                ..Case::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create case")
        .into_inner()
        .r#case
        .unwrap()
}

pub(crate) async fn events(client: &mut Cases, id: &str) -> Vec<CaseEvent> {
    client
        .list_case_events(ListCaseEventsRequest {
            case_id: id.to_owned(),
            page_size: 100,
            page_token: String::new(),
        })
        .await
        .expect("events")
        .into_inner()
        .events
}

fn evidence(content: &[u8], description: &str) -> EvidenceInput {
    EvidenceInput {
        kind: EvidenceKind::TestPurchase as i32,
        description: description.to_owned(),
        content: content.to_vec(),
        media_type: "image/jpeg".to_owned(),
        reference_uri: String::new(),
        sha256: String::new(),
    }
}

async fn list_ids(client: &mut Cases, request: ListCasesRequest) -> Vec<String> {
    let mut ids: Vec<String> = client
        .list_cases(request)
        .await
        .expect("list cases")
        .into_inner()
        .cases
        .into_iter()
        .map(|c| c.id)
        .collect();
    ids.sort();
    ids
}

fn sorted(ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    ids.sort();
    ids
}

/// Waits until case management's copy of the catalogue lets `member` read cases of
/// `brand_id` (it follows the registry asynchronously).
pub(crate) async fn member_known(sandbox: &Sandbox, member_id: &str, brand_id: &str) {
    let mut client = cases(sandbox, &member(member_id)).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while client
        .list_cases(ListCasesRequest {
            brand_id: brand_id.to_owned(),
            ..Default::default()
        })
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "cases never learnt of {brand_id}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The seller appeals the takedown of `case` through the marketplace's seller portal.
pub(crate) async fn appeal(sandbox: &Sandbox, case: &str) {
    cases(sandbox, SELLER_PORTAL)
        .await
        .file_counter_notice(FileCounterNoticeRequest {
            id: case.to_owned(),
            etag: String::new(),
            counter_notice: Some(CounterNotice {
                statement: "Genuine stock from the brand's distributor.".to_owned(),
                contact: Some(Contact {
                    name: "The seller".to_owned(),
                    email: "legal@seller.example".to_owned(),
                    ..Contact::default()
                }),
                ..CounterNotice::default()
            }),
            evidence: Vec::new(),
        })
        .await
        .unwrap();
}

async fn reinstate_on_appeal(sandbox: &Sandbox, case: &str) {
    appeal(sandbox, case).await;
    cases(sandbox, LEGAL)
        .await
        .resolve_counter_notice(ResolveCounterNoticeRequest {
            id: case.to_owned(),
            etag: String::new(),
            decision: CounterNoticeDecision::Reinstate as i32,
            note: "the invoice holds".to_owned(),
        })
        .await
        .unwrap();
}

/// A staff case about one listing, decided with a takedown: a strike on its seller.
async fn struck_case(analyst: &mut Cases, listing_id: &str, seller: &str) -> String {
    let case = staff_case(
        analyst,
        &format!("counterfeit {listing_id}"),
        vec![listing(listing_id, seller)],
    )
    .await;
    review(analyst, &case.id).await;
    act(analyst, &case.id).await;
    case.id
}
