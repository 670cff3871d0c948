//! Documents kept with records: an IP right's registration certificate, a delegation's
//! letter of authorisation, an agency's signed legal process. Checked by their content,
//! hashed, readable only by those who may read the record, and kept in the service's
//! database or, when configured, in an S3-compatible object store, until their record has
//! been over for the retention.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assay::ServiceName;
use assay_common::documents::ObjectStoreConfig;
use assay_tests::proto::common::v1::Document;
use assay_tests::proto::lawenforcement::v1 as le;
use assay_tests::proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_tests::proto::registry::v1::*;
use assay_tests::{Backend, Sandbox, bad_fields, expect_code, on_both_backends};
use object_store::ObjectStore;
use sha2::{Digest, Sha256};
use tonic::Code;

use crate::fixtures::*;

on_both_backends!(
    certificates_and_letters_are_read_only_by_those_who_may_read_the_record,
    documents_of_ended_records_lose_their_content_after_the_retention,
    a_signed_legal_process_is_read_only_by_its_agency_and_oversight_and_audited,
    documents_can_be_kept_in_an_s3_compatible_object_store,
);

pub(crate) const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n";

fn upload(parent: &str, name: &str, content: &[u8], request_id: &str) -> AttachDocumentRequest {
    AttachDocumentRequest {
        parent: parent.to_owned(),
        name: name.to_owned(),
        content: content.to_vec(),
        sha256: String::new(),
        request_id: request_id.to_owned(),
    }
}

async fn attach(
    client: &mut Registry,
    request: AttachDocumentRequest,
) -> Result<Document, tonic::Status> {
    client
        .attach_document(request)
        .await
        .map(|r| r.into_inner().document.unwrap())
}

/// The same refusal, but for the id it names.
fn same_answer(a: &tonic::Status, a_id: &str, b: &tonic::Status, b_id: &str) {
    assert_eq!(a.code(), b.code());
    assert_eq!(
        a.message().replace(a_id, "?"),
        b.message().replace(b_id, "?")
    );
}

