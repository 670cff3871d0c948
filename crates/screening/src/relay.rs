//! Delivering hits to case management as alerts, from the outbox, many to a call.

use assay_common::client::PeerChannel;
use assay_common::outbox::{Deliver, entity};
use assay_common::service::BoxFuture;
use assay_proto::cases::v1::ReceiveHitAlertsRequest;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_proto::screening::v1::HitAlert;
use prost::Message;

/// Alerts sent in one `ReceiveHitAlerts` call, at most (case management takes 500).
const ALERTS_PER_CALL: usize = 200;

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
            let mut answers = self.deliver_many(std::slice::from_ref(message)).await;
            answers.pop().unwrap_or_else(|| Err("no answer".to_owned()))
        })
    }

    fn batch(&self) -> usize {
        ALERTS_PER_CALL
    }

    /// Sends the alerts in one call, each in the trace of the screening that stored its
    /// hit; an alert case management refuses is answered with its reasons.
    fn deliver_many<'a>(
        &'a self,
        messages: &'a [entity::Model],
    ) -> BoxFuture<'a, Vec<Result<(), String>>> {
        Box::pin(async move {
            let mut answers: Vec<Result<(), String>> = Vec::with_capacity(messages.len());
            let mut alerts = Vec::with_capacity(messages.len());
            let mut sent_at = Vec::with_capacity(messages.len());
            for (index, message) in messages.iter().enumerate() {
                match HitAlert::decode(message.payload.as_slice()) {
                    Ok(alert) => {
                        alerts.push(HitAlert {
                            traceparent: message.trace_context.clone(),
                            ..alert
                        });
                        sent_at.push(index);
                        answers.push(Ok(()));
                    }
                    Err(e) => answers.push(Err(format!("undecodable alert: {e}"))),
                }
            }
            if alerts.is_empty() {
                return answers;
            }
            let received = self
                .client
                .clone()
                .receive_hit_alerts(ReceiveHitAlertsRequest { alerts })
                .await;
            let received = match received {
                Ok(response) => response.into_inner().alerts,
                Err(status) => {
                    let error = format!("{}: {}", status.code(), status.message());
                    for index in sent_at {
                        answers[index] = Err(error.clone());
                    }
                    return answers;
                }
            };
            let mut received = received.into_iter();
            for index in sent_at {
                answers[index] = match received.next() {
                    Some(alert) if alert.field_violations.is_empty() => Ok(()),
                    Some(alert) => Err(alert
                        .field_violations
                        .iter()
                        .map(|v| format!("{}: {}", v.field, v.description))
                        .collect::<Vec<_>>()
                        .join("; ")),
                    None => Err("case management did not answer for it".to_owned()),
                };
            }
            answers
        })
    }
}
