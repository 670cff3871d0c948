//! The documents of legal requests (the signed legal process), read by those who may read
//! the request, every upload, listing, read and purge in the audit log. A request's
//! documents lose their content once it has been over for the retention, unless a
//! preservation hold in force covers one of its sellers or listings.

use assay_common::documents::{self, Ended, Purged};
use assay_common::ids::DocumentId;
use assay_proto::common::v1::Document;
use chrono::{DateTime, Utc};

use super::*;

impl LawEnforcementApi {
    pub(super) async fn attach_document(
        &self,
        principal: &Principal,
        req: AttachDocumentRequest,
    ) -> ApiResult<Document> {
        let mut violations = FieldViolations::new();
        let key = Key::of("AttachDocument", principal, &mut violations, &req);
        let parent = violations.check("parent", RequestId::parse(&req.parent));
        let new = self
            .inner
            .documents
            .check(&mut violations, &req.name, &req.content, &req.sha256);
        let (parent, new) = violations.require(parent.zip(new))?;
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, _) = self
            .visible_request(txn, principal, &caller, &parent, "document.attach")
            .await?;
        let model = self
            .inner
            .documents
            .attach_once(
                &txn,
                key.as_ref(),
                parent.as_str(),
                new,
                &principal.actor(),
                async |model| {
                    self.audit(
                        &txn,
                        principal,
                        "document.attach",
                        parent.as_str(),
                        format!("{} {} (sha256 {})", model.id, model.name, model.sha256),
                    )
                    .await?;
                    Ok(model)
                },
            )
            .await?;
        txn.commit().await?;
        Ok(documents::to_proto(&model))
    }

    pub(super) async fn list_documents(
        &self,
        principal: &Principal,
        req: ListDocumentsRequest,
    ) -> ApiResult<ListDocumentsResponse> {
        let parent = request_id_arg("parent", &req.parent)?;
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, _) = self
            .visible_request(txn, principal, &caller, &parent, "document.list")
            .await?;
        let models = documents::of(&txn, parent.as_str()).await?;
        self.audit(
            &txn,
            principal,
            "document.list",
            parent.as_str(),
            format!("{} documents", models.len()),
        )
        .await?;
        txn.commit().await?;
        Ok(ListDocumentsResponse {
            documents: models.iter().map(documents::to_proto).collect(),
        })
    }

    pub(super) async fn get_document(
        &self,
        principal: &Principal,
        req: GetDocumentRequest,
    ) -> ApiResult<GetDocumentResponse> {
        let id = DocumentId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let model = documents::find(&txn, &id).await?;
        // Documents of this service belong to requests; one of a request the caller may
        // not see does not exist for it.
        let parent = RequestId::parse(&model.parent)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("document {id}: {e}")))?;
        let (txn, _) = self
            .visible_request(txn, principal, &caller, &parent, "document.read")
            .await
            .map_err(|e| match e {
                ApiError::NotFound { .. } => ApiError::not_found("document", id.as_str()),
                other => other,
            })?;
        let content = self.inner.documents.content(&model).await?;
        self.audit(
            &txn,
            principal,
            "document.read",
            parent.as_str(),
            format!("{} (sha256 {})", model.id, model.sha256),
        )
        .await?;
        txn.commit().await?;
        Ok(GetDocumentResponse {
            document: Some(documents::to_proto(&model)),
            content,
        })
    }
    /// Deletes the content of documents of requests that ended (rejected or closed) before
    /// `before`, keeping those of requests a hold in force covers; each purge is audited as
    /// `actor`'s. Returns (purged, held).
    pub async fn purge_documents(
        &self,
        before: DateTime<Utc>,
        actor: &str,
    ) -> ApiResult<(u64, u64)> {
        let (db, audit) = (self.db(), &self.inner.audit);
        let (purged, held) = self
            .inner
            .documents
            .purge_ended(
                db,
                before,
                |records| async move { ended_requests(db, &records, before).await },
                |txn, purged: Vec<Purged>| async move {
                    for document in &purged {
                        audit
                            .append(
                                &txn,
                                Entry {
                                    actor,
                                    action: "document.purge",
                                    resource: &document.parent,
                                    outcome: "ok",
                                    detail: &format!(
                                        "{} (sha256 {}): content deleted, the request over for the retention",
                                        document.id, document.sha256
                                    ),
                                },
                            )
                            .await?;
                    }
                    Ok(txn)
                },
            )
            .await?;
        if purged > 0 || held > 0 {
            tracing::info!(purged, held, %before, "contents of documents of ended requests purged");
        }
        Ok((purged, held))
    }

    pub(super) async fn purge_documents_before(
        &self,
        principal: &Principal,
        req: PurgeDocumentsRequest,
    ) -> ApiResult<PurgeDocumentsResponse> {
        let before = time::past_timestamp(req.ended_before.as_ref())
            .map_err(|e| ApiError::invalid("ended_before", e))?;
        let (purged, held) = self.purge_documents(before, &principal.actor()).await?;
        Ok(PurgeDocumentsResponse {
            purged: purged as i64,
            held: held as i64,
        })
    }
}

/// Of `records` (requests, by id), those that ended before `before`, and of those the ones
/// a preservation hold in force covers (one of their sellers or listings).
async fn ended_requests(db: &Db, records: &[String], before: DateTime<Utc>) -> ApiResult<Ended> {
    let ids: Vec<RequestId> = records
        .iter()
        .filter_map(|id| RequestId::parse(id).ok())
        .collect();
    let mut ended = Ended::default();
    let (mut sellers, mut listings) = (Vec::new(), Vec::new());
    for model in store::requests_by_ids(db, &ids).await? {
        let request = convert::request(&model)?;
        let over = domain::request_ended(&request).is_some_and(|ended| ended < before);
        if !over {
            continue;
        }
        for target in &request.targets {
            match TargetKind::try_from(target.kind) {
                Ok(TargetKind::Seller) => sellers.push((target.id.clone(), model.id.clone())),
                Ok(TargetKind::Listing) => listings.push((target.id.clone(), model.id.clone())),
                _ => {}
            }
        }
        ended.ended.insert(model.id.to_string());
    }
    let now = time::now();
    for (kind, targets) in [
        (TargetKind::Seller, sellers),
        (TargetKind::Listing, listings),
    ] {
        // Up to 100 targets a request: asked about in chunks a statement can bind.
        let ids: Vec<String> = targets
            .iter()
            .map(|(id, _)| id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut held = BTreeSet::new();
        for chunk in ids.chunks(assay_common::db::ROWS_PER_STATEMENT) {
            held.extend(store::held(db, kind, chunk, now).await?);
        }
        ended.held.extend(
            targets
                .into_iter()
                .filter(|(id, _)| held.contains(id))
                .map(|(_, request)| request.to_string()),
        );
    }
    Ok(ended)
}
