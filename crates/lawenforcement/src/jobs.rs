//! Background work: raising legal deadlines as they near and pass, and deleting disclosed
//! packages once they expire.

use std::sync::OnceLock;
use std::time::Duration;

use assay_common::db::Db;
use assay_common::jobs::Rounds;
use assay_common::{ApiResult, time};
use assay_proto::lawenforcement::v1::{EventType, Urgency};
use sea_orm::TransactionTrait;
use tokio_util::sync::CancellationToken;

use crate::audit::{Audit, Entry};
use crate::domain;
use crate::{convert, store};

/// What the deadline watcher reports.
struct DeadlineMetrics {
    overdue: opentelemetry::metrics::Gauge<u64>,
    escalated: opentelemetry::metrics::Counter<u64>,
}

fn deadline_metrics() -> &'static DeadlineMetrics {
    static METRICS: OnceLock<DeadlineMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let meter = assay_common::metrics::meter();
        DeadlineMetrics {
            overdue: meter
                .u64_gauge("assay.lawenforcement.requests.overdue")
                .with_description("Requests still owed to an agency after their legal deadline")
                .build(),
            escalated: meter
                .u64_counter("assay.lawenforcement.deadlines.escalated")
                .with_description("Deadlines raised, as due soon or overdue")
                .build(),
        }
    })
}

/// Escalates legal deadlines, warns agencies of preservation holds that end within
/// `hold_warning`, and deletes expired packages, every `interval`.
pub async fn watch_deadlines_forever(
    db: Db,
    audit: Audit,
    interval: Duration,
    hold_warning: Duration,
    shutdown: CancellationToken,
) {
    let mut rounds = Rounds::every(interval, shutdown);
    while rounds.next().await {
        if let Err(error) = escalate_deadlines(&db, &audit).await {
            tracing::warn!(%error, "checking legal deadlines failed; will retry");
        }
        match store::count_overdue(&db, time::now()).await {
            Ok(overdue) => deadline_metrics().overdue.record(overdue, &[]),
            Err(error) => tracing::warn!(%error, "counting overdue requests failed"),
        }
        if let Err(error) = warn_of_expiring_holds(&db, &audit, hold_warning).await {
            tracing::warn!(%error, "warning of expiring holds failed; will retry");
        }
        if let Err(error) = delete_expired_packages(&db, &audit).await {
            tracing::warn!(%error, "deleting expired packages failed; will retry");
        }
    }
}

/// Raises each owed request once when its deadline is near and once more when it passed:
/// in the audit log, and as an error log for whoever watches them.
async fn escalate_deadlines(db: &Db, audit: &Audit) -> ApiResult<()> {
    const BATCH: u64 = 500;
    let now = time::now();
    // The warning window is at most two days.
    let horizon = now + chrono::Duration::days(2);
    loop {
        let batch = store::to_escalate(db, horizon, now, BATCH).await?;
        let mut raised = 0u64;
        for model in &batch {
            let urgency = domain::urgency(true, model.create_time, model.due_time, now);
            let breached = match urgency {
                Urgency::Overdue => true,
                Urgency::DueSoon if model.escalate_time.is_none() => false,
                _ => continue,
            };
            let txn = db.begin().await?;
            if store::mark_escalated(&txn, &model.id, breached, now).await? {
                let word = if breached { "overdue" } else { "due soon" };
                audit
                    .append(
                        &txn,
                        Entry {
                            actor: "system:deadlines",
                            action: "request.deadline",
                            resource: model.id.as_str(),
                            outcome: word,
                            detail: &format!("due {}", model.due_time),
                        },
                    )
                    .await?;
                tracing::error!(request = %model.id, due = %model.due_time, "legal deadline {word}");
                deadline_metrics()
                    .escalated
                    .add(1, &[opentelemetry::KeyValue::new("urgency", word)]);
                raised += 1;
            }
            txn.commit().await?;
        }
        // What was raised leaves the candidates; stop when a batch raised nothing.
        if (batch.len() as u64) < BATCH || raised == 0 {
            return Ok(());
        }
    }
}

