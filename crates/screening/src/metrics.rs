//! Screening's domain metrics.

use std::sync::OnceLock;

use assay_proto::screening::v1::Decision;
use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;

struct Counters {
    listings: Counter<u64>,
    hits: Counter<u64>,
}

fn counters() -> &'static Counters {
    static COUNTERS: OnceLock<Counters> = OnceLock::new();
    COUNTERS.get_or_init(|| {
        let meter = assay_common::metrics::meter();
        Counters {
            listings: meter
                .u64_counter("assay.screening.listings")
                .with_description("Listings screened, by decision (ALLOW, REVIEW, BLOCK)")
                .build(),
            hits: meter
                .u64_counter("assay.screening.hits")
                .with_description(
                    "Hits stored (listings not allowed), each sent to case management",
                )
                .build(),
        }
    })
}

/// A listing was screened with `decision`.
pub fn screened(decision: i32) {
    let decision = Decision::try_from(decision).unwrap_or_default();
    let name = decision.as_str_name();
    let name = name.strip_prefix("DECISION_").unwrap_or(name);
    // A static label: no allocation per screened listing.
    counters()
        .listings
        .add(1, &[KeyValue::new("decision", name)]);
}

/// `count` new hits were stored.
pub fn hits_stored(count: u64) {
    if count > 0 {
        counters().hits.add(count, &[]);
    }
}
