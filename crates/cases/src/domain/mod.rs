//! The rules of case management, without I/O: the status machine, deadlines, the
//! repeat-infringer policy, notice accuracy, and seller identifiers.
//!
//! ```text
//! OPEN --review--> UNDER_REVIEW --act--> ACTION_TAKEN --counter-notice--> COUNTER_NOTICED
//!   |                  |                     |                             |        |
//!   +------reject------+--> REJECTED         |                  reinstate  |        | uphold
//!                      |                     |                             v        v
//!                      +------escalate-------+---------------------- REINSTATED  UPHELD
//!                      v                                                            |
//!                INVESTIGATING <-------------------escalate-------------------------+
//!                      |
//!                    refer --> REFERRED
//!
//! Any decided case (ACTION_TAKEN, REJECTED, REINSTATED, UPHELD, INVESTIGATING, REFERRED)
//! can be closed; OPEN and UNDER_REVIEW cases can be merged into another case.
//! ```

pub mod check;
pub mod cluster;
pub mod enforcement;
pub mod intake;
pub mod moves;
pub mod notify;
pub mod purchase;
pub mod reasons;
pub mod say;
pub mod standing;

use std::time::Duration;

use assay_common::error::Refusal;
use assay_proto::cases::v1::{CaseEventKind, CaseSource, CaseStatus, IdentifierKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Something done to a case that may change its status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    StartReview,
    TakeAction,
    Reject,
    FileCounterNotice,
    ReplyToCounterNotice,
    Reinstate,
    Uphold,
    Escalate,
    Refer,
    RecordReferralOutcome,
    Close,
    /// Merged into another case.
    MergeAway,
    /// Another case merged into this one.
    MergeInto,
    /// A trusted rights holder takes the listings of the notice it files down itself.
    RemoveAtOnce,
    /// Staff reverse a self-service removal.
    Reverse,
}

impl Action {
    const ALL: [Action; 15] = [
        Action::StartReview,
        Action::TakeAction,
        Action::Reject,
        Action::FileCounterNotice,
        Action::ReplyToCounterNotice,
        Action::Reinstate,
        Action::Uphold,
        Action::Escalate,
        Action::Refer,
        Action::RecordReferralOutcome,
        Action::Close,
        Action::MergeAway,
        Action::MergeInto,
        Action::RemoveAtOnce,
        Action::Reverse,
    ];

    pub fn verb(self) -> &'static str {
        match self {
            Action::StartReview => "start reviewing",
            Action::TakeAction => "act on",
            Action::Reject => "reject",
            Action::FileCounterNotice => "file a counter-notice on",
            Action::ReplyToCounterNotice => "reply to the counter-notice of",
            Action::Reinstate => "reinstate",
            Action::Uphold => "uphold",
            Action::Escalate => "escalate",
            Action::Refer => "refer",
            Action::RecordReferralOutcome => "record a referral outcome on",
            Action::Close => "close",
            Action::MergeAway => "merge away",
            Action::MergeInto => "merge other cases into",
            Action::RemoveAtOnce => "remove the listings at once of",
            Action::Reverse => "reverse the removal of",
        }
    }

    /// Whether callers may ask for it on a case that exists (a self-service removal
    /// happens as the case opens, so a refusal does not offer it).
    fn offered(self) -> bool {
        self != Action::RemoveAtOnce
    }
}

