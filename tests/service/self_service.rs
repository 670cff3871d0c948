//! Trusted self-service removal: eligibility earned and lost by the accuracy of a member's
//! notices, recorded as it changes; removals that are cases like any other, which sellers
//! may appeal and staff may reverse.

use assay::ServiceName;
use assay_tests::proto::cases::v1::*;
use assay_tests::proto::registry::v1 as registry;
use assay_tests::{Backend, Sandbox, expect_code, on_both_backends};
use tonic::Code;

use crate::cases::{
    Cases, act, appeal, cases, events, listing, member, member_known, notice, review, staff_case,
    status_of, submit,
};
use crate::fixtures::*;

on_both_backends!(members_earn_self_service_removal_and_lose_it_when_a_removal_is_reversed);

async fn remove(
    client: &mut Cases,
    notice: Notice,
    request_id: &str,
) -> Result<Case, tonic::Status> {
    client
        .remove_listings(RemoveListingsRequest {
            notice: Some(notice),
            request_id: request_id.to_owned(),
        })
        .await
        .map(|r| r.into_inner().r#case.expect("case"))
}

async fn changes(
    client: &mut Cases,
    member_id: &str,
) -> Result<Vec<SelfServiceChange>, tonic::Status> {
    client
        .list_self_service_changes(ListSelfServiceChangesRequest {
            member_id: member_id.to_owned(),
            ..Default::default()
        })
        .await
        .map(|r| r.into_inner().changes)
}

async fn active_strikes(analyst: &mut Cases, seller: &str) -> i32 {
    analyst
        .get_seller(GetSellerRequest {
            seller_id: seller.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .seller
        .unwrap()
        .active_strikes
}

async fn members_earn_self_service_removal_and_lose_it_when_a_removal_is_reversed(
    backend: Backend,
) {
    let sandbox = Sandbox::start_with(backend, ServiceName::ALL, |config| {
        config.cases.self_service_removal.min_decided = 3;
        config.cases.self_service_removal.min_accuracy = 0.99;
    })
    .await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800091").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let other = active_member(&mut admin, "Beta SA", registry::MemberKind::BrandOwner).await;
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let mut other_client = cases(&sandbox, &member(&other.id)).await;
    let mut analyst = cases(&sandbox, ANALYST).await;

    // No record yet: refused, saying why, and nothing opened.
    let refused = remove(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("r-0", "shop-r")]),
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused.message().contains("0 of 0 decided notices upheld")
            && refused.message().contains("at least 3"),
        "{}",
        refused.message()
    );
    assert!(changes(&mut owner_client, "").await.unwrap().is_empty());

    // Three notices upheld by staff: eligible, and the change is on record.
    for n in 1..=3 {
        let case = submit(
            &mut owner_client,
            notice(
                &owner.id,
                &right.id,
                vec![listing(&format!("u-{n}"), "shop-u")],
            ),
        )
        .await
        .unwrap();
        review(&mut analyst, &case.id).await;
        act(&mut analyst, &case.id).await;
    }
    let granted = changes(&mut owner_client, "").await.unwrap();
    assert_eq!(granted.len(), 1, "{granted:?}");
    assert!(granted[0].eligible);
    assert_eq!((granted[0].decided, granted[0].upheld), (3, 3));
    assert!(
        granted[0].cause.ends_with("decided UPHELD"),
        "{:?}",
        granted[0]
    );
    let accuracy = owner_client
        .get_notice_accuracy(GetNoticeAccuracyRequest {
            member_id: owner.id.clone(),
            create_time: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(accuracy.self_service);

    // Staff do not remove for members; members do not take action.
    expect_code(
        analyst
            .remove_listings(RemoveListingsRequest {
                notice: Some(notice(&owner.id, &right.id, vec![listing("r-1", "shop-r")])),
                request_id: String::new(),
            })
            .await,
        Code::PermissionDenied,
    );

    // The removal: at once, a case decided by the member, its seller struck; a retry
    // answers the same case.
    let request_id = "6f1c2a53-3d0e-4b7e-9d6a-0b9f3b8c2e11";
    let removed = remove(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("r-1", "shop-r")]),
        request_id,
    )
    .await
    .unwrap();
    assert_eq!(status_of(&removed), CaseStatus::ActionTaken);
    assert!(removed.self_service);
    assert!(removed.listings[0].takedown_time.is_some());
    let again = remove(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("r-1", "shop-r")]),
        request_id,
    )
    .await
    .unwrap();
    assert_eq!(again.id, removed.id);
    assert_eq!(active_strikes(&mut analyst, "shop-r").await, 1);
    let timeline = events(&mut analyst, &removed.id).await;
    assert!(
        timeline.iter().all(|e| e.actor == member(&owner.id)),
        "the member did it all: {timeline:?}"
    );
    assert!(
        timeline.iter().any(|e| e.detail.contains("self-service")),
        "{timeline:?}"
    );

    // The seller keeps its right to appeal.
    appeal(&sandbox, &removed.id).await;

    // Only staff reverse, and only a self-service removal.
    expect_code(
        owner_client
            .reverse_removal(ReverseRemovalRequest {
                id: removed.id.clone(),
                etag: String::new(),
                note: "changed my mind".to_owned(),
            })
            .await,
        Code::PermissionDenied,
    );
    let staff_takedown = staff_case(&mut analyst, "staff", vec![listing("s-1", "shop-s")]).await;
    review(&mut analyst, &staff_takedown.id).await;
    act(&mut analyst, &staff_takedown.id).await;
    expect_code(
        analyst
            .reverse_removal(ReverseRemovalRequest {
                id: staff_takedown.id.clone(),
                etag: String::new(),
                note: "no".to_owned(),
            })
            .await,
        Code::FailedPrecondition,
    );
    let reversed = analyst
        .reverse_removal(ReverseRemovalRequest {
            id: removed.id.clone(),
            etag: String::new(),
            note: "the seller is a licensed reseller".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(status_of(&reversed), CaseStatus::Reinstated);
    assert!(reversed.listings[0].reinstate_time.is_some());
    assert_eq!(active_strikes(&mut analyst, "shop-r").await, 0);

    // It counts against the member: 3 of 4 upheld, eligibility withdrawn on record.
    let history = changes(&mut owner_client, "").await.unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert!(!history[1].eligible);
    assert_eq!((history[1].decided, history[1].upheld), (4, 3));
    assert_eq!(
        history[1].cause,
        format!("case {} decided OVERTURNED", removed.id)
    );
    let refused = remove(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("r-2", "shop-r")]),
        "",
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(
        refused
            .message()
            .contains("3 of 4 decided notices upheld (75.0%)"),
        "{}",
        refused.message()
    );

    // Staff see everyone's changes; another member sees none of them, and the owner's id
    // answers as an unknown one does.
    assert_eq!(changes(&mut analyst, "").await.unwrap().len(), 2);
    assert!(changes(&mut other_client, "").await.unwrap().is_empty());
    let theirs = changes(&mut other_client, &owner.id).await.unwrap_err();
    let unknown = changes(&mut other_client, "mbr_00000000000000000000000000000000")
        .await
        .unwrap_err();
    assert_eq!(theirs.code(), Code::NotFound);
    assert_eq!(
        theirs.message().replace(&owner.id, "?"),
        unknown
            .message()
            .replace("mbr_00000000000000000000000000000000", "?")
    );
    // A member that is not eligible is refused the same way whoever it names.
    expect_code(
        remove(
            &mut other_client,
            notice(&owner.id, &right.id, vec![listing("r-3", "shop-r")]),
            "",
        )
        .await,
        Code::NotFound,
    );
}
