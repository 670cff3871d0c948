//! The rules of legal process, without I/O: the request status machine and the legal
//! clocks (response deadlines, preservation periods, non-disclosure), and the urgency of a
//! deadline.
//!
//! ```text
//! RECEIVED --verify--> VERIFYING --verified--> LEGAL_REVIEW --approve--> APPROVED --+
//!    |                     |                        |--narrow---> NARROWED ---------+--gather--> GATHERING --disclose--> DISCLOSED --close--> CLOSED
//!    +---------------------+-----------reject-------+--> REJECTED --close--> CLOSED
//! ```
//!
//! Preservation requests disclose nothing: once approved (the hold placed) they close.

pub mod check;
pub mod notify;
pub mod package;

use std::time::Duration;

use assay_proto::lawenforcement::v1::{LegalProcess, RequestStatus, Urgency};
use chrono::{DateTime, Utc};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// Something done to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    StartVerification,
    CompleteVerification,
    Approve,
    Narrow,
    Reject,
    Gather,
    Disclose,
    Close,
}

impl Action {
    const ALL: [Action; 8] = [
        Action::StartVerification,
        Action::CompleteVerification,
        Action::Approve,
        Action::Narrow,
        Action::Reject,
        Action::Gather,
        Action::Disclose,
        Action::Close,
    ];

    pub fn verb(self) -> &'static str {
        match self {
            Action::StartVerification => "start verifying",
            Action::CompleteVerification => "complete the verification of",
            Action::Approve => "approve",
            Action::Narrow => "narrow",
            Action::Reject => "reject",
            Action::Gather => "gather data for",
            Action::Disclose => "disclose",
            Action::Close => "close",
        }
    }
}

/// Whether `process` only preserves (discloses nothing).
pub fn is_preservation(process: LegalProcess) -> bool {
    matches!(
        process,
        LegalProcess::Preservation | LegalProcess::EuPreservationOrder
    )
}

fn next(from: RequestStatus, action: Action, process: LegalProcess) -> Option<RequestStatus> {
    use RequestStatus::*;
    let preserving = is_preservation(process);
    Some(match (from, action) {
        (Received, Action::StartVerification) => Verifying,
        (Verifying, Action::CompleteVerification) => LegalReview,
        (LegalReview, Action::Approve) => Approved,
        (LegalReview, Action::Narrow) => Narrowed,
        (Received | Verifying | LegalReview, Action::Reject) => Rejected,
        (Approved | Narrowed, Action::Gather) if !preserving => Gathering,
        (Gathering, Action::Disclose) => Disclosed,
        (Disclosed | Rejected, Action::Close) => Closed,
        (Approved | Narrowed, Action::Close) if preserving => Closed,
        _ => return None,
    })
}

/// The status after `action`, or why it is not allowed (naming what is).
pub fn transition(
    from: RequestStatus,
    action: Action,
    process: LegalProcess,
) -> Result<RequestStatus, String> {
    next(from, action, process).ok_or_else(|| {
        let word = status_word(from);
        let allowed: Vec<&str> = Action::ALL
            .iter()
            .filter(|a| next(from, **a, process).is_some())
            .map(|a| a.verb())
            .collect();
        if allowed.is_empty() {
            format!(
                "cannot {} a request that is {word}: it is final",
                action.verb()
            )
        } else {
            format!(
                "cannot {} a request that is {word}; from {word} you can: {}",
                action.verb(),
                allowed.join(", ")
            )
        }
    })
}

pub fn status_word(status: RequestStatus) -> &'static str {
    status
        .as_str_name()
        .strip_prefix("REQUEST_STATUS_")
        .unwrap_or("UNSPECIFIED")
}

/// Whether the marketplace still owes the agency an answer in `status`.
pub fn is_owed(status: RequestStatus, process: LegalProcess) -> bool {
    use RequestStatus::*;
    match status {
        Received | Verifying | LegalReview | Gathering => true,
        Approved | Narrowed => !is_preservation(process),
        _ => false,
    }
}

/// How long the marketplace has to answer under `process`.
pub fn response_window(process: LegalProcess, emergency: bool) -> chrono::Duration {
    let seconds = match process {
        // Regulation (EU) 2023/1543, art. 10: 10 days, 8 hours in an emergency.
        LegalProcess::EuProductionOrder if emergency => 8 * HOUR,
        LegalProcess::EuProductionOrder => 10 * DAY,
        _ if emergency => 8 * HOUR,
        LegalProcess::EmergencyDisclosure => 8 * HOUR,
        // Preservation is put in place at once: within a day.
        LegalProcess::Preservation | LegalProcess::EuPreservationOrder => DAY,
        LegalProcess::SearchWarrant => 10 * DAY,
        LegalProcess::Subpoena | LegalProcess::CourtOrder => 14 * DAY,
        LegalProcess::Mlat | LegalProcess::InformalInquiry => 30 * DAY,
        LegalProcess::Unspecified => 30 * DAY,
    };
    chrono::Duration::seconds(seconds)
}

