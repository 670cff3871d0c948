//! Deliverers of case management's outbox.

use assay_common::client::PeerChannel;
use assay_common::outbox::{Deliver, entity};
use assay_common::service::BoxFuture;
use assay_proto::screening::v1::RecordHitFeedbackRequest;
use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use prost::Message;

/// Feedback on screening hits, recorded through screening's API.
pub struct HitFeedback {
    client: ScreeningServiceClient<PeerChannel>,
}

impl HitFeedback {
    pub fn new(channel: PeerChannel) -> Self {
        Self {
            client: ScreeningServiceClient::new(channel),
        }
    }
}

impl Deliver for HitFeedback {
    fn deliver<'a>(&'a self, message: &'a entity::Model) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let request = RecordHitFeedbackRequest::decode(message.payload.as_slice())
                .map_err(|e| format!("undecodable feedback: {e}"))?;
            self.client
                .clone()
                .record_hit_feedback(request)
                .await
                .map(|_| ())
                .map_err(|status| format!("{}: {}", status.code(), status.message()))
        })
    }
}
