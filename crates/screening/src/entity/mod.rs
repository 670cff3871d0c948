//! sea-orm entities of screening's tables.

pub mod calibration;
pub mod hit;
pub mod hit_brand;
pub mod rule;
pub mod rule_revision;
pub mod rule_state;
pub mod seller_standing;
