//! The consequences of repeat infringement (`[cases.enforcement]`): each number of strikes
//! that count brings a level — warn, restrict, suspend — and a change of level is an action
//! for the marketplace, up when strikes come and down when they are withdrawn.

use assay_proto::cases::v1::EnforcementLevel;
use serde::{Deserialize, Serialize};

/// The steps of the policy, in order of strikes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnforcementPolicy {
    pub steps: Vec<Step>,
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

    /// The action to record when a seller's strikes that count became `active`, if its level
    /// changes from `previous`; the reason says why in a sentence.
    pub fn decide(
        &self,
        previous: EnforcementLevel,
        active: u32,
        window_days: u64,
    ) -> Option<(EnforcementLevel, String)> {
        let level = self.level(active);
        if level == previous {
            return None;
        }
        let name = |l: EnforcementLevel| {
            l.as_str_name()
                .trim_start_matches("ENFORCEMENT_LEVEL_")
                .to_lowercase()
        };
        let strikes = format!(
            "{active} strike{} within {window_days} days",
            if active == 1 { "" } else { "s" }
        );
        let reason = if level > previous {
            format!("{strikes}: {}", name(level))
        } else {
            format!(
                "strikes withdrawn or expired, {strikes} stand: {} (was {})",
                name(level),
                name(previous)
            )
        };
        Some((level, reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_of_strikes_brings_its_level_up_and_down() {
        let policy = EnforcementPolicy::default();
        assert_eq!(policy.level(0), EnforcementLevel::None);
        assert_eq!(policy.level(1), EnforcementLevel::Warn);
        assert_eq!(policy.level(2), EnforcementLevel::Restrict);
        assert_eq!(policy.level(7), EnforcementLevel::Suspend);
        assert_eq!(
            policy.decide(EnforcementLevel::Restrict, 3, 365),
            Some((
                EnforcementLevel::Suspend,
                "3 strikes within 365 days: suspend".to_owned()
            ))
        );
        assert_eq!(policy.decide(EnforcementLevel::Suspend, 4, 365), None);
        assert_eq!(
            policy.decide(EnforcementLevel::Suspend, 2, 365),
            Some((
                EnforcementLevel::Restrict,
                "strikes withdrawn or expired, 2 strikes within 365 days stand: restrict (was suspend)".to_owned()
            ))
        );
        assert_eq!(
            policy
                .decide(EnforcementLevel::Warn, 0, 365)
                .map(|(l, _)| l),
            Some(EnforcementLevel::None)
        );
        // No steps: nothing is ever asked of the marketplace.
        let none = EnforcementPolicy { steps: Vec::new() };
        assert_eq!(none.decide(EnforcementLevel::None, 9, 365), None);
    }

    #[test]
    fn steps_must_climb() {
        assert!(EnforcementPolicy::default().problems().is_empty());
        let bad = EnforcementPolicy {
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
