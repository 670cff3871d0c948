//! Configuration shared by every service, and the layered loader.
//!
//! Layers, later ones winning: built-in defaults, an optional TOML file, `ASSAY_...`
//! environment variables (`__` separates nested keys: `ASSAY_SERVER__REQUEST_TIMEOUT=10s`),
//! then command-line flags. The result is validated once, at start-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A tracing env-filter directive, e.g. `info,assay_registry=debug`. `RUST_LOG` wins.
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Human,
            filter: "info,sea_orm_migration=warn,opentelemetry=warn,h2::proto::connection=debug"
                .to_owned(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Requests handled at once by this process, streams counted for as long as they are
    /// open; more are refused with RESOURCE_EXHAUSTED and a RetryInfo.
    pub max_concurrent_requests: usize,
    /// Streams (feeds, catalogue watches) one principal may hold open at once.
    pub max_streams_per_principal: usize,
    /// Calls each principal may start per second, by kind of principal (a stream counts
    /// once, when it opens); beyond, RESOURCE_EXHAUSTED with when to retry.
    pub rate_limits: RateLimits,
    /// Upper bound of any request; a shorter `grpc-timeout` from the caller wins.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// After a shutdown signal: how long to keep serving while health says NOT_SERVING, so
    /// load balancers stop sending new requests.
    #[serde(with = "humantime_serde")]
    pub shutdown_delay: Duration,
    /// Then: how long in-flight requests get to finish before the process exits anyway.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Largest request or response message, in bytes. Each RPC also has its own, lower,
    /// request limit in its policy table (256 KiB unless it carries images or files).
    pub max_message_bytes: usize,
    /// File holding the secret that signs page tokens; replicas must share it. Unset: derived
    /// from the JWT HMAC secret if there is one, else random per process.
    pub page_token_secret_file: Option<PathBuf>,
    /// TLS, and with a client CA mutual TLS. Unset: plaintext (h2c), for a laptop or behind a
    /// mesh that terminates TLS.
    pub tls: Option<ServerTls>,
    /// Also serve grpc.health.v1 alone, in plaintext, here: for probes that cannot speak TLS
    /// (Kubernetes' native gRPC probes) when the main port requires it.
    pub health_listen: Option<SocketAddr>,
    /// Serve Prometheus metrics (`GET /metrics`) here. Unset: not served (OTLP export, when
    /// OTEL_EXPORTER_OTLP_ENDPOINT is set, does not need it).
    pub metrics_listen: Option<SocketAddr>,
}

/// A sustained rate and the burst allowed above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

/// Calls per second for each principal, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    pub staff: Rate,
    pub member: Rate,
    pub agency: Rate,
    /// Internal services: the listing pipeline screens one listing per call.
    pub service: Rate,
}

impl Default for RateLimits {
    fn default() -> Self {
        let rate = |per_second, burst| Rate { per_second, burst };
        Self {
            staff: rate(200, 400),
            member: rate(50, 100),
            agency: rate(20, 40),
            service: rate(20_000, 40_000),
        }
    }
}

/// The server's certificate, and the CA that client certificates must chain to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerTls {
    /// PEM certificate chain the server presents.
    pub cert_file: PathBuf,
    /// Its PEM private key.
    pub key_file: PathBuf,
    /// PEM CA bundle that client certificates must chain to. Unset: none are asked for.
    #[serde(default)]
    pub client_ca_file: Option<PathBuf>,
    /// Refuse connections without a valid client certificate (needs `client_ca_file`).
    /// Otherwise a certificate is optional, and callers without one use bearer tokens.
    #[serde(default)]
    pub require_client_cert: bool,
}

