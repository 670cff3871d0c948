//! The audit log: append-only and hash-chained. Each entry's hash covers the previous
//! entry's hash and every field of its own, so changing, removing or reordering any entry
//! breaks the chain from there on; [`verify`] finds the first entry that does not hold.

use assay_common::{ApiError, ApiResult};
use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
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

/// The hash of an entry at `sequence`, written at `time` after the entry whose hash is
/// `previous`: SHA-256 over all of them, every field length-prefixed so that no two
/// entries share an encoding.
pub fn hash(previous: &str, sequence: i64, time: DateTime<Utc>, entry: Entry<'_>) -> String {
    let mut hasher = Sha256::new();
    let time = time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let sequence = sequence.to_string();
    for field in [
        previous,
        &sequence,
        &time,
        entry.actor,
        entry.action,
        entry.resource,
        entry.outcome,
        entry.detail,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

fn entry_hash(stored: &audit_entry::Model) -> String {
    hash(
        &stored.previous_hash,
        stored.sequence,
        stored.time,
        Entry::of(stored),
    )
}

/// Appends an entry (inside the caller's transaction, so it exists if and only if what it
/// records does). The head row's update serialises writers.
pub async fn append(db: &impl ConnectionTrait, entry: Entry<'_>) -> ApiResult<i64> {
    audit_head::Entity::update_many()
        .col_expr(
            audit_head::Column::Sequence,
            Expr::col(audit_head::Column::Sequence).add(1),
        )
        .filter(audit_head::Column::Id.eq(1))
        .exec(db)
        .await?;
    let head = audit_head::Entity::find_by_id(1)
        .one(db)
        .await?
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
    if let Some(after) = after {
        query = query.filter(audit_entry::Column::Sequence.gt(after));
    }
    Ok(query
        .order_by_asc(audit_entry::Column::Sequence)
        .limit(limit)
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

/// Walks the whole chain in order.
pub async fn verify(db: &impl ConnectionTrait) -> ApiResult<Verification> {
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
            if entry_hash(entry) != entry.hash {
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
        let base = hash(GENESIS, 1, time, entry);
        assert_eq!(base.len(), 64);
        assert_eq!(base, hash(GENESIS, 1, time, entry), "deterministic");
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
}
