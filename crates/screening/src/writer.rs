//! Group commit for hits: every feed and call hands its hits to a writer, which stores
//! whatever has queued up while it was committing — hits, brands and outbox alerts, with
//! multi-row inserts, in one transaction — and answers each caller once its hits are
//! durable. Under load a commit carries hundreds of hits; alone, a hit is written at once.
//!
//! Single calls and feeds have a writer each ([`Lane`]): a call waiting on one listing's
//! hit never queues behind feeds' groups of hundreds. On PostgreSQL the two commit side by
//! side; on SQLite they take turns on the one writing connection.

use assay_common::db::Db;
use assay_common::ids::HitId;
use assay_common::outbox::RelayWaker;
use assay_common::{ApiError, ApiResult};
use sea_orm::TransactionTrait;
use tokio::sync::{mpsc, oneshot};

use crate::store::{self, NewHit};

/// Hits written in one transaction, at most (a caller's batch is never split).
const GROUP_HITS: usize = 2048;
/// Batches waiting for a writer, at most; callers beyond wait their turn.
const QUEUE: usize = 1024;

/// Whose hits a write carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// One listing's caller, waiting on its answer.
    Call,
    /// A feed's batch.
    Feed,
}

struct Batch {
    hits: Vec<NewHit>,
    /// The id each hit is stored under, in order: its own, or that of the same hit stored
    /// before.
    stored: oneshot::Sender<ApiResult<Vec<HitId>>>,
}

/// The handle callers write hits through; the writers run until every handle is dropped.
#[derive(Clone)]
pub struct HitWriter {
    calls: mpsc::Sender<Batch>,
    feeds: mpsc::Sender<Batch>,
}

impl HitWriter {
    /// Starts the writers on `db`; they wake `relay` (once set) after each commit.
    pub fn start(db: Db, relay: RelayWaker) -> Self {
        let (calls, call_batches) = mpsc::channel(QUEUE);
        let (feeds, feed_batches) = mpsc::channel(QUEUE);
        tokio::spawn(run(db.clone(), call_batches, relay.clone()));
        tokio::spawn(run(db, feed_batches, relay));
        Self { calls, feeds }
    }

