//! What each action on a case does, decided without I/O: the status it moves to, the
//! entries it writes to the timeline, the fields it sets, and the effects it has beyond the
//! case (listings taken down, sellers struck, feedback queued for screening). The store
//! applies a [`Move`]; the handler only decodes, authorises and answers.

use assay_proto::cases::v1::{
    CaseEventKind, CaseStatus, CounterNotice, CounterNoticeReply, ReasonCode,
    TestPurchaseConclusion,
};
use assay_proto::screening::v1::FeedbackOutcome;

use assay_common::error::Refusal;

use super::{Action, Decision, status_word, transition};

/// One entry on a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub kind: CaseEventKind,
    pub detail: String,
    /// The status before and after, for a status change.
    pub statuses: Option<(CaseStatus, CaseStatus)>,
}

impl Event {
    pub fn new(kind: CaseEventKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            statuses: None,
        }
    }

    pub fn status(mut self, from: CaseStatus, to: CaseStatus) -> Self {
        self.statuses = Some((from, to));
        self
    }
}

/// Fields of the case row that a move sets (besides its status and deadline).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fields {
    pub assignee: Option<String>,
    pub resolution_note: Option<String>,
    /// The decision, taken now.
    pub decision: Option<Decision>,
    pub counter_notice: Option<CounterNotice>,
    /// Whether the counter-notice was filed now.
    pub counter_notice_filed: bool,
    pub merged_into: Option<String>,
    /// The grounds a takedown upholds.
    pub decision_reason_codes: Option<Vec<ReasonCode>>,
    /// The rights holder took the listings down itself.
    pub self_service: bool,
}

/// What a move does beyond the case's own row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    TakeDownListings,
    StrikeSellers,
    ReinstateListings,
    WithdrawStrikes,
    /// Tells screening how its hit turned out (when the case came from one).
    Feedback {
        outcome: FeedbackOutcome,
        why: String,
    },
}

/// A decided change to a case.
#[derive(Debug, Clone, PartialEq)]
pub struct Move {
    pub from: CaseStatus,
    pub to: CaseStatus,
    /// Timeline entries, in order; a change of status is among them.
    pub events: Vec<Event>,
    pub fields: Fields,
    pub effects: Vec<Effect>,
}

impl Move {
    /// The move `action` makes from `from`, or why the status machine refuses it.
    fn new(from: CaseStatus, action: Action) -> Result<Self, Refusal> {
        Ok(Self {
            from,
            to: transition(from, action)?,
            events: Vec::new(),
            fields: Fields::default(),
            effects: Vec::new(),
        })
    }

    /// Adds the status change to the timeline (nothing when the status stays).
    fn status_event(mut self, detail: impl Into<String>) -> Self {
        if self.from != self.to {
            self.events
                .push(Event::new(CaseEventKind::StatusChanged, detail).status(self.from, self.to));
        }
        self
    }

    fn event(mut self, kind: CaseEventKind, detail: impl Into<String>) -> Self {
        self.events.push(Event::new(kind, detail));
        self
    }

    fn decided(mut self, decision: Decision, why: &str) -> Self {
        self.fields.decision = Some(decision);
        self.fields.resolution_note = Some(why.to_owned());
        self
    }

    fn feedback(mut self, outcome: FeedbackOutcome, why: &str) -> Self {
        self.effects.push(Effect::Feedback {
            outcome,
            why: why.to_owned(),
        });
        self
    }

    /// Whether applying it queues a message for another service.
    pub fn sends(&self) -> bool {
        self.effects
            .iter()
            .any(|e| matches!(e, Effect::Feedback { .. }))
    }
}

