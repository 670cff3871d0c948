//! Rules: what members and staff add to the engine, with their revisions.

use super::*;

impl ScreeningApi {
    /// Keeps a member to the rules of brands it acts for: a rule of another brand, or a
    /// global one (empty `brand_id`), answers as a missing `kind id`.
    fn scope_rule(
        &self,
        principal: &Principal,
        brand_id: &str,
        kind: &'static str,
        id: &str,
    ) -> ApiResult<()> {
        let Some(member_id) = principal.member_id() else {
            return Ok(());
        };
        if !brand_id.is_empty() && self.engines.catalogue().acts_for(member_id, brand_id) {
            Ok(())
        } else {
            Err(ApiError::not_found(kind, id))
        }
    }

    fn check_brand(&self, field: &str, brand_id: &str) -> ApiResult<()> {
        if brand_id.is_empty() {
            return Ok(());
        }
        BrandId::parse(brand_id).map_err(|e| ApiError::invalid(field, e))?;
        if !self.engines.catalogue().brands.contains_key(brand_id) {
            return Err(ApiError::precondition(format!(
                "brand {brand_id} is not in the catalogue of protected brands"
            )));
        }
        Ok(())
    }

    pub(super) async fn create_rule(
        &self,
        principal: &Principal,
        req: CreateRuleRequest,
    ) -> ApiResult<Rule> {
        let rule = validate::present("rule", req.rule.as_ref())?;
        let mut violations = FieldViolations::new();
        let key = Key::of("CreateRule", principal, &mut violations, &req);
        let spec = rule_domain::validate(rule, "rule", &mut violations);
        let spec = violations.require(spec)?;
        if principal.member_id().is_some() && rule.brand_id.is_empty() {
            return Err(ApiError::denied(
                "members write rules for their own brands: global rules are the marketplace's",
            ));
        }
        self.scope_rule(principal, &rule.brand_id, "brand", &rule.brand_id)?;
        self.check_brand("rule.brand_id", &rule.brand_id)?;
        let txn = self.db.begin().await?;
        let model = create_once(
            &txn,
            key.as_ref(),
            async |existing| store::get_rule(&txn, &RuleId::from_trusted(existing)).await,
            async || {
                let id = RuleId::generate();
                let model = store::insert_rule(
                    &txn,
                    &id,
                    &rule.brand_id,
                    &spec,
                    &principal.actor(),
                    time::now(),
                )
                .await?;
                Ok((id.into_string(), model))
            },
        )
        .await?;
        txn.commit().await?;
        if model.is_created() {
            self.rules_changed().await;
        }
        convert::rule(&model.into_inner())
    }

    /// After a rule change: reload the rules, and wait briefly for the engine that uses
    /// them, so the caller's next screening sees the change.
    pub(super) async fn rules_changed(&self) {
        match self.engines.refresh_rules(&self.db).await {
            Ok(version) => {
                if !self
                    .engines
                    .wait_for_rules(version, std::time::Duration::from_secs(5))
                    .await
                {
                    tracing::warn!(version, "the engine did not pick up the new rules in time");
                }
            }
            Err(error) => tracing::warn!(%error, "reloading rules failed; the poller will retry"),
        }
    }

    pub(super) async fn get_rule(
        &self,
        principal: &Principal,
        req: GetRuleRequest,
    ) -> ApiResult<Rule> {
        let id = RuleId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let model = store::get_rule(&self.db, &id).await?;
        self.scope_rule(principal, &model.brand_id, "rule", id.as_str())?;
        convert::rule(&model)
    }

