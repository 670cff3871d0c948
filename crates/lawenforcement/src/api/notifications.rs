//! Webhook and e-mail subscriptions: an agency hears of its own requests and referrals.
//! Each subscribing, unsubscribing and redelivery is in the audit log.

use assay_common::webhooks;

use super::*;
use crate::domain::notify::{self, EVENTS};
use crate::ids::{NotificationId, SubscriptionId};

/// The owner the calling agency's subscriptions are kept under.
fn owner_of(principal: &Principal) -> ApiResult<String> {
    match principal {
        Principal::Agency { agency_id, .. } => Ok(notify::agency_owner(agency_id)),
        _ => Err(ApiError::PermissionDenied(
            "only agencies subscribe to the law-enforcement service's notifications".to_owned(),
        )),
    }
}

assay_common::webhook_wire_forms!(EVENTS);

impl LawEnforcementApi {
    pub(super) async fn create_subscription(
        &self,
        principal: &Principal,
        req: CreateSubscriptionRequest,
    ) -> ApiResult<Subscription> {
        let owner = owner_of(principal)?;
        let config = &self.inner.config.notifications;
        let wanted = wanted_subscription(req, &owner, notify::agency_may_hear, config)?;
        let txn = self.db().begin().await?;
        let model = webhooks::store::subscribe(
            &EVENTS,
            &txn,
            owner,
            wanted,
            config,
            "lawenforcement.notifications",
            time::now(),
        )
        .await?;
        self.audit(
            &txn,
            principal,
            "subscription.create",
            &model.id,
            format!("{} to {}", model.event_types, model.url),
        )
        .await?;
        txn.commit().await?;
        Ok(subscription_proto(&model, true))
    }

    pub(super) async fn list_subscriptions(
        &self,
        principal: &Principal,
    ) -> ApiResult<ListSubscriptionsResponse> {
        let owner = owner_of(principal)?;
        subscriptions_of(self.db(), &owner).await
    }

    pub(super) async fn delete_subscription(
        &self,
        principal: &Principal,
        req: DeleteSubscriptionRequest,
    ) -> ApiResult<DeleteSubscriptionResponse> {
        let owner = owner_of(principal)?;
        let id = SubscriptionId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let txn = self.db().begin().await?;
        webhooks::store::unsubscribe(&txn, &owner, id.as_str()).await?;
        self.audit(
            &txn,
            principal,
            "subscription.delete",
            id.as_str(),
            String::new(),
        )
        .await?;
        txn.commit().await?;
        Ok(DeleteSubscriptionResponse {})
    }

    pub(super) async fn list_deliveries(
        &self,
        principal: &Principal,
        req: ListDeliveriesRequest,
    ) -> ApiResult<ListDeliveriesResponse> {
        let owner = owner_of(principal)?;
        deliveries_of(self.db(), &owner, &req).await
    }

    pub(super) async fn redeliver_notification(
        &self,
        principal: &Principal,
        req: RedeliverNotificationRequest,
    ) -> ApiResult<RedeliverNotificationResponse> {
        let owner = owner_of(principal)?;
        let id = NotificationId::parse(&req.notification_id)
            .map_err(|e| ApiError::invalid("notification_id", e))?;
        let txn = self.db().begin().await?;
        webhooks::store::redeliver(&txn, topic::AGENCY_NOTIFICATION, &owner, id.as_str()).await?;
        self.audit(
            &txn,
            principal,
            "notification.redeliver",
            id.as_str(),
            String::new(),
        )
        .await?;
        txn.commit().await?;
        self.inner.relay.wake();
        Ok(RedeliverNotificationResponse {})
    }
}
