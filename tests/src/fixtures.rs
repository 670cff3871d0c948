//! Building blocks shared by the service tests and the fuzz targets: principals, and members,
//! brands, rights and agencies made through the public API.

use std::time::{Duration, Instant};

use crate::proto::common::v1::{Contact, Date, Money};
use crate::proto::lawenforcement::v1 as le;
use crate::proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use crate::proto::registry::v1::registry_service_client::RegistryServiceClient;
use crate::proto::registry::v1::*;
use crate::proto::screening::v1::screening_service_client::ScreeningServiceClient;
use crate::proto::screening::v1::{
    BrandConcern, GetEngineStatusRequest, GetEngineStatusResponse, Hit, HitAlert, Listing, Verdict,
};
use crate::{Authed, Sandbox};

pub type Registry = RegistryServiceClient<Authed>;

pub const ADMIN: &str = "staff:root:admin";
pub const LEGAL: &str = "staff:lena:legal";
pub const ANALYST: &str = "staff:ann:analyst";
/// The marketplace's listing pipeline, which sends listings to screening.
pub const MARKETPLACE: &str = "service:listing-pipeline";

pub async fn registry(sandbox: &Sandbox, principal: &str) -> Registry {
    RegistryServiceClient::new(sandbox.as_principal(Some(principal)).await)
}

pub fn member_msg(legal_name: &str, kind: MemberKind) -> Member {
    Member {
        legal_name: legal_name.to_owned(),
        kind: kind as i32,
        country_code: "FR".to_owned(),
        contacts: vec![Contact {
            name: "Brand Protection Desk".to_owned(),
            email: "ip@brand.example".to_owned(),
            phone: "+33123456789".to_owned(),
            role: "brand protection".to_owned(),
        }],
        website: "https://brand.example".to_owned(),
        ..Member::default()
    }
}

/// Creates a member and activates it.
pub async fn active_member(admin: &mut Registry, legal_name: &str, kind: MemberKind) -> Member {
    let member = admin
        .create_member(CreateMemberRequest {
            member: Some(member_msg(legal_name, kind)),
            request_id: String::new(),
        })
        .await
        .expect("create member")
        .into_inner()
        .member
        .expect("member");
    admin
        .activate_member(ActivateMemberRequest {
            id: member.id,
            etag: String::new(),
            reason: "admitted".to_owned(),
        })
        .await
        .expect("activate member")
        .into_inner()
        .member
        .expect("member")
}

pub fn eur(units: i64) -> Money {
    Money {
        currency_code: "EUR".to_owned(),
        units,
        nanos: 0,
    }
}

pub fn brand_msg(member_id: &str, name: &str) -> Brand {
    Brand {
        member_id: member_id.to_owned(),
        name: name.to_owned(),
        aliases: vec![format!("{name} Paris")],
        categories: vec!["handbags".to_owned(), "wallets".to_owned()],
        reference_prices: vec![ReferencePrice {
            category: "handbags".to_owned(),
            price: Some(eur(1500)),
        }],
        authorized_seller_ids: vec!["official-store".to_owned()],
        logo_hashes: vec![0x8f3c_1e0f_0f1e_3c8f],
        ..Brand::default()
    }
}

pub async fn create_brand(client: &mut Registry, member_id: &str, name: &str) -> Brand {
    client
        .create_brand(CreateBrandRequest {
            brand: Some(brand_msg(member_id, name)),
            request_id: String::new(),
        })
        .await
        .expect("create brand")
        .into_inner()
        .brand
        .expect("brand")
}

pub fn date(year: i32, month: i32, day: i32) -> Date {
    Date { year, month, day }
}

/// An EUIPO trade mark valid from 2020 to 2035.
pub fn trademark_msg(brand_id: &str, number: &str) -> IpRight {
    IpRight {
        brand_id: brand_id.to_owned(),
        kind: IpRightKind::Trademark as i32,
        office: IpOffice::Euipo as i32,
        registration_number: number.to_owned(),
        nice_classes: vec![18, 25],
        valid_from: Some(date(2020, 1, 15)),
        valid_until: Some(date(2035, 1, 15)),
        ..IpRight::default()
    }
}

pub async fn create_right(client: &mut Registry, right: IpRight) -> IpRight {
    client
        .create_ip_right(CreateIpRightRequest {
            ip_right: Some(right),
            request_id: String::new(),
        })
        .await
        .expect("create right")
        .into_inner()
        .ip_right
        .expect("right")
}

