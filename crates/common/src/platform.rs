//! What every service of a process shares at run time: who may call, how page tokens are
//! signed, what credentials to present to peers, and when to stop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use jsonwebtoken::Algorithm;
use tokio_util::sync::CancellationToken;

use crate::auth::{self, Authenticator, Principal, Role};
use crate::client::ServiceCredentials;
use crate::config::PlatformConfig;
use crate::directory::Directory;
use crate::jwt::{self, Provider, Revocations, TokenSigner, TrustedKey, Verifier};
use crate::page::PageTokens;
use crate::policy::Refusals;

#[derive(Clone)]
pub struct Platform {
    pub config: Arc<PlatformConfig>,
    pub authenticator: Arc<Authenticator>,
    pub page_tokens: PageTokens,
    /// Signs tokens this process mints, if it holds a signing key.
    pub signer: Option<TokenSigner>,
    /// Cancelled when the process begins to shut down.
    pub shutdown: CancellationToken,
    /// Cancelled once `server.shutdown_delay` has passed after that: long-lived streams
    /// then finish what they received and end, while unary calls drain.
    pub drain: CancellationToken,
    /// Whether the members and agencies that credentials name may still act.
    pub directory: Directory,
    /// Who hears of calls the guard refuses.
    pub refusals: Refusals,
    /// The server's TLS, from `server.tls`.
    pub server_tls: Option<tonic::transport::ServerTlsConfig>,
    service_token: Option<String>,
    peer_tls: Option<tonic::transport::ClientTlsConfig>,
    /// Made by [`Platform::offline`]: for maintenance, serving nobody.
    offline: bool,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("authenticator", &self.authenticator)
            .field("signer", &self.signer)
            .finish_non_exhaustive()
    }
}

/// What [`Platform::init`] created on first start and must be told to the operator once.
#[derive(Debug, Default)]
pub struct FirstStart {
    /// The file a new bootstrap admin token was written to, and when it expires. The token
    /// itself is never printed: logs are read by more people than the data directory.
    pub bootstrap_token: Option<(PathBuf, SystemTime)>,
}

impl Platform {
    /// A service's database: `url` when configured, else its own SQLite file in the data
    /// directory.
    pub async fn database(
        &self,
        service: &str,
        url: Option<&str>,
    ) -> anyhow::Result<crate::db::Db> {
        let url = url.map_or_else(|| self.config.sqlite_url(service), str::to_owned);
        crate::db::connect(&url, &self.config.database).await
    }

