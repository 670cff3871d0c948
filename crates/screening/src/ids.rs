//! Screening's typed ids.

use assay_common::define_id;

define_id!(
    /// A stored hit.
    HitId,
    "hit"
);
define_id!(
    /// A rule.
    RuleId,
    "rul"
);
