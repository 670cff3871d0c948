//! Who may call each RPC of screening. The guard applies this table before a request is
//! read; handlers then keep members to the rules and hits of brands they act for.

use assay_common::auth::Role::{Admin, Analyst, Auditor, Legal};
use assay_common::policy::{Policy, Staff, Tenant, rule};

const ADMIN: Staff = Staff::Roles(&[Admin]);
const ANALYST: Staff = Staff::Roles(&[Analyst]);
const READERS: Staff = Staff::Roles(&[Analyst, Auditor]);
const HIT_READERS: Staff = Staff::Roles(&[Analyst, Auditor, Legal]);
const STAFF: Staff = Staff::Anyone;
const MEMBER: Tenant = Tenant::Member;
const NO_TENANT: Tenant = Tenant::Nobody;
/// The marketplace's listing pipeline, which sends every new or changed listing.
const PIPELINE: &[&str] = &["listing-pipeline"];
/// A listing: its text and up to ten images of 256 KiB.
const LISTING: usize = 3 * 1024 * 1024;

#[rustfmt::skip]
pub static POLICY: Policy = Policy {
    service: assay_proto::screening::v1::screening_service_server::SERVICE_NAME,
    rules: &[
        //    method                 staff        tenant     services
        rule("ScreenListing",        ANALYST,     NO_TENANT, PIPELINE).max_request(LISTING),
        rule("ScreenListings",       ANALYST,     NO_TENANT, PIPELINE).max_request(LISTING),
        rule("GetEngineStatus",      STAFF,       NO_TENANT, PIPELINE),
        rule("CreateRule",           ANALYST,     MEMBER,    &[]),
        rule("GetRule",              READERS,     MEMBER,    &[]),
        rule("ListRules",            READERS,     MEMBER,    &[]),
        rule("UpdateRule",           ANALYST,     MEMBER,    &[]),
        rule("DeleteRule",           ANALYST,     MEMBER,    &[]),
        rule("ListRuleRevisions",    READERS,     MEMBER,    &[]),
        rule("GetHit",               HIT_READERS, MEMBER,    &[]),
        // Law enforcement gathers the hits of a request's targets.
        rule("ListHits",             HIT_READERS, MEMBER,    &["lawenforcement"]),
        // Cases reports what analysts decided about the hit behind a case.
        rule("RecordHitFeedback",    ANALYST,     MEMBER,    &["cases"]),
        // Case management tells screening what it knows of sellers.
        rule("RecordSellerStandings", Staff::Nobody, NO_TENANT, &["cases"]),
        rule("GetSellerStanding",    READERS,     NO_TENANT, &[]),
        rule("GetPrecisionReport",   READERS,     NO_TENANT, &[]),
        rule("PurgeHits",            ADMIN,       NO_TENANT, &[]),
        // Calibration moves the weights for every brand: staff only.
        rule("CreateCalibration",    ANALYST,     NO_TENANT, &[]),
        rule("ListCalibrations",     READERS,     NO_TENANT, &[]),
        rule("ActivateCalibration",  ANALYST,     NO_TENANT, &[]),
    ],
};
