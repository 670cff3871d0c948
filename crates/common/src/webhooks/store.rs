//! Subscriptions, the notifications made for them, and their delivery attempts.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::entity::{delivery, notification, subscription};
use super::{Events, MAILTO, MAX_SUBSCRIPTIONS, NotificationConfig, Wanted};
use crate::ids::{NotificationId, SubscriptionId};
use crate::{ApiError, ApiResult, outbox};

/// The events a subscription names.
pub fn event_types_of<E>(events: &Events<E>, model: &subscription::Model) -> Vec<E> {
    model
        .event_types
        .split(',')
        .filter_map(events.from_proto_name)
        .collect()
}

/// The owner's subscriptions, oldest first.
pub async fn subscriptions_of(
    db: &impl ConnectionTrait,
    owner: &str,
) -> ApiResult<Vec<subscription::Model>> {
    Ok(subscription::Entity::find()
        .filter(subscription::Column::Owner.eq(owner))
        .order_by_asc(subscription::Column::CreateTime)
        .order_by_asc(subscription::Column::Id)
        .all(db)
        .await?)
}

/// Subscribes `owner` to what it `wanted` (checked by [`super::check_wanted`]), with a new
/// signing secret; `section` names the configuration that would enable e-mail.
pub async fn subscribe<E: Copy>(
    events: &Events<E>,
    db: &impl ConnectionTrait,
    owner: String,
    wanted: Wanted<E>,
    config: &NotificationConfig,
    section: &str,
    now: DateTime<Utc>,
) -> ApiResult<subscription::Model> {
    if wanted.url.starts_with(MAILTO) && config.smtp.is_none() {
        return Err(ApiError::precondition(format!(
            "this deployment has no SMTP relay ([{section}.smtp]): subscribe a url"
        )));
    }
    if subscriptions_of(db, &owner).await?.len() >= MAX_SUBSCRIPTIONS {
        return Err(ApiError::precondition(format!(
            "{owner} has {MAX_SUBSCRIPTIONS} subscriptions, the most it may have"
        )));
    }
    let secret: [u8; 32] = rand::random();
    let model = subscription::Model {
        id: SubscriptionId::generate().into_string(),
        owner,
        url: wanted.url,
        event_types: wanted
            .events
            .iter()
            .map(|e| (events.proto_name)(*e))
            .collect::<Vec<_>>()
            .join(","),
        secret: hex::encode(secret),
        create_time: now,
    };
    Ok(subscription::ActiveModel::from(model).insert(db).await?)
}

/// Deletes the owner's subscription `id`; NOT_FOUND if the owner has none such.
pub async fn unsubscribe(db: &impl ConnectionTrait, owner: &str, id: &str) -> ApiResult<()> {
    let deleted = subscription::Entity::delete_many()
        .filter(subscription::Column::Id.eq(id))
        .filter(subscription::Column::Owner.eq(owner))
        .exec(db)
        .await?;
    if deleted.rows_affected == 1 {
        Ok(())
    } else {
        Err(ApiError::not_found("subscription", id))
    }
}

/// Makes a notification of `event` for every subscription of `owner` that asked for it,
/// and queues each on `topic` for delivery, in the caller's transaction.
pub async fn notify<E: Copy + PartialEq>(
    events: &Events<E>,
    db: &impl ConnectionTrait,
    topic: &str,
    owner: &str,
    event: E,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for subscription in subscriptions_of(db, owner).await? {
        if !event_types_of(events, &subscription).contains(&event) {
            continue;
        }
        let id = NotificationId::generate().into_string();
        let body = serde_json::json!({
            "id": id,
            "type": (events.type_name)(event),
            "created": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        })
        .to_string();
        notification::ActiveModel {
            id: Set(id.clone()),
            subscription_id: Set(subscription.id.clone()),
            event_type: Set((events.proto_name)(event).to_owned()),
            body: Set(body),
            create_time: Set(now),
        }
        .insert(db)
        .await?;
        queue_delivery(db, topic, &id).await?;
    }
    Ok(())
}

/// Queues a notification for delivery (again): each time a message of its own.
pub async fn queue_delivery(
    db: &impl ConnectionTrait,
    topic: &str,
    notification_id: &str,
) -> ApiResult<()> {
    outbox::enqueue(
        db,
        topic,
        &format!("{notification_id}/{}", uuid::Uuid::now_v7().simple()),
        notification_id.as_bytes().to_vec(),
    )
    .await
}