    pub(super) async fn list_rules(
        &self,
        principal: &Principal,
        req: ListRulesRequest,
    ) -> ApiResult<ListRulesResponse> {
        let size = page_size(req.page_size)?;
        if !req.brand_id.is_empty() {
            BrandId::parse(&req.brand_id).map_err(|e| ApiError::invalid("brand_id", e))?;
            self.scope_rule(principal, &req.brand_id, "brand", &req.brand_id)?;
        }
        let brand_ids: Option<Vec<String>> = match (req.brand_id.is_empty(), principal) {
            (false, _) => Some(vec![req.brand_id.clone()]),
            (true, Principal::Member { member_id, .. }) => {
                Some(self.engines.catalogue().brands_of(member_id))
            }
            (true, _) => None,
        };
        let scope = format!("ListRules|{:?}", brand_ids);
        let after = self.page_tokens.decode(&scope, &req.page_token)?;
        let rows =
            store::list_rules(&self.db, brand_ids.as_deref(), after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .page_tokens
            .page(&scope, rows, size, |r| r.id.to_string());
        Ok(ListRulesResponse {
            rules: rows.iter().map(convert::rule).collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    pub(super) async fn update_rule(
        &self,
        principal: &Principal,
        req: UpdateRuleRequest,
    ) -> ApiResult<Rule> {
        let update = validate::present("rule", req.rule)?;
        let id = RuleId::parse(&update.id).map_err(|e| ApiError::invalid("rule.id", e))?;
        const FIELDS: &[&str] = &[
            "description",
            "vocabulary",
            "review_threshold",
            "block_threshold",
            "ambiguous_terms",
        ];
        let paths = mask_paths(req.update_mask.as_ref(), FIELDS)?;
        let txn = self.db.begin().await?;
        let current = store::get_rule(&txn, &id).await?;
        self.scope_rule(principal, &current.brand_id, "rule", id.as_str())?;
        check_etag(&update.etag, current.version, "rule")?;
        let mut merged = convert::rule(&current)?;
        for path in &paths {
            match *path {
                "description" => merged.description = update.description.clone(),
                "vocabulary" => merged.vocabulary = update.vocabulary.clone(),
                "review_threshold" => merged.review_threshold = update.review_threshold,
                "block_threshold" => merged.block_threshold = update.block_threshold,
                "ambiguous_terms" => merged.ambiguous_terms = update.ambiguous_terms.clone(),
                _ => {}
            }
        }
        let mut violations = FieldViolations::new();
        let spec = rule_domain::validate(&merged, "rule", &mut violations);
        let spec = violations.require(spec)?;
        let model =
            store::update_rule(&txn, current, &spec, &principal.actor(), time::now()).await?;
        txn.commit().await?;
        self.rules_changed().await;
        convert::rule(&model)
    }

    pub(super) async fn delete_rule(
        &self,
        principal: &Principal,
        req: DeleteRuleRequest,
    ) -> ApiResult<()> {
        let id = RuleId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let txn = self.db.begin().await?;
        let current = store::get_rule(&txn, &id).await?;
        self.scope_rule(principal, &current.brand_id, "rule", id.as_str())?;
        check_etag(&req.etag, current.version, "rule")?;
        store::delete_rule(&txn, current, &principal.actor(), time::now()).await?;
        txn.commit().await?;
        self.rules_changed().await;
        Ok(())
    }

    pub(super) async fn list_rule_revisions(
        &self,
        principal: &Principal,
        req: ListRuleRevisionsRequest,
    ) -> ApiResult<ListRuleRevisionsResponse> {
        let id = RuleId::parse(&req.rule_id).map_err(|e| ApiError::invalid("rule_id", e))?;
        let size = page_size(req.page_size)?;
        let revisions_scope = format!("ListRuleRevisions|{id}");
        let before = self
            .page_tokens
            .decode_number(&revisions_scope, &req.page_token)?;
        let rows = store::list_revisions(&self.db, id.as_str(), before, size + 1).await?;
        let Some(newest) = rows.first() else {
            return Err(ApiError::not_found("rule", id.as_str()));
        };
        let brand_id = Rule::decode(newest.body.as_slice())
            .map(|r| r.brand_id)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("corrupt rule revision: {e}")))?;
        self.scope_rule(principal, &brand_id, "rule", id.as_str())?;
        let (rows, next_page_token) = self
            .page_tokens
            .page(&revisions_scope, rows, size, |r| r.version.to_string());
        let revisions = rows
            .iter()
            .map(|r| {
                Ok(RuleRevision {
                    rule: Some(Rule::decode(r.body.as_slice()).map_err(|e| {
                        ApiError::internal(anyhow::anyhow!("corrupt rule revision: {e}"))
                    })?),
                    deleted: r.deleted,
                    rule_set_version: r.rule_set_version,
                })
            })
            .collect::<ApiResult<_>>()?;
        Ok(ListRuleRevisionsResponse {
            revisions,
            next_page_token,
        })
    }
}
