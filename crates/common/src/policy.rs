//! The authorisation policy: for every RPC of a service, who may call it.
//!
//! Each service declares one [`Policy`], a table with a [`Rule`] per RPC naming the staff
//! roles, whether the owning tenant (a member or an agency) may call it, and which internal
//! services *by name* may. The server's guard applies the table to every call before the
//! request is decoded: an RPC without a rule is refused, and so is every caller the rule
//! does not name. What the table cannot know — which records a tenant owns — the handler
//! decides with [`Principal::scope`](crate::principal::Principal::scope), answering another
//! tenant's record exactly like a missing one.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::error::ApiError;
use crate::principal::{Principal, Role};

/// Which staff may call an RPC. Admins hold every role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Staff {
    /// No staff (not even admins): the RPC is for tenants or services only.
    Nobody,
    /// Staff holding one of these roles.
    Roles(&'static [Role]),
    /// Any staff member.
    Anyone,
}

/// Whether the tenant that owns the records an RPC touches may call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant {
    Nobody,
    /// A member, for its own records (and those it acts for as an agent).
    Member,
    /// An agency, for its own records.
    Agency,
}

/// The largest request message most RPCs accept: far more than any of them needs, and far
/// less than the server-wide `server.max_message_bytes`. RPCs that carry files or images
/// raise it with [`Rule::max_request`].
pub const DEFAULT_MAX_REQUEST: usize = 256 * 1024;

/// Who may call one RPC, and how large one of its request messages may be.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The method's name, e.g. `CreateMember`.
    pub method: &'static str,
    pub staff: Staff,
    pub tenant: Tenant,
    /// Internal services, by the name their credentials carry (`service:<name>`).
    pub services: &'static [&'static str],
    /// The largest request message, in bytes, as sent on the wire. The guard refuses a
    /// larger one with RESOURCE_EXHAUSTED from its length prefix, before reading it.
    pub max_request: usize,
}

/// A row of a policy table.
pub const fn rule(
    method: &'static str,
    staff: Staff,
    tenant: Tenant,
    services: &'static [&'static str],
) -> Rule {
    Rule {
        method,
        staff,
        tenant,
        services,
        max_request: DEFAULT_MAX_REQUEST,
    }
}

impl Rule {
    /// The same rule, taking request messages of up to `bytes`.
    pub const fn max_request(self, bytes: usize) -> Rule {
        Rule {
            max_request: bytes,
            ..self
        }
    }

    /// Whether `principal` may call this RPC. A tenant admitted here is still kept to its
    /// own records by the handler.
    pub fn admits(&self, principal: &Principal) -> bool {
        match principal {
            Principal::Staff { .. } => match self.staff {
                Staff::Nobody => false,
                Staff::Anyone => true,
                Staff::Roles(roles) => principal.has_role(roles),
            },
            Principal::Member { .. } => self.tenant == Tenant::Member,
            Principal::Agency { .. } => self.tenant == Tenant::Agency,
            Principal::Service { name } => self.services.contains(&name.as_str()),
        }
    }
}

/// The policy table of one gRPC service.
#[derive(Debug)]
pub struct Policy {
    /// The fully-qualified gRPC service, e.g. `assay.registry.v1.RegistryService`.
    pub service: &'static str,
    pub rules: &'static [Rule],
}

impl Policy {
    pub fn rule(&self, method: &str) -> Option<&'static Rule> {
        self.rules.iter().find(|r| r.method == method)
    }

    /// Applies the table: PERMISSION_DENIED unless `principal` may call `method`.
    pub fn admit(&self, method: &str, principal: &Principal) -> Result<(), ApiError> {
        let Some(rule) = self.rule(method) else {
            return Err(ApiError::denied(format!(
                "{method} has no authorisation policy: nobody may call it"
            )));
        };
        if rule.admits(principal) {
            Ok(())
        } else {
            Err(ApiError::denied(format!(
                "{} may not call {method}",
                principal.actor()
            )))
        }
    }
}

