//! The work queue: reading cases and their timelines, assignment, bulk work and merging.

use super::*;

impl CasesApi {
    pub(super) async fn get_case(
        &self,
        principal: &Principal,
        req: GetCaseRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let model = store::find_case(self.db(), &id).await?;
        self.scope_case(self.db(), principal, &id, "case", id.as_str())
            .await?;
        self.respond(&model).await
    }

    pub(super) async fn list_cases(
        &self,
        principal: &Principal,
        req: ListCasesRequest,
    ) -> ApiResult<ListCasesResponse> {
        let size = page_size(req.page_size)?;
        let mut violations = FieldViolations::new();
        let statuses = validate::each(&mut violations, "statuses", &req.statuses, 0..=20, |s| {
            validate::required_enum::<CaseStatus>(*s)
        });
        let source = violations
            .check("source", validate::optional_enum::<CaseSource>(req.source))
            .flatten();
        let reason = violations
            .check(
                "reason_code",
                validate::optional_enum::<ReasonCode>(req.reason_code),
            )
            .flatten();
        let assignee = violations.check("assignee", check::assignee(&req.assignee));
        violations.check_optional("brand_id", &req.brand_id, BrandId::parse);
        violations.check_optional("seller_id", &req.seller_id, validate::external_id);
        violations.check_optional("listing_id", &req.listing_id, validate::external_id);
        violations.check_optional("tag", &req.tag, validate::slug);
        let (from, until) =
            validate::time_range(&mut violations, "create_time", req.create_time.as_ref());
        violations.into_result(())?;
        let brand_ids = self.catalogue()?.brands_to_list(principal, &req.brand_id)?;
        let now = time::now();
        let filter = store::CaseFilter {
            brand_ids,
            statuses,
            source,
            assignee: assignee.filter(|a| !a.is_empty()),
            seller_id: (!req.seller_id.is_empty()).then(|| req.seller_id.clone()),
            listing_id: (!req.listing_id.is_empty()).then(|| req.listing_id.clone()),
            tag: (!req.tag.is_empty()).then(|| req.tag.clone()),
            reason,
            overdue_at: req.overdue_only.then_some(now),
            from,
            until,
        };
        // The scope pins the filter (not the moment of an overdue listing).
        let scope = format!(
            "ListCases|{:?}",
            store::CaseFilter {
                overdue_at: None,
                ..filter.clone()
            }
        ) + if req.overdue_only { "|overdue" } else { "" };
        let before = self.inner.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_cases(self.db(), &filter, before.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |c| c.id.to_string());
        Ok(ListCasesResponse {
            cases: encode(self.db(), &rows, now).await?,
            next_page_token,
        })
    }

    pub(super) async fn list_case_events(
        &self,
        principal: &Principal,
        req: ListCaseEventsRequest,
    ) -> ApiResult<ListCaseEventsResponse> {
        let id = case_id("case_id", &req.case_id)?;
        let size = page_size(req.page_size)?;
        store::find_case(self.db(), &id).await?;
        self.scope_case(self.db(), principal, &id, "case", id.as_str())
            .await?;
        let scope = format!("ListCaseEvents|{id}");
        let after = self
            .inner
            .page_tokens
            .decode_number(&scope, &req.page_token)?;
        let rows = store::list_events(self.db(), &id, after, size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |e| e.sequence.to_string());
        Ok(ListCaseEventsResponse {
            events: rows.iter().map(convert::event).collect(),
            next_page_token,
        })
    }

