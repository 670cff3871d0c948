//! The law-enforcement service's tables. Requests, agencies and referrals keep their whole
//! record as an encoded message (`body`) beside the columns they are found by.

pub mod agency;
pub mod audit_entry;
pub mod audit_head;
pub mod hold;
pub mod hold_target;
pub mod package_item;
pub mod referral;
pub mod request;
