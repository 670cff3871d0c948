//! Case management's domain metrics.

use std::sync::OnceLock;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;

fn opened() -> &'static Counter<u64> {
    static OPENED: OnceLock<Counter<u64>> = OnceLock::new();
    OPENED.get_or_init(|| {
        assay_common::metrics::meter()
            .u64_counter("assay.cases.opened")
            .with_description("Cases opened, by source (NOTICE, SCREENING_ALERT, STAFF)")
            .build()
    })
}

/// A case was opened from `source` (a `CaseSource` name).
pub fn case_opened(source: &str) {
    let source = source.strip_prefix("CASE_SOURCE_").unwrap_or(source);
    opened().add(1, &[KeyValue::new("source", source.to_owned())]);
}
