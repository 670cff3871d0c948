//! The documents of legal requests (the signed legal process), read by those who may read
//! the request, every upload, listing and read in the audit log.

use assay_common::documents;
use assay_common::ids::DocumentId;
use assay_proto::common::v1::Document;

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
}
