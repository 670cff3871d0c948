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

/// Notifications, POSTed to their subscribers' endpoints, signed; every attempt recorded.
/// A refusal (anything but a 2xx) is retried by the relay with backoff.
pub struct Webhooks {
    db: Db,
    client: reqwest::Client,
    allow_private: bool,
    mail: Option<Mail>,
    give_up_after: chrono::Duration,
}

/// The SMTP relay e-mail notifications go through.
struct Mail {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl Mail {
    fn new(
        config: &crate::domain::notify::SmtpConfig,
        timeout: std::time::Duration,
    ) -> anyhow::Result<Self> {
        use crate::domain::notify::SmtpTls;
        use lettre::AsyncSmtpTransport;
        let builder = match config.tls {
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<lettre::Tokio1Executor>::starttls_relay(&config.host)?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<lettre::Tokio1Executor>::relay(&config.host)?,
            SmtpTls::None => {
                AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous(&config.host)
            }
        };
        let mut builder = builder.port(config.port).timeout(Some(timeout));
        if let Some(username) = &config.username {
            let password = match &config.password_file {
                Some(file) => std::fs::read_to_string(file)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", file.display()))?
                    .trim()
                    .to_owned(),
                None => String::new(),
            };
            builder =
                builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                    username.clone(),
                    password,
                ));
        }
        Ok(Self {
            transport: builder.build(),
            from: config
                .from
                .parse()
                .map_err(|e| anyhow::anyhow!("cases.notifications.smtp.from: {e}"))?,
        })
    }

    /// E-mails a notification; the SMTP reply code, or why there was none.
    async fn send(
        &self,
        notification: &crate::entity::notification::Model,
        to: &str,
        event: &str,
    ) -> Result<u16, String> {
        use lettre::AsyncTransport;
        let to: lettre::message::Mailbox = to.parse().map_err(|e| format!("{e}"))?;
        let pretty = serde_json::from_str::<serde_json::Value>(&notification.body)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_else(|_| notification.body.clone());
        let message = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(format!("Assay: {event} ({})", notification.id))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(format!(
                "Assay has something to tell you: {event}.\n\n{pretty}\n\nNotification {}.\n",
                notification.id
            ))
            .map_err(|e| format!("{e}"))?;
        let response = self
            .transport
            .send(message)
            .await
            .map_err(|e| error_chain(&e))?;
        Ok(u16::from(response.code()))
    }
}

impl Webhooks {
    pub fn new(db: Db, config: &crate::domain::notify::NotificationConfig) -> anyhow::Result<Self> {
        let allow_private = config.allow_private_targets;
        let mut client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(std::time::Duration::from_secs(5)))
            // A redirect could lead anywhere, a private address included.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("assay/", env!("CARGO_PKG_VERSION")));
        if !allow_private {
            client = client.dns_resolver(std::sync::Arc::new(PublicOnly));
        }
        let mail = config
            .smtp
            .as_ref()
            .map(|smtp| Mail::new(smtp, config.timeout))
            .transpose()?;
        Ok(Self {
            db,
            client: client.build()?,
            allow_private,
            mail,
            give_up_after: chrono::Duration::from_std(config.give_up_after)
                .unwrap_or(chrono::Duration::MAX),
        })
    }

    /// Sends one notification; the status it got, or why it got none.
    async fn send(
        &self,
        notification: &crate::entity::notification::Model,
        subscription: &crate::entity::subscription::Model,
    ) -> Result<u16, String> {
        use crate::domain::notify;
        let event = assay_proto::cases::v1::EventType::from_str_name(&notification.event_type)
            .map_or("unspecified", notify::event_name);
        if let Some(address) = subscription.url.strip_prefix("mailto:") {
            return match &self.mail {
                Some(mail) => mail.send(notification, address, event).await,
                None => Err("no SMTP relay is configured".to_owned()),
            };
        }
        let url: reqwest::Url = subscription
            .url
            .parse()
            .map_err(|e| format!("unusable endpoint: {e}"))?;
        // A literal address skips the resolver: check it here.
        if !self.allow_private
            && let Some(ip) = url.host_str().and_then(|h| {
                h.trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .ok()
            })
            && !notify::is_public(ip)
        {
            return Err(format!("{ip} is not a public address"));
        }
        let now = assay_common::time::now().timestamp();
        let response = self
            .client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("Assay-Event", event)
            .header("Assay-Delivery", &notification.id)
            .header(
                "Assay-Signature",
                notify::signature(&subscription.secret, now, &notification.body),
            )
            .body(notification.body.clone())
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        Ok(response.status().as_u16())
    }
}

impl Deliver for Webhooks {
    fn deliver<'a>(&'a self, message: &'a entity::Model) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let id = String::from_utf8(message.payload.clone())
                .map_err(|e| format!("undecodable notification id: {e}"))?;
            let found = crate::store::notification_to_deliver(&self.db, &id)
                .await
                .map_err(|e| format!("reading notification {id}: {e}"))?;
            // The subscription was deleted: nobody is to be told any more.
            let Some((notification, subscription)) = found else {
                return Ok(());
            };
            let sent = self.send(&notification, &subscription).await;
            let by_mail = subscription.url.starts_with("mailto:");
            let (status, error, delivered) = match &sent {
                // SMTP: 2xx, the relay took it.
                Ok(status) if (200..300).contains(status) => (*status, String::new(), true),
                Ok(status) if by_mail => (*status, format!("the relay answered {status}"), false),
                Ok(status) => (*status, format!("the endpoint answered {status}"), false),
                Err(error) => (0, error.clone(), false),
            };
            let now = assay_common::time::now();
            let given_up =
                !delivered && now.signed_duration_since(message.create_time) >= self.give_up_after;
            crate::store::record_delivery(&self.db, &id, status, &error, delivered, given_up, now)
                .await
                .map_err(|e| format!("recording the delivery of {id}: {e}"))?;
            if given_up {
                tracing::warn!(
                    notification_id = id,
                    subscription_id = subscription.id,
                    attempts = message.attempts + 1,
                    %error,
                    "a notification failed for too long: given up"
                );
                // Delivered, as far as the outbox goes: nothing more to try.
                return Ok(());
            }
            if delivered { Ok(()) } else { Err(error) }
        })
    }
}

/// An error with every cause under it: reqwest says "error sending request" and leaves
/// why to its sources.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut said = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        said.push_str(": ");
        said.push_str(&next.to_string());
        cause = next.source();
    }
    said
}

/// Resolves names to public addresses only, so that a webhook cannot be pointed into the
/// network this service runs in.
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = format!("{}:0", name.as_str());
            let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host(host)
                .await?
                .filter(|a| crate::domain::notify::is_public(a.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}
