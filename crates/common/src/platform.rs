//! What every service of a process shares at run time: who may call, how page tokens are
//! signed, what credentials to present to peers, and when to stop.

use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::auth::{self, Authenticator, Principal, Role, TokenSigner, VerifyingKey};
use crate::client::ServiceCredentials;
use crate::config::{KeyFile, PlatformConfig};
use crate::directory::Directory;
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
    /// Whether the members and agencies that credentials name may still act.
    pub directory: Directory,
    /// Who hears of calls the guard refuses.
    pub refusals: Refusals,
    /// The server's TLS, from `server.tls`.
    pub server_tls: Option<tonic::transport::ServerTlsConfig>,
    service_token: Option<String>,
    peer_tls: Option<tonic::transport::ClientTlsConfig>,
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
    /// The new bootstrap admin token, and the file it is kept in.
    pub bootstrap_token: Option<(String, std::path::PathBuf)>,
}

impl Platform {
    /// Sets up authentication and signing from `config`, creating missing secrets under the
    /// data directory when `auth.generate_secrets` is on.
    pub fn init(config: PlatformConfig) -> anyhow::Result<(Self, FirstStart)> {
        let problems = config.problems();
        anyhow::ensure!(
            problems.is_empty(),
            "invalid configuration:\n  {}",
            problems.join("\n  ")
        );
        let auth_config = &config.auth;
        let jwt = &auth_config.jwt;
        let mut authenticator = Authenticator::new(&jwt.issuer, &jwt.audience);
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

        if auth_config.bootstrap_token {
            let path = config.data_file("bootstrap-token");
            let token = if auth_config.generate_secrets {
                let (token, created) = auth::read_or_create_secret(&path, auth::generate_token)?;
                if created {
                    first_start.bootstrap_token = Some((token.clone(), path.clone()));
                }
                Some(token)
            } else {
                std::fs::read_to_string(&path)
                    .ok()
                    .map(|t| t.trim().to_owned())
            };
            if let Some(token) = token {
                authenticator.add_static_token(
                    &auth::token_sha256(&token),
                    Principal::Staff {
                        subject: "bootstrap".to_owned(),
                        roles: vec![Role::Admin],
                    },
                );
            }
        }

        let hs256_path = jwt.hs256_secret_file.clone().or_else(|| {
            auth_config
                .generate_secrets
                .then(|| config.data_file("jwt-secret"))
        });
        let mut hs256_secret = None;
        let mut signer = None;
        if let Some(path) = hs256_path {
            let secret = if auth_config.generate_secrets {
                auth::read_or_create_secret(&path, auth::generate_token)?.0
            } else {
                std::fs::read_to_string(&path)
                    .with_context(|| format!("reading the JWT secret {}", path.display()))?
                    .trim()
                    .to_owned()
            };
            anyhow::ensure!(
                secret.len() >= 32,
                "the JWT secret in {} must be at least 32 bytes",
                path.display()
            );
            authenticator.add_jwt_key(VerifyingKey::hs256(secret.as_bytes()));
            signer = Some(TokenSigner::hs256(
                secret.as_bytes(),
                &jwt.issuer,
                &jwt.audience,
            ));
            hs256_secret = Some(secret);
        }
        for key in &jwt.public_keys {
            let (algorithm, pem) = read_key(key)?;
            authenticator.add_jwt_key(VerifyingKey::from_pem(algorithm, &pem)?);
        }
        if let Some(key) = &jwt.signing_key {
            let (algorithm, pem) = read_key(key)?;
            signer = Some(TokenSigner::from_pem(
                algorithm,
                &pem,
                &jwt.issuer,
                &jwt.audience,
            )?);
        }

        let page_tokens = match (&config.server.page_token_secret_file, &hs256_secret) {
            (Some(path), _) => PageTokens::new(
                std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?
                    .trim()
                    .as_bytes(),
            ),
            (None, Some(secret)) => PageTokens::new(secret.as_bytes()),
            (None, None) => {
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
                directory,
                refusals: Refusals::default(),
                server_tls,
                service_token,
                peer_tls,
            },
            first_start,
        ))
    }

    /// A platform for one-off maintenance such as migrations: it reads and creates no
    /// secrets and authenticates nobody.
    pub fn offline(config: PlatformConfig) -> Self {
        let jwt = &config.auth.jwt;
        let authenticator = Authenticator::new(&jwt.issuer, &jwt.audience);
        Self {
            authenticator: Arc::new(authenticator),
            directory: Directory::new(config.auth.principal_cache_ttl),
            refusals: Refusals::default(),
            config: Arc::new(config),
            page_tokens: PageTokens::random(),
            signer: None,
            shutdown: CancellationToken::new(),
            server_tls: None,
            service_token: None,
            peer_tls: None,
        }
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

fn read_key(key: &KeyFile) -> anyhow::Result<(jsonwebtoken::Algorithm, Vec<u8>)> {
    let algorithm = key
        .algorithm
        .parse()
        .with_context(|| format!("unknown JWT algorithm {:?}", key.algorithm))?;
    let pem = std::fs::read(&key.pem_file)
        .with_context(|| format!("reading {}", key.pem_file.display()))?;
    Ok((algorithm, pem))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_start_creates_a_bootstrap_admin_token_once() {
        let dir = tempfile::tempdir().unwrap();
        let config = PlatformConfig {
            data_dir: dir.path().to_owned(),
            ..PlatformConfig::default()
        };
        let (platform, first) = Platform::init(config.clone()).unwrap();
        let (token, path) = first.bootstrap_token.expect("created on first start");
        assert_eq!(path, dir.path().join("bootstrap-token"));
        let principal = platform
            .authenticator
            .authenticate(Some(&format!("Bearer {token}")))
            .unwrap();
        assert!(principal.has_role(&[Role::Admin]));

        let (again, first) = Platform::init(config).unwrap();
        assert!(first.bootstrap_token.is_none(), "printed only once");
        assert!(
            again
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
