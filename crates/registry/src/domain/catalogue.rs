//! What makes a brand protected, and what the catalogue says about it.

use assay_proto::registry::v1::{CatalogueBrand, IpRightKind, MemberStatus, VerificationStatus};
use chrono::NaiveDate;
use prost::Message;
use sha2::{Digest, Sha256};

use super::brand::BrandSpec;

/// A right as far as protection is concerned.
#[derive(Debug, Clone)]
pub struct RightFacts {
    pub kind: IpRightKind,
    pub status: VerificationStatus,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

/// Everything that decides a brand's catalogue entry.
#[derive(Debug, Clone)]
pub struct BrandFacts<'a> {
    pub brand_id: &'a str,
    pub member_id: &'a str,
    pub owner_status: MemberStatus,
    pub deleted: bool,
    pub spec: &'a BrandSpec,
    pub rights: &'a [RightFacts],
    /// Agents with a delegation covering the brand that has not expired.
    pub agent_member_ids: Vec<String>,
}

/// The brand's catalogue entry on `day`, or `None` if it is not protected: it must exist,
/// belong to an active member, and have a verified right valid that day.
pub fn entry(facts: &BrandFacts<'_>, day: NaiveDate) -> Option<CatalogueBrand> {
    if facts.deleted || facts.owner_status != MemberStatus::Active {
        return None;
    }
    let mut right_kinds: Vec<IpRightKind> = facts
        .rights
        .iter()
        .filter(|r| super::right::protects(r.status, r.valid_from, r.valid_until, day))
        .map(|r| r.kind)
        .collect();
    if right_kinds.is_empty() {
        return None;
    }
    right_kinds.sort_unstable();
    right_kinds.dedup();
    let mut agents = facts.agent_member_ids.clone();
    agents.sort_unstable();
    agents.dedup();
    let spec = facts.spec;
    Some(CatalogueBrand {
        brand_id: facts.brand_id.to_owned(),
        member_id: facts.member_id.to_owned(),
        name: spec.name.clone(),
        aliases: spec.aliases.clone(),
        categories: spec.categories.clone(),
        reference_prices: spec
            .reference_prices
            .iter()
            .map(|r| assay_proto::registry::v1::ReferencePrice {
                category: r.category.clone(),
                price: Some(r.price.to_proto()),
            })
            .collect(),
        authorized_seller_ids: spec.authorized_seller_ids.clone(),
        logo_hashes: spec.logo_hashes.clone(),
        agent_member_ids: agents,
        right_kinds: right_kinds.into_iter().map(|k| k as i32).collect(),
        revision: 0,
    })
}

/// The encoded entry and its content hash.
pub fn encode(entry: &CatalogueBrand) -> (Vec<u8>, String) {
    let body = entry.encode_to_vec();
    let hash = hex::encode(Sha256::digest(&body));
    (body, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn verified(until: NaiveDate) -> RightFacts {
        RightFacts {
            kind: IpRightKind::Trademark,
            status: VerificationStatus::Verified,
            valid_from: day(2020, 1, 1),
            valid_until: until,
        }
    }

    #[test]
    fn protection_needs_an_active_owner_and_a_valid_verified_right() {
        let spec = BrandSpec {
            name: "Acme".into(),
            ..BrandSpec::default()
        };
        let rights = [verified(day(2030, 1, 1))];
        let facts = BrandFacts {
            brand_id: "brd_1",
            member_id: "mbr_1",
            owner_status: MemberStatus::Active,
            deleted: false,
            spec: &spec,
            rights: &rights,
            agent_member_ids: vec!["mbr_b".into(), "mbr_a".into()],
        };
        let today = day(2026, 11, 28);
        let entry = entry(&facts, today).expect("protected");
        assert_eq!(entry.agent_member_ids, ["mbr_a", "mbr_b"]);
        assert_eq!(entry.right_kinds, [IpRightKind::Trademark as i32]);

        let suspended = BrandFacts {
            owner_status: MemberStatus::Suspended,
            ..facts.clone()
        };
        assert!(super::entry(&suspended, today).is_none());
        let deleted = BrandFacts {
            deleted: true,
            ..facts.clone()
        };
        assert!(super::entry(&deleted, today).is_none());
        let expired_rights = [verified(day(2026, 11, 27))];
        let expired = BrandFacts {
            rights: &expired_rights,
            ..facts.clone()
        };
        assert!(super::entry(&expired, today).is_none());
        let pending_rights = [RightFacts {
            status: VerificationStatus::Pending,
            ..verified(day(2030, 1, 1))
        }];
        let pending = BrandFacts {
            rights: &pending_rights,
            ..facts
        };
        assert!(super::entry(&pending, today).is_none());
    }
}
