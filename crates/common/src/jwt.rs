//! Signed bearer tokens: the ones Assay mints, and those an identity provider issues.
//!
//! Tokens are signed with asymmetric keys (Ed25519, or whatever an identity provider uses)
//! and name their key by `kid`, so a process that only verifies holds public keys only.
//! Every trusted key says which principals its tokens may name: a service's own key names
//! that service and nothing else, so a stolen pod key cannot mint an admin. Tokens carry
//! `iss`, `aud` (a string or a list), `exp`, `iat`, optionally `nbf`, and `jti`, by which
//! they can be revoked; a token may live no longer than its kind of principal allows.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, spki::der::pem};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::principal::Principal;

/// Clock skew tolerated between issuer and verifier, in seconds.
const LEEWAY: u64 = 30;

/// The longest a token may live, per kind of principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lifetimes {
    #[serde(with = "humantime_serde")]
    pub staff: Duration,
    #[serde(with = "humantime_serde")]
    pub member: Duration,
    #[serde(with = "humantime_serde")]
    pub agency: Duration,
    #[serde(with = "humantime_serde")]
    pub service: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            staff: Duration::from_secs(12 * 3600),
            member: Duration::from_secs(7 * 24 * 3600),
            agency: Duration::from_secs(7 * 24 * 3600),
            service: Duration::from_secs(24 * 3600),
        }
    }
}

impl Lifetimes {
    pub fn of(&self, principal: &Principal) -> Duration {
        match principal {
            Principal::Staff { .. } => self.staff,
            Principal::Member { .. } => self.member,
            Principal::Agency { .. } => self.agency,
            Principal::Service { .. } => self.service,
        }
    }
}

/// Which principals a key's tokens may name: `*`, `<kind>:*` or one principal such as
/// `service:screening` or `member:mbr_...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalPattern {
    kind: Option<String>,
    id: Option<String>,
}

impl std::str::FromStr for PrincipalPattern {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "*" {
            return Ok(Self {
                kind: None,
                id: None,
            });
        }
        let (kind, id) = s
            .split_once(':')
            .ok_or_else(|| format!("{s:?}: expected *, <kind>:* or <kind>:<id>"))?;
        if !matches!(kind, "staff" | "member" | "agency" | "service") || id.is_empty() {
            return Err(format!("{s:?}: expected *, <kind>:* or <kind>:<id>"));
        }
        Ok(Self {
            kind: Some(kind.to_owned()),
            id: (id != "*").then(|| id.to_owned()),
        })
    }
}

impl PrincipalPattern {
    pub fn matches(&self, principal: &Principal) -> bool {
        let (kind, id) = match principal {
            Principal::Staff { subject, .. } => ("staff", subject.as_str()),
            Principal::Member { member_id, .. } => ("member", member_id.as_str()),
            Principal::Agency { agency_id, .. } => ("agency", agency_id.as_str()),
            Principal::Service { name } => ("service", name.as_str()),
        };
        self.kind.as_deref().is_none_or(|k| k == kind) && self.id.as_deref().is_none_or(|i| i == id)
    }
}

/// Parses principal patterns, naming the bad one.
pub fn patterns(texts: &[String]) -> Result<Vec<PrincipalPattern>, String> {
    texts.iter().map(|t| t.parse()).collect()
}

fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// Claims of a token Assay mints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    #[serde(deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    pub iat: u64,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// The token's id, by which it can be revoked.
    pub jti: String,
    /// `staff`, `member`, `agency` or `service`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<crate::principal::Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_id: Option<String>,
}

impl Claims {
    fn into_principal(self) -> Result<Principal, String> {
        match self.kind.as_str() {
            "staff" if !self.roles.is_empty() => Ok(Principal::Staff {
                subject: self.sub,
                roles: self.roles,
            }),
            "member" => Ok(Principal::Member {
                member_id: self.member_id.ok_or("member token without member_id")?,
                subject: self.sub,
            }),
            "agency" => Ok(Principal::Agency {
                agency_id: self.agency_id.ok_or("agency token without agency_id")?,
                subject: self.sub,
            }),
            "service" => Ok(Principal::Service { name: self.sub }),
            _ => Err("token has no valid kind".to_owned()),
        }
    }