/// What this process trusts and presents when it calls other Assay services over TLS.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerTls {
    /// PEM CA bundle that verifies the peers' server certificates.
    pub ca_file: PathBuf,
    /// This process's client certificate, presented to peers that ask for one.
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            max_concurrent_requests: 1024,
            max_streams_per_principal: 256,
            rate_limits: RateLimits::default(),
            request_timeout: Duration::from_secs(30),
            shutdown_delay: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(20),
            max_message_bytes: 16 * 1024 * 1024,
            page_token_secret_file: None,
            tls: None,
            health_listen: None,
            metrics_listen: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Pool size for PostgreSQL; on SQLite, readers beside the one connection that writes.
    pub max_connections: u32,
    pub min_connections: u32,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// How long a request waits for a pooled connection.
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    /// Log every SQL statement (at debug level).
    pub log_statements: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            max_connections: 16,
            min_connections: 0,
            connect_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(10),
            log_statements: false,
        }
    }
}

/// A static bearer token: only its SHA-256 is configured.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticToken {
    /// Hex SHA-256 of the token (`assay token hash <token>` prints it).
    pub sha256: String,
    /// Who the token speaks for: `staff:<subject>:<roles>`, `member:<id>`, `agency:<id>`,
    /// `service:<name>`.
    pub principal: String,
}

/// A public key that verifies tokens, and whom its tokens may name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TrustedKeyConfig {
    /// The key id (`kid`) that tokens signed with it carry in their header.
    pub kid: String,
    /// `EdDSA` (Ed25519), `ES256`, `RS256`, ...
    #[serde(default = "default_algorithm")]
    pub algorithm: String,
    /// The public key, PEM.
    pub public_key_file: PathBuf,
    /// Which principals its tokens may name: `*`, `<kind>:*` (`staff:*`, ...) or one
    /// principal (`service:screening`).
    pub principals: Vec<String>,
}

fn default_algorithm() -> String {
    "EdDSA".to_owned()
}

/// An external identity provider (OIDC) whose tokens are accepted.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IdentityProviderConfig {
    /// Its `iss`.
    pub issuer: String,
    /// Audiences its tokens must name (one is enough).
    pub audiences: Vec<String>,
    /// Its signing keys as a JWKS document (`{"keys": [...]}`), e.g. a copy of its
    /// `jwks_uri`, refreshed by the operator on rotation.
    pub jwks_file: PathBuf,
    /// How its claims become principals; the first rule that matches wins.
    pub rules: Vec<crate::jwt::ClaimRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JwtConfig {
    /// The `iss` of the tokens this deployment mints.
    pub issuer: String,
    /// The `aud` they carry, and that tokens must name to be accepted here.
    pub audience: String,
    /// Ed25519 private key (PKCS#8 PEM) that signs what this process mints: its own
    /// service tokens and `assay token mint`. Its public key is trusted for the principals
    /// it may sign for. Unset with `generate_secrets`: `<data_dir>/jwt-signing-key.pem`,
    /// created on first start.
    pub signing_key_file: Option<PathBuf>,
    /// The key id of that key.
    pub signing_key_id: String,
    /// Which principals that key may sign for, as in `trusted_keys`. A service pod's own
    /// key names that service alone.
    pub signing_key_principals: Vec<String>,
    /// Other public keys whose tokens are accepted (other pods', an operator's), several at
    /// once while keys rotate.
    pub trusted_keys: Vec<TrustedKeyConfig>,
    /// External identity providers.
    pub identity_providers: Vec<IdentityProviderConfig>,
    /// The longest a token may live, per kind of principal; refused at mint and when
    /// verified.
    pub max_lifetime: crate::jwt::Lifetimes,
    /// File of revoked token ids (`jti`), one per line; re-read when it changes.
    pub revoked_ids_file: Option<PathBuf>,
}