/// Review starts; an unassigned case is taken by the staff member who starts it.
pub fn start_review(
    from: CaseStatus,
    assignee: &str,
    reviewer: Option<&str>,
) -> Result<Move, Refusal> {
    let mut mv = Move::new(from, Action::StartReview)?.status_event("review started");
    if assignee.is_empty()
        && let Some(reviewer) = reviewer.filter(|r| !r.is_empty())
    {
        mv.fields.assignee = Some(reviewer.to_owned());
        mv = mv.event(CaseEventKind::Assigned, format!("assigned to {reviewer}"));
    }
    Ok(mv)
}

/// The notice is upheld on `grounds`: listings come down and their sellers are struck.
pub fn take_action(from: CaseStatus, why: &str, grounds: Vec<ReasonCode>) -> Result<Move, Refusal> {
    let mut mv = Move::new(from, Action::TakeAction)?
        .status_event(format!("listings taken down and sellers struck: {why}"))
        .decided(Decision::Upheld, why);
    mv.effects = vec![Effect::TakeDownListings, Effect::StrikeSellers];
    mv.fields.decision_reason_codes = Some(grounds);
    Ok(mv.feedback(FeedbackOutcome::ConfirmedCounterfeit, why))
}

/// A trusted rights holder takes down the listings of the notice it files, on `grounds`:
/// as a takedown staff decide, but at once and by the rights holder.
pub fn remove_at_once(from: CaseStatus, grounds: Vec<ReasonCode>) -> Result<Move, Refusal> {
    let why = "removed at once by the rights holder (trusted self-service removal)";
    let mut mv = Move::new(from, Action::RemoveAtOnce)?
        .status_event(format!("listings taken down and sellers struck: {why}"))
        .decided(Decision::Upheld, why);
    mv.effects = vec![Effect::TakeDownListings, Effect::StrikeSellers];
    mv.fields.decision_reason_codes = Some(grounds);
    mv.fields.self_service = true;
    Ok(mv.feedback(FeedbackOutcome::ConfirmedCounterfeit, why))
}

/// Staff reverse a self-service removal: the listings come back, the strikes go, and the
/// notice counts as overturned. A takedown staff decided is appealed by counter-notice.
pub fn reverse_removal(from: CaseStatus, self_service: bool, why: &str) -> Result<Move, Refusal> {
    if !self_service {
        return Err(
            "only a self-service removal can be reversed; a takedown staff decided is appealed by counter-notice"
                .into(),
        );
    }
    let mut mv = Move::new(from, Action::Reverse)?
        .status_event(format!(
            "self-service removal reversed by staff, listings reinstated and strikes withdrawn: {why}"
        ))
        .decided(Decision::Overturned, why);
    mv.effects = vec![Effect::ReinstateListings, Effect::WithdrawStrikes];
    Ok(mv.feedback(FeedbackOutcome::FalsePositive, why))
}

pub fn reject(from: CaseStatus, why: &str) -> Result<Move, Refusal> {
    Ok(Move::new(from, Action::Reject)?
        .status_event(format!("rejected: {why}"))
        .decided(Decision::Rejected, why)
        .feedback(FeedbackOutcome::FalsePositive, why))
}

/// The seller appeals a takedown.
pub fn file_counter_notice(from: CaseStatus, filed: CounterNotice) -> Result<Move, Refusal> {
    let mut mv = Move::new(from, Action::FileCounterNotice)?
        .event(
            CaseEventKind::CounterNoticeFiled,
            format!(
                "counter-notice filed with {} evidence",
                filed.evidence_ids.len()
            ),
        )
        .status_event("the seller appealed the takedown");
    mv.fields.counter_notice = Some(filed);
    mv.fields.counter_notice_filed = true;
    Ok(mv)
}

/// The rights holder answers the counter-notice, once.
pub fn reply_to_counter_notice(
    from: CaseStatus,
    mut counter: CounterNotice,
    reply: CounterNoticeReply,
) -> Result<Move, Refusal> {
    let mv = Move::new(from, Action::ReplyToCounterNotice)?;
    if counter.reply.is_some() {
        return Err("the rights holder already replied to this counter-notice".into());
    }
    let detail = if reply.maintains_notice {
        "the rights holder maintains its notice"
    } else {
        "the rights holder withdraws its notice"
    };
    counter.reply = Some(reply);
    let mut mv = mv
        .event(CaseEventKind::CounterNoticeReplied, detail)
        .status_event("");
    mv.fields.counter_notice = Some(counter);
    Ok(mv)
}

