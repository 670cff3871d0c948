//! The gRPC handler: decode, authorise, validate, call the domain and the store, encode.

use assay_common::auth::{self, Owner, Principal, Role};
use assay_common::directory::Directory;
use assay_common::idempotency::{self, Key};
use assay_common::page::{PageTokens, page_size};
use assay_common::resource::{check_etag, mask_paths};
use assay_common::{ApiError, ApiResult, FieldViolations, time, validate};
use assay_proto::registry::v1::registry_service_server::RegistryService;
use assay_proto::registry::v1::*;
use sea_orm::{DatabaseConnection, TransactionTrait};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::catalogue::{self, CatalogueHub};
use crate::domain::member::Transition;
use crate::domain::{
    brand as brand_domain, figures, member as member_domain, right as right_domain,
};
use crate::entity::{brand, ip_right};
use crate::ids::{BrandId, DelegationId, IpRightId, MemberId};
use crate::{convert, store};

/// Most brands one delegation may cover.
const MAX_DELEGATED_BRANDS: usize = 1000;

/// The registry service.
#[derive(Clone)]
pub struct RegistryApi {
    db: DatabaseConnection,
    page_tokens: PageTokens,
    hub: CatalogueHub,
    shutdown: CancellationToken,
    /// Told when a member's status changes, so its credentials feel it at once.
    directory: Directory,
}

impl RegistryApi {
    pub fn new(
        db: DatabaseConnection,
        page_tokens: PageTokens,
        hub: CatalogueHub,
        shutdown: CancellationToken,
        directory: Directory,
    ) -> Self {
        Self {
            db,
            page_tokens,
            hub,
            shutdown,
            directory,
        }
    }
}

