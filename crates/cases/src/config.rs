//! Case management's configuration (`[cases]`).

use serde::{Deserialize, Serialize};

use crate::domain;

/// Case management's configuration (`[cases]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Its database; unset: `<data_dir>/cases.db`.
    pub database_url: Option<String>,
    /// The registry (IP rights, the catalogue), e.g. `http://registry:50051`. Unset: this
    /// process, which must then run the registry too.
    pub registry_endpoint: Option<String>,
    /// Screening, which receives feedback on its hits. Unset: this process if it runs
    /// screening; otherwise feedback waits in the outbox until one is configured.
    pub screening_endpoint: Option<String>,
    /// The law-enforcement service, which receives referrals and is asked about
    /// preservation holds before cases are purged. Unset: this process if it runs it;
    /// otherwise referrals wait in the outbox and nothing is purged.
    pub lawenforcement_endpoint: Option<String>,
    /// How long closed cases are kept; older ones are purged unless a preservation hold
    /// covers one of their sellers or listings.
    #[serde(with = "humantime_serde")]
    pub closed_case_retention: std::time::Duration,
    pub sla: domain::Sla,
    pub repeat_infringer: domain::RepeatInfringerPolicy,
    /// What the marketplace is asked to do about sellers as their strikes mount.
    pub enforcement: domain::enforcement::EnforcementPolicy,
    /// Where webhooks may go.
    pub notifications: domain::notify::NotificationConfig,
    pub trusted_notices: domain::TrustPolicy,
    /// Who may remove listings itself, at once.
    pub self_service_removal: domain::SelfServicePolicy,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            registry_endpoint: None,
            screening_endpoint: None,
            lawenforcement_endpoint: None,
            closed_case_retention: std::time::Duration::from_secs(5 * 365 * 24 * 3600),
            sla: domain::Sla::default(),
            repeat_infringer: domain::RepeatInfringerPolicy::default(),
            enforcement: domain::enforcement::EnforcementPolicy::default(),
            notifications: domain::notify::NotificationConfig::default(),
            trusted_notices: domain::TrustPolicy::default(),
            self_service_removal: domain::SelfServicePolicy::default(),
        }
    }
}

impl Config {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = self.sla.problems();
        problems.extend(self.enforcement.problems());
        if self.closed_case_retention.is_zero() {
            problems.push("cases.closed_case_retention must be above zero".to_owned());
        }
        if self.repeat_infringer.strikes == 0 {
            problems.push("cases.repeat_infringer.strikes must be at least 1".to_owned());
        }
        if self.repeat_infringer.window.is_zero() {
            problems.push("cases.repeat_infringer.window must be above zero".to_owned());
        }
        if !(0.0..=1.0).contains(&self.trusted_notices.min_accuracy) {
            problems.push("cases.trusted_notices.min_accuracy must be between 0 and 1".to_owned());
        }
        if !(0.0..=1.0).contains(&self.self_service_removal.min_accuracy) {
            problems
                .push("cases.self_service_removal.min_accuracy must be between 0 and 1".to_owned());
        }
        problems
    }
}