    pub fn for_principal(
        principal: &Principal,
        issuer: &str,
        audience: &str,
        ttl: Duration,
    ) -> Self {
        let iat = jsonwebtoken::get_current_timestamp();
        let mut claims = Claims {
            sub: String::new(),
            iss: issuer.to_owned(),
            aud: vec![audience.to_owned()],
            iat,
            exp: iat + ttl.as_secs(),
            nbf: None,
            jti: uuid::Uuid::now_v7().simple().to_string(),
            kind: String::new(),
            roles: Vec::new(),
            member_id: None,
            agency_id: None,
        };
        match principal {
            Principal::Staff { subject, roles } => {
                claims.kind = "staff".into();
                claims.sub = subject.clone();
                claims.roles = roles.clone();
            }
            Principal::Member { subject, member_id } => {
                claims.kind = "member".into();
                claims.sub = subject.clone();
                claims.member_id = Some(member_id.clone());
            }
            Principal::Agency { subject, agency_id } => {
                claims.kind = "agency".into();
                claims.sub = subject.clone();
                claims.agency_id = Some(agency_id.clone());
            }
            Principal::Service { name } => {
                claims.kind = "service".into();
                claims.sub = name.clone();
            }
        }
        claims
    }
}

/// A public key that verifies Assay's tokens, and whom they may name.
pub struct TrustedKey {
    pub kid: String,
    pub algorithm: Algorithm,
    pub key: DecodingKey,
    pub may_name: Vec<PrincipalPattern>,
}

impl TrustedKey {
    /// A PEM public key (Ed25519, ECDSA or RSA, per `algorithm`).
    pub fn from_pem(
        kid: &str,
        algorithm: Algorithm,
        pem: &[u8],
        may_name: Vec<PrincipalPattern>,
    ) -> anyhow::Result<Self> {
        use Algorithm::*;
        let key = match algorithm {
            EdDSA => DecodingKey::from_ed_pem(pem)?,
            ES256 | ES384 => DecodingKey::from_ec_pem(pem)?,
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => DecodingKey::from_rsa_pem(pem)?,
            other => anyhow::bail!("{other:?} is not an asymmetric algorithm"),
        };
        Ok(Self {
            kid: kid.to_owned(),
            algorithm,
            key,
            may_name,
        })
    }
}

/// How an identity provider's claims become a principal: when `claim` holds `equals` (or,
/// without `equals`, any value), the principal is `principal` with `{sub}` and `{value}`
/// replaced. The first rule that matches wins.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ClaimRule {
    pub claim: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    pub principal: String,
}

impl ClaimRule {
    fn apply(&self, claims: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
        let sub = claims.get("sub")?.as_str()?;
        let values: Vec<&str> = match claims.get(&self.claim)? {
            serde_json::Value::String(one) => vec![one.as_str()],
            serde_json::Value::Array(many) => many.iter().filter_map(|v| v.as_str()).collect(),
            _ => return None,
        };
        let value = values
            .into_iter()
            .find(|v| self.equals.as_deref().is_none_or(|e| e == *v))?;
        // Ids from a token go into a principal's text: keep separators out.
        if value.contains(':') || sub.contains(':') || value.is_empty() {
            return None;
        }
        Some(
            self.principal
                .replace("{sub}", sub)
                .replace("{value}", value),
        )
    }
}

/// An external identity provider whose tokens Assay accepts.
pub struct Provider {
    pub issuer: String,
    pub audiences: Vec<String>,
    /// Its keys, by `kid`, from its JWKS document.
    pub keys: Vec<(String, Algorithm, DecodingKey)>,
    pub rules: Vec<ClaimRule>,
}

