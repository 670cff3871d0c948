//! Brands and what identifies them.

use super::*;

impl RegistryApi {
    pub(super) async fn create_brand(
        &self,
        principal: &Principal,
        req: CreateBrandRequest,
    ) -> ApiResult<Brand> {
        let mut violations = FieldViolations::new();
        let key = Key::of("CreateBrand", principal, &mut violations, &req);
        let brand = validate::present("brand", req.brand.as_ref())?;
        let owner = match (brand.member_id.as_str(), principal.member_id()) {
            // The caller's own member id, checked live when it authenticated.
            ("", Some(own)) => Some(MemberId::from_trusted(own.to_owned())),
            ("", None) => {
                violations.add("brand.member_id", "must be set");
                None
            }
            (id, _) => parse_id(&mut violations, "brand.member_id", id, MemberId::parse),
        };
        let spec = brand_domain::validate(brand, "brand", &mut violations);
        let (owner, spec) = violations.require(owner.zip(spec))?;
        principal.scope(Owner::Members(&[owner.as_str()]), "member", owner.as_str())?;
        let txn = self.db.begin().await?;
        let (model, protected) = create_once(
            &txn,
            key.as_ref(),
            async |existing| {
                let model = store::get_brand(&txn, &BrandId::from_trusted(existing)).await?;
                let protected = store::is_protected(&txn, &model.id).await?;
                Ok((model, protected))
            },
            async || {
                let member = store::find_member(&txn, &owner)
                    .await?
                    .ok_or_else(|| ApiError::not_found("member", owner.as_str()))?;
                if store::member_status(&member.status)? == MemberStatus::Exited {
                    return Err(ApiError::precondition("the member has exited the alliance"));
                }
                let id = BrandId::generate();
                let model = store::insert_brand(&txn, &id, &owner, &spec, time::now()).await?;
                tracing::info!(brand_id = %id, member_id = %owner, "brand created");
                Ok((id.into_string(), (model, false)))
            },
        )
        .await?
        .into_inner();
        txn.commit().await?;
        convert::brand(&model, protected)
    }

    pub(super) async fn get_brand(
        &self,
        principal: &Principal,
        req: GetBrandRequest,
    ) -> ApiResult<Brand> {
        let id = id_arg("id", &req.id, BrandId::parse)?;
        let model = store::get_brand(&self.db, &id).await?;
        self.scope_brand(&self.db, principal, &model, "brand", id.as_str())
            .await?;
        let protected = store::is_protected(&self.db, &model.id).await?;
        convert::brand(&model, protected)
    }

    pub(super) async fn list_brands(
        &self,
        principal: &Principal,
        req: ListBrandsRequest,
    ) -> ApiResult<ListBrandsResponse> {
        let size = page_size(req.page_size)?;
        let member_id = (!req.member_id.is_empty())
            .then(|| id_arg("member_id", &req.member_id, MemberId::parse))
            .transpose()?;
        let filter = store::BrandFilter {
            member_id,
            visible_to: own_member(principal),
        };
        let scope = format!("ListBrands|{filter:?}");
        let after = self.page_tokens.decode(&scope, &req.page_token)?;
        let now = time::now();
        let rows = store::list_brands(&self.db, &filter, after.as_deref(), size + 1, now).await?;
        let (rows, next_page_token) = self
            .page_tokens
            .page(&scope, rows, size, |b| b.id.to_string());
        let ids: Vec<&BrandId> = rows.iter().map(|b| &b.id).collect();
        let protected = store::protected_among(&self.db, &ids).await?;
        Ok(ListBrandsResponse {
            brands: rows
                .iter()
                .map(|b| convert::brand(b, protected.contains(&b.id)))
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    pub(super) async fn update_brand(
        &self,
        principal: &Principal,
        req: UpdateBrandRequest,
    ) -> ApiResult<(Brand, i64)> {
        let update = validate::present("brand", req.brand)?;
        let id = id_arg("brand.id", &update.id, BrandId::parse)?;
        const FIELDS: &[&str] = &[
            "name",
            "aliases",
            "categories",
            "reference_prices",
            "authorized_seller_ids",
            "logo_hashes",
        ];
        let paths = mask_paths(req.update_mask.as_ref(), FIELDS)?;
        let current = store::get_brand(&self.db, &id).await?;
        self.scope_brand(&self.db, principal, &current, "brand", id.as_str())
            .await?;

        let txn = self.db.begin().await?;
        let current = store::get_brand(&txn, &id).await?;
        check_etag(&update.etag, current.version, "brand")?;
        let mut merged = convert::brand(&current, false)?;
        // The names it had, which a right verified before rights kept their terms covers.
        let had = right_domain::terms(&merged.name, &merged.aliases);
        for path in &paths {
            match *path {
                "name" => merged.name = update.name.clone(),
                "aliases" => merged.aliases = update.aliases.clone(),
                "categories" => merged.categories = update.categories.clone(),
                "reference_prices" => merged.reference_prices = update.reference_prices.clone(),
                "authorized_seller_ids" => {
                    merged.authorized_seller_ids = update.authorized_seller_ids.clone()
                }
                "logo_hashes" => merged.logo_hashes = update.logo_hashes.clone(),
                _ => {}
            }
        }
        let mut violations = FieldViolations::new();
        let spec = brand_domain::validate(&merged, "brand", &mut violations);
        let spec = violations.require(spec)?;
        let now = time::now();
        let model = store::update_brand(&txn, current, &spec, now).await?;
        // A verification covers the names it saw: renamed or given a new alias beyond them,
        // the brand loses its protection until staff verify again.
        for right in store::verified_rights_of(&txn, &model.id).await? {
            let verified = store::verified_terms(&right)?;
            let verified = if verified.is_empty() { &had } else { &verified };
            if !right_domain::covers(verified, &merged.name, &merged.aliases) {
                tracing::info!(ip_right_id = %right.id, brand_id = %model.id, "brand renamed: right back to PENDING");
                store::unverify_right(
                    &txn,
                    right,
                    "the brand's name or aliases changed: verify the right for them again",
                    now,
                )
                .await?;
            }
        }
        let revision =
            store::refresh_catalogue(&txn, std::slice::from_ref(&model.id), now.date_naive(), now)
                .await?;
        let protected = store::is_protected(&txn, &model.id).await?;
        txn.commit().await?;
        self.hub.published(revision);
        Ok((convert::brand(&model, protected)?, revision.unwrap_or(0)))
    }

    pub(super) async fn delete_brand(
        &self,
        principal: &Principal,
        req: DeleteBrandRequest,
    ) -> ApiResult<i64> {
        let id = id_arg("id", &req.id, BrandId::parse)?;
        let txn = self.db.begin().await?;
        let current = store::get_brand(&txn, &id).await?;
        self.scope_brand(&txn, principal, &current, "brand", id.as_str())
            .await?;
        if principal
            .member_id()
            .is_some_and(|own| own != current.member_id.as_str())
        {
            return Err(ApiError::denied(
                "only the brand's own member deletes it, not an agent acting for it",
            ));
        }
        check_etag(&req.etag, current.version, "brand")?;
        let now = time::now();
        store::delete_brand(&txn, current, now).await?;
        let revision =
            store::refresh_catalogue(&txn, std::slice::from_ref(&id), now.date_naive(), now)
                .await?;
        txn.commit().await?;
        self.hub.published(revision);
        tracing::info!(brand_id = %id, "brand deleted");
        Ok(revision.unwrap_or(0))
    }
}
