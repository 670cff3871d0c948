//! IP rights: recorded by members, verified by staff.

use super::*;

/// A member's second record of one registration.
fn already_recorded(spec: &right_domain::RightSpec, id: &IpRightId) -> ApiError {
    ApiError::AlreadyExists(format!(
        "registration {} at {} is already recorded as {id}",
        spec.registration_number,
        right_domain::office_name(spec.office),
    ))
}

impl RegistryApi {
    pub(super) async fn create_ip_right(
        &self,
        principal: &Principal,
        req: CreateIpRightRequest,
    ) -> ApiResult<IpRight> {
        let mut violations = FieldViolations::new();
        let key = Key::of("CreateIpRight", principal, &mut violations, &req);
        let right = validate::present("ip_right", req.ip_right.as_ref())?;
        let brand_id = parse_id(
            &mut violations,
            "ip_right.brand_id",
            &right.brand_id,
            BrandId::parse,
        );
        let spec = right_domain::validate(right, "ip_right", &mut violations);
        let (brand_id, spec) = violations.require(brand_id.zip(spec))?;
        let brand = store::get_brand(&self.db, &brand_id).await?;
        self.scope_brand(&self.db, principal, &brand, "brand", brand_id.as_str())
            .await?;
        let today = time::today();
        let txn = self.db.begin().await?;
        let model = create_once(
            &txn,
            key.as_ref(),
            async |existing| store::get_right(&txn, &IpRightId::from_trusted(existing)).await,
            async || {
                // Only the member's own duplicate is refused: another holder's claim to the
                // same registration is staff's to resolve at verification, and is never
                // revealed here.
                if let Some(own) =
                    store::find_registration(&txn, &spec, None, Some(&brand.member_id), None)
                        .await?
                {
                    return Err(already_recorded(&spec, &own.id));
                }
                let owner = store::get_member(&txn, &brand.member_id).await?;
                if store::member_status(&owner.status)? == MemberStatus::Exited {
                    return Err(ApiError::precondition(
                        "the brand's member has exited the alliance",
                    ));
                }
                let id = IpRightId::generate();
                let model = store::insert_right(&txn, &id, &brand, &spec, time::now()).await?;
                tracing::info!(ip_right_id = %id, brand_id = %brand.id, "IP right recorded");
                Ok((id.into_string(), model))
            },
        )
        .await?
        .into_inner();
        txn.commit().await?;
        convert::right(&model, today)
    }

    pub(super) async fn right_and_brand(
        &self,
        id: &IpRightId,
    ) -> ApiResult<(ip_right::Model, brand::Model)> {
        let right = store::get_right(&self.db, id).await?;
        let brand = store::get_brand(&self.db, &right.brand_id).await?;
        Ok((right, brand))
    }

    pub(super) async fn get_ip_right(
        &self,
        principal: &Principal,
        req: GetIpRightRequest,
    ) -> ApiResult<IpRight> {
        let id = id_arg("id", &req.id, IpRightId::parse)?;
        let (right, brand) = self.right_and_brand(&id).await?;
        self.scope_brand(&self.db, principal, &brand, "IP right", id.as_str())
            .await?;
        convert::right(&right, time::today())
    }

