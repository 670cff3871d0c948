//! Brands and their names and marks.

use super::*;

pub fn brand_spec(model: &brand::Model) -> ApiResult<BrandSpec> {
    let hashes: Vec<String> = from_json(&model.logo_hashes, "logo hashes")?;
    let logo_hashes = hashes
        .iter()
        .map(|h| u64::from_str_radix(h, 16).map_err(|_| corrupt("logo hash", h)))
        .collect::<ApiResult<Vec<u64>>>()?;
    Ok(BrandSpec {
        name: model.name.clone(),
        aliases: from_json(&model.aliases, "aliases")?,
        categories: from_json(&model.categories, "categories")?,
        reference_prices: from_json::<Vec<ReferencePrice>>(&model.reference_prices, "prices")?,
        authorized_seller_ids: from_json(&model.authorized_seller_ids, "authorized sellers")?,
        logo_hashes,
    })
}

fn hashes_json(hashes: &[u64]) -> String {
    let hex: Vec<String> = hashes.iter().map(|h| format!("{h:016x}")).collect();
    to_json(&hex)
}

fn fill_brand(model: &mut brand::ActiveModel, spec: &BrandSpec) {
    model.name = Set(spec.name.clone());
    model.aliases = Set(to_json(&spec.aliases));
    model.categories = Set(to_json(&spec.categories));
    model.reference_prices = Set(to_json(&spec.reference_prices));
    model.authorized_seller_ids = Set(to_json(&spec.authorized_seller_ids));
    model.logo_hashes = Set(hashes_json(&spec.logo_hashes));
}

pub async fn insert_brand(
    db: &impl ConnectionTrait,
    id: &BrandId,
    member_id: &MemberId,
    spec: &BrandSpec,
    now: DateTime<Utc>,
) -> ApiResult<brand::Model> {
    let mut model = brand::ActiveModel {
        id: Set(id.clone()),
        member_id: Set(member_id.clone()),
        version: Set(1),
        create_time: Set(now),
        update_time: Set(now),
        delete_time: Set(None),
        ..Default::default()
    };
    fill_brand(&mut model, spec);
    Ok(model.insert(db).await?)
}

/// A brand that has not been deleted.
pub async fn get_brand(db: &impl ConnectionTrait, id: &BrandId) -> ApiResult<brand::Model> {
    brand::Entity::find_by_id(id.clone())
        .filter(brand::Column::DeleteTime.is_null())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("brand", id.as_str()))
}

pub async fn update_brand(
    db: &impl ConnectionTrait,
    current: brand::Model,
    spec: &BrandSpec,
    now: DateTime<Utc>,
) -> ApiResult<brand::Model> {
    let version = current.version + 1;
    let mut model = current.into_active_model();
    fill_brand(&mut model, spec);
    model.version = Set(version);
    model.update_time = Set(now);
    Ok(model.update(db).await?)
}

pub async fn delete_brand(
    db: &impl ConnectionTrait,
    current: brand::Model,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let id = current.id.clone();
    let version = current.version + 1;
    let mut model = current.into_active_model();
    model.delete_time = Set(Some(now));
    model.version = Set(version);
    model.update_time = Set(now);
    model.update(db).await?;
    delegation_brand::Entity::delete_many()
        .filter(delegation_brand::Column::BrandId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The members who may act on a brand: its owner and agents holding a live delegation.
pub async fn acting_members(
    db: &impl ConnectionTrait,
    brand: &brand::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<MemberId>> {
    let mut members = vec![brand.member_id.clone()];
    let agents = delegation_brand::Entity::find()
        .filter(delegation_brand::Column::BrandId.eq(brand.id.as_str()))
        .filter(live_delegation(now))
        .all(db)
        .await?;
    members.extend(agents.into_iter().map(|row| row.agent_member_id));
    Ok(members)
}

/// The ids of brands delegated to an agent, as a subquery.
pub(super) fn delegated_brand_ids(
    agent_member_id: &MemberId,
    now: DateTime<Utc>,
) -> SelectStatement {
    Query::select()
        .column(delegation_brand::Column::BrandId)
        .from(delegation_brand::Entity)
        .and_where(delegation_brand::Column::AgentMemberId.eq(agent_member_id.as_str()))
        .cond_where(live_delegation(now))
        .to_owned()
}

pub(super) fn live_delegation(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(delegation_brand::Column::ExpireTime.is_null())
        .add(delegation_brand::Column::ExpireTime.gt(now))
}

#[derive(Debug, Default)]
pub struct BrandFilter {
    /// Only brands of this owner.
    pub member_id: Option<MemberId>,
    /// Only brands this member owns or acts for.
    pub visible_to: Option<MemberId>,
}

pub async fn list_brands(
    db: &impl ConnectionTrait,
    filter: &BrandFilter,
    after: Option<&str>,
    limit: u64,
    now: DateTime<Utc>,
) -> ApiResult<Vec<brand::Model>> {
    let mut query = brand::Entity::find().filter(brand::Column::DeleteTime.is_null());
    if let Some(member_id) = &filter.member_id {
        query = query.filter(brand::Column::MemberId.eq(member_id.as_str()));
    }
    if let Some(member_id) = &filter.visible_to {
        let delegated = delegated_brand_ids(member_id, now);
        query = query.filter(
            Condition::any()
                .add(brand::Column::MemberId.eq(member_id.as_str()))
                .add(brand::Column::Id.in_subquery(delegated)),
        );
    }
    Ok(
        assay_common::db::keyset(query, brand::Column::Id, Order::Asc, after, limit)
            .all(db)
            .await?,
    )
}