async fn certificates_and_letters_are_read_only_by_those_who_may_read_the_record(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800095").await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let stranger = active_member(&mut admin, "Neighbour SA", MemberKind::BrandOwner).await;
    let agent = active_member(&mut admin, "Law Firm LLP", MemberKind::Agent).await;
    let mut owner_client = registry(&sandbox, &format!("member:{}", owner.id)).await;
    let mut stranger_client = registry(&sandbox, &format!("member:{}", stranger.id)).await;
    let mut agent_client = registry(&sandbox, &format!("member:{}", agent.id)).await;

    // The owner files its certificate; a retry files it once.
    let request_id = "5a0c2f9e-1b7d-4e3a-8c6f-2d9e0a1b3c4d";
    let certificate = attach(
        &mut owner_client,
        upload(&right.id, "EUIPO-018800095.pdf", PDF, request_id),
    )
    .await
    .unwrap();
    assert_eq!(
        attach(
            &mut owner_client,
            upload(&right.id, "EUIPO-018800095.pdf", PDF, request_id)
        )
        .await
        .unwrap()
        .id,
        certificate.id
    );
    assert_eq!(certificate.media_type, "application/pdf");
    assert_eq!(certificate.sha256, hex::encode(Sha256::digest(PDF)));
    assert_eq!(certificate.size_bytes, PDF.len() as i64);
    assert_eq!(certificate.parent, right.id);
    let read = owner_client
        .get_document(GetDocumentRequest {
            id: certificate.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.content, PDF);
    let listed = registry(&sandbox, LEGAL)
        .await
        .list_documents(ListDocumentsRequest {
            parent: right.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .documents;
    assert_eq!(
        listed,
        std::slice::from_ref(&certificate),
        "staff who verify read it"
    );

    // Another member finds nothing: not the right, not the document, not the list.
    let unknown_right = "ipr_00000000000000000000000000000000";
    let theirs = attach(&mut stranger_client, upload(&right.id, "x.pdf", PDF, ""))
        .await
        .unwrap_err();
    let missing = attach(
        &mut stranger_client,
        upload(unknown_right, "x.pdf", PDF, ""),
    )
    .await
    .unwrap_err();
    same_answer(&theirs, &right.id, &missing, unknown_right);
    assert_eq!(theirs.code(), Code::NotFound);
    let unknown_document = "doc_00000000000000000000000000000000";
    let theirs = stranger_client
        .get_document(GetDocumentRequest {
            id: certificate.id.clone(),
        })
        .await
        .unwrap_err();
    let missing = stranger_client
        .get_document(GetDocumentRequest {
            id: unknown_document.to_owned(),
        })
        .await
        .unwrap_err();
    same_answer(&theirs, &certificate.id, &missing, unknown_document);
    expect_code(
        stranger_client
            .list_documents(ListDocumentsRequest {
                parent: right.id.clone(),
            })
            .await,
        Code::NotFound,
    );
    // Analysts read documents but do not file them.
    expect_code(
        registry(&sandbox, ANALYST)
            .await
            .attach_document(upload(&right.id, "x.pdf", PDF, ""))
            .await,
        Code::PermissionDenied,
    );

    // Bad uploads are refused by field, and keep nothing.
    let refused = attach(
        &mut owner_client,
        AttachDocumentRequest {
            sha256: "0".repeat(64),
            ..upload(&right.id, " ", PDF, "")
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad_fields(&refused), ["name", "sha256"]);
    for (content, what) in [
        (&b"MZ\x90\0\x03\0\0\0\x04\0"[..], "a Windows program"),
        (b"<html><script>alert(1)</script>", "a web page"),
        (b"", "nothing"),
    ] {
        let refused = attach(&mut owner_client, upload(&right.id, "c.pdf", content, ""))
            .await
            .unwrap_err();
        assert_eq!(bad_fields(&refused), ["content"], "{what}");
    }
    let refused = attach(&mut owner_client, upload(&brand.id, "c.pdf", PDF, ""))
        .await
        .unwrap_err();
    assert_eq!(
        bad_fields(&refused),
        ["parent"],
        "a brand keeps no documents"
    );
    let too_big = attach(
        &mut owner_client,
        upload(
            &right.id,
            "big.pdf",
            &[PDF, &vec![b' '; 10 * 1024 * 1024]].concat(),
            "",
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(bad_fields(&too_big), ["content"]);
    assert_eq!(
        owner_client
            .list_documents(ListDocumentsRequest {
                parent: right.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .documents
            .len(),
        1
    );

    // A letter of authorisation: read by the principal and by its agent.
    let (delegation, letter) = delegation_with_letter(&mut owner_client, &agent, &brand).await;
    let read = agent_client
        .get_document(GetDocumentRequest {
            id: letter.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.document.unwrap().parent, delegation.id);
    expect_code(
        stranger_client
            .get_document(GetDocumentRequest { id: letter.id })
            .await,
        Code::NotFound,
    );
}

/// A delegation of `brand` from its owner to `agent`, with its letter of authorisation.
async fn delegation_with_letter(
    owner_client: &mut Registry,
    agent: &Member,
    brand: &Brand,
) -> (Delegation, Document) {
    let delegation = owner_client
        .create_delegation(CreateDelegationRequest {
            delegation: Some(Delegation {
                agent_member_id: agent.id.clone(),
                brand_ids: vec![brand.id.clone()],
                ..Delegation::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .delegation
        .unwrap();
    let letter = attach(
        owner_client,
        upload(&delegation.id, "authorisation.pdf", PDF, ""),
    )
    .await
    .unwrap();
    (delegation, letter)
}

pub(crate) fn timestamp(time: std::time::SystemTime) -> prost_types::Timestamp {
    let since = time.duration_since(std::time::UNIX_EPOCH).unwrap();
    prost_types::Timestamp {
        seconds: since.as_secs() as i64,
        nanos: since.subsec_nanos() as i32,
    }
}

async fn purge(
    client: &mut Registry,
    ended_before: Option<prost_types::Timestamp>,
) -> Result<i64, tonic::Status> {
    client
        .purge_documents(PurgeDocumentsRequest { ended_before })
        .await
        .map(|r| r.into_inner().purged)
}

async fn read(client: &mut Registry, id: &str) -> Result<Vec<u8>, tonic::Status> {
    client
        .get_document(GetDocumentRequest { id: id.to_owned() })
        .await
        .map(|r| r.into_inner().content)
}

async fn listed(client: &mut Registry, parent: &str) -> Vec<Document> {
    client
        .list_documents(ListDocumentsRequest {
            parent: parent.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .documents
}

async fn documents_of_ended_records_lose_their_content_after_the_retention(backend: Backend) {
    let sandbox = Sandbox::start(backend).await;
    let (owner, brand, right) = protected_right(&sandbox, "Maison Ardent", "018800097").await;
    let mut admin = registry(&sandbox, ADMIN).await;
    let mut legal = registry(&sandbox, LEGAL).await;
    let agent = active_member(&mut admin, "Law Firm LLP", MemberKind::Agent).await;
    let mut owner_client = registry(&sandbox, &format!("member:{}", owner.id)).await;

    // Records that live, and records that end: a right past its validity, a right
    // rejected, a delegation ended; each with a document.
    let live = attach(&mut owner_client, upload(&right.id, "live.pdf", PDF, ""))
        .await
        .unwrap();
    let lapsed = create_right(
        &mut admin,
        IpRight {
            valid_from: Some(date(2005, 1, 15)),
            valid_until: Some(date(2015, 1, 15)),
            ..trademark_msg(&brand.id, "004400097")
        },
    )
    .await;
    let lapsed_doc = attach(&mut owner_client, upload(&lapsed.id, "old.pdf", PDF, ""))
        .await
        .unwrap();
    let refused = create_right(&mut admin, trademark_msg(&brand.id, "018800098")).await;
    let refused_doc = attach(&mut owner_client, upload(&refused.id, "bad.pdf", PDF, ""))
        .await
        .unwrap();
    legal
        .reject_ip_right(RejectIpRightRequest {
            id: refused.id.clone(),
            etag: String::new(),
            reason: "the register shows another proprietor".to_owned(),
        })
        .await
        .unwrap();
    let letters = [
        delegation_with_letter(&mut owner_client, &agent, &brand).await,
        delegation_with_letter(&mut owner_client, &agent, &brand).await,
    ];
    owner_client
        .delete_delegation(DeleteDelegationRequest {
            id: letters[1].0.id.clone(),
            etag: String::new(),
        })
        .await
        .unwrap();

    // As of 2020, nothing: the right lapsed in 2015, but its certificate was uploaded
    // today, and a document is kept for the retention after its upload as well.
    let in_2020 = prost_types::Timestamp {
        seconds: 1_577_836_800,
        nanos: 0,
    };
    assert_eq!(purge(&mut admin, Some(in_2020)).await.unwrap(), 0);
    assert_eq!(read(&mut owner_client, &lapsed_doc.id).await.unwrap(), PDF);

    // As of now: the lapsed right's, the rejected right's and the ended delegation's; not
    // the rest. What describes each stays.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let now = timestamp(std::time::SystemTime::now());
    assert_eq!(purge(&mut admin, Some(now)).await.unwrap(), 3);
    let kept = listed(&mut owner_client, &lapsed.id).await;
    assert_eq!(kept.len(), 1);
    assert!(kept[0].purge_time.is_some(), "{kept:?}");
    assert_eq!(
        (
            kept[0].sha256.as_str(),
            kept[0].size_bytes,
            kept[0].name.as_str()
        ),
        (lapsed_doc.sha256.as_str(), PDF.len() as i64, "old.pdf"),
        "what describes it stays"
    );
    let gone = read(&mut owner_client, &lapsed_doc.id).await.unwrap_err();
    assert_eq!(gone.code(), Code::FailedPrecondition, "{gone:?}");
    assert!(gone.message().contains("deleted"), "{gone:?}");
    expect_code(
        read(&mut owner_client, &refused_doc.id).await,
        Code::FailedPrecondition,
    );
    assert!(
        listed(&mut legal, &refused.id).await[0]
            .purge_time
            .is_some()
    );
    assert_eq!(read(&mut owner_client, &live.id).await.unwrap(), PDF);
    assert_eq!(
        read(&mut owner_client, &letters[0].1.id).await.unwrap(),
        PDF
    );
    assert!(
        listed(&mut owner_client, &right.id).await[0]
            .purge_time
            .is_none()
    );
    assert_eq!(purge(&mut admin, Some(now)).await.unwrap(), 0, "once");

    // The time is required and not in the future; members and analysts may not purge.
    let missing = purge(&mut admin, None).await.unwrap_err();
    assert_eq!(bad_fields(&missing), ["ended_before"]);
    let tomorrow = timestamp(std::time::SystemTime::now() + Duration::from_secs(86_400));
    let future = purge(&mut admin, Some(tomorrow)).await.unwrap_err();
    assert_eq!(bad_fields(&future), ["ended_before"]);
    for caller in [&mut owner_client, &mut registry(&sandbox, ANALYST).await] {
        expect_code(
            caller
                .purge_documents(PurgeDocumentsRequest {
                    ended_before: Some(now),
                })
                .await,
            Code::PermissionDenied,
        );
    }
}

async fn a_signed_legal_process_is_read_only_by_its_agency_and_oversight_and_audited(
    backend: Backend,
) {
    let sandbox = Sandbox::start(backend).await;
    let mut legal = LawEnforcementServiceClient::new(sandbox.as_principal(Some(LEGAL)).await);
    let first = agency(&mut legal, "Guardia di Finanza", "IT", "gdf.gov.it").await;
    let second = agency(&mut legal, "Bundespolizei", "DE", "polizei.bund.de").await;
    let mut as_first = LawEnforcementServiceClient::new(
        sandbox
            .as_principal(Some(&format!("agency:{}", first.id)))
            .await,
    );
    let mut as_second = LawEnforcementServiceClient::new(
        sandbox
            .as_principal(Some(&format!("agency:{}", second.id)))
            .await,
    );
    let filed = as_first
        .submit_request(le::SubmitRequestRequest {
            legal_request: Some(le::LegalRequest {
                process: le::LegalProcess::CourtOrder as i32,
                reference: "Proc. 2291/26".to_owned(),
                requester_name: "Cap. Russo".to_owned(),
                requester_email: "russo@gdf.gov.it".to_owned(),
                targets: vec![le::Target {
                    kind: le::TargetKind::Seller as i32,
                    id: "s-1".to_owned(),
                }],
                data_categories: vec![le::DataCategory::ScreenedListings as i32],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .legal_request
        .unwrap();
    let order = as_first
        .attach_document(le::AttachDocumentRequest {
            parent: filed.id.clone(),
            name: "court-order-2291.pdf".to_owned(),
            content: PDF.to_vec(),
            sha256: hex::encode(Sha256::digest(PDF)),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .document
        .unwrap();
    let read = legal
        .get_document(le::GetDocumentRequest {
            id: order.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.content, PDF, "legal staff verify the process");
    let theirs = as_second
        .get_document(le::GetDocumentRequest {
            id: order.id.clone(),
        })
        .await
        .unwrap_err();
    let unknown = "doc_00000000000000000000000000000000";
    let missing = as_second
        .get_document(le::GetDocumentRequest {
            id: unknown.to_owned(),
        })
        .await
        .unwrap_err();
    same_answer(&theirs, &order.id, &missing, unknown);
    expect_code(
        as_second
            .attach_document(le::AttachDocumentRequest {
                parent: filed.id.clone(),
                name: "forged.pdf".to_owned(),
                content: PDF.to_vec(),
                sha256: String::new(),
                request_id: String::new(),
            })
            .await,
        Code::NotFound,
    );
    let listed = as_first
        .list_documents(le::ListDocumentsRequest {
            parent: filed.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .documents;
    assert_eq!(
        listed,
        std::slice::from_ref(&order),
        "the forged one was not kept"
    );

    // Every upload and read is in the audit log.
    let entries =
        LawEnforcementServiceClient::new(sandbox.as_principal(Some("staff:audrey:auditor")).await)
            .list_audit_entries(le::ListAuditEntriesRequest {
                resource: filed.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .entries;
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.actor.as_str()))
        .collect();
    let first_actor = format!("agency:{}", first.id);
    assert!(
        actions.contains(&("document.attach", first_actor.as_str()))
            && actions.contains(&("document.list", first_actor.as_str()))
            && actions.contains(&("document.read", "staff:lena")),
        "{actions:?}"
    );
}

/// An S3-compatible server on a free port of 127.0.0.1, stopped when dropped.
struct S3 {
    child: Child,
    endpoint: String,
}

impl Drop for S3 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn s3_with_bucket(bucket: &str) -> S3 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(crate::python::moto_server())
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let s3 = S3 {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let made = http.put(format!("{}/{bucket}", s3.endpoint)).send().await;
        if made.is_ok_and(|r| r.status().is_success()) {
            return s3;
        }
        assert!(Instant::now() < deadline, "the S3 server never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn documents_can_be_kept_in_an_s3_compatible_object_store(backend: Backend) {
    let s3 = s3_with_bucket("assay-documents").await;
    let secrets = tempfile::tempdir().unwrap();
    let secret_file = secrets.path().join("s3-secret");
    std::fs::write(&secret_file, "test-secret\n").unwrap();
    let store = ObjectStoreConfig {
        endpoint: s3.endpoint.clone(),
        bucket: "assay-documents".to_owned(),
        region: "us-east-1".to_owned(),
        prefix: "assay".to_owned(),
        access_key_id: "test".to_owned(),
        secret_access_key_file: secret_file,
    };
    let sandbox = Sandbox::start_with(backend, ServiceName::ALL, |config| {
        config.documents.object_store = Some(store)
    })
    .await;
    let (owner, _, right) = protected_right(&sandbox, "Maison Ardent", "018800096").await;
    let mut owner_client = registry(&sandbox, &format!("member:{}", owner.id)).await;
    let certificate = attach(&mut owner_client, upload(&right.id, "cert.pdf", PDF, ""))
        .await
        .unwrap();

    // The content is in the bucket, under the service's prefix.
    let bucket = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&s3.endpoint)
        .with_bucket_name("assay-documents")
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test-secret")
        .with_allow_http(true)
        .build()
        .unwrap();
    let key = object_store::path::Path::from(format!("assay/registry/{}", certificate.id));
    let stored = bucket.get(&key).await.unwrap().bytes().await.unwrap();
    assert_eq!(stored.as_ref(), PDF);
    let read = owner_client
        .get_document(GetDocumentRequest {
            id: certificate.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.content, PDF);

    // Content changed behind the service's back is never served as the document.
    bucket
        .put(&key, b"%PDF-1.7 altered".to_vec().into())
        .await
        .unwrap();
    let altered = owner_client
        .get_document(GetDocumentRequest {
            id: certificate.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(altered.code(), Code::Internal, "{altered:?}");

    // Once its right has ended and the retention passed, the object is deleted too.
    registry(&sandbox, LEGAL)
        .await
        .reject_ip_right(RejectIpRightRequest {
            id: right.id.clone(),
            etag: String::new(),
            reason: "the register shows another proprietor".to_owned(),
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let now = timestamp(std::time::SystemTime::now());
    let mut admin = registry(&sandbox, ADMIN).await;
    assert_eq!(purge(&mut admin, Some(now)).await.unwrap(), 1);
    let deleted = bucket.get(&key).await.unwrap_err();
    assert!(
        matches!(deleted, object_store::Error::NotFound { .. }),
        "{deleted:?}"
    );
    expect_code(
        owner_client
            .get_document(GetDocumentRequest {
                id: certificate.id.clone(),
            })
            .await,
        Code::FailedPrecondition,
    );
}
