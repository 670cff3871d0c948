//! Delivering hits to case management as alerts, from the outbox.

use assay_common::client::PeerChannel;
use assay_common::outbox::{Deliver, entity};
use assay_common::service::BoxFuture;
use assay_proto::cases::v1::ReceiveHitAlertRequest;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_proto::screening::v1::HitAlert;
use prost::Message;

pub struct HitAlerts {
    client: CasesServiceClient<PeerChannel>,
}

impl HitAlerts {
    pub fn new(channel: PeerChannel) -> Self {
        Self {
            client: CasesServiceClient::new(channel),
        }
    }
}

impl Deliver for HitAlerts {
    fn deliver<'a>(&'a self, message: &'a entity::Model) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let alert = HitAlert::decode(message.payload.as_slice())
                .map_err(|e| format!("undecodable alert: {e}"))?;
            self.client
                .clone()
                .receive_hit_alert(ReceiveHitAlertRequest { alert: Some(alert) })
                .await
                .map(|_| ())
                .map_err(|status| format!("{}: {}", status.code(), status.message()))
        })
    }
}
