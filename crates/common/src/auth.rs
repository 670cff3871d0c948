//! Who is calling: credentials become a [`Principal`] (defined in [`crate::principal`]).
//!
//! The [`Authenticator`] turns a bearer token into a principal: a signed JWT in production,
//! or a static token from the configuration (only their SHA-256 is kept) in the embedded
//! default; and a verified client certificate, through its SPIFFE id. Who may call what is
//! each service's policy table ([`crate::policy`]); handlers then keep tenants to their own
//! records with [`Principal::scope`].

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::jwt::Verifier;
pub use crate::principal::{Owner, Principal, Role, principal};

/// SHA-256 of a token, hex, as kept in configuration.
pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random static token.
pub fn generate_token() -> String {
    let bytes: [u8; 32] = rand::random();
    format!("assay_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// A static token's principal, and when it stops being accepted.
struct StaticToken {
    principal: Principal,
    expires: Option<SystemTime>,
}

/// Turns bearer tokens, and client certificates, into principals.
pub struct Authenticator {
    static_tokens: HashMap<String, StaticToken>,
    verifier: Verifier,
    /// The SPIFFE trust domain of client certificates that name principals; `None`: none do.
    certificate_trust_domain: Option<String>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("static_tokens", &self.static_tokens.len())
            .field("jwt_keys", &self.verifier.keys.len())
            .field("providers", &self.verifier.providers.len())
            .finish()
    }
}

impl Authenticator {
    /// Authenticates with `verifier`'s keys and providers, and no static tokens yet.
    pub fn new(verifier: Verifier) -> Self {
        Self {
            static_tokens: HashMap::new(),
            verifier,
            certificate_trust_domain: None,
        }
    }

    /// Lets verified client certificates of `trust_domain` name their principal.
    pub fn trust_certificates_of(&mut self, trust_domain: &str) {
        self.certificate_trust_domain = Some(trust_domain.to_owned());
    }

    /// The principal a verified client certificate (DER) names, if certificates may name
    /// principals here and it names one.
    pub fn from_certificate(&self, der: &[u8]) -> Option<Principal> {
        let domain = self.certificate_trust_domain.as_deref()?;
        crate::tls::principal_of(der, domain)
    }

    /// Accepts the token whose SHA-256 (hex) is `sha256` as `principal`.
    pub fn add_static_token(&mut self, sha256: &str, principal: Principal) {
        self.static_tokens.insert(
            sha256.to_ascii_lowercase(),
            StaticToken {
                principal,
                expires: None,
            },
        );
    }

    /// Like [`Authenticator::add_static_token`], until `expires`.
    pub fn add_expiring_token(&mut self, sha256: &str, principal: Principal, expires: SystemTime) {
        self.static_tokens.insert(
            sha256.to_ascii_lowercase(),
            StaticToken {
                principal,
                expires: Some(expires),
            },
        );
    }

    /// The principal of an `authorization` header value.
    pub fn authenticate(&self, authorization: Option<&str>) -> ApiResult<Principal> {
        let header = authorization.ok_or_else(|| {
            ApiError::Unauthenticated(
                "missing credentials: send \"authorization: Bearer <token>\"".to_owned(),
            )
        })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthenticated("authorization must be \"Bearer <token>\"".to_owned())
            })?;
        if let Some(known) = self.static_tokens.get(&token_sha256(token)) {
            if known.expires.is_some_and(|at| at <= SystemTime::now()) {
                return Err(ApiError::Unauthenticated(
                    "the token expired: ask for a new one (assay token mint)".to_owned(),
                ));
            }
            return Ok(known.principal.clone());
        }
        if token.matches('.').count() == 2 && !self.verifier.is_empty() {
            return self.verifier.verify(token);
        }
        Err(ApiError::Unauthenticated("unknown token".to_owned()))
    }
}