/// The counter-notice is decided: reinstating undoes the takedown and its strikes.
pub fn resolve_counter_notice(
    from: CaseStatus,
    reinstate: bool,
    why: &str,
) -> Result<Move, Refusal> {
    if !reinstate {
        let mut mv = Move::new(from, Action::Uphold)?.status_event(format!(
            "counter-notice refused, the takedown stands: {why}"
        ));
        mv.fields.resolution_note = Some(why.to_owned());
        return Ok(mv);
    }
    let mut mv = Move::new(from, Action::Reinstate)?
        .status_event(format!(
            "counter-notice granted, listings reinstated and strikes withdrawn: {why}"
        ))
        .decided(Decision::Overturned, why);
    mv.effects = vec![Effect::ReinstateListings, Effect::WithdrawStrikes];
    Ok(mv.feedback(FeedbackOutcome::FalsePositive, why))
}

pub fn escalate(from: CaseStatus, why: &str) -> Result<Move, Refusal> {
    Ok(Move::new(from, Action::Escalate)?.status_event(format!("escalated: {why}")))
}

/// What a referral rests on.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Grounds {
    /// Evidence against the seller: the case's, less what the seller filed with its
    /// counter-notice and what test purchases that found no counterfeit recorded.
    pub evidence: usize,
    /// Test purchases that found a counterfeit.
    pub counterfeit_buys: usize,
    /// Test purchases that found the goods genuine.
    pub genuine_buys: usize,
    /// The case was opened from a screening hit: screening keeps the listing as it was
    /// screened and why it was flagged, and the referral names the hit.
    pub screening_hit: bool,
}

impl Grounds {
    /// The grounds of a case holding `evidence` (ids), of which the seller filed
    /// `filed_by_seller`, with test purchases (what each concluded, the evidence it
    /// recorded), opened from a screening hit or not.
    pub fn of<'a>(
        evidence: impl IntoIterator<Item = &'a str>,
        filed_by_seller: &[String],
        purchases: &[(TestPurchaseConclusion, Vec<&str>)],
        screening_hit: bool,
    ) -> Self {
        let not_against: std::collections::HashSet<&str> = filed_by_seller
            .iter()
            .map(String::as_str)
            .chain(
                purchases
                    .iter()
                    .filter(|(conclusion, _)| *conclusion != TestPurchaseConclusion::Counterfeit)
                    .flat_map(|(_, ids)| ids.iter().copied()),
            )
            .collect();
        let count = |wanted| purchases.iter().filter(|(c, _)| *c == wanted).count();
        Self {
            evidence: evidence
                .into_iter()
                .filter(|id| !not_against.contains(id))
                .count(),
            counterfeit_buys: count(TestPurchaseConclusion::Counterfeit),
            genuine_buys: count(TestPurchaseConclusion::Genuine),
            screening_hit,
        }
    }

    /// Whether they are enough to refer a seller to law enforcement: something on the case
    /// must show a counterfeit, and a test purchase that found the goods genuine stands
    /// against the referral until another finds a counterfeit.
    pub fn suffice(&self) -> Result<(), Refusal> {
        if self.genuine_buys > 0 && self.counterfeit_buys == 0 {
            return Err(format!(
                "{} test purchase(s) found the goods genuine and none found a counterfeit: a referral needs a test purchase that finds one",
                self.genuine_buys
            )
            .into());
        }
        if self.evidence == 0 && !self.screening_hit {
            return Err("nothing on the case shows a counterfeit: record a test purchase that finds one, or add evidence, before referring".into());
        }
        Ok(())
    }
}

