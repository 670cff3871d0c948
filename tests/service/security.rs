//! Least privilege, tried as an attacker would: every RPC of every service called as every
//! kind of principal, internal services held to their jobs, and tenants checked live.

use std::time::Duration;

use assay_common::auth::Principal;
use assay_tests::proto::cases::v1 as cases;
use assay_tests::proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_tests::proto::lawenforcement::v1 as le;
use assay_tests::proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_tests::proto::registry::v1::*;
use assay_tests::{Backend, Sandbox, expect_code, on_both_backends};
use tonic::Code;

use crate::contract::{POLICIES, call, methods};
use crate::fixtures::*;

on_both_backends!(
    the_policy_table_decides_who_calls_what,
    internal_services_get_only_their_jobs,
    suspended_exited_and_unknown_tenants_are_refused,
    a_verified_brand_cannot_be_renamed_into_another_mark,
    a_registration_claimed_twice_goes_to_staff,
);

async fn the_policy_table_decides_who_calls_what(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let alpha = active_member(&mut admin, "Alpha SA", MemberKind::BrandOwner).await;
    let beta = active_member(&mut admin, "Beta SA", MemberKind::BrandOwner).await;
    let mut legal = LawEnforcementServiceClient::new(sandbox.as_principal(Some(LEGAL)).await);
    let first = agency(&mut legal, "Guardia di Finanza", "IT", "gdf.gov.it").await;
    let second = agency(&mut legal, "Bundespolizei", "DE", "polizei.bund.de").await;

    let principals: Vec<String> = [
        ADMIN,
        ANALYST,
        LEGAL,
        "staff:audrey:auditor",
        "service:screening",
        "service:cases",
        "service:lawenforcement",
        "service:listing-pipeline",
        "service:seller-portal",
        "service:seller-management",
        // A marketplace service that no policy names.
        "service:marketplace",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([
        format!("member:{}", alpha.id),
        format!("member:{}", beta.id),
        format!("agency:{}", first.id),
        format!("agency:{}", second.id),
    ])
    .collect();

    let mut wrong = Vec::new();
    let mut calls = 0;
    for (service, method, client_streams, server_streams) in methods() {
        let rule = POLICIES
            .iter()
            .find(|p| p.service == service)
            .and_then(|p| p.rule(&method))
            .unwrap_or_else(|| panic!("{service}/{method} has no rule"));
        let anonymous = call(
            sandbox.as_principal(None).await,
            &service,
            &method,
            client_streams,
            server_streams,
        )
        .await;
        if anonymous.code() != Code::Unauthenticated {
            wrong.push(format!("{method} without credentials: {anonymous:?}"));
        }
        for principal in &principals {
            let parsed: Principal = principal.parse().unwrap();
            let admitted = rule.admits(&parsed);
            let status = call(
                sandbox.as_principal(Some(principal)).await,
                &service,
                &method,
                client_streams,
                server_streams,
            )
            .await;
            calls += 1;
            // The guard's refusal names the method; a handler's finer refusal (say, a
            // member writing a global rule) does not.
            let refused_by_table = status.code() == Code::PermissionDenied
                && status.message().contains("may not call");
            let ok = if admitted {
                !refused_by_table && status.code() != Code::Unauthenticated
            } else {
                refused_by_table
            };
            if !ok {
                wrong.push(format!(
                    "{method} as {principal} (admitted: {admitted}): {:?} {}",
                    status.code(),
                    status.message()
                ));
            }
        }
    }
    assert!(calls > 1000, "{calls} calls");
    assert!(
        wrong.is_empty(),
        "{} wrong answers: {wrong:#?}",
        wrong.len()
    );
}

#[track_caller]
fn denied<T: std::fmt::Debug>(result: Result<T, tonic::Status>) {
    expect_code(result, Code::PermissionDenied);
}

/// The README's own seller-portal token once read every agency's requests and packages and
/// planted referrals in their inboxes. A named service now does its job and nothing else.
async fn internal_services_get_only_their_jobs(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut legal = LawEnforcementServiceClient::new(sandbox.as_principal(Some(LEGAL)).await);
    let agency = agency(&mut legal, "Guardia di Finanza", "IT", "gdf.gov.it").await;
    let mut as_agency = LawEnforcementServiceClient::new(
        sandbox
            .as_principal(Some(&format!("agency:{}", agency.id)))
            .await,
    );
    let filed = as_agency
        .submit_request(le::SubmitRequestRequest {
            legal_request: Some(le::LegalRequest {
                process: le::LegalProcess::Subpoena as i32,
                reference: "OP-1".to_owned(),
                requester_name: "Cap. Rossi".to_owned(),
                requester_email: "rossi@gdf.gov.it".to_owned(),
                targets: vec![le::Target {
                    kind: le::TargetKind::Seller as i32,
                    id: "s-1".to_owned(),
                }],
                data_categories: vec![le::DataCategory::ScreenedListings as i32],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("the agency files a request")
        .into_inner()
        .legal_request
        .unwrap();

    let mut portal =
        LawEnforcementServiceClient::new(sandbox.as_principal(Some("service:seller-portal")).await);
    denied(
        portal
            .get_request(le::GetRequestRequest {
                id: filed.id.clone(),
            })
            .await,
    );
    denied(
        portal
            .list_requests(le::ListRequestsRequest::default())
            .await,
    );
    denied(
        portal
            .download_package(le::DownloadPackageRequest {
                id: filed.id.clone(),
            })
            .await,
    );
    denied(
        portal
            .extend_non_disclosure(le::ExtendNonDisclosureRequest {
                id: filed.id.clone(),
                ..Default::default()
            })
            .await,
    );
    denied(
        portal
            .get_referral(le::GetReferralRequest {
                id: "ref_0123456789abcdef0123456789abcdef".to_owned(),
            })
            .await,
    );
    // A forged referral into the agency's inbox.
    let forged = cases::Case {
        id: "cas_0123456789abcdef0123456789abcdef".to_owned(),
        ..Default::default()
    };
    denied(
        portal
            .receive_referral(le::ReceiveReferralRequest {
                r#case: Some(forged),
            })
            .await,
    );
    let inbox = as_agency
        .list_referrals(le::ListReferralsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(inbox.referrals.is_empty(), "nothing planted: {inbox:?}");

    let mut portal_cases =
        CasesServiceClient::new(sandbox.as_principal(Some("service:seller-portal")).await);
    denied(
        portal_cases
            .list_evidence(cases::ListEvidenceRequest {
                case_id: "cas_0123456789abcdef0123456789abcdef".to_owned(),
                ..Default::default()
            })
            .await,
    );
    denied(
        portal_cases
            .get_case(cases::GetCaseRequest {
                id: "cas_0123456789abcdef0123456789abcdef".to_owned(),
            })
            .await,
    );
}

/// A suspended or exited member, or one that never existed, cannot act on any service,
/// whatever its token says; a suspended agency neither.
async fn suspended_exited_and_unknown_tenants_are_refused(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (member, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800777").await;
    let token = format!("member:{}", member.id);
    let mut as_member = registry(&sandbox, &token).await;
    let mut member_cases = CasesServiceClient::new(sandbox.as_principal(Some(&token)).await);
    let notice = || cases::SubmitNoticeRequest {
        notice: Some(cases::Notice {
            member_id: member.id.clone(),
            ip_right_id: right.id.clone(),
            listings: vec![cases::CaseListing {
                listing_id: "l-1".to_owned(),
                seller_id: "s-1".to_owned(),
                title: "listing".to_owned(),
                ..Default::default()
            }],
            statement: "These bags copy our registered mark".to_owned(),
            good_faith: true,
            reason_codes: vec![],
        }),
        request_id: String::new(),
    };
    let rename = |name: &str| UpdateBrandRequest {
        brand: Some(Brand {
            id: brand.id.clone(),
            aliases: vec![name.to_owned()],
            ..Brand::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["aliases".into()],
        }),
    };
    member_cases
        .submit_notice(notice())
        .await
        .expect("an active member files notices");

    let mut admin = registry(&sandbox, ADMIN).await;
    admin
        .suspend_member(SuspendMemberRequest {
            id: member.id.clone(),
            etag: String::new(),
            reason: "unpaid dues".to_owned(),
        })
        .await
        .unwrap();
    let suspended = expect_code(
        member_cases.submit_notice(notice()).await,
        Code::PermissionDenied,
    );
    assert!(suspended.message().contains("suspended"), "{suspended:?}");
    expect_code(
        as_member.update_brand(rename("Ardent Paris")).await,
        Code::PermissionDenied,
    );
    expect_code(
        as_member
            .get_member(GetMemberRequest {
                id: member.id.clone(),
            })
            .await,
        Code::PermissionDenied,
    );

    admin
        .activate_member(ActivateMemberRequest {
            id: member.id.clone(),
            etag: String::new(),
            reason: "dues paid".to_owned(),
        })
        .await
        .unwrap();
    as_member
        .get_member(GetMemberRequest {
            id: member.id.clone(),
        })
        .await
        .expect("reactivated, it acts again");

    admin
        .exit_member(ExitMemberRequest {
            id: member.id.clone(),
            etag: String::new(),
            reason: "left the alliance".to_owned(),
        })
        .await
        .unwrap();
    expect_code(
        member_cases.submit_notice(notice()).await,
        Code::PermissionDenied,
    );
    expect_code(
        as_member.update_brand(rename("Ardent Milano")).await,
        Code::PermissionDenied,
    );

    // A token for a member that does not exist.
    let mut ghost = registry(&sandbox, "member:mbr_0123456789abcdef0123456789abcdef").await;
    expect_code(
        ghost.list_brands(ListBrandsRequest::default()).await,
        Code::Unauthenticated,
    );
    let mut ghost_cases = CasesServiceClient::new(
        sandbox
            .as_principal(Some("member:mbr_0123456789abcdef0123456789abcdef"))
            .await,
    );
    expect_code(
        ghost_cases
            .list_cases(cases::ListCasesRequest::default())
            .await,
        Code::Unauthenticated,
    );

    // A suspended agency: refused, and the refusal is in the audit log.
    let mut legal = LawEnforcementServiceClient::new(sandbox.as_principal(Some(LEGAL)).await);
    let agency = agency(&mut legal, "Guardia di Finanza", "IT", "gdf.gov.it").await;
    let mut as_agency = LawEnforcementServiceClient::new(
        sandbox
            .as_principal(Some(&format!("agency:{}", agency.id)))
            .await,
    );
    as_agency
        .list_requests(le::ListRequestsRequest::default())
        .await
        .expect("an active agency reads its requests");
    legal
        .suspend_agency(le::SuspendAgencyRequest {
            id: agency.id.clone(),
            etag: String::new(),
            reason: "credentials leaked".to_owned(),
        })
        .await
        .unwrap();
    expect_code(
        as_agency
            .list_requests(le::ListRequestsRequest::default())
            .await,
        Code::PermissionDenied,
    );
    let mut auditor =
        LawEnforcementServiceClient::new(sandbox.as_principal(Some("staff:audrey:auditor")).await);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let entries = auditor
            .list_audit_entries(le::ListAuditEntriesRequest {
                page_size: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .entries;
        if entries.iter().any(|e| {
            e.actor == format!("agency:{}", agency.id)
                && e.action == "call.ListRequests"
                && e.outcome.starts_with("refused")
        }) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the refusal was not audited: {entries:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn update_brand(owner: &mut Registry, brand: Brand, paths: &[&str]) -> Brand {
    owner
        .update_brand(UpdateBrandRequest {
            brand: Some(brand),
            update_mask: Some(prost_types::FieldMask {
                paths: paths.iter().map(|p| p.to_string()).collect(),
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .brand
        .unwrap()
}

fn catalogue_names(catalogue: &GetCatalogueResponse) -> Vec<String> {
    catalogue.brands.iter().map(|b| b.name.clone()).collect()
}

/// A member once renamed its verified brand "Hermes" and kept its protection, on the
/// strength of a right verified for another mark.
async fn a_verified_brand_cannot_be_renamed_into_another_mark(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let mut legal = registry(&sandbox, LEGAL).await;
    let member = active_member(&mut admin, "Maison Lumière SA", MemberKind::BrandOwner).await;
    let mut owner = registry(&sandbox, &format!("member:{}", member.id)).await;
    let brand = create_brand(&mut owner, &member.id, "Lumière").await;
    let right = create_right(
        &mut owner,
        IpRight {
            mark_text: "LUMIERE".into(),
            ..trademark_msg(&brand.id, "018123456")
        },
    )
    .await;
    let verified = verify(&mut legal, &right.id).await;
    assert_eq!(verified.verified_terms, ["lumiere", "lumiereparis"]);
    let catalogue = admin
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(catalogue_names(&catalogue), ["Lumière"]);

    // Changing what the right does not cover keeps protection.
    let kept = update_brand(
        &mut owner,
        Brand {
            id: brand.id.clone(),
            authorized_seller_ids: vec!["flagship".into()],
            ..Brand::default()
        },
        &["authorized_seller_ids"],
    )
    .await;
    assert!(kept.protected);

    // Renamed into someone else's mark: out of the catalogue, the right back to PENDING.
    let renamed = update_brand(
        &mut owner,
        Brand {
            id: brand.id.clone(),
            name: "Hermes".into(),
            ..Brand::default()
        },
        &["name"],
    )
    .await;
    assert!(!renamed.protected, "{renamed:?}");
    let right = owner
        .get_ip_right(GetIpRightRequest {
            id: right.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .ip_right
        .unwrap();
    assert_eq!(right.verification_status(), VerificationStatus::Pending);
    let catalogue = admin
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        catalogue.brands.is_empty(),
        "{:?}",
        catalogue_names(&catalogue)
    );
    // Staff cannot verify it again for a name that is not its mark.
    expect_code(
        legal
            .verify_ip_right(VerifyIpRightRequest {
                id: right.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
    );

    // An alias never checked also needs a new verification.
    let back = update_brand(
        &mut owner,
        Brand {
            id: brand.id.clone(),
            name: "Lumière".into(),
            ..Brand::default()
        },
        &["name"],
    )
    .await;
    assert!(
        !back.protected,
        "a rename back is verified again, not trusted"
    );
    verify(&mut legal, &right.id).await;
    let with_alias = update_brand(
        &mut owner,
        Brand {
            id: brand.id.clone(),
            aliases: vec!["Lumière Paris".into(), "Hermès".into()],
            ..Brand::default()
        },
        &["aliases"],
    )
    .await;
    assert!(!with_alias.protected);
}

/// The first to record a registration number once blocked its real owner, and was told the
/// other holder's right id. Now both claims go to staff.
async fn a_registration_claimed_twice_goes_to_staff(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let mut legal = registry(&sandbox, LEGAL).await;
    let squatter = active_member(&mut admin, "Squatter Ltd", MemberKind::BrandOwner).await;
    let owner = active_member(&mut admin, "Real Owner SA", MemberKind::BrandOwner).await;
    let mut as_squatter = registry(&sandbox, &format!("member:{}", squatter.id)).await;
    let mut as_owner = registry(&sandbox, &format!("member:{}", owner.id)).await;
    let fake = create_brand(&mut as_squatter, &squatter.id, "Orvane").await;
    let real = create_brand(&mut as_owner, &owner.id, "Orvane").await;
    let first = create_right(&mut as_squatter, trademark_msg(&fake.id, "018444444")).await;
    // The real owner records it too, and learns nothing of the other claim.
    let second = as_owner
        .create_ip_right(CreateIpRightRequest {
            ip_right: Some(trademark_msg(&real.id, "018444444")),
            request_id: String::new(),
        })
        .await
        .expect("the second claim is recorded, not refused")
        .into_inner()
        .ip_right
        .unwrap();
    assert_eq!(second.verification_status(), VerificationStatus::Pending);
    assert!(!format!("{second:?}").contains(&first.id));

    // Staff verify the real owner's; the squatter's then cannot be verified.
    verify(&mut legal, &second.id).await;
    let conflict = expect_code(
        legal
            .verify_ip_right(VerifyIpRightRequest {
                id: first.id.clone(),
                ..Default::default()
            })
            .await,
        Code::FailedPrecondition,
    );
    assert!(conflict.message().contains(&second.id), "{conflict:?}");
}
