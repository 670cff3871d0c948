//! Case management's tables.

pub mod case;
pub mod case_brand;
pub mod case_event;
pub mod case_listing;
pub mod case_tag;
pub mod custody_event;
pub mod enforcement_action;
pub mod evidence;
pub mod referral;
pub mod referral_outcome;
pub mod self_service_change;
pub mod seller_identifier;
pub mod seller_link;
pub mod strike;
pub mod test_purchase;

// The notification tables, alike in every service that keeps them.
pub use assay_common::webhooks::entity::{delivery, notification, subscription};
