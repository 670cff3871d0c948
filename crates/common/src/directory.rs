//! Whether the tenant a credential names still exists and may act.
//!
//! A token names a member or an agency; it does not say whether that member was suspended
//! or has exited since the token was issued. The guard asks the [`Directory`] on every call
//! from a tenant. The answer comes from the service that keeps the tenant — the registry for
//! members, law enforcement for agencies — from its database when it runs in this process,
//! else over gRPC. Answers are kept for a short while (`auth.principal_cache_ttl`); a status
//! change made in this process forgets its tenant at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_proto::registry::v1::{GetMemberRequest, MemberStatus};

use crate::client::PeerChannel;
use crate::error::{ApiError, ApiResult};
use crate::principal::Principal;
use crate::service::BoxFuture;

/// Where a tenant stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// It may act.
    Active,
    /// It exists but may not act; the status, lowercase (`suspended`, `exited`, ...).
    Inactive(String),
    /// No such tenant.
    Unknown,
}

/// Looks up where tenants of one kind stand.
pub trait Lookup: Send + Sync + 'static {
    fn standing<'a>(&'a self, id: &'a str) -> BoxFuture<'a, ApiResult<Standing>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Member,
    Agency,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Member => "member",
            Kind::Agency => "agency",
        }
    }
}

/// Most tenants whose standing is remembered at once.
const MAX_CACHED: usize = 100_000;

#[derive(Default)]
struct Sources {
    members: Option<(Arc<dyn Lookup>, bool)>,
    agencies: Option<(Arc<dyn Lookup>, bool)>,
}

/// Each tenant's standing, and when it was learnt.
type Cache = HashMap<(Kind, String), (Standing, Instant)>;

/// The live check of tenants, shared by every service of a process.
#[derive(Clone)]
pub struct Directory {
    sources: Arc<RwLock<Sources>>,
    cache: Arc<Mutex<Cache>>,
    ttl: Duration,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Directory {
    pub fn new(ttl: Duration) -> Self {
        Self {
            sources: Arc::default(),
            cache: Arc::default(),
            ttl,
        }
    }

    /// Members are looked up here. A `local` source (the registry's own database) wins
    /// over a remote one, whichever is set first.
    pub fn set_members(&self, lookup: Arc<dyn Lookup>, local: bool) {
        let mut sources = self.sources.write().unwrap_or_else(|e| e.into_inner());
        if local || !sources.members.as_ref().is_some_and(|(_, l)| *l) {
            sources.members = Some((lookup, local));
        }
    }

    /// Agencies are looked up here (see [`Directory::set_members`]).
    pub fn set_agencies(&self, lookup: Arc<dyn Lookup>, local: bool) {
        let mut sources = self.sources.write().unwrap_or_else(|e| e.into_inner());
        if local || !sources.agencies.as_ref().is_some_and(|(_, l)| *l) {
            sources.agencies = Some((lookup, local));
        }
    }

    /// Forgets what is known of a member, after its status changed.
    pub fn forget_member(&self, id: &str) {
        self.forget(Kind::Member, id);
    }

    /// Forgets what is known of an agency, after its status changed.
    pub fn forget_agency(&self, id: &str) {
        self.forget(Kind::Agency, id);
    }

    fn forget(&self, kind: Kind, id: &str) {
        self.cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&(kind, id.to_owned()));
    }

    /// Succeeds when the principal may act: staff and services always (their credentials
    /// are their standing); members and agencies when they exist and are active.
    /// An unknown tenant is UNAUTHENTICATED, an inactive one PERMISSION_DENIED; when the
    /// tenant's keeper cannot be asked, UNAVAILABLE — never admitted blind.
    pub async fn check(&self, principal: &Principal) -> ApiResult<()> {
        let (kind, id) = match principal {
            Principal::Member { member_id, .. } => (Kind::Member, member_id.as_str()),
            Principal::Agency { agency_id, .. } => (Kind::Agency, agency_id.as_str()),
            Principal::Staff { .. } | Principal::Service { .. } => return Ok(()),
        };
        match self.standing(kind, id).await? {
            Standing::Active => Ok(()),
            Standing::Inactive(status) => Err(ApiError::denied(format!(
                "{} {id} is {status} and may not act",
                kind.as_str()
            ))),
            Standing::Unknown => Err(ApiError::Unauthenticated(format!(
                "the credentials name {} {id}, which does not exist",
                kind.as_str()
            ))),
        }
    }

    async fn standing(&self, kind: Kind, id: &str) -> ApiResult<Standing> {
        let key = (kind, id.to_owned());
        if let Some((standing, at)) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            && at.elapsed() < self.ttl
        {
            return Ok(standing.clone());
        }
        let lookup = {
            let sources = self.sources.read().unwrap_or_else(|e| e.into_inner());
            match kind {
                Kind::Member => sources.members.as_ref().map(|(l, _)| l.clone()),
                Kind::Agency => sources.agencies.as_ref().map(|(l, _)| l.clone()),
            }
        };
        let Some(lookup) = lookup else {
            return Err(ApiError::Unavailable(format!(
                "this server cannot check {}s: it has no way to reach their directory",
                kind.as_str()
            )));
        };
        let standing = lookup.standing(id).await?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, (_, at)| at.elapsed() < self.ttl);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(key, (standing.clone(), Instant::now()));
        Ok(standing)
    }
}

