//! The transactional outbox: a service that must tell another service about a change writes
//! the message into its own `outbox` table in the same transaction as the change, so the
//! message exists if and only if the change does. A relay delivers the rows later, at
//! least once; the receiver makes delivery exactly-once with an idempotency key (the row's
//! `key`). Each row keeps the trace context it was written in, and is delivered inside a
//! span that continues it, so one trace follows a change from service to service.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect};
use sea_orm_migration::prelude::*;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::config::OutboxConfig;
use crate::db::Db;

/// The topics services publish on, each named once. A topic belongs to the service that
/// writes it; the one that receives its messages keys them by topic and id.
pub mod topic {
    /// A screening hit, delivered to case management as an alert.
    pub const SCREENING_HIT: &str = "screening.hit";
    /// Case management's feedback on a hit, delivered to screening.
    pub const HIT_FEEDBACK: &str = "cases.hit_feedback";
    /// A case referred to an agency, delivered to law enforcement.
    pub const REFERRAL: &str = "cases.referral";
    /// A seller whose strikes or links changed; its standing is delivered to screening.
    pub const SELLER_STANDING: &str = "cases.seller_standing";
    /// Another look at a seller's enforcement level, taken by case management itself.
    pub const ENFORCEMENT_CHECK: &str = "cases.enforcement_check";
    /// A webhook notification, delivered to its subscriber's endpoint.
    pub const NOTIFICATION: &str = "cases.notification";
    /// A notification for an agency, delivered to its endpoint.
    pub const AGENCY_NOTIFICATION: &str = "lawenforcement.notification";
    /// The outcome an agency recorded for a referral, delivered to case management.
    pub const REFERRAL_OUTCOME: &str = "lawenforcement.referral_outcome";
}
use crate::error::ApiResult;
use crate::service::BoxFuture;

/// How a service says that its outbox has something new: the relay's waker, once a relay
/// runs (until then, and in a process without one, messages wait for the relay's poll).
/// Clones share the waker.
#[derive(Clone, Default)]
pub struct RelayWaker(Arc<std::sync::OnceLock<Arc<Notify>>>);

impl RelayWaker {
    /// The relay to wake from now on (see [`Relay::waker`]); the first one set stays.
    pub fn set(&self, waker: Arc<Notify>) {
        let _ = self.0.set(waker);
    }

    /// Wakes the relay, if one runs: something was written for it.
    pub fn wake(&self) {
        if let Some(waker) = self.0.get() {
            waker.notify_one();
        }
    }
}

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        /// What the message is, e.g. `screening.hit`.
        pub topic: String,
        /// The idempotency key the receiver deduplicates on, unique per topic.
        pub key: String,
        /// The encoded message.
        pub payload: Vec<u8>,
        pub create_time: DateTimeUtc,
        /// Delivery attempts so far.
        pub attempts: i32,
        /// Not before this time (backoff after failures).
        pub next_attempt_time: DateTimeUtc,
        pub delivered_time: Option<DateTimeUtc>,
        /// The last delivery error, for operators.
        pub last_error: String,
        /// The W3C `traceparent` of the transaction that wrote it ("" for none).
        pub trace_context: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Writes a message to the outbox (inside the transaction of the change it announces), in
/// the current trace.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    topic: &str,
    key: &str,
    payload: Vec<u8>,
) -> ApiResult<()> {
    let trace = crate::telemetry::current_traceparent();
    enqueue_in_trace(db, topic, key, payload, &trace).await
}

/// Like [`enqueue`], delivered in the trace of `traceparent` (e.g. that of the event that
/// began what the message continues) rather than the current one.
pub async fn enqueue_in_trace(
    db: &impl ConnectionTrait,
    topic: &str,
    key: &str,
    payload: Vec<u8>,
    traceparent: &str,
) -> ApiResult<()> {
    let message = Message {
        key: key.to_owned(),
        payload,
        traceparent: traceparent.to_owned(),
    };
    enqueue_many(db, topic, [message]).await
}

/// A message to write with [`enqueue_many`].
#[derive(Debug, Clone)]
pub struct Message {
    /// The receiver's idempotency key, unique per topic.
    pub key: String,
    pub payload: Vec<u8>,
    /// The W3C `traceparent` to deliver it in ("" for none).
    pub traceparent: String,
}

