//! Notifications: signed webhooks that never reach the services' own network, e-mail,
//! endpoints given up on and sent to again, members told of their referred cases.

use super::*;

on_both_backends!(
    subscribers_hear_of_their_own_records_in_signed_webhooks,
    webhooks_never_reach_into_the_services_own_network,
    subscribers_can_be_told_by_email,
    notifications_to_a_dead_endpoint_are_given_up_and_can_be_sent_again,
    members_hear_the_outcome_of_their_referred_cases,
);

/// What a test endpoint received: the `Assay-*` headers and the body, by path.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) path: String,
    pub(crate) event: String,
    pub(crate) delivery: String,
    pub(crate) signature: String,
    pub(crate) body: String,
    /// Whether the endpoint refused it.
    pub(crate) refused: bool,
}

/// An HTTP endpoint on 127.0.0.1 that records what it receives, and answers 500 to the
/// first request to one path.
pub(crate) struct Endpoint {
    pub(crate) url: String,
    pub(crate) received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
}

impl Endpoint {
    pub(crate) fn at(&self, path: &str) -> Vec<Received> {
        let all = self.received.lock().unwrap();
        all.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Waits (up to 10 s) until `path` received `count` requests of `event`.
    pub(crate) async fn wait(&self, path: &str, event: &str, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got: Vec<Received> = self
                .at(path)
                .into_iter()
                .filter(|r| r.event == event)
                .collect();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{path}: {count} of {event} never arrived: {:?}",
                self.at(path)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Registry and cases, with webhooks allowed to this machine's test endpoints over http;
/// `more` changes the rest of `[cases.notifications]`.
async fn webhook_sandbox(
    backend: Backend,
    more: impl FnOnce(&mut assay_common::webhooks::NotificationConfig),
) -> Sandbox {
    Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |config| {
            let notifications = &mut config.cases.notifications;
            notifications.allow_http = true;
            notifications.allow_private_targets = true;
            more(notifications);
        },
    )
    .await
}

pub(crate) async fn endpoint(refuse_first_to: &'static str) -> Endpoint {
    use axum::http::{HeaderMap, StatusCode, Uri};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let failures = std::sync::Arc::new(AtomicUsize::new(1));
    let store = received.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: String| {
        let (store, failures) = (store.clone(), failures.clone());
        async move {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            // Deciding and recording under one lock: concurrent deliveries are told apart.
            let mut store = store.lock().unwrap();
            let fail = uri.path() == refuse_first_to
                && failures
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            store.push(Received {
                path: uri.path().to_owned(),
                event: header("assay-event"),
                delivery: header("assay-delivery"),
                signature: header("assay-signature"),
                body,
                refused: fail,
            });
            if fail {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::NO_CONTENT
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Endpoint { url, received }
}

fn notify_name(event: EventType) -> &'static str {
    match event {
        EventType::CaseOpened => "case.opened",
        EventType::CaseDecided => "case.decided",
        _ => "other",
    }
}

/// Checks an `Assay-Signature` header as a receiver would: HMAC-SHA256 over
/// "<timestamp>.<body>" with the subscription's secret, and a timestamp within 5 minutes.
pub(crate) fn signed_by(received: &Received, secret: &str) -> bool {
    use hmac::{Hmac, Mac};
    let Some((t, v1)) = received
        .signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split_once(",v1="))
    else {
        return false;
    };
    let Ok(timestamp) = t.parse::<i64>() else {
        return false;
    };
    let fresh = (chrono::Utc::now().timestamp() - timestamp).abs() < 300;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", received.body).as_bytes());
    fresh
        && mac
            .verify_slice(&hex::decode(v1).unwrap_or_default())
            .is_ok()
}

/// Webhooks, end to end: a rights holder hears of its notice's case being opened and
/// decided, signed with its secret and retried until its endpoint takes it; the
/// marketplace hears of the enforcement action; another member hears nothing; deliveries
/// are logged and can be sent again; and nobody reaches anyone else's subscription.
async fn subscribers_hear_of_their_own_records_in_signed_webhooks(backend: Backend) {
    let sandbox = webhook_sandbox(backend, |_| {}).await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800051").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let other = active_member(&mut admin, "Beta SA", registry::MemberKind::BrandOwner).await;
    // The owner's endpoint refuses the first delivery.
    let hooks = endpoint("/owner").await;
    let subscribe = |events: Vec<EventType>, path: &str| CreateSubscriptionRequest {
        subscription: Some(Subscription {
            url: format!("{}{path}", hooks.url),
            event_types: events.into_iter().map(|e| e as i32).collect(),
            ..Default::default()
        }),
    };
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let mut other_client = cases(&sandbox, &member(&other.id)).await;
    let mut marketplace = cases(&sandbox, SELLER_MANAGEMENT).await;
    let mine = owner_client
        .create_subscription(subscribe(
            vec![EventType::CaseOpened, EventType::CaseDecided],
            "/owner",
        ))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();
    assert_eq!(mine.signing_secret.len(), 64);
    assert_eq!(mine.owner, member(&owner.id));
    let theirs = other_client
        .create_subscription(subscribe(vec![EventType::CaseOpened], "/other"))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();
    let sellers = marketplace
        .create_subscription(subscribe(vec![EventType::EnforcementAction], "/sellers"))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();

    let case = submit(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("h-1", "shop-h")]),
    )
    .await
    .unwrap();
    let mut analyst = cases(&sandbox, ANALYST).await;
    review(&mut analyst, &case.id).await;
    act(&mut analyst, &case.id).await;

    let opened = hooks.wait("/owner", "case.opened", 1).await;
    let decided = hooks.wait("/owner", "case.decided", 1).await;
    // Whichever came first was refused, and came again: the same notification.
    let refused = hooks
        .at("/owner")
        .into_iter()
        .find(|r| r.refused)
        .expect("the first delivery was refused");
    let deadline = Instant::now() + Duration::from_secs(10);
    while hooks
        .at("/owner")
        .iter()
        .filter(|r| r.delivery == refused.delivery)
        .count()
        < 2
    {
        assert!(
            Instant::now() < deadline,
            "never retried: {:?}",
            hooks.at("/owner")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all = hooks.at("/owner");
    assert!(
        all.iter().all(|r| signed_by(r, &mine.signing_secret)),
        "{all:?}"
    );
    assert!(!signed_by(&opened[0], &sellers.signing_secret));
    let body: serde_json::Value = serde_json::from_str(&opened[0].body).unwrap();
    assert_eq!(body["type"], "case.opened");
    assert_eq!(body["id"], opened[0].delivery.as_str());
    assert_eq!(body["data"]["case_id"], case.id.as_str());
    let body: serde_json::Value = serde_json::from_str(&decided[0].body).unwrap();
    assert_eq!(body["data"]["status"], "CASE_STATUS_ACTION_TAKEN");
    let enforced = hooks.wait("/sellers", "seller.enforcement_action", 1).await;
    assert!(signed_by(&enforced[0], &sellers.signing_secret));
    let body: serde_json::Value = serde_json::from_str(&enforced[0].body).unwrap();
    assert_eq!(
        (
            body["data"]["seller_id"].as_str(),
            body["data"]["level"].as_str()
        ),
        (Some("shop-h"), Some("ENFORCEMENT_LEVEL_WARN"))
    );
    // The seller is told why in either language.
    assert_eq!(
        body["data"]["reasons"],
        serde_json::json!({
            "en": "1 strike within 365 days: warn",
            "zh-Hans": "365 天内 1 次违规：警告",
        })
    );
    assert_eq!(body["data"]["reason"], "1 strike within 365 days: warn");
    // The other member's case events are not about it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(hooks.at("/other").is_empty(), "{:?}", hooks.at("/other"));

    // The log shows the refusal and the delivery, newest first.
    let log = owner_client
        .list_deliveries(ListDeliveriesRequest {
            notification_id: refused.delivery.clone(),
            page_size: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    let attempts: Vec<(i32, bool)> = log.iter().map(|d| (d.status_code, d.delivered)).collect();
    assert_eq!(attempts, [(204, true), (500, false)]);
    assert_eq!(log[0].subscription_id, mine.id);
    assert_eq!(
        notify_name(log[0].event_type()),
        refused.event,
        "the log names what was told"
    );

    // Sent again on request, as it was. (Counted before asking: the new delivery may
    // arrive before the answer does.)
    let times = hooks
        .at("/owner")
        .iter()
        .filter(|r| r.event == "case.opened")
        .count()
        + 1;
    owner_client
        .redeliver_notification(RedeliverNotificationRequest {
            notification_id: opened[0].delivery.clone(),
        })
        .await
        .unwrap();
    let again = hooks.wait("/owner", "case.opened", times).await;
    assert_eq!(again[times - 1].body, opened[0].body);

    // Nobody reaches another's subscriptions or notifications, and the answer is that of
    // one that does not exist.
    let (no_sub, no_ntf) = (
        "sub_00000000000000000000000000000000",
        "ntf_00000000000000000000000000000000",
    );
    answers_like_missing(
        other_client
            .delete_subscription(DeleteSubscriptionRequest {
                id: mine.id.clone(),
            })
            .await,
        &mine.id,
        other_client
            .delete_subscription(DeleteSubscriptionRequest {
                id: no_sub.to_owned(),
            })
            .await,
        no_sub,
    );
    answers_like_missing(
        other_client
            .redeliver_notification(RedeliverNotificationRequest {
                notification_id: opened[0].delivery.clone(),
            })
            .await,
        &opened[0].delivery,
        other_client
            .redeliver_notification(RedeliverNotificationRequest {
                notification_id: no_ntf.to_owned(),
            })
            .await,
        no_ntf,
    );
    let seen = other_client
        .list_deliveries(ListDeliveriesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert!(seen.is_empty(), "{seen:?}");
    let listed = owner_client
        .list_subscriptions(ListSubscriptionsRequest {})
        .await
        .unwrap()
        .into_inner()
        .subscriptions;
    assert_eq!(listed.len(), 1);
    assert!(
        listed[0].signing_secret.is_empty(),
        "the secret is shown once"
    );
    // Members hear of their records only; staff do not subscribe.
    let named = bad_fields(
        &owner_client
            .create_subscription(CreateSubscriptionRequest {
                subscription: Some(Subscription {
                    url: "ftp://hooks.example/".to_owned(),
                    event_types: vec![EventType::EnforcementAction as i32, 99],
                    ..Default::default()
                }),
            })
            .await
            .unwrap_err(),
    );
    assert_eq!(
        named,
        [
            "subscription.url",
            "subscription.event_types[0]",
            "subscription.event_types[1]"
        ]
    );
    expect_code(
        analyst
            .create_subscription(subscribe(vec![EventType::CaseOpened], "/staff"))
            .await,
        Code::PermissionDenied,
    );
    // A deleted subscription is told nothing more.
    other_client
        .delete_subscription(DeleteSubscriptionRequest { id: theirs.id })
        .await
        .unwrap();
    assert!(
        other_client
            .list_subscriptions(ListSubscriptionsRequest {})
            .await
            .unwrap()
            .into_inner()
            .subscriptions
            .is_empty()
    );
}

/// With the default configuration a webhook is https and reaches public addresses only:
/// a subscriber cannot point this service at its own network, by address or by name.
async fn webhooks_never_reach_into_the_services_own_network(backend: Backend) {
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        |_| {},
    )
    .await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800061").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let subscribe = |url: &str| CreateSubscriptionRequest {
        subscription: Some(Subscription {
            url: url.to_owned(),
            event_types: vec![EventType::CaseOpened as i32],
            ..Default::default()
        }),
    };
    let named = bad_fields(
        &owner_client
            .create_subscription(subscribe("http://hooks.example.com/"))
            .await
            .unwrap_err(),
    );
    assert_eq!(named, ["subscription.url"]);
    let named = bad_fields(
        &owner_client
            .create_subscription(CreateSubscriptionRequest { subscription: None })
            .await
            .unwrap_err(),
    );
    assert_eq!(named, ["subscription"]);
    // Without an SMTP relay there is no e-mail.
    expect_code(
        owner_client
            .create_subscription(CreateSubscriptionRequest {
                subscription: Some(Subscription {
                    email: "ip@maison-ardent.example".to_owned(),
                    event_types: vec![EventType::CaseOpened as i32],
                    ..Default::default()
                }),
            })
            .await,
        Code::FailedPrecondition,
    );
    for url in [
        "https://127.0.0.1:9/hook",
        "https://[::1]:9/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost:9/hook",
    ] {
        owner_client
            .create_subscription(subscribe(url))
            .await
            .unwrap();
    }
    submit(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("n-1", "shop-n")]),
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let refused = loop {
        let log = owner_client
            .list_deliveries(ListDeliveriesRequest::default())
            .await
            .unwrap()
            .into_inner()
            .deliveries;
        let notifications: std::collections::BTreeSet<&str> =
            log.iter().map(|d| d.notification_id.as_str()).collect();
        if notifications.len() == 4 {
            break log;
        }
        assert!(
            Instant::now() < deadline,
            "not every endpoint was tried: {log:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for attempt in &refused {
        assert!(
            !attempt.delivered && attempt.status_code == 0,
            "{attempt:?}"
        );
        assert!(
            attempt.error.contains("is not a public address")
                || attempt.error.contains("has no public address"),
            "{attempt:?}"
        );
    }
}

/// A small SMTP server on 127.0.0.1 that takes every message (RFC 5321's happy path) and
/// keeps the recipients and data of each.
async fn smtp_server() -> (
    u16,
    std::sync::Arc<std::sync::Mutex<Vec<(Vec<String>, String)>>>,
) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mail = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = mail.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test ESMTP\r\n").await;
                let (mut recipients, mut data, mut in_data) = (Vec::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            kept.lock()
                                .unwrap()
                                .push((std::mem::take(&mut recipients), std::mem::take(&mut data)));
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 test\r\n",
                        "RCPT" => {
                            recipients.push(line.clone());
                            b"250 ok\r\n"
                        }
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        }
                        _ => b"250 ok\r\n",
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, mail)
}

/// E-mail notifications through the deployment's SMTP relay: the member's address gets
/// its case's events, another member's gets none, and a deployment without a relay says so.
async fn subscribers_can_be_told_by_email(backend: Backend) {
    let (port, mail) = smtp_server().await;
    let sandbox = Sandbox::start_with(
        backend,
        &[ServiceName::Registry, ServiceName::Cases],
        move |config| {
            config.cases.notifications.smtp = Some(assay_common::webhooks::SmtpConfig {
                host: "127.0.0.1".to_owned(),
                port,
                tls: assay_common::webhooks::SmtpTls::None,
                from: "Assay <assay@marketplace.example>".to_owned(),
                username: None,
                password_file: None,
            });
        },
    )
    .await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800071").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let other = active_member(&mut admin, "Beta SA", registry::MemberKind::BrandOwner).await;
    let by_mail = |address: &str| CreateSubscriptionRequest {
        subscription: Some(Subscription {
            email: address.to_owned(),
            event_types: vec![EventType::CaseOpened as i32],
            ..Default::default()
        }),
    };
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    let made = owner_client
        .create_subscription(by_mail("ip@maison-ardent.example"))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();
    assert_eq!(
        (made.email.as_str(), made.url.as_str()),
        ("ip@maison-ardent.example", "")
    );
    cases(&sandbox, &member(&other.id))
        .await
        .create_subscription(by_mail("legal@beta.example"))
        .await
        .unwrap();
    let named = bad_fields(
        &owner_client
            .create_subscription(by_mail("not an address"))
            .await
            .unwrap_err(),
    );
    assert_eq!(named, ["subscription.email"]);

    let case = submit(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("m-1", "shop-m")]),
    )
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while mail.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no mail arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let sent = mail.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "only the owner's address: {sent:?}");
    let (recipients, data) = &sent[0];
    assert_eq!(recipients, &["RCPT TO:<ip@maison-ardent.example>"]);
    assert!(data.contains("Subject: Assay: case.opened"), "{data}");
    assert!(data.contains(case.id.as_str()), "{data}");
    let log = owner_client
        .list_deliveries(ListDeliveriesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(
        log.iter()
            .map(|d| (d.status_code, d.delivered))
            .collect::<Vec<_>>(),
        [(250, true)]
    );
}

