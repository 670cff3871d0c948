//! Wake-ups across replicas. Background work that waits for a change — outbox relays,
//! catalogue watchers — is woken when the change commits instead of polling for it: a
//! writer notifies inside its transaction (PostgreSQL delivers a `NOTIFY` at commit, and
//! not at all on rollback), and each process keeps one `LISTEN` connection per channel.
//! Waiters still look on a slow timer, in case a notification was lost with a connection.
//!
//! On SQLite, one process owns the database, so writers wake their own process's waiters
//! directly and nothing here is needed: [`notify`] does nothing and [`listen`] declines.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

use crate::db::Db;

/// The channels, each named once.
pub mod channel {
    /// A message was written to the outbox; the payload is its topic.
    pub const OUTBOX: &str = "assay_outbox";
    /// The registry's catalogue changed; the payload is the new revision.
    pub const CATALOGUE: &str = "assay_catalogue";
}

/// Tells the listeners of `channel` `payload` once the caller's transaction commits (at
/// once outside a transaction). Does nothing on SQLite.
pub async fn notify(db: &impl ConnectionTrait, channel: &str, payload: &str) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [channel.into(), payload.into()],
    ))
    .await?;
    Ok(())
}

/// Listens on `channel` until `shutdown`, calling `heard` with each payload, and with ""
/// whenever the connection was (re)opened, since notifications may have been missed while
/// it was down. Returns whether it listens: false on SQLite.
pub fn listen(
    db: &Db,
    channel: &'static str,
    heard: impl Fn(&str) + Send + 'static,
    shutdown: CancellationToken,
) -> bool {
    if db.get_database_backend() != DbBackend::Postgres {
        return false;
    }
    let pool = db.writer().get_postgres_connection_pool().clone();
    tokio::spawn(async move {
        loop {
            let opened = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen(channel).await?;
                Ok::<_, sqlx::Error>(listener)
            };
            let mut listener = tokio::select! {
                () = shutdown.cancelled() => return,
                opened = opened => match opened {
                    Ok(listener) => listener,
                    Err(error) => {
                        tracing::warn!(%error, channel, "listening for notifications failed; will retry");
                        tokio::select! {
                            () = shutdown.cancelled() => return,
                            () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        }
                    }
                },
            };
            heard("");
            loop {
                let received = tokio::select! {
                    () = shutdown.cancelled() => return,
                    received = listener.try_recv() => received,
                };
                match received {
                    Ok(Some(notification)) => heard(notification.payload()),
                    // The connection was lost; the next call opens another.
                    Ok(None) => heard(""),
                    Err(error) => {
                        tracing::warn!(%error, channel, "the notification connection failed; reopening it");
                        break;
                    }
                }
            }
        }
    });
    true
}
