//! The consequences of repeat infringement (`[cases.enforcement]`): each number of strikes
//! that count brings a level — warn, restrict, suspend — and a change of level is an action
//! for the marketplace, up when strikes come and down when they are withdrawn.

use assay_proto::cases::v1::EnforcementLevel;
use assay_proto::common::v1::Message;
use serde::{Deserialize, Serialize};

/// The steps of the policy, in order of strikes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnforcementPolicy {
    pub steps: Vec<Step>,
    /// Suspend, with a seller suspended for its own strikes, every seller linked to it
    /// (its cluster: shared identifiers and analysts' confirmed links, less broken ones).
    pub suspend_linked: bool,
}

/// A seller's level as last recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub level: EnforcementLevel,
    /// The suspended seller it was suspended with, as a linked storefront.
    pub linked_seller_id: Option<String>,
}

/// A suspended seller in another's cluster: its id, and what links the two, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuspendedLink {
    pub seller_id: String,
    pub evidence: String,
}

/// A change to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub level: EnforcementLevel,
    pub linked_seller_id: Option<String>,
    /// Why, as a message of the catalogue ([`super::say`]).
    pub reason: Message,
}

/// From `strikes` strikes that count, `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub strikes: u32,
    pub action: Action,
}

/// What a step asks of the marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Warn,
    Restrict,
    Suspend,
}

impl Action {
    fn level(self) -> EnforcementLevel {
        match self {
            Action::Warn => EnforcementLevel::Warn,
            Action::Restrict => EnforcementLevel::Restrict,
            Action::Suspend => EnforcementLevel::Suspend,
        }
    }
}

impl Default for EnforcementPolicy {
    /// A warning at the first strike, restrictions at the second, suspension at the third
    /// (the repeat-infringer threshold).
    fn default() -> Self {
        Self {
            steps: vec![
                Step {
                    strikes: 1,
                    action: Action::Warn,
                },
                Step {
                    strikes: 2,
                    action: Action::Restrict,
                },
                Step {
                    strikes: 3,
                    action: Action::Suspend,
                },
            ],
            suspend_linked: false,
        }
    }
}