/// Members' standing asked of a registry in another process (`GetMember`).
pub struct RemoteMembers {
    client: RegistryServiceClient<PeerChannel>,
}

impl RemoteMembers {
    pub fn new(channel: PeerChannel) -> Self {
        Self {
            client: RegistryServiceClient::new(channel),
        }
    }
}

impl Lookup for RemoteMembers {
    fn standing<'a>(&'a self, id: &'a str) -> BoxFuture<'a, ApiResult<Standing>> {
        Box::pin(async move {
            let answer = self
                .client
                .clone()
                .get_member(GetMemberRequest { id: id.to_owned() })
                .await;
            match answer {
                Ok(response) => {
                    let status = response
                        .into_inner()
                        .member
                        .map(|m| m.status())
                        .unwrap_or_default();
                    Ok(member_standing(status))
                }
                Err(status) if status.code() == tonic::Code::NotFound => Ok(Standing::Unknown),
                // A malformed id in a token names nobody.
                Err(status) if status.code() == tonic::Code::InvalidArgument => {
                    Ok(Standing::Unknown)
                }
                Err(status) => {
                    tracing::warn!(%status, "the registry could not say whether a member is active");
                    Err(ApiError::Unavailable(
                        "cannot check the caller's membership now: try again shortly".to_owned(),
                    ))
                }
            }
        })
    }
}

/// Where a member of `status` stands. An applicant acts too: it completes its application
/// (profile, brands, rights for staff to verify); nothing it does reaches screening or
/// cases before it is admitted, since only active members' brands are protected.
pub fn member_standing(status: MemberStatus) -> Standing {
    match status {
        MemberStatus::Active | MemberStatus::Applied => Standing::Active,
        other => Standing::Inactive(status_word(other.as_str_name(), "MEMBER_STATUS_")),
    }
}

/// `MEMBER_STATUS_SUSPENDED` → `suspended`.
pub fn status_word(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix)
        .unwrap_or(name)
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Fixed {
        status: Mutex<Standing>,
        calls: AtomicUsize,
    }

    impl Lookup for Fixed {
        fn standing<'a>(&'a self, _id: &'a str) -> BoxFuture<'a, ApiResult<Standing>> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let standing = self.status.lock().unwrap().clone();
            Box::pin(async move { Ok(standing) })
        }
    }

    fn member() -> Principal {
        "member:mbr_1".parse().unwrap()
    }

    #[tokio::test]
    async fn tenants_are_checked_and_forgotten_when_they_change() {
        let directory = Directory::new(Duration::from_secs(60));
        let source = Arc::new(Fixed {
            status: Mutex::new(Standing::Active),
            calls: AtomicUsize::new(0),
        });
        directory.set_members(source.clone(), true);
        directory.check(&member()).await.unwrap();
        directory.check(&member()).await.unwrap();
        assert_eq!(source.calls.load(Ordering::SeqCst), 1, "answers are cached");

        *source.status.lock().unwrap() = Standing::Inactive("suspended".into());
        directory.forget_member("mbr_1");
        let refused = directory.check(&member()).await.unwrap_err();
        assert!(
            matches!(refused, ApiError::PermissionDenied(_)),
            "{refused}"
        );
        assert!(refused.to_string().contains("suspended"));

        *source.status.lock().unwrap() = Standing::Unknown;
        directory.forget_member("mbr_1");
        assert!(matches!(
            directory.check(&member()).await.unwrap_err(),
            ApiError::Unauthenticated(_)
        ));
    }

    #[tokio::test]
    async fn without_a_source_tenants_are_refused_and_staff_pass() {
        let directory = Directory::new(Duration::from_secs(5));
        assert!(matches!(
            directory.check(&member()).await.unwrap_err(),
            ApiError::Unavailable(_)
        ));
        directory
            .check(&"staff:a:admin".parse().unwrap())
            .await
            .unwrap();
        directory
            .check(&"service:cases".parse().unwrap())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_local_source_wins_over_a_remote_one() {
        let directory = Directory::new(Duration::ZERO);
        let local = Arc::new(Fixed {
            status: Mutex::new(Standing::Active),
            calls: AtomicUsize::new(0),
        });
        let remote = Arc::new(Fixed {
            status: Mutex::new(Standing::Unknown),
            calls: AtomicUsize::new(0),
        });
        directory.set_members(local.clone(), true);
        directory.set_members(remote.clone(), false);
        directory.check(&member()).await.unwrap();
        assert_eq!(remote.calls.load(Ordering::SeqCst), 0);
    }
}
