//! Evidence on a case and its chain of custody, and test purchases.

use super::*;
use crate::domain::purchase;
use crate::ids::TestPurchaseId;

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

impl CasesApi {
    pub(super) async fn record_test_purchase(
        &self,
        principal: &Principal,
        req: RecordTestPurchaseRequest,
    ) -> ApiResult<TestPurchase> {
        let mut violations = FieldViolations::new();
        let key = Key::of("RecordTestPurchase", principal, &mut violations, &req);
        let id = violations.check("case_id", CaseId::parse(&req.case_id));
        let purchase = match &req.test_purchase {
            Some(input) => purchase::check(&mut violations, "test_purchase", input, time::today()),
            None => {
                violations.add("test_purchase", "must be set");
                None
            }
        };
        let photos = purchase::photos(&mut violations, "photos", &req.photos);
        let (id, purchase) = violations.require(id.zip(purchase))?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let model = create_once(
            &txn,
            key.as_ref(),
            async |existing| {
                store::find_test_purchase(&txn, &TestPurchaseId::from_trusted(existing)).await
            },
            async || {
                let current = store::find_case(&txn, &id).await?;
                self.scope_case(&txn, principal, &id, "case", id.as_str())
                    .await?;
                purchase::accepted(id.as_str(), store::status_of(&current)?)
                    .map_err(ApiError::precondition)?;
                let listing = store::listing_of_case(&txn, &id, &purchase.listing_id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::invalid(
                            "test_purchase.listing_id",
                            format!("is not a listing of case {id}"),
                        )
                    })?;
                if store::test_purchase_count(&txn, &id).await? >= purchase::MAX_PER_CASE {
                    return Err(ApiError::precondition(format!(
                        "case {id} already holds {} test purchases, the most a case keeps",
                        purchase::MAX_PER_CASE
                    )));
                }
                let purchase_id = TestPurchaseId::generate();
                let mut photo_ids = Vec::with_capacity(photos.len());
                let mut photo_hashes = Vec::with_capacity(photos.len());
                for photo in photos {
                    let evidence_id = EvidenceId::generate();
                    photo_hashes.push(photo.sha256.clone());
                    store::insert_evidence(&txn, &evidence_id, &id, photo, &actor, now).await?;
                    photo_ids.push(evidence_id);
                }
                let report_id = EvidenceId::generate();
                let report = purchase::report(
                    purchase_id.as_str(),
                    id.as_str(),
                    &listing.seller_id,
                    &purchase,
                    &photo_hashes,
                );
                store::insert_evidence(&txn, &report_id, &id, report, &actor, now).await?;
                let event = purchase::event(purchase_id.as_str(), &purchase, &listing.seller_id);
                store::append_event(&txn, &id, event, &actor, now).await?;
                let model = store::insert_test_purchase(
                    &txn,
                    &purchase_id,
                    &id,
                    &listing.seller_id,
                    purchase.clone(),
                    &report_id,
                    &photo_ids,
                    &actor,
                    now,
                )
                .await?;
                store::touch_case(&txn, &current, now).await?;
                Ok((purchase_id.into_string(), model))
            },
        )
        .await?
        .into_inner();
        txn.commit().await?;
        convert::test_purchase(&model)
    }

    pub(super) async fn list_test_purchases(
        &self,
        principal: &Principal,
        req: ListTestPurchasesRequest,
    ) -> ApiResult<ListTestPurchasesResponse> {
        let id = case_id("case_id", &req.case_id)?;
        store::find_case(self.db(), &id).await?;
        self.scope_case(self.db(), principal, &id, "case", id.as_str())
            .await?;
        let models = store::test_purchases_of(self.db(), &id, purchase::MAX_PER_CASE).await?;
        Ok(ListTestPurchasesResponse {
            test_purchases: models
                .iter()
                .map(convert::test_purchase)
                .collect::<ApiResult<_>>()?,
        })
    }
}