    pub(super) async fn list_ip_rights(
        &self,
        principal: &Principal,
        req: ListIpRightsRequest,
    ) -> ApiResult<ListIpRightsResponse> {
        let size = page_size(req.page_size)?;
        let mut violations = FieldViolations::new();
        let brand_id = (!req.brand_id.is_empty())
            .then(|| parse_id(&mut violations, "brand_id", &req.brand_id, BrandId::parse))
            .flatten();
        let member_id = (!req.member_id.is_empty())
            .then(|| {
                parse_id(
                    &mut violations,
                    "member_id",
                    &req.member_id,
                    MemberId::parse,
                )
            })
            .flatten();
        let status = violations
            .check(
                "verification_status",
                validate::optional_enum(req.verification_status),
            )
            .flatten();
        violations.into_result(())?;
        let filter = store::RightFilter {
            brand_id,
            member_id,
            visible_to: own_member(principal),
            status,
        };
        let scope = format!("ListIpRights|{filter:?}");
        let after = self.page_tokens.decode(&scope, &req.page_token)?;
        let now = time::now();
        let today = now.date_naive();
        let rows =
            store::list_rights(&self.db, &filter, after.as_deref(), size + 1, today, now).await?;
        let (rows, next_page_token) = self
            .page_tokens
            .page(&scope, rows, size, |r| r.id.to_string());
        Ok(ListIpRightsResponse {
            ip_rights: rows
                .iter()
                .map(|r| convert::right(r, today))
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    pub(super) async fn update_ip_right(
        &self,
        principal: &Principal,
        req: UpdateIpRightRequest,
    ) -> ApiResult<(IpRight, i64)> {
        let update = validate::present("ip_right", req.ip_right)?;
        let id = id_arg("ip_right.id", &update.id, IpRightId::parse)?;
        const FIELDS: &[&str] = &[
            "kind",
            "office",
            "registration_number",
            "nice_classes",
            "valid_from",
            "valid_until",
        ];
        let paths = mask_paths(req.update_mask.as_ref(), FIELDS)?;
        let (_, brand) = self.right_and_brand(&id).await?;
        self.scope_brand(&self.db, principal, &brand, "IP right", id.as_str())
            .await?;

        let today = time::today();
        let txn = self.db.begin().await?;
        let current = store::get_right(&txn, &id).await?;
        check_etag(&update.etag, current.version, "IP right")?;
        let mut merged = convert::right(&current, today)?;
        for path in &paths {
            match *path {
                "kind" => merged.kind = update.kind,
                "office" => merged.office = update.office,
                "registration_number" => {
                    merged.registration_number = update.registration_number.clone()
                }
                "nice_classes" => merged.nice_classes = update.nice_classes.clone(),
                "valid_from" => merged.valid_from = update.valid_from,
                "valid_until" => merged.valid_until = update.valid_until,
                _ => {}
            }
        }
        let mut violations = FieldViolations::new();
        let spec = right_domain::validate(&merged, "ip_right", &mut violations);
        let spec = violations.require(spec)?;
        if let Some(own) =
            store::find_registration(&txn, &spec, Some(&id), Some(&current.member_id), None).await?
        {
            return Err(already_recorded(&spec, &own.id));
        }
        let now = time::now();
        let model = store::update_right(&txn, current, &spec, now).await?;
        let revision = store::refresh_catalogue(
            &txn,
            std::slice::from_ref(&model.brand_id),
            now.date_naive(),
            now,
        )
        .await?;
        txn.commit().await?;
        self.hub.published(revision);
        Ok((convert::right(&model, today)?, revision.unwrap_or(0)))
    }

    pub(super) async fn review_ip_right(
        &self,
        principal: &Principal,
        id: &str,
        etag: &str,
        note: &str,
        verify: bool,
    ) -> ApiResult<(IpRight, i64)> {
        let mut violations = FieldViolations::new();
        let id = violations.check("id", IpRightId::parse(id));
        let note = if verify {
            violations.check("note", validate::optional_text(note, 1000))
        } else {
            violations.check("reason", reason_text(note, true))
        };
        let (id, note) = violations.finish(|| (id.unwrap(), note.unwrap()))?;
        let now = time::now();
        let today = now.date_naive();
        let txn = self.db.begin().await?;
        let current = store::get_right(&txn, &id).await?;
        check_etag(etag, current.version, "IP right")?;
        let stored = store::right_status(&current.status)?;
        let next = if verify {
            right_domain::verify(stored, current.valid_until, today)
        } else {
            right_domain::reject(stored)
        }
        .map_err(ApiError::precondition)?;
        let terms = if verify {
            let brand = store::get_brand(&txn, &current.brand_id).await?;
            right_domain::mark_fits(&current.mark_text, &brand.name)
                .map_err(ApiError::precondition)?;
            let spec = store::right_spec(&current)?;
            if let Some(holder) = store::find_registration(
                &txn,
                &spec,
                Some(&current.id),
                None,
                Some(VerificationStatus::Verified),
            )
            .await?
            {
                return Err(ApiError::precondition(format!(
                    "registration {} at {} is verified for right {} of member {}: \
                     two members claim it; reject one of them first",
                    spec.registration_number,
                    right_domain::office_name(spec.office),
                    holder.id,
                    holder.member_id
                )));
            }
            let aliases = convert::brand(&brand, false)?.aliases;
            right_domain::terms(&brand.name, &aliases)
        } else {
            Vec::new()
        };
        let model =
            store::review_right(&txn, current, next, &terms, &note, &principal.actor(), now)
                .await?;
        let revision =
            store::refresh_catalogue(&txn, std::slice::from_ref(&model.brand_id), today, now)
                .await?;
        txn.commit().await?;
        self.hub.published(revision);
        tracing::info!(ip_right_id = %id, status = next.as_str_name(), "IP right reviewed");
        Ok((convert::right(&model, today)?, revision.unwrap_or(0)))
    }
}
