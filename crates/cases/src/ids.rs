//! The typed ids this service issues (defined, with every other kind, in
//! `assay_common::ids`).

pub use assay_common::ids::{
    CaseId, EvidenceId, NotificationId, ReferralId, SubscriptionId, TestPurchaseId,
};
