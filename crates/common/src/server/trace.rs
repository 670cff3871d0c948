//! A span per call that continues the caller's trace, its duration until the last byte of
//! the answer, and one log line when it ends.
//!
//! Attributes follow the stable OpenTelemetry RPC conventions: `rpc.system.name`, the
//! fully-qualified `rpc.method` (`assay.screening.v1.ScreeningService/ScreenListing`) and
//! `rpc.response.status_code` (`OK`, `INVALID_ARGUMENT`, ...). During a transition,
//! `OTEL_SEMCONV_STABILITY_OPT_IN=rpc/dup` also emits the experimental ones of v1.37 and
//! before (`rpc.system`, `rpc.service`, numeric `rpc.grpc.status_code`), as the
//! conventions prescribe.

use super::*;

/// Whether the experimental RPC attributes are emitted beside the stable ones.
fn legacy_too() -> bool {
    static DUP: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DUP.get_or_init(|| {
        std::env::var("OTEL_SEMCONV_STABILITY_OPT_IN")
            .is_ok_and(|v| v.split(',').any(|c| c.trim() == "rpc/dup"))
    })
}

/// The name of a gRPC status code, as `rpc.response.status_code` writes it.
pub fn status_name(code: i32) -> &'static str {
    match tonic::Code::from_i32(code) {
        tonic::Code::Ok => "OK",
        tonic::Code::Cancelled => "CANCELLED",
        tonic::Code::Unknown => "UNKNOWN",
        tonic::Code::InvalidArgument => "INVALID_ARGUMENT",
        tonic::Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        tonic::Code::NotFound => "NOT_FOUND",
        tonic::Code::AlreadyExists => "ALREADY_EXISTS",
        tonic::Code::PermissionDenied => "PERMISSION_DENIED",
        tonic::Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        tonic::Code::FailedPrecondition => "FAILED_PRECONDITION",
        tonic::Code::Aborted => "ABORTED",
        tonic::Code::OutOfRange => "OUT_OF_RANGE",
        tonic::Code::Unimplemented => "UNIMPLEMENTED",
        tonic::Code::Internal => "INTERNAL",
        tonic::Code::Unavailable => "UNAVAILABLE",
        tonic::Code::DataLoss => "DATA_LOSS",
        tonic::Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

/// A span per request, continuing the caller's trace; its duration in the
/// `rpc.server.call.duration` histogram, whose count by `rpc.response.status_code` gives
/// requests and errors per RPC.
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
                .with_description(
                    "Duration of RPCs this server answered, until the last byte of the answer",
                )
                .with_boundaries(vec![
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0, 60.0, 600.0,
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

/// What is known of a call when it ends.
struct Call {
    span: tracing::Span,
    method: String,
    labels: Vec<opentelemetry::KeyValue>,
    duration: opentelemetry::metrics::Histogram<f64>,
    started: Instant,
    quiet: bool,
}

impl Call {
    /// Records the call's end with its gRPC status code: on the span, in the histogram and
    /// in the log.
    fn end(self, code: i32) {
        let status = status_name(code);
        self.span.record("rpc.response.status_code", status);
        if legacy_too() {
            self.span.record("rpc.grpc.status_code", code);
        }
        if code != 0 {
            self.span.record("otel.status_code", "ERROR");
        }
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut labels = self.labels;
        labels.push(opentelemetry::KeyValue::new(
            "rpc.response.status_code",
            status,
        ));
        if legacy_too() {
            labels.push(opentelemetry::KeyValue::new(
                "rpc.grpc.status_code",
                i64::from(code),
            ));
        }
        self.duration.record(elapsed, &labels);
        let elapsed_ms = (elapsed * 1e4).round() / 10.0;
        let _entered = self.span.enter();
        if self.quiet {
            tracing::debug!(method = %self.method, status, elapsed_ms, "call");
        } else {
            tracing::info!(method = %self.method, status, elapsed_ms, "call");
        }
    }
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
        let (service, short) = path
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or((path, ""));
        let known = is_known_method(path);
        // Span and metric attributes name the methods that exist, never whatever path a
        // caller sends: each label set is a series kept for good.
        let method = if known {
            format!("{service}/{short}")
        } else {
            "_OTHER".to_owned()
        };
        let span = tracing::info_span!(
            "rpc",
            otel.name = %method,
            otel.kind = "server",
            otel.status_code = tracing::field::Empty,
            rpc.system.name = "grpc",
            rpc.method = %method,
            rpc.response.status_code = tracing::field::Empty,
            rpc.system = tracing::field::Empty,
            rpc.service = tracing::field::Empty,
            rpc.grpc.status_code = tracing::field::Empty,
            enduser.id = tracing::field::Empty,
            trace_id = tracing::field::Empty,
            span_id = tracing::field::Empty,
        );
        crate::telemetry::extract_context(request.headers(), &span);
        // In the logs, every line of the call names its trace.
        if let Some((trace_id, span_id)) = crate::telemetry::trace_ids(&span) {
            span.record("trace_id", trace_id);
            span.record("span_id", span_id);
        }
        let mut labels = vec![
            opentelemetry::KeyValue::new("rpc.system.name", "grpc"),
            opentelemetry::KeyValue::new("rpc.method", method.clone()),
        ];
        if legacy_too() {
            let service = if known { service } else { "_OTHER" };
            span.record("rpc.system", "grpc");
            span.record("rpc.service", service);
            labels.push(opentelemetry::KeyValue::new("rpc.system", "grpc"));
            labels.push(opentelemetry::KeyValue::new(
                "rpc.service",
                service.to_owned(),
            ));
        }
        let call = Call {
            span: span.clone(),
            method,
            labels,
            duration: self.duration.clone(),
            started: Instant::now(),
            quiet: is_open_path(path),
        };
        let future = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        Box::pin(
            async move {
                let response = future.await?;
                // An error may come trailers-only, its grpc-status in the headers; else the
                // status comes in the trailers at the end of the body.
                let early = response
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok());
                Ok(response.map(|body| {
                    tonic::body::Body::new(Timed {
                        inner: body,
                        call: Some(call),
                        early,
                    })
                }))
            }
            .instrument(span),
        )
    }
}

pin_project_lite::pin_project! {
    /// An answer's body that ends its call when it ends: at its trailers, at its end, or
    /// when the client goes away (CANCELLED).
    struct Timed {
        #[pin]
        inner: tonic::body::Body,
        call: Option<Call>,
        early: Option<i32>,
    }

    impl PinnedDrop for Timed {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(call) = this.call.take() {
                call.end(this.early.unwrap_or(tonic::Code::Cancelled as i32));
            }
        }
    }
}

