//! Webhook subscriptions: a member hears of its own cases, the marketplace's seller
//! management of what to do about sellers, and nobody of anything else.

use super::*;
use crate::domain::notify::{self, Audience};
use crate::entity::subscription;
use crate::ids::{NotificationId, SubscriptionId};

/// Who the caller is for notifications, and the owner its subscriptions are kept under.
fn audience(principal: &Principal) -> ApiResult<(Audience, String)> {
    match principal {
        Principal::Member { member_id, .. } => {
            Ok((Audience::Member, format!("member:{member_id}")))
        }
        Principal::Service { name } if name == "seller-management" => Ok((
            Audience::SellerManagement,
            "service:seller-management".to_owned(),
        )),
        _ => Err(ApiError::PermissionDenied(
            "only members and the marketplace's seller management subscribe to notifications"
                .to_owned(),
        )),
    }
}

/// E-mail subscriptions keep their address as a `mailto:` URL.
const MAILTO: &str = "mailto:";

fn subscription_proto(model: &subscription::Model, secret: bool) -> Subscription {
    let (url, email) = match model.url.strip_prefix(MAILTO) {
        Some(address) => (String::new(), address.to_owned()),
        None => (model.url.clone(), String::new()),
    };
    Subscription {
        id: model.id.clone(),
        owner: model.owner.clone(),
        url,
        email,
        event_types: store::event_types_of(model)
            .into_iter()
            .map(|e| e as i32)
            .collect(),
        signing_secret: if secret {
            model.secret.clone()
        } else {
            String::new()
        },
        create_time: Some(time::to_timestamp(model.create_time)),
    }
}

impl CasesApi {
    pub(super) async fn create_subscription(
        &self,
        principal: &Principal,
        req: CreateSubscriptionRequest,
    ) -> ApiResult<Subscription> {
        let (audience, owner) = audience(principal)?;
        let mut violations = FieldViolations::new();
        let Some(wanted) = req.subscription else {
            violations.add("subscription", "is required");
            return violations.into_result(Subscription::default());
        };
        let notifications = &self.inner.config.notifications;
        let url = match (wanted.url.is_empty(), wanted.email.is_empty()) {
            (false, true) => violations.check(
                "subscription.url",
                notify::check_url(&wanted.url, notifications.allow_http),
            ),
            (true, false) => violations
                .check("subscription.email", validate::email(&wanted.email))
                .map(|address| format!("{MAILTO}{address}")),
            (true, true) => {
                violations.add("subscription.url", "set a url or an email");
                None
            }
            (false, false) => {
                violations.add("subscription.email", "set a url or an email, not both");
                None
            }
        };
        let mut events: Vec<EventType> = Vec::new();
        if !(1..=notify::MAX_EVENT_TYPES).contains(&wanted.event_types.len()) {
            violations.add(
                "subscription.event_types",
                format!("must name 1 to {} events", notify::MAX_EVENT_TYPES),
            );
        }
        for (i, raw) in wanted
            .event_types
            .iter()
            .take(notify::MAX_EVENT_TYPES)
            .enumerate()
        {
            let field = format!("subscription.event_types[{i}]");
            match validate::required_enum::<EventType>(*raw) {
                Err(error) => violations.add(field, error),
                Ok(event) if !audience.may_hear(event) => violations.add(
                    field,
                    format!("{} is not about records of {owner}", event.as_str_name()),
                ),
                Ok(event) if events.contains(&event) => violations.add(field, "is named twice"),
                Ok(event) => events.push(event),
            }
        }
        let url = violations.require(url)?;
        if url.starts_with(MAILTO) && notifications.smtp.is_none() {
            return Err(ApiError::precondition(
                "this deployment has no SMTP relay ([cases.notifications.smtp]): subscribe a url",
            ));
        }
        let txn = self.db().begin().await?;
        if store::subscriptions_of(&txn, &owner).await?.len() >= notify::MAX_SUBSCRIPTIONS {
            return Err(ApiError::precondition(format!(
                "{owner} has {} subscriptions, the most it may have",
                notify::MAX_SUBSCRIPTIONS
            )));
        }
        let secret: [u8; 32] = rand::random();
        let model = store::insert_subscription(
            &txn,
            subscription::Model {
                id: SubscriptionId::generate().into_string(),
                owner,
                url,
                event_types: events
                    .iter()
                    .map(|e| e.as_str_name())
                    .collect::<Vec<_>>()
                    .join(","),
                secret: hex::encode(secret),
                create_time: time::now(),
            },
        )
        .await?;
        txn.commit().await?;
        Ok(subscription_proto(&model, true))
    }

    pub(super) async fn list_subscriptions(
        &self,
        principal: &Principal,
    ) -> ApiResult<ListSubscriptionsResponse> {
        let (_, owner) = audience(principal)?;
        let subscriptions = store::subscriptions_of(self.db(), &owner).await?;
        Ok(ListSubscriptionsResponse {
            subscriptions: subscriptions
                .iter()
                .map(|s| subscription_proto(s, false))
                .collect(),
        })
    }

    pub(super) async fn delete_subscription(
        &self,
        principal: &Principal,
        req: DeleteSubscriptionRequest,
    ) -> ApiResult<DeleteSubscriptionResponse> {
        let (_, owner) = audience(principal)?;
        let id = SubscriptionId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        if !store::delete_subscription(self.db(), &owner, id.as_str()).await? {
            return Err(ApiError::not_found("subscription", id.as_str()));
        }
        Ok(DeleteSubscriptionResponse {})
    }

    pub(super) async fn list_deliveries(
        &self,
        principal: &Principal,
        req: ListDeliveriesRequest,
    ) -> ApiResult<ListDeliveriesResponse> {
        let (_, owner) = audience(principal)?;
        let mut violations = FieldViolations::new();
        let notification = if req.notification_id.is_empty() {
            Some(None)
        } else {
            violations
                .check(
                    "notification_id",
                    NotificationId::parse(&req.notification_id).map(NotificationId::into_string),
                )
                .map(Some)
        };
        let limit = violations.check("page_size", feed_page(req.page_size));
        let (notification, limit) =
            violations.finish(|| (notification.unwrap(), limit.unwrap()))?;
        let attempts =
            store::deliveries_of(self.db(), &owner, notification.as_deref(), limit).await?;
        Ok(ListDeliveriesResponse {
            deliveries: attempts
                .into_iter()
                .map(|(d, n)| Delivery {
                    notification_id: d.notification_id,
                    subscription_id: n.subscription_id,
                    event_type: EventType::from_str_name(&n.event_type).unwrap_or_default() as i32,
                    attempt_time: Some(time::to_timestamp(d.attempt_time)),
                    status_code: d.status_code,
                    error: d.error,
                    delivered: d.delivered,
                    given_up: d.given_up,
                })
                .collect(),
        })
    }

    pub(super) async fn redeliver_notification(
        &self,
        principal: &Principal,
        req: RedeliverNotificationRequest,
    ) -> ApiResult<RedeliverNotificationResponse> {
        let (_, owner) = audience(principal)?;
        let id = NotificationId::parse(&req.notification_id)
            .map_err(|e| ApiError::invalid("notification_id", e))?;
        let txn = self.db().begin().await?;
        if store::notification_of(&txn, &owner, id.as_str())
            .await?
            .is_none()
        {
            return Err(ApiError::not_found("notification", id.as_str()));
        }
        store::queue_delivery(&txn, id.as_str()).await?;
        txn.commit().await?;
        self.wake_relay();
        Ok(RedeliverNotificationResponse {})
    }
}
