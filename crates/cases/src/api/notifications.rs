//! Webhook subscriptions: a member hears of its own cases, the marketplace's seller
//! management of what to do about sellers, and nobody of anything else.

use super::*;
use assay_common::webhooks;

use crate::domain::notify::{self, Audience};
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

assay_common::webhook_wire_forms!(notify::EVENTS);

impl CasesApi {
    pub(super) async fn create_subscription(
        &self,
        principal: &Principal,
        req: CreateSubscriptionRequest,
    ) -> ApiResult<Subscription> {
        let (audience, owner) = audience(principal)?;
        let config = &self.inner.config.notifications;
        let wanted = wanted_subscription(req, &owner, |event| audience.may_hear(event), config)?;
        let txn = self.db().begin().await?;
        let model = webhooks::store::subscribe(
            &notify::EVENTS,
            &txn,
            owner,
            wanted,
            config,
            "cases.notifications",
            time::now(),
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
        subscriptions_of(self.db(), &owner).await
    }

    pub(super) async fn delete_subscription(
        &self,
        principal: &Principal,
        req: DeleteSubscriptionRequest,
    ) -> ApiResult<DeleteSubscriptionResponse> {
        let (_, owner) = audience(principal)?;
        let id = SubscriptionId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        webhooks::store::unsubscribe(self.db(), &owner, id.as_str()).await?;
        Ok(DeleteSubscriptionResponse {})
    }

    pub(super) async fn list_deliveries(
        &self,
        principal: &Principal,
        req: ListDeliveriesRequest,
    ) -> ApiResult<ListDeliveriesResponse> {
        let (_, owner) = audience(principal)?;
        deliveries_of(self.db(), &owner, &req).await
    }

    pub(super) async fn redeliver_notification(
        &self,
        principal: &Principal,
        req: RedeliverNotificationRequest,
    ) -> ApiResult<RedeliverNotificationResponse> {
        let (_, owner) = audience(principal)?;
        let id = NotificationId::parse(&req.notification_id)
            .map_err(|e| ApiError::invalid("notification_id", e))?;
        webhooks::store::redeliver(self.db(), topic::NOTIFICATION, &owner, id.as_str()).await?;
        self.inner.relay.wake();
        Ok(RedeliverNotificationResponse {})
    }
}