/// The status after `action`, or why it is not allowed (naming what is).
pub fn transition(from: CaseStatus, action: Action) -> Result<CaseStatus, Refusal> {
    use CaseStatus::*;
    let to = match (from, action) {
        (Open, Action::StartReview) => UnderReview,
        (UnderReview, Action::TakeAction) => ActionTaken,
        (Open, Action::RemoveAtOnce) => ActionTaken,
        (ActionTaken | CounterNoticed | Upheld, Action::Reverse) => Reinstated,
        (Open | UnderReview, Action::Reject) => Rejected,
        (ActionTaken, Action::FileCounterNotice) => CounterNoticed,
        (CounterNoticed, Action::ReplyToCounterNotice) => CounterNoticed,
        (CounterNoticed, Action::Reinstate) => Reinstated,
        (CounterNoticed, Action::Uphold) => Upheld,
        (UnderReview | ActionTaken | Upheld, Action::Escalate) => Investigating,
        (Investigating, Action::Refer) => Referred,
        (Referred, Action::RecordReferralOutcome) => Referred,
        (Closed, Action::RecordReferralOutcome) => Closed,
        (
            ActionTaken | Rejected | Reinstated | Upheld | Investigating | Referred,
            Action::Close,
        ) => Closed,
        (Open | UnderReview, Action::MergeAway) => Merged,
        (
            Open | UnderReview | ActionTaken | CounterNoticed | Upheld | Investigating,
            Action::MergeInto,
        ) => from,
        _ => {
            let allowed: Vec<&str> = Action::ALL
                .iter()
                .filter(|a| **a != action && a.offered() && allowed(from, **a))
                .map(|a| a.verb())
                .collect();
            let word = status_word(from);
            let message = if allowed.is_empty() {
                format!(
                    "cannot {} a case that is {word}: it is final",
                    action.verb()
                )
            } else {
                format!(
                    "cannot {} a case that is {word}; from {word} you can: {}",
                    action.verb(),
                    allowed.join(", ")
                )
            };
            return Err(Refusal::transition(
                message,
                allowed.into_iter().map(str::to_owned).collect(),
            ));
        }
    };
    Ok(to)
}

fn allowed(from: CaseStatus, action: Action) -> bool {
    matches!(
        (from, action),
        (CaseStatus::Open, Action::StartReview)
            | (CaseStatus::UnderReview, Action::TakeAction)
            | (CaseStatus::Open, Action::RemoveAtOnce)
            | (
                CaseStatus::ActionTaken | CaseStatus::CounterNoticed | CaseStatus::Upheld,
                Action::Reverse
            )
            | (CaseStatus::Open | CaseStatus::UnderReview, Action::Reject)
            | (CaseStatus::ActionTaken, Action::FileCounterNotice)
            | (
                CaseStatus::CounterNoticed,
                Action::ReplyToCounterNotice | Action::Reinstate | Action::Uphold
            )
            | (
                CaseStatus::UnderReview | CaseStatus::ActionTaken | CaseStatus::Upheld,
                Action::Escalate
            )
            | (CaseStatus::Investigating, Action::Refer)
            | (
                CaseStatus::Referred | CaseStatus::Closed,
                Action::RecordReferralOutcome
            )
            | (
                CaseStatus::ActionTaken
                    | CaseStatus::Rejected
                    | CaseStatus::Reinstated
                    | CaseStatus::Upheld
                    | CaseStatus::Investigating
                    | CaseStatus::Referred,
                Action::Close
            )
            | (
                CaseStatus::Open | CaseStatus::UnderReview,
                Action::MergeAway
            )
    )
}

/// The proto name of a status without its prefix, e.g. `ACTION_TAKEN`.
pub fn status_word(status: CaseStatus) -> &'static str {
    status
        .as_str_name()
        .strip_prefix("CASE_STATUS_")
        .unwrap_or("UNSPECIFIED")
}

/// Statuses in which the marketplace owes no decision.
pub fn is_settled(status: CaseStatus) -> bool {
    matches!(
        status,
        CaseStatus::ActionTaken
            | CaseStatus::Rejected
            | CaseStatus::Reinstated
            | CaseStatus::Upheld
            | CaseStatus::Referred
            | CaseStatus::Closed
            | CaseStatus::Merged
    )
}