impl Default for JwtConfig {
    fn default() -> Self {
        Self {
            issuer: "assay".to_owned(),
            audience: "assay".to_owned(),
            signing_key_file: None,
            signing_key_id: "local".to_owned(),
            signing_key_principals: vec!["*".to_owned()],
            trusted_keys: Vec::new(),
            identity_providers: Vec::new(),
            max_lifetime: crate::jwt::Lifetimes::default(),
            revoked_ids_file: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Create missing secrets (bootstrap token, signing key, page-token secret, audit key)
    /// under the data directory on first start. The embedded default; production sets it
    /// to false and provides every secret.
    pub generate_secrets: bool,
    /// Keep an admin token in `<data_dir>/bootstrap-token` (never printed), to set up the
    /// first administrators with. It expires `bootstrap_token_ttl` after it was written.
    pub bootstrap_token: bool,
    #[serde(with = "humantime_serde")]
    pub bootstrap_token_ttl: Duration,
    /// Static tokens.
    pub tokens: Vec<StaticToken>,
    pub jwt: JwtConfig,
    /// File holding the bearer token this process presents to other Assay services. Unset:
    /// it mints short-lived service tokens with the JWT signing key.
    pub service_token_file: Option<PathBuf>,
    /// Client certificates name their principal in a URI SAN of this SPIFFE trust domain:
    /// `spiffe://<domain>/service/<name>` or `spiffe://<domain>/agency/<agency id>`.
    pub certificate_trust_domain: String,
    /// TLS towards peer services (their endpoints then start with `https://`).
    pub peer_tls: Option<PeerTls>,
    /// How long a member's or agency's standing is remembered between checks. A status
    /// change made in the same process is felt at once; one made by another replica within
    /// this time.
    #[serde(with = "humantime_serde")]
    pub principal_cache_ttl: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            generate_secrets: true,
            bootstrap_token: true,
            bootstrap_token_ttl: Duration::from_secs(24 * 3600),
            tokens: Vec::new(),
            jwt: JwtConfig::default(),
            service_token_file: None,
            certificate_trust_domain: "assay".to_owned(),
            peer_tls: None,
            principal_cache_ttl: Duration::from_secs(5),
        }
    }
}

/// How outbox relays deliver messages to other services.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboxConfig {
    /// How often a relay looks for messages to deliver on SQLite, where it is also woken by
    /// the messages its own process writes.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    /// How often a relay looks on PostgreSQL, where every message written by any replica
    /// wakes it (`LISTEN`/`NOTIFY`) and it looks when a retry is due: only in case a
    /// notification was lost with a connection.
    #[serde(with = "humantime_serde")]
    pub fallback_interval: Duration,
    /// Messages taken per look.
    pub batch_size: usize,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// How long a taken message is left to its relay before another replica may take it.
    #[serde(with = "humantime_serde")]
    pub lease: Duration,
    /// The wait after a first failure; it doubles with every failure, up to `max_backoff`.
    #[serde(with = "humantime_serde")]
    pub min_backoff: Duration,
    #[serde(with = "humantime_serde")]
    pub max_backoff: Duration,
    /// How long delivered messages are kept, for inspection, before they are purged.
    #[serde(with = "humantime_serde")]
    pub keep_delivered: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(500),
            fallback_interval: Duration::from_secs(10),
            batch_size: 400,
            concurrency: 8,
            lease: Duration::from_secs(30),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(60),
            keep_delivered: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Everything the shared platform needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlatformConfig {
    /// Where the gRPC server listens.
    pub listen: SocketAddr,
    /// Where embedded databases and generated secrets live.
    pub data_dir: PathBuf,
    pub log: LogConfig,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub auth: AuthConfig,
    pub outbox: OutboxConfig,
    pub documents: crate::documents::DocumentsConfig,
}

impl Default for PlatformConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("data"),
            log: LogConfig::default(),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            auth: AuthConfig::default(),
            outbox: OutboxConfig::default(),
            documents: crate::documents::DocumentsConfig::default(),
        }
    }
}

