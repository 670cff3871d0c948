//! The transactional outbox: a service that must tell another service about a change writes
//! the message into its own `outbox` table in the same transaction as the change, so the
//! message exists if and only if the change does. A relay delivers the rows later, at
//! least once; the receiver makes delivery exactly-once with an idempotency key (the row's
//! `key`).

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use sea_orm_migration::prelude::*;

use crate::error::ApiResult;

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
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Writes a message to the outbox (inside the transaction of the change it announces).
pub async fn enqueue(
    db: &impl ConnectionTrait,
    topic: &str,
    key: &str,
    payload: Vec<u8>,
) -> ApiResult<()> {
    let now = crate::time::now();
    entity::ActiveModel {
        topic: Set(topic.to_owned()),
        key: Set(key.to_owned()),
        payload: Set(payload),
        create_time: Set(now),
        attempts: Set(0),
        next_attempt_time: Set(now),
        delivered_time: Set(None),
        last_error: Set(String::new()),
        ..Default::default()
    }
    .insert(db)
    .await?;
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

/// The migration creating `outbox`; services that publish list it in their migrator.
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
