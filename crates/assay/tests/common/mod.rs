//! What the tests that run the real `assay` binary share: processes on free ports, tokens,
//! and a protected brand. Each test binary uses a part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use assay_proto::common::v1::{Contact, Date};
use assay_proto::registry::v1 as registry;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_proto::screening::v1::GetEngineStatusRequest;
use assay_proto::screening::v1::screening_service_client::ScreeningServiceClient;
use tonic::transport::Channel;

/// An `assay serve` process of the named services.
pub struct Process {
    pub name: &'static str,
    pub services: &'static [&'static str],
    pub addr: SocketAddr,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Process {
    pub fn new(
        name: &'static str,
        services: &'static [&'static str],
        dir: &Path,
        env: Vec<(String, String)>,
    ) -> Self {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port");
        Self {
            name,
            services,
            addr,
            dir: dir.to_owned(),
            env,
            child: None,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{}.log", self.name)))
            .expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_assay"))
            .arg("serve")
            .args(self.services)
            .args(["--listen", &self.addr.to_string()])
            .arg("--data-dir")
            .arg(self.dir.join("data"))
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("ASSAY_LOG__FILTER", "warn")
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start assay");
        self.child = Some(child);
    }

    /// SIGKILL: no shutdown, no flushing, no goodbye.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, as Kubernetes sends it.
    pub fn terminate(&self) {
        let child = self.child.as_ref().expect("started");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success());
    }

    /// Waits (up to `limit`) for the process to exit by itself, and returns how it did.
    pub fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let child = self.child.as_mut().expect("started");
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                self.child = None;
                return status;
            }
            assert!(Instant::now() < deadline, "{} did not exit", self.name);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.endpoint())
            .unwrap()
            .connect_timeout(Duration::from_secs(1))
            .connect_lazy()
    }

    /// Waits until health says every service of the process is SERVING.
    pub async fn wait_serving(&self, grpc_services: &[&str]) {
        use tonic_health::pb::health_check_response::ServingStatus;
        use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
        let deadline = Instant::now() + Duration::from_secs(30);
        for service in grpc_services {
            loop {
                let mut health = HealthClient::new(self.channel().await);
                let status = health
                    .check(HealthCheckRequest {
                        service: (*service).to_owned(),
                    })
                    .await
                    .map(|r| r.into_inner().status());
                if matches!(status, Ok(ServingStatus::Serving)) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} did not serve {service}: {status:?}; see {}",
                    self.name,
                    self.dir.join(format!("{}.log", self.name)).display()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Attaches a bearer token.
pub fn authed(
    channel: Channel,
    token: &str,
) -> tonic::service::interceptor::InterceptedService<
    Channel,
    impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone + use<>,
> {
    let value: tonic::metadata::MetadataValue<_> = format!("Bearer {token}").parse().unwrap();
    tonic::service::interceptor::InterceptedService::new(
        channel,
        move |mut request: tonic::Request<()>| {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
            Ok(request)
        },
    )
}

/// A member admitted through `registry` with `token`: a brand owner in `country` with its
/// IP desk at `email`.
pub async fn active_member(
    registry: &Process,
    token: &str,
    legal_name: &str,
    country: &str,
    email: &str,
) -> registry::Member {
    let mut admin = RegistryServiceClient::new(authed(registry.channel().await, token));
    let member = admin
        .create_member(registry::CreateMemberRequest {
            member: Some(registry::Member {
                legal_name: legal_name.to_owned(),
                kind: registry::MemberKind::BrandOwner as i32,
                country_code: country.to_owned(),
                contacts: vec![Contact {
                    name: "IP desk".to_owned(),
                    email: email.to_owned(),
                    ..Contact::default()
                }],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    admin
        .activate_member(registry::ActivateMemberRequest {
            id: member.id.clone(),
            etag: String::new(),
            reason: "admitted".to_owned(),
        })
        .await
        .unwrap();
    member
}

/// A price in euros.
pub fn eur(units: i64) -> assay_proto::common::v1::Money {
    assay_proto::common::v1::Money {
        currency_code: "EUR".to_owned(),
        units,
        nanos: 0,
    }
}

/// What [`protect_a_brand`] made.
pub struct Protected {
    /// The catalogue revision that verifying the right answered with.
    pub catalogue_revision: i64,
    pub member_id: String,
    pub brand_id: String,
    pub right_id: String,
}

/// An active member, its brand "Velmora" (handbags), and a verified EUIPO trade mark;
/// returns once screening knows the brand.
pub async fn protect_a_brand(a: &Process, token: &str) -> Protected {
    protect_a_brand_at(a, a, token).await
}

/// [`protect_a_brand`] through a registry in one process, for a screening in another.
pub async fn protect_a_brand_at(registry: &Process, screening: &Process, token: &str) -> Protected {
    let mut admin = RegistryServiceClient::new(authed(registry.channel().await, token));
    let member = active_member(registry, token, "Velmora SpA", "IT", "ip@velmora.example").await;
    let brand = admin
        .create_brand(registry::CreateBrandRequest {
            brand: Some(registry::Brand {
                member_id: member.id.clone(),
                name: "Velmora".to_owned(),
                categories: vec!["handbags".to_owned()],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .brand
        .unwrap();
    let right = admin
        .create_ip_right(registry::CreateIpRightRequest {
            ip_right: Some(registry::IpRight {
                brand_id: brand.id.clone(),
                kind: registry::IpRightKind::Trademark as i32,
                office: registry::IpOffice::Euipo as i32,
                registration_number: "018900001".to_owned(),
                nice_classes: vec![18],
                valid_from: Some(Date {
                    year: 2020,
                    month: 1,
                    day: 1,
                }),
                valid_until: Some(Date {
                    year: 2035,
                    month: 1,
                    day: 1,
                }),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .ip_right
        .unwrap();
    let verified = admin
        .verify_ip_right(registry::VerifyIpRightRequest {
            id: right.id.clone(),
            etag: String::new(),
            note: "checked".to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    wait_for_brands(screening, token, 1).await;
    Protected {
        catalogue_revision: verified.catalogue_revision,
        member_id: member.id,
        brand_id: brand.id,
        right_id: right.id,
    }
}

/// Waits (up to ten seconds) until the screening engine of `p` knows `count` brands.
pub async fn wait_for_brands(p: &Process, token: &str, count: i64) {
    let mut screening = ScreeningServiceClient::new(authed(p.channel().await, token));
    let deadline = Instant::now() + Duration::from_secs(10);
    while screening
        .get_engine_status(GetEngineStatusRequest {})
        .await
        .unwrap()
        .into_inner()
        .brands
        < count
    {
        assert!(
            Instant::now() < deadline,
            "screening never loaded the brand"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A token for `principal`, minted by the real `assay token mint` with the key in `dir`'s
/// data directory.
pub fn mint(dir: &Path, principal: &str) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_assay"))
        .args(["token", "mint", principal, "--data-dir"])
        .arg(dir.join("data"))
        .output()
        .expect("run assay token mint");
    assert!(
        output.status.success(),
        "assay token mint {principal}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// An active agency that verified requests may come from at `domain`, created through the
/// law-enforcement service at `at` by `token` (legal staff or an admin).
pub async fn active_agency(
    at: &Process,
    token: &str,
    name: &str,
    country_code: &str,
    domain: &str,
) -> assay_proto::lawenforcement::v1::Agency {
    use assay_proto::lawenforcement::v1 as le;
    use assay_proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
    let mut legal = LawEnforcementServiceClient::new(authed(at.channel().await, token));
    let agency = legal
        .create_agency(le::CreateAgencyRequest {
            agency: Some(le::Agency {
                name: name.to_owned(),
                country_code: country_code.to_owned(),
                level: le::AgencyLevel::Federal as i32,
                verified_email_domains: vec![domain.to_owned()],
                contacts: vec![Contact {
                    name: "Duty officer".to_owned(),
                    email: format!("duty@{domain}"),
                    ..Contact::default()
                }],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create agency")
        .into_inner()
        .agency
        .unwrap();
    legal
        .activate_agency(le::ActivateAgencyRequest {
            id: agency.id.clone(),
            etag: String::new(),
        })
        .await
        .expect("activate agency")
        .into_inner()
        .agency
        .unwrap()
}
