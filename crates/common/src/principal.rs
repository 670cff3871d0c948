//! Who a caller is: a [`Principal`] (staff with roles, a member, an agency, or an internal
//! service), what it may own ([`Owner`]), and how handlers keep tenants to their own
//! records ([`Principal::scope`]). It depends on nothing but errors, so that every module
//! that names callers can use it; [`crate::auth`] turns credentials into principals.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

/// A staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// Screening and case work.
    Analyst,
    /// Legal review: verifying rights, reviewing agency requests, disclosures.
    Legal,
    /// Read-only access, e.g. for internal audit.
    Auditor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Legal => "legal",
            Role::Auditor => "auditor",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "admin" => Ok(Role::Admin),
            "analyst" => Ok(Role::Analyst),
            "legal" => Ok(Role::Legal),
            "auditor" => Ok(Role::Auditor),
            other => Err(format!(
                "unknown role {other:?} (admin, analyst, legal, auditor)"
            )),
        }
    }
}

/// The authenticated caller of an RPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Marketplace staff.
    Staff { subject: String, roles: Vec<Role> },
    /// Someone acting for an alliance member.
    Member { subject: String, member_id: String },
    /// Someone acting for a law-enforcement agency.
    Agency { subject: String, agency_id: String },
    /// One of the marketplace's (or Assay's own) internal services.
    Service { name: String },
}

impl Principal {
    /// A short, stable name of the caller for timelines and audit logs, e.g. `staff:alice`.
    pub fn actor(&self) -> String {
        match self {
            Principal::Staff { subject, .. } => format!("staff:{subject}"),
            Principal::Member { subject, member_id } if subject == member_id => {
                format!("member:{member_id}")
            }
            Principal::Member { subject, member_id } => format!("member:{member_id}:{subject}"),
            Principal::Agency { subject, agency_id } if subject == agency_id => {
                format!("agency:{agency_id}")
            }
            Principal::Agency { subject, agency_id } => format!("agency:{agency_id}:{subject}"),
            Principal::Service { name } => format!("service:{name}"),
        }
    }

    /// Staff holding one of `roles` (admins hold every role).
    pub fn has_role(&self, roles: &[Role]) -> bool {
        match self {
            Principal::Staff { roles: held, .. } => {
                held.contains(&Role::Admin) || held.iter().any(|r| roles.contains(r))
            }
            _ => false,
        }
    }

    pub fn member_id(&self) -> Option<&str> {
        match self {
            Principal::Member { member_id, .. } => Some(member_id),
            _ => None,
        }
    }

    pub fn agency_id(&self) -> Option<&str> {
        match self {
            Principal::Agency { agency_id, .. } => Some(agency_id),
            _ => None,
        }
    }

    /// Tenants see only their own records: a member or an agency that `owner` does not
    /// name is told that `kind id` does not exist, exactly as for a missing record. Staff and
    /// services got here through the policy table, which already named them.
    pub fn scope(&self, owner: Owner<'_>, kind: &'static str, id: &str) -> ApiResult<()> {
        let owns = match (self, owner) {
            (Principal::Staff { .. } | Principal::Service { .. }, _) => true,
            (Principal::Member { member_id, .. }, Owner::Members(ids)) => {
                ids.contains(&member_id.as_str())
            }
            (Principal::Agency { agency_id, .. }, Owner::Agency(id)) => agency_id == id,
            _ => false,
        };
        if owns {
            Ok(())
        } else {
            Err(ApiError::not_found(kind, id))
        }
    }
}

/// Whom a record belongs to, for [`Principal::scope`].
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    /// These members: the owner, and agents acting for it.
    Members(&'a [&'a str]),
    Agency(&'a str),
    /// No tenant: only staff and services see it.
    Nobody,
}

/// The textual form used in configuration and on the command line:
/// `staff:<subject>:<role>[,<role>...]`, `member:<member id>[:<subject>]`,
/// `agency:<agency id>[:<subject>]`, `service:<name>`.
impl FromStr for Principal {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.splitn(3, ':');
        let kind = parts.next().unwrap_or_default();
        let first = parts
            .next()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| format!("{s:?}: expected <kind>:<id>[:...]"))?
            .to_owned();
        let rest = parts.next();
        match kind {
            "staff" => {
                let roles = rest
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| format!("{s:?}: staff needs roles, e.g. staff:alice:admin"))?
                    .split(',')
                    .map(Role::from_str)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Principal::Staff {
                    subject: first,
                    roles,
                })
            }
            "member" => Ok(Principal::Member {
                subject: rest.map_or_else(|| first.clone(), str::to_owned),
                member_id: first,
            }),
            "agency" => Ok(Principal::Agency {
                subject: rest.map_or_else(|| first.clone(), str::to_owned),
                agency_id: first,
            }),
            "service" if rest.is_none() => Ok(Principal::Service { name: first }),
            _ => Err(format!(
                "{s:?}: expected staff:<subject>:<roles>, member:<id>, agency:<id> or service:<name>"
            )),
        }
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Principal::Staff { subject, roles } => {
                let roles: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
                write!(f, "staff:{subject}:{}", roles.join(","))
            }
            Principal::Member { subject, member_id } => write!(f, "member:{member_id}:{subject}"),
            Principal::Agency { subject, agency_id } => write!(f, "agency:{agency_id}:{subject}"),
            Principal::Service { name } => write!(f, "service:{name}"),
        }
    }
}

/// The principal of a request, put there by the authentication layer.
pub fn principal<T>(request: &tonic::Request<T>) -> ApiResult<Principal> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| ApiError::Unauthenticated("no credentials".to_owned()))
}
