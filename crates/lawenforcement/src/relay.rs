//! Deliverers of the law-enforcement service's outbox.

use assay_common::client::PeerChannel;
use assay_common::outbox::{Deliver, entity};
use assay_common::service::BoxFuture;
use assay_proto::cases::v1::RecordReferralOutcomeRequest;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use prost::Message;

/// Outcomes agencies report on referrals, recorded on the case.
pub struct ReferralOutcomes {
    client: CasesServiceClient<PeerChannel>,
}

impl ReferralOutcomes {
    pub fn new(channel: PeerChannel) -> Self {
        Self {
            client: CasesServiceClient::new(channel),
        }
    }
}

impl Deliver for ReferralOutcomes {
    fn deliver<'a>(&'a self, message: &'a entity::Model) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let request = RecordReferralOutcomeRequest::decode(message.payload.as_slice())
                .map_err(|e| format!("undecodable outcome: {e}"))?;
            self.client
                .clone()
                .record_referral_outcome(request)
                .await
                .map(|_| ())
                .map_err(|status| format!("{}: {}", status.code(), status.message()))
        })
    }
}