/// Queues the owner's notification `id` for delivery again; NOT_FOUND unless it is the
/// owner's.
pub async fn redeliver(
    db: &impl ConnectionTrait,
    topic: &str,
    owner: &str,
    id: &str,
) -> ApiResult<()> {
    match notification_to_deliver(db, id).await? {
        Some((_, subscription)) if subscription.owner == owner => {
            queue_delivery(db, topic, id).await
        }
        _ => Err(ApiError::not_found("notification", id)),
    }
}

/// A notification with its subscription, if both are still there.
pub async fn notification_to_deliver(
    db: &impl ConnectionTrait,
    id: &str,
) -> ApiResult<Option<(notification::Model, subscription::Model)>> {
    let Some(notification) = notification::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let subscription = subscription::Entity::find_by_id(notification.subscription_id.clone())
        .one(db)
        .await?;
    Ok(subscription.map(|s| (notification, s)))
}

/// One delivery attempt and how it went.
pub struct Attempt<'a> {
    pub status_code: u16,
    pub error: &'a str,
    pub delivered: bool,
    pub given_up: bool,
}

pub async fn record_delivery(
    db: &impl ConnectionTrait,
    notification_id: &str,
    attempt: Attempt<'_>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    delivery::ActiveModel {
        notification_id: Set(notification_id.to_owned()),
        attempt_time: Set(now),
        status_code: Set(i32::from(attempt.status_code)),
        error: Set(crate::error::truncate(attempt.error, 500)),
        delivered: Set(attempt.delivered),
        given_up: Set(attempt.given_up),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The owner's delivery attempts as `ListDeliveries` asks for them: of notification
/// `notification_id` ("" for all of them), at most `page_size` (0: 100; at most 1,000),
/// newest first, with the notification each was of.
pub async fn list_deliveries(
    db: &impl ConnectionTrait,
    owner: &str,
    notification_id: &str,
    page_size: i32,
) -> ApiResult<Vec<(delivery::Model, notification::Model)>> {
    let mut violations = crate::FieldViolations::new();
    let notification = if notification_id.is_empty() {
        Some(None)
    } else {
        violations
            .check(
                "notification_id",
                NotificationId::parse(notification_id).map(NotificationId::into_string),
            )
            .map(Some)
    };
    let limit = match page_size {
        0 => Some(100),
        n @ 1..=1000 => Some(n as u64),
        _ => {
            violations.add("page_size", "must be between 0 and 1000");
            None
        }
    };
    let (notification, limit) = violations.require(notification.zip(limit))?;
    deliveries_of(db, owner, notification.as_deref(), limit).await
}

/// The owner's delivery attempts (of one notification, or all), newest first, with the
/// notification each was of.
pub async fn deliveries_of(
    db: &impl ConnectionTrait,
    owner: &str,
    notification_id: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<(delivery::Model, notification::Model)>> {
    let subscriptions = Query::select()
        .column(subscription::Column::Id)
        .from(subscription::Entity)
        .and_where(subscription::Column::Owner.eq(owner))
        .to_owned();
    let mut notifications = Query::select()
        .column(notification::Column::Id)
        .from(notification::Entity)
        .and_where(notification::Column::SubscriptionId.in_subquery(subscriptions))
        .to_owned();
    if let Some(id) = notification_id {
        notifications.and_where(notification::Column::Id.eq(id));
    }
    let attempts = delivery::Entity::find()
        .filter(delivery::Column::NotificationId.in_subquery(notifications))
        .order_by_desc(delivery::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let ids: BTreeSet<&str> = attempts
        .iter()
        .map(|d| d.notification_id.as_str())
        .collect();
    let by_id: HashMap<String, notification::Model> = notification::Entity::find()
        .filter(notification::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|n| (n.id.clone(), n))
        .collect();
    Ok(attempts
        .into_iter()
        .filter_map(|d| {
            let n = by_id.get(&d.notification_id)?.clone();
            Some((d, n))
        })
        .collect())
}

/// A subscription as the contract shows it, in plain values: (url, email) with exactly
/// one set.
pub fn place_of(model: &subscription::Model) -> (String, String) {
    match model.url.strip_prefix(MAILTO) {
        Some(address) => (String::new(), address.to_owned()),
        None => (model.url.clone(), String::new()),
    }
}