impl PlatformConfig {
    /// Everything wrong with the configuration, as readable sentences.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = self.documents.problems();
        if let Some(tls) = &self.server.tls
            && tls.require_client_cert
            && tls.client_ca_file.is_none()
        {
            problems
                .push("server.tls.require_client_cert needs server.tls.client_ca_file".to_owned());
        }
        if let Some(peer) = &self.auth.peer_tls
            && peer.cert_file.is_some() != peer.key_file.is_some()
        {
            problems.push("auth.peer_tls needs both cert_file and key_file, or neither".to_owned());
        }
        if self.auth.certificate_trust_domain.is_empty()
            || self.auth.certificate_trust_domain.contains('/')
        {
            problems.push(
                "auth.certificate_trust_domain must be a SPIFFE trust domain such as \"assay\""
                    .to_owned(),
            );
        }
        if self.server.max_concurrent_requests == 0 || self.server.max_streams_per_principal == 0 {
            problems.push(
                "server.max_concurrent_requests and max_streams_per_principal must be at least 1"
                    .to_owned(),
            );
        }
        let limits = &self.server.rate_limits;
        if [limits.staff, limits.member, limits.agency, limits.service]
            .iter()
            .any(|r| r.per_second == 0 || r.burst == 0)
        {
            problems.push(
                "server.rate_limits: per_second and burst must be at least 1 for every kind"
                    .to_owned(),
            );
        }
        if self.server.request_timeout.is_zero() {
            problems.push("server.request_timeout must be above zero".to_owned());
        }
        if self.server.max_message_bytes < 64 * 1024 {
            problems.push("server.max_message_bytes must be at least 65536".to_owned());
        }
        if self.database.max_connections == 0 {
            problems.push("database.max_connections must be at least 1".to_owned());
        }
        if self.database.min_connections > self.database.max_connections {
            problems.push("database.min_connections must not exceed max_connections".to_owned());
        }
        let outbox = &self.outbox;
        if outbox.poll_interval.is_zero()
            || outbox.fallback_interval.is_zero()
            || outbox.lease.is_zero()
            || outbox.min_backoff.is_zero()
        {
            problems.push(
                "outbox.poll_interval, fallback_interval, lease and min_backoff must be above zero"
                    .to_owned(),
            );
        }
        if outbox.batch_size == 0 || outbox.concurrency == 0 {
            problems.push("outbox.batch_size and concurrency must be at least 1".to_owned());
        }
        if outbox.max_backoff < outbox.min_backoff {
            problems.push("outbox.max_backoff must not be below min_backoff".to_owned());
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.filter).is_err() {
            problems.push(format!(
                "log.filter {:?} is not a valid filter",
                self.log.filter
            ));
        }
        for (i, token) in self.auth.tokens.iter().enumerate() {
            if token.sha256.len() != 64 || hex::decode(&token.sha256).is_err() {
                problems.push(format!("auth.tokens[{i}].sha256 must be 64 hex digits"));
            }
            if let Err(e) = token.principal.parse::<crate::principal::Principal>() {
                problems.push(format!("auth.tokens[{i}].principal: {e}"));
            }
        }
        let jwt = &self.auth.jwt;
        if let Err(e) = crate::jwt::patterns(&jwt.signing_key_principals) {
            problems.push(format!("auth.jwt.signing_key_principals: {e}"));
        }
        for (i, key) in jwt.trusted_keys.iter().enumerate() {
            if key.algorithm.parse::<jsonwebtoken::Algorithm>().is_err() {
                problems.push(format!(
                    "auth.jwt.trusted_keys[{i}].algorithm {:?} is unknown",
                    key.algorithm
                ));
            }
            if key.principals.is_empty() {
                problems.push(format!(
                    "auth.jwt.trusted_keys[{i}].principals: name whom its tokens may speak for"
                ));
            }
            if let Err(e) = crate::jwt::patterns(&key.principals) {
                problems.push(format!("auth.jwt.trusted_keys[{i}].principals: {e}"));
            }
        }
        for (i, provider) in jwt.identity_providers.iter().enumerate() {
            if provider.audiences.is_empty() || provider.rules.is_empty() {
                problems.push(format!(
                    "auth.jwt.identity_providers[{i}] needs audiences and rules"
                ));
            }
        }
        for (name, lifetime) in [
            ("staff", jwt.max_lifetime.staff),
            ("member", jwt.max_lifetime.member),
            ("agency", jwt.max_lifetime.agency),
            ("service", jwt.max_lifetime.service),
        ] {
            if lifetime.is_zero() || lifetime > Duration::from_secs(90 * 24 * 3600) {
                problems.push(format!(
                    "auth.jwt.max_lifetime.{name} must be above zero and at most 90 days"
                ));
            }
        }
        if !self.auth.generate_secrets
            && self.auth.tokens.is_empty()
            && jwt.signing_key_file.is_none()
            && jwt.trusted_keys.is_empty()
            && jwt.identity_providers.is_empty()
        {
            problems.push(
                "auth: no way to authenticate anyone: configure auth.tokens, auth.jwt keys or identity providers, or generate_secrets"
                    .to_owned(),
            );
        }
        problems
    }

    /// The file of a generated secret under the data directory.
    pub fn data_file(&self, name: &str) -> PathBuf {
        self.data_dir.join(name)
    }

    /// The default embedded database of a service: `<data_dir>/<service>.db`.
    pub fn sqlite_url(&self, service: &str) -> String {
        sqlite_url(&self.data_dir.join(format!("{service}.db")))
    }
}