/// Referred to an agency on `grounds`, with `count` evidence in a package of this hash.
pub fn refer(
    from: CaseStatus,
    agency_id: &str,
    grounds: Grounds,
    count: usize,
    package_sha256: &str,
) -> Result<Move, Refusal> {
    let mv = Move::new(from, Action::Refer)?;
    grounds.suffice()?;
    Ok(mv
        .event(
            CaseEventKind::Referred,
            format!(
                "referred to {agency_id} with {count} evidence (package sha256 {package_sha256})"
            ),
        )
        .status_event("referred to law enforcement"))
}

/// What came of a referral: `detail` says it in a line.
pub fn record_referral_outcome(from: CaseStatus, detail: String) -> Result<Move, Refusal> {
    Ok(Move::new(from, Action::RecordReferralOutcome)?
        .event(CaseEventKind::ReferralOutcome, detail)
        .status_event(""))
}

pub fn close(from: CaseStatus, why: &str) -> Result<Move, Refusal> {
    let mut mv = Move::new(from, Action::Close)?.status_event(format!("closed: {why}"));
    mv.fields.resolution_note = Some(why.to_owned());
    Ok(mv)
}

/// The case is a duplicate of `target`, and goes into it.
pub fn merge_away(from: CaseStatus, target: &str) -> Result<Move, Refusal> {
    let mut mv = Move::new(from, Action::MergeAway)?
        .event(CaseEventKind::Merged, format!("merged into case {target}"))
        .status_event(format!("duplicate of case {target}"));
    mv.fields.merged_into = Some(target.to_owned());
    Ok(mv)
}

/// Whether a case can take other cases merged into it.
pub fn merge_into(from: CaseStatus) -> Result<(), Refusal> {
    transition(from, Action::MergeInto).map(|_| ())
}

/// Who case `id` is assigned to can change while it is open work.
pub fn assign(
    id: &str,
    status: CaseStatus,
    current: &str,
    assignee: &str,
) -> Result<Option<Event>, Refusal> {
    if matches!(status, CaseStatus::Closed | CaseStatus::Merged) {
        return Err(format!(
            "case {id} is {}: only open work can be assigned",
            status_word(status)
        )
        .into());
    }
    if current == assignee {
        return Ok(None);
    }
    let detail = if assignee.is_empty() {
        "unassigned".to_owned()
    } else {
        format!("assigned to {assignee}")
    };
    Ok(Some(Event::new(CaseEventKind::Assigned, detail)))
}

/// Tags change on any case but a merged one (case `id`, merged into `merged_into`); the
/// timeline says what changed.
pub fn retag(
    id: &str,
    status: CaseStatus,
    merged_into: &str,
    add: &[String],
    remove: &[String],
) -> Result<Event, Refusal> {
    if status == CaseStatus::Merged {
        return Err(
            format!("case {id} was merged into {merged_into}: tag that case instead").into(),
        );
    }
    let mut parts = Vec::new();
    if !add.is_empty() {
        parts.push(format!("tagged {}", add.join(", ")));
    }
    if !remove.is_empty() {
        parts.push(format!("untagged {}", remove.join(", ")));
    }
    Ok(Event::new(CaseEventKind::Tagged, parts.join("; ")))
}