fn parse_id<T>(
    violations: &mut FieldViolations,
    field: &str,
    value: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Option<T> {
    violations.check(field, parse(value))
}

/// A single id argument, or INVALID_ARGUMENT.
fn id_arg<T>(field: &str, value: &str, parse: fn(&str) -> Result<T, String>) -> ApiResult<T> {
    parse(value).map_err(|e| ApiError::invalid(field, e))
}

fn reason_arg(value: &str, required: bool) -> ApiResult<String> {
    let checked = if required {
        validate::text(value, 1000)
    } else {
        validate::optional_text(value, 1000)
    };
    checked.map_err(|e| ApiError::invalid("reason", e))
}

impl RegistryApi {
    /// Keeps a member to the brands it owns or acts for: any other brand's `kind id` (the
    /// brand's, or a record of it) answers NOT_FOUND, as a missing one does.
    async fn scope_brand(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        principal: &Principal,
        brand: &brand::Model,
        kind: &'static str,
        id: &str,
    ) -> ApiResult<()> {
        if principal.member_id().is_none() {
            return principal.scope(Owner::Nobody, kind, id);
        }
        let members = store::acting_members(db, brand, time::now()).await?;
        let members: Vec<&str> = members.iter().map(String::as_str).collect();
        principal.scope(Owner::Members(&members), kind, id)
    }

    // ---- members ------------------------------------------------------------------------

    async fn create_member(
        &self,
        principal: &Principal,
        req: CreateMemberRequest,
    ) -> ApiResult<Member> {
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let spec = match &req.member {
            Some(member) => member_domain::validate(member, "member", &mut violations),
            None => {
                violations.add("member", "must be set");
                None
            }
        };
        let spec = violations.require(spec)?;
        let key = Key::new(
            "CreateMember",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&CreateMemberRequest {
                request_id: String::new(),
                ..req
            }),
        );

        let txn = self.db.begin().await?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(&txn).await?
        {
            return convert::member(&store::get_member(&txn, &existing).await?);
        }
        let id = MemberId::generate();
        let model = store::insert_member(&txn, id.as_str(), &spec, time::now()).await?;
        if let Some(key) = &key {
            key.record(&txn, id.as_str()).await?;
        }
        txn.commit().await?;
        tracing::info!(member_id = %id, "member created");
        convert::member(&model)
    }

    async fn get_member(&self, principal: &Principal, req: GetMemberRequest) -> ApiResult<Member> {
        let id = id_arg("id", &req.id, MemberId::parse)?;
        principal.scope(Owner::Members(&[id.as_str()]), "member", id.as_str())?;
        convert::member(&store::get_member(&self.db, id.as_str()).await?)
    }

    async fn list_members(
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
            only_id: principal.member_id().map(str::to_owned),
            status,
            kind,
            country_code,
        };
        let scope = format!("ListMembers|{filter:?}");
        let after = self.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_members(&self.db, &filter, after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self.page_tokens.page(&scope, rows, size, |m| m.id.clone());
        Ok(ListMembersResponse {
            members: rows.iter().map(convert::member).collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    async fn update_member(
        &self,
        principal: &Principal,
        req: UpdateMemberRequest,
    ) -> ApiResult<Member> {
        let Some(update) = req.member else {
            return Err(ApiError::invalid("member", "must be set"));
        };
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
        let current = store::get_member(&txn, id.as_str()).await?;
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

    async fn transition_member(
        &self,
        id: &str,
        etag: &str,
        reason: &str,
        transition: member_domain::Transition,
    ) -> ApiResult<Member> {
        let id = id_arg("id", id, MemberId::parse)?;
        let reason = reason_arg(reason, transition != member_domain::Transition::Activate)?;

        let txn = self.db.begin().await?;
        let current = store::get_member(&txn, id.as_str()).await?;
        check_etag(etag, current.version, "member")?;
        let from = store::member_status(&current.status)?;
        let to = member_domain::transition(from, transition).map_err(ApiError::precondition)?;
        let now = time::now();
        let model = store::set_member_status(&txn, current, to, &reason, now).await?;
        let brands = store::member_brand_ids(&txn, id.as_str()).await?;
        let revision = store::refresh_catalogue(&txn, &brands, now.date_naive(), now).await?;
        txn.commit().await?;
        self.directory.forget_member(id.as_str());
        self.hub.published(revision);
        tracing::info!(member_id = %id, status = to.as_str_name(), "member status changed");
        convert::member(&model)
    }

    // ---- brands -------------------------------------------------------------------------

    async fn create_brand(
        &self,
        principal: &Principal,
        req: CreateBrandRequest,
    ) -> ApiResult<Brand> {
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let Some(brand) = &req.brand else {
            return Err(ApiError::invalid("brand", "must be set"));
        };
        let owner = match (brand.member_id.as_str(), principal.member_id()) {
            ("", Some(own)) => Some(own.to_owned()),
            ("", None) => {
                violations.add("brand.member_id", "must be set");
                None
            }
            (id, _) => parse_id(&mut violations, "brand.member_id", id, MemberId::parse)
                .map(MemberId::into_string),
        };
        let spec = brand_domain::validate(brand, "brand", &mut violations);
        let (owner, spec) = violations.require(owner.zip(spec))?;
        principal.scope(Owner::Members(&[owner.as_str()]), "member", &owner)?;
        let key = Key::new(
            "CreateBrand",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&CreateBrandRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );

        let txn = self.db.begin().await?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(&txn).await?
        {
            let model = store::get_brand(&txn, &existing).await?;
            let protected = store::is_protected(&txn, &model.id).await?;
            return convert::brand(&model, protected);
        }
        let member = store::find_member(&txn, &owner)
            .await?
            .ok_or_else(|| ApiError::not_found("member", owner.as_str()))?;
        if store::member_status(&member.status)? == MemberStatus::Exited {
            return Err(ApiError::precondition("the member has exited the alliance"));
        }
        let id = BrandId::generate();
        let model = store::insert_brand(&txn, id.as_str(), &owner, &spec, time::now()).await?;
        if let Some(key) = &key {
            key.record(&txn, id.as_str()).await?;
        }
        txn.commit().await?;
        tracing::info!(brand_id = %id, member_id = %owner, "brand created");
        convert::brand(&model, false)
    }

    async fn get_brand(&self, principal: &Principal, req: GetBrandRequest) -> ApiResult<Brand> {
        let id = id_arg("id", &req.id, BrandId::parse)?;
        let model = store::get_brand(&self.db, id.as_str()).await?;
        self.scope_brand(&self.db, principal, &model, "brand", id.as_str())
            .await?;
        let protected = store::is_protected(&self.db, &model.id).await?;
        convert::brand(&model, protected)
    }

    async fn list_brands(
        &self,
        principal: &Principal,
        req: ListBrandsRequest,
    ) -> ApiResult<ListBrandsResponse> {
        let size = page_size(req.page_size)?;
        let member_id = (!req.member_id.is_empty())
            .then(|| id_arg("member_id", &req.member_id, MemberId::parse))
            .transpose()?
            .map(MemberId::into_string);
        let filter = store::BrandFilter {
            member_id,
            visible_to: principal.member_id().map(str::to_owned),
        };
        let scope = format!("ListBrands|{filter:?}");
        let after = self.page_tokens.decode(&scope, &req.page_token)?;
        let now = time::now();
        let rows = store::list_brands(&self.db, &filter, after.as_deref(), size + 1, now).await?;
        let (rows, next_page_token) = self.page_tokens.page(&scope, rows, size, |b| b.id.clone());
        let ids: Vec<&str> = rows.iter().map(|b| b.id.as_str()).collect();
        let protected = store::protected_among(&self.db, &ids).await?;
        Ok(ListBrandsResponse {
            brands: rows
                .iter()
                .map(|b| convert::brand(b, protected.contains(&b.id)))
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    async fn update_brand(
        &self,
        principal: &Principal,
        req: UpdateBrandRequest,
    ) -> ApiResult<Brand> {
        let Some(update) = req.brand else {
            return Err(ApiError::invalid("brand", "must be set"));
        };
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
        let current = store::get_brand(&self.db, id.as_str()).await?;
        self.scope_brand(&self.db, principal, &current, "brand", id.as_str())
            .await?;

        let txn = self.db.begin().await?;
        let current = store::get_brand(&txn, id.as_str()).await?;
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
        convert::brand(&model, protected)
    }

    async fn delete_brand(&self, principal: &Principal, req: DeleteBrandRequest) -> ApiResult<()> {
        let id = id_arg("id", &req.id, BrandId::parse)?;
        let txn = self.db.begin().await?;
        let current = store::get_brand(&txn, id.as_str()).await?;
        self.scope_brand(&txn, principal, &current, "brand", id.as_str())
            .await?;
        if principal
            .member_id()
            .is_some_and(|own| own != current.member_id)
        {
            return Err(ApiError::denied(
                "only the brand's own member deletes it, not an agent acting for it",
            ));
        }
        check_etag(&req.etag, current.version, "brand")?;
        let now = time::now();
        store::delete_brand(&txn, current, now).await?;
        let revision =
            store::refresh_catalogue(&txn, &[id.to_string()], now.date_naive(), now).await?;
        txn.commit().await?;
        self.hub.published(revision);
        tracing::info!(brand_id = %id, "brand deleted");
        Ok(())
    }

    // ---- IP rights ----------------------------------------------------------------------

    async fn create_ip_right(
        &self,
        principal: &Principal,
        req: CreateIpRightRequest,
    ) -> ApiResult<IpRight> {
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let Some(right) = &req.ip_right else {
            return Err(ApiError::invalid("ip_right", "must be set"));
        };
        let brand_id = parse_id(
            &mut violations,
            "ip_right.brand_id",
            &right.brand_id,
            BrandId::parse,
        );
        let spec = right_domain::validate(right, "ip_right", &mut violations);
        let (brand_id, spec) = violations.require(brand_id.zip(spec))?;
        let brand = store::get_brand(&self.db, brand_id.as_str()).await?;
        self.scope_brand(&self.db, principal, &brand, "brand", brand_id.as_str())
            .await?;
        let key = Key::new(
            "CreateIpRight",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&CreateIpRightRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );

        let today = time::today();
        let txn = self.db.begin().await?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(&txn).await?
        {
            return convert::right(&store::get_right(&txn, &existing).await?, today);
        }
        // Only the member's own duplicate is refused: another holder's claim to the same
        // registration is staff's to resolve at verification, and is never revealed here.
        if let Some(own) =
            store::find_registration(&txn, &spec, None, Some(&brand.member_id), None).await?
        {
            return Err(ApiError::AlreadyExists(format!(
                "registration {} at {} is already recorded as {}",
                spec.registration_number,
                right_domain::office_name(spec.office),
                own.id
            )));
        }
        let owner = store::get_member(&txn, &brand.member_id).await?;
        if store::member_status(&owner.status)? == MemberStatus::Exited {
            return Err(ApiError::precondition(
                "the brand's member has exited the alliance",
            ));
        }
        let id = IpRightId::generate();
        let model = store::insert_right(&txn, id.as_str(), &brand, &spec, time::now()).await?;
        if let Some(key) = &key {
            key.record(&txn, id.as_str()).await?;
        }
        txn.commit().await?;
        tracing::info!(ip_right_id = %id, brand_id = %brand.id, "IP right recorded");
        convert::right(&model, today)
    }

    async fn right_and_brand(&self, id: &str) -> ApiResult<(ip_right::Model, brand::Model)> {
        let right = store::get_right(&self.db, id).await?;
        let brand = store::get_brand(&self.db, &right.brand_id).await?;
        Ok((right, brand))
    }

    async fn get_ip_right(
        &self,
        principal: &Principal,
        req: GetIpRightRequest,
    ) -> ApiResult<IpRight> {
        let id = id_arg("id", &req.id, IpRightId::parse)?;
        let (right, brand) = self.right_and_brand(id.as_str()).await?;
        self.scope_brand(&self.db, principal, &brand, "IP right", id.as_str())
            .await?;
        convert::right(&right, time::today())
    }

    async fn list_ip_rights(
        &self,
        principal: &Principal,
        req: ListIpRightsRequest,
    ) -> ApiResult<ListIpRightsResponse> {
        let size = page_size(req.page_size)?;
        let mut violations = FieldViolations::new();
        let brand_id = (!req.brand_id.is_empty())
            .then(|| parse_id(&mut violations, "brand_id", &req.brand_id, BrandId::parse))
            .flatten()
            .map(BrandId::into_string);
        let member_id = (!req.member_id.is_empty())
            .then(|| {
                parse_id(
                    &mut violations,
                    "member_id",
                    &req.member_id,
                    MemberId::parse,
                )
            })
            .flatten()
            .map(MemberId::into_string);
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
            visible_to: principal.member_id().map(str::to_owned),
            status,
        };
        let scope = format!("ListIpRights|{filter:?}");
        let after = self.page_tokens.decode(&scope, &req.page_token)?;
        let now = time::now();
        let today = now.date_naive();
        let rows =
            store::list_rights(&self.db, &filter, after.as_deref(), size + 1, today, now).await?;
        let (rows, next_page_token) = self.page_tokens.page(&scope, rows, size, |r| r.id.clone());
        Ok(ListIpRightsResponse {
            ip_rights: rows
                .iter()
                .map(|r| convert::right(r, today))
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    async fn update_ip_right(
        &self,
        principal: &Principal,
        req: UpdateIpRightRequest,
    ) -> ApiResult<IpRight> {
        let Some(update) = req.ip_right else {
            return Err(ApiError::invalid("ip_right", "must be set"));
        };
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
        let (_, brand) = self.right_and_brand(id.as_str()).await?;
        self.scope_brand(&self.db, principal, &brand, "IP right", id.as_str())
            .await?;

        let today = time::today();
        let txn = self.db.begin().await?;
        let current = store::get_right(&txn, id.as_str()).await?;
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
        if let Some(own) = store::find_registration(
            &txn,
            &spec,
            Some(id.as_str()),
            Some(&current.member_id),
            None,
        )
        .await?
        {
            return Err(ApiError::AlreadyExists(format!(
                "registration {} at {} is already recorded as {}",
                spec.registration_number,
                right_domain::office_name(spec.office),
                own.id
            )));
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
        convert::right(&model, today)
    }

    async fn review_ip_right(
        &self,
        principal: &Principal,
        id: &str,
        etag: &str,
        note: &str,
        verify: bool,
    ) -> ApiResult<IpRight> {
        let id = id_arg("id", id, IpRightId::parse)?;
        let note = if verify {
            validate::optional_text(note, 1000).map_err(|e| ApiError::invalid("note", e))?
        } else {
            reason_arg(note, true)?
        };
        let now = time::now();
        let today = now.date_naive();
        let txn = self.db.begin().await?;
        let current = store::get_right(&txn, id.as_str()).await?;
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
        convert::right(&model, today)
    }

    // ---- delegations --------------------------------------------------------------------

    async fn create_delegation(
        &self,
        principal: &Principal,
        req: CreateDelegationRequest,
    ) -> ApiResult<Delegation> {
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let Some(delegation) = &req.delegation else {
            return Err(ApiError::invalid("delegation", "must be set"));
        };
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
            ("", Some(own)) => Some(own.to_owned()),
            ("", None) => {
                violations.add("delegation.principal_member_id", "must be set");
                None
            }
            (id, _) => parse_id(
                &mut violations,
                "delegation.principal_member_id",
                id,
                MemberId::parse,
            )
            .map(MemberId::into_string),
        };
        let brand_ids = validate::each(
            &mut violations,
            "delegation.brand_ids",
            &delegation.brand_ids,
            1..=MAX_DELEGATED_BRANDS,
            |id| BrandId::parse(id).map(BrandId::into_string),
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
            && agent.as_str() == principal_member
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
            &principal_member,
        )?;
        let key = Key::new(
            "CreateDelegation",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&CreateDelegationRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );

        let txn = self.db.begin().await?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(&txn).await?
        {
            let model = store::get_delegation(&txn, &existing).await?;
            let brands = store::delegation_brand_ids(&txn, &model.id).await?;
            return Ok(convert::delegation(&model, brands));
        }
        let agent_model = store::get_member(&txn, agent.as_str()).await?;
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
            id.as_str(),
            agent.as_str(),
            &principal_member,
            &brand_ids,
            expire_time,
            now,
        )
        .await?;
        if let Some(key) = &key {
            key.record(&txn, id.as_str()).await?;
        }
        let revision = store::refresh_catalogue(&txn, &brand_ids, now.date_naive(), now).await?;
        txn.commit().await?;
        self.hub.published(revision);
        tracing::info!(delegation_id = %id, agent = %agent, "delegation created");
        Ok(convert::delegation(&model, brand_ids))
    }

    async fn get_delegation(
        &self,
        principal: &Principal,
        req: GetDelegationRequest,
    ) -> ApiResult<Delegation> {
        let id = id_arg("id", &req.id, DelegationId::parse)?;
        let model = store::get_delegation(&self.db, id.as_str()).await?;
        principal.scope(
            Owner::Members(&[
                model.agent_member_id.as_str(),
                model.principal_member_id.as_str(),
            ]),
            "delegation",
            id.as_str(),
        )?;
        let brands = store::delegation_brand_ids(&self.db, &model.id).await?;
        Ok(convert::delegation(&model, brands))
    }

    async fn list_delegations(
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
            .flatten()
            .map(MemberId::into_string);
        let principal_member = (!req.principal_member_id.is_empty())
            .then(|| {
                parse_id(
                    &mut violations,
                    "principal_member_id",
                    &req.principal_member_id,
                    MemberId::parse,
                )
            })
            .flatten()
            .map(MemberId::into_string);
        violations.into_result(())?;
        let filter = store::DelegationFilter {
            agent_member_id: agent,
            principal_member_id: principal_member,
            party: principal.member_id().map(str::to_owned),
        };
        let scope = format!("ListDelegations|{filter:?}");
        let after = self.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_delegations(&self.db, &filter, after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self.page_tokens.page(&scope, rows, size, |d| d.id.clone());
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

    async fn delete_delegation(
        &self,
        principal: &Principal,
        req: DeleteDelegationRequest,
    ) -> ApiResult<()> {
        let id = id_arg("id", &req.id, DelegationId::parse)?;
        let txn = self.db.begin().await?;
        let current = store::get_delegation(&txn, id.as_str()).await?;
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
        Ok(())
    }

    // ---- catalogue and figures ----------------------------------------------------------

    async fn get_catalogue(&self) -> ApiResult<GetCatalogueResponse> {
        let (revision, entries) = store::catalogue_since(&self.db, 0).await?;
        let mut brands: Vec<CatalogueBrand> = entries
            .iter()
            .filter(|e| e.protected)
            .map(store::catalogue_brand)
            .collect::<ApiResult<_>>()?;
        brands.sort_by(|a, b| a.brand_id.cmp(&b.brand_id));
        Ok(GetCatalogueResponse { revision, brands })
    }

    async fn get_alliance_figures(
        &self,
        req: GetAllianceFiguresRequest,
    ) -> ApiResult<GetAllianceFiguresResponse> {
        let day = match &req.as_of {
            Some(date) => time::from_date(date).map_err(|e| ApiError::invalid("as_of", e))?,
            None => time::today(),
        };
        if day > time::today() {
            return Err(ApiError::invalid("as_of", "must not be in the future"));
        }
        let end = time::end_of_day(day);
        let statuses = store::statuses_before(&self.db, end).await?;
        let members = store::members_created_before(&self.db, end).await?;
        let brands = store::brands_existing_at(&self.db, end).await?;
        let rights = store::rights_created_before(&self.db, end).await?;

        let status_of = |id: &str| statuses.get(id).map(String::as_str).unwrap_or_default();
        let members_at = members
            .iter()
            .map(|m| {
                Ok(figures::MemberAt {
                    id: &m.id,
                    country_code: &m.country_code,
                    status: store::member_status(status_of(&m.id))?,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let brands_at: Vec<(&str, &str)> = brands
            .iter()
            .map(|b| (b.id.as_str(), b.member_id.as_str()))
            .collect();
        let rights_at = rights
            .iter()
            .map(|r| {
                Ok(figures::RightAt {
                    brand_id: &r.brand_id,
                    status: store::right_status(status_of(&r.id))?,
                    valid_from: r.valid_from,
                    valid_until: r.valid_until,
                })
            })
            .collect::<ApiResult<Vec<_>>>()?;
        let f = figures::figures(day, &members_at, &brands_at, &rights_at);
        Ok(GetAllianceFiguresResponse {
            as_of: Some(time::to_date(day)),
            applied_members: f.applied_members,
            active_members: f.active_members,
            suspended_members: f.suspended_members,
            exited_members: f.exited_members,
            brands_represented: f.brands_represented,
            protected_brands: f.protected_brands,
            pending_rights: f.pending_rights,
            verified_rights: f.verified_rights,
            rejected_rights: f.rejected_rights,
            expired_rights: f.expired_rights,
            member_countries: f.member_countries,
        })
    }
}

assay_common::rpcs! {
    impl RegistryService for RegistryApi (self) {
        create_member(CreateMemberRequest) -> CreateMemberResponse =
            |p, req| self.create_member(&p, req), |m| CreateMemberResponse { member: Some(m) };
        get_member(GetMemberRequest) -> GetMemberResponse =
            |p, req| self.get_member(&p, req), |m| GetMemberResponse { member: Some(m) };
        list_members(ListMembersRequest) -> ListMembersResponse =
            |p, req| self.list_members(&p, req);
        update_member(UpdateMemberRequest) -> UpdateMemberResponse =
            |p, req| self.update_member(&p, req), |m| UpdateMemberResponse { member: Some(m) };
        activate_member(ActivateMemberRequest) -> ActivateMemberResponse =
            |_, req| self.transition_member(&req.id, &req.etag, &req.reason, Transition::Activate),
            |m| ActivateMemberResponse { member: Some(m) };
        suspend_member(SuspendMemberRequest) -> SuspendMemberResponse =
            |_, req| self.transition_member(&req.id, &req.etag, &req.reason, Transition::Suspend),
            |m| SuspendMemberResponse { member: Some(m) };
        exit_member(ExitMemberRequest) -> ExitMemberResponse =
            |_, req| self.transition_member(&req.id, &req.etag, &req.reason, Transition::Exit),
            |m| ExitMemberResponse { member: Some(m) };
        create_brand(CreateBrandRequest) -> CreateBrandResponse =
            |p, req| self.create_brand(&p, req), |b| CreateBrandResponse { brand: Some(b) };
        get_brand(GetBrandRequest) -> GetBrandResponse =
            |p, req| self.get_brand(&p, req), |b| GetBrandResponse { brand: Some(b) };
        list_brands(ListBrandsRequest) -> ListBrandsResponse = |p, req| self.list_brands(&p, req);
        update_brand(UpdateBrandRequest) -> UpdateBrandResponse =
            |p, req| self.update_brand(&p, req), |b| UpdateBrandResponse { brand: Some(b) };
        delete_brand(DeleteBrandRequest) -> DeleteBrandResponse =
            |p, req| self.delete_brand(&p, req), |()| DeleteBrandResponse {};
        create_ip_right(CreateIpRightRequest) -> CreateIpRightResponse =
            |p, req| self.create_ip_right(&p, req), |r| CreateIpRightResponse { ip_right: Some(r) };
        get_ip_right(GetIpRightRequest) -> GetIpRightResponse =
            |p, req| self.get_ip_right(&p, req), |r| GetIpRightResponse { ip_right: Some(r) };
        list_ip_rights(ListIpRightsRequest) -> ListIpRightsResponse =
            |p, req| self.list_ip_rights(&p, req);
        update_ip_right(UpdateIpRightRequest) -> UpdateIpRightResponse =
            |p, req| self.update_ip_right(&p, req), |r| UpdateIpRightResponse { ip_right: Some(r) };
        verify_ip_right(VerifyIpRightRequest) -> VerifyIpRightResponse =
            |p, req| self.review_ip_right(&p, &req.id, &req.etag, &req.note, true),
            |r| VerifyIpRightResponse { ip_right: Some(r) };
        reject_ip_right(RejectIpRightRequest) -> RejectIpRightResponse =
            |p, req| self.review_ip_right(&p, &req.id, &req.etag, &req.reason, false),
            |r| RejectIpRightResponse { ip_right: Some(r) };
        create_delegation(CreateDelegationRequest) -> CreateDelegationResponse =
            |p, req| self.create_delegation(&p, req),
            |d| CreateDelegationResponse { delegation: Some(d) };
        get_delegation(GetDelegationRequest) -> GetDelegationResponse =
            |p, req| self.get_delegation(&p, req),
            |d| GetDelegationResponse { delegation: Some(d) };
        list_delegations(ListDelegationsRequest) -> ListDelegationsResponse =
            |p, req| self.list_delegations(&p, req);
        delete_delegation(DeleteDelegationRequest) -> DeleteDelegationResponse =
            |p, req| self.delete_delegation(&p, req), |()| DeleteDelegationResponse {};
    }
    {
        async fn get_catalogue(
            &self,
            request: Request<GetCatalogueRequest>,
        ) -> Result<Response<GetCatalogueResponse>, Status> {
            auth::principal(&request)?;
            Ok(Response::new(self.get_catalogue().await?))
        }

        type WatchCatalogueStream = ReceiverStream<Result<WatchCatalogueResponse, Status>>;

        async fn watch_catalogue(
            &self,
            request: Request<WatchCatalogueRequest>,
        ) -> Result<Response<Self::WatchCatalogueStream>, Status> {
            auth::principal(&request)?;
            let since = request.into_inner().since_revision;
            if since < 0 {
                return Err(ApiError::invalid("since_revision", "must not be negative").into());
            }
            // A small buffer: a slow watcher holds the sender back instead of growing memory.
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            tokio::spawn(catalogue::watch(
                self.db.clone(),
                self.hub.clone(),
                since,
                tx,
                self.shutdown.clone(),
            ));
            Ok(Response::new(ReceiverStream::new(rx)))
        }

        async fn get_alliance_figures(
            &self,
            request: Request<GetAllianceFiguresRequest>,
        ) -> Result<Response<GetAllianceFiguresResponse>, Status> {
            auth::principal(&request)?;
            Ok(Response::new(
                self.get_alliance_figures(request.into_inner()).await?,
            ))
        }
    }
}