/// How long each kind of case may wait for a decision (`[cases.sla]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sla {
    /// A rights holder's notice: decided within this.
    #[serde(with = "humantime_serde")]
    pub notice: Duration,
    /// A notice from a member trusted for its accuracy.
    #[serde(with = "humantime_serde")]
    pub fast_track_notice: Duration,
    /// A screening alert.
    #[serde(with = "humantime_serde")]
    pub screening_alert: Duration,
    /// A case opened by staff.
    #[serde(with = "humantime_serde")]
    pub staff_case: Duration,
    /// A counter-notice: the rights holder's reply and the decision.
    #[serde(with = "humantime_serde")]
    pub counter_notice: Duration,
    /// An investigation, until referral or closing.
    #[serde(with = "humantime_serde")]
    pub investigation: Duration,
    /// How often cases past their deadline are looked for and escalated.
    #[serde(with = "humantime_serde")]
    pub check_interval: Duration,
    /// The analyst (or team queue) a case past its deadline is assigned to; empty: it
    /// stays with whoever has it.
    pub escalate_to: String,
}

impl Default for Sla {
    fn default() -> Self {
        const HOUR: u64 = 3600;
        Self {
            notice: Duration::from_secs(24 * HOUR),
            fast_track_notice: Duration::from_secs(4 * HOUR),
            screening_alert: Duration::from_secs(72 * HOUR),
            staff_case: Duration::from_secs(7 * 24 * HOUR),
            counter_notice: Duration::from_secs(14 * 24 * HOUR),
            investigation: Duration::from_secs(30 * 24 * HOUR),
            check_interval: Duration::from_secs(60),
            escalate_to: String::new(),
        }
    }
}

impl Sla {
    pub fn problems(&self) -> Vec<String> {
        [
            ("notice", self.notice),
            ("fast_track_notice", self.fast_track_notice),
            ("screening_alert", self.screening_alert),
            ("staff_case", self.staff_case),
            ("counter_notice", self.counter_notice),
            ("investigation", self.investigation),
            ("check_interval", self.check_interval),
        ]
        .into_iter()
        .filter(|(_, d)| d.is_zero())
        .map(|(name, _)| format!("cases.sla.{name} must be above zero"))
        .chain(
            check::assignee(&self.escalate_to)
                .err()
                .map(|e| format!("cases.sla.escalate_to {e}")),
        )
        .collect()
    }