    /// Sets up authentication and signing from `config`, creating missing secrets under the
    /// data directory when `auth.generate_secrets` is on.
    pub fn init(config: PlatformConfig) -> anyhow::Result<(Self, FirstStart)> {
        crate::config::ensure_valid(config.problems())?;
        warn_if_shared(&config.data_dir);
        let auth_config = &config.auth;
        let keys = Keys::load(&config, auth_config.generate_secrets)?;
        let mut authenticator = Authenticator::new(keys.verifier);
        let signer = keys.signer.map(|(signer, _)| signer);
        let mut first_start = FirstStart::default();
        let server_tls = config
            .server
            .tls
            .as_ref()
            .map(crate::tls::server_config)
            .transpose()?;
        if config
            .server
            .tls
            .as_ref()
            .is_some_and(|tls| tls.client_ca_file.is_some())
        {
            authenticator.trust_certificates_of(&auth_config.certificate_trust_domain);
        }
        let peer_tls = auth_config
            .peer_tls
            .as_ref()
            .map(crate::tls::client_config)
            .transpose()?;

        for token in &auth_config.tokens {
            let principal: Principal = token
                .principal
                .parse()
                .map_err(|e: String| anyhow::anyhow!(e))?;
            authenticator.add_static_token(&token.sha256, principal);
        }

        if auth_config.bootstrap_token
            && let Some((token, expires, created)) = bootstrap_token(&config)?
        {
            authenticator.add_expiring_token(
                &auth::token_sha256(&token),
                Principal::Staff {
                    subject: "bootstrap".to_owned(),
                    roles: vec![Role::Admin],
                },
                expires,
            );
            if created {
                first_start.bootstrap_token = Some((config.data_file(BOOTSTRAP_TOKEN), expires));
            }
        }

        let page_secret = match (
            &config.server.page_token_secret_file,
            auth_config.generate_secrets,
        ) {
            (Some(path), _) => Some(read_secret(path, "the page token secret")?),
            (None, true) => Some(
                auth::read_or_create_secret(
                    &config.data_file("page-token-secret"),
                    auth::generate_token,
                )?
                .0,
            ),
            (None, false) => None,
        };
        let page_tokens = match page_secret {
            Some(secret) => PageTokens::new(secret.as_bytes()),
            None => {
                tracing::warn!(
                    "no page token secret configured: page tokens work only on the replica that issued them"
                );
                PageTokens::random()
            }
        };

        let service_token = auth_config
            .service_token_file
            .as_ref()
            .map(|path| {
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading the service token {}", path.display()))
                    .map(|t| t.trim().to_owned())
            })
            .transpose()?;

        let directory = Directory::new(config.auth.principal_cache_ttl);
        Ok((
            Self {
                config: Arc::new(config),
                authenticator: Arc::new(authenticator),
                page_tokens,
                signer,
                shutdown: CancellationToken::new(),
                drain: CancellationToken::new(),
                directory,
                refusals: Refusals::default(),
                server_tls,
                service_token,
                peer_tls,
                offline: false,
            },
            first_start,
        ))
    }

    /// A platform for one-off maintenance such as migrations: it reads and creates no
    /// secrets and authenticates nobody.
    pub fn offline(config: PlatformConfig) -> Self {
        let authenticator = Authenticator::new(Verifier::none());
        Self {
            authenticator: Arc::new(authenticator),
            directory: Directory::new(config.auth.principal_cache_ttl),
            refusals: Refusals::default(),
            config: Arc::new(config),
            page_tokens: PageTokens::random(),
            signer: None,
            shutdown: CancellationToken::new(),
            drain: CancellationToken::new(),
            server_tls: None,
            service_token: None,
            peer_tls: None,
            offline: true,
        }
    }

    /// Whether this platform serves nobody (migrations): it holds no secrets.
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// Where service `name` keeps its documents' content (`[documents]`).
    pub fn documents(&self, name: &str) -> anyhow::Result<crate::documents::Documents> {
        crate::documents::Documents::new(&self.config.documents, name)
    }

    /// The credentials service `name` presents when calling its peers.
    pub fn credentials(&self, name: &str) -> ServiceCredentials {
        self.bearer_credentials(name)
            .with_tls(self.peer_tls.clone())
    }

    /// Whether calls to peers go over TLS.
    pub fn peers_use_tls(&self) -> bool {
        self.peer_tls.is_some()
    }

    fn bearer_credentials(&self, name: &str) -> ServiceCredentials {
        match (&self.service_token, &self.signer) {
            (Some(token), _) => ServiceCredentials::fixed(token.clone()),
            (None, Some(signer)) => ServiceCredentials::minted(signer.clone(), name),
            // Maintenance (`assay migrate`) calls no one.
            (None, None) if self.offline => ServiceCredentials::none(),
            (None, None) => {
                tracing::warn!(
                    service = name,
                    "no service token or signing key: calls to other services will be refused"
                );
                ServiceCredentials::none()
            }
        }
    }
}

/// The file of the bootstrap admin token, under the data directory.
const BOOTSTRAP_TOKEN: &str = "bootstrap-token";
/// The file of the generated signing key, under the data directory.
pub const SIGNING_KEY: &str = "jwt-signing-key.pem";

/// Says so when an existing data directory lets others in: its databases and secrets are
/// private, but a directory Assay did not create keeps the mode it was given.
fn warn_if_shared(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(dir)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                data_dir = %dir.display(),
                mode = format!("{:o}", meta.permissions().mode() & 0o777),
                "the data directory is open to other users: chmod 700 it"
            );
        }
    }
}

