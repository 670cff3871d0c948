//! Delivering notifications: POSTed to the subscriber's endpoint, signed, or e-mailed
//! through the SMTP relay; every attempt recorded.

use super::entity::{notification, subscription};
use super::{MAILTO, store};
use crate::db::Db;
use crate::outbox::{Deliver, entity};
use crate::service::BoxFuture;

/// The event a notification tells, as its body names it ("case.decided").
fn event_of(notification: &notification::Model) -> String {
    serde_json::from_str::<serde_json::Value>(&notification.body)
        .ok()
        .and_then(|body| body["type"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "unspecified".to_owned())
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
    fn new(config: &super::SmtpConfig, timeout: std::time::Duration) -> anyhow::Result<Self> {
        use super::SmtpTls;
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
                .map_err(|e| anyhow::anyhow!("notifications.smtp.from: {e}"))?,
        })
    }

    /// E-mails a notification; the SMTP reply code, or why there was none.
    async fn send(
        &self,
        notification: &notification::Model,
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
    pub fn new(db: Db, config: &super::NotificationConfig) -> anyhow::Result<Self> {
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
        notification: &notification::Model,
        subscription: &subscription::Model,
    ) -> Result<u16, String> {
        let event = event_of(notification);
        let event = event.as_str();
        if let Some(address) = subscription.url.strip_prefix(MAILTO) {
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
            && !super::is_public(ip)
        {
            return Err(format!("{ip} is not a public address"));
        }
        let now = crate::time::now().timestamp();
        let response = self
            .client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header("Assay-Event", event)
            .header("Assay-Delivery", &notification.id)
            .header(
                "Assay-Signature",
                super::signature(&subscription.secret, now, &notification.body),
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
            let found = store::notification_to_deliver(&self.db, &id)
                .await
                .map_err(|e| format!("reading notification {id}: {e}"))?;
            // The subscription was deleted: nobody is to be told any more.
            let Some((notification, subscription)) = found else {
                return Ok(());
            };
            let sent = self.send(&notification, &subscription).await;
            let by_mail = subscription.url.starts_with(MAILTO);
            let (status, error, delivered) = match &sent {
                // SMTP: 2xx, the relay took it.
                Ok(status) if (200..300).contains(status) => (*status, String::new(), true),
                Ok(status) if by_mail => (*status, format!("the relay answered {status}"), false),
                Ok(status) => (*status, format!("the endpoint answered {status}"), false),
                Err(error) => (0, error.clone(), false),
            };
            let now = crate::time::now();
            let given_up =
                !delivered && now.signed_duration_since(message.create_time) >= self.give_up_after;
            let attempt = store::Attempt {
                status_code: status,
                error: &error,
                delivered,
                given_up,
            };
            store::record_delivery(&self.db, &id, attempt, now)
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
                .filter(|a| super::is_public(a.ip()))
                .collect();
            if addresses.is_empty() {
                return Err(format!("{} has no public address", name.as_str()).into());
            }
            let addresses: reqwest::dns::Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}