/// Refuses a configuration with problems, naming each on a line of its own.
pub fn ensure_valid(problems: Vec<String>) -> anyhow::Result<()> {
    anyhow::ensure!(
        problems.is_empty(),
        "invalid configuration:\n  {}",
        problems.join("\n  ")
    );
    Ok(())
}

/// A SQLite URL that creates the file if missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// Loads `T` from its defaults, an optional TOML file, `ASSAY_` environment variables and
/// `overrides` (command-line flags, already shaped like the configuration).
pub fn load<T>(file: Option<&Path>, overrides: impl Serialize) -> anyhow::Result<T>
where
    T: Default + Serialize + DeserializeOwned,
{
    let mut figment = Figment::from(Serialized::defaults(T::default()));
    if let Some(file) = file {
        anyhow::ensure!(
            file.exists(),
            "configuration file {} does not exist",
            file.display()
        );
        figment = figment.merge(Toml::file(file));
    }
    figment = figment
        // ASSAY_CONFIG names the file itself, ASSAY_ADMIN_* what `assay admin` calls with
        // (flags' environment variables), ASSAY_REQUIRE_POSTGRES what the tests need: not
        // keys.
        .merge(
            Env::prefixed("ASSAY_")
                .ignore(&["config", "admin_server", "admin_token", "require_postgres"])
                .split("__"),
        )
        .merge(Serialized::globals(overrides));
    figment
        .extract()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        assert!(PlatformConfig::default().problems().is_empty());
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment's Jail returns figment's error type
    fn file_environment_and_flags_layer_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("assay.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:6000\"\n[server]\nrequest_timeout = \"5s\"\nmax_concurrent_requests = 7\n",
        )
        .unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("ASSAY_SERVER__MAX_CONCURRENT_REQUESTS", "9");
            // Variables named ASSAY_ that are not configuration are left alone.
            jail.set_env("ASSAY_CONFIG", "ignored.toml");
            jail.set_env("ASSAY_ADMIN_SERVER", "http://elsewhere:1");
            jail.set_env("ASSAY_ADMIN_TOKEN", "t");
            jail.set_env("ASSAY_REQUIRE_POSTGRES", "1");
            let config: PlatformConfig = load(
                Some(&file),
                serde_json::json!({ "listen": "127.0.0.1:7000" }),
            )
            .unwrap();
            assert_eq!(config.listen.port(), 7000);
            assert_eq!(config.server.request_timeout, Duration::from_secs(5));
            assert_eq!(config.server.max_concurrent_requests, 9);
            Ok(())
        });
    }

    #[test]
    fn problems_are_named() {
        let mut config = PlatformConfig::default();
        config.server.max_concurrent_requests = 0;
        config.auth.tokens.push(StaticToken {
            sha256: "xyz".into(),
            principal: "staff:bob".into(),
        });
        let problems = config.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("assay.toml");
        std::fs::write(&file, "[server]\nrequest_timeuot = \"5s\"\n").unwrap();
        let error = load::<PlatformConfig>(Some(&file), serde_json::json!({})).unwrap_err();
        assert!(error.to_string().contains("request_timeuot"), "{error}");
    }
}
