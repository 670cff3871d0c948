//! Who may call each RPC of cases. The guard applies this table before a request is read;
//! handlers then keep members to the cases of brands they act for.

use assay_common::auth::Role::{Admin, Analyst, Auditor, Legal};
use assay_common::policy::{Policy, Staff, Tenant, rule};

const ADMIN: Staff = Staff::Roles(&[Admin]);
const ANALYST: Staff = Staff::Roles(&[Analyst]);
const LEGAL: Staff = Staff::Roles(&[Legal]);
const DECIDERS: Staff = Staff::Roles(&[Legal, Analyst]);
const READERS: Staff = Staff::Roles(&[Analyst, Legal, Auditor]);
const STAFF: Staff = Staff::Anyone;
const MEMBER: Tenant = Tenant::Member;
const NO_TENANT: Tenant = Tenant::Nobody;

/// One item of evidence sent inline (at most 4 MiB) with its description.
const EVIDENCE: usize = 4 * 1024 * 1024 + 64 * 1024;
/// All the evidence of one counter-notice, sent inline.
const EVIDENCE_TOTAL: usize = 8 * 1024 * 1024;
/// Screening's alerts sent together: the relay keeps a call's alerts under 1 MiB (a
/// larger alert goes alone: a listing is at most 3 MiB, its images already hashes).
const ALERTS: usize = 4 * 1024 * 1024;

#[rustfmt::skip]
pub static POLICY: Policy = Policy {
    service: assay_proto::cases::v1::cases_service_server::SERVICE_NAME,
    rules: &[
        //    method                     staff     tenant     services
        rule("SubmitNotice",             DECIDERS, MEMBER,    &[]),
        // Trusted self-service removal is the rights holder's own; staff take action.
        rule("RemoveListings",           Staff::Nobody, MEMBER, &[]),
        rule("ReverseRemoval",           DECIDERS, NO_TENANT, &[]),
        rule("CreateCase",               ANALYST,  NO_TENANT, &[]),
        // Screening's alerts, through its outbox.
        rule("ReceiveHitAlert",          Staff::Nobody, NO_TENANT, &["screening"]),
        rule("ReceiveHitAlerts",         Staff::Nobody, NO_TENANT, &["screening"]).max_request(ALERTS),
        rule("GetCase",                  READERS,  MEMBER,    &[]),
        // Law enforcement gathers the cases of a request's targets.
        rule("ListCases",                READERS,  MEMBER,    &["lawenforcement"]),
        rule("ListCaseEvents",           READERS,  MEMBER,    &[]),
        rule("StartReview",              ANALYST,  NO_TENANT, &[]),
        rule("TakeAction",               ANALYST,  NO_TENANT, &[]),
        rule("RejectCase",               ANALYST,  NO_TENANT, &[]),
        // Sellers appeal through the marketplace's seller portal.
        rule("FileCounterNotice",        ANALYST,  NO_TENANT, &["seller-portal"]).max_request(EVIDENCE_TOTAL),
        rule("ReplyToCounterNotice",     DECIDERS, MEMBER,    &[]),
        rule("ResolveCounterNotice",     DECIDERS, NO_TENANT, &[]),
        rule("EscalateCase",             ANALYST,  NO_TENANT, &[]),
        rule("ReferCase",                LEGAL,    NO_TENANT, &[]),
        // Agencies' outcomes of referrals, relayed by law enforcement.
        rule("RecordReferralOutcome",    DECIDERS, NO_TENANT, &["lawenforcement"]),
        rule("CloseCase",                ANALYST,  NO_TENANT, &[]),
        rule("AssignCase",               ANALYST,  NO_TENANT, &[]),
        rule("BulkUpdateCases",          ANALYST,  NO_TENANT, &[]),
        rule("MergeCases",               ANALYST,  NO_TENANT, &[]),
        rule("AddEvidence",              DECIDERS, MEMBER,    &[]).max_request(EVIDENCE),
        rule("GetEvidence",              READERS,  MEMBER,    &[]),
        rule("ListEvidence",             READERS,  MEMBER,    &[]),
        rule("ListCustodyEvents",        READERS,  NO_TENANT, &[]),
        // Rights holders often buy and examine the item themselves.
        rule("RecordTestPurchase",       DECIDERS, MEMBER,    &[]).max_request(EVIDENCE_TOTAL),
        rule("ListTestPurchases",        READERS,  MEMBER,    &[]),
        rule("GetSeller",                READERS,  NO_TENANT, &["lawenforcement"]),
        // The marketplace's seller management reports sellers' payment accounts,
        // addresses and the like.
        rule("RecordSellerIdentifiers",  ANALYST,  NO_TENANT, &["seller-management"]),
        rule("GetSellerCluster",         DECIDERS, NO_TENANT, &["lawenforcement"]),
        rule("DecideSellerLink",         ANALYST,  NO_TENANT, &[]),
        // The marketplace's seller management carries out warnings and suspensions.
        rule("ListEnforcementActions",   READERS,  NO_TENANT, &["seller-management"]),
        rule("GetNoticeAccuracy",        STAFF,    MEMBER,    &[]),
        rule("ListSelfServiceChanges",   STAFF,    MEMBER,    &[]),
        rule("GetEnforcementFigures",    STAFF,    NO_TENANT, &[]),
        rule("GetProgrammeReport",       STAFF,    NO_TENANT, &[]),
        rule("PurgeCases",               ADMIN,    NO_TENANT, &[]),
        // Members hear of their cases; seller management of what to do about sellers.
        rule("CreateSubscription",       Staff::Nobody, MEMBER, &["seller-management"]),
        rule("ListSubscriptions",        Staff::Nobody, MEMBER, &["seller-management"]),
        rule("DeleteSubscription",       Staff::Nobody, MEMBER, &["seller-management"]),
        rule("ListDeliveries",           Staff::Nobody, MEMBER, &["seller-management"]),
        rule("RedeliverNotification",    Staff::Nobody, MEMBER, &["seller-management"]),
    ],
};
