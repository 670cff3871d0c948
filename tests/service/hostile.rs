//! Hostile input: oversized repeated fields are refused before any entry is looked at, error
//! answers stay small, and names shown to people cannot hide or reorder what they say.

use assay_tests::proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_tests::proto::cases::v1::*;
use assay_tests::proto::registry::v1::*;
use assay_tests::{Backend, Sandbox, bad_fields, expect_code, on_both_backends};
use tonic::Code;
use tonic_types::StatusExt;

use crate::fixtures::*;

on_both_backends!(
    oversized_lists_are_refused_whole_with_a_short_answer,
    names_shown_to_people_cannot_hide_or_reorder_text,
    open_streams_count_against_the_limits_for_their_whole_life,
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

    // 100,000 case ids (all the same) in a bulk update.
    let status = expect_code(
        analyst
            .bulk_update_cases(BulkUpdateCasesRequest {
                case_ids: vec!["cas_0123456789abcdef0123456789abcdef".to_owned(); 100_000],
                action: Some(bulk_update_cases_request::Action::CloseNote("x".to_owned())),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["case_ids"]);

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
