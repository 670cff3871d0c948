//! The enforcement loop on a real `assay serve`, as issue 16 asks: a rights holder's
//! notices lead to takedowns and strikes; the seller's next listing is screened with the
//! seller signal; the third strike sends a suspension to the marketplace's webhook with a
//! valid signature; the rights holder gets a webhook and an e-mail about each step, and
//! another member gets none.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assay_proto::cases::v1 as cases;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_proto::screening::v1 as screening;
use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use hmac::{Hmac, Mac};

mod common;
use common::{Process, active_member, authed, eur, mint, protect_a_brand};

/// (path, Assay-Signature, body) of every request an endpoint received.
type Posts = Arc<Mutex<Vec<(String, String, String)>>>;

async fn webhook_endpoint() -> (String, Posts) {
    use axum::http::{HeaderMap, StatusCode, Uri};
    let posts: Posts = Arc::default();
    let kept = posts.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: String| {
        let kept = kept.clone();
        async move {
            let signature = headers
                .get("assay-signature")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            kept.lock()
                .unwrap()
                .push((uri.path().to_owned(), signature, body));
            StatusCode::NO_CONTENT
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, posts)
}

/// (recipients, data) of every message a small SMTP server took.
type Mail = Arc<Mutex<Vec<(String, String)>>>;

async fn smtp_server() -> (u16, Mail) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mail: Mail = Arc::default();
    let kept = mail.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 test ESMTP\r\n").await;
                let (mut to, mut data, mut in_data) = (String::new(), String::new(), false);
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            kept.lock()
                                .unwrap()
                                .push((std::mem::take(&mut to), std::mem::take(&mut data)));
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            data.push_str(&line);
                            data.push('\n');
                        }
                        continue;
                    }
                    let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "RCPT" => {
                            to.push_str(&line);
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

/// Whether `signature` is `t=..,v1=HMAC-SHA256(secret, "t.body")`.
fn signed(signature: &str, body: &str, secret: &str) -> bool {
    let Some((t, v1)) = signature
        .strip_prefix("t=")
        .and_then(|s| s.split_once(",v1="))
    else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&hex::decode(v1).unwrap_or_default())
        .is_ok()
}

