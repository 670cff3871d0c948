//! The registry's typed ids.

use assay_common::define_id;

define_id!(
    /// An alliance member.
    MemberId,
    "mbr"
);
define_id!(
    /// A brand.
    BrandId,
    "brd"
);
define_id!(
    /// An IP right.
    IpRightId,
    "ipr"
);
define_id!(
    /// A delegation.
    DelegationId,
    "dlg"
);