impl Provider {
    /// Reads the provider's keys from a JWKS document (`{"keys": [...]}`).
    pub fn from_jwks(
        issuer: &str,
        audiences: Vec<String>,
        jwks: &str,
        rules: Vec<ClaimRule>,
    ) -> anyhow::Result<Self> {
        let set: JwkSet = serde_json::from_str(jwks)?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            let kid = jwk
                .common
                .key_id
                .clone()
                .ok_or_else(|| anyhow::anyhow!("a key of {issuer} has no kid"))?;
            let algorithm = match jwk.common.key_algorithm {
                Some(alg) => Algorithm::try_from(alg)
                    .map_err(|e| anyhow::anyhow!("key {kid} of {issuer}: {e}"))?,
                None => anyhow::bail!("key {kid} of {issuer} names no alg"),
            };
            keys.push((kid, algorithm, DecodingKey::from_jwk(jwk)?));
        }
        Ok(Self {
            issuer: issuer.to_owned(),
            audiences,
            keys,
            rules,
        })
    }
}

/// Token ids that are refused, from a file of one id per line (`#` starts a comment),
/// re-read when it changes.
pub struct Revocations {
    path: Option<PathBuf>,
    state: Mutex<RevocationState>,
}

#[derive(Default)]
struct RevocationState {
    ids: HashSet<String>,
    modified: Option<SystemTime>,
    checked: Option<Instant>,
}

/// How often the revocation file is looked at.
/// What a token says of itself, read without checking its signature: enough to revoke it
/// (its id, whom it names as "<kind> <subject>", when it expires). None when it is not a
/// JWT with an id.
pub fn unverified_id(token: &str) -> Option<(String, String, u64)> {
    use base64::Engine;
    let payload = token.trim().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    #[derive(Deserialize)]
    struct Said {
        #[serde(default)]
        jti: String,
        #[serde(default)]
        sub: String,
        #[serde(default)]
        kind: String,
        #[serde(default)]
        exp: u64,
    }
    let said: Said = serde_json::from_slice(&bytes).ok()?;
    let whom = format!("{} {}", said.kind, said.sub).trim().to_owned();
    (!said.jti.is_empty()).then_some((said.jti, whom, said.exp))
}

/// Adds a token id to the revocation file (made if missing), with a note after `#`; false
/// when it was there already. Every process re-reads the file within seconds.
pub fn revoke(file: &std::path::Path, jti: &str, note: &str) -> std::io::Result<bool> {
    use std::io::Write;
    let valid = !jti.is_empty()
        && jti.len() <= 128
        && jti.chars().all(|c| c.is_ascii_graphic() && c != '#');
    if !valid {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "a token id is 1 to 128 printable ASCII characters, without '#'",
        ));
    }
    let listed = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error),
    };
    if listed
        .lines()
        .any(|line| line.split('#').next().unwrap_or("").trim() == jti)
    {
        return Ok(false);
    }
    let note = note.replace(['\n', '\r'], " ");
    let mut out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)?;
    let separator = if listed.is_empty() || listed.ends_with('\n') {
        ""
    } else {
        "\n"
    };
    writeln!(out, "{separator}{jti}  # {note}")?;
    out.sync_all()?;
    Ok(true)
}

const REVOCATION_CHECK: Duration = Duration::from_secs(2);

impl Revocations {
    pub fn none() -> Self {
        Self {
            path: None,
            state: Mutex::default(),
        }
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let revocations = Self {
            path: Some(path.to_owned()),
            state: Mutex::default(),
        };
        revocations.reload()?;
        Ok(revocations)
    }

    fn reload(&self) -> anyhow::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let modified = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        state.checked = Some(Instant::now());
        if state.modified == Some(modified) {
            return Ok(());
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        state.ids = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        state.modified = Some(modified);
        Ok(())
    }

    /// Whether `jti` is revoked. A revocation file that cannot be read refuses every token
    /// that has an id, rather than let a revoked one through.
    pub fn is_revoked(&self, jti: &str) -> bool {
        if self.path.is_none() {
            return false;
        }
        let stale = self
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .checked
            .is_none_or(|at| at.elapsed() >= REVOCATION_CHECK);
        if stale && let Err(error) = self.reload() {
            tracing::error!(%error, "cannot read the revoked token ids: refusing tokens");
            return true;
        }
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ids
            .contains(jti)
    }
}

/// Verifies tokens: Assay's own, by the trusted keys, and identity providers', by theirs.
pub struct Verifier {
    pub issuer: String,
    pub audience: String,
    pub keys: Vec<TrustedKey>,
    pub providers: Vec<Provider>,
    pub lifetimes: Lifetimes,
    pub revocations: Revocations,
    pub verified: VerifiedTokens,
}

