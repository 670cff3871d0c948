//! The law-enforcement service's configuration (`[lawenforcement]`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain;

/// The law-enforcement service's configuration (`[lawenforcement]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Its database; unset: `<data_dir>/lawenforcement.db`.
    pub database_url: Option<String>,
    /// Screening, asked for screened listings. Unset: this process if it runs screening.
    pub screening_endpoint: Option<String>,
    /// Case management, asked for cases and sellers, and told of referral outcomes. Unset:
    /// this process if it runs cases.
    pub cases_endpoint: Option<String>,
    /// How long a disclosed package can be downloaded.
    #[serde(with = "humantime_serde")]
    pub package_ttl: Duration,
    /// How often deadlines are checked for escalation.
    #[serde(with = "humantime_serde")]
    pub deadline_check_interval: Duration,
    /// The key (at least 32 bytes) that chains the audit log; keep it out of the database
    /// and its backups. Unset with `auth.generate_secrets`: `<data_dir>/audit-key`,
    /// created on first start.
    pub audit_key_file: Option<std::path::PathBuf>,
    /// How long before a preservation hold ends its agency is told (once per end).
    #[serde(with = "humantime_serde")]
    pub hold_warning: Duration,
    /// Where agencies' webhooks may go, and the SMTP relay for their e-mail.
    pub notifications: assay_common::webhooks::NotificationConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: None,
            screening_endpoint: None,
            cases_endpoint: None,
            package_ttl: domain::PACKAGE_TTL,
            deadline_check_interval: Duration::from_secs(60),
            audit_key_file: None,
            hold_warning: Duration::from_secs(7 * 86_400),
            notifications: assay_common::webhooks::NotificationConfig::default(),
        }
    }
}

impl Config {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.package_ttl.is_zero() {
            problems.push("lawenforcement.package_ttl must be above zero".to_owned());
        }
        if self.deadline_check_interval.is_zero() {
            problems.push("lawenforcement.deadline_check_interval must be above zero".to_owned());
        }
        problems
    }
}
