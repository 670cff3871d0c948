//! Who may call each RPC of law enforcement. The guard applies this table before a request
//! is read; handlers then keep agencies to their own requests and referrals, answering
//! another agency's exactly like a missing one, and audit every refusal.

use assay_common::auth::Role::{Admin, Auditor, Legal};
use assay_common::policy::{Policy, Staff, Tenant, rule};

const ADMIN: Staff = Staff::Roles(&[Admin]);
const LEGAL: Staff = Staff::Roles(&[Legal]);
/// Staff who may read requests and watch their deadlines.
const OVERSIGHT: Staff = Staff::Roles(&[Legal, Auditor]);
const AUDITOR: Staff = Staff::Roles(&[Auditor]);
const STAFF: Staff = Staff::Anyone;
const NO_STAFF: Staff = Staff::Nobody;
const AGENCY: Tenant = Tenant::Agency;
const NO_TENANT: Tenant = Tenant::Nobody;
const DOCUMENT: usize = assay_common::documents::MAX_REQUEST;

#[rustfmt::skip]
pub static POLICY: Policy = Policy {
    service: assay_proto::lawenforcement::v1::law_enforcement_service_server::SERVICE_NAME,
    rules: &[
        //    method                    staff      tenant     services
        rule("CreateAgency",            LEGAL,     NO_TENANT, &[]),
        rule("GetAgency",               STAFF,     AGENCY,    &[]),
        rule("ListAgencies",            STAFF,     NO_TENANT, &[]),
        rule("UpdateAgency",            LEGAL,     NO_TENANT, &[]),
        rule("ActivateAgency",          LEGAL,     NO_TENANT, &[]),
        rule("SuspendAgency",           LEGAL,     NO_TENANT, &[]),
        rule("SubmitRequest",           LEGAL,     AGENCY,    &[]),
        rule("GetRequest",              OVERSIGHT, AGENCY,    &[]),
        // The signed legal process: the agency sends it; legal staff may file it too.
        rule("AttachDocument",          LEGAL,     AGENCY,    &[]).max_request(DOCUMENT),
        rule("ListDocuments",           OVERSIGHT, AGENCY,    &[]),
        rule("GetDocument",             OVERSIGHT, AGENCY,    &[]),
        rule("PurgeDocuments",          ADMIN,     NO_TENANT, &[]),
        rule("ListRequests",            OVERSIGHT, AGENCY,    &[]),
        rule("StartVerification",       LEGAL,     NO_TENANT, &[]),
        rule("CompleteVerification",    LEGAL,     NO_TENANT, &[]),
        rule("ConfirmEmergency",        LEGAL,     NO_TENANT, &[]),
        rule("ReviewRequest",           LEGAL,     NO_TENANT, &[]),
        rule("GatherRequest",           LEGAL,     NO_TENANT, &[]),
        rule("DiscloseRequest",         LEGAL,     NO_TENANT, &[]),
        rule("DownloadPackage",         LEGAL,     AGENCY,    &[]),
        rule("CloseRequest",            LEGAL,     NO_TENANT, &[]),
        rule("ExtendNonDisclosure",     LEGAL,     AGENCY,    &[]),
        rule("ReportRequestOutcome",    NO_STAFF,  AGENCY,    &[]),
        rule("ListDeadlines",           OVERSIGHT, NO_TENANT, &[]),
        rule("ListHolds",               OVERSIGHT, NO_TENANT, &[]),
        rule("ExtendHold",              LEGAL,     NO_TENANT, &[]),
        // Screening and cases ask before they purge anything.
        rule("CheckHolds",              OVERSIGHT, NO_TENANT, &["screening", "cases"]),
        // Cases refers its cases.
        rule("ReceiveReferral",         NO_STAFF,  NO_TENANT, &["cases"]),
        rule("GetReferral",             OVERSIGHT, AGENCY,    &[]),
        rule("ListReferrals",           OVERSIGHT, AGENCY,    &[]),
        rule("AcknowledgeReferral",     NO_STAFF,  AGENCY,    &[]),
        rule("ReportReferralOutcome",   NO_STAFF,  AGENCY,    &[]),
        // Cases puts the programme's report together.
        rule("GetTransparencyReport",   STAFF,     NO_TENANT, &["cases"]),
        rule("ListAuditEntries",        AUDITOR,   NO_TENANT, &[]),
        rule("VerifyAuditLog",          AUDITOR,   NO_TENANT, &[]),
        // Agencies hear of their own requests and referrals.
        rule("CreateSubscription",      NO_STAFF,  AGENCY,    &[]),
        rule("ListSubscriptions",       NO_STAFF,  AGENCY,    &[]),
        rule("DeleteSubscription",      NO_STAFF,  AGENCY,    &[]),
        rule("ListDeliveries",          NO_STAFF,  AGENCY,    &[]),
        rule("RedeliverNotification",   NO_STAFF,  AGENCY,    &[]),
    ],
};