    /// Assigns one case inside `txn` (refusing final cases).
    async fn assign_in(
        &self,
        txn: &DatabaseTransaction,
        current: &case::Model,
        assignee: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<case::Model> {
        let status = store::status_of(current)?;
        match moves::assign(current.id.as_str(), status, &current.assignee, assignee)
            .map_err(ApiError::precondition)?
        {
            Some(event) => store::assign(txn, current, assignee, event, actor, now).await,
            None => Ok(current.clone()),
        }
    }

    pub(super) async fn assign_case(
        &self,
        principal: &Principal,
        req: AssignCaseRequest,
    ) -> ApiResult<Case> {
        let id = case_id("id", &req.id)?;
        let assignee =
            check::assignee(&req.assignee).map_err(|e| ApiError::invalid("assignee", e))?;
        let now = time::now();
        let txn = self.db().begin().await?;
        let current = store::find_case(&txn, &id).await?;
        check_etag(&req.etag, current.version, "case")?;
        let model = self
            .assign_in(&txn, &current, &assignee, &principal.actor(), now)
            .await?;
        txn.commit().await?;
        self.respond(&model).await
    }

    pub(super) async fn bulk_update_cases(
        &self,
        principal: &Principal,
        req: BulkUpdateCasesRequest,
    ) -> ApiResult<BulkUpdateCasesResponse> {
        use bulk_update_cases_request::Action as Bulk;
        let mut violations = FieldViolations::new();
        let ids = validate::each(
            &mut violations,
            "case_ids",
            &req.case_ids,
            1..=MAX_BULK,
            |id| CaseId::parse(id),
        );
        match &req.action {
            None => violations.add("action", "must be set: assign_to, close_note or tags"),
            Some(Bulk::AssignTo(who)) => {
                violations.check("assign_to", check::assignee(who));
            }
            Some(Bulk::CloseNote(text)) => {
                violations.check("close_note", validate::text(text, 2000));
            }
            Some(Bulk::Tags(change)) => {
                if change.add.is_empty() && change.remove.is_empty() {
                    violations.add("tags", "must add or remove at least one tag");
                }
                for (field, tags) in [("tags.add", &change.add), ("tags.remove", &change.remove)] {
                    validate::each(&mut violations, field, tags, 0..=20, |t| validate::slug(t));
                }
            }
        }
        violations.into_result(())?;
        let action = req.action.unwrap_or(Bulk::CloseNote(String::new()));
        let now = time::now();
        let actor = principal.actor();
        // All or nothing: one transaction, and the first case that cannot take the change
        // fails the whole request, naming it.
        let txn = self.db().begin().await?;
        let mut changed = Vec::with_capacity(ids.len());
        for id in &ids {
            let current = store::find_case(&txn, id).await?;
            let status = store::status_of(&current)?;
            let model = match &action {
                Bulk::AssignTo(who) => {
                    self.assign_in(&txn, &current, who.trim(), &actor, now)
                        .await?
                }
                Bulk::CloseNote(text) => {
                    let mv = moves::close(status, text.trim())
                        .map_err(|e| ApiError::precondition(e.context(format!("case {id}"))))?;
                    self.apply(&txn, &current, &mv, &actor, now).await?
                }
                Bulk::Tags(change) => {
                    let event = moves::retag(
                        id.as_str(),
                        status,
                        &current.merged_into,
                        &change.add,
                        &change.remove,
                    )
                    .map_err(ApiError::precondition)?;
                    store::set_tags(&txn, id, &change.add, &change.remove).await?;
                    store::append_event(&txn, id, event, &actor, now).await?;
                    store::touch_case(&txn, &current, now).await?
                }
            };
            changed.push(model);
        }
        txn.commit().await?;
        // Its moves may have queued feedback for screening.
        self.inner.relay.wake();
        Ok(BulkUpdateCasesResponse {
            cases: encode(self.db(), &changed, now).await?,
        })
    }

    pub(super) async fn merge_cases(
        &self,
        principal: &Principal,
        req: MergeCasesRequest,
    ) -> ApiResult<Case> {
        let mut violations = FieldViolations::new();
        let target = violations.check("target_case_id", CaseId::parse(&req.target_case_id));
        let sources = validate::each(
            &mut violations,
            "source_case_ids",
            &req.source_case_ids,
            1..=MAX_MERGE,
            |id| CaseId::parse(id),
        );
        if let Some(target) = &target
            && let Some(i) = sources.iter().position(|s| s == target)
        {
            violations.add(format!("source_case_ids[{i}]"), "is the target itself");
        }
        let target = violations.require(target)?;
        let now = time::now();
        let actor = principal.actor();
        let txn = self.db().begin().await?;
        let current_target = store::find_case(&txn, &target).await?;
        moves::merge_into(store::status_of(&current_target)?)
            .map_err(|e| ApiError::precondition(e.context(format!("target case {target}"))))?;
        for source in &sources {
            let current = store::find_case(&txn, source).await?;
            let mv = moves::merge_away(store::status_of(&current)?, target.as_str())
                .map_err(|e| ApiError::precondition(e.context(format!("case {source}"))))?;
            let moved = store::move_case_contents(&txn, source, &target).await?;
            let custody = format!("moved from case {source} to case {target} by a merge");
            for item in &moved {
                store::append_custody(
                    &txn,
                    item,
                    CustodyAction::Transferred,
                    &actor,
                    &custody,
                    now,
                )
                .await?;
            }
            self.apply(&txn, &current, &mv, &actor, now).await?;
            store::append_event(
                &txn,
                &target,
                Event::new(
                    CaseEventKind::Merged,
                    format!(
                        "case {source} merged into this one ({} evidence moved)",
                        moved.len()
                    ),
                ),
                &actor,
                now,
            )
            .await?;
        }
        let model = store::touch_case(&txn, &current_target, now).await?;
        txn.commit().await?;
        // Its moves may have queued feedback for screening.
        self.inner.relay.wake();
        self.respond(&model).await
    }
}
