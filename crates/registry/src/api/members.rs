//! Members of the alliance: rights holders, agents and marketplaces.

use super::*;

impl RegistryApi {
    pub(super) async fn create_member(
        &self,
        principal: &Principal,
        req: CreateMemberRequest,
    ) -> ApiResult<Member> {
        let mut violations = FieldViolations::new();
        let key = Key::of("CreateMember", principal, &mut violations, &req);
        let spec = match &req.member {
            Some(member) => member_domain::validate(member, "member", &mut violations),
            None => {
                violations.add("member", "must be set");
                None
            }
        };
        let spec = violations.require(spec)?;
        let txn = self.db.begin().await?;
        let model = create_once(
            &txn,
            key.as_ref(),
            async |existing| store::get_member(&txn, &MemberId::from_trusted(existing)).await,
            async || {
                let id = MemberId::generate();
                let model = store::insert_member(&txn, &id, &spec, time::now()).await?;
                tracing::info!(member_id = %id, "member created");
                Ok((id.into_string(), model))
            },
        )
        .await?;
        txn.commit().await?;
        convert::member(&model.into_inner())
    }

    pub(super) async fn get_member(
        &self,
        principal: &Principal,
        req: GetMemberRequest,
    ) -> ApiResult<Member> {
        let id = id_arg("id", &req.id, MemberId::parse)?;
        principal.scope(Owner::Members(&[id.as_str()]), "member", id.as_str())?;
        convert::member(&store::get_member(&self.db, &id).await?)
    }

    pub(super) async fn list_members(
        &self,
        principal: &Principal,
        req: ListMembersRequest,
    ) -> ApiResult<ListMembersResponse> {
        let size = page_size(req.page_size)?;
        let mut violations = FieldViolations::new();
        let status = violations
            .check("status", validate::optional_enum(req.status))
            .flatten();
        let kind = violations
            .check("kind", validate::optional_enum(req.kind))
            .flatten();
        let country_code = (!req.country_code.is_empty())
            .then(|| violations.check("country_code", validate::country_code(&req.country_code)))
            .flatten();
        violations.into_result(())?;
        let filter = store::MemberFilter {
            only_id: own_member(principal),
            status,
            kind,
            country_code,
        };
        let scope = format!("ListMembers|{filter:?}");
        let after = self.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_members(&self.db, &filter, after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .page_tokens
            .page(&scope, rows, size, |m| m.id.to_string());
        Ok(ListMembersResponse {
            members: rows.iter().map(convert::member).collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    pub(super) async fn update_member(
        &self,
        principal: &Principal,
        req: UpdateMemberRequest,
    ) -> ApiResult<Member> {
        let update = validate::present("member", req.member)?;
        let id = id_arg("member.id", &update.id, MemberId::parse)?;
        principal.scope(Owner::Members(&[id.as_str()]), "member", id.as_str())?;
        const FIELDS: &[&str] = &[
            "legal_name",
            "display_name",
            "kind",
            "country_code",
            "contacts",
            "website",
        ];
        const SELF_SERVICE: &[&str] = &["display_name", "contacts", "website"];
        let paths = mask_paths(req.update_mask.as_ref(), FIELDS)?;
        if !principal.has_role(&[Role::Admin])
            && let Some(field) = paths.iter().find(|p| !SELF_SERVICE.contains(p))
        {
            return Err(ApiError::denied(format!(
                "only an admin may change a member's {field}; send an update_mask without it"
            )));
        }

        let txn = self.db.begin().await?;
        let current = store::get_member(&txn, &id).await?;
        check_etag(&update.etag, current.version, "member")?;
        let mut merged = convert::member(&current)?;
        for path in &paths {
            match *path {
                "legal_name" => merged.legal_name = update.legal_name.clone(),
                "display_name" => merged.display_name = update.display_name.clone(),
                "kind" => merged.kind = update.kind,
                "country_code" => merged.country_code = update.country_code.clone(),
                "contacts" => merged.contacts = update.contacts.clone(),
                "website" => merged.website = update.website.clone(),
                _ => {}
            }
        }
        let mut violations = FieldViolations::new();
        let spec = member_domain::validate(&merged, "member", &mut violations);
        let spec = violations.require(spec)?;
        let model = store::update_member(&txn, current, &spec, time::now()).await?;
        txn.commit().await?;
        convert::member(&model)
    }

    pub(super) async fn transition_member(
        &self,
        id: &str,
        etag: &str,
        reason: &str,
        transition: member_domain::Transition,
    ) -> ApiResult<(Member, i64)> {
        let mut violations = FieldViolations::new();
        let id = violations.check("id", MemberId::parse(id));
        let reason = violations.check(
            "reason",
            reason_text(reason, transition != member_domain::Transition::Activate),
        );
        let (id, reason) = violations.finish(|| (id.unwrap(), reason.unwrap()))?;

        let txn = self.db.begin().await?;
        let current = store::get_member(&txn, &id).await?;
        check_etag(etag, current.version, "member")?;
        let from = store::member_status(&current.status)?;
        let to = member_domain::transition(from, transition).map_err(ApiError::precondition)?;
        let now = time::now();
        let model = store::set_member_status(&txn, current, to, &reason, now).await?;
        let brands = store::member_brand_ids(&txn, &id).await?;
        let revision = store::refresh_catalogue(&txn, &brands, now.date_naive(), now).await?;
        txn.commit().await?;
        self.directory.forget_member(id.as_str());
        self.hub.published(revision);
        tracing::info!(member_id = %id, status = to.as_str_name(), "member status changed");
        Ok((convert::member(&model)?, revision.unwrap_or(0)))
    }
}
