//! Notifications: subscriptions to a service's events, delivered as signed webhooks or as
//! e-mail. Every service whose records someone outside it follows (case management's
//! members and seller management, law enforcement's agencies) keeps the same three
//! tables, made by [`Migration`]; it decides who may hear what ([`Event`], and its own
//! audiences) and says when something happened ([`store::notify`]); its outbox relay
//! delivers each notification with [`Webhooks`], retried with backoff and given up on
//! after [`NotificationConfig::give_up_after`].
//!
//! Each delivery is signed with an HMAC-SHA256 over the timestamp and the body, as the
//! payment platforms sign theirs, so that a receiver can check both where it came from and
//! that it is fresh.

mod deliver;
pub mod entity;
mod migration;
pub mod store;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub use deliver::Webhooks;
pub use migration::{GivenUpMigration, Migration};

use crate::FieldViolations;

/// Writes, in the calling module, the wire forms of subscriptions and delivery attempts:
/// `wanted_subscription(req, owner, may_hear, config)`, the checked request of
/// `CreateSubscription`; `subscription_proto(model, with_secret)`; and the answers of
/// `ListSubscriptions` (`subscriptions_of(db, owner)`) and `ListDeliveries`
/// (`deliveries_of(db, owner, req)`). Each service's contract has its own messages of these
/// names, with the same fields; they, `time` and the service's [`Events`] must be in scope.
#[macro_export]
macro_rules! webhook_wire_forms {
    ($events:expr) => {
        /// What `req` asks for, checked: INVALID_ARGUMENT naming every field that is wrong.
        fn wanted_subscription(
            req: CreateSubscriptionRequest,
            owner: &str,
            may_hear: impl Fn(EventType) -> bool,
            config: &$crate::webhooks::NotificationConfig,
        ) -> $crate::ApiResult<$crate::webhooks::Wanted<EventType>> {
            let mut violations = $crate::FieldViolations::new();
            let Some(asked) = req.subscription else {
                violations.add("subscription", "is required");
                return violations.require(None);
            };
            let wanted = $crate::webhooks::check_wanted(
                &$events,
                &mut violations,
                "subscription",
                (&asked.url, &asked.email, &asked.event_types),
                owner,
                may_hear,
                config,
            );
            violations.require(wanted)
        }

        fn subscription_proto(
            model: &$crate::webhooks::entity::subscription::Model,
            with_secret: bool,
        ) -> Subscription {
            let (url, email) = $crate::webhooks::store::place_of(model);
            Subscription {
                id: model.id.clone(),
                owner: model.owner.clone(),
                url,
                email,
                event_types: $crate::webhooks::store::event_types_of(&$events, model)
                    .into_iter()
                    .map(|e| e as i32)
                    .collect(),
                signing_secret: if with_secret {
                    model.secret.clone()
                } else {
                    String::new()
                },
                create_time: Some(time::to_timestamp(model.create_time)),
            }
        }

        async fn subscriptions_of(
            db: &impl ::sea_orm::ConnectionTrait,
            owner: &str,
        ) -> $crate::ApiResult<ListSubscriptionsResponse> {
            let subscriptions = $crate::webhooks::store::subscriptions_of(db, owner).await?;
            Ok(ListSubscriptionsResponse {
                subscriptions: subscriptions
                    .iter()
                    .map(|s| subscription_proto(s, false))
                    .collect(),
            })
        }

        async fn deliveries_of(
            db: &impl ::sea_orm::ConnectionTrait,
            owner: &str,
            req: &ListDeliveriesRequest,
        ) -> $crate::ApiResult<ListDeliveriesResponse> {
            let attempts = $crate::webhooks::store::list_deliveries(
                db,
                owner,
                &req.notification_id,
                req.page_size,
            )
            .await?;
            Ok(ListDeliveriesResponse {
                deliveries: attempts.into_iter().map(delivery_proto).collect(),
            })
        }

        fn delivery_proto(
            (attempt, notification): (
                $crate::webhooks::entity::delivery::Model,
                $crate::webhooks::entity::notification::Model,
            ),
        ) -> Delivery {
            Delivery {
                notification_id: attempt.notification_id,
                subscription_id: notification.subscription_id,
                event_type: EventType::from_str_name(&notification.event_type).unwrap_or_default()
                    as i32,
                attempt_time: Some(time::to_timestamp(attempt.attempt_time)),
                status_code: attempt.status_code,
                error: attempt.error,
                delivered: attempt.delivered,
                given_up: attempt.given_up,
            }
        }
    };
}

/// Event types one subscription may name.
pub const MAX_EVENT_TYPES: usize = 10;
/// Subscriptions one principal may hold.
pub const MAX_SUBSCRIPTIONS: usize = 20;
/// The longest endpoint URL.
pub const MAX_URL: usize = 2000;
/// E-mail subscriptions keep their address as a `mailto:` URL.
pub const MAILTO: &str = "mailto:";

