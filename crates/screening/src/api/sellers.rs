//! What case management knows of sellers: recorded here, weighed in every verdict.

use super::*;
use crate::sellers::{MAX_STANDINGS, Standing};

impl ScreeningApi {
    pub(super) async fn record_seller_standings(
        &self,
        req: RecordSellerStandingsRequest,
    ) -> ApiResult<RecordSellerStandingsResponse> {
        let mut violations = FieldViolations::new();
        if !(1..=MAX_STANDINGS).contains(&req.standings.len()) {
            violations.add("standings", format!("must hold 1 to {MAX_STANDINGS}"));
        }
        let standings: Vec<(String, Standing)> = req
            .standings
            .iter()
            .take(MAX_STANDINGS)
            .enumerate()
            .filter_map(|(i, s)| Standing::check(s, &format!("standings[{i}]"), &mut violations))
            .collect();
        violations.into_result(())?;
        let txn = self.db.begin().await?;
        let recorded = store::record_seller_standings(&txn, &standings, time::now()).await?;
        txn.commit().await?;
        tracing::info!(
            sellers = standings.len(),
            recorded,
            "seller standings recorded"
        );
        self.sellers.apply(standings);
        Ok(RecordSellerStandingsResponse {
            recorded: recorded as i32,
        })
    }

    pub(super) async fn get_seller_standing(
        &self,
        req: GetSellerStandingRequest,
    ) -> ApiResult<GetSellerStandingResponse> {
        let seller_id =
            validate::external_id(&req.seller_id).map_err(|e| ApiError::invalid("seller_id", e))?;
        let standing = store::seller_standing(&self.db, &seller_id)
            .await?
            .filter(|s| !s.is_empty());
        let Some(standing) = standing else {
            return Ok(GetSellerStandingResponse::default());
        };
        let record = standing.record(time::now());
        Ok(GetSellerStandingResponse {
            standing: Some(standing.to_proto(&seller_id)),
            active_strikes: record.active_strikes as i32,
            repeat_infringer: record.repeat_infringer,
        })
    }
}
