//! Documents kept with IP rights (registration certificates) and delegations (letters of
//! authorisation), read by whoever may read the record, their content deleted once the
//! record has been over for the retention.

use assay_common::documents::{self, NewDocument};
use assay_common::ids::DocumentId;
use assay_proto::common::v1::Document;
use chrono::{DateTime, Utc};

use super::*;

impl RegistryApi {
    /// Checks that `principal` may see record `parent` (an IP right or a delegation); any
    /// other member's record answers as one that does not exist.
    async fn document_parent(&self, principal: &Principal, parent: &str) -> ApiResult<()> {
        if parent.starts_with("ipr_") {
            let id = id_arg("parent", parent, IpRightId::parse)?;
            let (_, brand) = self.right_and_brand(&id).await?;
            self.scope_brand(&self.db, principal, &brand, "IP right", id.as_str())
                .await
        } else if parent.starts_with("dlg_") {
            let id = id_arg("parent", parent, DelegationId::parse)?;
            let model = store::get_delegation(&self.db, &id).await?;
            super::delegations::scope_delegation(principal, &model)
        } else {
            Err(ApiError::invalid(
                "parent",
                "must be an IP right (\"ipr_...\") or a delegation (\"dlg_...\")",
            ))
        }
    }

    pub(super) async fn attach_document(
        &self,
        principal: &Principal,
        req: AttachDocumentRequest,
    ) -> ApiResult<Document> {
        let mut violations = FieldViolations::new();
        let key = Key::of("AttachDocument", principal, &mut violations, &req);
        if req.parent.is_empty() {
            violations.add("parent", "must not be empty");
        }
        let new: Option<NewDocument> =
            self.documents
                .check(&mut violations, &req.name, &req.content, &req.sha256);
        let new = violations.require(new)?;
        self.document_parent(principal, &req.parent).await?;
        let txn = self.db.begin().await?;
        let model = self
            .documents
            .attach_once(
                &txn,
                key.as_ref(),
                &req.parent,
                new,
                &principal.actor(),
                async |model| Ok(model),
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
        self.document_parent(principal, &req.parent).await?;
        let models = documents::of(&self.db, &req.parent).await?;
        Ok(ListDocumentsResponse {
            documents: models.iter().map(documents::to_proto).collect(),
        })
    }

    /// Deletes the content of documents whose record ended before `before`; returns how
    /// many. The registry's records are about members, not sellers or listings: no
    /// preservation hold covers them.
    pub async fn purge_documents(&self, before: DateTime<Utc>) -> ApiResult<u64> {
        let db = &self.db;
        let (purged, _) = self
            .documents
            .purge_ended(
                db,
                before,
                |records| async move {
                    Ok(documents::Ended {
                        ended: store::records_ended_before(db, &records, before).await?,
                        held: Default::default(),
                    })
                },
                |txn, _| async move { Ok(txn) },
            )
            .await?;
        if purged > 0 {
            tracing::info!(purged, %before, "contents of documents of ended records purged");
        }
        Ok(purged)
    }

    pub(super) async fn purge_documents_before(
        &self,
        req: PurgeDocumentsRequest,
    ) -> ApiResult<PurgeDocumentsResponse> {
        let before = time::past_timestamp(req.ended_before.as_ref())
            .map_err(|e| ApiError::invalid("ended_before", e))?;
        Ok(PurgeDocumentsResponse {
            purged: self.purge_documents(before).await? as i64,
        })
    }

    pub(super) async fn get_document(
        &self,
        principal: &Principal,
        req: GetDocumentRequest,
    ) -> ApiResult<GetDocumentResponse> {
        let id = id_arg("id", &req.id, DocumentId::parse)?;
        let model = documents::find(&self.db, &id).await?;
        // A document of a record the caller may not see does not exist for it.
        self.document_parent(principal, &model.parent)
            .await
            .map_err(|e| match e {
                ApiError::NotFound { .. } => ApiError::not_found("document", id.as_str()),
                other => other,
            })?;
        let content = self.documents.content(&model).await?;
        Ok(GetDocumentResponse {
            document: Some(documents::to_proto(&model)),
            content,
        })
    }
}
