//! When a record ends, for the retention of its documents: a certificate or a letter of
//! authorisation is kept while its record lives and for `[documents] retention` after.

use assay_common::time::end_of_day;
use assay_proto::registry::v1::VerificationStatus;
use chrono::{DateTime, NaiveDate, Utc};

/// When an IP right ends or ended: when it was rejected, or at the end of its last valid
/// day (UTC), whichever comes first. A right still pending or verified ends with its
/// validity; one rejected and then corrected is pending again, and has not ended.
pub fn right_ends(
    stored: VerificationStatus,
    valid_until: NaiveDate,
    reviewed: Option<DateTime<Utc>>,
    changed: DateTime<Utc>,
) -> DateTime<Utc> {
    let validity = end_of_day(valid_until);
    if stored == VerificationStatus::Rejected {
        validity.min(reviewed.unwrap_or(changed))
    } else {
        validity
    }
}

/// When a delegation ends or ended: when it was deleted, or when it expires, whichever
/// comes first; `None` while it has neither.
pub fn delegation_ends(
    deleted: Option<DateTime<Utc>>,
    expires: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    match (deleted, expires) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VerificationStatus::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_right_ends_with_its_validity_or_its_rejection() {
        let changed = at("2026-03-01T10:00:00Z");
        // Verified or pending: the day after its last valid day begins.
        for status in [Verified, Pending] {
            assert_eq!(
                right_ends(status, day("2030-06-30"), None, changed),
                at("2030-07-01T00:00:00Z")
            );
        }
        // Rejected: when it was reviewed, or last changed if no review is on record.
        let reviewed = at("2026-04-02T09:30:00Z");
        assert_eq!(
            right_ends(Rejected, day("2030-06-30"), Some(reviewed), changed),
            reviewed
        );
        assert_eq!(
            right_ends(Rejected, day("2030-06-30"), None, changed),
            changed
        );
        // Whichever is first.
        assert_eq!(
            right_ends(Rejected, day("2025-12-31"), Some(reviewed), changed),
            at("2026-01-01T00:00:00Z")
        );
        // The last day there is.
        assert!(right_ends(Verified, NaiveDate::MAX, None, changed) > changed);
    }

    #[test]
    fn a_delegation_ends_when_deleted_or_expired() {
        let (early, late) = (at("2026-01-01T00:00:00Z"), at("2027-01-01T00:00:00Z"));
        assert_eq!(delegation_ends(None, None), None);
        assert_eq!(delegation_ends(Some(late), None), Some(late));
        assert_eq!(delegation_ends(None, Some(early)), Some(early));
        assert_eq!(delegation_ends(Some(late), Some(early)), Some(early));
        assert_eq!(delegation_ends(Some(early), Some(late)), Some(early));
    }
}
