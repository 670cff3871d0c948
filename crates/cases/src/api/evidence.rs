//! Evidence on a case and its chain of custody.

use super::*;

impl CasesApi {
    pub(super) async fn add_evidence(
        &self,
        principal: &Principal,
        req: AddEvidenceRequest,
    ) -> ApiResult<Evidence> {
        let id = case_id("case_id", &req.case_id)?;
        let input = validate::present("evidence", req.evidence.as_ref())?;
        let mut violations = FieldViolations::new();
        let key = Key::of("AddEvidence", principal, &mut violations, &req);
        let new = check::evidence(&mut violations, "evidence", input);
        let new = violations.require(new)?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let model = create_once(
            &txn,
            key.as_ref(),
            async |existing| store::find_evidence(&txn, &EvidenceId::from_trusted(existing)).await,
            async || {
                let current = store::find_case(&txn, &id).await?;
                self.scope_case(&txn, principal, &id, "case", id.as_str())
                    .await?;
                moves::accepts_evidence(id.as_str(), store::status_of(&current)?)
                    .map_err(ApiError::precondition)?;
                let evidence_id = EvidenceId::generate();
                let model =
                    store::insert_evidence(&txn, &evidence_id, &id, new, &actor, now).await?;
                store::touch_case(&txn, &current, now).await?;
                Ok((evidence_id.into_string(), model))
            },
        )
        .await?
        .into_inner();
        txn.commit().await?;
        Ok(convert::evidence(&model))
    }

    pub(super) async fn get_evidence(
        &self,
        principal: &Principal,
        req: GetEvidenceRequest,
    ) -> ApiResult<GetEvidenceResponse> {
        let id = EvidenceId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let purpose = validate::optional_text(&req.purpose, 500)
            .map_err(|e| ApiError::invalid("purpose", e))?;
        let now = time::now();
        let actor = principal.actor();
        // The view is entered in the chain of custody in the same transaction as the read.
        let txn = self.db().begin().await?;
        let model = store::find_evidence(&txn, &id).await?;
        self.scope_case(&txn, principal, &model.case_id, "evidence", id.as_str())
            .await?;
        store::append_custody(&txn, &model, CustodyAction::Viewed, &actor, &purpose, now).await?;
        txn.commit().await?;
        Ok(GetEvidenceResponse {
            evidence: Some(convert::evidence(&model)),
            content: model.content.unwrap_or_default(),
        })
    }

    pub(super) async fn list_evidence(
        &self,
        principal: &Principal,
        req: ListEvidenceRequest,
    ) -> ApiResult<ListEvidenceResponse> {
        let id = case_id("case_id", &req.case_id)?;
        let size = page_size(req.page_size)?;
        store::find_case(self.db(), &id).await?;
        self.scope_case(self.db(), principal, &id, "case", id.as_str())
            .await?;
        let scope = format!("ListEvidence|{id}");
        let after = self.inner.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_evidence(self.db(), &id, after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |e| e.id.to_string());
        Ok(ListEvidenceResponse {
            evidence: rows.iter().map(convert::evidence).collect(),
            next_page_token,
        })
    }

    pub(super) async fn list_custody_events(
        &self,
        req: ListCustodyEventsRequest,
    ) -> ApiResult<ListCustodyEventsResponse> {
        let id =
            EvidenceId::parse(&req.evidence_id).map_err(|e| ApiError::invalid("evidence_id", e))?;
        let size = page_size(req.page_size)?;
        store::find_evidence(self.db(), &id).await?;
        let scope = format!("ListCustodyEvents|{id}");
        let after = self
            .inner
            .page_tokens
            .decode_number(&scope, &req.page_token)?;
        let rows = store::list_custody(self.db(), &id, after, size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |e| e.sequence.to_string());
        Ok(ListCustodyEventsResponse {
            events: rows,
            next_page_token,
        })
    }
}
