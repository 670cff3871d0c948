//! Metrics: OpenTelemetry instruments, exported over OTLP when the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and served for Prometheus to scrape at
//! `server.metrics_listen` (`GET /metrics`, text exposition format 0.0.4).
//!
//! Prometheus pulls, so its reader is a [`ManualReader`] collected on every scrape (the SDK
//! keeps that reader behind its `experimental_metrics_custom_reader` feature); OTLP is
//! pushed by a periodic reader (`OTEL_METRIC_EXPORT_INTERVAL`, 60 s by default).
//!
//! Instruments come from [`meter`]; until [`install`] runs (as in tests that start services
//! in-process) they record nothing.

use std::fmt::Write as _;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use opentelemetry::metrics::Meter;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::{
    AggregatedMetrics, Histogram, MetricData, ResourceMetrics, Sum,
};
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Temporality,
};
use tokio_util::sync::CancellationToken;

/// The process's metrics, once installed.
static INSTALLED: OnceLock<Metrics> = OnceLock::new();

/// The meter every Assay instrument is made from.
pub fn meter() -> Meter {
    opentelemetry::global::meter("assay")
}

/// The installed metrics of this process.
#[derive(Clone, Debug)]
pub struct Metrics {
    provider: SdkMeterProvider,
    scrape: SharedReader,
}

/// A [`ManualReader`] the provider owns and the scrape endpoint collects from.
#[derive(Clone, Debug)]
struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// Installs the global meter provider for a process named `service_name`: scrapeable
/// always, and exported over OTLP when `otlp` is set. Once per process; later calls return
/// what the first installed.
pub fn install(service_name: &str, otlp: bool) -> anyhow::Result<Metrics> {
    if let Some(installed) = INSTALLED.get() {
        return Ok(installed.clone());
    }
    let resource = crate::telemetry::resource(service_name);
    let scrape = SharedReader(Arc::new(ManualReader::builder().build()));
    let mut builder = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(scrape.clone());
    if otlp {
        let exporter = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .build()?;
        builder = builder.with_periodic_exporter(exporter);
    }
    let provider = builder.build();
    opentelemetry::global::set_meter_provider(provider.clone());
    observe_process();
    let metrics = Metrics { provider, scrape };
    Ok(INSTALLED.get_or_init(|| metrics).clone())
}

/// The databases whose connection pools are observed, by service.
static POOLS: std::sync::Mutex<Vec<(String, crate::db::Db)>> = std::sync::Mutex::new(Vec::new());

/// Observes `db`'s connection pools as `db.client.connection.count`, by
/// `db.client.connection.pool.name` (`<service>.writer`, `<service>.readers`) and
/// `db.client.connection.state` (`idle`, `used`). Only where metrics are installed: the
/// registration keeps the pools for the life of the process.
pub fn observe_pool(service: &str, db: &crate::db::Db) {
    if INSTALLED.get().is_none() {
        return;
    }
    POOLS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((service.to_owned(), db.clone()));
}

/// Instruments read at each collection, from the process itself: its build, memory, CPU
/// time, open files, and the pools of [`observe_pool`].
fn observe_process() {
    let meter = meter();
    meter
        .u64_observable_gauge("assay.build.info")
        .with_description("1, with the version of the running build")
        .with_callback(|observer| {
            observer.observe(1, &[KeyValue::new("version", env!("CARGO_PKG_VERSION"))]);
        })
        .build();
    meter
        .u64_observable_gauge("db.client.connection.count")
        .with_description("Connections of each database pool, by state")
        .with_callback(|observer| {
            let pools = POOLS.lock().unwrap_or_else(|e| e.into_inner());
            for (service, db) in pools.iter() {
                for (pool, open, idle) in db.connections() {
                    let name = KeyValue::new(
                        "db.client.connection.pool.name",
                        format!("{service}.{pool}"),
                    );
                    observer.observe(
                        u64::from(idle),
                        &[
                            name.clone(),
                            KeyValue::new("db.client.connection.state", "idle"),
                        ],
                    );
                    observer.observe(
                        u64::from(open.saturating_sub(idle)),
                        &[name, KeyValue::new("db.client.connection.state", "used")],
                    );
                }
            }
        })
        .build();
    if process::stat().is_none() {
        return;
    }
    meter
        .u64_observable_gauge("process.memory.usage")
        .with_unit("By")
        .with_description("Resident memory of the process")
        .with_callback(|observer| {
            if let Some(stat) = process::stat() {
                observer.observe(stat.resident_bytes, &[]);
            }
        })
        .build();
    meter
        .f64_observable_counter("process.cpu.time")
        .with_unit("s")
        .with_description("CPU time the process has used, user and system")
        .with_callback(|observer| {
            if let Some(stat) = process::stat() {
                observer.observe(stat.cpu_seconds, &[]);
            }
        })
        .build();
    meter
        .u64_observable_gauge("process.unix.file_descriptor.count")
        .with_description("File descriptors the process holds open")
        .with_callback(|observer| {
            if let Some(stat) = process::stat() {
                observer.observe(stat.open_files, &[]);
            }
        })
        .build();
}