/// When a request received at `received` is due. A deadline the process itself sets
/// (`respond_by`) wins, except that it cannot stretch the statutory limit of an EU
/// production order.
pub fn due(
    process: LegalProcess,
    emergency: bool,
    received: DateTime<Utc>,
    respond_by: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let statutory = received + response_window(process, emergency);
    match (process, respond_by) {
        (LegalProcess::EuProductionOrder, Some(by)) => by.min(statutory),
        (_, Some(by)) if emergency => by.min(statutory),
        (_, Some(by)) => by,
        (_, None) => statutory,
    }
}

/// How long a preservation hold lasts, and its one extension.
pub fn hold_periods(process: LegalProcess) -> Option<(chrono::Duration, chrono::Duration)> {
    match process {
        // 18 U.S.C. 2703(f)(2): 90 days, renewable once for 90 more.
        LegalProcess::Preservation => {
            Some((chrono::Duration::days(90), chrono::Duration::days(90)))
        }
        // Regulation (EU) 2023/1543, art. 11: 60 days, 30 more on request.
        LegalProcess::EuPreservationOrder => {
            Some((chrono::Duration::days(60), chrono::Duration::days(30)))
        }
        _ => None,
    }
}

/// Non-disclosure comes in steps of this many days.
pub const NON_DISCLOSURE_STEP_DAYS: i32 = 90;
/// The longest non-disclosure, in days, counting extensions.
pub const MAX_NON_DISCLOSURE_DAYS: i32 = 360;

/// Checks a requested non-disclosure period.
pub fn non_disclosure_days(days: i32) -> Result<i32, String> {
    if days == 0
        || (days > 0 && days % NON_DISCLOSURE_STEP_DAYS == 0 && days <= MAX_NON_DISCLOSURE_DAYS)
    {
        Ok(days)
    } else {
        Err(format!(
            "must be 0 or a multiple of {NON_DISCLOSURE_STEP_DAYS} days up to {MAX_NON_DISCLOSURE_DAYS}"
        ))
    }
}

/// The end of non-disclosure after one more step from `until` (or from `received`), or why
/// not.
pub fn extend_non_disclosure(
    received: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let step = chrono::Duration::days(i64::from(NON_DISCLOSURE_STEP_DAYS));
    let base = until.filter(|u| *u > now).unwrap_or(now);
    let extended = base + step;
    if extended > received + chrono::Duration::days(i64::from(MAX_NON_DISCLOSURE_DAYS)) {
        return Err(format!(
            "non-disclosure cannot run past {MAX_NON_DISCLOSURE_DAYS} days from receipt"
        ));
    }
    Ok(extended)
}

/// The warning window before a deadline: a quarter of the time given, between one hour
/// and two days.
pub fn warning_window(received: DateTime<Utc>, due: DateTime<Utc>) -> chrono::Duration {
    ((due - received) / 4).clamp(chrono::Duration::hours(1), chrono::Duration::days(2))
}

