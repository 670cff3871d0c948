//! Delegations: an agent acting for a member's brands.

use super::*;

impl RegistryApi {
    pub(super) async fn create_delegation(
        &self,
        principal: &Principal,
        req: CreateDelegationRequest,
    ) -> ApiResult<(Delegation, i64)> {
        let mut violations = FieldViolations::new();
        let key = Key::of("CreateDelegation", principal, &mut violations, &req);
        let delegation = validate::present("delegation", req.delegation.as_ref())?;
        let agent = parse_id(
            &mut violations,
            "delegation.agent_member_id",
            &delegation.agent_member_id,
            MemberId::parse,
        );
        let principal_member = match (
            delegation.principal_member_id.as_str(),
            principal.member_id(),
        ) {
            // The caller's own member id, checked live when it authenticated.
            ("", Some(own)) => Some(MemberId::from_trusted(own.to_owned())),
            ("", None) => {
                violations.add("delegation.principal_member_id", "must be set");
                None
            }
            (id, _) => parse_id(
                &mut violations,
                "delegation.principal_member_id",
                id,
                MemberId::parse,
            ),
        };
        let brand_ids = validate::each(
            &mut violations,
            "delegation.brand_ids",
            &delegation.brand_ids,
            1..=MAX_DELEGATED_BRANDS,
            |id| BrandId::parse(id),
        );
        let now = time::now();
        let expire_time = match &delegation.expire_time {
            None => None,
            Some(ts) => match time::from_timestamp(ts) {
                Ok(t) if t > now => Some(t),
                Ok(_) => {
                    violations.add("delegation.expire_time", "must be in the future");
                    None
                }
                Err(e) => {
                    violations.add("delegation.expire_time", e);
                    None
                }
            },
        };
        if let (Some(agent), Some(principal_member)) = (&agent, &principal_member)
            && agent == principal_member
        {
            violations.add(
                "delegation.agent_member_id",
                "a member cannot delegate to itself",
            );
        }
        let (agent, principal_member) = violations.require(agent.zip(principal_member))?;
        principal.scope(
            Owner::Members(&[principal_member.as_str()]),
            "member",
            principal_member.as_str(),
        )?;
        let txn = self.db.begin().await?;
        let (model, brand_ids, revision) = create_once(
            &txn,
            key.as_ref(),
            async |existing| {
                let model =
                    store::get_delegation(&txn, &DelegationId::from_trusted(existing)).await?;
                let brands = store::delegation_brand_ids(&txn, &model.id).await?;
                Ok((model, brands, None))
            },
            async || {
                let agent_model = store::get_member(&txn, &agent).await?;
                if store::member_kind(&agent_model.kind)? != MemberKind::Agent {
                    return Err(ApiError::precondition(
                        "the agent member is not of kind AGENT",
                    ));
                }
                if store::member_status(&agent_model.status)? != MemberStatus::Active {
                    return Err(ApiError::precondition("the agent member is not ACTIVE"));
                }
                let principal_model = store::get_member(&txn, &principal_member).await?;
                if store::member_status(&principal_model.status)? != MemberStatus::Active {
                    return Err(ApiError::precondition("the principal member is not ACTIVE"));
                }
                let mut bad = FieldViolations::new();
                for (i, brand_id) in brand_ids.iter().enumerate() {
                    match store::get_brand(&txn, brand_id).await {
                        Ok(brand) if brand.member_id == principal_member => {}
                        Ok(_) => bad.add(
                            format!("delegation.brand_ids[{i}]"),
                            "is not a brand of the principal member",
                        ),
                        Err(ApiError::NotFound { .. }) => {
                            bad.add(format!("delegation.brand_ids[{i}]"), "no such brand")
                        }
                        Err(other) => return Err(other),
                    }
                }
                bad.into_result(())?;
                let id = DelegationId::generate();
                let model = store::insert_delegation(
                    &txn,
                    &id,
                    &agent,
                    &principal_member,
                    &brand_ids,
                    expire_time,
                    now,
                )
                .await?;
                let revision =
                    store::refresh_catalogue(&txn, &brand_ids, now.date_naive(), now).await?;
                tracing::info!(delegation_id = %id, agent = %agent, "delegation created");
                Ok((id.into_string(), (model, brand_ids, Some(revision))))
            },
        )
        .await?
        .into_inner();
        txn.commit().await?;
        let revision = revision.flatten();
        self.hub.published(revision);
        // A retried create reports no revision: the first answer carried it.
        Ok((
            convert::delegation(&model, brand_ids),
            revision.unwrap_or(0),
        ))
    }