/// Tokens whose signature and claims were checked, so that a caller's every call does not
/// pay for the signature again (an Ed25519 check costs more than the rest of a one-row
/// read). An entry is used only until the token expires, and revocation is asked on every
/// use; what a principal may do is still checked live on every call.
#[derive(Default)]
pub struct VerifiedTokens(Mutex<HashMap<[u8; 32], Verified>>);

struct Verified {
    principal: Principal,
    exp: u64,
    jti: String,
}

/// Tokens remembered at most; when full, the memory starts again.
const VERIFIED_TOKENS: usize = 10_000;

impl VerifiedTokens {
    fn get(&self, digest: &[u8; 32], now: u64) -> Option<(Principal, String)> {
        let verified = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let entry = verified.get(digest)?;
        (now < entry.exp).then(|| (entry.principal.clone(), entry.jti.clone()))
    }

    fn insert(&self, digest: [u8; 32], entry: Verified) {
        let mut verified = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if verified.len() >= VERIFIED_TOKENS {
            verified.clear();
        }
        verified.insert(digest, entry);
    }

    /// How many tokens are remembered.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn invalid(why: impl std::fmt::Display) -> ApiError {
    ApiError::Unauthenticated(format!("invalid token: {why}"))
}

impl Verifier {
    /// Verifies nothing: for processes that authenticate nobody.
    pub fn none() -> Self {
        Self {
            issuer: String::new(),
            audience: String::new(),
            keys: Vec::new(),
            providers: Vec::new(),
            lifetimes: Lifetimes::default(),
            revocations: Revocations::none(),
            verified: VerifiedTokens::default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.providers.is_empty()
    }

    fn validation(&self, algorithm: Algorithm, issuer: &str, audiences: &[String]) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[issuer]);
        validation.set_audience(audiences);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY;
        validation
    }

    /// Refuses a token that lives longer than `max`, counted from when it was issued or
    /// from now, whichever is later (an issue time in the future buys no extra life).
    fn check_lifetime(&self, iat: u64, exp: u64, max: Duration) -> ApiResult<()> {
        let now = jsonwebtoken::get_current_timestamp();
        let max = max.as_secs() + LEEWAY;
        if exp.saturating_sub(iat) > max || exp.saturating_sub(now) > max {
            return Err(invalid(format!(
                "it lives longer than its principal may ({})",
                humantime::format_duration(Duration::from_secs(max - LEEWAY))
            )));
        }
        Ok(())
    }

    pub fn verify(&self, token: &str) -> ApiResult<Principal> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = jsonwebtoken::get_current_timestamp();
        if let Some((principal, jti)) = self.verified.get(&digest, now) {
            return if !jti.is_empty() && self.revocations.is_revoked(&jti) {
                Err(ApiError::Unauthenticated(
                    "the token was revoked".to_owned(),
                ))
            } else {
                Ok(principal)
            };
        }
        let verified = self.check(token)?;
        let principal = verified.principal.clone();
        self.verified.insert(digest, verified);
        Ok(principal)
    }

    /// Checks a token's signature and claims.
    fn check(&self, token: &str) -> ApiResult<Verified> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("malformed"))?;
        let kid = header.kid.as_deref();
        // A token without a kid is accepted only where one key could have signed it.
        let own = match kid {
            Some(kid) => self.keys.iter().find(|k| k.kid == kid),
            None if self.keys.len() == 1 && self.providers.is_empty() => self.keys.first(),
            None => return Err(invalid("it names no key (kid)")),
        };
        if let Some(key) = own {
            if key.algorithm != header.alg {
                return Err(invalid("its algorithm is not its key's"));
            }
            let validation = self.validation(
                key.algorithm,
                &self.issuer,
                std::slice::from_ref(&self.audience),
            );
            let claims = jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
                .map_err(invalid)?
                .claims;
            if self.revocations.is_revoked(&claims.jti) {
                return Err(ApiError::Unauthenticated(
                    "the token was revoked".to_owned(),
                ));
            }
            let (iat, exp, jti) = (claims.iat, claims.exp, claims.jti.clone());
            let principal = claims.into_principal().map_err(invalid)?;
            self.check_lifetime(iat, exp, self.lifetimes.of(&principal))?;
            if !key.may_name.iter().any(|p| p.matches(&principal)) {
                return Err(invalid(format!(
                    "key {} may not sign for {}",
                    key.kid,
                    principal.actor()
                )));
            }
            return Ok(Verified {
                principal,
                exp,
                jti,
            });
        }
        let kid = kid.unwrap_or_default();
        for provider in &self.providers {
            let Some((_, algorithm, key)) = provider.keys.iter().find(|(k, _, _)| k == kid) else {
                continue;
            };
            if *algorithm != header.alg {
                return Err(invalid("its algorithm is not its key's"));
            }
            let validation = self.validation(*algorithm, &provider.issuer, &provider.audiences);
            let claims = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
                token,
                key,
                &validation,
            )
            .map_err(invalid)?
            .claims;
            if let Some(jti) = claims.get("jti").and_then(|v| v.as_str())
                && self.revocations.is_revoked(jti)
            {
                return Err(ApiError::Unauthenticated(
                    "the token was revoked".to_owned(),
                ));
            }
            let principal: Principal = provider
                .rules
                .iter()
                .find_map(|rule| rule.apply(&claims))
                .ok_or_else(|| invalid("no rule maps its claims to a principal"))?
                .parse()
                .map_err(invalid)?;
            let number = |name: &str| claims.get(name).and_then(|v| v.as_u64()).unwrap_or(0);
            self.check_lifetime(number("iat"), number("exp"), self.lifetimes.of(&principal))?;
            let jti = claims
                .get("jti")
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            return Ok(Verified {
                principal,
                exp: number("exp"),
                jti: jti.to_owned(),
            });
        }
        Err(invalid("no trusted key has its kid"))
    }
}

