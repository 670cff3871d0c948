//! Background work beyond the outbox relay: deadlines and retention.

use assay_common::jobs::Rounds;

use crate::CasesApi;

/// Purges closed cases past their retention, hourly.
pub async fn retention_forever(
    api: CasesApi,
    retention: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    assay_common::jobs::retention_forever("old cases", retention, shutdown, |before| {
        let api = api.clone();
        async move { api.purge(before).await }
    })
    .await;
}

/// Escalates cases past their deadline, every `interval`: each once, whichever replica
/// finds it first.
pub async fn deadlines_forever(
    api: CasesApi,
    interval: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let mut rounds = Rounds::every(interval, shutdown);
    while rounds.next().await {
        match api.escalate_overdue().await {
            Ok(0) => {}
            Ok(escalated) => tracing::info!(escalated, "cases past their deadline escalated"),
            Err(error) => tracing::warn!(%error, "escalating overdue cases failed; will retry"),
        }
        // Strikes expire as well as being withdrawn.
        match api.enforce_expired().await {
            Ok(0) => {}
            Ok(stepped) => tracing::info!(stepped, "sellers stepped back as strikes expired"),
            Err(error) => tracing::warn!(%error, "stepping back sellers failed; will retry"),
        }
    }
}
