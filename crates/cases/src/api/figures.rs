//! The programme's figures: notice accuracy and enforcement.

use super::*;

impl CasesApi {
    pub(super) async fn get_notice_accuracy(
        &self,
        principal: &Principal,
        req: GetNoticeAccuracyRequest,
    ) -> ApiResult<GetNoticeAccuracyResponse> {
        let mut violations = FieldViolations::new();
        violations.check("member_id", MemberId::parse(&req.member_id));
        let (from, until) =
            validate::time_range(&mut violations, "create_time", req.create_time.as_ref());
        violations.into_result(())?;
        principal.scope(
            Owner::Members(&[req.member_id.as_str()]),
            "member",
            &req.member_id,
        )?;
        let accuracy = store::notice_accuracy(self.db(), &req.member_id, from, until).await?;
        // Trust is earned over all notices, whatever the period asked about.
        let overall = if from.is_none() && until.is_none() {
            accuracy
        } else {
            store::notice_accuracy(self.db(), &req.member_id, None, None).await?
        };
        Ok(GetNoticeAccuracyResponse {
            notices: accuracy.notices,
            upheld: accuracy.upheld,
            rejected: accuracy.rejected,
            overturned: accuracy.overturned,
            pending: accuracy.pending,
            accuracy: accuracy.ratio(),
            trusted: overall.trusted(&self.inner.config.trusted_notices),
        })
    }

    pub(super) async fn get_enforcement_figures(
        &self,
        req: GetEnforcementFiguresRequest,
    ) -> ApiResult<GetEnforcementFiguresResponse> {
        let mut violations = FieldViolations::new();
        let (from, until) = validate::time_range(&mut violations, "period", req.period.as_ref());
        violations.into_result(())?;
        let figures = store::figures(self.db(), from, until).await?;
        let source = |s: CaseSource| figures.by_source.get(s.as_str_name()).copied().unwrap_or(0);
        Ok(GetEnforcementFiguresResponse {
            notices: source(CaseSource::Notice),
            screening_alerts: source(CaseSource::ScreeningAlert),
            staff_cases: source(CaseSource::Staff),
            listings_taken_down: figures.listings_taken_down,
            counter_notices: figures.counter_notices,
            listings_reinstated: figures.listings_reinstated,
            referrals: figures.referrals,
            arrests: figures.arrests,
            seized_units: figures.seized_units,
            seized_value: figures
                .seized_value
                .iter()
                .filter_map(|(code, nanos)| {
                    Some(
                        Money {
                            currency: assay_common::money::CurrencyCode::parse(code).ok()?,
                            nanos: *nanos,
                        }
                        .to_proto(),
                    )
                })
                .collect(),
            convictions: figures.convictions,
            sellers_struck: figures.sellers_struck,
            sla_breaches: figures.sla_breaches,
            by_reason: convert::reason_figures(
                &figures.notices_by_reason,
                &figures.takedowns_by_reason,
            ),
        })
    }
}