/// Signs the tokens this process mints, with an Ed25519 key.
#[derive(Clone)]
pub struct TokenSigner {
    kid: String,
    key: std::sync::Arc<EncodingKey>,
    issuer: String,
    audience: String,
    may_name: Vec<PrincipalPattern>,
    lifetimes: Lifetimes,
}

impl std::fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSigner")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// A signer from an Ed25519 private key in PKCS#8 PEM.
    pub fn from_ed25519_pem(
        kid: &str,
        pem: &str,
        issuer: &str,
        audience: &str,
        may_name: Vec<PrincipalPattern>,
        lifetimes: Lifetimes,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            kid: kid.to_owned(),
            key: std::sync::Arc::new(EncodingKey::from_ed_pem(pem.as_bytes())?),
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            may_name,
            lifetimes,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The longest a token for `principal` may live.
    pub fn max_lifetime(&self, principal: &Principal) -> Duration {
        self.lifetimes.of(principal)
    }

    /// A token for `principal` that lives `ttl`, refused beyond the principal's lifetime or
    /// for a principal this key may not name.
    pub fn mint(&self, principal: &Principal, ttl: Duration) -> anyhow::Result<String> {
        let max = self.lifetimes.of(principal);
        anyhow::ensure!(
            ttl <= max,
            "a token for {} may live at most {} (auth.jwt.max_lifetime)",
            principal.actor(),
            humantime::format_duration(max)
        );
        anyhow::ensure!(
            self.may_name.iter().any(|p| p.matches(principal)),
            "key {} may not sign for {}",
            self.kid,
            principal.actor()
        );
        let claims = Claims::for_principal(principal, &self.issuer, &self.audience, ttl);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.key)?)
    }
}

