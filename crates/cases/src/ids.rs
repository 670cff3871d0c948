//! Case management's typed ids.

use assay_common::define_id;

define_id!(
    /// A case.
    CaseId,
    "cas"
);
define_id!(
    /// A piece of evidence.
    EvidenceId,
    "evd"
);
define_id!(
    /// A referral to law enforcement.
    ReferralId,
    "ref"
);
