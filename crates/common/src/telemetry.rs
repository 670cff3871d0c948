//! Logs and traces.
//!
//! [`init`] installs the tracing subscriber: an env filter, human or JSON logs, and — when
//! the standard `OTEL_EXPORTER_OTLP_ENDPOINT` is set — OTLP/gRPC export of every span. W3C
//! trace context is read from incoming gRPC metadata ([`extract_context`]) and written to
//! outgoing metadata ([`inject_context`]), so one trace follows a request across services.
//! It also installs the metrics of [`crate::metrics`], exported the same way.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogConfig, LogFormat};

/// Flushes exported spans when dropped.
#[must_use = "dropping the guard stops and flushes trace export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
    metrics: Option<crate::metrics::Metrics>,
}

impl TelemetryGuard {
    /// Whether spans are exported over OTLP.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(metrics) = self.metrics.take() {
            metrics.shutdown();
        }
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("flushing traces failed: {error}");
        }
    }
}

/// Installs the global subscriber for a process named `service_name`.
///
/// Must run inside a Tokio runtime when OTLP export is on (the exporter is a tonic client).
pub fn init(config: &LogConfig, service_name: &str) -> anyhow::Result<TelemetryGuard> {
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());

    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(directives)?,
        _ => EnvFilter::try_new(&config.filter)?,
    };

    let provider = otlp_endpoint()
        .map(|_| -> anyhow::Result<SdkTracerProvider> {
            let exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .build()?;
            let resource = resource(service_name);
            Ok(SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource)
                .build())
        })
        .transpose()?;
    // Traces keep every span at INFO and above, however quiet the logs are set to be.
    let otel_layer = provider.as_ref().map(|provider| {
        opentelemetry::global::set_tracer_provider(provider.clone());
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("assay"))
            .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
    });

    let registry = tracing_subscriber::registry().with(otel_layer);
    let result = match config.format {
        LogFormat::Human => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_target(true)
                    .with_ansi(colours())
                    .with_filter(filter),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_filter(filter),
            )
            .try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("installing the log subscriber: {e}"))?;
    let metrics = crate::metrics::install(service_name, otlp_metrics_endpoint().is_some())?;
    Ok(TelemetryGuard {
        provider,
        metrics: Some(metrics),
    })
}

/// Coloured logs only for a person at a terminal: not when redirected, nor under `NO_COLOR`.
/// What traces and metrics say of where they come from: the service and its version.
pub(crate) fn resource(service_name: &str) -> opentelemetry_sdk::Resource {
    opentelemetry_sdk::Resource::builder()
        .with_service_name(service_name.to_owned())
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build()
}

fn colours() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn otlp_metrics_endpoint() -> Option<String> {
    [
        "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

fn otlp_endpoint() -> Option<String> {
    [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}

struct MetadataInjector<'a>(&'a mut tonic::metadata::MetadataMap);

impl Injector for MetadataInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            tonic::metadata::MetadataValue::try_from(value.as_str()),
        ) {
            self.0.insert(key, value);
        }
    }
}

/// Makes `span` a child of the trace context carried by incoming request headers.
pub fn extract_context(headers: &http::HeaderMap, span: &tracing::Span) {
    let context = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    // Fails only when no OpenTelemetry layer is installed; there is then nothing to link.
    let _ = span.set_parent(context);
}

/// The current span's W3C `traceparent`, to be continued later ("" when there is no trace,
/// as when nothing exports spans).
pub fn current_traceparent() -> String {
    let context = tracing::Span::current().context();
    let mut carrier = std::collections::HashMap::new();
    TraceContextPropagator::new().inject_context(&context, &mut carrier);
    carrier.remove("traceparent").unwrap_or_default()
}

/// The current trace's id (32 hex digits), if spans are being traced.
pub fn current_trace_id() -> Option<String> {
    trace_ids(&tracing::Span::current()).map(|(trace, _)| trace)
}

/// The trace id (32 hex digits) and span id (16) of `span`, if spans are being traced.
pub fn trace_ids(span: &tracing::Span) -> Option<(String, String)> {
    use opentelemetry::trace::TraceContextExt;
    let context = span.context();
    let span = context.span();
    let ids = span.span_context();
    ids.is_valid()
        .then(|| (ids.trace_id().to_string(), ids.span_id().to_string()))
}

/// Makes `span` a child of a stored `traceparent` (see [`current_traceparent`]); a span
/// with an empty or malformed one starts a trace of its own.
pub fn continue_trace(span: &tracing::Span, traceparent: &str) {
    if let Some(context) = extract(traceparent) {
        let _ = span.set_parent(context);
    }
}

/// Links `span` to the trace of `traceparent` (a W3C header value; empty: nothing): what
/// a span that serves several traces at once, such as one delivery of many messages,
/// records of all but the one it continues.
pub fn link_trace(span: &tracing::Span, traceparent: &str) {
    use opentelemetry::trace::TraceContextExt;
    if let Some(context) = extract(traceparent) {
        let linked = context.span().span_context().clone();
        if linked.is_valid() {
            span.add_link(linked);
        }
    }
}

fn extract(traceparent: &str) -> Option<opentelemetry::Context> {
    if traceparent.is_empty() {
        return None;
    }
    let carrier =
        std::collections::HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    Some(TraceContextPropagator::new().extract(&carrier))
}

/// Writes the current span's trace context into outgoing request metadata.
pub fn inject_context(metadata: &mut tonic::metadata::MetadataMap) {
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut MetadataInjector(metadata));
}