/// A service's event types, as its contract names them (a proto enum `E`).
pub struct Events<E: 'static> {
    /// The name kept in the database: its proto name, "EVENT_TYPE_CASE_DECIDED".
    pub proto_name: fn(E) -> &'static str,
    /// The event of a proto name.
    pub from_proto_name: fn(&str) -> Option<E>,
    /// Its name in a body and the `Assay-Event` header: "case.decided".
    pub type_name: fn(E) -> &'static str,
}

/// Where notifications may go (`[<service>.notifications]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationConfig {
    /// Accept `http://` endpoints (development only: bodies travel in clear).
    pub allow_http: bool,
    /// Deliver to loopback, private and link-local addresses (development only: a
    /// subscriber could otherwise make this service call into its own network).
    pub allow_private_targets: bool,
    /// How long one delivery attempt may take.
    #[serde(with = "humantime_serde")]
    pub timeout: std::time::Duration,
    /// How long a notification is retried (with the outbox's backoff) from when it was
    /// queued, or queued again by RedeliverNotification, before it is given up on.
    #[serde(with = "humantime_serde")]
    pub give_up_after: std::time::Duration,
    /// The SMTP relay e-mail notifications go through; unset: no e-mail subscriptions.
    pub smtp: Option<SmtpConfig>,
}

impl Default for NotificationConfig {
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_private_targets: false,
            timeout: std::time::Duration::from_secs(10),
            // As the payment platforms do: three days of retries.
            give_up_after: std::time::Duration::from_secs(3 * 86_400),
            smtp: None,
        }
    }
}

/// An SMTP relay (`[<service>.notifications.smtp]`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "SmtpConfig::default_port")]
    pub port: u16,
    /// `starttls` (the default), `tls` (implicit, port 465) or `none` (development only).
    #[serde(default)]
    pub tls: SmtpTls,
    /// The sender, e.g. `Assay <assay@marketplace.example>`.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    /// A file holding the password.
    #[serde(default)]
    pub password_file: Option<std::path::PathBuf>,
}

impl SmtpConfig {
    fn default_port() -> u16 {
        587
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    #[default]
    Starttls,
    Tls,
    None,
}

/// A subscription as asked for, checked: where to (a URL, or `mailto:` and an address) and
/// the events, each once.
#[derive(Debug, Clone, PartialEq)]
pub struct Wanted<E> {
    pub url: String,
    pub events: Vec<E>,
}

/// Checks a subscription asked for by `owner` under `at` ("subscription"): a URL or an
/// e-mail address, not both, and 1 to [`MAX_EVENT_TYPES`] events it `may_hear`. None, with
/// the violations named, when anything is wrong.
pub fn check_wanted<E>(
    events: &Events<E>,
    violations: &mut FieldViolations,
    at: &str,
    (url, email, event_types): (&str, &str, &[i32]),
    owner: &str,
    may_hear: impl Fn(E) -> bool,
    config: &NotificationConfig,
) -> Option<Wanted<E>>
where
    E: Copy + PartialEq + Default + TryFrom<i32>,
{
    let names = events;
    let url = match (url.is_empty(), email.is_empty()) {
        (false, true) => violations.check(&format!("{at}.url"), check_url(url, config.allow_http)),
        (true, false) => violations
            .check(&format!("{at}.email"), crate::validate::email(email))
            .map(|address| format!("{MAILTO}{address}")),
        (true, true) => {
            violations.add(format!("{at}.url"), "set a url or an email");
            None
        }
        (false, false) => {
            violations.add(format!("{at}.email"), "set a url or an email, not both");
            None
        }
    };
    let mut events: Vec<E> = Vec::new();
    if !(1..=MAX_EVENT_TYPES).contains(&event_types.len()) {
        violations.add(
            format!("{at}.event_types"),
            format!("must name 1 to {MAX_EVENT_TYPES} events"),
        );
    }
    for (i, raw) in event_types.iter().take(MAX_EVENT_TYPES).enumerate() {
        let field = format!("{at}.event_types[{i}]");
        match crate::validate::required_enum::<E>(*raw) {
            Err(error) => violations.add(field, error),
            Ok(event) if !may_hear(event) => violations.add(
                field,
                format!(
                    "{} is not about records of {owner}",
                    (names.proto_name)(event)
                ),
            ),
            Ok(event) if events.contains(&event) => violations.add(field, "is named twice"),
            Ok(event) => events.push(event),
        }
    }
    let url = url?;
    violations.is_empty().then_some(Wanted { url, events })
}

/// Checks an endpoint: https (or http where allowed), a host, no credentials in it.
pub fn check_url(url: &str, allow_http: bool) -> Result<String, String> {
    if url.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if url.len() > MAX_URL {
        return Err(format!("must be at most {MAX_URL} characters"));
    }
    let uri: http::Uri = url.parse().map_err(|_| "must be a URL".to_owned())?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if allow_http => {}
        _ => return Err("must be an https URL".to_owned()),
    }
    let authority = uri.authority().ok_or("must name a host")?;
    if authority.as_str().contains('@') {
        return Err("must not carry credentials".to_owned());
    }
    if authority.host().is_empty() {
        return Err("must name a host".to_owned());
    }
    Ok(url.to_owned())
}

