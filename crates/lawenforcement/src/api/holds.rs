//! Preservation holds: what they keep from deletion, and for how long.

use super::*;

impl LawEnforcementApi {
    pub(super) async fn list_holds(
        &self,
        principal: &Principal,
        req: ListHoldsRequest,
    ) -> ApiResult<ListHoldsResponse> {
        let size = page_size(req.page_size)?;
        let scope = "ListHolds";
        let after = self.inner.page_tokens.decode(scope, &req.page_token)?;
        let rows = store::active_holds(self.db(), time::now(), after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(scope, rows, size, |h| h.id.to_string());
        let mut holds = Vec::with_capacity(rows.len());
        for row in &rows {
            holds.push(convert::hold(
                row,
                store::hold_targets(self.db(), &row.id).await?,
            ));
        }
        self.audit_listed(
            principal,
            "holds.list",
            "",
            rows.iter().map(|h| h.id.as_str()),
        )
        .await?;
        Ok(ListHoldsResponse {
            holds,
            next_page_token,
        })
    }

    pub(super) async fn extend_hold(
        &self,
        principal: &Principal,
        req: ExtendHoldRequest,
    ) -> ApiResult<Hold> {
        let id = HoldId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let txn = self.db().begin().await?;
        let current = store::find_hold(&txn, &id).await?;
        let process = LegalProcess::from_str_name(&current.process).unwrap_or_default();
        let Some((_, extension)) = domain::hold_periods(process) else {
            return Err(ApiError::precondition("this hold cannot be extended"));
        };
        if current.extended {
            return Err(ApiError::precondition(
                "this hold was already extended once: a new preservation request is needed",
            ));
        }
        if current.expire_time <= time::now() {
            return Err(ApiError::precondition("this hold has already ended"));
        }
        let extended = store::extend_hold(&txn, &current, current.expire_time + extension).await?;
        self.audit(
            &txn,
            principal,
            "hold.extend",
            id.as_str(),
            format!("until {}", extended.expire_time),
        )
        .await?;
        let hold = convert::hold(&extended, store::hold_targets(&txn, &extended.id).await?);
        txn.commit().await?;
        Ok(hold)
    }

    pub(super) async fn check_holds(
        &self,
        principal: &Principal,
        req: CheckHoldsRequest,
    ) -> ApiResult<CheckHoldsResponse> {
        let mut violations = FieldViolations::new();
        for (field, ids) in [
            ("seller_ids", &req.seller_ids),
            ("listing_ids", &req.listing_ids),
        ] {
            if let Err(e) = validate::count(ids, 0, 1000) {
                violations.add(field, e);
            }
        }
        violations.into_result(())?;
        let now = time::now();
        let answer = CheckHoldsResponse {
            held_seller_ids: store::held(self.db(), TargetKind::Seller, &req.seller_ids, now)
                .await?,
            held_listing_ids: store::held(self.db(), TargetKind::Listing, &req.listing_ids, now)
                .await?,
        };
        // Which sellers and listings are under a hold is itself law-enforcement data.
        self.audit_listed(
            principal,
            "holds.check",
            "",
            answer
                .held_seller_ids
                .iter()
                .chain(&answer.held_listing_ids)
                .map(String::as_str),
        )
        .await?;
        Ok(answer)
    }
}