/// What Linux's `/proc/self` says of this process (`None` elsewhere).
mod process {
    pub struct Stat {
        pub resident_bytes: u64,
        pub cpu_seconds: f64,
        pub open_files: u64,
    }

    pub fn stat() -> Option<Stat> {
        // VmRSS in kB.
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let resident_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        // utime and stime, the 14th and 15th fields, in USER_HZ ticks: 100 a second in
        // the ABI of /proc. Fields are counted after the command name, in parentheses
        // and free to hold spaces.
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        let cpu_ticks = ticks(14)? + ticks(15)?;
        let open_files = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
        Some(Stat {
            resident_bytes: resident_kb * 1024,
            cpu_seconds: cpu_ticks as f64 / 100.0,
            open_files,
        })
    }
}

/// The metrics installed in this process, if any.
pub fn installed() -> Option<Metrics> {
    INSTALLED.get().cloned()
}

impl Metrics {
    /// Everything recorded so far, in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut collected = ResourceMetrics::default();
        if let Err(error) = self.scrape.collect(&mut collected) {
            tracing::warn!(%error, "collecting metrics failed");
        }
        render(&collected)
    }

    /// Flushes what the OTLP exporter has not sent yet.
    pub fn shutdown(&self) {
        if let Err(error) = self.provider.shutdown() {
            eprintln!("flushing metrics failed: {error}");
        }
    }
}

/// Serves `GET /metrics` on `listener` until `stop` is cancelled.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Metrics,
    stop: CancellationToken,
) -> anyhow::Result<()> {
    use axum::http::header::CONTENT_TYPE;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                    metrics.render(),
                )
            }
        }),
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await?;
    Ok(())
}

/// Renders collected metrics in the Prometheus text format: dots become underscores, the
/// unit a suffix (`_seconds`), monotonic sums counters (`_total`), histograms cumulative
/// `_bucket`s with `_sum` and `_count`.
pub fn render(collected: &ResourceMetrics) -> String {
    let mut out = String::new();
    for scope in collected.scope_metrics() {
        for metric in scope.metrics() {
            let base = prometheus_name(metric.name(), metric.unit());
            match metric.data() {
                AggregatedMetrics::F64(data) => {
                    write_data(&mut out, &base, metric.description(), data)
                }
                AggregatedMetrics::U64(data) => {
                    write_data(&mut out, &base, metric.description(), data)
                }
                AggregatedMetrics::I64(data) => {
                    write_data(&mut out, &base, metric.description(), data)
                }
            }
        }
    }
    out
}

/// Values a data point can hold, as Prometheus writes them.
trait Number: Copy {
    fn text(self) -> String;
}

impl Number for f64 {
    fn text(self) -> String {
        if self.is_finite() {
            format!("{self}")
        } else if self.is_nan() {
            "NaN".to_owned()
        } else if self > 0.0 {
            "+Inf".to_owned()
        } else {
            "-Inf".to_owned()
        }
    }
}

impl Number for u64 {
    fn text(self) -> String {
        self.to_string()
    }
}

impl Number for i64 {
    fn text(self) -> String {
        self.to_string()
    }
}

fn write_data<T: Number>(out: &mut String, base: &str, help: &str, data: &MetricData<T>) {
    match data {
        MetricData::Gauge(gauge) => {
            header(out, base, help, "gauge");
            for point in gauge.data_points() {
                sample(out, base, point.attributes(), None, point.value().text());
            }
        }
        MetricData::Sum(sum) => write_sum(out, base, help, sum),
        MetricData::Histogram(histogram) => write_histogram(out, base, help, histogram),
        // Not made by Assay's instruments (no exponential aggregation is configured).
        MetricData::ExponentialHistogram(_) => {}
    }
}

fn write_sum<T: Number>(out: &mut String, base: &str, help: &str, sum: &Sum<T>) {
    let (name, kind) = if sum.is_monotonic() {
        let name = if base.ends_with("_total") {
            base.to_owned()
        } else {
            format!("{base}_total")
        };
        (name, "counter")
    } else {
        (base.to_owned(), "gauge")
    };
    header(out, &name, help, kind);
    for point in sum.data_points() {
        sample(out, &name, point.attributes(), None, point.value().text());
    }
}

fn write_histogram<T: Number>(out: &mut String, base: &str, help: &str, histogram: &Histogram<T>) {
    header(out, base, help, "histogram");
    let bucket = format!("{base}_bucket");
    for point in histogram.data_points() {
        let mut cumulative = 0u64;
        let counts: Vec<u64> = point.bucket_counts().collect();
        for (bound, count) in point.bounds().zip(&counts) {
            cumulative += count;
            sample(
                out,
                &bucket,
                point.attributes(),
                Some(("le", bound.text())),
                cumulative.to_string(),
            );
        }
        sample(
            out,
            &bucket,
            point.attributes(),
            Some(("le", "+Inf".to_owned())),
            point.count().to_string(),
        );
        sample(
            out,
            &format!("{base}_sum"),
            point.attributes(),
            None,
            point.sum().text(),
        );
        sample(
            out,
            &format!("{base}_count"),
            point.attributes(),
            None,
            point.count().to_string(),
        );
    }
}

fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    if !help.is_empty() {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(out, "# HELP {name} {help}");
    }
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample<'a>(
    out: &mut String,
    name: &str,
    attributes: impl Iterator<Item = &'a KeyValue>,
    extra: Option<(&str, String)>,
    value: String,
) {
    let mut labels: Vec<(String, String)> = attributes
        .map(|kv| (sanitize(kv.key.as_str()), label_value(&kv.value)))
        .collect();
    labels.sort();
    if let Some((key, value)) = extra {
        labels.push((key.to_owned(), value));
    }
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (key, value)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let value = value
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(out, "{key}=\"{value}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn label_value(value: &Value) -> String {
    value.as_str().into_owned()
}

/// A Prometheus metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`, with the unit as a suffix.
fn prometheus_name(name: &str, unit: &str) -> String {
    let mut name = sanitize(name);
    let suffix = match unit {
        "s" => "seconds",
        "ms" => "milliseconds",
        "By" => "bytes",
        _ => "",
    };
    if !suffix.is_empty() && !name.ends_with(suffix) {
        name.push('_');
        name.push_str(suffix);
    }
    name
}

fn sanitize(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider of its own, so that tests do not share the process's global one.
    fn provider() -> (SdkMeterProvider, SharedReader) {
        let reader = SharedReader(Arc::new(ManualReader::builder().build()));
        let provider = SdkMeterProvider::builder()
            .with_reader(reader.clone())
            .build();
        (provider, reader)
    }

    fn collect(reader: &SharedReader) -> String {
        let mut collected = ResourceMetrics::default();
        reader.collect(&mut collected).unwrap();
        render(&collected)
    }

    #[test]
    fn counters_gauges_and_histograms_render_as_prometheus_reads_them() {
        use opentelemetry::metrics::MeterProvider as _;
        let (provider, reader) = provider();
        let meter = provider.meter("test");
        let listings = meter
            .u64_counter("assay.screening.listings")
            .with_description("Listings screened")
            .build();
        listings.add(2, &[KeyValue::new("decision", "BLOCK")]);
        listings.add(1, &[KeyValue::new("decision", "ALLOW")]);
        let overdue = meter
            .u64_gauge("assay.lawenforcement.requests.overdue")
            .build();
        overdue.record(4, &[]);
        let duration = meter
            .f64_histogram("rpc.server.call.duration")
            .with_unit("s")
            .with_boundaries(vec![0.01, 0.1])
            .build();
        let attributes = [
            KeyValue::new("rpc.method", "ScreenListing"),
            KeyValue::new("rpc.grpc.status_code", 0i64),
        ];
        duration.record(0.005, &attributes);
        duration.record(0.05, &attributes);
        duration.record(3.0, &attributes);

        let text = collect(&reader);
        for line in [
            "# HELP assay_screening_listings_total Listings screened",
            "# TYPE assay_screening_listings_total counter",
            "assay_screening_listings_total{decision=\"BLOCK\"} 2",
            "assay_screening_listings_total{decision=\"ALLOW\"} 1",
            "# TYPE assay_lawenforcement_requests_overdue gauge",
            "assay_lawenforcement_requests_overdue 4",
            "# TYPE rpc_server_call_duration_seconds histogram",
            "rpc_server_call_duration_seconds_bucket{rpc_grpc_status_code=\"0\",rpc_method=\"ScreenListing\",le=\"0.01\"} 1",
            "rpc_server_call_duration_seconds_bucket{rpc_grpc_status_code=\"0\",rpc_method=\"ScreenListing\",le=\"0.1\"} 2",
            "rpc_server_call_duration_seconds_bucket{rpc_grpc_status_code=\"0\",rpc_method=\"ScreenListing\",le=\"+Inf\"} 3",
            "rpc_server_call_duration_seconds_sum{rpc_grpc_status_code=\"0\",rpc_method=\"ScreenListing\"} 3.055",
            "rpc_server_call_duration_seconds_count{rpc_grpc_status_code=\"0\",rpc_method=\"ScreenListing\"} 3",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing from:\n{text}"
            );
        }
    }

    #[test]
    fn names_and_labels_are_escaped() {
        assert_eq!(
            prometheus_name("rpc.server.call.duration", "s"),
            "rpc_server_call_duration_seconds"
        );
        assert_eq!(prometheus_name("9lives", "1"), "_9lives");
        let mut out = String::new();
        let kv = [KeyValue::new("note", "a \"quoted\"\nline\\")];
        sample(&mut out, "x", kv.iter(), None, "1".to_owned());
        assert_eq!(out, "x{note=\"a \\\"quoted\\\"\\nline\\\\\"} 1\n");
    }
}
