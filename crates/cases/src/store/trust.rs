//! Members' eligibility for self-service removal, as it changed.

use super::*;
use crate::entity::self_service_change;

/// Whether the member's last recorded change made it eligible (`None`: never recorded).
pub async fn self_service_recorded(
    db: &impl ConnectionTrait,
    member_id: &str,
) -> ApiResult<Option<bool>> {
    Ok(self_service_change::Entity::find()
        .filter(self_service_change::Column::MemberId.eq(member_id))
        .order_by_desc(self_service_change::Column::Sequence)
        .one(db)
        .await?
        .map(|change| change.eligible))
}

/// Records that the member became eligible (or ceased to be), with the record behind it.
pub async fn record_self_service_change(
    db: &impl ConnectionTrait,
    member_id: &str,
    eligible: bool,
    accuracy: &domain::Accuracy,
    cause: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    self_service_change::ActiveModel {
        member_id: Set(member_id.to_owned()),
        eligible: Set(eligible),
        change_time: Set(now),
        decided: Set(accuracy.decided()),
        upheld: Set(accuracy.upheld),
        cause: Set(cause.chars().take(500).collect()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Changes after `after`, oldest first: a member's, or (`None`) everyone's.
pub async fn self_service_changes(
    db: &impl ConnectionTrait,
    after: i64,
    member_id: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<self_service_change::Model>> {
    let mut query = self_service_change::Entity::find()
        .filter(self_service_change::Column::Sequence.gt(after))
        .order_by_asc(self_service_change::Column::Sequence)
        .limit(limit);
    if let Some(member_id) = member_id {
        query = query.filter(self_service_change::Column::MemberId.eq(member_id));
    }
    Ok(query.all(db).await?)
}
