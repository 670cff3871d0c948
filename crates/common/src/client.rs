//! Calls from one Assay service to another: a channel to the peer, and an interceptor that
//! presents this process's service credentials and propagates the current trace.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

use crate::jwt::TokenSigner;
use crate::principal::Principal;

/// How long a minted service token lives, and when it is renewed.
const SERVICE_TOKEN_TTL: Duration = Duration::from_secs(600);
const SERVICE_TOKEN_RENEW: Duration = Duration::from_secs(480);

/// What a service presents to its peers: a bearer token, and over TLS its certificate.
#[derive(Clone, Default)]
pub struct ServiceCredentials {
    source: Option<Arc<Source>>,
    tls: Option<ClientTlsConfig>,
}

enum Source {
    Static(String),
    Minted {
        signer: Box<TokenSigner>,
        principal: Principal,
        cached: Mutex<Option<(String, Instant)>>,
    },
}

impl std::fmt::Debug for ServiceCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.source.as_deref() {
            None => "none",
            Some(Source::Static(_)) => "static",
            Some(Source::Minted { .. }) => "minted",
        };
        write!(f, "ServiceCredentials({kind}, tls: {})", self.tls.is_some())
    }
}

impl ServiceCredentials {
    pub fn none() -> Self {
        Self::default()
    }

    pub fn fixed(token: String) -> Self {
        Self {
            source: Some(Arc::new(Source::Static(token))),
            tls: None,
        }
    }

    /// Calls go over TLS with this configuration (and its client certificate, if any).
    pub fn with_tls(mut self, tls: Option<ClientTlsConfig>) -> Self {
        self.tls = tls;
        self
    }

    /// Short-lived JWTs for `service:<name>`, signed here and renewed before they expire.
    pub fn minted(signer: TokenSigner, name: &str) -> Self {
        Self {
            source: Some(Arc::new(Source::Minted {
                signer: Box::new(signer),
                principal: Principal::Service {
                    name: name.to_owned(),
                },
                cached: Mutex::new(None),
            })),
            tls: None,
        }
    }

    pub fn bearer(&self) -> Option<String> {
        match self.source.as_deref()? {
            Source::Static(token) => Some(token.clone()),
            Source::Minted {
                signer,
                principal,
                cached,
            } => {
                let mut cached = cached.lock().unwrap_or_else(|e| e.into_inner());
                if let Some((token, minted)) = cached.as_ref()
                    && minted.elapsed() < SERVICE_TOKEN_RENEW
                {
                    return Some(token.clone());
                }
                match signer.mint(principal, SERVICE_TOKEN_TTL) {
                    Ok(token) => {
                        *cached = Some((token.clone(), Instant::now()));
                        Some(token)
                    }
                    Err(error) => {
                        tracing::error!(%error, "minting a service token failed");
                        None
                    }
                }
            }
        }
    }
}

/// Adds `authorization`, `traceparent` and, for a caller who prefers a language other than
/// English, `accept-language` to every outgoing request.
#[derive(Clone, Debug)]
pub struct Outgoing {
    credentials: ServiceCredentials,
}

impl Interceptor for Outgoing {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(token) = self.credentials.bearer() {
            let value = format!("Bearer {token}")
                .parse()
                .map_err(|_| tonic::Status::internal("service token is not a valid header"))?;
            request.metadata_mut().insert("authorization", value);
        }
        crate::telemetry::inject_context(request.metadata_mut());
        // A call made for a caller answers in the caller's language.
        let language = crate::language::current();
        if language != crate::language::Language::English {
            request.metadata_mut().insert(
                "accept-language",
                tonic::metadata::MetadataValue::from_static(language.tag()),
            );
        }
        Ok(request)
    }
}

/// A channel to a peer service with credentials and trace propagation.
pub type PeerChannel = InterceptedService<Channel, Outgoing>;

/// A lazily connecting channel to `endpoint` (e.g. `http://127.0.0.1:50051`, or
/// `https://...` when the credentials carry TLS).
pub fn connect(endpoint: &str, credentials: ServiceCredentials) -> anyhow::Result<PeerChannel> {
    let mut builder = Endpoint::from_shared(endpoint.to_owned())?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_while_idle(true);
    if let Some(tls) = credentials.tls.clone() {
        builder = builder.tls_config(tls)?;
    }
    let channel = builder.connect_lazy();
    Ok(InterceptedService::new(channel, Outgoing { credentials }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::language::{Language, speaking};

    #[test]
    fn a_call_made_for_a_caller_asks_for_the_callers_language() {
        let mut outgoing = Outgoing {
            credentials: ServiceCredentials::fixed("t0k3n".to_owned()),
        };
        let mut call = || outgoing.call(tonic::Request::new(())).unwrap();
        let english = call();
        assert_eq!(
            english.metadata().get("authorization").unwrap(),
            "Bearer t0k3n"
        );
        assert!(english.metadata().get("accept-language").is_none());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let chinese = runtime.block_on(speaking(Language::SimplifiedChinese, async { call() }));
        assert_eq!(
            chinese.metadata().get("accept-language").unwrap(),
            "zh-Hans"
        );
    }
}
