//! Webhook subscriptions, the notifications made for them, and their delivery attempts.

use super::*;
use crate::domain::notify;
use crate::entity::{delivery, notification, subscription};

/// Who hears of an event: the member whose record it is, or the marketplace's seller
/// management.
#[derive(Debug, Clone)]
pub enum Recipients {
    Member(String),
    SellerManagement,
}

impl Recipients {
    fn owner(&self) -> String {
        match self {
            Recipients::Member(id) => format!("member:{id}"),
            Recipients::SellerManagement => "service:seller-management".to_owned(),
        }
    }
}

pub fn event_types_of(model: &subscription::Model) -> Vec<EventType> {
    model
        .event_types
        .split(',')
        .filter_map(EventType::from_str_name)
        .collect()
}

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

pub async fn insert_subscription(
    db: &impl ConnectionTrait,
    model: subscription::Model,
) -> ApiResult<subscription::Model> {
    Ok(subscription::ActiveModel::from(model).insert(db).await?)
}

/// Deletes the owner's subscription `id`; false if the owner has none such.
pub async fn delete_subscription(
    db: &impl ConnectionTrait,
    owner: &str,
    id: &str,
) -> ApiResult<bool> {
    let deleted = subscription::Entity::delete_many()
        .filter(subscription::Column::Id.eq(id))
        .filter(subscription::Column::Owner.eq(owner))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// Makes a notification of `event` for every subscription of `recipients` that asked for
/// it, and queues each for delivery, in the caller's transaction.
pub async fn notify(
    db: &impl ConnectionTrait,
    recipients: Recipients,
    event: EventType,
    data: serde_json::Value,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for subscription in subscriptions_of(db, &recipients.owner()).await? {
        if !event_types_of(&subscription).contains(&event) {
            continue;
        }
        let id = crate::ids::NotificationId::generate().into_string();
        let body = serde_json::json!({
            "id": id,
            "type": notify::event_name(event),
            "created": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": data,
        })
        .to_string();
        notification::ActiveModel {
            id: Set(id.clone()),
            subscription_id: Set(subscription.id.clone()),
            event_type: Set(event.as_str_name().to_owned()),
            body: Set(body),
            create_time: Set(now),
        }
        .insert(db)
        .await?;
        queue_delivery(db, &id).await?;
    }
    Ok(())
}

/// Queues a notification for delivery (again): each time a message of its own.
pub async fn queue_delivery(db: &impl ConnectionTrait, notification_id: &str) -> ApiResult<()> {
    outbox::enqueue(
        db,
        topic::NOTIFICATION,
        &format!("{notification_id}/{}", uuid::Uuid::now_v7().simple()),
        notification_id.as_bytes().to_vec(),
    )
    .await
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

/// The owner's notification `id`, if it is the owner's.
pub async fn notification_of(
    db: &impl ConnectionTrait,
    owner: &str,
    id: &str,
) -> ApiResult<Option<notification::Model>> {
    Ok(notification_to_deliver(db, id)
        .await?
        .filter(|(_, s)| s.owner == owner)
        .map(|(n, _)| n))
}

pub async fn record_delivery(
    db: &impl ConnectionTrait,
    notification_id: &str,
    status_code: u16,
    error: &str,
    delivered: bool,
    given_up: bool,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    delivery::ActiveModel {
        notification_id: Set(notification_id.to_owned()),
        attempt_time: Set(now),
        status_code: Set(i32::from(status_code)),
        error: Set(assay_common::error::truncate(error, 500)),
        delivered: Set(delivered),
        given_up: Set(given_up),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
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