/// Evidence is added to open cases only.
pub fn accepts_evidence(id: &str, status: CaseStatus) -> Result<(), Refusal> {
    if matches!(status, CaseStatus::Closed | CaseStatus::Merged) {
        return Err(format!(
            "case {id} is {}: evidence goes to open cases",
            status_word(status)
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    fn kinds(mv: &Move) -> Vec<CaseEventKind> {
        mv.events.iter().map(|e| e.kind).collect()
    }

    #[test]
    fn acting_takes_listings_down_strikes_and_confirms_the_hit() {
        let mv = take_action(UnderReview, "clear fake", vec![ReasonCode::Counterfeit]).unwrap();
        assert_eq!(mv.to, ActionTaken);
        assert_eq!(
            mv.fields.decision_reason_codes,
            Some(vec![ReasonCode::Counterfeit])
        );
        assert_eq!(
            mv.effects,
            vec![
                Effect::TakeDownListings,
                Effect::StrikeSellers,
                Effect::Feedback {
                    outcome: FeedbackOutcome::ConfirmedCounterfeit,
                    why: "clear fake".into()
                }
            ]
        );
        assert_eq!(mv.fields.decision, Some(Decision::Upheld));
        assert_eq!(mv.fields.resolution_note.as_deref(), Some("clear fake"));
        assert!(mv.sends());
        assert_eq!(
            mv.events,
            vec![
                Event::new(
                    CaseEventKind::StatusChanged,
                    "listings taken down and sellers struck: clear fake"
                )
                .status(UnderReview, ActionTaken)
            ]
        );
    }

    #[test]
    fn a_self_service_removal_is_a_takedown_by_the_rights_holder_that_staff_may_reverse() {
        let removed = remove_at_once(Open, vec![ReasonCode::Counterfeit]).unwrap();
        assert_eq!((removed.from, removed.to), (Open, ActionTaken));
        assert!(removed.fields.self_service);
        assert_eq!(removed.fields.decision, Some(Decision::Upheld));
        assert_eq!(
            removed.effects[..2],
            [Effect::TakeDownListings, Effect::StrikeSellers]
        );
        assert!(removed.events[0].detail.contains("self-service"));
        assert!(remove_at_once(UnderReview, vec![]).is_err());

        let reversed = reverse_removal(ActionTaken, true, "a licensed reseller").unwrap();
        assert_eq!(reversed.to, Reinstated);
        assert_eq!(reversed.fields.decision, Some(Decision::Overturned));
        assert_eq!(
            reversed.effects[..2],
            [Effect::ReinstateListings, Effect::WithdrawStrikes]
        );
        assert!(reverse_removal(CounterNoticed, true, "x").is_ok());
        let staff_takedown = reverse_removal(ActionTaken, false, "x").unwrap_err();
        assert!(staff_takedown.to_string().contains("counter-notice"));
        assert!(reverse_removal(Reinstated, true, "again").is_err());
    }

    #[test]
    fn rejecting_reports_a_false_positive_and_touches_no_listing() {
        let mv = reject(Open, "genuine").unwrap();
        assert_eq!(mv.to, Rejected);
        assert_eq!(mv.fields.decision, Some(Decision::Rejected));
        assert_eq!(
            mv.effects,
            vec![Effect::Feedback {
                outcome: FeedbackOutcome::FalsePositive,
                why: "genuine".into()
            }]
        );
    }

    #[test]
    fn refused_moves_name_what_the_status_allows() {
        let err = take_action(Open, "x", vec![]).unwrap_err();
        assert!(err.to_string().contains("from OPEN you can"), "{err}");
        assert!(
            close(Merged, "x")
                .unwrap_err()
                .to_string()
                .contains("it is final")
        );
        assert!(close(Closed, "x").is_err());
        assert!(merge_away(ActionTaken, "cas_x").is_err());
        assert!(merge_into(Rejected).is_err());
        assert!(merge_into(Investigating).is_ok());
    }

    #[test]
    fn review_assigns_an_unassigned_case_to_its_reviewer_only() {
        let mv = start_review(Open, "", Some("alice")).unwrap();
        assert_eq!(mv.fields.assignee.as_deref(), Some("alice"));
        assert_eq!(
            kinds(&mv),
            [CaseEventKind::StatusChanged, CaseEventKind::Assigned]
        );
        let kept = start_review(Open, "bob", Some("alice")).unwrap();
        assert_eq!(kept.fields.assignee, None);
        assert_eq!(kinds(&kept), [CaseEventKind::StatusChanged]);
        let service = start_review(Open, "", None).unwrap();
        assert_eq!(service.fields.assignee, None);
    }

    #[test]
    fn a_counter_notice_is_filed_then_answered_once() {
        let filed = CounterNotice {
            statement: "mine".into(),
            evidence_ids: vec!["evd_1".into()],
            ..CounterNotice::default()
        };
        let mv = file_counter_notice(ActionTaken, filed.clone()).unwrap();
        assert_eq!(mv.to, CounterNoticed);
        assert!(mv.fields.counter_notice_filed);
        assert_eq!(
            kinds(&mv),
            [
                CaseEventKind::CounterNoticeFiled,
                CaseEventKind::StatusChanged
            ]
        );
        assert_eq!(mv.events[0].detail, "counter-notice filed with 1 evidence");

        let reply = CounterNoticeReply {
            maintains_notice: true,
            ..CounterNoticeReply::default()
        };
        let answered = reply_to_counter_notice(CounterNoticed, filed, reply.clone()).unwrap();
        // The status stays: only the reply is written.
        assert_eq!(kinds(&answered), [CaseEventKind::CounterNoticeReplied]);
        let counter = answered.fields.counter_notice.unwrap();
        assert_eq!(counter.reply, Some(reply.clone()));
        let again = reply_to_counter_notice(CounterNoticed, counter, reply).unwrap_err();
        assert!(again.to_string().contains("already replied"), "{again}");
    }

    #[test]
    fn reinstating_undoes_the_takedown_and_upholding_changes_nothing_beyond_the_case() {
        let reinstated = resolve_counter_notice(CounterNoticed, true, "licensed").unwrap();
        assert_eq!(reinstated.to, Reinstated);
        assert_eq!(reinstated.fields.decision, Some(Decision::Overturned));
        assert_eq!(
            reinstated.effects[..2],
            [Effect::ReinstateListings, Effect::WithdrawStrikes]
        );
        assert!(reinstated.sends());
        let upheld = resolve_counter_notice(CounterNoticed, false, "no licence").unwrap();
        assert_eq!(upheld.to, Upheld);
        assert_eq!(upheld.fields.decision, None);
        assert!(upheld.effects.is_empty());
        assert_eq!(upheld.fields.resolution_note.as_deref(), Some("no licence"));
    }

    #[test]
    fn referral_outcomes_keep_the_status_and_closing_keeps_the_note() {
        let mv = record_referral_outcome(Referred, "2 arrests".into()).unwrap();
        assert_eq!(mv.to, Referred);
        assert_eq!(kinds(&mv), [CaseEventKind::ReferralOutcome]);
        let later = record_referral_outcome(Closed, "1 conviction".into()).unwrap();
        assert_eq!(later.to, Closed);
        let closed = close(Rejected, "done").unwrap();
        assert_eq!(closed.fields.resolution_note.as_deref(), Some("done"));
        assert_eq!(closed.events[0].detail, "closed: done");
    }

    #[test]
    fn referring_writes_the_package_then_the_status() {
        let grounds = Grounds {
            evidence: 3,
            ..Grounds::default()
        };
        let mv = refer(Investigating, "agy_1", grounds, 3, "ab12").unwrap();
        assert_eq!(mv.to, Referred);
        assert_eq!(
            kinds(&mv),
            [CaseEventKind::Referred, CaseEventKind::StatusChanged]
        );
        assert!(mv.events[0].detail.contains("3 evidence"));
        assert!(escalate(Open, "x").is_err());
        assert_eq!(escalate(UnderReview, "x").unwrap().to, Investigating);
    }

    #[test]
    fn a_referral_rests_on_something_that_shows_a_counterfeit() {
        use TestPurchaseConclusion::*;
        let refused = |g: Grounds| refer(Investigating, "agy_1", g, 0, "ab12").unwrap_err();
        let referred = |g: Grounds| refer(Investigating, "agy_1", g, 0, "ab12").unwrap().to;

        // Nothing at all, or only what the seller filed.
        let bare = Grounds::of([], &[], &[], false);
        assert_eq!(bare, Grounds::default());
        assert!(refused(bare).to_string().contains("nothing on the case"));
        let sellers = Grounds::of(["evd_1"], &["evd_1".to_owned()], &[], false);
        assert_eq!(sellers.evidence, 0);
        assert!(refused(sellers).to_string().contains("nothing on the case"));

        // A test purchase that found a counterfeit is enough on its own; one that found
        // the goods genuine, or could not tell, is not.
        let counterfeit = [(Counterfeit, vec!["evd_r", "evd_p"])];
        let bought = Grounds::of(["evd_r", "evd_p"], &[], &counterfeit, false);
        assert_eq!((bought.evidence, bought.counterfeit_buys), (2, 1));
        assert_eq!(referred(bought), Referred);
        let unsure = [(Inconclusive, vec!["evd_r"])];
        let inconclusive = Grounds::of(["evd_r"], &[], &unsure, false);
        assert_eq!(inconclusive.evidence, 0);
        assert!(
            refused(inconclusive)
                .to_string()
                .contains("nothing on the case")
        );

        // A genuine find stands against the referral, whatever else the case holds,
        // until another purchase finds a counterfeit.
        let genuine = [(Genuine, vec!["evd_g"])];
        let cleared = Grounds::of(["evd_g", "evd_s"], &[], &genuine, true);
        assert_eq!((cleared.evidence, cleared.genuine_buys), (1, 1));
        assert!(
            refused(cleared)
                .to_string()
                .contains("found the goods genuine")
        );
        let both = [genuine[0].clone(), counterfeit[0].clone()];
        let mixed = Grounds::of(["evd_g", "evd_r", "evd_p"], &[], &both, false);
        assert_eq!(mixed.evidence, 2);
        assert_eq!(referred(mixed), Referred);

        // Evidence added to the case, or the screening hit it was opened from, is enough.
        assert_eq!(referred(Grounds::of(["evd_s"], &[], &[], false)), Referred);
        assert_eq!(referred(Grounds::of([], &[], &[], true)), Referred);

        // The case's status is checked before its grounds.
        let early = refer(Open, "agy_1", Grounds::default(), 0, "ab12").unwrap_err();
        assert!(
            !early.to_string().contains("nothing on the case"),
            "{early}"
        );
    }

    #[test]
    fn merging_points_the_duplicate_at_its_target() {
        let mv = merge_away(UnderReview, "cas_target").unwrap();
        assert_eq!(mv.to, Merged);
        assert_eq!(mv.fields.merged_into.as_deref(), Some("cas_target"));
        assert_eq!(
            kinds(&mv),
            [CaseEventKind::Merged, CaseEventKind::StatusChanged]
        );
    }

    #[test]
    fn assignment_tags_and_evidence_follow_the_status() {
        assert_eq!(assign("cas_1", Open, "a", "a"), Ok(None));
        assert_eq!(
            assign("cas_1", Open, "a", "").unwrap().unwrap().detail,
            "unassigned"
        );
        assert_eq!(
            assign("cas_1", Closed, "a", "b").unwrap_err().to_string(),
            "case cas_1 is CLOSED: only open work can be assigned"
        );
        assert_eq!(
            retag("cas_1", Merged, "cas_2", &["x".into()], &[])
                .unwrap_err()
                .to_string(),
            "case cas_1 was merged into cas_2: tag that case instead"
        );
        assert_eq!(
            retag("cas_1", Open, "", &["x".into()], &["y".into()])
                .unwrap()
                .detail,
            "tagged x; untagged y"
        );
        assert!(accepts_evidence("cas_1", Merged).is_err());
        assert!(accepts_evidence("cas_1", Investigating).is_ok());
    }
}