    /// What becomes of a case found past its deadline `due`, undecided, at `now`: its
    /// timeline says so, it is tagged [`BREACHED_TAG`], and it goes to `escalate_to` if
    /// that is set and someone else has it.
    pub fn breach(
        &self,
        status: CaseStatus,
        due: DateTime<Utc>,
        assignee: &str,
        now: DateTime<Utc>,
    ) -> Breach {
        let late = humantime_serde::re::humantime::format_duration(std::time::Duration::from_secs(
            (now - due).num_seconds().max(0) as u64,
        ));
        let state = status.as_str_name().trim_start_matches("CASE_STATUS_");
        let reassign = (!self.escalate_to.is_empty() && self.escalate_to != assignee)
            .then(|| self.escalate_to.clone());
        let whom = match (&reassign, assignee) {
            (Some(to), "") => format!("escalated to {to}"),
            (Some(to), from) => format!("escalated from {from} to {to}"),
            (None, "") => "unassigned".to_owned(),
            (None, with) => format!("with {with}"),
        };
        Breach {
            assign_to: reassign,
            event: moves::Event::new(
                CaseEventKind::SlaBreached,
                format!(
                    "{late} past its deadline ({}) while {state}; {whom}",
                    due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
            ),
        }
    }

    /// The deadline of a new case.
    pub fn opened(
        &self,
        source: CaseSource,
        fast_track: bool,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let within = match source {
            CaseSource::Notice if fast_track => self.fast_track_notice,
            CaseSource::Notice => self.notice,
            CaseSource::ScreeningAlert => self.screening_alert,
            CaseSource::Staff | CaseSource::Unspecified => self.staff_case,
        };
        after(now, within)
    }

    /// The deadline once a case moves to `to` (whose deadline was `due`).
    pub fn moved(
        &self,
        to: CaseStatus,
        due: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        match to {
            CaseStatus::CounterNoticed => Some(after(now, self.counter_notice)),
            CaseStatus::Investigating => Some(after(now, self.investigation)),
            status if is_settled(status) => None,
            _ => due,
        }
    }
}

/// The tag of cases that passed their deadline undecided.
pub const BREACHED_TAG: &str = "sla-breached";

/// What escalating a case past its deadline does.
#[derive(Debug, Clone, PartialEq)]
pub struct Breach {
    /// Whom the case now goes to, if anyone new.
    pub assign_to: Option<String>,
    pub event: moves::Event,
}

#[cfg(test)]
mod breach_tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn a_breach_says_how_late_and_goes_to_the_escalation_owner_once() {
        let sla = Sla {
            escalate_to: "lead-ana".to_owned(),
            ..Sla::default()
        };
        let breach = sla.breach(CaseStatus::UnderReview, at(0), "ann", at(7200));
        assert_eq!(breach.assign_to.as_deref(), Some("lead-ana"));
        assert_eq!(breach.event.kind, CaseEventKind::SlaBreached);
        assert_eq!(
            breach.event.detail,
            "2h past its deadline (2027-01-15T08:00:00Z) while UNDER_REVIEW; escalated from ann to lead-ana"
        );
        // Already with the escalation owner, or no owner configured: nobody new.
        assert_eq!(
            sla.breach(CaseStatus::Open, at(0), "lead-ana", at(1))
                .assign_to,
            None
        );
        let plain = Sla::default().breach(CaseStatus::Open, at(0), "", at(60));
        assert_eq!(plain.assign_to, None);
        assert!(
            plain.event.detail.ends_with("while OPEN; unassigned"),
            "{}",
            plain.event.detail
        );
    }

    #[test]
    fn the_escalation_owner_is_checked_with_the_rest_of_the_sla() {
        let bad = Sla {
            escalate_to: "lead ana\u{202e}".to_owned(),
            check_interval: Duration::ZERO,
            ..Sla::default()
        };
        let problems = bad.problems();
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("cases.sla.escalate_to")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("check_interval")),
            "{problems:?}"
        );
        assert!(Sla::default().problems().is_empty());
    }
}

fn after(now: DateTime<Utc>, within: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(within).unwrap_or(chrono::Duration::days(3650))
}

/// When a seller is a repeat infringer (`[cases.repeat_infringer]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepeatInfringerPolicy {
    /// Strikes, not withdrawn, within `window`.
    pub strikes: u32,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
}

impl Default for RepeatInfringerPolicy {
    fn default() -> Self {
        Self {
            strikes: 3,
            window: Duration::from_secs(365 * 24 * 3600),
        }
    }
}

impl RepeatInfringerPolicy {
    /// Strikes that count: not withdrawn and within the window before `now`.
    pub fn active(
        &self,
        strikes: &[(DateTime<Utc>, Option<DateTime<Utc>>)],
        now: DateTime<Utc>,
    ) -> u32 {
        strikes
            .iter()
            .filter(|(at, withdrawn)| self.counts(*at, *withdrawn, now))
            .count() as u32
    }

    /// Whether a strike given `at` (and withdrawn, if it was) counts at `now`.
    pub fn counts(
        &self,
        at: DateTime<Utc>,
        withdrawn: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> bool {
        let window = chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX);
        withdrawn.is_none()
            && now
                .checked_sub_signed(window)
                .is_none_or(|since| at >= since)
    }

    pub fn is_repeat_infringer(&self, active: u32) -> bool {
        active >= self.strikes
    }
}

/// When a member's notices take the fast path (`[cases.trusted_notices]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustPolicy {
    /// Decided notices needed before accuracy counts.
    pub min_decided: u32,
    /// Accuracy needed, 0 to 1.
    pub min_accuracy: f64,
}

