//! The notification tables, and their changes, each under the name it first had in case
//! management's migrations (where it was recorded by that name); a service that takes up
//! notifications lists both in its migrator.

use sea_orm_migration::{prelude::*, schema::*};

/// Webhook subscriptions, the notifications made for them, and each attempt to deliver one.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000005_create_notifications"
    }
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    Id,
    Owner,
    Url,
    EventTypes,
    Secret,
    CreateTime,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    SubscriptionId,
    EventType,
    Body,
    CreateTime,
}

#[derive(DeriveIden)]
enum Deliveries {
    Table,
    Id,
    GivenUp,
    NotificationId,
    AttemptTime,
    StatusCode,
    Error,
    Delivered,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Subscriptions::Table)
                    .col(string(Subscriptions::Id).primary_key())
                    .col(string(Subscriptions::Owner))
                    .col(text(Subscriptions::Url))
                    .col(string(Subscriptions::EventTypes))
                    .col(string(Subscriptions::Secret))
                    .col(timestamp_with_time_zone(Subscriptions::CreateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("subscriptions_by_owner")
                    .table(Subscriptions::Table)
                    .col(Subscriptions::Owner)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(string(Notifications::Id).primary_key())
                    .col(string(Notifications::SubscriptionId))
                    .col(string(Notifications::EventType))
                    .col(text(Notifications::Body))
                    .col(timestamp_with_time_zone(Notifications::CreateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("notifications_by_subscription")
                    .table(Notifications::Table)
                    .col(Notifications::SubscriptionId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Deliveries::Table)
                    .col(big_pk_auto(Deliveries::Id))
                    .col(string(Deliveries::NotificationId))
                    .col(timestamp_with_time_zone(Deliveries::AttemptTime))
                    .col(integer(Deliveries::StatusCode))
                    .col(text(Deliveries::Error))
                    .col(boolean(Deliveries::Delivered))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("deliveries_by_notification")
                    .table(Deliveries::Table)
                    .col(Deliveries::NotificationId)
                    .to_owned(),
            )
            .await
    }
}

/// A delivery attempt says when it was the last: the notification is given up on.
pub struct GivenUpMigration;

impl MigrationName for GivenUpMigration {
    fn name(&self) -> &str {
        "m20261207_000008_add_delivery_given_up"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for GivenUpMigration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let given_up = boolean(Deliveries::GivenUp).default(false).to_owned();
        crate::db::add_columns(manager, Deliveries::Table, [given_up]).await
    }
}
