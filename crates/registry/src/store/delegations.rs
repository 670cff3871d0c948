//! Delegations from members to agents.

use super::*;

pub async fn insert_delegation(
    db: &impl ConnectionTrait,
    id: &DelegationId,
    agent_member_id: &MemberId,
    principal_member_id: &MemberId,
    brand_ids: &[BrandId],
    expire_time: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<delegation::Model> {
    let model = delegation::ActiveModel {
        id: Set(id.clone()),
        agent_member_id: Set(agent_member_id.clone()),
        principal_member_id: Set(principal_member_id.clone()),
        expire_time: Set(expire_time),
        version: Set(1),
        create_time: Set(now),
        delete_time: Set(None),
    }
    .insert(db)
    .await?;
    let rows: Vec<_> = brand_ids
        .iter()
        .map(|brand_id| delegation_brand::ActiveModel {
            delegation_id: Set(id.clone()),
            brand_id: Set(brand_id.clone()),
            agent_member_id: Set(agent_member_id.clone()),
            expire_time: Set(expire_time),
        })
        .collect();
    delegation_brand::Entity::insert_many(rows).exec(db).await?;
    Ok(model)
}

/// A delegation that has not been deleted.
pub async fn get_delegation(
    db: &impl ConnectionTrait,
    id: &DelegationId,
) -> ApiResult<delegation::Model> {
    delegation::Entity::find_by_id(id.clone())
        .filter(delegation::Column::DeleteTime.is_null())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("delegation", id.as_str()))
}

pub async fn delegation_brand_ids(
    db: &impl ConnectionTrait,
    delegation_id: &DelegationId,
) -> ApiResult<Vec<BrandId>> {
    Ok(delegation_brand::Entity::find()
        .filter(delegation_brand::Column::DelegationId.eq(delegation_id.as_str()))
        .order_by_asc(delegation_brand::Column::BrandId)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.brand_id)
        .collect())
}

#[derive(Debug, Default)]
pub struct DelegationFilter {
    pub agent_member_id: Option<MemberId>,
    pub principal_member_id: Option<MemberId>,
    /// Only delegations this member gave or received.
    pub party: Option<MemberId>,
}

pub async fn list_delegations(
    db: &impl ConnectionTrait,
    filter: &DelegationFilter,
    after: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<delegation::Model>> {
    let mut query = delegation::Entity::find().filter(delegation::Column::DeleteTime.is_null());
    if let Some(agent) = &filter.agent_member_id {
        query = query.filter(delegation::Column::AgentMemberId.eq(agent.as_str()));
    }
    if let Some(principal) = &filter.principal_member_id {
        query = query.filter(delegation::Column::PrincipalMemberId.eq(principal.as_str()));
    }
    if let Some(party) = &filter.party {
        query = query.filter(
            Condition::any()
                .add(delegation::Column::AgentMemberId.eq(party.as_str()))
                .add(delegation::Column::PrincipalMemberId.eq(party.as_str())),
        );
    }
    Ok(
        assay_common::db::keyset(query, delegation::Column::Id, Order::Asc, after, limit)
            .all(db)
            .await?,
    )
}

pub async fn delete_delegation(
    db: &impl ConnectionTrait,
    current: delegation::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<BrandId>> {
    let brand_ids = delegation_brand_ids(db, &current.id).await?;
    delegation_brand::Entity::delete_many()
        .filter(delegation_brand::Column::DelegationId.eq(current.id.as_str()))
        .exec(db)
        .await?;
    let version = current.version + 1;
    let mut model = current.into_active_model();
    model.delete_time = Set(Some(now));
    model.version = Set(version);
    model.update(db).await?;
    Ok(brand_ids)
}

/// Brands whose delegations expired in `(since, until]`: their catalogue entries list
/// agents that no longer act for them.
pub async fn brands_with_expired_delegations(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> ApiResult<Vec<BrandId>> {
    Ok(delegation_brand::Entity::find()
        .filter(delegation_brand::Column::ExpireTime.gt(since))
        .filter(delegation_brand::Column::ExpireTime.lte(until))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.brand_id)
        .collect())
}