fn read_secret(path: &Path, what: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading {what} {}", path.display()))?;
    let text = text.trim().to_owned();
    anyhow::ensure!(!text.is_empty(), "{what} {} is empty", path.display());
    Ok(text)
}

/// The bootstrap admin token: (token, when it expires, whether it was written just now).
/// With `generate_secrets` one is written when there is none or it has expired.
fn bootstrap_token(config: &PlatformConfig) -> anyhow::Result<Option<(String, SystemTime, bool)>> {
    let path = config.data_file(BOOTSTRAP_TOKEN);
    let ttl = config.auth.bootstrap_token_ttl;
    let expires = |path: &Path| -> anyhow::Result<SystemTime> {
        Ok(std::fs::metadata(path)?.modified()? + ttl)
    };
    if path.exists() {
        let expiry = expires(&path)?;
        if expiry > SystemTime::now() || !config.auth.generate_secrets {
            return Ok(Some((
                read_secret(&path, "the bootstrap token")?,
                expiry,
                false,
            )));
        }
        std::fs::remove_file(&path).with_context(|| format!("replacing {}", path.display()))?;
    } else if !config.auth.generate_secrets {
        return Ok(None);
    }
    let (token, created) = auth::read_or_create_secret(&path, auth::generate_token)?;
    Ok(Some((token, expires(&path)?, created)))
}

/// What verifies and signs tokens here.
pub struct Keys {
    pub verifier: Verifier,
    /// The signing key, and the file it came from.
    pub signer: Option<(TokenSigner, PathBuf)>,
}

