//! The alliance figures of a day, from the history of statuses.

use std::collections::{HashMap, HashSet};

use assay_proto::registry::v1::{MemberStatus, VerificationStatus};
use chrono::NaiveDate;

/// A member as it stood that day.
pub struct MemberAt<'a> {
    pub id: &'a str,
    pub country_code: &'a str,
    pub status: MemberStatus,
}

/// A right as it stood that day.
pub struct RightAt<'a> {
    pub brand_id: &'a str,
    pub status: VerificationStatus,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub applied_members: i64,
    pub active_members: i64,
    pub suspended_members: i64,
    pub exited_members: i64,
    pub member_countries: i64,
    pub brands_represented: i64,
    pub protected_brands: i64,
    pub pending_rights: i64,
    pub verified_rights: i64,
    pub rejected_rights: i64,
    pub expired_rights: i64,
}

/// Counts for `day` from the members, the brands (id and owner) that existed, and the rights.
pub fn figures(
    day: NaiveDate,
    members: &[MemberAt<'_>],
    brands: &[(&str, &str)],
    rights: &[RightAt<'_>],
) -> Figures {
    let mut figures = Figures::default();
    let mut active: HashSet<&str> = HashSet::new();
    let mut countries: HashSet<&str> = HashSet::new();
    for member in members {
        match member.status {
            MemberStatus::Applied => figures.applied_members += 1,
            MemberStatus::Active => {
                figures.active_members += 1;
                active.insert(member.id);
                countries.insert(member.country_code);
            }
            MemberStatus::Suspended => figures.suspended_members += 1,
            MemberStatus::Exited => figures.exited_members += 1,
            MemberStatus::Unspecified => {}
        }
    }
    figures.member_countries = countries.len() as i64;

    let represented: HashMap<&str, &str> = brands
        .iter()
        .filter(|(_, owner)| active.contains(owner))
        .map(|(id, owner)| (*id, *owner))
        .collect();
    figures.brands_represented = represented.len() as i64;

    let mut protected: HashSet<&str> = HashSet::new();
    for right in rights {
        match super::right::effective_status(right.status, right.valid_until, day) {
            VerificationStatus::Pending => figures.pending_rights += 1,
            VerificationStatus::Verified => figures.verified_rights += 1,
            VerificationStatus::Rejected => figures.rejected_rights += 1,
            VerificationStatus::Expired => figures.expired_rights += 1,
            VerificationStatus::Unspecified => {}
        }
        if represented.contains_key(right.brand_id)
            && super::right::protects(right.status, right.valid_from, right.valid_until, day)
        {
            protected.insert(right.brand_id);
        }
    }
    figures.protected_brands = protected.len() as i64;
    figures
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn counts_what_stood_that_day() {
        let members = [
            MemberAt {
                id: "m1",
                country_code: "US",
                status: MemberStatus::Active,
            },
            MemberAt {
                id: "m2",
                country_code: "US",
                status: MemberStatus::Active,
            },
            MemberAt {
                id: "m3",
                country_code: "CN",
                status: MemberStatus::Suspended,
            },
            MemberAt {
                id: "m4",
                country_code: "DE",
                status: MemberStatus::Applied,
            },
        ];
        let brands = [("b1", "m1"), ("b2", "m1"), ("b3", "m2"), ("b4", "m3")];
        let verified = |brand_id, until| RightAt {
            brand_id,
            status: VerificationStatus::Verified,
            valid_from: day(2020, 1, 1),
            valid_until: until,
        };
        let rights = [
            verified("b1", day(2030, 1, 1)),
            verified("b1", day(2031, 1, 1)),
            verified("b2", day(2025, 1, 1)),
            verified("b4", day(2030, 1, 1)),
            RightAt {
                status: VerificationStatus::Pending,
                ..verified("b3", day(2030, 1, 1))
            },
            RightAt {
                status: VerificationStatus::Rejected,
                ..verified("b3", day(2030, 1, 1))
            },
        ];
        let f = figures(day(2026, 11, 28), &members, &brands, &rights);
        assert_eq!(
            f,
            Figures {
                applied_members: 1,
                active_members: 2,
                suspended_members: 1,
                exited_members: 0,
                member_countries: 1,
                brands_represented: 3,
                protected_brands: 1,
                pending_rights: 1,
                verified_rights: 3,
                rejected_rights: 1,
                expired_rights: 1,
            }
        );
    }
}
