//! Notifications of case management: who may be told what. Where a webhook may point,
//! how each one is signed and how it is delivered is shared with every service, in
//! `assay_common::webhooks`.

use assay_common::webhooks::Events;
pub use assay_common::webhooks::NotificationConfig;
use assay_proto::cases::v1::EventType;

/// Who a principal is, as far as notifications go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A member: told about its own cases.
    Member,
    /// The marketplace's seller management: told what to do about sellers.
    SellerManagement,
}

impl Audience {
    /// The events this audience may subscribe to: its own records, nothing else.
    pub fn may_hear(self, event: EventType) -> bool {
        match self {
            Audience::Member => matches!(
                event,
                EventType::CaseOpened
                    | EventType::CaseDecided
                    | EventType::CounterNoticeFiled
                    | EventType::SlaBreached
                    | EventType::ReferralOutcome
            ),
            Audience::SellerManagement => event == EventType::EnforcementAction,
        }
    }
}

/// Case management's events, as the contract names them.
pub const EVENTS: Events<EventType> = Events {
    proto_name: |event| event.as_str_name(),
    from_proto_name: EventType::from_str_name,
    type_name: event_name,
};

/// The event's name in a body and the `Assay-Event` header: "case.decided".
pub fn event_name(event: EventType) -> &'static str {
    match event {
        EventType::Unspecified => "unspecified",
        EventType::CaseOpened => "case.opened",
        EventType::CaseDecided => "case.decided",
        EventType::CounterNoticeFiled => "case.counter_notice_filed",
        EventType::SlaBreached => "case.sla_breached",
        EventType::EnforcementAction => "seller.enforcement_action",
        EventType::ReferralOutcome => "case.referral_outcome",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_hear_of_their_cases_and_seller_management_of_sellers() {
        assert!(Audience::Member.may_hear(EventType::CaseDecided));
        assert!(!Audience::Member.may_hear(EventType::EnforcementAction));
        assert!(Audience::SellerManagement.may_hear(EventType::EnforcementAction));
        assert!(!Audience::SellerManagement.may_hear(EventType::CaseOpened));
        assert!(!Audience::Member.may_hear(EventType::Unspecified));
    }

    #[test]
    fn every_event_has_a_name_of_its_own() {
        let names: std::collections::BTreeSet<&str> = (1..=6)
            .map(|i| event_name(EventType::try_from(i).unwrap()))
            .collect();
        assert_eq!(names.len(), 6);
        assert_eq!(event_name(EventType::CaseDecided), "case.decided");
    }
}
