//! Mutual TLS, with certificates made here: a CA the server trusts for clients, and a
//! rogue one it does not. TLS has nothing to do with the database, so these run on SQLite.

use std::path::{Path, PathBuf};

use assay::ServiceName;
use assay_common::config::{PeerTls, ServerTls};
use assay_tests::proto::lawenforcement::v1 as le;
use assay_tests::proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_tests::proto::registry::v1::GetCatalogueRequest;
use assay_tests::proto::registry::v1::registry_service_client::RegistryServiceClient;
use assay_tests::{Backend, Sandbox, expect_code};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    SanType,
};
use tonic::Code;
use tonic::transport::{Certificate, ClientTlsConfig, Identity};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::fixtures::*;

/// A certificate authority that writes what it issues into a directory.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
    dir: PathBuf,
    name: &'static str,
}

impl Ca {
    fn new(dir: &Path, name: &'static str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} CA"));
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let ca = Self {
            issuer,
            dir: dir.to_owned(),
            name,
        };
        std::fs::write(ca.ca_file(), ca.issuer.pem()).unwrap();
        ca
    }

    fn ca_file(&self) -> PathBuf {
        self.dir.join(format!("{}-ca.pem", self.name))
    }

    /// Issues a certificate for `sans` as `file`: returns (certificate, key) paths.
    fn issue(
        &self,
        file: &str,
        sans: Vec<SanType>,
        usage: ExtendedKeyUsagePurpose,
    ) -> (PathBuf, PathBuf) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let (cert_file, key_file) = (
            self.dir.join(format!("{file}.pem")),
            self.dir.join(format!("{file}-key.pem")),
        );
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        (cert_file, key_file)
    }

    /// A client certificate naming `spiffe_id` (or nobody, for `None`).
    fn client(&self, file: &str, spiffe_id: Option<&str>) -> (PathBuf, PathBuf) {
        let sans = spiffe_id
            .map(|id| vec![SanType::URI(id.try_into().unwrap())])
            .unwrap_or_default();
        self.issue(file, sans, ExtendedKeyUsagePurpose::ClientAuth)
    }
}