    /// Stores `hits` in `lane` and answers, once they are durable, the id of each.
    pub async fn write(&self, lane: Lane, hits: Vec<NewHit>) -> ApiResult<Vec<HitId>> {
        if hits.is_empty() {
            return Ok(Vec::new());
        }
        let (stored, answer) = oneshot::channel();
        let stopped = || ApiError::Unavailable("the hit writer stopped: try again".to_owned());
        let queue = match lane {
            Lane::Call => &self.calls,
            Lane::Feed => &self.feeds,
        };
        queue
            .send(Batch { hits, stored })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn run(db: Db, mut batches: mpsc::Receiver<Batch>, relay: RelayWaker) {
    while let Some(first) = batches.recv().await {
        let mut count = first.hits.len();
        let mut group = vec![first];
        while count < GROUP_HITS {
            match batches.try_recv() {
                Ok(batch) => {
                    count += batch.hits.len();
                    group.push(batch);
                }
                Err(_) => break,
            }
        }
        match write_group(&db, &group).await {
            Ok((ids, stored)) => {
                crate::metrics::hits_stored(stored);
                if stored > 0 {
                    relay.wake();
                }
                let mut ids = ids.into_iter();
                for batch in group {
                    let answer = ids.by_ref().take(batch.hits.len()).collect();
                    let _ = batch.stored.send(Ok(answer));
                }
            }
            Err(error) => {
                tracing::warn!(%error, hits = count, "storing hits failed");
                for batch in group {
                    let _ = batch.stored.send(Err(shared(&error)));
                }
            }
        }
    }
}

/// Writes the hits of `group` not stored before, in one transaction; returns every hit's
/// id, in order, and how many were new.
///
/// The other lane, or a replica, may store some of the same hits at the same moment. Those
/// are left to it, and answered with the id it stored them under.
async fn write_group(db: &Db, group: &[Batch]) -> ApiResult<(Vec<HitId>, u64)> {
    let hits: Vec<&NewHit> = group.iter().flat_map(|b| &b.hits).collect();
    let keys: Vec<&str> = hits.iter().map(|h| h.row.dedup_key.as_str()).collect();
    let txn = db.begin().await?;
    let mut known = store::hit_ids_by_key(&txn, &keys).await?;
    let mut new = Vec::new();
    for hit in &hits {
        known.entry(hit.row.dedup_key.clone()).or_insert_with(|| {
            new.push(*hit);
            hit.row.id.clone()
        });
    }
    let theirs = store::insert_hits(&txn, &new).await?;
    let stored = (new.len() - theirs.len()) as u64;
    known.extend(theirs);
    txn.commit().await?;
    let ids = hits
        .iter()
        .map(|h| known[&h.row.dedup_key].clone())
        .collect();
    Ok((ids, stored))
}

/// The error of a group, as each of its callers is answered.
fn shared(error: &ApiError) -> ApiError {
    match error {
        ApiError::Aborted(m) => ApiError::Aborted(m.clone()),
        ApiError::Unavailable(m) => ApiError::Unavailable(m.clone()),
        ApiError::Behind(m) => ApiError::Behind(m.clone()),
        ApiError::Internal(e) => ApiError::Internal(anyhow::anyhow!("storing hits: {e:#}")),
        other => ApiError::Internal(anyhow::anyhow!("storing hits: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assay_proto::screening::v1::{Decision, Listing, Verdict};
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    use sea_orm_migration::MigratorTrait;

    fn hit(listing_id: &str) -> NewHit {
        let listing = Listing {
            listing_id: listing_id.to_owned(),
            seller_id: "s-1".to_owned(),
            title: "Quintera wallet 1:1 replica".to_owned(),
            ..Listing::default()
        };
        let verdict = Verdict {
            decision: Decision::Block.into(),
            risk_score: 0.9,
            ..Verdict::default()
        };
        store::new_hit(HitId::generate(), &listing, &verdict, chrono::Utc::now())
    }

    async fn count(db: &Db, table: &str) -> i64 {
        db.query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT COUNT(*) AS n FROM {table}"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
    }

    /// A writer that meets a hit another writer (the other lane, or a replica) is storing
    /// at that moment waits for it, and answers with the id the other stored it under;
    /// nothing fails and nothing is stored twice.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hit_another_writer_is_storing_is_answered_with_its_id_on_postgres() {
        let Some(database) = assay_common::db::TestDatabase::create("assay_hit_writer").await
        else {
            return;
        };
        let config = assay_common::config::DatabaseConfig::default();
        let db = assay_common::db::connect(&database.url, &config)
            .await
            .unwrap();
        crate::migration::Migrator::up(db.writer(), None)
            .await
            .unwrap();

        // The other writer has stored `shared` and not yet committed.
        let theirs = hit("l-shared");
        let other = db.begin().await.unwrap();
        store::insert_hits(&other, &[&theirs]).await.unwrap();

        let writer = HitWriter::start(db.clone(), RelayWaker::default());
        let (again, own) = (hit("l-shared"), hit("l-own"));
        let (again_id, own_id) = (again.row.id.clone(), own.row.id.clone());
        let writing = tokio::spawn(async move { writer.write(Lane::Feed, vec![own, again]).await });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            !writing.is_finished(),
            "the writer waits for the other's commit"
        );
        other.commit().await.unwrap();

        let ids = writing.await.unwrap().unwrap();
        let (hits, alerts) = (count(&db, "hits").await, count(&db, "outbox").await);
        drop(db);
        database.drop().await;
        assert_eq!(
            ids,
            vec![own_id, theirs.row.id.clone()],
            "answered with the other's id"
        );
        assert_ne!(ids[1], again_id);
        assert_eq!((hits, alerts), (2, 2), "each hit and its alert stored once");
    }
}
