//! Agencies: who may ask, from which e-mail domains, and whether they are active.

use super::*;

impl LawEnforcementApi {
    pub(super) async fn create_agency(
        &self,
        principal: &Principal,
        req: CreateAgencyRequest,
    ) -> ApiResult<Agency> {
        let agency = validate::present("agency", req.agency.as_ref())?;
        let mut violations = FieldViolations::new();
        let key = Key::of("CreateAgency", principal, &mut violations, &req);
        let checked = check::agency(&mut violations, "agency", agency);
        let checked = violations.require(checked)?;
        let now = time::now();
        let txn = self.db().begin().await?;
        let once = create_once(
            &txn,
            key.as_ref(),
            async |existing| {
                let existing = AgencyId::from_trusted(existing);
                store::find_agency(&txn, &existing)
                    .await?
                    .ok_or_else(|| ApiError::not_found("agency", existing.as_str()))
            },
            async || {
                let agency = Agency {
                    id: AgencyId::generate().into_string(),
                    status: AgencyStatus::Pending as i32,
                    create_time: Some(time::to_timestamp(now)),
                    update_time: Some(time::to_timestamp(now)),
                    ..checked
                };
                let model = store::insert_agency(&txn, &agency).await?;
                self.audit(
                    &txn,
                    principal,
                    "agency.create",
                    &agency.id,
                    agency.name.clone(),
                )
                .await?;
                Ok((agency.id.clone(), model))
            },
        )
        .await?;
        txn.commit().await?;
        convert::agency(&once.into_inner())
    }

    pub(super) async fn get_agency(
        &self,
        principal: &Principal,
        req: GetAgencyRequest,
    ) -> ApiResult<Agency> {
        let id = AgencyId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        principal.scope(Owner::Agency(id.as_str()), "agency", id.as_str())?;
        let model = store::find_agency(self.db(), &id)
            .await?
            .ok_or_else(|| ApiError::not_found("agency", id.as_str()))?;
        // Agencies' contacts are people: who read them is on the record.
        self.audit_listed(principal, "agency.read", id.as_str(), std::iter::empty())
            .await?;
        convert::agency(&model)
    }

    pub(super) async fn list_agencies(
        &self,
        principal: &Principal,
        req: ListAgenciesRequest,
    ) -> ApiResult<ListAgenciesResponse> {
        let size = page_size(req.page_size)?;
        if !req.country_code.is_empty() {
            validate::country_code(&req.country_code)
                .map_err(|e| ApiError::invalid("country_code", e))?;
        }
        let country = (!req.country_code.is_empty()).then_some(req.country_code.as_str());
        let scope = format!("ListAgencies|{country:?}");
        let after = self.inner.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_agencies(self.db(), country, after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |a| a.id.to_string());
        self.audit_listed(
            principal,
            "agencies.list",
            "",
            rows.iter().map(|a| a.id.as_str()),
        )
        .await?;
        Ok(ListAgenciesResponse {
            agencies: rows.iter().map(convert::agency).collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    pub(super) async fn update_agency(
        &self,
        principal: &Principal,
        req: UpdateAgencyRequest,
    ) -> ApiResult<Agency> {
        let update = validate::present("agency", req.agency.as_ref())?;
        let id = AgencyId::parse(&update.id).map_err(|e| ApiError::invalid("agency.id", e))?;
        const FIELDS: &[&str] = &[
            "name",
            "country_code",
            "level",
            "verified_email_domains",
            "contacts",
        ];
        let paths = mask_paths(req.update_mask.as_ref(), FIELDS)?;
        let txn = self.db().begin().await?;
        let current = store::find_agency(&txn, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("agency", id.as_str()))?;
        check_etag(&update.etag, current.version, "agency")?;
        let mut merged = convert::agency(&current)?;
        for path in &paths {
            match *path {
                "name" => merged.name = update.name.clone(),
                "country_code" => merged.country_code = update.country_code.clone(),
                "level" => merged.level = update.level,
                "verified_email_domains" => {
                    merged.verified_email_domains = update.verified_email_domains.clone()
                }
                "contacts" => merged.contacts = update.contacts.clone(),
                _ => {}
            }
        }
        let mut violations = FieldViolations::new();
        let checked = check::agency(&mut violations, "agency", &merged);
        let checked = violations.require(checked)?;
        let agency = Agency {
            update_time: Some(time::to_timestamp(time::now())),
            ..Agency {
                id: merged.id.clone(),
                status: merged.status,
                create_time: merged.create_time,
                ..checked
            }
        };
        let model = store::save_agency(&txn, &current, &agency).await?;
        self.audit(
            &txn,
            principal,
            "agency.update",
            id.as_str(),
            paths.join(","),
        )
        .await?;
        txn.commit().await?;
        convert::agency(&model)
    }

    pub(super) async fn set_agency_status(
        &self,
        principal: &Principal,
        id: &str,
        etag: &str,
        to: AgencyStatus,
        reason: Option<&str>,
    ) -> ApiResult<Agency> {
        let mut violations = FieldViolations::new();
        let id = violations.check("id", AgencyId::parse(id));
        let reason = match reason {
            Some(reason) => violations.check("reason", validate::text(reason, 2000)),
            None => Some(String::new()),
        };
        let (id, reason) = violations.finish(|| (id.unwrap(), reason.unwrap()))?;
        let txn = self.db().begin().await?;
        let current = store::find_agency(&txn, &id)
            .await?
            .ok_or_else(|| ApiError::not_found("agency", id.as_str()))?;
        check_etag(etag, current.version, "agency")?;
        let mut agency = convert::agency(&current)?;
        let from = AgencyStatus::try_from(agency.status).unwrap_or_default();
        let allowed = match to {
            AgencyStatus::Active => matches!(from, AgencyStatus::Pending | AgencyStatus::Suspended),
            AgencyStatus::Suspended => from == AgencyStatus::Active,
            _ => false,
        };
        if !allowed {
            return Err(ApiError::precondition(format!(
                "an agency that is {} cannot become {}",
                from.as_str_name().trim_start_matches("AGENCY_STATUS_"),
                to.as_str_name().trim_start_matches("AGENCY_STATUS_")
            )));
        }
        agency.status = to as i32;
        agency.update_time = Some(time::to_timestamp(time::now()));
        let model = store::save_agency(&txn, &current, &agency).await?;
        self.audit(
            &txn,
            principal,
            "agency.status",
            id.as_str(),
            format!("{} {reason}", to.as_str_name()),
        )
        .await?;
        txn.commit().await?;
        self.inner.directory.forget_agency(id.as_str());
        convert::agency(&model)
    }
}
