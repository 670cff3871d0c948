//! Listing screening: the engine that finds counterfeit listings and explains why, and the
//! service around it (rules, hits, feedback, the catalogue feed).

pub mod engine;
pub mod listing;
#[doc(hidden)]
pub mod synthetic;
