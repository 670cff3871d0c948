//! sea-orm entities of the registry's tables.

pub mod brand;
pub mod catalogue_entry;
pub mod catalogue_state;
pub mod delegation;
pub mod delegation_brand;
pub mod ip_right;
pub mod member;
pub mod status_change;
