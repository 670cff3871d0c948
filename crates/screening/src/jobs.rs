//! Background work beyond the outbox relay and the engine builder: retention.

use std::time::Duration;

use crate::ScreeningApi;

/// Purges hits past their retention, hourly.
pub async fn retention_forever(
    api: ScreeningApi,
    retention: Duration,
    holds_known: bool,
    shutdown: tokio_util::sync::CancellationToken,
) {
    if !holds_known {
        tracing::warn!(
            "no [screening] lawenforcement_endpoint: hits are kept, as preservation holds cannot be checked"
        );
        return;
    }
    assay_common::jobs::retention_forever("old hits", retention, shutdown, |before| {
        let api = api.clone();
        async move { api.purge(before).await }
    })
    .await;
}