/// Every policy a process serves, by request path (`/package.Service/Method`).
#[derive(Debug, Default, Clone)]
pub struct Policies {
    by_service: HashMap<&'static str, &'static Policy>,
}

impl Policies {
    pub fn new(policies: impl IntoIterator<Item = &'static Policy>) -> Self {
        Self {
            by_service: policies.into_iter().map(|p| (p.service, p)).collect(),
        }
    }

    /// The policy decision for a request path: `None` when no served service has the path
    /// (the router answers UNIMPLEMENTED), else the table's answer.
    pub fn admit(&self, path: &str, principal: &Principal) -> Option<Result<(), ApiError>> {
        let (service, method) = path.trim_start_matches('/').split_once('/')?;
        let policy = self.by_service.get(service)?;
        Some(policy.admit(method, principal))
    }

    /// The rule for a request path, if a served service has one.
    pub fn rule(&self, path: &str) -> Option<&'static Rule> {
        let (service, method) = path.trim_start_matches('/').split_once('/')?;
        self.by_service.get(service)?.rule(method)
    }
}

/// Told of every call the guard refuses to a service: the method, the caller if its
/// credentials were good, and why.
pub type RefusalHook = Arc<dyn Fn(&str, Option<&Principal>, &ApiError) + Send + Sync>;

/// Who hears of refused calls, per gRPC service (law enforcement audits them).
#[derive(Clone, Default)]
pub struct Refusals {
    hooks: Arc<RwLock<HashMap<&'static str, RefusalHook>>>,
}

impl std::fmt::Debug for Refusals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Refusals")
    }
}

impl Refusals {
    /// Calls `hook` for every refused call to `service`.
    pub fn listen(&self, service: &'static str, hook: RefusalHook) {
        self.hooks
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(service, hook);
    }

    pub fn report(&self, path: &str, principal: Option<&Principal>, error: &ApiError) {
        let Some((service, method)) = path.trim_start_matches('/').split_once('/') else {
            return;
        };
        let hook = self
            .hooks
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(service)
            .cloned();
        if let Some(hook) = hook {
            hook(method, principal, error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        service: "assay.test.v1.TestService",
        rules: &[
            rule("Verify", Staff::Roles(&[Role::Legal]), Tenant::Nobody, &[]),
            rule("Read", Staff::Anyone, Tenant::Member, &["cases"]),
            rule("Intake", Staff::Nobody, Tenant::Nobody, &["screening"]),
        ],
    };

    fn p(text: &str) -> Principal {
        text.parse().unwrap()
    }

    #[test]
    fn the_table_names_who_may_call() {
        assert!(POLICY.admit("Verify", &p("staff:l:legal")).is_ok());
        assert!(POLICY.admit("Verify", &p("staff:a:admin")).is_ok());
        assert!(POLICY.admit("Verify", &p("staff:a:analyst")).is_err());
        assert!(POLICY.admit("Verify", &p("member:mbr_1")).is_err());
        assert!(POLICY.admit("Read", &p("member:mbr_1")).is_ok());
        assert!(POLICY.admit("Read", &p("agency:agy_1")).is_err());
        assert!(POLICY.admit("Read", &p("service:cases")).is_ok());
        assert!(POLICY.admit("Read", &p("service:seller-portal")).is_err());
        // Admins are staff: an RPC for services only refuses them too.
        assert!(POLICY.admit("Intake", &p("staff:a:admin")).is_err());
        assert!(POLICY.admit("Intake", &p("service:cases")).is_err());
    }

    #[test]
    fn an_rpc_without_a_rule_is_refused() {
        let error = POLICY.admit("Forgotten", &p("staff:a:admin")).unwrap_err();
        assert!(matches!(error, ApiError::PermissionDenied(_)));
        let policies = Policies::new([&POLICY]);
        assert!(
            policies
                .admit("/assay.test.v1.TestService/Forgotten", &p("staff:a:admin"))
                .unwrap()
                .is_err()
        );
        assert!(
            policies
                .admit("/assay.other.v1.Other/Read", &p("staff:a:admin"))
                .is_none()
        );
    }
}