impl EnforcementPolicy {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.steps.len() > 10 {
            problems.push("cases.enforcement.steps: at most 10".to_owned());
        }
        for (i, pair) in self.steps.windows(2).enumerate() {
            if pair[1].strikes <= pair[0].strikes || pair[1].action <= pair[0].action {
                problems.push(format!(
                    "cases.enforcement.steps[{}] must need more strikes and do more than the step before",
                    i + 1
                ));
            }
        }
        if self.steps.first().is_some_and(|s| s.strikes == 0) {
            problems.push("cases.enforcement.steps[0].strikes must be at least 1".to_owned());
        }
        problems
    }

    /// The level `active` strikes bring.
    pub fn level(&self, active: u32) -> EnforcementLevel {
        self.steps
            .iter()
            .rev()
            .find(|s| active >= s.strikes)
            .map_or(EnforcementLevel::None, |s| s.action.level())
    }

    /// The change to record for a seller whose strikes that count are now `active`, and
    /// which is linked to `suspended` (when the policy suspends linked sellers): None when
    /// its level, and whether that level is a linked one, stay as `previous`.
    pub fn decide(
        &self,
        previous: &Recorded,
        active: u32,
        window_days: u64,
        suspended: Option<&SuspendedLink>,
    ) -> Option<Change> {
        let own = self.level(active);
        let link = suspended.filter(|_| self.suspend_linked && own < EnforcementLevel::Suspend);
        let level = if link.is_some() {
            EnforcementLevel::Suspend
        } else {
            own
        };
        if level == previous.level && link.is_some() == previous.linked_seller_id.is_some() {
            return None;
        }
        let name = |l: EnforcementLevel| {
            l.as_str_name()
                .trim_start_matches("ENFORCEMENT_LEVEL_")
                .to_lowercase()
        };
        let (id, mut args) = match (link, &previous.linked_seller_id) {
            (Some(link), _) if previous.level == level => (
                "enforcement-linked-still",
                vec![
                    ("linked", link.seller_id.clone()),
                    ("evidence", link.evidence.clone()),
                ],
            ),
            (Some(link), _) => (
                "enforcement-linked",
                vec![
                    ("linked", link.seller_id.clone()),
                    ("evidence", link.evidence.clone()),
                ],
            ),
            (None, Some(was)) if level == previous.level => {
                ("enforcement-was-linked", vec![("was", was.clone())])
            }
            (None, Some(was)) => ("enforcement-unlinked", vec![("was", was.clone())]),
            (None, None) if level > previous.level => ("enforcement-up", Vec::new()),
            (None, None) => ("enforcement-down", Vec::new()),
        };
        args.extend([
            ("count", active.to_string()),
            ("days", window_days.to_string()),
            ("level", name(level)),
            ("previous", name(previous.level)),
        ]);
        let reason = Message::new(
            id,
            args.into_iter()
                .map(|(name, value)| (name.into(), value.into())),
        );
        Some(Change {
            level,
            linked_seller_id: link.map(|l| l.seller_id.clone()),
            reason,
        })
    }

    /// Whether the sellers linked to one must be looked at again: it became suspended for
    /// its own strikes (`active`), or stopped being, since `previous`.
    pub fn spreads(&self, previous: &Recorded, active: u32) -> bool {
        let own_before =
            previous.level == EnforcementLevel::Suspend && previous.linked_seller_id.is_none();
        self.suspend_linked && (self.level(active) == EnforcementLevel::Suspend) != own_before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english(reason: &Message) -> String {
        super::super::say::english(reason)
    }

    fn at(level: EnforcementLevel) -> Recorded {
        Recorded {
            level,
            linked_seller_id: None,
        }
    }

    #[test]
    fn each_step_of_strikes_brings_its_level_up_and_down() {
        let policy = EnforcementPolicy::default();
        assert_eq!(policy.level(0), EnforcementLevel::None);
        assert_eq!(policy.level(1), EnforcementLevel::Warn);
        assert_eq!(policy.level(2), EnforcementLevel::Restrict);
        assert_eq!(policy.level(7), EnforcementLevel::Suspend);
        let up = policy
            .decide(&at(EnforcementLevel::Restrict), 3, 365, None)
            .unwrap();
        assert_eq!(
            (up.level, up.linked_seller_id, english(&up.reason)),
            (
                EnforcementLevel::Suspend,
                None,
                "3 strikes within 365 days: suspend".to_owned()
            )
        );
        assert_eq!(
            policy.decide(&at(EnforcementLevel::Suspend), 4, 365, None),
            None
        );
        assert_eq!(
            policy
                .decide(&at(EnforcementLevel::Suspend), 2, 365, None)
                .map(|c| english(&c.reason)),
            Some(
                "strikes withdrawn or expired, 2 strikes within 365 days stand: restrict (was suspend)"
                    .to_owned()
            )
        );
        assert_eq!(
            policy
                .decide(&at(EnforcementLevel::Warn), 0, 365, None)
                .map(|c| c.level),
            Some(EnforcementLevel::None)
        );
        // No steps: nothing is ever asked of the marketplace.
        let none = EnforcementPolicy {
            steps: Vec::new(),
            suspend_linked: false,
        };
        assert_eq!(none.decide(&at(EnforcementLevel::None), 9, 365, None), None);
    }

    #[test]
    fn a_seller_linked_to_a_suspended_one_is_suspended_with_it_where_configured() {
        let link = SuspendedLink {
            seller_id: "S-80".to_owned(),
            evidence: "payment account".to_owned(),
        };
        let off = EnforcementPolicy::default();
        assert_eq!(
            off.decide(&at(EnforcementLevel::Warn), 1, 365, Some(&link)),
            None,
            "off by default: a link alone changes nothing"
        );
        assert!(!off.spreads(&at(EnforcementLevel::Restrict), 3));

        let on = EnforcementPolicy {
            suspend_linked: true,
            ..EnforcementPolicy::default()
        };
        let suspended = on
            .decide(&at(EnforcementLevel::Warn), 1, 365, Some(&link))
            .unwrap();
        assert_eq!(
            (
                suspended.level,
                suspended.linked_seller_id.as_deref(),
                english(&suspended.reason)
            ),
            (
                EnforcementLevel::Suspend,
                Some("S-80"),
                "linked to suspended seller S-80 by payment account: suspend".to_owned()
            )
        );
        let linked = Recorded {
            level: EnforcementLevel::Suspend,
            linked_seller_id: Some("S-80".to_owned()),
        };
        // Still linked: nothing new. Its own third strike: suspended on its own account.
        assert_eq!(on.decide(&linked, 2, 365, Some(&link)), None);
        let own = on.decide(&linked, 3, 365, Some(&link)).unwrap();
        assert_eq!(
            (own.level, own.linked_seller_id),
            (EnforcementLevel::Suspend, None)
        );
        assert_eq!(
            english(&own.reason),
            "3 strikes within 365 days: suspend (was suspended as a seller linked to S-80)"
        );
        // The link gone (S-80 reinstated, or the link broken): back to its own level.
        let back = on.decide(&linked, 1, 365, None).unwrap();
        assert_eq!(back.level, EnforcementLevel::Warn);
        assert_eq!(
            english(&back.reason),
            "no longer linked to a suspended seller (was S-80), 1 strike within 365 days stand: warn (was suspend)"
        );

        // Only a seller's own suspension, coming or going, spreads to its cluster.
        assert!(on.spreads(&at(EnforcementLevel::Restrict), 3));
        assert!(on.spreads(&at(EnforcementLevel::Suspend), 2));
        assert!(!on.spreads(&at(EnforcementLevel::Suspend), 3));
        assert!(!on.spreads(&linked, 1));
        assert!(on.spreads(&linked, 3));
    }

    #[test]
    fn steps_must_climb() {
        assert!(EnforcementPolicy::default().problems().is_empty());
        let bad = EnforcementPolicy {
            suspend_linked: false,
            steps: vec![
                Step {
                    strikes: 0,
                    action: Action::Restrict,
                },
                Step {
                    strikes: 2,
                    action: Action::Warn,
                },
            ],
        };
        let problems = bad.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
    }
}