/// Writes many messages of one topic (inside the transaction of the changes they
/// announce) with multi-row inserts.
pub async fn enqueue_many(
    db: &impl ConnectionTrait,
    topic: &str,
    messages: impl IntoIterator<Item = Message>,
) -> ApiResult<()> {
    let now = crate::time::now();
    let rows = messages.into_iter().map(|message| entity::ActiveModel {
        topic: Set(topic.to_owned()),
        key: Set(message.key),
        payload: Set(message.payload),
        create_time: Set(now),
        attempts: Set(0),
        next_attempt_time: Set(now),
        delivered_time: Set(None),
        last_error: Set(String::new()),
        trace_context: Set(message.traceparent),
        ..Default::default()
    });
    crate::db::insert_all(db, rows.collect()).await?;
    crate::notify::notify(db, crate::notify::channel::OUTBOX, topic).await?;
    Ok(())
}

/// Messages of `topic` not delivered yet.
pub async fn pending(db: &impl ConnectionTrait, topic: &str) -> ApiResult<u64> {
    Ok(entity::Entity::find()
        .filter(entity::Column::Topic.eq(topic))
        .filter(entity::Column::DeliveredTime.is_null())
        .count(db)
        .await?)
}

/// A topic's backlog: its name, messages waiting, when the oldest was written, the most
/// attempts one has had.
type Backlog = (
    String,
    i64,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<i32>,
);

/// How often the backlog gauges are refreshed.
const BACKLOG_INTERVAL: std::time::Duration = std::time::Duration::from_secs(15);

/// What waits in the outbox, by topic: `assay.outbox.pending` (messages),
/// `assay.outbox.oldest_pending.age` (seconds since the oldest was written) and
/// `assay.outbox.attempts.max` (tries of the most tried), every 15 s until shutdown. One
/// statement a round, on the index of undelivered messages.
async fn watch_backlog(db: Db, topics: Vec<String>, shutdown: CancellationToken) {
    use opentelemetry::KeyValue;
    let meter = crate::metrics::meter();
    let pending = meter
        .u64_gauge("assay.outbox.pending")
        .with_description("Messages written and not yet delivered")
        .build();
    let age = meter
        .f64_gauge("assay.outbox.oldest_pending.age")
        .with_unit("s")
        .with_description("How long the oldest undelivered message has waited")
        .build();
    let attempts = meter
        .u64_gauge("assay.outbox.attempts.max")
        .with_description("Delivery attempts of the most tried undelivered message")
        .build();
    let mut rounds = crate::jobs::Rounds::every(BACKLOG_INTERVAL, shutdown);
    while rounds.next().await {
        let rows: Result<Vec<Backlog>, DbErr> = entity::Entity::find()
            .select_only()
            .column(entity::Column::Topic)
            .column_as(entity::Column::Id.count(), "waiting")
            .column_as(entity::Column::CreateTime.min(), "oldest")
            .column_as(entity::Column::Attempts.max(), "tries")
            .filter(entity::Column::DeliveredTime.is_null())
            .filter(entity::Column::Topic.is_in(topics.iter().map(String::as_str)))
            .group_by(entity::Column::Topic)
            .into_tuple()
            .all(&db)
            .await;
        let rows = match rows {
            Ok(rows) => rows,
            Err(error) => {
                tracing::warn!(%error, "reading the outbox backlog failed");
                continue;
            }
        };
        let now = crate::time::now();
        for topic in &topics {
            let label = [KeyValue::new("topic", topic.clone())];
            let row = rows.iter().find(|(t, ..)| t == topic);
            let (waiting, oldest, tries) = row.map_or((0, None, None), |(_, n, o, a)| (*n, *o, *a));
            pending.record(
                <u64 as TryFrom<i64>>::try_from(waiting).unwrap_or(0),
                &label,
            );
            let waited = oldest.map_or(0.0, |o| {
                Ord::max((now - o).num_milliseconds(), 0) as f64 / 1000.0
            });
            age.record(waited, &label);
            attempts.record(
                <u64 as TryFrom<i32>>::try_from(tries.unwrap_or(0)).unwrap_or(0),
                &label,
            );
        }
    }
}

