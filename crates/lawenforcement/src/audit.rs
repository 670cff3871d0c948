//! The audit log: append-only and chained by a keyed hash. Each entry's hash is an
//! HMAC-SHA256, under a key the database does not hold, over the previous entry's hash and
//! every field of its own. Changing, removing or reordering any entry breaks the chain from
//! there on, and whoever can write the database cannot recompute it: without the key, a
//! rewritten entry and every hash after it fail [`Audit::verify`].
//!
//! What a database writer can still do unseen is cut entries off the end together with the
//! head row; catching that needs a record of the head kept elsewhere (see SECURITY.md).

use assay_common::{ApiError, ApiResult};
use chrono::{DateTime, SubsecRound, Utc};
use hmac::{Hmac, Mac};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    QueryFilter,
};
use sha2::{Digest, Sha256};

use crate::entity::{audit_entry, audit_head};

/// The "previous hash" of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What to write.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub resource: &'a str,
    pub outcome: &'a str,
    pub detail: &'a str,
}

impl<'a> Entry<'a> {
    fn of(stored: &'a audit_entry::Model) -> Self {
        Self {
            actor: &stored.actor,
            action: &stored.action,
            resource: &stored.resource,
            outcome: &stored.outcome,
            detail: &stored.detail,
        }
    }
}

/// The fields of an entry, each length-prefixed so that no two entries share an encoding.
fn fields<'a>(
    previous: &'a str,
    sequence: &'a str,
    time: &'a str,
    entry: Entry<'a>,
) -> [&'a str; 8] {
    [
        previous,
        sequence,
        time,
        entry.actor,
        entry.action,
        entry.resource,
        entry.outcome,
        entry.detail,
    ]
}

fn time_text(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// The chain's unkeyed hash of the releases before the key: SHA-256 over the fields. Kept
/// only to seal an old log under a new key, once.
fn unkeyed_hash(previous: &str, sequence: i64, time: DateTime<Utc>, entry: Entry<'_>) -> String {
    let mut hasher = Sha256::new();
    let (sequence, time) = (sequence.to_string(), time_text(time));
    for field in fields(previous, &sequence, &time, entry) {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The audit log under its key.
#[derive(Clone)]
pub struct Audit {
    key: std::sync::Arc<[u8]>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Audit(<key>)")
    }
}

impl Audit {
    /// The key must be at least 32 bytes.
    pub fn new(key: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(key.len() >= 32, "the audit key must be at least 32 bytes");
        Ok(Self { key: key.into() })
    }

    /// The hash of an entry at `sequence`, written at `time` after the entry whose hash is
    /// `previous`.
    pub fn hash(
        &self,
        previous: &str,
        sequence: i64,
        time: DateTime<Utc>,
        entry: Entry<'_>,
    ) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        let (sequence, time) = (sequence.to_string(), time_text(time));
        for field in fields(previous, &sequence, &time, entry) {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }

    fn entry_hash(&self, stored: &audit_entry::Model) -> String {
        self.hash(
            &stored.previous_hash,
            stored.sequence,
            stored.time,
            Entry::of(stored),
        )
    }

    /// Appends an entry (see [`append`]).
    pub async fn append(&self, db: &impl ConnectionTrait, entry: Entry<'_>) -> ApiResult<i64> {
        append(db, entry, |previous, sequence, time, entry| {
            self.hash(previous, sequence, time, entry)
        })
        .await
    }

    /// Walks the whole chain in order (see [`verify`]).
    pub async fn verify(&self, db: &impl ConnectionTrait) -> ApiResult<Verification> {
        verify(db, |stored| self.entry_hash(stored)).await
    }

    /// Puts a log written before audit keys existed under this (new) key: once it verifies
    /// as it was written, every entry is hashed again under the key. Call it only when the
    /// key was just created; a log that does not verify is left as it is, to be reported.
    pub async fn seal_unkeyed(&self, db: &assay_common::db::Db) -> ApiResult<u64> {
        use sea_orm::TransactionTrait;
        let txn = db.begin().await?;
        let before = verify(&txn, |stored| {
            unkeyed_hash(
                &stored.previous_hash,
                stored.sequence,
                stored.time,
                Entry::of(stored),
            )
        })
        .await?;
        if before.checked == 0 {
            return Ok(0);
        }
        if let Some((sequence, problem)) = before.broken {
            tracing::error!(sequence, %problem, "the audit log was broken before it got its key: left unsealed");
            return Ok(0);
        }
        let mut previous = GENESIS.to_owned();
        let mut sealed = 0u64;
        let mut after = 0i64;
        loop {
            let page = list(&txn, None, Some(after), 1000).await?;
            for stored in &page {
                let hash = self.hash(&previous, stored.sequence, stored.time, Entry::of(stored));
                audit_entry::Entity::update_many()
                    .col_expr(
                        audit_entry::Column::PreviousHash,
                        Expr::value(previous.clone()),
                    )
                    .col_expr(audit_entry::Column::Hash, Expr::value(hash.clone()))
                    .filter(audit_entry::Column::Sequence.eq(stored.sequence))
                    .exec(&txn)
                    .await?;
                previous = hash;
                after = stored.sequence;
                sealed += 1;
            }
            if page.len() < 1000 {
                break;
            }
        }
        audit_head::Entity::update_many()
            .col_expr(audit_head::Column::Hash, Expr::value(previous))
            .filter(audit_head::Column::Id.eq(1))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        tracing::info!(sealed, "the audit log is now chained under its key");
        Ok(sealed)
    }
}

/// Appends an entry (inside the caller's transaction, so it exists if and only if what it
/// records does). The head row's update serialises writers.
async fn append(
    db: &impl ConnectionTrait,
    entry: Entry<'_>,
    hash: impl Fn(&str, i64, DateTime<Utc>, Entry<'_>) -> String,
) -> ApiResult<i64> {
    let head = audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::Sequence,
            Expr::col(audit_head::Column::Sequence).add(1),
        )
        .filter(audit_head::Column::Id.eq(1))
        .exec_with_returning(db)
        .await?
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("audit_head row is missing")))?;
    // Stored times keep microseconds on every backend; hash what is stored.
    let time = assay_common::time::now().trunc_subsecs(6);
    let hash = hash(&head.hash, head.sequence, time, entry);
    audit_entry::ActiveModel {
        sequence: Set(head.sequence),
        time: Set(time),
        actor: Set(entry.actor.to_owned()),
        action: Set(entry.action.to_owned()),
        resource: Set(entry.resource.to_owned()),
        outcome: Set(entry.outcome.to_owned()),
        detail: Set(entry.detail.to_owned()),
        previous_hash: Set(head.hash.clone()),
        hash: Set(hash.clone()),
    }
    .insert(db)
    .await?;
    audit_head::Entity::update_many()
        .col_expr(audit_head::Column::Hash, Expr::value(hash))
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(head.sequence)
}