async fn notifications_to_a_dead_endpoint_are_given_up_and_can_be_sent_again(backend: Backend) {
    let sandbox = webhook_sandbox(backend, |notifications| {
        notifications.give_up_after = Duration::from_millis(400);
    })
    .await;
    // A port nothing listens on: every attempt is refused.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/hooks", listener.local_addr().unwrap())
    };
    let mut marketplace = cases(&sandbox, SELLER_MANAGEMENT).await;
    marketplace
        .create_subscription(CreateSubscriptionRequest {
            subscription: Some(Subscription {
                url: dead,
                event_types: vec![EventType::EnforcementAction as i32],
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let mut analyst = cases(&sandbox, ANALYST).await;
    struck_case(&mut analyst, "d-1", "shop-d").await;

    let attempts = async |marketplace: &mut Cases| {
        marketplace
            .list_deliveries(ListDeliveriesRequest::default())
            .await
            .unwrap()
            .into_inner()
            .deliveries
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let tried = loop {
        let tried = attempts(&mut marketplace).await;
        if tried.iter().any(|d| d.given_up) {
            break tried;
        }
        assert!(Instant::now() < deadline, "never given up: {tried:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Newest first: the last attempt says it was the last; the ones before were retried.
    assert!(tried.len() >= 2, "{tried:?}");
    assert!(tried[0].given_up && !tried[0].delivered && tried[0].status_code == 0);
    assert!(!tried[0].error.is_empty());
    assert!(tried[1..].iter().all(|d| !d.given_up && !d.delivered));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        attempts(&mut marketplace).await.len(),
        tried.len(),
        "no attempt after giving up"
    );

    // Sent again on request, with retries of its own.
    marketplace
        .redeliver_notification(RedeliverNotificationRequest {
            notification_id: tried[0].notification_id.clone(),
        })
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let again = attempts(&mut marketplace).await;
        if again.iter().filter(|d| d.given_up).count() == 2 {
            assert!(again.len() > tried.len() + 1, "{again:?}");
            break;
        }
        assert!(Instant::now() < deadline, "not sent again: {again:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn members_hear_the_outcome_of_their_referred_cases(backend: Backend) {
    let sandbox = webhook_sandbox(backend, |_| {}).await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800071").await;
    member_known(&sandbox, &owner.id, &brand.id).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let other = active_member(&mut admin, "Beta SA", registry::MemberKind::BrandOwner).await;
    let hooks = endpoint("/nobody-refused").await;
    let mut owner_client = cases(&sandbox, &member(&owner.id)).await;
    for (client, path) in [
        (&mut owner_client, "/owner"),
        (&mut cases(&sandbox, &member(&other.id)).await, "/other"),
    ] {
        client
            .create_subscription(CreateSubscriptionRequest {
                subscription: Some(Subscription {
                    url: format!("{}{path}", hooks.url),
                    event_types: vec![EventType::ReferralOutcome as i32],
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
    }
    let case = submit(
        &mut owner_client,
        notice(&owner.id, &right.id, vec![listing("r-1", "shop-r")]),
    )
    .await
    .unwrap();
    let mut analyst = cases(&sandbox, ANALYST).await;
    review(&mut analyst, &case.id).await;
    act(&mut analyst, &case.id).await;
    analyst
        .escalate_case(EscalateCaseRequest {
            id: case.id.clone(),
            etag: String::new(),
            note: "a warehouse behind it".to_owned(),
        })
        .await
        .unwrap();
    analyst
        .add_evidence(AddEvidenceRequest {
            case_id: case.id.clone(),
            evidence: Some(evidence(b"jpeg bytes of the warehouse", "the warehouse")),
            request_id: String::new(),
        })
        .await
        .unwrap();
    let mut legal = cases(&sandbox, LEGAL).await;
    legal
        .refer_case(ReferCaseRequest {
            id: case.id.clone(),
            etag: String::new(),
            referral: Some(Referral {
                agency_id: "agy_0123456789abcdef0123456789abcdef".to_owned(),
                summary: "Warehouse supplying the seller.".to_owned(),
                ..Referral::default()
            }),
        })
        .await
        .unwrap();
    let report = RecordReferralOutcomeRequest {
        id: case.id.clone(),
        outcome: Some(ReferralOutcome {
            arrests: 2,
            seized_units: 800,
            note: "informant's name withheld".to_owned(),
            ..ReferralOutcome::default()
        }),
        request_id: "outcome-1".to_owned(),
    };
    // Reported twice (a retry): told once.
    for _ in 0..2 {
        legal.record_referral_outcome(report.clone()).await.unwrap();
    }
    let told = hooks.wait("/owner", "case.referral_outcome", 1).await;
    let body: serde_json::Value = serde_json::from_str(&told[0].body).unwrap();
    assert_eq!(body["data"]["case_id"], case.id.as_str());
    assert_eq!(
        (
            body["data"]["arrests"].as_i64(),
            body["data"]["seized_units"].as_i64()
        ),
        (Some(2), Some(800))
    );
    assert!(
        !told[0].body.contains("informant"),
        "the agency's note stays with staff: {}",
        told[0].body
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hooks.at("/owner").len(), 1, "{:?}", hooks.at("/owner"));
    assert!(
        hooks.at("/other").is_empty(),
        "another member hears nothing"
    );
}