    pub(super) async fn get_delegation(
        &self,
        principal: &Principal,
        req: GetDelegationRequest,
    ) -> ApiResult<Delegation> {
        let id = id_arg("id", &req.id, DelegationId::parse)?;
        let model = store::get_delegation(&self.db, &id).await?;
        scope_delegation(principal, &model)?;
        let brands = store::delegation_brand_ids(&self.db, &model.id).await?;
        Ok(convert::delegation(&model, brands))
    }

    pub(super) async fn list_delegations(
        &self,
        principal: &Principal,
        req: ListDelegationsRequest,
    ) -> ApiResult<ListDelegationsResponse> {
        let size = page_size(req.page_size)?;
        let mut violations = FieldViolations::new();
        let agent = (!req.agent_member_id.is_empty())
            .then(|| {
                parse_id(
                    &mut violations,
                    "agent_member_id",
                    &req.agent_member_id,
                    MemberId::parse,
                )
            })
            .flatten();
        let principal_member = (!req.principal_member_id.is_empty())
            .then(|| {
                parse_id(
                    &mut violations,
                    "principal_member_id",
                    &req.principal_member_id,
                    MemberId::parse,
                )
            })
            .flatten();
        violations.into_result(())?;
        let filter = store::DelegationFilter {
            agent_member_id: agent,
            principal_member_id: principal_member,
            party: own_member(principal),
        };
        let scope = format!("ListDelegations|{filter:?}");
        let after = self.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_delegations(&self.db, &filter, after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .page_tokens
            .page(&scope, rows, size, |d| d.id.to_string());
        let mut delegations = Vec::with_capacity(rows.len());
        for row in &rows {
            let brands = store::delegation_brand_ids(&self.db, &row.id).await?;
            delegations.push(convert::delegation(row, brands));
        }
        Ok(ListDelegationsResponse {
            delegations,
            next_page_token,
        })
    }

    pub(super) async fn delete_delegation(
        &self,
        principal: &Principal,
        req: DeleteDelegationRequest,
    ) -> ApiResult<i64> {
        let id = id_arg("id", &req.id, DelegationId::parse)?;
        let txn = self.db.begin().await?;
        let current = store::get_delegation(&txn, &id).await?;
        principal.scope(
            Owner::Members(&[
                current.agent_member_id.as_str(),
                current.principal_member_id.as_str(),
            ]),
            "delegation",
            id.as_str(),
        )?;
        check_etag(&req.etag, current.version, "delegation")?;
        let now = time::now();
        let brands = store::delete_delegation(&txn, current, now).await?;
        let revision = store::refresh_catalogue(&txn, &brands, now.date_naive(), now).await?;
        txn.commit().await?;
        self.hub.published(revision);
        Ok(revision.unwrap_or(0))
    }
}

/// A delegation is its two members' (and staff's): anyone else finds none.
pub(super) fn scope_delegation(
    principal: &Principal,
    model: &crate::entity::delegation::Model,
) -> ApiResult<()> {
    principal.scope(
        Owner::Members(&[
            model.agent_member_id.as_str(),
            model.principal_member_id.as_str(),
        ]),
        "delegation",
        model.id.as_str(),
    )
}