/// Hands the messages of one topic to their receiver. An error means "not delivered, try
/// again later"; the receiver must accept a message delivered twice (the row's `key` is
/// its idempotency key).
pub trait Deliver: Send + Sync + 'static {
    fn deliver<'a>(&'a self, message: &'a entity::Model) -> BoxFuture<'a, Result<(), String>>;

    /// How many messages one [`Deliver::deliver_many`] takes at most: above 1 for a
    /// receiver that takes many messages in one call.
    fn batch(&self) -> usize {
        1
    }

    /// Hands over several messages (at most [`Deliver::batch`]), answering for each in
    /// order. By default, one [`Deliver::deliver`] each, all at once.
    fn deliver_many<'a>(
        &'a self,
        messages: &'a [entity::Model],
    ) -> BoxFuture<'a, Vec<Result<(), String>>> {
        Box::pin(futures::future::join_all(
            messages.iter().map(|message| self.deliver(message)),
        ))
    }
}

/// The payload bytes of one delivery of many messages, at most (a larger message still
/// goes, alone).
const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// Delivers a service's outbox, at least once, with retries and exponential backoff.
///
/// Several replicas may run a relay over the same table: a relay takes a message by
/// bumping its `attempts` from the value it read (a compare-and-swap that only one relay
/// wins) and leasing it for `lease`; if the relay dies mid-delivery, the lease runs out
/// and the message is delivered again, which the receiver's idempotency key absorbs.
pub struct Relay {
    db: Db,
    routes: Vec<(String, Arc<dyn Deliver>)>,
    config: OutboxConfig,
    wake: Arc<Notify>,
}