/// How urgent a request is now.
pub fn urgency(
    owed: bool,
    received: DateTime<Utc>,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Urgency {
    if !owed {
        Urgency::OnTrack
    } else if now >= due {
        Urgency::Overdue
    } else if due - now <= warning_window(received, due) {
        Urgency::DueSoon
    } else {
        Urgency::OnTrack
    }
}

/// When a request ended, if it has: rejected or closed, at its last change.
pub fn request_ended(
    request: &assay_proto::lawenforcement::v1::LegalRequest,
) -> Option<DateTime<Utc>> {
    let status = RequestStatus::try_from(request.status).unwrap_or_default();
    if !matches!(status, RequestStatus::Rejected | RequestStatus::Closed) {
        return None;
    }
    request
        .update_time
        .as_ref()
        .and_then(|t| assay_common::time::from_timestamp(t).ok())
}

/// Package lifetime default.
pub const PACKAGE_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_ends_when_rejected_or_closed() {
        use assay_proto::lawenforcement::v1::LegalRequest;
        let changed: DateTime<Utc> = "2026-05-01T12:00:00Z".parse().unwrap();
        let request = |status: RequestStatus| LegalRequest {
            status: status as i32,
            update_time: Some(assay_common::time::to_timestamp(changed)),
            ..Default::default()
        };
        for status in [RequestStatus::Rejected, RequestStatus::Closed] {
            assert_eq!(request_ended(&request(status)), Some(changed), "{status:?}");
        }
        for status in [
            RequestStatus::Received,
            RequestStatus::LegalReview,
            RequestStatus::Approved,
            RequestStatus::Gathering,
            RequestStatus::Disclosed,
        ] {
            assert_eq!(request_ended(&request(status)), None, "{status:?}");
        }
        let unstamped = LegalRequest {
            update_time: None,
            ..request(RequestStatus::Closed)
        };
        assert_eq!(request_ended(&unstamped), None);
    }
    use LegalProcess::*;
    use RequestStatus::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_legal_clocks() {
        let t0 = at(0);
        let hours = |h: i64| t0 + chrono::Duration::hours(h);
        let days = |d: i64| t0 + chrono::Duration::days(d);
        assert_eq!(due(EuProductionOrder, false, t0, None), days(10));
        assert_eq!(due(EuProductionOrder, true, t0, None), hours(8));
        // An EU order cannot be given more time than the regulation allows ...
        assert_eq!(due(EuProductionOrder, false, t0, Some(days(30))), days(10));
        // ... but may ask for less.
        assert_eq!(due(EuProductionOrder, false, t0, Some(days(3))), days(3));
        assert_eq!(
            due(Subpoena, false, t0, Some(days(21))),
            days(21),
            "its return date"
        );
        assert_eq!(due(Subpoena, false, t0, None), days(14));
        assert_eq!(due(EmergencyDisclosure, false, t0, None), hours(8));
        assert_eq!(
            due(Mlat, true, t0, None),
            hours(8),
            "any emergency: 8 hours"
        );
        assert_eq!(due(Preservation, false, t0, None), days(1));

        assert_eq!(
            hold_periods(Preservation),
            Some((chrono::Duration::days(90), chrono::Duration::days(90)))
        );
        assert_eq!(
            hold_periods(EuPreservationOrder),
            Some((chrono::Duration::days(60), chrono::Duration::days(30)))
        );
        assert_eq!(hold_periods(Subpoena), None);
    }

    #[test]
    fn non_disclosure_runs_in_ninety_day_steps() {
        assert_eq!(non_disclosure_days(0), Ok(0));
        assert_eq!(non_disclosure_days(180), Ok(180));
        assert!(non_disclosure_days(30).is_err());
        assert!(non_disclosure_days(450).is_err());
        assert!(non_disclosure_days(-90).is_err());
        let t0 = at(0);
        let until = t0 + chrono::Duration::days(90);
        assert_eq!(
            extend_non_disclosure(t0, Some(until), t0),
            Ok(t0 + chrono::Duration::days(180))
        );
        // An expired period starts again from now.
        let later = t0 + chrono::Duration::days(100);
        assert_eq!(
            extend_non_disclosure(t0, Some(until), later),
            Ok(later + chrono::Duration::days(90))
        );
        let last = t0 + chrono::Duration::days(360);
        assert!(extend_non_disclosure(t0, Some(last), t0).is_err());
    }

    #[test]
    fn urgency_escalates_before_the_breach() {
        let t0 = at(0);
        let due = t0 + chrono::Duration::days(10);
        assert_eq!(urgency(true, t0, due, t0), Urgency::OnTrack);
        // A quarter of ten days is capped at two days.
        assert_eq!(
            urgency(true, t0, due, due - chrono::Duration::hours(49)),
            Urgency::OnTrack
        );
        assert_eq!(
            urgency(true, t0, due, due - chrono::Duration::hours(47)),
            Urgency::DueSoon
        );
        assert_eq!(urgency(true, t0, due, due), Urgency::Overdue);
        assert_eq!(
            urgency(false, t0, due, due),
            Urgency::OnTrack,
            "nothing owed"
        );
        // Eight hours: warned from the sixth (a quarter is two hours).
        let due = t0 + chrono::Duration::hours(8);
        assert_eq!(
            urgency(true, t0, due, t0 + chrono::Duration::minutes(5 * 60 + 59)),
            Urgency::OnTrack
        );
        assert_eq!(
            urgency(true, t0, due, t0 + chrono::Duration::hours(6)),
            Urgency::DueSoon
        );
    }

    #[test]
    fn the_status_machine() {
        let mut status = Received;
        for (action, expected) in [
            (Action::StartVerification, Verifying),
            (Action::CompleteVerification, LegalReview),
            (Action::Narrow, Narrowed),
            (Action::Gather, Gathering),
            (Action::Disclose, Disclosed),
            (Action::Close, Closed),
        ] {
            status = transition(status, action, Subpoena).unwrap();
            assert_eq!(status, expected);
        }
        let error = transition(Received, Action::Gather, Subpoena).unwrap_err();
        assert_eq!(
            error,
            "cannot gather data for a request that is RECEIVED; from RECEIVED you can: start verifying, reject"
        );
        assert!(
            transition(Closed, Action::Close, Subpoena)
                .unwrap_err()
                .contains("final")
        );
        // Preservation discloses nothing.
        assert!(transition(Approved, Action::Gather, Preservation).is_err());
        assert_eq!(
            transition(Approved, Action::Close, Preservation),
            Ok(Closed)
        );
        assert!(transition(Approved, Action::Close, Subpoena).is_err());
        assert!(is_owed(Gathering, Subpoena));
        assert!(!is_owed(Approved, Preservation));
        assert!(!is_owed(Disclosed, Subpoena));
    }
}
