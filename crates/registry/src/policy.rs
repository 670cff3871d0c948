//! Who may call each RPC of the registry. The guard applies this table before a request is
//! read; handlers then keep members to their own records (and those they act for).

use assay_common::auth::Role::{Admin, Legal};
use assay_common::policy::{Policy, Staff, Tenant, rule};

const ADMIN: Staff = Staff::Roles(&[Admin]);
const LEGAL: Staff = Staff::Roles(&[Legal]);
const STAFF: Staff = Staff::Anyone;
const MEMBER: Tenant = Tenant::Member;
const NO_TENANT: Tenant = Tenant::Nobody;
const DOCUMENT: usize = assay_common::documents::MAX_REQUEST;

#[rustfmt::skip]
pub static POLICY: Policy = Policy {
    service: assay_proto::registry::v1::registry_service_server::SERVICE_NAME,
    rules: &[
        //    method                 staff   tenant     services
        rule("CreateMember",         ADMIN,  NO_TENANT, &[]),
        // Screening and cases check that members named in credentials are active.
        rule("GetMember",            STAFF,  MEMBER,    &["screening", "cases"]),
        rule("ListMembers",          STAFF,  MEMBER,    &[]),
        rule("UpdateMember",         ADMIN,  MEMBER,    &[]),
        rule("ActivateMember",       ADMIN,  NO_TENANT, &[]),
        rule("SuspendMember",        ADMIN,  NO_TENANT, &[]),
        rule("ExitMember",           ADMIN,  NO_TENANT, &[]),
        rule("CreateBrand",          ADMIN,  MEMBER,    &[]),
        rule("GetBrand",             STAFF,  MEMBER,    &[]),
        rule("ListBrands",           STAFF,  MEMBER,    &[]),
        rule("UpdateBrand",          ADMIN,  MEMBER,    &[]),
        rule("DeleteBrand",          ADMIN,  MEMBER,    &[]),
        rule("CreateIpRight",        ADMIN,  MEMBER,    &[]),
        // Cases checks the right a takedown notice cites.
        rule("GetIpRight",           STAFF,  MEMBER,    &["cases"]),
        rule("ListIpRights",         STAFF,  MEMBER,    &[]),
        rule("UpdateIpRight",        ADMIN,  MEMBER,    &[]),
        rule("VerifyIpRight",        LEGAL,  NO_TENANT, &[]),
        rule("RejectIpRight",        LEGAL,  NO_TENANT, &[]),
        rule("CreateDelegation",     ADMIN,  MEMBER,    &[]),
        rule("GetDelegation",        STAFF,  MEMBER,    &[]),
        rule("ListDelegations",      STAFF,  MEMBER,    &[]),
        rule("DeleteDelegation",     ADMIN,  MEMBER,    &[]),
        // A right's certificate, a delegation's letter: its member, or staff who verify.
        rule("AttachDocument",       Staff::Roles(&[Admin, Legal]), MEMBER, &[]).max_request(DOCUMENT),
        rule("ListDocuments",        STAFF,  MEMBER,    &[]),
        rule("GetDocument",          STAFF,  MEMBER,    &[]),
        rule("PurgeDocuments",       ADMIN,  NO_TENANT, &[]),
        // Every brand's authorised sellers, prices, logos and agents: screening's input,
        // not a tenant's reading.
        rule("GetCatalogue",         STAFF,  NO_TENANT, &["screening", "cases"]),
        rule("WatchCatalogue",       STAFF,  NO_TENANT, &["screening", "cases"]),
        // Cases puts the programme's report together.
        rule("GetAllianceFigures",   STAFF,  MEMBER,    &["cases"]),
    ],
};