impl http_body::Body for Timed {
    type Data = tonic::codegen::Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = std::task::ready!(this.inner.poll_frame(cx));
        let ended = match &polled {
            Some(Ok(frame)) => frame.trailers_ref().map(|trailers| {
                trailers
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i32>().ok())
                    .unwrap_or(0)
            }),
            Some(Err(_)) => Some(tonic::Code::Unknown as i32),
            None => Some(this.early.unwrap_or(0)),
        };
        if let Some(code) = ended
            && let Some(call) = this.call.take()
        {
            call.end(code);
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    /// Log lines written as JSON, kept for the test to read.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A stream that answers two messages over 120 ms and ends with INVALID_ARGUMENT in its
    /// trailers is timed to its end, counted by its status, and logged once when it ends.
    #[tokio::test(flavor = "current_thread")]
    async fn a_stream_is_timed_and_logged_at_its_end_with_the_status_of_its_trailers() {
        let lines = Lines::default();
        let writer = lines.clone();
        use opentelemetry::trace::TracerProvider;
        use tracing_subscriber::layer::SubscriberExt;
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")))
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_writer(move || writer.clone()),
            );
        let _default = tracing::subscriber::set_default(subscriber);

        let stream = tower::service_fn(|_: http::Request<()>| async {
            let frames = futures::StreamExt::then(futures::stream::iter(0..3), |i| async move {
                tokio::time::sleep(Duration::from_millis(60)).await;
                let frame = if i < 2 {
                    http_body::Frame::data(tonic::codegen::Bytes::from_static(b"\0\0\0\0\0"))
                } else {
                    let mut trailers = http::HeaderMap::new();
                    trailers.insert("grpc-status", "3".parse().unwrap());
                    http_body::Frame::trailers(trailers)
                };
                Ok::<_, tonic::Status>(frame)
            });
            let body = tonic::body::Body::new(http_body_util::StreamBody::new(frames));
            Ok::<_, std::convert::Infallible>(http::Response::new(body))
        });
        let service = TraceLayer::new().layer(stream);
        let request = http::Request::builder()
            .uri("/assay.screening.v1.ScreeningService/ScreenListings")
            .body(())
            .unwrap();
        let started = Instant::now();
        let response = service.oneshot(request).await.unwrap();
        let logged = || String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert!(
            !logged().contains("\"call\""),
            "nothing is logged before the answer ends"
        );
        let collected = BodyExt::collect(response.into_body()).await.unwrap();
        assert!(collected.trailers().is_some());
        assert!(started.elapsed() >= Duration::from_millis(180));

        let text = logged();
        let calls: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|l| l["message"] == "call")
            .collect();
        assert_eq!(calls.len(), 1, "{text}");
        let call = &calls[0];
        assert_eq!(call["level"], "INFO");
        assert_eq!(call["status"], "INVALID_ARGUMENT");
        assert_eq!(
            call["method"],
            "assay.screening.v1.ScreeningService/ScreenListings"
        );
        assert!(call["elapsed_ms"].as_f64().unwrap() >= 180.0, "{call}");
        assert_eq!(call["span"]["rpc.response.status_code"], "INVALID_ARGUMENT");
        // The line names its trace and span, for finding it from a trace and back.
        let hex = |v: &serde_json::Value, len: usize| {
            v.as_str()
                .is_some_and(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()))
        };
        assert!(hex(&call["span"]["trace_id"], 32), "{call}");
        assert!(hex(&call["span"]["span_id"], 16), "{call}");
    }

    #[test]
    fn status_names_are_the_conventions() {
        assert_eq!(status_name(0), "OK");
        assert_eq!(status_name(9), "FAILED_PRECONDITION");
        assert_eq!(status_name(16), "UNAUTHENTICATED");
        assert_eq!(status_name(99), "UNKNOWN");
    }
}
