//! Background work beyond the outbox relay and the engine builder: retention.

use std::time::Duration;

use assay_common::jobs::Rounds;

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
    let retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    let mut rounds = Rounds::every(Duration::from_secs(3600), shutdown);
    while rounds.next().await {
        if let Some(before) = assay_common::time::now().checked_sub_signed(retention)
            && let Err(error) = api.purge(before).await
        {
            tracing::warn!(%error, "purging old hits failed; will retry");
        }
    }
}