impl Relay {
    pub fn new(db: Db, config: OutboxConfig) -> Self {
        Self {
            db,
            routes: Vec::new(),
            config,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Delivers the messages of `topic` with `deliver`. Topics without a route stay in
    /// the outbox until a relay that has one runs.
    pub fn route(mut self, topic: &str, deliver: impl Deliver) -> Self {
        self.routes.push((topic.to_owned(), Arc::new(deliver)));
        self
    }

    /// Notify it to look at once (after enqueuing), instead of at the next poll.
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Runs until shutdown.
    pub async fn run(self, shutdown: CancellationToken) {
        if self.routes.is_empty() {
            return;
        }
        let topics: Vec<String> = self.routes.iter().map(|(t, _)| t.clone()).collect();
        let wake = self.wake.clone();
        let notified = crate::notify::listen(
            &self.db,
            crate::notify::channel::OUTBOX,
            move |topic| {
                if topic.is_empty() || topics.iter().any(|t| t == topic) {
                    wake.notify_one();
                }
            },
            shutdown.clone(),
        );
        // Told of every message at its commit, a relay only looks on its own for one
        // whose retry is due, or in case a notification was lost.
        let idle = if notified {
            self.config.fallback_interval
        } else {
            self.config.poll_interval
        };
        tokio::spawn(watch_backlog(
            self.db.clone(),
            self.routes.iter().map(|(t, _)| t.clone()).collect(),
            shutdown.clone(),
        ));
        let mut passes: u64 = 0;
        loop {
            let delivered = tokio::select! {
                () = shutdown.cancelled() => return,
                result = self.pass() => result,
            };
            let more = match delivered {
                Ok(taken) => taken == self.config.batch_size,
                Err(error) => {
                    tracing::warn!(%error, "outbox relay pass failed; will retry");
                    false
                }
            };
            passes += 1;
            if passes % 1000 == 1
                && let Err(error) = self.purge().await
            {
                tracing::warn!(%error, "purging delivered outbox messages failed");
            }
            if more {
                continue;
            }
            let wait = match self.next_due().await {
                Ok(Some(due)) => (due - crate::time::now())
                    .to_std()
                    .unwrap_or_default()
                    .min(idle),
                Ok(None) => idle,
                Err(error) => {
                    tracing::warn!(%error, "reading the outbox failed; will retry");
                    self.config.poll_interval
                }
            };
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// When the next message of this relay's topics is due (a retry, or one leased by a
    /// relay that may have died), if any is waiting.
    async fn next_due(&self) -> Result<Option<chrono::DateTime<chrono::Utc>>, DbErr> {
        let topics: Vec<&str> = self.routes.iter().map(|(t, _)| t.as_str()).collect();
        entity::Entity::find()
            .select_only()
            .column_as(entity::Column::NextAttemptTime.min(), "due")
            .filter(entity::Column::DeliveredTime.is_null())
            .filter(entity::Column::Topic.is_in(topics))
            .into_tuple::<Option<chrono::DateTime<chrono::Utc>>>()
            .one(&self.db)
            .await
            .map(Option::flatten)
    }

    /// Takes one batch of due messages and delivers them; returns how many were due.
    ///
    /// A relay takes the batch with one conditional update — it leases the messages still
    /// due, so that of several replicas racing for a message exactly one gets it — and
    /// records the deliveries with one update, so the bookkeeping costs two statements a
    /// batch, not two a message.
    async fn pass(&self) -> Result<usize, DbErr> {
        let now = crate::time::now();
        let topics: Vec<&str> = self.routes.iter().map(|(t, _)| t.as_str()).collect();
        let due: Vec<i64> = entity::Entity::find()
            .select_only()
            .column(entity::Column::Id)
            .filter(entity::Column::DeliveredTime.is_null())
            .filter(entity::Column::NextAttemptTime.lte(now))
            .filter(entity::Column::Topic.is_in(topics))
            .order_by_asc(entity::Column::Id)
            .limit(self.config.batch_size as u64)
            .into_tuple()
            .all(&self.db)
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let lease = chrono::Duration::from_std(self.config.lease).unwrap_or(chrono::Duration::MAX);
        let mut taken = entity::Entity::update_many()
            .col_expr(
                entity::Column::Attempts,
                Expr::col(entity::Column::Attempts).add(1),
            )
            .col_expr(entity::Column::NextAttemptTime, Expr::value(now + lease))
            .filter(entity::Column::Id.is_in(due.iter().copied()))
            .filter(entity::Column::DeliveredTime.is_null())
            .filter(entity::Column::NextAttemptTime.lte(now))
            .exec_with_returning(&self.db)
            .await?;
        taken.sort_by_key(|m| m.id);
        let deliveries: Vec<_> = self
            .deliveries(taken)
            .into_iter()
            .map(|(deliver, messages)| self.deliver_some(deliver, messages))
            .collect();
        let delivered: Vec<i64> = futures::stream::iter(deliveries)
            .buffer_unordered(self.config.concurrency)
            .flat_map(futures::stream::iter)
            .collect()
            .await;
        if !delivered.is_empty() {
            entity::Entity::update_many()
                .col_expr(
                    entity::Column::DeliveredTime,
                    Expr::value(Some(crate::time::now())),
                )
                .col_expr(entity::Column::LastError, Expr::value(""))
                .filter(entity::Column::Id.is_in(delivered))
                .filter(entity::Column::DeliveredTime.is_null())
                .exec(&self.db)
                .await?;
        }
        Ok(due.len())
    }

    /// Splits taken messages into deliveries: by topic, as many to a delivery as the
    /// receiver takes at once, but spread over the relay's concurrent deliveries and kept
    /// under [`MAX_BATCH_BYTES`]. Messages without a route are left to their lease.
    fn deliveries(&self, taken: Vec<entity::Model>) -> Vec<(Arc<dyn Deliver>, Vec<entity::Model>)> {
        let mut by_topic: std::collections::HashMap<String, Vec<entity::Model>> =
            std::collections::HashMap::new();
        for message in taken {
            by_topic
                .entry(message.topic.clone())
                .or_default()
                .push(message);
        }
        let mut deliveries = Vec::new();
        for (topic, deliver) in &self.routes {
            let messages = by_topic.remove(topic).unwrap_or_default();
            let most = deliver
                .batch()
                .min(messages.len().div_ceil(self.config.concurrency))
                .max(1);
            let mut batch: Vec<entity::Model> = Vec::new();
            let mut bytes = 0;
            for message in messages {
                if !batch.is_empty()
                    && (batch.len() == most || bytes + message.payload.len() > MAX_BATCH_BYTES)
                {
                    deliveries.push((deliver.clone(), std::mem::take(&mut batch)));
                    bytes = 0;
                }
                bytes += message.payload.len();
                batch.push(message);
            }
            if !batch.is_empty() {
                deliveries.push((deliver.clone(), batch));
            }
        }
        deliveries
    }

    /// Delivers taken messages of one topic in one call; returns the ids of those
    /// delivered. A failure is recorded with the time of the next attempt.
    async fn deliver_some(
        &self,
        deliver: Arc<dyn Deliver>,
        messages: Vec<entity::Model>,
    ) -> Vec<i64> {
        let Some(first) = messages.first() else {
            return Vec::new();
        };
        // OpenTelemetry messaging conventions: processing a message continues the trace it
        // was sent in; processing a batch continues the first's and links the others.
        let span = tracing::info_span!(
            "outbox.deliver",
            otel.name = %format!("process {}", first.topic),
            otel.kind = "consumer",
            otel.status_code = tracing::field::Empty,
            messaging.system = "assay.outbox",
            messaging.operation.type = "process",
            messaging.destination.name = %first.topic,
            messaging.message.id = tracing::field::Empty,
            messaging.message.delivery_attempt = tracing::field::Empty,
            messaging.batch.message_count = tracing::field::Empty,
        );
        crate::telemetry::continue_trace(&span, &first.trace_context);
        if let [one] = messages.as_slice() {
            span.record("messaging.message.id", one.key.as_str());
            span.record("messaging.message.delivery_attempt", one.attempts);
        } else {
            span.record("messaging.batch.message_count", messages.len());
            for message in &messages[1..] {
                crate::telemetry::link_trace(&span, &message.trace_context);
            }
        }
        let mut results = deliver
            .deliver_many(&messages)
            .instrument(span.clone())
            .await
            .into_iter();
        let mut delivered = Vec::with_capacity(messages.len());
        for message in &messages {
            match results.next() {
                Some(Ok(())) => delivered.push(message.id),
                Some(Err(error)) => {
                    span.record("otel.status_code", "ERROR");
                    self.failed(message, error).await;
                }
                None => {
                    span.record("otel.status_code", "ERROR");
                    self.failed(message, "the receiver did not answer for it".to_owned())
                        .await;
                }
            }
        }
        delivered
    }

    /// Records a failed delivery: the message is tried again after its backoff.
    async fn failed(&self, message: &entity::Model, error: String) {
        let attempts = message.attempts;
        let wait = backoff(&self.config, attempts);
        tracing::warn!(
            topic = message.topic,
            key = message.key,
            attempts,
            retry_in = ?wait,
            %error,
            "outbox delivery failed"
        );
        let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
        let recorded = entity::Entity::update_many()
            .col_expr(
                entity::Column::NextAttemptTime,
                Expr::value(crate::time::now() + wait),
            )
            .col_expr(entity::Column::LastError, Expr::value(error))
            .filter(entity::Column::Id.eq(message.id))
            .filter(entity::Column::Attempts.eq(attempts))
            .exec(&self.db)
            .await;
        if let Err(error) = recorded {
            tracing::warn!(%error, "outbox bookkeeping failed; the message will be retried");
        }
    }

    async fn purge(&self) -> Result<(), DbErr> {
        let keep =
            chrono::Duration::from_std(self.config.keep_delivered).unwrap_or(chrono::Duration::MAX);
        let Some(before) = crate::time::now().checked_sub_signed(keep) else {
            return Ok(());
        };
        entity::Entity::delete_many()
            .filter(entity::Column::DeliveredTime.lt(before))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// The wait after the `attempts`-th failure: doubling from `min_backoff`, capped, with up
/// to a quarter of jitter so that failed messages do not all come back at once.
fn backoff(config: &OutboxConfig, attempts: i32) -> Duration {
    let doublings = attempts.clamp(1, 30) as u32 - 1;
    let wait = config
        .min_backoff
        .saturating_mul(1 << Ord::min(doublings, 20))
        .min(config.max_backoff);
    let jitter = wait.mul_f64(rand::random::<f64>() * 0.25);
    (wait + jitter).min(config.max_backoff)
}

/// The migration creating `outbox`; services that publish list it in their migrator, and
/// [`TraceContextMigration`] after their own.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000100_create_outbox"
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Topic,
    Key,
    Payload,
    CreateTime,
    Attempts,
    NextAttemptTime,
    DeliveredTime,
    LastError,
    TraceContext,
}

/// Adds the trace context of each message.
pub struct TraceContextMigration;

impl MigrationName for TraceContextMigration {
    fn name(&self) -> &str {
        "m20261201_000101_add_outbox_trace_context"
    }
}

/// Indexes the undelivered messages only: the relays' look at what is due then walks
/// those, not the delivered ones kept for inspection (and, on PostgreSQL, their dead row
/// versions), which the index on (delivered_time, next_attempt_time) it replaces did.
pub struct UndeliveredIndexMigration;

impl MigrationName for UndeliveredIndexMigration {
    fn name(&self) -> &str {
        "m20261203_000102_index_undelivered_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for UndeliveredIndexMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A partial index: the same SQL on SQLite and PostgreSQL.
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS outbox_undelivered ON outbox (id) \
             WHERE delivered_time IS NULL",
        )
        .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS outbox_pending")
            .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl MigrationTrait for TraceContextMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        let trace_context = text(Outbox::TraceContext).default("").to_owned();
        crate::db::add_columns(manager, Outbox::Table, [trace_context]).await
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(big_pk_auto(Outbox::Id))
                    .col(string(Outbox::Topic))
                    .col(string(Outbox::Key))
                    .col(blob(Outbox::Payload))
                    .col(timestamp_with_time_zone(Outbox::CreateTime))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptTime))
                    .col(timestamp_with_time_zone_null(Outbox::DeliveredTime))
                    .col(text(Outbox::LastError))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_topic_key")
                    .table(Outbox::Table)
                    .col(Outbox::Topic)
                    .col(Outbox::Key)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_pending")
                    .table(Outbox::Table)
                    .col(Outbox::DeliveredTime)
                    .col(Outbox::NextAttemptTime)
                    .to_owned(),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// Refuses each message `failures` times, then takes it.
    struct Flaky {
        failures: i32,
        seen: Mutex<Vec<String>>,
    }

    impl Deliver for Arc<Flaky> {
        fn deliver<'a>(&'a self, message: &'a entity::Model) -> BoxFuture<'a, Result<(), String>> {
            Box::pin(async move {
                let mut seen = self.seen.lock().unwrap();
                seen.push(message.key.clone());
                let tries = seen.iter().filter(|k| **k == message.key).count() as i32;
                if tries <= self.failures {
                    Err(format!("try {tries} refused"))
                } else {
                    Ok(())
                }
            })
        }
    }

    struct Migrator;

    #[async_trait::async_trait]
    impl MigratorTrait for Migrator {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![
                Box::new(super::Migration),
                Box::new(super::TraceContextMigration),
                Box::new(super::UndeliveredIndexMigration),
            ]
        }
    }

    /// A migrated outbox in a SQLite file that lives as long as the directory.
    async fn sqlite_outbox() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::config::sqlite_url(&dir.path().join("outbox.db"));
        let db = crate::db::connect(&url, &crate::config::DatabaseConfig::default())
            .await
            .unwrap();
        crate::db::migrate::<Migrator>(&db).await.unwrap();
        (dir, db)
    }

    #[tokio::test]
    async fn a_relay_retries_until_delivered_and_leaves_other_topics() {
        let (_dir, db) = sqlite_outbox().await;
        for key in ["a", "b"] {
            enqueue(&db, "alerts", key, key.as_bytes().to_vec())
                .await
                .unwrap();
        }
        enqueue(&db, "elsewhere", "c", Vec::new()).await.unwrap();

        let flaky = Arc::new(Flaky {
            failures: 2,
            seen: Mutex::new(Vec::new()),
        });
        let config = OutboxConfig {
            poll_interval: Duration::from_millis(10),
            min_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            ..OutboxConfig::default()
        };
        let delivered = relay_until_delivered(&db, config, flaky.clone()).await;
        assert!(delivered, "never delivered");

        let rows = entity::Entity::find()
            .order_by_asc(entity::Column::Id)
            .all(&db)
            .await
            .unwrap();
        let delivered: Vec<(&str, i32, bool, &str)> = rows
            .iter()
            .map(|r| {
                (
                    r.key.as_str(),
                    r.attempts,
                    r.delivered_time.is_some(),
                    r.last_error.as_str(),
                )
            })
            .collect();
        assert_eq!(
            delivered,
            [("a", 3, true, ""), ("b", 3, true, ""), ("c", 0, false, "")]
        );
        assert_eq!(
            flaky.seen.lock().unwrap().len(),
            6,
            "two refusals and a success each"
        );
    }

    /// Delivers every message, remembering the keys.
    #[derive(Default)]
    struct Taker(Mutex<Vec<String>>);

    impl Deliver for Arc<Taker> {
        fn deliver<'a>(&'a self, message: &'a entity::Model) -> BoxFuture<'a, Result<(), String>> {
            self.0.lock().unwrap().push(message.key.clone());
            Box::pin(async { Ok(()) })
        }
    }

    /// Runs a relay of topic "alerts" on `db` until nothing of it is pending (true) or ten
    /// seconds passed (false).
    async fn relay_until_delivered(db: &Db, config: OutboxConfig, deliver: impl Deliver) -> bool {
        let shutdown = CancellationToken::new();
        let relay = Relay::new(db.clone(), config).route("alerts", deliver);
        let running = tokio::spawn(relay.run(shutdown.clone()));
        let delivered = wait_until_delivered(db, "alerts", Duration::from_secs(10)).await;
        shutdown.cancel();
        running.await.unwrap();
        delivered
    }

    async fn wait_until_delivered(db: &Db, topic: &str, within: Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        while pending(db, topic).await.unwrap() > 0 {
            if std::time::Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    #[tokio::test]
    async fn a_retry_comes_when_it_is_due_not_at_the_next_poll() {
        let (_dir, db) = sqlite_outbox().await;
        enqueue(&db, "alerts", "a", Vec::new()).await.unwrap();
        let flaky = Arc::new(Flaky {
            failures: 3,
            seen: Mutex::new(Vec::new()),
        });
        let config = OutboxConfig {
            poll_interval: Duration::from_secs(600),
            fallback_interval: Duration::from_secs(600),
            min_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(40),
            ..OutboxConfig::default()
        };
        let delivered = relay_until_delivered(&db, config, flaky.clone()).await;
        assert!(delivered, "the retries waited for the ten-minute poll");
        assert_eq!(flaky.seen.lock().unwrap().len(), 4);
    }

    /// A message another process writes on PostgreSQL wakes the relay at its commit, though
    /// the relay's own look is minutes away; one rolled back wakes nothing to deliver.
    #[tokio::test]
    async fn a_commit_anywhere_wakes_the_relay_on_postgres() {
        let Some(database) = crate::db::TestDatabase::create("assay_outbox").await else {
            return;
        };
        let url = database.url.clone();
        let config = crate::config::DatabaseConfig::default();
        let relay_db = crate::db::connect(&url, &config).await.unwrap();
        crate::db::migrate::<Migrator>(&relay_db).await.unwrap();
        let taker = Arc::new(Taker::default());
        let outbox = OutboxConfig {
            poll_interval: Duration::from_secs(600),
            fallback_interval: Duration::from_secs(600),
            ..OutboxConfig::default()
        };
        let shutdown = CancellationToken::new();
        let relay = Relay::new(relay_db.clone(), outbox).route("alerts", taker.clone());
        let running = tokio::spawn(relay.run(shutdown.clone()));
        // The relay's first look, once listening, finds nothing.
        tokio::time::sleep(Duration::from_millis(300)).await;

        use sea_orm::TransactionTrait;
        let writer = crate::db::connect(&url, &config).await.unwrap();
        let txn = writer.begin().await.unwrap();
        enqueue(&txn, "alerts", "kept", Vec::new()).await.unwrap();
        txn.commit().await.unwrap();
        let txn = writer.begin().await.unwrap();
        enqueue(&txn, "alerts", "rolled-back", Vec::new())
            .await
            .unwrap();
        txn.rollback().await.unwrap();
        let delivered = wait_until_delivered(&writer, "alerts", Duration::from_secs(5)).await;
        shutdown.cancel();
        running.await.unwrap();
        drop((writer, relay_db));
        database.drop().await;
        assert!(delivered, "the commit did not wake the relay");
        assert_eq!(*taker.0.lock().unwrap(), ["kept"]);
    }

    /// Takes up to three messages a call and refuses the key "bad" the first time.
    #[derive(Default)]
    struct Batcher {
        calls: Mutex<Vec<Vec<String>>>,
    }

    impl Deliver for Arc<Batcher> {
        fn deliver<'a>(&'a self, _: &'a entity::Model) -> BoxFuture<'a, Result<(), String>> {
            Box::pin(async { Err("one at a time: not expected".to_owned()) })
        }

        fn batch(&self) -> usize {
            3
        }

        fn deliver_many<'a>(
            &'a self,
            messages: &'a [entity::Model],
        ) -> BoxFuture<'a, Vec<Result<(), String>>> {
            let keys: Vec<String> = messages.iter().map(|m| m.key.clone()).collect();
            let mut calls = self.calls.lock().unwrap();
            let refused_before = calls.iter().flatten().any(|k| k == "bad");
            let answers = keys
                .iter()
                .map(|k| {
                    if k == "bad" && !refused_before {
                        Err("refused once".to_owned())
                    } else {
                        Ok(())
                    }
                })
                .collect();
            calls.push(keys);
            Box::pin(async { answers })
        }
    }

    /// A receiver that takes batches gets the messages a few to a call, spread over the
    /// relay's concurrent deliveries; one it refuses comes back alone, the rest stay
    /// delivered.
    #[tokio::test]
    async fn a_batch_receiver_gets_many_to_a_call_and_only_refused_ones_again() {
        let (_dir, db) = sqlite_outbox().await;
        let keys: Vec<String> = (0..10)
            .map(|i| {
                if i == 4 {
                    "bad".to_owned()
                } else {
                    format!("m{i}")
                }
            })
            .collect();
        for key in &keys {
            enqueue(&db, "alerts", key, Vec::new()).await.unwrap();
        }
        let batcher = Arc::new(Batcher::default());
        let config = OutboxConfig {
            poll_interval: Duration::from_millis(10),
            min_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(20),
            concurrency: 2,
            ..OutboxConfig::default()
        };
        assert!(relay_until_delivered(&db, config, batcher.clone()).await);
        let calls = batcher.calls.lock().unwrap().clone();
        // Ten messages, two deliveries at once: calls of (at most) three.
        assert!(
            calls.iter().all(|c| !c.is_empty() && c.len() <= 3),
            "{calls:?}"
        );
        assert_eq!(calls.len(), 5, "{calls:?}");
        assert_eq!(calls.last().unwrap(), &["bad"]);
        let mut first_round: Vec<&String> = calls[..4].iter().flatten().collect();
        first_round.sort();
        let mut expected: Vec<&String> = keys.iter().collect();
        expected.sort();
        assert_eq!(first_round, expected, "each message once before the retry");
    }

    /// Large messages go fewer to a call: a call carries at most a mebibyte of them (one
    /// larger still goes, alone).
    #[tokio::test]
    async fn a_batch_is_kept_under_its_size() {
        let (_dir, db) = sqlite_outbox().await;
        for (key, size) in [("a", 600_000), ("b", 600_000), ("c", 10), ("d", 2_000_000)] {
            enqueue(&db, "alerts", key, vec![0; size]).await.unwrap();
        }
        let batcher = Arc::new(Batcher::default());
        let config = OutboxConfig {
            poll_interval: Duration::from_millis(10),
            concurrency: 1,
            ..OutboxConfig::default()
        };
        assert!(relay_until_delivered(&db, config, batcher.clone()).await);
        let calls = batcher.calls.lock().unwrap().clone();
        assert_eq!(calls, [vec!["a"], vec!["b", "c"], vec!["d"]]);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = OutboxConfig {
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            ..OutboxConfig::default()
        };
        let first = backoff(&config, 1);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125));
        let fourth = backoff(&config, 4);
        assert!(fourth >= Duration::from_millis(800) && fourth <= Duration::from_millis(1000));
        assert_eq!(backoff(&config, 50), Duration::from_secs(2));
        assert_eq!(backoff(&config, i32::MAX), Duration::from_secs(2));
    }
}
