//! The registry's domain: validation, state machines and derived facts, without I/O.

pub mod brand;
pub mod catalogue;
pub mod figures;
pub mod member;
pub mod retention;
pub mod right;