/// Reads a secret file, or creates it with fresh random content (mode 0600) when missing.
/// Returns the content and whether it was created.
pub fn read_or_create_secret(
    path: &Path,
    make: impl FnOnce() -> String,
) -> anyhow::Result<(String, bool)> {
    use anyhow::Context;
    match std::fs::read_to_string(path) {
        Ok(content) => {
            let content = content.trim().to_owned();
            anyhow::ensure!(!content.is_empty(), "{} is empty", path.display());
            Ok((content, false))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            // Written whole under a name of its own, then linked into place: processes that
            // start together on one data directory all end up with the one that was first,
            // and none reads a file half written.
            let content = make();
            let draft = path.with_extension(format!("draft-{}", uuid::Uuid::now_v7().simple()));
            write_private(&draft, &content)
                .with_context(|| format!("writing {}", draft.display()))?;
            let linked = std::fs::hard_link(&draft, path);
            let _ = std::fs::remove_file(&draft);
            // A file system without hard links: written in place, as once it was.
            let placed = linked.or_else(|error| match error.kind() {
                std::io::ErrorKind::AlreadyExists => Err(error),
                _ => write_private(path, &content),
            });
            match placed {
                Ok(()) => Ok((content, true)),
                // Another process was first: its secret is the one.
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    let first = std::fs::read_to_string(path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    Ok((first.trim().to_owned(), false))
                }
                Err(error) => Err(error).with_context(|| format!("writing {}", path.display())),
            }
        }
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

/// Creates a directory (and its missing parents) that only its owner may enter (0700).
/// An existing directory is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates an empty file only its owner may read (0600), unless it exists.
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    #[test]
    fn principals_parse_from_text() {
        assert_eq!(
            "staff:alice:admin,legal".parse::<Principal>().unwrap(),
            Principal::Staff {
                subject: "alice".into(),
                roles: vec![Role::Admin, Role::Legal]
            }
        );
        assert_eq!(
            "member:mbr_1".parse::<Principal>().unwrap(),
            Principal::Member {
                subject: "mbr_1".into(),
                member_id: "mbr_1".into()
            }
        );
        assert!("staff:alice".parse::<Principal>().is_err());
        assert!("staff:alice:root".parse::<Principal>().is_err());
        assert!("robot:x".parse::<Principal>().is_err());
        assert!("member:".parse::<Principal>().is_err());
    }

    #[test]
    fn static_tokens_are_matched_by_hash() {
        let mut auth = Authenticator::new(Verifier::none());
        let token = generate_token();
        auth.add_static_token(&token_sha256(&token), "service:screening".parse().unwrap());
        assert_eq!(
            auth.authenticate(Some(&bearer(&token))).unwrap(),
            Principal::Service {
                name: "screening".into()
            }
        );
        assert!(auth.authenticate(Some(&bearer("assay_wrong"))).is_err());
        assert!(auth.authenticate(None).is_err());
        assert!(auth.authenticate(Some(&token)).is_err());
    }

    #[test]
    fn an_expiring_token_stops_at_its_time() {
        let mut auth = Authenticator::new(Verifier::none());
        let token = generate_token();
        let admin: Principal = "staff:bootstrap:admin".parse().unwrap();
        auth.add_expiring_token(
            &token_sha256(&token),
            admin.clone(),
            SystemTime::now() + std::time::Duration::from_secs(60),
        );
        assert_eq!(auth.authenticate(Some(&bearer(&token))).unwrap(), admin);
        auth.add_expiring_token(&token_sha256(&token), admin, SystemTime::now());
        let refused = auth.authenticate(Some(&bearer(&token))).unwrap_err();
        assert!(refused.to_string().contains("expired"), "{refused}");
    }

    #[test]
    fn tenants_see_only_their_own_records() {
        let member: Principal = "member:mbr_1".parse().unwrap();
        let agency: Principal = "agency:agy_1".parse().unwrap();
        member
            .scope(Owner::Members(&["mbr_1", "mbr_9"]), "brand", "brd_1")
            .unwrap();
        let hidden = member
            .scope(Owner::Members(&["mbr_2"]), "brand", "brd_2")
            .unwrap_err();
        assert!(matches!(hidden, ApiError::NotFound { .. }), "{hidden}");
        assert_eq!(hidden.to_string(), "brand brd_2 not found");
        assert!(
            member
                .scope(Owner::Agency("agy_1"), "request", "r")
                .is_err()
        );
        agency
            .scope(Owner::Agency("agy_1"), "request", "r")
            .unwrap();
        assert!(agency.scope(Owner::Nobody, "case", "c").is_err());
        for passed in ["staff:ann:analyst", "service:cases"] {
            let principal: Principal = passed.parse().unwrap();
            principal.scope(Owner::Nobody, "case", "c").unwrap();
        }
    }

    #[test]
    fn secrets_are_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/bootstrap-token");
        let (first, created) = read_or_create_secret(&path, generate_token).unwrap();
        assert!(created);
        let (again, created) = read_or_create_secret(&path, generate_token).unwrap();
        assert!(!created);
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    /// Processes that start together on one data directory agree on one secret: each gets
    /// the first one written, whole, and only its writer says it created it.
    #[test]
    fn secrets_created_at_the_same_moment_are_one_secret() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("signing-key");
        let start = std::sync::Barrier::new(8);
        let got: Vec<(String, bool)> = std::thread::scope(|scope| {
            let racers: Vec<_> = (0..8)
                .map(|_| {
                    scope.spawn(|| {
                        start.wait();
                        read_or_create_secret(&path, generate_token).unwrap()
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        let on_disk = std::fs::read_to_string(&path).unwrap();
        assert!(got.iter().all(|(secret, _)| *secret == on_disk.trim()));
        assert_eq!(got.iter().filter(|(_, created)| *created).count(), 1);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no drafts are left behind");
    }
}
