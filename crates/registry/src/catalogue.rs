//! Publishing the catalogue: the watch stream and the sweeper.
//!
//! Every change that alters the catalogue commits a new revision (see
//! [`crate::store::refresh_catalogue`]) and then pokes the [`CatalogueHub`]. Watchers wake
//! on the poke — or on a short poll, which catches changes committed by other replicas —
//! and send what changed since the revision they last sent.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use assay_common::db::Db;
use assay_common::notify;
use assay_common::time;
use assay_common::{ApiError, ApiResult};
use assay_proto::registry::v1::{CatalogueBrand, WatchCatalogueResponse};
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use sea_orm::TransactionTrait;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tonic::Status;

use crate::store;

/// Watchers look for changes at least this often, even without a poke.
const POLL: Duration = Duration::from_secs(1);
/// ... and this often where every replica's changes are heard.
const POLL_HEARING: Duration = Duration::from_secs(30);
/// A batch of the stream carries about this many bytes of brands.
const BATCH_BYTES: usize = 1024 * 1024;

/// Tells watchers in this process that a revision was committed.
#[derive(Clone, Debug)]
pub struct CatalogueHub {
    latest: watch::Sender<i64>,
    /// Whether changes made by other replicas are heard too (PostgreSQL), so that watchers
    /// need not poll for them.
    hears_replicas: Arc<AtomicBool>,
}

impl Default for CatalogueHub {
    fn default() -> Self {
        Self {
            latest: watch::channel(0).0,
            hears_replicas: Arc::new(AtomicBool::new(false)),
        }
    }
}

impl CatalogueHub {
    pub fn published(&self, revision: Option<i64>) {
        if let Some(revision) = revision {
            self.latest.send_if_modified(|latest| {
                let newer = revision > *latest;
                if newer {
                    *latest = revision;
                }
                newer
            });
        }
    }

    /// Makes every watcher look again (after notifications may have been missed).
    fn poke(&self) {
        self.latest.send_modify(|_| {});
    }

    /// Hears the changes every replica commits, from the database's notifications, until
    /// `shutdown`; on SQLite, where this process is the only writer, nothing is needed.
    pub fn hear_replicas(&self, db: &Db, shutdown: CancellationToken) {
        let hub = self.clone();
        let hears = notify::listen(
            db,
            notify::channel::CATALOGUE,
            move |revision| match revision.parse() {
                Ok(revision) => hub.published(Some(revision)),
                Err(_) => hub.poke(),
            },
            shutdown,
        );
        self.hears_replicas.store(hears, Ordering::Relaxed);
    }

    /// How often a watcher looks for changes nobody told it about: rarely where every
    /// replica's changes are heard.
    fn poll(&self) -> Duration {
        if self.hears_replicas.load(Ordering::Relaxed) {
            POLL_HEARING
        } else {
            POLL
        }
    }

    fn subscribe(&self) -> watch::Receiver<i64> {
        self.latest.subscribe()
    }
}

/// Streams the catalogue to one watcher into `out`, until it hangs up or the server stops.
pub async fn watch(
    db: Db,
    hub: CatalogueHub,
    since_revision: i64,
    out: mpsc::Sender<Result<WatchCatalogueResponse, Status>>,
    shutdown: CancellationToken,
) {
    let mut pokes = hub.subscribe();
    let mut held = since_revision;
    let mut first = true;
    loop {
        match send_changes(&db, &mut held, first, &out).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => {
                let _ = out.send(Err(error.into())).await;
                return;
            }
        }
        first = false;
        tokio::select! {
            () = shutdown.cancelled() => {
                let _ = out
                    .send(Err(assay_common::error::status(
                        tonic::Code::Unavailable,
                        assay_common::error::reason::UNAVAILABLE,
                        "server is shutting down: watch again",
                    )))
                    .await;
                return;
            }
            () = out.closed() => return,
            _ = pokes.changed() => {}
            () = tokio::time::sleep(hub.poll()) => {}
        }
    }
}

/// Sends what the watcher at `held` lacks; false when the watcher is gone.
async fn send_changes(
    db: &Db,
    held: &mut i64,
    first: bool,
    out: &mpsc::Sender<Result<WatchCatalogueResponse, Status>>,
) -> ApiResult<bool> {
    let current = store::current_revision(db).await?;
    let reset = first && (*held <= 0 || *held > current);
    let from = if reset { 0 } else { *held };
    let (reached, entries) = store::catalogue_since(db, from).await?;
    if entries.is_empty() && !first {
        return Ok(true);
    }

    let mut batches = Vec::new();
    let mut batch = WatchCatalogueResponse {
        revision: reached,
        reset,
        ..Default::default()
    };
    let mut bytes = 0;
    for entry in &entries {
        if entry.protected {
            let brand: CatalogueBrand = store::catalogue_brand(entry)?;
            bytes += brand.encoded_len();
            batch.upserts.push(brand);
        } else if !reset {
            batch.removed_brand_ids.push(entry.brand_id.to_string());
        }
        if bytes >= BATCH_BYTES {
            bytes = 0;
            let next = WatchCatalogueResponse {
                revision: reached,
                ..Default::default()
            };
            batches.push(std::mem::replace(&mut batch, next));
        }
    }
    batch.complete = true;
    batches.push(batch);
    for batch in batches {
        if out.send(Ok(batch)).await.is_err() {
            return Ok(false);
        }
    }
    *held = reached;
    Ok(true)
}

/// Re-derives protection as time passes: rights start and end on dates, delegations expire.
pub async fn sweep_forever(
    db: Db,
    hub: CatalogueHub,
    interval: Duration,
    shutdown: CancellationToken,
) {
    let mut last_day: Option<NaiveDate> = None;
    let mut last_time: DateTime<Utc> = time::now();
    let mut rounds = assay_common::jobs::Rounds::every(interval, shutdown);
    while rounds.next().await {
        let now = time::now();
        let today = now.date_naive();
        match sweep(&db, last_day != Some(today), last_time, now).await {
            Ok(revision) => {
                if let Some(revision) = revision {
                    tracing::info!(revision, "catalogue changed with the passing of time");
                }
                hub.published(revision);
                last_day = Some(today);
                last_time = now;
            }
            Err(error) => {
                let status: Status = error.into();
                tracing::warn!(error = %status.message(), "catalogue sweep failed; will retry");
            }
        }
    }
}

/// One sweep: all candidate brands when the day changed, else those whose delegations just
/// expired.
pub async fn sweep(
    db: &Db,
    new_day: bool,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<Option<i64>> {
    let txn = db.begin().await?;
    let mut brand_ids = store::brands_with_expired_delegations(&txn, since, now).await?;
    if new_day {
        brand_ids.extend(store::candidate_brand_ids(&txn).await?);
    }
    if brand_ids.is_empty() {
        return Ok(None);
    }
    let revision = store::refresh_catalogue(&txn, &brand_ids, now.date_naive(), now).await?;
    txn.commit().await.map_err(ApiError::from)?;
    Ok(revision)
}
