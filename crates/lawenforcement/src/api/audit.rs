//! The transparency report and the audit log.

use super::*;

impl LawEnforcementApi {
    pub(super) async fn get_transparency_report(
        &self,
        req: GetTransparencyReportRequest,
    ) -> ApiResult<GetTransparencyReportResponse> {
        let mut violations = FieldViolations::new();
        let (from, until) = validate::time_range(&mut violations, "period", req.period.as_ref());
        violations.into_result(())?;
        let within = |t: Option<&prost_types::Timestamp>| {
            let Some(t) = t.and_then(|t| time::from_timestamp(t).ok()) else {
                return false;
            };
            from.is_none_or(|f| t >= f) && until.is_none_or(|u| t < u)
        };
        let mut report = GetTransparencyReportResponse::default();
        #[derive(Default)]
        struct Tally {
            requests: i64,
            accounts: BTreeSet<String>,
            produced: i64,
        }
        let mut by_process: BTreeMap<String, Tally> = BTreeMap::new();
        let mut by_country: BTreeMap<String, Tally> = BTreeMap::new();
        let mut accounts: BTreeSet<String> = BTreeSet::new();
        let mut decided = 0i64;
        let mut produced = 0i64;
        for model in store::requests_in(self.db(), from, until).await? {
            let body = convert::request(&model)?;
            let status = store::status_of(&model)?;
            let sellers: BTreeSet<String> = body
                .targets
                .iter()
                .filter(|t| t.kind == TargetKind::Seller as i32)
                .map(|t| t.id.to_string())
                .collect();
            let disclosed = body
                .package
                .as_ref()
                .is_some_and(|p| p.expire_time.is_some() && !p.items.is_empty());
            if body.review_decision != ReviewDecision::Unspecified as i32 {
                decided += 1;
            }
            report.requests += 1;
            report.emergency_requests += i64::from(body.emergency);
            report.rejected += i64::from(status == RequestStatus::Rejected);
            produced += i64::from(disclosed);
            for (tallies, key) in [
                (&mut by_process, model.process.clone()),
                (&mut by_country, model.country_code.clone()),
            ] {
                let tally = tallies.entry(key).or_default();
                tally.requests += 1;
                tally.accounts.extend(sellers.iter().cloned());
                tally.produced += i64::from(disclosed);
            }
            accounts.extend(sellers);
        }
        // Outcomes count in the period they were reported in, whenever the request was.
        // Apart, as the programme publishes them, and added up.
        let add = |totals: &mut OutcomeTotals, outcome: &Outcome| -> ApiResult<()> {
            validate::add_to(&mut totals.arrests, outcome.arrests.into())?;
            validate::add_to(&mut totals.seized_units, outcome.seized_units)?;
            validate::add_to(&mut totals.convictions, outcome.convictions.into())
        };
        let mut from_requests = OutcomeTotals::default();
        for model in store::all_requests(self.db()).await? {
            for outcome in convert::request(&model)?.outcomes {
                if within(outcome.report_time.as_ref()) {
                    add(&mut from_requests, &outcome)?;
                }
            }
        }
        let mut from_referrals = OutcomeTotals::default();
        for model in store::all_referrals(self.db()).await? {
            let body = convert::referral(&model)?;
            if within(body.receive_time.as_ref()) {
                report.referrals += 1;
            }
            for outcome in body.outcomes {
                if within(outcome.report_time.as_ref()) {
                    add(&mut from_referrals, &outcome)?;
                }
            }
        }
        for totals in [&from_requests, &from_referrals] {
            validate::add_to(&mut report.arrests, totals.arrests)?;
            validate::add_to(&mut report.seized_units, totals.seized_units)?;
            validate::add_to(&mut report.convictions, totals.convictions)?;
        }
        report.from_requests = Some(from_requests);
        report.from_referrals = Some(from_referrals);
        let rows = |tallies: BTreeMap<String, Tally>, prefix: &str| {
            tallies
                .into_iter()
                .map(|(key, t)| RequestCount {
                    key: key.strip_prefix(prefix).unwrap_or(&key).to_owned(),
                    requests: t.requests,
                    accounts_specified: t.accounts.len() as i64,
                    with_data_produced: t.produced,
                })
                .collect()
        };
        report.by_process = rows(by_process, "LEGAL_PROCESS_");
        report.by_country = rows(by_country, "");
        report.accounts_specified = accounts.len() as i64;
        report.requests_answered = produced;
        report.share_with_data_produced = if decided == 0 {
            0.0
        } else {
            produced as f64 / decided as f64
        };
        Ok(report)
    }

    pub(super) async fn list_audit_entries(
        &self,
        req: ListAuditEntriesRequest,
    ) -> ApiResult<ListAuditEntriesResponse> {
        let size = page_size(req.page_size)?;
        let resource = (!req.resource.is_empty()).then_some(req.resource.as_str());
        let scope = format!("ListAuditEntries|{resource:?}");
        let after = self
            .inner
            .page_tokens
            .decode(&scope, &req.page_token)?
            .map(|c| c.parse::<i64>())
            .transpose()
            .map_err(|_| ApiError::invalid("page_token", "is not a token of this request"))?;
        let rows = audit_log::list(self.db(), resource, after, size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |e| e.sequence.to_string());
        Ok(ListAuditEntriesResponse {
            entries: rows
                .into_iter()
                .map(|e| AuditEntry {
                    sequence: e.sequence,
                    time: Some(time::to_timestamp(e.time)),
                    actor: e.actor,
                    action: e.action,
                    resource: e.resource,
                    outcome: e.outcome,
                    detail: e.detail,
                    previous_hash: e.previous_hash,
                    hash: e.hash,
                })
                .collect(),
            next_page_token,
        })
    }

    pub(super) async fn verify_audit_log(&self) -> ApiResult<VerifyAuditLogResponse> {
        let result = self.inner.audit.verify(self.db()).await?;
        let (first_broken_sequence, problem) = result.broken.clone().unwrap_or_default();
        if result.broken.is_some() {
            tracing::error!(first_broken_sequence, %problem, "the audit log does not verify");
        }
        Ok(VerifyAuditLogResponse {
            valid: result.broken.is_none(),
            entries_checked: result.checked,
            first_broken_sequence,
            problem,
        })
    }
}
