//! The alliance member registry, through its generated client.

use std::time::Duration;

use assay_tests::proto::common::v1::Money;
use assay_tests::proto::registry::v1::*;
use assay_tests::{
    Backend, Sandbox, answers_like_missing, bad_fields, expect_code, on_both_backends,
};
use tonic::Code;

use crate::fixtures::*;

on_both_backends!(
    a_newcomer_protects_a_brand_end_to_end,
    member_fields_are_validated,
    member_status_transitions,
    members_page_through_with_tamper_checked_tokens,
    idempotent_creates,
    stale_etags_are_aborted,
    members_update_only_their_own_details,
    brand_fields_are_validated,
    members_touch_only_their_own_brands,
    delegations_let_agents_act_for_principals,
    ip_right_fields_are_validated,
    ip_right_verification_transitions,
    only_legal_staff_verify_rights,
    catalogue_follows_protection,
    catalogue_watch_sees_a_verification_within_a_second,
    catalogue_watch_resumes_from_a_revision,
    alliance_figures_count_the_alliance,
);

/// The README's walk-through: a member, a brand, a trade mark, verification, catalogue.
async fn a_newcomer_protects_a_brand_end_to_end(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let member = active_member(&mut admin, "Maison Lumière SA", MemberKind::BrandOwner).await;
    assert_eq!(member.status(), MemberStatus::Active);

    let mut owner = registry(&sandbox, &format!("member:{}", member.id)).await;
    let brand = owner
        .create_brand(CreateBrandRequest {
            brand: Some(Brand {
                member_id: String::new(), // defaults to the calling member
                ..brand_msg("", "Lumière")
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .brand
        .unwrap();
    assert_eq!(brand.member_id, member.id);
    assert!(!brand.protected);

    let right = create_right(&mut owner, trademark_msg(&brand.id, "018123456")).await;
    assert_eq!(right.verification_status(), VerificationStatus::Pending);
    let catalogue = admin
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(
        catalogue.brands.is_empty(),
        "pending rights protect nothing"
    );

    let mut legal = registry(&sandbox, LEGAL).await;
    let verified = verify(&mut legal, &right.id).await;
    assert_eq!(verified.verification_status(), VerificationStatus::Verified);
    assert_eq!(verified.reviewed_by, "staff:lena");

    // The catalogue is screening's input, not a tenant's reading: every brand's
    // authorised sellers, prices and agents are in it.
    expect_code(
        owner.get_catalogue(GetCatalogueRequest {}).await,
        Code::PermissionDenied,
    );
    let mut watch = owner
        .watch_catalogue(WatchCatalogueRequest { since_revision: 0 })
        .await;
    if let Ok(stream) = &mut watch {
        // A refusal may come as the first message of the stream.
        let first = stream.get_mut().message().await;
        expect_code(first, Code::PermissionDenied);
    } else {
        expect_code(watch, Code::PermissionDenied);
    }
    let catalogue = admin
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(catalogue.brands.len(), 1);
    let entry = &catalogue.brands[0];
    assert_eq!(entry.brand_id, brand.id);
    assert_eq!(entry.name, "Lumière");
    assert_eq!(entry.aliases, ["Lumière Paris"]);
    assert_eq!(entry.authorized_seller_ids, ["official-store"]);
    assert_eq!(entry.right_kinds, [IpRightKind::Trademark as i32]);
    assert!(catalogue.revision > 0);
    assert_eq!(entry.revision, catalogue.revision);

    let brand = owner
        .get_brand(GetBrandRequest {
            id: brand.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .brand
        .unwrap();
    assert!(brand.protected);
}

async fn member_fields_are_validated(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let create = |member: Member| CreateMemberRequest {
        member: Some(member),
        request_id: String::new(),
    };
    let good = member_msg("Valid SA", MemberKind::BrandOwner);

    let cases: Vec<(Member, &str)> = vec![
        (
            Member {
                legal_name: "  ".into(),
                ..good.clone()
            },
            "member.legal_name",
        ),
        (
            Member {
                legal_name: "x".repeat(201),
                ..good.clone()
            },
            "member.legal_name",
        ),
        (
            Member {
                kind: 0,
                ..good.clone()
            },
            "member.kind",
        ),
        (
            Member {
                kind: 42,
                ..good.clone()
            },
            "member.kind",
        ),
        (
            Member {
                country_code: "XX".into(),
                ..good.clone()
            },
            "member.country_code",
        ),
        (
            Member {
                country_code: "fr".into(),
                ..good.clone()
            },
            "member.country_code",
        ),
        (
            Member {
                website: "brand.example".into(),
                ..good.clone()
            },
            "member.website",
        ),
        (
            Member {
                contacts: vec![],
                ..good.clone()
            },
            "member.contacts",
        ),
        (
            Member {
                contacts: vec![good.contacts[0].clone(); 21],
                ..good.clone()
            },
            "member.contacts",
        ),
    ];
    for (member, field) in cases {
        let status = expect_code(
            admin.create_member(create(member)).await,
            Code::InvalidArgument,
        );
        assert_eq!(bad_fields(&status), [field], "{status:?}");
    }
    let mut bad_contact = good.clone();
    bad_contact.contacts[0].email = "ip-at-brand.example".into();
    bad_contact.contacts[0].phone = "01 23 45".into();
    bad_contact.contacts[0].name = String::new();
    let status = expect_code(
        admin.create_member(create(bad_contact)).await,
        Code::InvalidArgument,
    );
    assert_eq!(
        bad_fields(&status),
        [
            "member.contacts[0].name",
            "member.contacts[0].email",
            "member.contacts[0].phone"
        ]
    );
    let status = expect_code(
        admin
            .create_member(CreateMemberRequest {
                member: None,
                request_id: String::new(),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["member"]);
    let status = expect_code(
        admin
            .create_member(CreateMemberRequest {
                member: Some(good.clone()),
                request_id: "not a valid key!".into(),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["request_id"]);
    let status = expect_code(
        admin
            .get_member(GetMemberRequest {
                id: "brd_0193".into(),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["id"]);
    expect_code(
        admin
            .get_member(GetMemberRequest {
                id: "mbr_0193c9a0b1c2d3e4f5a6b7c8d9e0f1a2".into(),
            })
            .await,
        Code::NotFound,
    );

    // Nothing half-written: every refused create left no member behind.
    let listed = admin
        .list_members(ListMembersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.members.is_empty(), "{:?}", listed.members);

    // Only admins admit members.
    let mut analyst = registry(&sandbox, ANALYST).await;
    expect_code(
        analyst.create_member(create(good)).await,
        Code::PermissionDenied,
    );
}

async fn member_status_transitions(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let member = admin
        .create_member(CreateMemberRequest {
            member: Some(member_msg("Transit SA", MemberKind::BrandOwner)),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    let id = member.id.clone();
    let suspend = |reason: &str| SuspendMemberRequest {
        id: id.clone(),
        etag: String::new(),
        reason: reason.to_owned(),
    };
    let activate = || ActivateMemberRequest {
        id: id.clone(),
        etag: String::new(),
        reason: String::new(),
    };
    let exit = || ExitMemberRequest {
        id: id.clone(),
        etag: String::new(),
        reason: "left".to_owned(),
    };

    // APPLIED: cannot be suspended.
    let status = expect_code(
        admin.suspend_member(suspend("late fees")).await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("APPLIED"), "{status:?}");
    // APPLIED -> ACTIVE.
    let m = admin
        .activate_member(activate())
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(m.status(), MemberStatus::Active);
    // ACTIVE -> ACTIVE is illegal.
    expect_code(
        admin.activate_member(activate()).await,
        Code::FailedPrecondition,
    );
    // Suspending needs a reason.
    let status = expect_code(
        admin.suspend_member(suspend("")).await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["reason"]);
    // ACTIVE -> SUSPENDED -> ACTIVE -> SUSPENDED -> EXITED.
    let m = admin
        .suspend_member(suspend("unpaid dues"))
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(m.status(), MemberStatus::Suspended);
    assert_eq!(m.status_reason, "unpaid dues");
    let m = admin
        .activate_member(activate())
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(m.status(), MemberStatus::Active);
    admin.suspend_member(suspend("again")).await.unwrap();
    let m = admin
        .exit_member(exit())
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(m.status(), MemberStatus::Exited);
    // EXITED is final.
    expect_code(
        admin.activate_member(activate()).await,
        Code::FailedPrecondition,
    );
    expect_code(
        admin.suspend_member(suspend("x")).await,
        Code::FailedPrecondition,
    );
    expect_code(admin.exit_member(exit()).await, Code::FailedPrecondition);

    // APPLIED -> EXITED (a withdrawn application) and ACTIVE -> EXITED.
    for activate_first in [false, true] {
        let other = admin
            .create_member(CreateMemberRequest {
                member: Some(member_msg("Short Stay SA", MemberKind::Licensee)),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .member
            .unwrap();
        if activate_first {
            admin
                .activate_member(ActivateMemberRequest {
                    id: other.id.clone(),
                    ..Default::default()
                })
                .await
                .unwrap();
        }
        let m = admin
            .exit_member(ExitMemberRequest {
                id: other.id,
                etag: String::new(),
                reason: "withdrawn".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .member
            .unwrap();
        assert_eq!(m.status(), MemberStatus::Exited);
    }

    // Only admins change statuses.
    let mut legal = registry(&sandbox, LEGAL).await;
    expect_code(
        legal.activate_member(activate()).await,
        Code::PermissionDenied,
    );
}

async fn members_page_through_with_tamper_checked_tokens(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let mut created = Vec::new();
    for i in 0..7 {
        let kind = if i % 2 == 0 {
            MemberKind::BrandOwner
        } else {
            MemberKind::Agent
        };
        let member = admin
            .create_member(CreateMemberRequest {
                member: Some(member_msg(&format!("Member {i}"), kind)),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .member
            .unwrap();
        created.push(member.id);
    }

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = admin
            .list_members(ListMembersRequest {
                page_size: 3,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        assert!(page.members.len() <= 3);
        seen.extend(page.members.into_iter().map(|m| m.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, created, "every member once, oldest first");

    // Filters apply, and a token only continues the query it came from.
    let owners = admin
        .list_members(ListMembersRequest {
            page_size: 2,
            kind: MemberKind::BrandOwner as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(owners.members.len(), 2);
    assert!(
        owners
            .members
            .iter()
            .all(|m| m.kind() == MemberKind::BrandOwner)
    );
    let status = expect_code(
        admin
            .list_members(ListMembersRequest {
                page_size: 2,
                page_token: owners.next_page_token.clone(),
                kind: MemberKind::Agent as i32,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["page_token"]);

    let mut tampered = owners.next_page_token.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let status = expect_code(
        admin
            .list_members(ListMembersRequest {
                page_size: 2,
                page_token: String::from_utf8(tampered).unwrap(),
                kind: MemberKind::BrandOwner as i32,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["page_token"]);

    let status = expect_code(
        admin
            .list_members(ListMembersRequest {
                page_size: -1,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["page_size"]);
    let status = expect_code(
        admin
            .list_members(ListMembersRequest {
                country_code: "ZZ".into(),
                status: 17,
                ..Default::default()
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["status", "country_code"]);

    // A member lists only itself.
    let mut member = registry(&sandbox, &format!("member:{}", created[0])).await;
    let own = member
        .list_members(ListMembersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.members.len(), 1);
    assert_eq!(own.members[0].id, created[0]);
}

async fn idempotent_creates(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let request = CreateMemberRequest {
        member: Some(member_msg("Once Only SA", MemberKind::BrandOwner)),
        request_id: "5b0a6a0e-4b0d-4a4e-9c55-0a6d1f4d2f10".into(),
    };
    let first = admin
        .create_member(request.clone())
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    let second = admin
        .create_member(request.clone())
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(first.id, second.id);
    let all = admin
        .list_members(ListMembersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        all.members.len(),
        1,
        "one record for two identical requests"
    );

    let mut changed = request.clone();
    changed.member.as_mut().unwrap().legal_name = "Twice SA".into();
    let status = expect_code(admin.create_member(changed).await, Code::AlreadyExists);
    assert!(status.message().contains("request_id"), "{status:?}");
    let all = admin
        .list_members(ListMembersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.members.len(), 1);

    // Brands and rights are idempotent the same way.
    admin
        .activate_member(ActivateMemberRequest {
            id: first.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let brand_request = CreateBrandRequest {
        brand: Some(brand_msg(&first.id, "Once")),
        request_id: "brand-once".into(),
    };
    let b1 = admin
        .create_brand(brand_request.clone())
        .await
        .unwrap()
        .into_inner()
        .brand
        .unwrap();
    let b2 = admin
        .create_brand(brand_request)
        .await
        .unwrap()
        .into_inner()
        .brand
        .unwrap();
    assert_eq!(b1.id, b2.id);
    let right_request = CreateIpRightRequest {
        ip_right: Some(trademark_msg(&b1.id, "018000001")),
        request_id: "right-once".into(),
    };
    let r1 = admin
        .create_ip_right(right_request.clone())
        .await
        .unwrap()
        .into_inner()
        .ip_right
        .unwrap();
    let r2 = admin
        .create_ip_right(right_request)
        .await
        .unwrap()
        .into_inner()
        .ip_right
        .unwrap();
    assert_eq!(r1.id, r2.id);
}

async fn stale_etags_are_aborted(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let member = active_member(&mut admin, "Etag SA", MemberKind::BrandOwner).await;
    let brand = create_brand(&mut admin, &member.id, "Etag").await;

    let renamed = admin
        .update_brand(UpdateBrandRequest {
            brand: Some(Brand {
                id: brand.id.clone(),
                name: "Etag Two".into(),
                etag: brand.etag.clone(),
                ..Brand::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["name".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .brand
        .unwrap();
    assert_eq!(renamed.name, "Etag Two");
    assert_eq!(
        renamed.aliases, brand.aliases,
        "fields outside the mask are kept"
    );
    assert_ne!(renamed.etag, brand.etag);

    // A writer holding the old etag loses, and nothing changes.
    let status = expect_code(
        admin
            .update_brand(UpdateBrandRequest {
                brand: Some(Brand {
                    id: brand.id.clone(),
                    name: "Stale".into(),
                    etag: brand.etag.clone(),
                    ..Brand::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["name".into()],
                }),
            })
            .await,
        Code::Aborted,
    );
    assert!(status.message().contains("etag"), "{status:?}");
    let current = admin
        .get_brand(GetBrandRequest {
            id: brand.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .brand
        .unwrap();
    assert_eq!(current.name, "Etag Two");

    expect_code(
        admin
            .suspend_member(SuspendMemberRequest {
                id: member.id.clone(),
                etag: "v1".into(),
                reason: "stale".into(),
            })
            .await,
        Code::Aborted,
    );
    expect_code(
        admin
            .delete_brand(DeleteBrandRequest {
                id: brand.id.clone(),
                etag: brand.etag.clone(),
            })
            .await,
        Code::Aborted,
    );
    let status = expect_code(
        admin
            .update_brand(UpdateBrandRequest {
                brand: Some(Brand {
                    id: brand.id.clone(),
                    ..Brand::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["member_id".into()],
                }),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["update_mask"]);
}

async fn members_update_only_their_own_details(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let member = active_member(&mut admin, "Self Service SA", MemberKind::BrandOwner).await;
    let other = active_member(&mut admin, "Other SA", MemberKind::BrandOwner).await;
    let mut client = registry(&sandbox, &format!("member:{}", member.id)).await;

    let updated = client
        .update_member(UpdateMemberRequest {
            member: Some(Member {
                id: member.id.clone(),
                website: "https://new.brand.example".into(),
                ..Member::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["website".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(updated.website, "https://new.brand.example");
    assert_eq!(updated.legal_name, member.legal_name);

    let status = expect_code(
        client
            .update_member(UpdateMemberRequest {
                member: Some(Member {
                    id: member.id.clone(),
                    legal_name: "Renamed SA".into(),
                    ..Member::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["legal_name".into()],
                }),
            })
            .await,
        Code::PermissionDenied,
    );
    assert!(status.message().contains("legal_name"), "{status:?}");
    let status = expect_code(
        client
            .update_member(UpdateMemberRequest {
                member: Some(Member {
                    id: member.id.clone(),
                    contacts: vec![],
                    ..Member::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["contacts".into()],
                }),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["member.contacts"]);
    let get = |id: &str| GetMemberRequest { id: id.to_owned() };
    answers_like_missing(
        client.get_member(get(&other.id)).await,
        &other.id,
        client
            .get_member(get("mbr_0123456789abcdef0123456789abcdef"))
            .await,
        "mbr_0123456789abcdef0123456789abcdef",
    );
    expect_code(
        client
            .update_member(UpdateMemberRequest {
                member: Some(Member {
                    id: other.id.clone(),
                    website: "https://hijack.example".into(),
                    ..Member::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["website".into()],
                }),
            })
            .await,
        Code::NotFound,
    );
}

async fn brand_fields_are_validated(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let member = active_member(&mut admin, "Validation SA", MemberKind::BrandOwner).await;
    let good = brand_msg(&member.id, "Valid");
    let usd = |units| Money {
        currency_code: "USD".into(),
        units,
        nanos: 0,
    };
    let cases: Vec<(Brand, &str)> = vec![
        (
            Brand {
                name: String::new(),
                ..good.clone()
            },
            "brand.name",
        ),
        (
            Brand {
                member_id: "nobody".into(),
                ..good.clone()
            },
            "brand.member_id",
        ),
        (
            Brand {
                aliases: vec!["".into()],
                ..good.clone()
            },
            "brand.aliases[0]",
        ),
        (
            Brand {
                aliases: vec!["VALID".into()],
                ..good.clone()
            },
            "brand.aliases[0]",
        ),
        (
            Brand {
                categories: vec!["Hand Bags".into()],
                reference_prices: vec![],
                ..good.clone()
            },
            "brand.categories[0]",
        ),
        (
            Brand {
                reference_prices: vec![ReferencePrice {
                    category: "handbags".into(),
                    price: Some(Money {
                        currency_code: "XYZ".into(),
                        units: 10,
                        nanos: 0,
                    }),
                }],
                ..good.clone()
            },
            "brand.reference_prices[0].price",
        ),
        (
            Brand {
                reference_prices: vec![ReferencePrice {
                    category: "handbags".into(),
                    price: Some(usd(-5)),
                }],
                ..good.clone()
            },
            "brand.reference_prices[0].price",
        ),
        (
            Brand {
                reference_prices: vec![ReferencePrice {
                    category: "watches".into(),
                    price: Some(usd(5)),
                }],
                ..good.clone()
            },
            "brand.reference_prices[0].category",
        ),
        (
            Brand {
                reference_prices: vec![ReferencePrice {
                    category: "handbags".into(),
                    price: None,
                }],
                ..good.clone()
            },
            "brand.reference_prices[0].price",
        ),
        (
            Brand {
                authorized_seller_ids: vec!["bad seller".into()],
                ..good.clone()
            },
            "brand.authorized_seller_ids[0]",
        ),
        (
            Brand {
                logo_hashes: vec![0],
                ..good.clone()
            },
            "brand.logo_hashes[0]",
        ),
        (
            Brand {
                aliases: (0..51).map(|i| format!("alias {i}")).collect(),
                ..good.clone()
            },
            "brand.aliases",
        ),
    ];
    for (brand, field) in cases {
        let status = expect_code(
            admin
                .create_brand(CreateBrandRequest {
                    brand: Some(brand),
                    request_id: String::new(),
                })
                .await,
            Code::InvalidArgument,
        );
        assert_eq!(bad_fields(&status), [field], "{status:?}");
    }
    let listed = admin
        .list_brands(ListBrandsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(
        listed.brands.is_empty(),
        "refused brands left nothing behind"
    );

    // A brand of a member that does not exist.
    expect_code(
        admin
            .create_brand(CreateBrandRequest {
                brand: Some(brand_msg("mbr_0193c9a0b1c2d3e4f5a6b7c8d9e0f1a2", "Ghost")),
                request_id: String::new(),
            })
            .await,
        Code::NotFound,
    );
}

async fn members_touch_only_their_own_brands(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let alpha = active_member(&mut admin, "Alpha SA", MemberKind::BrandOwner).await;
    let beta = active_member(&mut admin, "Beta SA", MemberKind::BrandOwner).await;
    let mut alpha_client = registry(&sandbox, &format!("member:{}", alpha.id)).await;
    let mut beta_client = registry(&sandbox, &format!("member:{}", beta.id)).await;
    let alpha_brand = create_brand(&mut alpha_client, &alpha.id, "Alpha").await;
    create_brand(&mut beta_client, &beta.id, "Beta").await;

    // Another member's brand, and that member, read exactly like ones that do not exist.
    const NO_BRAND: &str = "brd_0123456789abcdef0123456789abcdef";
    const NO_MEMBER: &str = "mbr_0123456789abcdef0123456789abcdef";
    let get = |id: &str| GetBrandRequest { id: id.to_owned() };
    answers_like_missing(
        beta_client.get_brand(get(&alpha_brand.id)).await,
        &alpha_brand.id,
        beta_client.get_brand(get(NO_BRAND)).await,
        NO_BRAND,
    );
    let update = |id: &str| UpdateBrandRequest {
        brand: Some(Brand {
            id: id.to_owned(),
            authorized_seller_ids: vec!["beta-friend".into()],
            ..Brand::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["authorized_seller_ids".into()],
        }),
    };
    answers_like_missing(
        beta_client.update_brand(update(&alpha_brand.id)).await,
        &alpha_brand.id,
        beta_client.update_brand(update(NO_BRAND)).await,
        NO_BRAND,
    );
    let delete = |id: &str| DeleteBrandRequest {
        id: id.to_owned(),
        etag: String::new(),
    };
    answers_like_missing(
        beta_client.delete_brand(delete(&alpha_brand.id)).await,
        &alpha_brand.id,
        beta_client.delete_brand(delete(NO_BRAND)).await,
        NO_BRAND,
    );
    let squat = |member_id: &str| CreateBrandRequest {
        brand: Some(brand_msg(member_id, "Squatted")),
        request_id: String::new(),
    };
    answers_like_missing(
        beta_client.create_brand(squat(&alpha.id)).await,
        &alpha.id,
        beta_client.create_brand(squat(NO_MEMBER)).await,
        NO_MEMBER,
    );
    let right = |brand_id: &str| CreateIpRightRequest {
        ip_right: Some(trademark_msg(brand_id, "018999999")),
        request_id: String::new(),
    };
    answers_like_missing(
        beta_client.create_ip_right(right(&alpha_brand.id)).await,
        &alpha_brand.id,
        beta_client.create_ip_right(right(NO_BRAND)).await,
        NO_BRAND,
    );

    let beta_sees = beta_client
        .list_brands(ListBrandsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(beta_sees.brands.len(), 1);
    assert_eq!(beta_sees.brands[0].name, "Beta");
    let all = admin
        .list_brands(ListBrandsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.brands.len(), 2);

    // The owner deletes its brand; it is gone.
    alpha_client
        .delete_brand(DeleteBrandRequest {
            id: alpha_brand.id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    expect_code(
        alpha_client
            .get_brand(GetBrandRequest { id: alpha_brand.id })
            .await,
        Code::NotFound,
    );
}

async fn delegations_let_agents_act_for_principals(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let owner = active_member(&mut admin, "Principal SA", MemberKind::BrandOwner).await;
    let agent = active_member(&mut admin, "Law Firm LLP", MemberKind::Agent).await;
    let not_agent = active_member(&mut admin, "Neighbour SA", MemberKind::BrandOwner).await;
    let mut owner_client = registry(&sandbox, &format!("member:{}", owner.id)).await;
    let mut agent_client = registry(&sandbox, &format!("member:{}", agent.id)).await;
    let delegated = create_brand(&mut owner_client, &owner.id, "Delegated").await;
    let kept = create_brand(&mut owner_client, &owner.id, "Kept").await;

    expect_code(
        agent_client
            .get_brand(GetBrandRequest {
                id: delegated.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    let delegate = |agent_id: &str, brand_ids: Vec<String>| CreateDelegationRequest {
        delegation: Some(Delegation {
            agent_member_id: agent_id.to_owned(),
            brand_ids,
            ..Delegation::default()
        }),
        request_id: String::new(),
    };
    let status = expect_code(
        owner_client
            .create_delegation(delegate(&not_agent.id, vec![delegated.id.clone()]))
            .await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("AGENT"), "{status:?}");
    let status = expect_code(
        owner_client
            .create_delegation(delegate(&agent.id, vec![]))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["delegation.brand_ids"]);
    let foreign = create_brand(&mut admin, &not_agent.id, "Foreign").await;
    let status = expect_code(
        owner_client
            .create_delegation(delegate(
                &agent.id,
                vec![delegated.id.clone(), foreign.id.clone()],
            ))
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["delegation.brand_ids[1]"]);

    let delegation = owner_client
        .create_delegation(delegate(&agent.id, vec![delegated.id.clone()]))
        .await
        .unwrap()
        .into_inner()
        .delegation
        .unwrap();
    assert_eq!(delegation.principal_member_id, owner.id);

    // The agent now acts on the delegated brand, and only on it.
    let seen = agent_client
        .list_brands(ListBrandsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        seen.brands
            .iter()
            .map(|b| b.id.as_str())
            .collect::<Vec<_>>(),
        [delegated.id.as_str()]
    );
    create_right(&mut agent_client, trademark_msg(&delegated.id, "018555555")).await;
    expect_code(
        agent_client
            .get_brand(GetBrandRequest {
                id: kept.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    let listed = agent_client
        .list_delegations(ListDelegationsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.delegations.len(), 1);
    assert_eq!(
        listed.delegations[0].brand_ids,
        std::slice::from_ref(&delegated.id)
    );

    // Ended, it grants nothing.
    owner_client
        .delete_delegation(DeleteDelegationRequest {
            id: delegation.id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    expect_code(
        agent_client
            .get_brand(GetBrandRequest { id: delegated.id })
            .await,
        Code::NotFound,
    );
}

async fn ip_right_fields_are_validated(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let member = active_member(&mut admin, "Rights SA", MemberKind::BrandOwner).await;
    let brand = create_brand(&mut admin, &member.id, "Rights").await;
    let good = trademark_msg(&brand.id, "018123456");
    let cases: Vec<(IpRight, Vec<&str>)> = vec![
        (
            IpRight {
                brand_id: "x".into(),
                ..good.clone()
            },
            vec!["ip_right.brand_id"],
        ),
        (
            IpRight {
                kind: 0,
                ..good.clone()
            },
            vec!["ip_right.kind"],
        ),
        (
            IpRight {
                office: 0,
                ..good.clone()
            },
            vec!["ip_right.office"],
        ),
        (
            IpRight {
                registration_number: "18123456".into(),
                ..good.clone()
            },
            vec!["ip_right.registration_number"],
        ),
        (
            IpRight {
                office: IpOffice::Uspto as i32,
                registration_number: "12".into(),
                ..good.clone()
            },
            vec!["ip_right.registration_number"],
        ),
        (
            IpRight {
                office: IpOffice::Ukipo as i32,
                registration_number: "3123456".into(),
                ..good.clone()
            },
            vec!["ip_right.registration_number"],
        ),
        (
            IpRight {
                nice_classes: vec![],
                ..good.clone()
            },
            vec!["ip_right.nice_classes"],
        ),
        (
            IpRight {
                nice_classes: vec![46],
                ..good.clone()
            },
            vec!["ip_right.nice_classes[0]"],
        ),
        (
            IpRight {
                nice_classes: vec![0, 25],
                ..good.clone()
            },
            vec!["ip_right.nice_classes[0]"],
        ),
        (
            IpRight {
                kind: IpRightKind::DesignPatent as i32,
                registration_number: "008123456-0001".into(),
                ..good.clone()
            },
            vec!["ip_right.nice_classes"],
        ),
        (
            IpRight {
                valid_from: None,
                ..good.clone()
            },
            vec!["ip_right.valid_from"],
        ),
        (
            IpRight {
                valid_until: Some(date(2019, 1, 1)),
                ..good.clone()
            },
            vec!["ip_right.valid_until"],
        ),
        (
            IpRight {
                valid_until: Some(date(2023, 2, 29)),
                ..good.clone()
            },
            vec!["ip_right.valid_until"],
        ),
    ];
    for (right, fields) in cases {
        let status = expect_code(
            admin
                .create_ip_right(CreateIpRightRequest {
                    ip_right: Some(right),
                    request_id: String::new(),
                })
                .await,
            Code::InvalidArgument,
        );
        assert_eq!(bad_fields(&status), fields, "{status:?}");
    }
    let listed = admin
        .list_ip_rights(ListIpRightsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(listed.ip_rights.is_empty());

    // Formats per office: these are accepted.
    for (office, kind, number, classes) in [
        (
            IpOffice::Uspto,
            IpRightKind::Trademark,
            "6,123,456",
            vec![25],
        ),
        (
            IpOffice::Cnipa,
            IpRightKind::Trademark,
            "12345678",
            vec![18],
        ),
        (IpOffice::Wipo, IpRightKind::Trademark, "1234567", vec![14]),
        (
            IpOffice::Usco,
            IpRightKind::Copyright,
            "VA0002345678",
            vec![],
        ),
    ] {
        let right = create_right(
            &mut admin,
            IpRight {
                office: office as i32,
                kind: kind as i32,
                registration_number: number.into(),
                nice_classes: classes,
                ..good.clone()
            },
        )
        .await;
        assert_eq!(right.verification_status(), VerificationStatus::Pending);
    }
    // The same registration cannot be claimed twice.
    create_right(&mut admin, good.clone()).await;
    expect_code(
        admin
            .create_ip_right(CreateIpRightRequest {
                ip_right: Some(good),
                request_id: String::new(),
            })
            .await,
        Code::AlreadyExists,
    );
}

async fn ip_right_verification_transitions(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let mut legal = registry(&sandbox, LEGAL).await;
    let member = active_member(&mut admin, "Verify SA", MemberKind::BrandOwner).await;
    let brand = create_brand(&mut admin, &member.id, "Verify").await;
    let right = create_right(&mut admin, trademark_msg(&brand.id, "018100001")).await;
    let reject = |id: &str, reason: &str| RejectIpRightRequest {
        id: id.to_owned(),
        etag: String::new(),
        reason: reason.to_owned(),
    };
    let verify_req = |id: &str| VerifyIpRightRequest {
        id: id.to_owned(),
        etag: String::new(),
        note: String::new(),
    };

    // PENDING -> VERIFIED; verifying again is illegal.
    verify(&mut legal, &right.id).await;
    expect_code(
        legal.verify_ip_right(verify_req(&right.id)).await,
        Code::FailedPrecondition,
    );
    // VERIFIED -> REJECTED (revoked); REJECTED cannot be verified or rejected again.
    let status = expect_code(
        legal.reject_ip_right(reject(&right.id, "")).await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["reason"]);
    let rejected = legal
        .reject_ip_right(reject(&right.id, "register shows another owner"))
        .await
        .unwrap()
        .into_inner()
        .ip_right
        .unwrap();
    assert_eq!(rejected.verification_status(), VerificationStatus::Rejected);
    assert_eq!(rejected.verification_note, "register shows another owner");
    expect_code(
        legal.verify_ip_right(verify_req(&right.id)).await,
        Code::FailedPrecondition,
    );
    expect_code(
        legal.reject_ip_right(reject(&right.id, "again")).await,
        Code::FailedPrecondition,
    );

    // Correcting a rejected right resubmits it: PENDING again, and verifiable.
    let corrected = admin
        .update_ip_right(UpdateIpRightRequest {
            ip_right: Some(IpRight {
                id: right.id.clone(),
                registration_number: "018100002".into(),
                ..IpRight::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["registration_number".into()],
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .ip_right
        .unwrap();
    assert_eq!(corrected.verification_status(), VerificationStatus::Pending);
    assert_eq!(corrected.registration_number, "018100002");
    verify(&mut legal, &right.id).await;

    // A right whose validity has ended cannot be verified, and reads as EXPIRED once verified.
    let old = create_right(
        &mut admin,
        IpRight {
            valid_from: Some(date(2001, 1, 1)),
            valid_until: Some(date(2011, 1, 1)),
            ..trademark_msg(&brand.id, "018100003")
        },
    )
    .await;
    let status = expect_code(
        legal.verify_ip_right(verify_req(&old.id)).await,
        Code::FailedPrecondition,
    );
    assert!(status.message().contains("validity"), "{status:?}");
    let expired_filter = admin
        .list_ip_rights(ListIpRightsRequest {
            verification_status: VerificationStatus::Pending as i32,
            brand_id: brand.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(expired_filter.ip_rights.len(), 1);
}

async fn only_legal_staff_verify_rights(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let member = active_member(&mut admin, "Self Verify SA", MemberKind::BrandOwner).await;
    let brand = create_brand(&mut admin, &member.id, "Self").await;
    let right = create_right(&mut admin, trademark_msg(&brand.id, "018200001")).await;
    for principal in [
        ANALYST.to_owned(),
        format!("member:{}", member.id),
        "service:screening".to_owned(),
    ] {
        let mut client = registry(&sandbox, &principal).await;
        expect_code(
            client
                .verify_ip_right(VerifyIpRightRequest {
                    id: right.id.clone(),
                    etag: String::new(),
                    note: String::new(),
                })
                .await,
            Code::PermissionDenied,
        );
    }
    let still = admin
        .get_ip_right(GetIpRightRequest { id: right.id })
        .await
        .unwrap()
        .into_inner()
        .ip_right
        .unwrap();
    assert_eq!(still.verification_status(), VerificationStatus::Pending);
}

async fn catalogue_follows_protection(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let (member, brand) = protected_brand(&sandbox, "Followed", "018300001").await;
    let names =
        |c: &GetCatalogueResponse| c.brands.iter().map(|b| b.name.clone()).collect::<Vec<_>>();

    let before = admin
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&before), ["Followed"]);

    // A change to a protected brand bumps the revision. (A new alias would need a new
    // verification; its authorised sellers do not.)
    admin
        .update_brand(UpdateBrandRequest {
            brand: Some(Brand {
                id: brand.id.clone(),
                authorized_seller_ids: vec!["flw-store".into()],
                ..Brand::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["authorized_seller_ids".into()],
            }),
        })
        .await
        .unwrap();
    let after = admin
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(after.revision > before.revision);
    assert_eq!(after.brands[0].authorized_seller_ids, ["flw-store"]);

    // Suspension takes the member's brands out; reactivation brings them back.
    admin
        .suspend_member(SuspendMemberRequest {
            id: member.id.clone(),
            etag: String::new(),
            reason: "audit".into(),
        })
        .await
        .unwrap();
    let suspended = admin
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(suspended.brands.is_empty());
    assert!(suspended.revision > after.revision);
    admin
        .activate_member(ActivateMemberRequest {
            id: member.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    let back = admin
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&back), ["Followed"]);

    // A change that does not alter the catalogue does not bump it.
    let unprotected_member =
        active_member(&mut admin, "Unrelated SA", MemberKind::BrandOwner).await;
    create_brand(&mut admin, &unprotected_member.id, "Unrelated").await;
    let same = admin
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(same.revision, back.revision);

    // Deleting the brand removes it.
    admin
        .delete_brand(DeleteBrandRequest {
            id: brand.id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();
    let gone = admin
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(gone.brands.is_empty());
}

async fn next_batch(
    stream: &mut tonic::Streaming<WatchCatalogueResponse>,
    within: Duration,
) -> WatchCatalogueResponse {
    tokio::time::timeout(within, stream.message())
        .await
        .expect("a catalogue change arrives in time")
        .expect("stream healthy")
        .expect("stream open")
}

async fn catalogue_watch_sees_a_verification_within_a_second(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let mut legal = registry(&sandbox, LEGAL).await;
    let mut watcher = registry(&sandbox, "service:screening").await;
    protected_brand(&sandbox, "Early", "018400001").await;

    let mut stream = watcher
        .watch_catalogue(WatchCatalogueRequest { since_revision: 0 })
        .await
        .unwrap()
        .into_inner();
    let snapshot = next_batch(&mut stream, Duration::from_secs(5)).await;
    assert!(snapshot.reset && snapshot.complete);
    assert_eq!(snapshot.upserts.len(), 1);
    assert_eq!(snapshot.upserts[0].name, "Early");

    let member = active_member(&mut admin, "Late SA", MemberKind::BrandOwner).await;
    let brand = create_brand(&mut admin, &member.id, "Late").await;
    let right = create_right(&mut admin, trademark_msg(&brand.id, "018400002")).await;
    verify(&mut legal, &right.id).await;
    let change = next_batch(&mut stream, Duration::from_secs(1)).await;
    assert!(!change.reset && change.complete);
    assert!(change.revision > snapshot.revision);
    assert_eq!(change.upserts.len(), 1);
    assert_eq!(change.upserts[0].brand_id, brand.id);

    admin
        .suspend_member(SuspendMemberRequest {
            id: member.id,
            etag: String::new(),
            reason: "suspended".into(),
        })
        .await
        .unwrap();
    let removal = next_batch(&mut stream, Duration::from_secs(1)).await;
    assert_eq!(removal.removed_brand_ids, [brand.id]);
    assert!(removal.upserts.is_empty());
}

async fn catalogue_watch_resumes_from_a_revision(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut watcher = registry(&sandbox, "service:screening").await;
    let (_, first) = protected_brand(&sandbox, "First", "018500001").await;
    let held = watcher
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner()
        .revision;
    let (_, second) = protected_brand(&sandbox, "Second", "018500002").await;

    let mut stream = watcher
        .watch_catalogue(WatchCatalogueRequest {
            since_revision: held,
        })
        .await
        .unwrap()
        .into_inner();
    let catch_up = next_batch(&mut stream, Duration::from_secs(5)).await;
    assert!(!catch_up.reset, "a known revision is continued, not reset");
    let ids: Vec<_> = catch_up
        .upserts
        .iter()
        .map(|b| b.brand_id.clone())
        .collect();
    assert_eq!(ids, std::slice::from_ref(&second.id));
    assert_ne!(ids[0], first.id);

    // A revision from the future (another database) starts over.
    let mut fresh = watcher
        .watch_catalogue(WatchCatalogueRequest {
            since_revision: 1_000_000,
        })
        .await
        .unwrap()
        .into_inner();
    let reset = next_batch(&mut fresh, Duration::from_secs(5)).await;
    assert!(reset.reset);
    assert_eq!(reset.upserts.len(), 2);

    let status = expect_code(
        watcher
            .watch_catalogue(WatchCatalogueRequest { since_revision: -1 })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["since_revision"]);
}

async fn alliance_figures_count_the_alliance(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    protected_brand(&sandbox, "Counted One", "018600001").await;
    let (two, _) = protected_brand(&sandbox, "Counted Two", "018600002").await;
    let applicant = admin
        .create_member(CreateMemberRequest {
            member: Some(member_msg("Applicant SA", MemberKind::Licensee)),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    let pending_brand = create_brand(&mut admin, &two.id, "Pending Brand").await;
    create_right(&mut admin, trademark_msg(&pending_brand.id, "018600003")).await;
    admin
        .update_member(UpdateMemberRequest {
            member: Some(Member {
                id: applicant.id.clone(),
                country_code: "JP".into(),
                ..Member::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["country_code".into()],
            }),
        })
        .await
        .unwrap();

    let figures = admin
        .get_alliance_figures(GetAllianceFiguresRequest { as_of: None })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(figures.active_members, 2);
    assert_eq!(figures.applied_members, 1);
    assert_eq!(figures.brands_represented, 3);
    assert_eq!(figures.protected_brands, 2);
    assert_eq!(figures.verified_rights, 2);
    assert_eq!(figures.pending_rights, 1);
    assert_eq!(figures.member_countries, 1);

    // The day before anything was created, there was nothing.
    let today = figures.as_of.unwrap();
    let yesterday = chrono_yesterday(&today);
    let past = admin
        .get_alliance_figures(GetAllianceFiguresRequest {
            as_of: Some(yesterday),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(past.active_members + past.applied_members, 0);
    assert_eq!(past.brands_represented, 0);

    let status = expect_code(
        admin
            .get_alliance_figures(GetAllianceFiguresRequest {
                as_of: Some(date(2026, 2, 30)),
            })
            .await,
        Code::InvalidArgument,
    );
    assert_eq!(bad_fields(&status), ["as_of"]);
}

fn chrono_yesterday(
    today: &assay_tests::proto::common::v1::Date,
) -> assay_tests::proto::common::v1::Date {
    let day = assay_common::time::from_date(today).unwrap();
    assay_common::time::to_date(day.pred_opt().unwrap())
}
