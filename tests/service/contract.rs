//! The contract as published, held to what the servers do: every field the proto marks
//! `(google.api.field_behavior) = REQUIRED` is refused with INVALID_ARGUMENT naming it when
//! it is missing, and every file carries the package options generated clients need.

use std::time::Duration;

use assay_common::auth::Principal;
use assay_common::policy::Policy;
use assay_tests::proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_tests::proto::registry::v1::MemberKind;
use assay_tests::{Authed, Backend, Sandbox, on_both_backends};
use prost::Message;
use prost_reflect::{DescriptorPool, FieldDescriptor, Value};
use tonic::Code;
use tonic::client::Grpc;
use tonic_types::StatusExt;

use crate::fixtures::*;

on_both_backends!(every_required_field_is_refused_when_missing);

pub const POLICIES: [&Policy; 4] = [
    &assay_registry::policy::POLICY,
    &assay_screening::policy::POLICY,
    &assay_cases::policy::POLICY,
    &assay_lawenforcement::policy::POLICY,
];

/// Every method of the contract: (gRPC service, method, client streams, server streams).
pub fn methods() -> Vec<(String, String, bool, bool)> {
    let set = prost_types::FileDescriptorSet::decode(assay_tests::proto::FILE_DESCRIPTOR_SET)
        .expect("descriptor set");
    let mut all = Vec::new();
    for file in &set.file {
        for service in &file.service {
            for method in &service.method {
                all.push((
                    format!("{}.{}", file.package(), service.name()),
                    method.name().to_owned(),
                    method.client_streaming(),
                    method.server_streaming(),
                ));
            }
        }
    }
    all
}

/// Calls `/<service>/<method>` with an empty request message (zero bytes, which every
/// request message decodes from), and returns the status it ends with: the call's own, or
/// the first streamed answer's.
pub async fn call(
    channel: Authed,
    service: &str,
    method: &str,
    client_streams: bool,
    server_streams: bool,
) -> tonic::Status {
    let mut grpc = Grpc::new(channel);
    grpc.ready().await.expect("channel ready");
    let path: http::uri::PathAndQuery = format!("/{service}/{method}").parse().unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let empty = ();
    let ended = async {
        match (client_streams, server_streams) {
            (false, false) => grpc
                .unary(tonic::Request::new(empty), path, codec)
                .await
                .map(|_| ()),
            (false, true) => {
                let mut stream = grpc
                    .server_streaming(tonic::Request::new(empty), path, codec)
                    .await?
                    .into_inner();
                stream.message().await.map(|_| ())
            }
            (true, _) => {
                let outgoing = tokio_stream::iter([empty]);
                let mut stream = grpc
                    .streaming(tonic::Request::new(outgoing), path, codec)
                    .await?
                    .into_inner();
                stream.message().await.map(|_| ())
            }
        }
    };
    match tokio::time::timeout(Duration::from_secs(10), ended).await {
        Ok(Ok(())) => tonic::Status::ok(""),
        Ok(Err(status)) => status,
        Err(_) => tonic::Status::deadline_exceeded("the call went on: it was admitted"),
    }
}

fn pool() -> DescriptorPool {
    DescriptorPool::decode(assay_tests::proto::FILE_DESCRIPTOR_SET).expect("descriptor set")
}

/// The `google.api.field_behavior` values of a field, by name (`REQUIRED`, `OUTPUT_ONLY`).
fn behaviours(pool: &DescriptorPool, field: &FieldDescriptor) -> Vec<String> {
    let extension = pool
        .get_extension_by_name("google.api.field_behavior")
        .expect("the contract imports google/api/field_behavior.proto");
    let kind = extension.kind();
    let enumeration = kind.as_enum().expect("FieldBehavior");
    let options = field.options();
    if !options.has_extension(&extension) {
        return Vec::new();
    }
    match options.get_extension(&extension).as_ref() {
        Value::List(values) => values
            .iter()
            .filter_map(|v| v.as_enum_number())
            .filter_map(|n| enumeration.get_value(n))
            .map(|v| v.name().to_owned())
            .collect(),
        other => panic!("field_behavior is a list, not {other:?}"),
    }
}

#[test]
fn every_file_names_its_packages_for_generated_clients() {
    let pool = pool();
    let mut files = 0;
    for file in pool
        .files()
        .filter(|f| f.package_name().starts_with("assay."))
    {
        files += 1;
        let options = file
            .file_descriptor_proto()
            .options
            .clone()
            .unwrap_or_default();
        let package = file.package_name();
        let last = package.split('.').nth(1).unwrap();
        assert!(
            options
                .go_package()
                .ends_with(&format!("/assay/{last}/v1;{last}v1")),
            "{}: go_package {:?}",
            file.name(),
            options.go_package()
        );
        assert_eq!(
            options.java_package(),
            format!("dev.{package}"),
            "{}",
            file.name()
        );
        assert!(options.java_multiple_files(), "{}", file.name());
    }
    assert_eq!(files, 5);
}