impl Default for TrustPolicy {
    fn default() -> Self {
        Self {
            min_decided: 20,
            min_accuracy: 0.95,
        }
    }
}

/// How a member's notices fared.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Accuracy {
    pub notices: i64,
    pub upheld: i64,
    pub rejected: i64,
    pub overturned: i64,
    pub pending: i64,
}

impl Accuracy {
    pub fn decided(&self) -> i64 {
        self.upheld + self.rejected + self.overturned
    }

    pub fn ratio(&self) -> f64 {
        match self.decided() {
            0 => 0.0,
            decided => self.upheld as f64 / decided as f64,
        }
    }

    pub fn trusted(&self, policy: &TrustPolicy) -> bool {
        self.decided() >= i64::from(policy.min_decided) && self.ratio() >= policy.min_accuracy
    }
}

/// Who may remove listings itself, at once (`[cases.self_service_removal]`): members whose
/// notices have been decided often enough and upheld nearly always. A removal a member
/// makes counts as upheld unless staff reverse it or a counter-notice overturns it, which
/// count against the member.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SelfServicePolicy {
    /// Decided notices needed before a member may be eligible.
    pub min_decided: u32,
    /// Share of decided notices upheld needed, 0 to 1.
    pub min_accuracy: f64,
}

impl Default for SelfServicePolicy {
    fn default() -> Self {
        Self {
            min_decided: 50,
            min_accuracy: 0.99,
        }
    }
}

impl SelfServicePolicy {
    pub fn admits(&self, accuracy: &Accuracy) -> bool {
        accuracy.decided() >= i64::from(self.min_decided) && accuracy.ratio() >= self.min_accuracy
    }

    /// The record to write when a member's eligibility is found to be `now` after being
    /// `before` (no record yet: not eligible): `Some(now)` when it changed.
    pub fn change(before: Option<bool>, now: bool) -> Option<bool> {
        (before.unwrap_or(false) != now).then_some(now)
    }

    /// Why a member that asked to remove listings itself may not.
    pub fn refusal(&self, accuracy: &Accuracy) -> String {
        format!(
            "not eligible for self-service removal: {} of {} decided notices upheld ({:.1}%); it takes at least {} decided notices and {:.1}% upheld. File the notice with SubmitNotice for staff to review",
            accuracy.upheld,
            accuracy.decided(),
            accuracy.ratio() * 100.0,
            self.min_decided,
            self.min_accuracy * 100.0
        )
    }
}

/// What was decided on a case, for accuracy and figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Acted on (and not overturned).
    Upheld,
    Rejected,
    /// Acted on, then reinstated after a counter-notice.
    Overturned,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Upheld => "UPHELD",
            Decision::Rejected => "REJECTED",
            Decision::Overturned => "OVERTURNED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "UPHELD" => Some(Decision::Upheld),
            "REJECTED" => Some(Decision::Rejected),
            "OVERTURNED" => Some(Decision::Overturned),
            _ => None,
        }
    }
}

/// The most sellers a cluster is followed to.
pub const MAX_CLUSTER: usize = 200;