/// Client TLS trusting `ca`, presenting `identity` if given.
fn client_tls(ca: &Ca, identity: Option<&(PathBuf, PathBuf)>) -> ClientTlsConfig {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(std::fs::read(ca.ca_file()).unwrap()));
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(
            std::fs::read(cert).unwrap(),
            std::fs::read(key).unwrap(),
        ));
    }
    tls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_authenticates_services_and_agencies_by_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new(dir.path(), "assay");
    let rogue = Ca::new(dir.path(), "rogue");
    let server = ca.issue(
        "server",
        vec![
            SanType::DnsName("localhost".try_into().unwrap()),
            SanType::IpAddress([127, 0, 0, 1].into()),
        ],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    // What the services present to each other.
    let peer = ca.client("assay", Some("spiffe://assay/service/assay"));
    let sandbox = Sandbox::start_with(Backend::Sqlite, ServiceName::ALL, |config| {
        config.server.tls = Some(ServerTls {
            cert_file: server.0.clone(),
            key_file: server.1.clone(),
            client_ca_file: Some(ca.ca_file()),
            require_client_cert: true,
        });
        // Probes that cannot speak TLS ask here.
        config.server.health_listen = Some("127.0.0.1:0".parse().unwrap());
        config.auth.peer_tls = Some(PeerTls {
            ca_file: ca.ca_file(),
            cert_file: Some(peer.0.clone()),
            key_file: Some(peer.1.clone()),
        });
    })
    .await;
    // Every service is SERVING: screening loaded its first catalogue from the registry, over
    // TLS with the peer certificate.
    sandbox.wait_until_serving("").await;

    // The health port answers in plaintext, and serves nothing but health.
    let health_addr = sandbox.running().health_addr.expect("a health port");
    let plain = tonic::transport::Channel::from_shared(format!("http://{health_addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(plain.clone());
    for service in [
        "",
        "liveness",
        "assay.lawenforcement.v1.LawEnforcementService",
    ] {
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
    expect_code(
        RegistryServiceClient::new(plain)
            .get_catalogue(GetCatalogueRequest {})
            .await,
        Code::Unimplemented,
    );

    // No certificate, or one from another CA: no connection at all.
    assert!(refused(sandbox.tls_channel(client_tls(&ca, None)).await).await);
    let stranger = rogue.client("stranger", Some("spiffe://assay/service/listing-pipeline"));
    assert!(refused(sandbox.tls_channel(client_tls(&ca, Some(&stranger))).await).await);

    // A service named by its certificate needs no token, and gets what the policy gives
    // that name: screening reads the catalogue, the listing pipeline does not.
    let screening = ca.client("screening", Some("spiffe://assay/service/screening"));
    let channel = sandbox
        .tls_channel(client_tls(&ca, Some(&screening)))
        .await
        .unwrap();
    RegistryServiceClient::new(channel)
        .get_catalogue(GetCatalogueRequest {})
        .await
        .expect("screening reads the catalogue by its certificate alone");
    let pipeline = ca.client("pipeline", Some("spiffe://assay/service/listing-pipeline"));
    let channel = sandbox
        .tls_channel(client_tls(&ca, Some(&pipeline)))
        .await
        .unwrap();
    expect_code(
        RegistryServiceClient::new(channel)
            .get_catalogue(GetCatalogueRequest {})
            .await,
        Code::PermissionDenied,
    );

    // A certificate of the right CA that names nobody still needs a token.
    let anonymous = ca.client("anonymous", None);
    let channel = sandbox
        .tls_channel(client_tls(&ca, Some(&anonymous)))
        .await
        .unwrap();
    expect_code(
        RegistryServiceClient::new(channel)
            .get_catalogue(GetCatalogueRequest {})
            .await,
        Code::Unauthenticated,
    );

    // An agency, by its certificate: it files in its own name and sees its own requests.
    let mut legal = LawEnforcementServiceClient::new(sandbox.as_principal(Some(LEGAL)).await);
    let agency = agency(&mut legal, "Bundespolizei", "DE", "polizei.bund.de").await;
    let officer = ca.client(
        "officer",
        Some(&format!("spiffe://assay/agency/{}", agency.id)),
    );
    let mut as_agency = LawEnforcementServiceClient::new(
        sandbox
            .tls_channel(client_tls(&ca, Some(&officer)))
            .await
            .unwrap(),
    );
    let filed = as_agency
        .submit_request(le::SubmitRequestRequest {
            legal_request: Some(le::LegalRequest {
                process: le::LegalProcess::Subpoena as i32,
                reference: "BPOL 2026/118".to_owned(),
                requester_name: "KHK Weber".to_owned(),
                requester_email: "weber@polizei.bund.de".to_owned(),
                targets: vec![le::Target {
                    kind: le::TargetKind::Seller as i32,
                    id: "s-1".to_owned(),
                }],
                data_categories: vec![le::DataCategory::SellerProfile as i32],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("the agency files by its certificate")
        .into_inner()
        .legal_request
        .unwrap();
    assert_eq!(filed.agency_id, agency.id);
    let listed = as_agency
        .list_requests(le::ListRequestsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .legal_requests;
    assert_eq!(listed.len(), 1);
    // The agency's certificate does not make it staff.
    expect_code(
        as_agency
            .start_verification(le::StartVerificationRequest {
                id: filed.id.clone(),
                etag: String::new(),
            })
            .await,
        Code::PermissionDenied,
    );
}

/// Whether the server refused the connection itself: a TLS handshake it rejects fails at
/// connect or, depending on timing, at the first call, with a transport error (never with
/// a status the server answered, such as UNAUTHENTICATED).
async fn refused(channel: Result<tonic::transport::Channel, tonic::transport::Error>) -> bool {
    use std::error::Error;
    match channel {
        Err(_) => true,
        Ok(channel) => match RegistryServiceClient::new(channel)
            .get_catalogue(GetCatalogueRequest {})
            .await
        {
            Ok(_) => false,
            Err(status) => status
                .source()
                .is_some_and(|cause| cause.is::<tonic::transport::Error>()),
        },
    }
}
