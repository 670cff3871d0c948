//! The guard every call passes before its body is read: readiness, load shedding, the
//! caller's identity, the policy table, the tenant's standing, rates and stream quotas.

use super::*;

/// Who may call what: credentials, the policy tables, the live check of tenants, and who
/// hears of refusals.
#[derive(Clone)]
pub struct Gate {
    pub authenticator: Arc<Authenticator>,
    pub policies: Policies,
    pub directory: Directory,
    pub refusals: Refusals,
}

impl Gate {
    /// Authenticates the caller of `path`, applies its service's policy table and checks a
    /// tenant is live. `certificate`: the principal a verified client certificate names.
    async fn admit(
        &self,
        path: &str,
        authorization: Option<&str>,
        certificate: Option<Principal>,
    ) -> Result<Principal, (Option<Principal>, ApiError)> {
        // A bearer token speaks for the caller; without one, a client certificate may.
        let principal = match (authorization, certificate) {
            (None, Some(principal)) => principal,
            (authorization, _) => self
                .authenticator
                .authenticate(authorization)
                .map_err(|e| (None, e))?,
        };
        if let Some(decision) = self.policies.admit(path, &principal) {
            let checked = match decision {
                Ok(()) => self.directory.check(&principal).await,
                Err(error) => Err(error),
            };
            if let Err(error) = checked {
                return Err((Some(principal), error));
            }
        }
        Ok(principal)
    }
}

/// Readiness gate, load shedding, and the [`Gate`], in that order: a request is
/// authenticated and authorised before its body is read.
#[derive(Clone)]
pub struct GuardLayer {
    gate: Gate,
    pub(super) permits: Arc<Semaphore>,
    streams: Arc<StreamQuota>,
    rates: Arc<CallRates>,
    readiness: Readiness,
}

impl GuardLayer {
    pub fn new(gate: Gate, limits: Limits, readiness: Readiness) -> Self {
        Self {
            gate,
            permits: Arc::new(Semaphore::new(limits.max_concurrent_requests)),
            streams: Arc::new(StreamQuota::new(limits.max_streams_per_principal)),
            rates: Arc::new(CallRates::new(&limits.rates)),
            readiness,
        }
    }
}

/// What the guard admits at once.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Calls in flight, streams counted for as long as they are open.
    pub max_concurrent_requests: usize,
    /// Streams one principal may hold open.
    pub max_streams_per_principal: usize,
    /// Calls each principal may start per second.
    pub rates: RateLimits,
}

impl From<&ServerConfig> for Limits {
    fn from(config: &ServerConfig) -> Self {
        Self {
            max_concurrent_requests: config.max_concurrent_requests,
            max_streams_per_principal: config.max_streams_per_principal,
            rates: config.rate_limits,
        }
    }
}

/// The open streams of each principal.
struct StreamQuota {
    per_principal: usize,
    held: std::sync::Mutex<std::collections::HashMap<String, Arc<Semaphore>>>,
}

impl StreamQuota {
    fn new(per_principal: usize) -> Self {
        Self {
            per_principal,
            held: std::sync::Mutex::default(),
        }
    }

    /// A slot for one more open stream of `actor`, if it has one left.
    fn take(&self, actor: &str) -> Option<OwnedSemaphorePermit> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        // Principals holding nothing are forgotten, so the map stays as small as the set
        // of principals with open streams.
        if held.len() > 1024 {
            held.retain(|_, slots| slots.available_permits() < self.per_principal);
        }
        let slots = held
            .entry(actor.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_principal)))
            .clone();
        drop(held);
        slots.try_acquire_owned().ok()
    }
}

/// How fast each principal may start calls, by kind of principal.
struct CallRates {
    staff: DefaultKeyedRateLimiter<String>,
    member: DefaultKeyedRateLimiter<String>,
    agency: DefaultKeyedRateLimiter<String>,
    service: DefaultKeyedRateLimiter<String>,
}

impl CallRates {
    fn new(limits: &RateLimits) -> Self {
        let limiter = |rate: Rate| {
            let per_second = std::num::NonZeroU32::new(rate.per_second).unwrap_or(NonZeroU32::MIN);
            let burst = std::num::NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
            RateLimiter::keyed(Quota::per_second(per_second).allow_burst(burst))
        };
        Self {
            staff: limiter(limits.staff),
            member: limiter(limits.member),
            agency: limiter(limits.agency),
            service: limiter(limits.service),
        }
    }

