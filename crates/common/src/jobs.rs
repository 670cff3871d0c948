//! Periodic background work: a round now, then one every interval, until shutdown.
//!
//! ```ignore
//! let mut rounds = Rounds::every(interval, shutdown);
//! while rounds.next().await {
//!     if let Err(error) = sweep(&db).await {
//!         tracing::warn!(%error, "sweeping failed; will retry");
//!     }
//! }
//! ```

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// The rounds of a periodic job.
#[derive(Debug)]
pub struct Rounds {
    interval: Duration,
    shutdown: CancellationToken,
    started: bool,
}

impl Rounds {
    pub fn every(interval: Duration, shutdown: CancellationToken) -> Self {
        Self {
            interval,
            shutdown,
            started: false,
        }
    }

    /// Waits for the next round: the first at once, each later one `interval` after the
    /// previous ended. `false` once shutdown has come; a round in progress then is
    /// finished by its caller.
    pub async fn next(&mut self) -> bool {
        if !std::mem::replace(&mut self.started, true) {
            return !self.shutdown.is_cancelled();
        }
        tokio::select! {
            () = self.shutdown.cancelled() => false,
            () = tokio::time::sleep(self.interval) => true,
        }
    }
}

/// Retention: hourly, `purge(before)` deletes what ended before `before`, `retention` ago
/// (and logs what it did); `what` names it in the log when it fails.
pub async fn retention_forever<F, Fut>(
    what: &'static str,
    retention: Duration,
    shutdown: CancellationToken,
    mut purge: F,
) where
    F: FnMut(chrono::DateTime<chrono::Utc>) -> Fut,
    Fut: Future<Output = crate::ApiResult<(u64, u64)>>,
{
    let retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
    let mut rounds = Rounds::every(Duration::from_secs(3600), shutdown);
    while rounds.next().await {
        let Some(before) = crate::time::now().checked_sub_signed(retention) else {
            continue;
        };
        if let Err(error) = purge(before).await {
            tracing::warn!(%error, "purging {what} failed; will retry");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rounds_start_at_once_repeat_and_end_on_shutdown() {
        let shutdown = CancellationToken::new();
        let mut rounds = Rounds::every(Duration::from_millis(1), shutdown.clone());
        for _ in 0..3 {
            assert!(rounds.next().await);
        }
        shutdown.cancel();
        // However long the interval, shutdown ends the wait.
        let mut slow = Rounds::every(Duration::from_secs(3600), shutdown.clone());
        assert!(!slow.next().await, "no first round after shutdown");
        assert!(!rounds.next().await);
        let mut waiting = Rounds::every(Duration::from_secs(3600), CancellationToken::new());
        assert!(waiting.next().await);
        let token = waiting.shutdown.clone();
        let wait = tokio::spawn(async move { waiting.next().await });
        token.cancel();
        let next = tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .expect("shutdown ends the wait")
            .unwrap();
        assert!(!next);
    }
}
