//! What an agency is told: its own requests and referrals, and nothing else. Where a
//! webhook may point, how each one is signed and how it is delivered is shared with every
//! service, in `assay_common::webhooks`.

use assay_common::webhooks::Events;
use assay_proto::lawenforcement::v1::EventType;

/// The law-enforcement service's events, as the contract names them.
pub const EVENTS: Events<EventType> = Events {
    proto_name: |event| event.as_str_name(),
    from_proto_name: EventType::from_str_name,
    type_name: event_name,
};

/// The event's name in a body and the `Assay-Event` header: "request.package_ready".
pub fn event_name(event: EventType) -> &'static str {
    match event {
        EventType::Unspecified => "unspecified",
        EventType::PackageReady => "request.package_ready",
        EventType::HoldExpiring => "hold.expiring",
        EventType::ReferralReceived => "referral.received",
    }
}

/// Whether an agency may subscribe to `event`: every event is about an agency's own
/// records, so all but the unset one.
pub fn agency_may_hear(event: EventType) -> bool {
    event != EventType::Unspecified
}

/// The owner an agency's subscriptions are kept under.
pub fn agency_owner(agency_id: &str) -> String {
    format!("agency:{agency_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_has_a_name_of_its_own_and_agencies_hear_them_all() {
        let events: Vec<EventType> = (1..=3).map(|i| EventType::try_from(i).unwrap()).collect();
        let names: std::collections::BTreeSet<&str> =
            events.iter().map(|e| event_name(*e)).collect();
        assert_eq!(names.len(), events.len());
        assert!(events.iter().all(|e| agency_may_hear(*e)));
        assert!(!agency_may_hear(EventType::Unspecified));
        assert_eq!(
            (EVENTS.from_proto_name)("EVENT_TYPE_HOLD_EXPIRING"),
            Some(EventType::HoldExpiring)
        );
    }
}