pub async fn list(
    db: &impl ConnectionTrait,
    resource: Option<&str>,
    after: Option<i64>,
    limit: u64,
) -> ApiResult<Vec<audit_entry::Model>> {
    let mut query = audit_entry::Entity::find();
    if let Some(resource) = resource {
        query = query.filter(audit_entry::Column::Resource.eq(resource));
    }
    Ok(assay_common::db::keyset(
        query,
        audit_entry::Column::Sequence,
        Order::Asc,
        after,
        limit,
    )
    .all(db)
    .await?)
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub checked: i64,
    /// The first entry that does not hold, and what is wrong with it.
    pub broken: Option<(i64, String)>,
}

/// Walks the whole chain in order, hashing each entry with `hash`.
async fn verify(
    db: &impl ConnectionTrait,
    hash: impl Fn(&audit_entry::Model) -> String,
) -> ApiResult<Verification> {
    const PAGE: u64 = 1000;
    let mut previous = GENESIS.to_owned();
    let mut expected = 1i64;
    let mut checked = 0i64;
    loop {
        let page = list(db, None, Some(expected - 1), PAGE).await?;
        for entry in &page {
            let broken = |problem: String| {
                Ok(Verification {
                    checked,
                    broken: Some((expected, problem)),
                })
            };
            if entry.sequence != expected {
                return broken(format!(
                    "entry {expected} is missing (the next is {})",
                    entry.sequence
                ));
            }
            if entry.previous_hash != previous {
                return broken("its previous hash is not the hash of the entry before".into());
            }
            if hash(entry) != entry.hash {
                return broken("its content does not match its hash: it was altered".into());
            }
            previous = entry.hash.clone();
            expected += 1;
            checked += 1;
        }
        if (page.len() as u64) < PAGE {
            break;
        }
    }
    let head = audit_head::Entity::find_by_id(1).one(db).await?;
    if let Some(head) = head
        && (head.sequence != checked || head.hash != previous)
    {
        return Ok(Verification {
            checked,
            broken: Some((
                checked + 1,
                format!(
                    "the log ends at entry {checked} but {} were written: entries were removed",
                    head.sequence
                ),
            )),
        });
    }
    Ok(Verification {
        checked,
        broken: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_covered() {
        let time = DateTime::from_timestamp(1_790_000_000, 123_456_000).unwrap();
        let entry = Entry {
            actor: "staff:lena",
            action: "request.read",
            resource: "lrq_1",
            outcome: "ok",
            detail: "",
        };
        let audit = Audit::new(&[1u8; 32]).unwrap();
        let hash =
            |previous: &str, sequence, time, entry| audit.hash(previous, sequence, time, entry);
        let base = hash(GENESIS, 1, time, entry);
        assert_eq!(base.len(), 64);
        assert_eq!(base, hash(GENESIS, 1, time, entry), "deterministic");
        let other_key = Audit::new(&[2u8; 32]).unwrap();
        assert_ne!(base, other_key.hash(GENESIS, 1, time, entry), "keyed");
        assert_ne!(base, unkeyed_hash(GENESIS, 1, time, entry));
        assert!(Audit::new(b"short").is_err());
        let later = time + chrono::Duration::microseconds(1);
        for other in [
            hash("1", 1, time, entry),
            hash(GENESIS, 2, time, entry),
            hash(GENESIS, 1, later, entry),
            // The same bytes split differently between two fields.
            hash(
                GENESIS,
                1,
                time,
                Entry {
                    actor: "staff:len",
                    action: "arequest.read",
                    ..entry
                },
            ),
            hash(
                GENESIS,
                1,
                time,
                Entry {
                    detail: " ",
                    ..entry
                },
            ),
            hash(
                GENESIS,
                1,
                time,
                Entry {
                    outcome: "refused",
                    ..entry
                },
            ),
        ] {
            assert_ne!(base, other);
        }
    }

    fn entry(detail: &str) -> Entry<'_> {
        Entry {
            actor: "staff:lena",
            action: "request.read",
            resource: "lrq_1",
            outcome: "ok",
            detail,
        }
    }

    async fn database() -> assay_common::db::Db {
        use sea_orm_migration::MigratorTrait;
        let db = assay_common::db::connect(
            "sqlite::memory:",
            &assay_common::config::DatabaseConfig::default(),
        )
        .await
        .unwrap();
        crate::migration::Migrator::up(db.writer(), None)
            .await
            .unwrap();
        db
    }

    #[tokio::test]
    async fn a_log_from_before_keys_is_sealed_once_it_holds() {
        let db = database().await;
        for detail in ["a", "b", "c"] {
            append(&db, entry(detail), unkeyed_hash).await.unwrap();
        }
        let audit = Audit::new(&[9u8; 32]).unwrap();
        assert!(audit.verify(&db).await.unwrap().broken.is_some());
        assert_eq!(audit.seal_unkeyed(&db).await.unwrap(), 3);
        let sealed = audit.verify(&db).await.unwrap();
        assert_eq!((sealed.checked, sealed.broken), (3, None));
        audit.append(&db, entry("d")).await.unwrap();
        assert_eq!(audit.verify(&db).await.unwrap().checked, 4);
        // Another key does not verify it.
        let other = Audit::new(&[8u8; 32]).unwrap();
        assert!(other.verify(&db).await.unwrap().broken.is_some());
    }

    #[tokio::test]
    async fn a_broken_log_from_before_keys_is_not_sealed() {
        let db = database().await;
        for detail in ["a", "b"] {
            append(&db, entry(detail), unkeyed_hash).await.unwrap();
        }
        db.execute_unprepared("UPDATE audit_entries SET detail = 'x' WHERE sequence = 1")
            .await
            .unwrap();
        let audit = Audit::new(&[9u8; 32]).unwrap();
        assert_eq!(audit.seal_unkeyed(&db).await.unwrap(), 0);
        assert_eq!(
            audit.verify(&db).await.unwrap().broken.map(|b| b.0),
            Some(1)
        );
    }
}
