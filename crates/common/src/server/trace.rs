//! A span per call that continues the caller's trace and records the RPC's status.

use super::*;

/// A span per request, following the OpenTelemetry RPC conventions, continuing the caller's
/// trace; and its duration in the `rpc.server.call.duration` histogram, whose count by
/// `rpc.grpc.status_code` gives requests and errors per RPC.
#[derive(Clone)]
pub struct TraceLayer {
    duration: opentelemetry::metrics::Histogram<f64>,
}

impl TraceLayer {
    pub fn new() -> Self {
        Self {
            duration: crate::metrics::meter()
                .f64_histogram("rpc.server.call.duration")
                .with_unit("s")
                .with_description("Duration of RPCs this server answered, until the response began")
                .with_boundaries(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ])
                .build(),
        }
    }
}

impl Default for TraceLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Trace<S> {
        Trace {
            inner,
            duration: self.duration.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Trace<S> {
    inner: S,
    duration: opentelemetry::metrics::Histogram<f64>,
}

impl<S, B> Service<http::Request<B>> for Trace<S>
where
    S: Service<http::Request<B>, Response = http::Response<tonic::body::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        let (service, method) = path
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or((path, ""));
        let span = tracing::info_span!(
            "rpc",
            otel.name = %format!("{service}/{method}"),
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
            rpc.grpc.status_code = tracing::field::Empty,
            enduser.id = tracing::field::Empty,
        );
        crate::telemetry::extract_context(request.headers(), &span);
        let quiet = is_open_path(path);
        // Metric labels come from the methods that exist, never from whatever path a caller
        // sends: each label set is a series kept for good.
        let (label_service, label_method) = if is_known_method(path) {
            (service.to_owned(), method.to_owned())
        } else {
            ("_other".to_owned(), "_other".to_owned())
        };
        let labels = [
            opentelemetry::KeyValue::new("rpc.system", "grpc"),
            opentelemetry::KeyValue::new("rpc.service", label_service),
            opentelemetry::KeyValue::new("rpc.method", label_method),
        ];
        let duration = self.duration.clone();
        let started = Instant::now();
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(
            async move {
                let result = future.await;
                if let Ok(response) = &result {
                    // Errors come back trailers-only, with grpc-status in the headers.
                    let code = response
                        .headers()
                        .get("grpc-status")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse::<i32>().ok())
                        .unwrap_or(0);
                    let span = tracing::Span::current();
                    span.record("rpc.grpc.status_code", code);
                    if code != 0 {
                        span.record("otel.status_code", "ERROR");
                    }
                    let elapsed = started.elapsed().as_secs_f64();
                    let [system, service, method] = labels;
                    duration.record(
                        elapsed,
                        &[
                            system,
                            service,
                            method,
                            opentelemetry::KeyValue::new("rpc.grpc.status_code", i64::from(code)),
                        ],
                    );
                    let elapsed_ms = elapsed * 1000.0;
                    if !quiet {
                        tracing::debug!(grpc_status = code, elapsed_ms, "request finished");
                    }
                }
                result
            }
            .instrument(span),
        )
    }
}