#[test]
fn behaviours_are_consistent_with_where_fields_stand() {
    let pool = pool();
    let requests: std::collections::HashSet<String> = pool
        .services()
        .flat_map(|s| {
            s.methods()
                .map(|m| m.input().full_name().to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    let (mut marked, mut wrong) = (0, Vec::new());
    for message in pool.all_messages() {
        if !message.package_name().starts_with("assay.") {
            continue;
        }
        let request = requests.contains(message.full_name());
        for field in message.fields() {
            let said = behaviours(&pool, &field);
            let has = |b: &str| said.iter().any(|s| s == b);
            marked += usize::from(!said.is_empty());
            let name = field.name();
            // What each field must say, by where it stands.
            let expected = if request && has("OUTPUT_ONLY") {
                Some("not OUTPUT_ONLY: a request's own fields are input")
            } else if !request
                && (name == "create_time" || name == "update_time")
                && !has("OUTPUT_ONLY")
            {
                Some("OUTPUT_ONLY: the server sets it")
            } else if name == "id" && request && !has("REQUIRED") {
                Some("REQUIRED: the request names what it acts on")
            } else if name == "id" && !request && !has("IDENTIFIER") && !has("REQUIRED") {
                Some("IDENTIFIER, or REQUIRED in a reference: the resource's id")
            } else if name == "etag" && !has("OPTIONAL") {
                Some("OPTIONAL: sent back for optimistic concurrency, if at all")
            } else {
                None
            };
            if let Some(expected) = expected {
                wrong.push(format!("{} {said:?}: {expected}", field.full_name()));
            }
        }
    }
    assert!(wrong.is_empty(), "{} fields: {wrong:#?}", wrong.len());
    assert!(marked > 150, "{marked} fields marked");
}

async fn every_required_field_is_refused_when_missing(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let member = active_member(&mut admin, "Alpha SA", MemberKind::BrandOwner).await;
    let mut legal = LawEnforcementServiceClient::new(sandbox.as_principal(Some(LEGAL)).await);
    let agency = agency(&mut legal, "Guardia di Finanza", "IT", "gdf.gov.it").await;
    // Someone each method admits, staff first: an empty request must fail its validation,
    // not its authorisation.
    let principals: Vec<String> = [
        ADMIN,
        LEGAL,
        ANALYST,
        "service:screening",
        "service:cases",
        "service:lawenforcement",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain([
        format!("member:{}", member.id),
        format!("agency:{}", agency.id),
    ])
    .collect();

    let pool = pool();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (service, method, client_streams, server_streams) in methods() {
        let descriptor = pool
            .get_service_by_name(&service)
            .and_then(|s| s.methods().find(|m| m.name() == method))
            .unwrap();
        let required: Vec<String> = descriptor
            .input()
            .fields()
            .filter(|f| behaviours(&pool, f).iter().any(|b| b == "REQUIRED"))
            .map(|f| f.name().to_owned())
            .collect();
        if required.is_empty() {
            continue;
        }
        let rule = POLICIES
            .iter()
            .find(|p| p.service == service)
            .and_then(|p| p.rule(&method))
            .unwrap();
        let principal = principals
            .iter()
            .find(|p| rule.admits(&p.parse::<Principal>().unwrap()))
            .unwrap_or_else(|| panic!("no principal may call {method}"));
        let status = call(
            sandbox.as_principal(Some(principal)).await,
            &service,
            &method,
            client_streams,
            server_streams,
        )
        .await;
        checked += 1;
        let named: Vec<String> = status
            .get_details_bad_request()
            .map(|b| b.field_violations.into_iter().map(|v| v.field).collect())
            .unwrap_or_default();
        let missing: Vec<&String> = required
            .iter()
            .filter(|field| {
                !named
                    .iter()
                    .any(|n| n == *field || n.starts_with(&format!("{field}.")))
            })
            .collect();
        if status.code() != Code::InvalidArgument || !missing.is_empty() {
            wrong.push(format!(
                "{method} as {principal}: {:?} {}; required but not named: {missing:?}",
                status.code(),
                status.message()
            ));
        }
    }
    assert!(checked > 60, "{checked} methods checked");
    assert!(wrong.is_empty(), "{} wrong: {wrong:#?}", wrong.len());
}
