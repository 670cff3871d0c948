//! The law-enforcement service's typed ids.

use assay_common::define_id;

define_id!(
    /// An agency.
    AgencyId,
    "agy"
);
define_id!(
    /// A request for information.
    RequestId,
    "lrq"
);
define_id!(
    /// A preservation hold.
    HoldId,
    "hld"
);