/// Tells each agency, once per end, of the preservation holds of its requests that end
/// within `warning`, so that it can send the legal process to extend one in time.
async fn warn_of_expiring_holds(db: &Db, audit: &Audit, warning: Duration) -> ApiResult<()> {
    let now = time::now();
    // However long the warning, the horizon is a time: past the last one, every hold is
    // within it.
    let horizon = chrono::Duration::from_std(warning)
        .ok()
        .and_then(|warning| now.checked_add_signed(warning))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    for hold in store::holds_to_warn(db, now, horizon, 500).await? {
        let txn = db.begin().await?;
        // Claimed under the end it had when read: another replica, or an extension since,
        // leaves nothing to claim.
        if !store::claim_hold_warning(&txn, &hold).await? {
            continue;
        }
        let Some(request) = store::find_request(&txn, &hold.request_id).await? else {
            continue;
        };
        store::tell_agency(
            &txn,
            request.agency_id.as_str(),
            EventType::HoldExpiring,
            serde_json::json!({
                "hold_id": hold.id.as_str(),
                "request_id": hold.request_id.as_str(),
                "expire_time": hold.expire_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "extended": hold.extended,
            }),
            now,
        )
        .await?;
        audit
            .append(
                &txn,
                Entry {
                    actor: "system:holds",
                    action: "hold.expiring",
                    resource: hold.id.as_str(),
                    outcome: "warned",
                    detail: &format!("ends {}; told {}", hold.expire_time, request.agency_id),
                },
            )
            .await?;
        txn.commit().await?;
    }
    Ok(())
}

/// Deletes the files of packages past their expiry; the manifest and hashes stay on the
/// request, as the record of what was disclosed.
async fn delete_expired_packages(db: &Db, audit: &Audit) -> ApiResult<()> {
    let now = time::now();
    for request_id in store::expired_packages(db, now, 500).await? {
        let txn = db.begin().await?;
        let deleted = store::delete_package_files(&txn, &request_id).await?;
        if deleted == 0 {
            // Another replica deleted them first, and recorded it.
            continue;
        }
        if let Some(model) = store::find_request(&txn, &request_id).await? {
            let mut body = convert::request(&model)?;
            if let Some(package) = body.package.as_mut() {
                package.delete_time = Some(time::to_timestamp(now));
            }
            store::save_request(&txn, &model, &body).await?;
        }
        audit
            .append(
                &txn,
                Entry {
                    actor: "system:retention",
                    action: "package.delete",
                    resource: request_id.as_str(),
                    outcome: "ok",
                    detail: &format!("{deleted} files of the expired package deleted"),
                },
            )
            .await?;
        txn.commit().await?;
        tracing::info!(
            request = %request_id,
            files = deleted,
            "expired package deleted"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::ConnectionTrait;
    use sea_orm_migration::MigratorTrait;

    /// Three replicas' clocks that find the same expired package at once delete its files
    /// once and record it once: the one whose delete removed them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replicas_that_find_one_expired_package_record_it_once_on_postgres() {
        let Some(database) = assay_common::db::TestDatabase::create("assay_le_jobs").await else {
            return;
        };
        let url = database.url.clone();
        let config = assay_common::config::DatabaseConfig::default();
        let db = assay_common::db::connect(&url, &config).await.unwrap();
        crate::migration::Migrator::up(db.writer(), None)
            .await
            .unwrap();
        for file in ["a.csv", "b.csv"] {
            db.execute_unprepared(&format!(
                "INSERT INTO package_items (request_id, name, sha256, content, expire_time) \
                 VALUES ('lrq_1', '{file}', '', '\\x00', now() - interval '1 second')"
            ))
            .await
            .unwrap();
        }
        let audit = Audit::new(&[7u8; 32]).unwrap();
        let mut replicas = Vec::new();
        for _ in 0..3 {
            let (db, audit) = (
                assay_common::db::connect(&url, &config).await.unwrap(),
                audit.clone(),
            );
            replicas.push(tokio::spawn(async move {
                delete_expired_packages(&db, &audit).await
            }));
        }
        for replica in replicas {
            replica.await.unwrap().unwrap();
        }
        let recorded = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT COUNT(*) AS n FROM audit_entries WHERE action = 'package.delete'",
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<i64>("", "n")
            .unwrap();
        drop(db);
        database.drop().await;
        assert_eq!(recorded, 1, "the deletion was recorded once");
    }
}