/// An identifier in the form it is compared in, or why it is not one.
pub fn normalize_identifier(kind: IdentifierKind, value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if value.chars().count() > 500 {
        return Err("must be at most 500 characters".to_owned());
    }
    let normalized = match kind {
        IdentifierKind::PaymentAccount => {
            let account: String = value
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '-')
                .flat_map(char::to_uppercase)
                .collect();
            if account.len() < 4 || !account.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err("must be an account number: at least 4 letters and digits".to_owned());
            }
            account
        }
        IdentifierKind::Address => {
            let words: Vec<String> = value
                .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '#' | ';'))
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect();
            if words.len() < 2 {
                return Err("must be a postal address of at least two words".to_owned());
            }
            words.join(" ")
        }
        IdentifierKind::Phone => {
            let digits: String = value.chars().filter(char::is_ascii_digit).collect();
            let allowed = value
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.'));
            if !allowed || !(6..=15).contains(&digits.len()) {
                return Err("must be a phone number of 6 to 15 digits".to_owned());
            }
            digits
        }
        IdentifierKind::ImageHash => {
            let hash = value.to_ascii_lowercase();
            if hash.len() != 16 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err("must be a 64-bit perceptual hash as 16 hex digits".to_owned());
            }
            hash
        }
        IdentifierKind::Email => assay_common::validate::email(value)?.to_lowercase(),
        IdentifierKind::Unspecified => return Err("kind must be set".to_owned()),
    };
    Ok(normalized)
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    #[test]
    fn the_life_of_a_case() {
        let mut status = Open;
        for (action, expected) in [
            (Action::StartReview, UnderReview),
            (Action::TakeAction, ActionTaken),
            (Action::FileCounterNotice, CounterNoticed),
            (Action::ReplyToCounterNotice, CounterNoticed),
            (Action::Uphold, Upheld),
            (Action::Escalate, Investigating),
            (Action::Refer, Referred),
            (Action::RecordReferralOutcome, Referred),
            (Action::Close, Closed),
            (Action::RecordReferralOutcome, Closed),
        ] {
            status = transition(status, action).unwrap();
            assert_eq!(status, expected, "after {action:?}");
        }
    }

    #[test]
    fn illegal_moves_say_what_is_allowed() {
        let error = transition(Open, Action::TakeAction).unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot act on a case that is OPEN; from OPEN you can: start reviewing, reject, merge away"
        );
        assert_eq!(
            error.reason(),
            assay_common::error::reason::INVALID_TRANSITION
        );
        assert_eq!(error.allowed(), ["start reviewing", "reject", "merge away"]);
        let last = transition(Merged, Action::Close).unwrap_err();
        assert!(last.to_string().contains("final"));
        assert!(last.allowed().is_empty());
        assert!(transition(Closed, Action::Close).is_err());
        assert!(transition(Rejected, Action::FileCounterNotice).is_err());
        assert!(transition(ActionTaken, Action::MergeAway).is_err());
        assert_eq!(
            transition(Investigating, Action::MergeInto),
            Ok(Investigating)
        );
        assert!(transition(Closed, Action::MergeInto).is_err());
    }

    #[test]
    fn only_a_new_case_is_removed_at_once_and_only_a_takedown_reversed() {
        assert_eq!(transition(Open, Action::RemoveAtOnce), Ok(ActionTaken));
        for status in [UnderReview, ActionTaken, Rejected, Closed] {
            assert!(
                transition(status, Action::RemoveAtOnce).is_err(),
                "{status:?}"
            );
        }
        for status in [ActionTaken, CounterNoticed, Upheld] {
            assert_eq!(transition(status, Action::Reverse), Ok(Reinstated));
        }
        for status in [Open, UnderReview, Rejected, Reinstated, Referred, Closed] {
            assert!(transition(status, Action::Reverse).is_err(), "{status:?}");
        }
        // A refusal never offers a removal at once: it happens only as a case opens.
        let refusal = transition(Open, Action::Close).unwrap_err();
        assert!(!refusal.to_string().contains("at once"), "{refusal}");
    }

    #[test]
    fn self_service_takes_volume_and_accuracy_and_records_only_changes() {
        let policy = SelfServicePolicy::default();
        let record = |upheld, rejected, overturned| Accuracy {
            notices: upheld + rejected + overturned,
            upheld,
            rejected,
            overturned,
            pending: 0,
        };
        assert!(policy.admits(&record(99, 1, 0)));
        assert!(policy.admits(&record(50, 0, 0)));
        assert!(!policy.admits(&record(49, 0, 0)), "too few decided");
        assert!(!policy.admits(&record(98, 1, 1)), "98% upheld");
        assert!(!policy.admits(&record(0, 0, 0)));
        assert_eq!(SelfServicePolicy::change(None, false), None);
        assert_eq!(SelfServicePolicy::change(None, true), Some(true));
        assert_eq!(SelfServicePolicy::change(Some(true), true), None);
        assert_eq!(SelfServicePolicy::change(Some(true), false), Some(false));
        let why = policy.refusal(&record(10, 1, 0));
        assert!(
            why.contains("10 of 11 decided notices upheld (90.9%)") && why.contains("at least 50"),
            "{why}"
        );
    }

    #[test]
    fn allowed_agrees_with_transition() {
        for status in [
            Open,
            UnderReview,
            ActionTaken,
            Rejected,
            CounterNoticed,
            Reinstated,
            Upheld,
            Investigating,
            Referred,
            Closed,
            Merged,
        ] {
            for action in Action::ALL {
                if action == Action::MergeInto {
                    continue;
                }
                assert_eq!(
                    allowed(status, action),
                    transition(status, action).is_ok(),
                    "{status:?} {action:?}"
                );
            }
        }
    }

    #[test]
    fn deadlines_follow_the_status() {
        let sla = Sla::default();
        let now = assay_common::time::now();
        let due = sla.opened(CaseSource::Notice, false, now);
        assert_eq!(due - now, chrono::Duration::hours(24));
        assert_eq!(
            sla.opened(CaseSource::Notice, true, now) - now,
            chrono::Duration::hours(4)
        );
        assert_eq!(sla.moved(UnderReview, Some(due), now), Some(due));
        assert_eq!(sla.moved(ActionTaken, Some(due), now), None);
        assert_eq!(
            sla.moved(CounterNoticed, None, now),
            Some(now + chrono::Duration::days(14))
        );
    }

    #[test]
    fn strikes_count_within_the_window_unless_withdrawn() {
        let policy = RepeatInfringerPolicy::default();
        let now = assay_common::time::now();
        let days = chrono::Duration::days;
        let strikes = [
            (now - days(10), None),
            (now - days(100), None),
            (now - days(200), Some(now - days(150))),
            (now - days(400), None),
        ];
        let active = policy.active(&strikes, now);
        assert_eq!(active, 2);
        assert!(!policy.is_repeat_infringer(active));
        assert!(policy.is_repeat_infringer(policy.active(&[(now, None); 3], now)));
    }

    #[test]
    fn accuracy_and_trust() {
        let accuracy = Accuracy {
            notices: 25,
            upheld: 19,
            rejected: 1,
            overturned: 0,
            pending: 5,
        };
        assert_eq!(accuracy.ratio(), 0.95);
        assert!(accuracy.trusted(&TrustPolicy::default()));
        let few = Accuracy {
            notices: 3,
            upheld: 3,
            ..Accuracy::default()
        };
        assert!(!few.trusted(&TrustPolicy::default()), "too few decided");
        assert_eq!(Accuracy::default().ratio(), 0.0);
    }

    #[test]
    fn identifiers_compare_after_normalisation() {
        use IdentifierKind::*;
        let n = |kind, value| normalize_identifier(kind, value);
        assert_eq!(
            n(PaymentAccount, "de89 3704-0044 0532 0130 00"),
            n(PaymentAccount, "DE89370400440532013000")
        );
        assert_eq!(n(Phone, "+86 (138) 0013-8000").unwrap(), "8613800138000");
        assert_eq!(
            n(Address, "12 Long Rd., Shenzhen").unwrap(),
            "12 long rd shenzhen"
        );
        assert_eq!(n(Email, "Shop@Example.com").unwrap(), "shop@example.com");
        assert_eq!(
            n(ImageHash, "8F3C1E0F0F1E3C8F").unwrap(),
            "8f3c1e0f0f1e3c8f"
        );
        assert!(n(ImageHash, "xyz").is_err());
        assert!(n(Phone, "call me").is_err());
        assert!(n(Address, "nowhere").is_err());
        assert!(n(Unspecified, "x").is_err());
        assert!(n(Email, " ").is_err());
    }
}
