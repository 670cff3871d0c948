//! Every kind of id in Assay, defined once: each service issues its own, and checks the
//! ids other services issued when a caller sends one (a case names a brand, a referral an
//! agency) without importing that service.

use crate::define_id;

// Issued by registry.
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

// Issued by screening.
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

// Issued by cases.
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
define_id!(
    /// A document kept with a record (any service that keeps documents issues them).
    DocumentId,
    "doc"
);
define_id!(
    /// A test purchase recorded on a case.
    TestPurchaseId,
    "tpu"
);
define_id!(
    /// A webhook subscription.
    SubscriptionId,
    "sub"
);
define_id!(
    /// A notification made for a subscription.
    NotificationId,
    "ntf"
);

// Issued by lawenforcement.
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