async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what}: not within 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_infringer_is_suspended_and_everyone_concerned_is_told() {
    let (hooks, posts) = webhook_endpoint().await;
    let (smtp_port, mail) = smtp_server().await;
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("ASSAY_CASES__NOTIFICATIONS__ALLOW_HTTP", "true".to_owned()),
        (
            "ASSAY_CASES__NOTIFICATIONS__ALLOW_PRIVATE_TARGETS",
            "true".to_owned(),
        ),
        (
            "ASSAY_CASES__NOTIFICATIONS__SMTP__HOST",
            "127.0.0.1".to_owned(),
        ),
        (
            "ASSAY_CASES__NOTIFICATIONS__SMTP__PORT",
            smtp_port.to_string(),
        ),
        ("ASSAY_CASES__NOTIFICATIONS__SMTP__TLS", "none".to_owned()),
        (
            "ASSAY_CASES__NOTIFICATIONS__SMTP__FROM",
            "assay@marketplace.example".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let mut server = Process::new("serve", &["all"], dir.path(), env);
    server.start();
    server
        .wait_serving(&[
            "assay.registry.v1.RegistryService",
            "assay.screening.v1.ScreeningService",
            "assay.cases.v1.CasesService",
        ])
        .await;
    let admin_token = std::fs::read_to_string(dir.path().join("data/bootstrap-token")).unwrap();
    let admin_token = admin_token.trim();
    let velmora = protect_a_brand(&server, admin_token).await;
    let other = active_member(&server, admin_token, "Beta SA", "FR", "legal@beta.example").await;

    let cases_as = async |principal: &str| {
        CasesServiceClient::new(authed(server.channel().await, &mint(dir.path(), principal)))
    };
    let mut owner = cases_as(&format!("member:{}", velmora.member_id)).await;
    let mut beta = cases_as(&format!("member:{}", other.id)).await;
    let mut marketplace = cases_as("service:seller-management").await;
    let mut analyst = cases_as("staff:ann:analyst").await;
    let subscription =
        |url: String, email: &str, events: &[cases::EventType]| cases::CreateSubscriptionRequest {
            subscription: Some(cases::Subscription {
                url,
                email: email.to_owned(),
                event_types: events.iter().map(|e| *e as i32).collect(),
                ..Default::default()
            }),
        };
    let case_events = [cases::EventType::CaseOpened, cases::EventType::CaseDecided];
    let owner_hook = owner
        .create_subscription(subscription(format!("{hooks}/velmora"), "", &case_events))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();
    owner
        .create_subscription(subscription(
            String::new(),
            "ip@velmora.example",
            &case_events,
        ))
        .await
        .unwrap();
    beta.create_subscription(subscription(format!("{hooks}/beta"), "", &case_events))
        .await
        .unwrap();
    beta.create_subscription(subscription(
        String::new(),
        "legal@beta.example",
        &case_events,
    ))
    .await
    .unwrap();
    let sellers_hook = marketplace
        .create_subscription(subscription(
            format!("{hooks}/marketplace"),
            "",
            &[cases::EventType::EnforcementAction],
        ))
        .await
        .unwrap()
        .into_inner()
        .subscription
        .unwrap();

    let mut screening = ScreeningServiceClient::new(authed(
        server.channel().await,
        &mint(dir.path(), "service:listing-pipeline"),
    ));
    for strike in 1..=3 {
        let notice = cases::Notice {
            member_id: velmora.member_id.clone(),
            ip_right_id: velmora.right_id.clone(),
            listings: vec![cases::CaseListing {
                listing_id: format!("L-{strike}"),
                seller_id: "S-77".to_owned(),
                title: "Velmora quilted tote".to_owned(),
                ..Default::default()
            }],
            statement: "These bags copy our registered mark.".to_owned(),
            good_faith: true,
            reason_codes: vec![cases::ReasonCode::Counterfeit as i32],
        };
        let case = eventually("the notice is taken", async || {
            owner
                .submit_notice(cases::SubmitNoticeRequest {
                    notice: Some(notice.clone()),
                    request_id: format!("notice-{strike}"),
                })
                .await
                .ok()
                .and_then(|r| r.into_inner().r#case)
        })
        .await;
        analyst
            .start_review(cases::StartReviewRequest {
                id: case.id.clone(),
                etag: String::new(),
            })
            .await
            .unwrap();
        analyst
            .take_action(cases::TakeActionRequest {
                id: case.id.clone(),
                etag: String::new(),
                note: "test purchase: counterfeit".to_owned(),
                reason_codes: vec![],
            })
            .await
            .unwrap();
        // The seller's next listing carries what case management knows of it.
        let expected = format!(
            "seller S-77 has {strike} confirmed strike{} in the last 365 days",
            if strike == 1 { "" } else { "s" }
        );
        eventually("the seller signal", async || {
            let verdict = screening
                .screen_listing(screening::ScreenListingRequest {
                    listing: Some(screening::Listing {
                        listing_id: format!("N-{strike}"),
                        seller_id: "S-77".to_owned(),
                        title: "Velmora replica tote 1:1".to_owned(),
                        category: "handbags".to_owned(),
                        price: Some(eur(45)),
                        ..Default::default()
                    }),
                    min_catalogue_revision: velmora.catalogue_revision,
                })
                .await
                .unwrap()
                .into_inner()
                .verdict?;
            verdict
                .signals
                .iter()
                .any(|s| s.explanation == expected)
                .then_some(())
        })
        .await;
    }

    // The third strike suspends S-77, and the marketplace is told, signed.
    let suspension = eventually("the suspension webhook", async || {
        posts
            .lock()
            .unwrap()
            .iter()
            .find(|(path, _, body)| {
                path == "/marketplace" && body.contains("ENFORCEMENT_LEVEL_SUSPEND")
            })
            .cloned()
    })
    .await;
    assert!(
        signed(&suspension.1, &suspension.2, &sellers_hook.signing_secret),
        "{suspension:?}"
    );
    let body: serde_json::Value = serde_json::from_str(&suspension.2).unwrap();
    assert_eq!(body["type"], "seller.enforcement_action");
    assert_eq!(body["data"]["seller_id"], "S-77");
    assert_eq!(body["data"]["active_strikes"], 3);

    // The rights holder heard of every case opened and decided, by webhook and e-mail.
    let to_velmora = eventually("six webhooks to the rights holder", async || {
        let got: Vec<(String, String, String)> = posts
            .lock()
            .unwrap()
            .iter()
            .filter(|(path, ..)| path == "/velmora")
            .cloned()
            .collect();
        (got.len() >= 6).then_some(got)
    })
    .await;
    assert!(to_velmora.iter().all(|(_, signature, body)| signed(
        signature,
        body,
        &owner_hook.signing_secret
    )));
    let letters = eventually("six e-mails to the rights holder", async || {
        let got = mail.lock().unwrap().clone();
        (got.len() >= 6).then_some(got)
    })
    .await;
    assert!(
        letters
            .iter()
            .all(|(to, _)| to.contains("ip@velmora.example")),
        "{letters:?}"
    );
    // Nothing reached the other member.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        !posts
            .lock()
            .unwrap()
            .iter()
            .any(|(path, ..)| path == "/beta")
            && !mail
                .lock()
                .unwrap()
                .iter()
                .any(|(to, _)| to.contains("beta.example")),
        "another member was told"
    );
    server.kill();
}