    /// `Ok` when the principal may start one more call now, else how long to wait.
    fn check(&self, principal: &Principal) -> Result<(), std::time::Duration> {
        let limiter = match principal {
            Principal::Staff { .. } => &self.staff,
            Principal::Member { .. } => &self.member,
            Principal::Agency { .. } => &self.agency,
            Principal::Service { .. } => &self.service,
        };
        // Principals idle long enough to be back at a full burst are forgotten.
        if limiter.len() > 10_000 {
            limiter.retain_recent();
        }
        limiter
            .check_key(&principal.actor())
            .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }
}

/// RESOURCE_EXHAUSTED, saying when to try again.
fn exhausted(message: &str) -> Status {
    exhausted_for(message, std::time::Duration::from_secs(1))
}

fn exhausted_for(message: &str, retry_after: std::time::Duration) -> Status {
    use tonic_types::StatusExt;
    let mut details = crate::error::error_info(crate::error::reason::RATE_LIMITED, &[]);
    details.set_retry_info(Some(retry_after));
    Status::with_error_details(tonic::Code::ResourceExhausted, message, details)
}

impl<S> Layer<S> for GuardLayer {
    type Service = Guard<S>;

    fn layer(&self, inner: S) -> Guard<S> {
        Guard {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    layer: GuardLayer,
}

impl<S, B> Service<http::Request<B>> for Guard<S>
where
    S: Service<http::Request<tonic::body::Body>, Response = http::Response<tonic::body::Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body<Data = tonic::codegen::Bytes> + Send + 'static,
    B::Error: Into<tonic::codegen::StdError>,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        // The clone that was polled ready is the one that must be called.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);

        if is_open_path(request.uri().path()) {
            return Box::pin(inner.call(request.map(tonic::body::Body::new)));
        }
        if !self.layer.readiness.admits(request.uri().path()) {
            return reject(crate::error::status(
                tonic::Code::Unavailable,
                crate::error::reason::NOT_READY,
                "not ready yet: try again shortly",
            ));
        }
        let Ok(permit) = self.layer.permits.clone().try_acquire_owned() else {
            tracing::warn!("request shed: concurrency limit reached");
            return reject(exhausted(
                "server is at its concurrency limit: retry with backoff",
            ));
        };
        let authorization = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let certificate = request
            .extensions()
            .get::<TlsConnectInfo<TcpConnectInfo>>()
            .and_then(|info| info.peer_certs())
            .and_then(|certificates| {
                self.layer
                    .gate
                    .authenticator
                    .from_certificate(certificates.first()?)
            });
        let gate = self.layer.gate.clone();
        let streams = self.layer.streams.clone();
        let rates = self.layer.rates.clone();
        let span = tracing::Span::current();
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let principal = match gate
                .admit(&path, authorization.as_deref(), certificate)
                .await
            {
                Ok(principal) => principal,
                Err((principal, error)) => {
                    gate.refusals.report(&path, principal.as_ref(), &error);
                    return Ok(Status::from(error).into_http());
                }
            };
            span.record("enduser.id", principal.actor());
            if let Err(wait) = rates.check(&principal) {
                tracing::warn!(actor = %principal.actor(), ?wait, "call refused: rate limit");
                return Ok(exhausted_for(
                    "too many calls from this caller: slow down",
                    wait.max(std::time::Duration::from_millis(1)),
                )
                .into_http());
            }
            let stream_slot = if is_streaming_method(&path) {
                let Some(slot) = streams.take(&principal.actor()) else {
                    tracing::warn!(actor = %principal.actor(), "stream refused: per-principal limit");
                    return Ok(exhausted(
                        "too many open streams for this caller: close one, or retry later",
                    )
                    .into_http());
                };
                Some(slot)
            } else {
                None
            };
            let limit = gate
                .policies
                .rule(&path)
                .map_or(crate::policy::DEFAULT_MAX_REQUEST, |rule| rule.max_request);
            let mut request =
                request.map(|body| tonic::body::Body::new(Checked::new(body, limit, path.clone())));
            request.extensions_mut().insert(principal);
            let response = inner.call(request).await?;
            Ok(response.map(|body| tonic::body::Body::new(Held::new(body, (permit, stream_slot)))))
        })
    }
}

fn reject<E: Send + 'static>(
    status: Status,
) -> BoxFuture<Result<http::Response<tonic::body::Body>, E>> {
    Box::pin(std::future::ready(Ok(status.into_http())))
}