/// Whether an address is one a webhook may reach from the public internet's side:
/// not loopback, private, link-local, shared, documentation, or unspecified.
pub fn is_public(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// The `Assay-Signature` header of `body` sent at `timestamp` (Unix seconds):
/// `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_with_a_host_and_no_credentials() {
        assert!(check_url("https://hooks.example.com/assay", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080/x", true).is_ok());
        for (url, said) in [
            ("", "empty"),
            ("http://hooks.example.com/", "https"),
            ("ftp://hooks.example.com/", "https"),
            ("https://user:pw@hooks.example.com/", "credentials"),
            ("not a url", "URL"),
            ("/relative", "https"),
        ] {
            let error = check_url(url, false).unwrap_err();
            assert!(error.contains(said), "{url}: {error}");
        }
        assert!(check_url(&format!("https://a.example/{}", "x".repeat(MAX_URL)), false).is_err());
    }

    #[test]
    fn only_public_addresses_are_reached() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn the_signature_covers_the_time_and_the_body() {
        // Python: hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
        let signed = signature("k", 1_700_000_000, "{}");
        assert!(signed.starts_with("t=1700000000,v1="), "{signed}");
        assert_eq!(
            signed,
            "t=1700000000,v1=c6ef4734033cee2367414a0939385eca0397754aa7a59716da7463a9298b5146"
        );
        assert_ne!(signed, signature("k", 1_700_000_001, "{}"));
        assert_ne!(signed, signature("k", 1_700_000_000, "{ }"));
        assert_ne!(signed, signature("j", 1_700_000_000, "{}"));
    }

    /// A service's events, for the checks below.
    #[derive(Debug, Clone, Copy, PartialEq, Default)]
    enum Told {
        #[default]
        Unspecified,
        Mine,
        Theirs,
    }

    impl TryFrom<i32> for Told {
        type Error = ();
        fn try_from(value: i32) -> Result<Self, ()> {
            match value {
                0 => Ok(Told::Unspecified),
                1 => Ok(Told::Mine),
                2 => Ok(Told::Theirs),
                _ => Err(()),
            }
        }
    }

    fn proto_name(told: Told) -> &'static str {
        match told {
            Told::Unspecified => "TOLD_UNSPECIFIED",
            Told::Mine => "TOLD_MINE",
            Told::Theirs => "TOLD_THEIRS",
        }
    }

    const TOLD: Events<Told> = Events {
        proto_name,
        from_proto_name: |name| {
            [Told::Mine, Told::Theirs]
                .into_iter()
                .find(|t| proto_name(*t) == name)
        },
        type_name: |_| "told",
    };

    #[test]
    fn a_subscription_names_one_place_and_only_events_its_owner_may_hear() {
        let config = NotificationConfig::default();
        let check = |url: &str, email: &str, events: &[i32]| {
            let mut violations = FieldViolations::new();
            let wanted = check_wanted(
                &TOLD,
                &mut violations,
                "subscription",
                (url, email, events),
                "member:m",
                |e: Told| e == Told::Mine,
                &config,
            );
            let fields: Vec<String> = violations.iter().map(|(f, _)| f.to_owned()).collect();
            (wanted, fields)
        };
        assert_eq!(
            check("https://hooks.example/", "", &[1]).0,
            Some(Wanted {
                url: "https://hooks.example/".to_owned(),
                events: vec![Told::Mine]
            })
        );
        assert_eq!(
            check("", "ip@brand.example", &[1]).0.unwrap().url,
            "mailto:ip@brand.example"
        );
        assert_eq!(
            check("", "", &[2, 1, 1, 0, 7]).1,
            [
                "subscription.url",
                "subscription.event_types[0]",
                "subscription.event_types[2]",
                "subscription.event_types[3]",
                "subscription.event_types[4]"
            ]
        );
        assert_eq!(
            check("https://a.example/", "a@b.example", &[]).1,
            ["subscription.email", "subscription.event_types"]
        );
        assert_eq!(check("https://a.example/", "", &[1; 11]).1.len(), 1 + 9);
    }
}