/// A new Ed25519 key pair: (private key as PKCS#8 PEM, public key as SPKI PEM).
pub fn generate_ed25519() -> anyhow::Result<(String, String)> {
    let seed: [u8; 32] = rand::random();
    let key = ed25519_dalek::SigningKey::from_bytes(&seed);
    let private = key
        .to_pkcs8_pem(pem::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the private key: {e}"))?;
    let public = key
        .verifying_key()
        .to_public_key_pem(pem::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the public key: {e}"))?;
    Ok((private.to_string(), public))
}

/// The public key (SPKI PEM) of an Ed25519 private key in PKCS#8 PEM.
pub fn ed25519_public_pem(private_pem: &str) -> anyhow::Result<String> {
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(private_pem)
        .map_err(|e| anyhow::anyhow!("not an Ed25519 private key in PKCS#8 PEM: {e}"))?;
    key.verifying_key()
        .to_public_key_pem(pem::LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the public key: {e}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn revoking_lists_an_id_once_with_its_note() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("revoked");
        std::fs::write(&file, "older  # kept\nno-newline-at-end").unwrap();
        assert!(revoke(&file, "abc123", "staff:ann:admin; lost").unwrap());
        assert!(!revoke(&file, "abc123", "again").unwrap());
        assert!(!revoke(&file, "older", "again").unwrap());
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "older  # kept\nno-newline-at-end\nabc123  # staff:ann:admin; lost\n"
        );
        for bad in ["", "a b", "a#b", &"x".repeat(129)] {
            assert!(revoke(&file, bad, "").is_err(), "{bad:?}");
        }
        let fresh = dir.path().join("new");
        assert!(revoke(&fresh, "id-1", "multi\nline").unwrap());
        assert_eq!(
            std::fs::read_to_string(&fresh).unwrap(),
            "id-1  # multi line\n"
        );
    }

    #[test]
    fn a_token_names_its_id_unverified() {
        use base64::Engine;
        let part = |json: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let token = format!(
            "{}.{}.sig",
            part("{}"),
            part(r#"{"jti":"j1","sub":"s","kind":"staff","exp":5}"#)
        );
        assert_eq!(
            unverified_id(&token),
            Some(("j1".into(), "staff s".into(), 5))
        );
        assert_eq!(
            unverified_id(&format!("x.{}.y", part(r#"{"sub":"s"}"#))),
            None
        );
        assert_eq!(unverified_id("not-a-jwt"), None);
        assert_eq!(unverified_id("a.!!!.c"), None);
    }

    use super::*;

    fn everyone() -> Vec<PrincipalPattern> {
        vec!["*".parse().unwrap()]
    }

    fn pair(kid: &str, may_name: &[&str]) -> (TokenSigner, TrustedKey) {
        let (private, public) = generate_ed25519().unwrap();
        let patterns: Vec<PrincipalPattern> = may_name.iter().map(|p| p.parse().unwrap()).collect();
        let signer = TokenSigner::from_ed25519_pem(
            kid,
            &private,
            "assay",
            "assay",
            everyone(),
            Lifetimes::default(),
        )
        .unwrap();
        let key = TrustedKey::from_pem(kid, Algorithm::EdDSA, public.as_bytes(), patterns).unwrap();
        (signer, key)
    }

    fn verifier(keys: Vec<TrustedKey>) -> Verifier {
        Verifier {
            issuer: "assay".into(),
            audience: "assay".into(),
            keys,
            providers: Vec::new(),
            lifetimes: Lifetimes::default(),
            revocations: Revocations::none(),
            verified: VerifiedTokens::default(),
        }
    }

    fn sign(key: &EncodingKey, kid: &str, claims: &impl Serialize, alg: Algorithm) -> String {
        let mut header = Header::new(alg);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, key).unwrap()
    }

    #[test]
    fn tokens_verify_by_kid_and_name_only_what_their_key_may() {
        let (local, local_key) = pair("local", &["*"]);
        let (screening, screening_key) = pair("screening-1", &["service:screening"]);
        let verifier = verifier(vec![local_key, screening_key]);
        let admin: Principal = "staff:root:admin".parse().unwrap();
        let token = local.mint(&admin, Duration::from_secs(60)).unwrap();
        assert_eq!(verifier.verify(&token).unwrap(), admin);

        let own: Principal = "service:screening".parse().unwrap();
        let token = screening.mint(&own, Duration::from_secs(60)).unwrap();
        assert_eq!(verifier.verify(&token).unwrap(), own);
        // A stolen service key cannot mint an admin.
        let forged = screening.mint(&admin, Duration::from_secs(60)).unwrap();
        let refused = verifier.verify(&forged).unwrap_err();
        assert!(refused.to_string().contains("may not sign"), "{refused}");

        // Another key under a trusted kid does not verify.
        let (impostor, _) = pair("local", &["*"]);
        let token = impostor.mint(&admin, Duration::from_secs(60)).unwrap();
        assert!(verifier.verify(&token).is_err());
    }

    #[test]
    fn lifetimes_are_capped_at_mint_and_at_verification() {
        let (signer, key) = pair("local", &["*"]);
        let admin: Principal = "staff:root:admin".parse().unwrap();
        let century = Duration::from_secs(100 * 365 * 24 * 3600);
        assert!(signer.mint(&admin, century).is_err(), "refused at mint");

        // Minted elsewhere with the same key, against the rules.
        let (private, public) = generate_ed25519().unwrap();
        let key_of_someone = EncodingKey::from_ed_pem(private.as_bytes()).unwrap();
        let verifier = verifier(vec![
            key,
            TrustedKey::from_pem("other", Algorithm::EdDSA, public.as_bytes(), everyone()).unwrap(),
        ]);
        let claims = Claims::for_principal(&admin, "assay", "assay", century);
        let token = sign(&key_of_someone, "other", &claims, Algorithm::EdDSA);
        let refused = verifier.verify(&token).unwrap_err();
        assert!(refused.to_string().contains("lives longer"), "{refused}");

        // Not yet valid.
        let mut early = Claims::for_principal(&admin, "assay", "assay", Duration::from_secs(60));
        early.nbf = Some(early.iat + 3600);
        let token = sign(&key_of_someone, "other", &early, Algorithm::EdDSA);
        assert!(verifier.verify(&token).is_err(), "nbf is honoured");
    }

    #[test]
    fn the_audience_may_be_a_string_or_a_list() {
        let (private, public) = generate_ed25519().unwrap();
        let encoding = EncodingKey::from_ed_pem(private.as_bytes()).unwrap();
        let verifier = verifier(vec![
            TrustedKey::from_pem("k", Algorithm::EdDSA, public.as_bytes(), everyone()).unwrap(),
        ]);
        let now = jsonwebtoken::get_current_timestamp();
        for aud in [
            serde_json::json!("assay"),
            serde_json::json!(["portal", "assay"]),
        ] {
            let claims = serde_json::json!({
                "sub": "mbr_1", "iss": "assay", "aud": aud, "iat": now, "exp": now + 60,
                "jti": "j1", "kind": "member", "member_id": "mbr_1",
            });
            let token = sign(&encoding, "k", &claims, Algorithm::EdDSA);
            assert!(verifier.verify(&token).is_ok(), "aud {aud}");
        }
        let claims = serde_json::json!({
            "sub": "mbr_1", "iss": "assay", "aud": ["portal"], "iat": now, "exp": now + 60,
            "jti": "j1", "kind": "member", "member_id": "mbr_1",
        });
        let token = sign(&encoding, "k", &claims, Algorithm::EdDSA);
        assert!(verifier.verify(&token).is_err(), "not for us");
    }

    #[test]
    fn revoked_token_ids_are_refused_once_written_down() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("revoked");
        std::fs::write(&file, "# none yet\n").unwrap();
        let (signer, key) = pair("local", &["*"]);
        let mut verifier = verifier(vec![key]);
        verifier.revocations = Revocations::from_file(&file).unwrap();
        let admin: Principal = "staff:root:admin".parse().unwrap();
        let token = signer.mint(&admin, Duration::from_secs(60)).unwrap();
        verifier.verify(&token).unwrap();
        let jti = jsonwebtoken::dangerous::insecure_decode::<Claims>(&token)
            .unwrap()
            .claims
            .jti;
        verifier.verify(&token).unwrap();
        assert_eq!(verifier.verified.len(), 1, "verified once, remembered");
        std::fs::write(&file, format!("{jti} # leaked in a ticket\n")).unwrap();
        verifier.revocations = Revocations::from_file(&file).unwrap();
        let refused = verifier.verify(&token).unwrap_err();
        assert!(refused.to_string().contains("revoked"), "{refused}");
    }

    #[test]
    fn a_remembered_token_is_used_only_until_it_expires() {
        let (signer, key) = pair("local", &["*"]);
        let verifier = verifier(vec![key]);
        let admin: Principal = "staff:root:admin".parse().unwrap();
        let token = signer.mint(&admin, Duration::from_secs(60)).unwrap();
        assert_eq!(verifier.verify(&token).unwrap(), admin);
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let now = jsonwebtoken::get_current_timestamp();
        assert!(verifier.verified.get(&digest, now).is_some());
        assert!(
            verifier.verified.get(&digest, now + 61).is_none(),
            "an expired token is checked again, and refused"
        );
        // A token that fails its check is not remembered.
        let tampered = format!("{}x", &token[..token.len() - 1]);
        assert!(verifier.verify(&tampered).is_err());
        assert_eq!(verifier.verified.len(), 1);
    }

    #[test]
    fn identity_provider_claims_map_to_principals() {
        // Signed as an OIDC provider signs: ES256, a kid, its JWKS published.
        let secret = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        let private_pem = {
            use p256::pkcs8::EncodePrivateKey;
            secret.to_pkcs8_pem(p256::pkcs8::LineEnding::LF).unwrap()
        };
        let mut jwk: serde_json::Value =
            serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap();
        jwk["kid"] = "idp-2026".into();
        jwk["alg"] = "ES256".into();
        jwk["use"] = "sig".into();
        let jwks = serde_json::json!({ "keys": [jwk] }).to_string();
        let rules = vec![
            ClaimRule {
                claim: "groups".into(),
                equals: Some("ip-legal".into()),
                principal: "staff:{sub}:legal".into(),
            },
            ClaimRule {
                claim: "assay_member".into(),
                equals: None,
                principal: "member:{value}:{sub}".into(),
            },
        ];
        let provider = Provider::from_jwks(
            "https://login.example.com",
            vec!["assay-api".into()],
            &jwks,
            rules,
        )
        .unwrap();
        let mut verifier = verifier(Vec::new());
        verifier.providers.push(provider);
        let encoding = EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap();
        let now = jsonwebtoken::get_current_timestamp();
        let token =
            |claims: serde_json::Value| sign(&encoding, "idp-2026", &claims, Algorithm::ES256);

        let legal = token(serde_json::json!({
            "iss": "https://login.example.com", "aud": ["assay-api", "other"],
            "sub": "lena", "iat": now, "exp": now + 600, "groups": ["staff", "ip-legal"],
        }));
        assert_eq!(
            verifier.verify(&legal).unwrap(),
            "staff:lena:legal".parse().unwrap()
        );
        let member = token(serde_json::json!({
            "iss": "https://login.example.com", "aud": "assay-api",
            "sub": "bob", "iat": now, "exp": now + 600, "assay_member": "mbr_7",
        }));
        assert_eq!(
            verifier.verify(&member).unwrap(),
            "member:mbr_7:bob".parse().unwrap()
        );
        let nobody = token(serde_json::json!({
            "iss": "https://login.example.com", "aud": "assay-api",
            "sub": "eve", "iat": now, "exp": now + 600, "groups": ["staff"],
        }));
        assert!(verifier.verify(&nobody).is_err(), "no rule matches");
        let wrong_issuer = token(serde_json::json!({
            "iss": "https://evil.example.com", "aud": "assay-api",
            "sub": "lena", "iat": now, "exp": now + 600, "groups": ["ip-legal"],
        }));
        assert!(verifier.verify(&wrong_issuer).is_err());
        let too_long = token(serde_json::json!({
            "iss": "https://login.example.com", "aud": "assay-api",
            "sub": "lena", "iat": now, "exp": now + 30 * 24 * 3600, "groups": ["ip-legal"],
        }));
        assert!(
            verifier.verify(&too_long).is_err(),
            "staff live 12 h at most"
        );
    }

    #[test]
    fn principal_patterns() {
        let p = |s: &str| s.parse::<PrincipalPattern>().unwrap();
        let screening: Principal = "service:screening".parse().unwrap();
        assert!(p("*").matches(&screening));
        assert!(p("service:*").matches(&screening));
        assert!(p("service:screening").matches(&screening));
        assert!(!p("service:cases").matches(&screening));
        assert!(!p("staff:*").matches(&screening));
        assert!("robot:*".parse::<PrincipalPattern>().is_err());
        assert!("service:".parse::<PrincipalPattern>().is_err());
    }
}
