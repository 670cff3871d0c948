//! Who hears of case management's events. The subscriptions, notifications and delivery
//! attempts themselves are kept by `assay_common::webhooks::store`.

use super::*;

/// Who hears of an event: the member whose record it is, or the marketplace's seller
/// management.
#[derive(Debug, Clone)]
pub enum Recipients {
    Member(String),
    SellerManagement,
}

impl Recipients {
    /// The owner their subscriptions are kept under.
    pub fn owner(&self) -> String {
        match self {
            Recipients::Member(id) => format!("member:{id}"),
            Recipients::SellerManagement => "service:seller-management".to_owned(),
        }
    }
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
    assay_common::webhooks::store::notify(
        &crate::domain::notify::EVENTS,
        db,
        topic::NOTIFICATION,
        &recipients.owner(),
        event,
        data,
        now,
    )
    .await
}
