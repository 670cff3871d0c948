//! Deliverers of case management's outbox.

use assay_common::client::PeerChannel;
use assay_common::db::Db;
use assay_common::ids::{CaseId, ReferralId};
use assay_common::outbox::{Deliver, entity};
use assay_common::service::BoxFuture;
use assay_proto::cases::v1::{Case, CaseEventKind, ReferralState};
use assay_proto::lawenforcement::v1::ReceiveReferralRequest;
use assay_proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use assay_proto::screening::v1::{RecordHitFeedbackRequest, RecordSellerStandingsRequest};
use prost::Message;
use sea_orm::TransactionTrait;

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

/// Looks at sellers' enforcement levels again, in case management itself: the sellers
/// linked to one whose own suspension came or went, or whose links changed.
pub struct EnforcementChecks {
    api: crate::CasesApi,
}

impl EnforcementChecks {
    pub fn new(api: crate::CasesApi) -> Self {
        Self { api }
    }
}

impl Deliver for EnforcementChecks {
    fn deliver<'a>(&'a self, message: &'a entity::Model) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let check = crate::store::EnforcementCheck::decode(&message.payload)
                .ok_or("undecodable enforcement check")?;
            self.api
                .check_enforcement(&check.seller_id, check.spread)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// Referrals, delivered to the law-enforcement service; once it has one, the case's
/// referral is marked DELIVERED.
pub struct Referrals {
    client: LawEnforcementServiceClient<PeerChannel>,
    db: Db,
}

impl Referrals {
    pub fn new(channel: PeerChannel, db: Db) -> Self {
        Self {
            client: LawEnforcementServiceClient::new(channel),
            db,
        }
    }
}

impl Deliver for Referrals {
    fn deliver<'a>(&'a self, message: &'a entity::Model) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let case = Case::decode(message.payload.as_slice())
                .map_err(|e| format!("undecodable referral: {e}"))?;
            // Both written by this service into its own outbox.
            let case_id = CaseId::from_trusted(case.id.clone());
            let referral_id = ReferralId::from_trusted(message.key.clone());
            let answer = self
                .client
                .clone()
                .receive_referral(ReceiveReferralRequest { r#case: Some(case) })
                .await
                .map_err(|status| format!("{}: {}", status.code(), status.message()))?
                .into_inner();
            let marked = async {
                let txn = self.db.begin().await?;
                crate::store::set_referral_state(&txn, &referral_id, ReferralState::Delivered)
                    .await?;
                if answer.created {
                    crate::store::append_event(
                        &txn,
                        &case_id,
                        crate::domain::moves::Event::new(
                            CaseEventKind::ReferralDelivered,
                            format!("referral {} received by law enforcement", message.key),
                        ),
                        "system:relay",
                        assay_common::time::now(),
                    )
                    .await?;
                }
                txn.commit().await?;
                assay_common::ApiResult::Ok(())
            };
            marked
                .await
                .map_err(|e| format!("marking the referral delivered: {e}"))
        })
    }
}

/// Sellers whose strikes or links changed: their standing, and that of every seller linked
/// to them, as it is now, recorded through screening's API.
pub struct SellerStandings {
    client: ScreeningServiceClient<PeerChannel>,
    db: Db,
    policy: crate::domain::RepeatInfringerPolicy,
}

impl SellerStandings {
    pub fn new(channel: PeerChannel, db: Db, policy: crate::domain::RepeatInfringerPolicy) -> Self {
        Self {
            client: ScreeningServiceClient::new(channel),
            db,
            policy,
        }
    }
}

impl Deliver for SellerStandings {
    fn deliver<'a>(&'a self, message: &'a entity::Model) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let seller_id = String::from_utf8(message.payload.clone())
                .map_err(|e| format!("undecodable seller id: {e}"))?;
            // Stamped before reading: a standing read later never carries an earlier time,
            // so of two deliveries racing, screening keeps the one that read last.
            let as_of = assay_common::time::now();
            let read = async {
                let cluster = crate::store::cluster_of(&self.db, seller_id).await?;
                let strikes = crate::store::strikes_by_seller(&self.db, &cluster.members).await?;
                assay_common::ApiResult::Ok((cluster, strikes))
            };
            let (cluster, strikes) = read
                .await
                .map_err(|e| format!("reading the seller's standing: {e}"))?;
            let standings =
                crate::domain::standing::standings(&self.policy, &cluster, &strikes, as_of);
            self.client
                .clone()
                .record_seller_standings(RecordSellerStandingsRequest {
                    standings: standings.iter().map(crate::convert::standing).collect(),
                })
                .await
                .map(|_| ())
                .map_err(|status| format!("{}: {}", status.code(), status.message()))
        })
    }
}
