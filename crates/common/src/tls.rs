//! TLS for servers and for calls between services, and principals named by client
//! certificates.
//!
//! A client certificate that chains to the server's client CA names its principal in a URI
//! subject alternative name in SPIFFE form: `spiffe://<trust domain>/service/<name>` for an
//! internal service, `spiffe://<trust domain>/agency/<agency id>` for a partner agency.
//! Other certificates authenticate the connection but name nobody: their callers still need
//! a bearer token.

use std::path::Path;

use anyhow::Context;
use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::config::{PeerTls, ServerTls};
use crate::principal::Principal;

fn read(path: &Path, what: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()))
}

/// The server side: its identity and, when configured, the CA of client certificates.
pub fn server_config(tls: &ServerTls) -> anyhow::Result<ServerTlsConfig> {
    let identity = Identity::from_pem(
        read(&tls.cert_file, "server certificate")?,
        read(&tls.key_file, "server key")?,
    );
    let mut config = ServerTlsConfig::new().identity(identity);
    if let Some(ca) = &tls.client_ca_file {
        config = config
            .client_ca_root(Certificate::from_pem(read(ca, "client CA")?))
            .client_auth_optional(!tls.require_client_cert);
    }
    Ok(config)
}

/// The client side of calls to peers: the CA that verifies them, and this process's
/// certificate if it has one.
pub fn client_config(tls: &PeerTls) -> anyhow::Result<ClientTlsConfig> {
    let mut config = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(&tls.ca_file, "peer CA")?));
    if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
        config = config.identity(Identity::from_pem(
            read(cert, "client certificate")?,
            read(key, "client key")?,
        ));
    }
    Ok(config)
}

/// The principal a (verified) DER client certificate names, if any.
pub fn principal_of(der: &[u8], trust_domain: &str) -> Option<Principal> {
    let (_, certificate) = X509Certificate::from_der(der).ok()?;
    let names = certificate.subject_alternative_name().ok()??;
    let prefix = format!("spiffe://{trust_domain}/");
    names.value.general_names.iter().find_map(|name| {
        let GeneralName::URI(uri) = name else {
            return None;
        };
        let path = uri.strip_prefix(&prefix)?;
        let (kind, id) = path.split_once('/')?;
        let valid = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !valid {
            return None;
        }
        match kind {
            "service" => Some(Principal::Service {
                name: id.to_owned(),
            }),
            "agency" => Some(Principal::Agency {
                subject: id.to_owned(),
                agency_id: id.to_owned(),
            }),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, KeyPair, SanType};

    use super::*;

    fn certificate(sans: Vec<SanType>) -> Vec<u8> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = sans;
        let key = KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    fn uri(text: &str) -> SanType {
        SanType::URI(text.try_into().unwrap())
    }

    #[test]
    fn spiffe_ids_name_services_and_agencies() {
        let service = certificate(vec![
            SanType::DnsName("screening.assay.svc".try_into().unwrap()),
            uri("spiffe://assay/service/screening"),
        ]);
        assert_eq!(
            principal_of(&service, "assay"),
            Some(Principal::Service {
                name: "screening".into()
            })
        );
        let agency = certificate(vec![uri("spiffe://assay/agency/agy_0123")]);
        assert_eq!(
            principal_of(&agency, "assay"),
            Some(Principal::Agency {
                subject: "agy_0123".into(),
                agency_id: "agy_0123".into()
            })
        );
    }

    #[test]
    fn other_names_name_nobody() {
        for sans in [
            vec![uri("spiffe://elsewhere/service/screening")],
            vec![uri("spiffe://assay/staff/alice")],
            vec![uri("spiffe://assay/service/")],
            vec![uri("spiffe://assay/service/a/b")],
            vec![uri("https://assay/service/screening")],
            vec![SanType::DnsName("screening".try_into().unwrap())],
            vec![],
        ] {
            let der = certificate(sans.clone());
            assert_eq!(principal_of(&der, "assay"), None, "{sans:?}");
        }
        assert_eq!(principal_of(b"not a certificate", "assay"), None);
    }
}
