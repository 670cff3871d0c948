//! What every service shares: authentication, health, reflection, shutdown.

use std::time::Duration;

use assay::ServiceName;
use assay_tests::proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_tests::proto::registry::v1::*;
use assay_tests::{Backend, Sandbox, expect_code, on_both_backends};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::fixtures::*;

on_both_backends!(
    calls_without_valid_credentials_are_unauthenticated,
    the_bootstrap_token_is_an_admin,
    health_serves_until_shutdown_begins,
    reflection_lists_the_services,
    a_caller_deadline_ends_a_blocked_request,
);

async fn calls_without_valid_credentials_are_unauthenticated(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut anonymous = RegistryServiceClient::new(sandbox.as_principal(None).await);
    let status = expect_code(
        anonymous.list_members(ListMembersRequest::default()).await,
        Code::Unauthenticated,
    );
    assert!(
        status.message().contains("missing credentials"),
        "{status:?}"
    );

    let mut forged = RegistryServiceClient::new(sandbox.with_token("assay_not-a-real-token").await);
    expect_code(
        forged.list_members(ListMembersRequest::default()).await,
        Code::Unauthenticated,
    );

    let foreign_jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    let mut foreign = RegistryServiceClient::new(sandbox.with_token(foreign_jwt).await);
    expect_code(
        foreign.list_members(ListMembersRequest::default()).await,
        Code::Unauthenticated,
    );
}

async fn the_bootstrap_token_is_an_admin(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (path, expires) = sandbox
        .running()
        .new_bootstrap_token
        .clone()
        .expect("a first start creates the bootstrap token");
    assert!(
        expires <= std::time::SystemTime::now() + std::time::Duration::from_secs(24 * 3600),
        "it expires within a day"
    );
    let token = std::fs::read_to_string(&path).unwrap().trim().to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "the token file is private");
        let data = path.parent().unwrap();
        assert_eq!(mode(data), 0o700, "the data directory is private");
        for entry in std::fs::read_dir(data).unwrap() {
            let file = entry.unwrap().path();
            assert_eq!(mode(&file), 0o600, "{} is private", file.display());
        }
    }
    let mut admin = RegistryServiceClient::new(sandbox.with_token(&token).await);
    let member = admin
        .create_member(CreateMemberRequest {
            member: Some(member_msg("Bootstrap Test SARL", MemberKind::BrandOwner)),
            request_id: String::new(),
        })
        .await
        .expect("the bootstrap admin creates members")
        .into_inner()
        .member
        .unwrap();
    assert_eq!(member.status(), MemberStatus::Applied);
}

async fn health_serves_until_shutdown_begins(backend: Backend) {
    let sandbox = Sandbox::start_with(backend, ServiceName::ALL, |config| {
        // Keep serving for a moment after the signal, as behind a load balancer.
        config.server.shutdown_delay = Duration::from_secs(2);
    })
    .await;
    let mut health = HealthClient::new(sandbox.channel().await);
    for service in ["", "assay.registry.v1.RegistryService"] {
        let status = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .status();
        assert_eq!(status, ServingStatus::Serving, "{service:?}");
    }
    let mut watch = health
        .watch(HealthCheckRequest {
            service: "assay.registry.v1.RegistryService".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        watch.message().await.unwrap().unwrap().status(),
        ServingStatus::Serving
    );

    sandbox.running().shutdown();
    let next = tokio::time::timeout(Duration::from_secs(1), watch.message())
        .await
        .expect("health changes at once")
        .unwrap()
        .unwrap();
    assert_eq!(next.status(), ServingStatus::NotServing);
    let overall = health
        .check(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .expect("still answering during the shutdown delay")
        .into_inner();
    assert_eq!(overall.status(), ServingStatus::NotServing);
    // Liveness probes see a draining process as alive: it must not be restarted.
    let alive = health
        .check(HealthCheckRequest {
            service: "liveness".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(alive.status(), ServingStatus::Serving);
    sandbox.stop().await;
}

async fn reflection_lists_the_services(backend: Backend) {
    use tokio_stream::StreamExt;
    use tonic_reflection_client::*;

    let sandbox = Sandbox::start(backend).await;
    let mut client = ServerReflectionClient::new(sandbox.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        response.message_response
    else {
        panic!("unexpected reflection answer {response:?}");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"assay.registry.v1.RegistryService".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"grpc.health.v1.Health".to_owned()),
        "{names:?}"
    );
}

/// The reflection v1alpha client (what grpcurl speaks).
mod tonic_reflection_client {
    pub use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    pub use tonic_reflection::pb::v1alpha::*;
}

/// A request stuck behind a database lock ends at the caller's deadline, and leaves nothing
/// behind.
async fn a_caller_deadline_ends_a_blocked_request(backend: Backend) {
    use sea_orm::{ConnectOptions, ConnectionTrait, Database};

    let sandbox = Sandbox::start(backend).await;
    let mut options = ConnectOptions::new(sandbox.database_url(ServiceName::Registry));
    options.max_connections(1).min_connections(1);
    let blocker = Database::connect(options).await.unwrap();
    match backend {
        Backend::Sqlite => {
            blocker.execute_unprepared("BEGIN EXCLUSIVE").await.unwrap();
        }
        Backend::Postgres => {
            blocker.execute_unprepared("BEGIN").await.unwrap();
            blocker
                .execute_unprepared("LOCK TABLE members IN ACCESS EXCLUSIVE MODE")
                .await
                .unwrap();
        }
    }

    let mut admin = registry(&sandbox, ADMIN).await;
    let mut request = tonic::Request::new(CreateMemberRequest {
        member: Some(member_msg("Blocked SA", MemberKind::BrandOwner)),
        request_id: String::new(),
    });
    request.set_timeout(Duration::from_millis(300));
    let status = admin.create_member(request).await.unwrap_err();
    // tonic answers an expired deadline with CANCELLED ("Timeout expired"); without the
    // deadline the call would wait for the lock (and, on SQLite, fail as busy after 5 s).
    assert!(
        matches!(status.code(), Code::Cancelled | Code::DeadlineExceeded),
        "{status:?}"
    );

    // The server counts the deadline from when the request reached it, which on a busy
    // machine is later than the client did: hold the lock until the server's deadline has
    // surely passed too.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    blocker.execute_unprepared("ROLLBACK").await.unwrap();
    let members = admin
        .list_members(ListMembersRequest::default())
        .await
        .unwrap()
        .into_inner()
        .members;
    assert!(members.is_empty(), "the abandoned request wrote nothing");
}
