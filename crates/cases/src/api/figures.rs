//! The programme's figures: notice accuracy, enforcement, and the programme's report.

use assay_proto::lawenforcement::v1::GetTransparencyReportRequest;
use assay_proto::registry::v1::GetAllianceFiguresRequest;

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
        let accuracy = store::notice_accuracy(self.db(), Some(&req.member_id), from, until).await?;
        // Trust is earned over all notices, whatever the period asked about.
        let overall = if from.is_none() && until.is_none() {
            accuracy
        } else {
            store::notice_accuracy(self.db(), Some(&req.member_id), None, None).await?
        };
        Ok(GetNoticeAccuracyResponse {
            notices: accuracy.notices,
            upheld: accuracy.upheld,
            rejected: accuracy.rejected,
            overturned: accuracy.overturned,
            pending: accuracy.pending,
            accuracy: accuracy.ratio(),
            trusted: overall.trusted(&self.inner.config.trusted_notices),
            self_service: self.inner.config.self_service_removal.admits(&overall),
        })
    }

    pub(super) async fn list_self_service_changes(
        &self,
        principal: &Principal,
        req: ListSelfServiceChangesRequest,
    ) -> ApiResult<ListSelfServiceChangesResponse> {
        let mut violations = FieldViolations::new();
        if req.after_sequence < 0 {
            violations.add("after_sequence", "must not be negative");
        }
        let limit = violations.check("page_size", feed_page(req.page_size));
        if !req.member_id.is_empty() {
            violations.check("member_id", MemberId::parse(&req.member_id));
        }
        let limit = violations.require(limit)?;
        // A member reads its own changes (by default); staff anyone's, or everyone's.
        let member = match (principal.member_id(), req.member_id.as_str()) {
            (Some(own), "") => Some(own),
            (None, "") => None,
            (_, asked) => Some(asked),
        };
        if let Some(member) = member {
            principal.scope(Owner::Members(&[member]), "member", member)?;
        }
        let changes =
            store::self_service_changes(self.db(), req.after_sequence, member, limit).await?;
        Ok(ListSelfServiceChangesResponse {
            changes: changes.iter().map(convert::self_service_change).collect(),
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
            seized_value: convert::seized_values(&figures.seized_value),
            convictions: figures.convictions,
            sellers_struck: figures.sellers_struck,
            sla_breaches: figures.sla_breaches,
            by_reason: convert::reason_figures(
                &figures.notices_by_reason,
                &figures.takedowns_by_reason,
            ),
        })
    }

    pub(super) async fn get_programme_report(
        &self,
        req: GetProgrammeReportRequest,
    ) -> ApiResult<GetProgrammeReportResponse> {
        let mut violations = FieldViolations::new();
        let (from, until) = validate::time_range(&mut violations, "period", req.period.as_ref());
        // Both ends are required; an end that is set but invalid is already named.
        match &req.period {
            None => violations.add("period", "must be set"),
            Some(period) => {
                if period.start_time.is_none() {
                    violations.add("period.start_time", "must be set");
                }
                if period.end_time.is_none() {
                    violations.add("period.end_time", "must be set");
                }
            }
        }
        let (from, until) = violations.require(from.zip(until))?;
        // The alliance as the period's last day ended, or today for a period not over.
        let last_day = (until - chrono::TimeDelta::nanoseconds(1)).date_naive();
        let as_of = last_day.min(time::today());

        let figures = store::figures(self.db(), Some(from), Some(until)).await?;
        let notices = store::notice_accuracy(self.db(), None, Some(from), Some(until)).await?;
        let alliance = self
            .inner
            .registry
            .clone()
            .get_alliance_figures(GetAllianceFiguresRequest {
                as_of: Some(time::to_date(as_of)),
            })
            .await
            .map_err(|s| peer_unavailable("the registry", s))?
            .into_inner();
        let requests = match &self.inner.lawenforcement {
            None => None,
            Some(client) => {
                let report = client
                    .clone()
                    .get_transparency_report(GetTransparencyReportRequest { period: req.period })
                    .await
                    .map_err(|s| peer_unavailable("the law-enforcement service", s))?
                    .into_inner();
                let outcomes = report.from_requests.unwrap_or_default();
                Some(ProgrammeRequests {
                    received: report.requests,
                    answered: report.requests_answered,
                    arrests: outcomes.arrests,
                    seized_units: outcomes.seized_units,
                    convictions: outcomes.convictions,
                })
            }
        };
        let source = |s: CaseSource| figures.by_source.get(s.as_str_name()).copied().unwrap_or(0);
        Ok(GetProgrammeReportResponse {
            period: req.period,
            alliance: Some(ProgrammeAlliance {
                as_of: Some(time::to_date(as_of)),
                active_members: alliance.active_members,
                brands_represented: alliance.brands_represented,
                protected_brands: alliance.protected_brands,
                member_countries: alliance.member_countries,
            }),
            proactive: Some(ProgrammeRemovals {
                screening_alerts: source(CaseSource::ScreeningAlert),
                staff_cases: source(CaseSource::Staff),
                listings_taken_down: figures.listings_taken_down
                    - figures.listings_taken_down_on_notices,
            }),
            notices: Some(ProgrammeNotices {
                filed: notices.notices,
                upheld: notices.upheld,
                rejected: notices.rejected,
                overturned: notices.overturned,
                pending: notices.pending,
                listings_taken_down: figures.listings_taken_down_on_notices,
                counter_notices: figures.counter_notices,
                listings_reinstated: figures.listings_reinstated,
                by_reason: convert::reason_figures(
                    &figures.notices_by_reason,
                    &figures.takedowns_by_reason,
                ),
            }),
            referrals: Some(ProgrammeReferrals {
                referred: figures.referrals,
                arrests: figures.arrests,
                seized_units: figures.seized_units,
                seized_value: convert::seized_values(&figures.seized_value),
                convictions: figures.convictions,
            }),
            requests,
        })
    }
}

/// A peer that could not be asked: the report is not given in part.
fn peer_unavailable(peer: &str, status: tonic::Status) -> ApiError {
    ApiError::Unavailable(format!(
        "{peer} could not be asked for its figures ({}); try again",
        status.message()
    ))
}
