//! The alliance's figures.

use super::*;

/// Every status change before `end`, per subject, in order.
pub async fn statuses_before(
    db: &impl ConnectionTrait,
    end: DateTime<Utc>,
) -> ApiResult<HashMap<String, String>> {
    let mut latest = HashMap::new();
    for change in status_change::Entity::find()
        .filter(status_change::Column::ChangeTime.lt(end))
        .order_by_asc(status_change::Column::ChangeTime)
        .order_by_asc(status_change::Column::Id)
        .all(db)
        .await?
    {
        latest.insert(change.subject_id, change.status);
    }
    Ok(latest)
}

pub async fn members_created_before(
    db: &impl ConnectionTrait,
    end: DateTime<Utc>,
) -> ApiResult<Vec<member::Model>> {
    Ok(member::Entity::find()
        .filter(member::Column::CreateTime.lt(end))
        .all(db)
        .await?)
}

/// Brands that existed at `end`.
pub async fn brands_existing_at(
    db: &impl ConnectionTrait,
    end: DateTime<Utc>,
) -> ApiResult<Vec<brand::Model>> {
    Ok(brand::Entity::find()
        .filter(brand::Column::CreateTime.lt(end))
        .filter(
            Condition::any()
                .add(brand::Column::DeleteTime.is_null())
                .add(brand::Column::DeleteTime.gte(end)),
        )
        .all(db)
        .await?)
}

pub async fn rights_created_before(
    db: &impl ConnectionTrait,
    end: DateTime<Utc>,
) -> ApiResult<Vec<ip_right::Model>> {
    Ok(ip_right::Entity::find()
        .filter(ip_right::Column::CreateTime.lt(end))
        .all(db)
        .await?)
}