pub async fn verify(legal: &mut Registry, right_id: &str) -> IpRight {
    legal
        .verify_ip_right(VerifyIpRightRequest {
            id: right_id.to_owned(),
            etag: String::new(),
            note: "checked against the register".to_owned(),
        })
        .await
        .expect("verify right")
        .into_inner()
        .ip_right
        .expect("right")
}

/// A protected brand: an active brand owner, its brand, and a verified trade mark.
pub async fn protected_brand(sandbox: &Sandbox, name: &str, number: &str) -> (Member, Brand) {
    let (member, brand, _) = protected_right(sandbox, name, number).await;
    (member, brand)
}

/// Like [`protected_brand`], with the verified right.
pub async fn protected_right(
    sandbox: &Sandbox,
    name: &str,
    number: &str,
) -> (Member, Brand, IpRight) {
    let mut admin = registry(sandbox, ADMIN).await;
    let mut legal = registry(sandbox, LEGAL).await;
    let member = active_member(&mut admin, &format!("{name} SA"), MemberKind::BrandOwner).await;
    let brand = create_brand(&mut admin, &member.id, name).await;
    let right = create_right(&mut admin, trademark_msg(&brand.id, number)).await;
    let right = verify(&mut legal, &right.id).await;
    (member, brand, right)
}

/// Like [`protected_brand`], once screening's engine knows the brand: a listing screened
/// after this is judged against it.
pub async fn screened_brand(sandbox: &Sandbox, name: &str, number: &str) -> (Member, Brand) {
    let made = protected_brand(sandbox, name, number).await;
    let revision = catalogue_revision(sandbox).await;
    let mut screening = ScreeningServiceClient::new(sandbox.as_principal(Some(MARKETPLACE)).await);
    engine_at(&mut screening, revision).await;
    made
}

/// A listing that screening flags as a counterfeit of "Velmora" (see [`screened_brand`]):
/// the name, "replica", "1:1 mirror quality" and a price far below the brand's.
pub fn velmora_replica(listing_id: &str, seller_id: &str) -> Listing {
    Listing {
        listing_id: listing_id.to_owned(),
        seller_id: seller_id.to_owned(),
        title: "Velmora replica handbag 1:1 mirror quality".to_owned(),
        category: "handbags".to_owned(),
        price: Some(eur(40)),
        ..Default::default()
    }
}

/// The registry's current catalogue revision.
pub async fn catalogue_revision(sandbox: &Sandbox) -> i64 {
    registry(sandbox, ADMIN)
        .await
        .get_catalogue(GetCatalogueRequest {})
        .await
        .unwrap()
        .into_inner()
        .revision
}

/// Waits until screening's engine was built from at least `revision` of the catalogue.
pub async fn engine_at(
    client: &mut ScreeningServiceClient<Authed>,
    revision: i64,
) -> GetEngineStatusResponse {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = client
            .get_engine_status(GetEngineStatusRequest {})
            .await
            .unwrap()
            .into_inner();
        if status.loaded && status.catalogue_revision >= revision {
            return status;
        }
        assert!(Instant::now() < deadline, "engine stuck at {status:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An active agency with one verified domain.
pub async fn agency(
    legal: &mut LawEnforcementServiceClient<Authed>,
    name: &str,
    country: &str,
    domain: &str,
) -> le::Agency {
    let agency = legal
        .create_agency(le::CreateAgencyRequest {
            agency: Some(le::Agency {
                name: name.to_owned(),
                country_code: country.to_owned(),
                level: le::AgencyLevel::Federal as i32,
                verified_email_domains: vec![domain.to_owned()],
                contacts: vec![Contact {
                    name: "Duty officer".to_owned(),
                    email: format!("duty@{domain}"),
                    ..Contact::default()
                }],
                ..le::Agency::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create agency")
        .into_inner()
        .agency
        .unwrap();
    legal
        .activate_agency(le::ActivateAgencyRequest {
            id: agency.id.clone(),
            etag: String::new(),
        })
        .await
        .expect("activate agency")
        .into_inner()
        .agency
        .unwrap()
}

/// An alert of the hit `hit_id` about `listing_id`, as screening's relay sends it.
pub fn hit_alert(hit_id: &str, listing_id: &str, brand_id: &str) -> HitAlert {
    HitAlert {
        hit: Some(Hit {
            id: hit_id.to_owned(),
            listing: Some(Listing {
                listing_id: listing_id.to_owned(),
                seller_id: "seller-9".to_owned(),
                title: format!("Velmora replica {listing_id}"),
                ..Default::default()
            }),
            verdict: Some(Verdict {
                risk_score: 0.9,
                brands: vec![BrandConcern {
                    brand_id: brand_id.to_owned(),
                    brand_name: "Velmora".to_owned(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }),
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        translations: Vec::new(),
    }
}
