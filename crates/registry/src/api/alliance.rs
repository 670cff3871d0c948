//! The catalogue other services screen against, and the alliance's figures.

use super::*;

impl RegistryApi {
    pub(super) async fn get_catalogue(&self) -> ApiResult<GetCatalogueResponse> {
        let (revision, entries) = store::catalogue_since(&self.db, 0).await?;
        let mut brands: Vec<CatalogueBrand> = entries
            .iter()
            .filter(|e| e.protected)
            .map(store::catalogue_brand)
            .collect::<ApiResult<_>>()?;
        brands.sort_by(|a, b| a.brand_id.cmp(&b.brand_id));
        Ok(GetCatalogueResponse { revision, brands })
    }

    pub(super) async fn get_alliance_figures(
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
                    id: m.id.as_str(),
                    country_code: &m.country_code,
                    status: store::member_status(status_of(m.id.as_str()))?,
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
                    brand_id: r.brand_id.as_str(),
                    status: store::right_status(status_of(r.id.as_str()))?,
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