impl Keys {
    /// Loads the signing key (creating it under the data directory when `create` and none
    /// is configured), the trusted keys, the identity providers' keys and the revocations.
    pub fn load(config: &PlatformConfig, create: bool) -> anyhow::Result<Self> {
        let jwt = &config.auth.jwt;
        let mut keys = Vec::new();
        let mut signer = None;
        let path = jwt.signing_key_file.clone().or_else(|| {
            config
                .auth
                .generate_secrets
                .then(|| config.data_file(SIGNING_KEY))
        });
        if let Some(path) = path {
            let private = if create {
                let (fresh, _) = jwt::generate_ed25519()?;
                auth::read_or_create_secret(&path, || fresh)?.0
            } else {
                read_secret(&path, "the signing key").with_context(|| {
                    "no signing key: start `assay serve` once to create it, or set auth.jwt.signing_key_file"
                })?
            };
            let may_name =
                jwt::patterns(&jwt.signing_key_principals).map_err(anyhow::Error::msg)?;
            let public = jwt::ed25519_public_pem(&private)
                .with_context(|| format!("reading the signing key {}", path.display()))?;
            keys.push(TrustedKey::from_pem(
                &jwt.signing_key_id,
                Algorithm::EdDSA,
                public.as_bytes(),
                may_name.clone(),
            )?);
            signer = Some((
                TokenSigner::from_ed25519_pem(
                    &jwt.signing_key_id,
                    &private,
                    &jwt.issuer,
                    &jwt.audience,
                    may_name,
                    jwt.max_lifetime,
                )?,
                path,
            ));
        }
        for key in &jwt.trusted_keys {
            let algorithm = key
                .algorithm
                .parse()
                .with_context(|| format!("unknown JWT algorithm {:?}", key.algorithm))?;
            let pem = std::fs::read(&key.public_key_file)
                .with_context(|| format!("reading {}", key.public_key_file.display()))?;
            let may_name = jwt::patterns(&key.principals).map_err(anyhow::Error::msg)?;
            keys.push(
                TrustedKey::from_pem(&key.kid, algorithm, &pem, may_name)
                    .with_context(|| format!("reading key {}", key.kid))?,
            );
        }
        let mut providers = Vec::new();
        for provider in &jwt.identity_providers {
            let jwks = std::fs::read_to_string(&provider.jwks_file)
                .with_context(|| format!("reading {}", provider.jwks_file.display()))?;
            providers.push(
                Provider::from_jwks(
                    &provider.issuer,
                    provider.audiences.clone(),
                    &jwks,
                    provider.rules.clone(),
                )
                .with_context(|| format!("the keys of {}", provider.issuer))?,
            );
        }
        let revocations = match &jwt.revoked_ids_file {
            Some(path) => Revocations::from_file(path)?,
            None => Revocations::none(),
        };
        Ok(Self {
            verifier: Verifier {
                issuer: jwt.issuer.clone(),
                audience: jwt.audience.clone(),
                keys,
                providers,
                lifetimes: jwt.max_lifetime,
                revocations,
                verified: Default::default(),
            },
            signer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_in(dir: &Path) -> PlatformConfig {
        PlatformConfig {
            data_dir: dir.to_owned(),
            ..PlatformConfig::default()
        }
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn first_start_writes_an_expiring_bootstrap_admin_token_to_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(&dir.path().join("data"));
        let (platform, first) = Platform::init(config.clone()).unwrap();
        let (path, expires) = first.bootstrap_token.expect("created on first start");
        assert_eq!(path, dir.path().join("data/bootstrap-token"));
        let left = expires.duration_since(SystemTime::now()).unwrap();
        assert!(left <= config.auth.bootstrap_token_ttl, "{left:?}");
        let token = std::fs::read_to_string(&path).unwrap();
        let bearer = format!("Bearer {}", token.trim());
        let principal = platform.authenticator.authenticate(Some(&bearer)).unwrap();
        assert!(principal.has_role(&[Role::Admin]));
        #[cfg(unix)]
        for file in ["bootstrap-token", SIGNING_KEY, "page-token-secret"] {
            assert_eq!(mode(&dir.path().join("data").join(file)), 0o600, "{file}");
        }

        let (again, first) = Platform::init(config.clone()).unwrap();
        assert!(first.bootstrap_token.is_none(), "written once");
        assert!(again.authenticator.authenticate(Some(&bearer)).is_ok());

        // Expired, it is refused; a new one is written on the next start.
        let expired = PlatformConfig {
            auth: crate::config::AuthConfig {
                bootstrap_token_ttl: std::time::Duration::ZERO,
                ..config.auth.clone()
            },
            ..config
        };
        let (fresh, first) = Platform::init(expired).unwrap();
        assert!(first.bootstrap_token.is_some());
        assert!(fresh.authenticator.authenticate(Some(&bearer)).is_err());
    }

    #[test]
    fn minting_never_creates_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let config = config_in(dir.path());
        let error = Keys::load(&config, false).err().expect("no key, no signer");
        assert!(format!("{error:#}").contains("no signing key"), "{error:#}");
        assert!(!dir.path().join(SIGNING_KEY).exists());
    }

    #[test]
    fn a_key_signs_only_whom_it_may_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config_in(dir.path());
        config.auth.jwt.signing_key_principals = vec!["service:screening".into()];
        let (platform, _) = Platform::init(config).unwrap();
        let signer = platform.signer.as_ref().unwrap();
        let admin: Principal = "staff:root:admin".parse().unwrap();
        assert!(
            signer
                .mint(&admin, std::time::Duration::from_secs(60))
                .is_err()
        );
        let token = platform.credentials("screening").bearer().unwrap();
        assert!(
            platform
                .authenticator
                .authenticate(Some(&format!("Bearer {token}")))
                .is_ok()
        );
    }

    #[test]
    fn minted_service_tokens_are_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let (platform, _) = Platform::init(PlatformConfig {
            data_dir: dir.path().to_owned(),
            ..PlatformConfig::default()
        })
        .unwrap();
        let token = platform.credentials("screening").bearer().unwrap();
        assert_eq!(
            platform
                .authenticator
                .authenticate(Some(&format!("Bearer {token}")))
                .unwrap(),
            Principal::Service {
                name: "screening".into()
            }
        );
    }
}
