//! Background work beyond the outbox relay: retention.

use assay_common::jobs::Rounds;

use crate::CasesApi;

/// Purges closed cases past their retention, hourly.
pub async fn retention_forever(
    api: CasesApi,
    retention: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    let hourly = std::time::Duration::from_secs(3600);
    let mut rounds = Rounds::every(hourly, shutdown);
    while rounds.next().await {
        if let Some(before) = assay_common::time::now().checked_sub_signed(retention)
            && let Err(error) = api.purge(before).await
        {
            tracing::warn!(%error, "purging old cases failed; will retry");
        }
    }
}
