//! Cases past their deadline: found, and escalated once per deadline.

use super::*;

/// Cases past their deadline at `now` and not yet escalated for it (never, or only for an
/// earlier deadline), the longest overdue first.
pub async fn breached(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> ApiResult<Vec<case::Model>> {
    Ok(case::Entity::find()
        .filter(case::Column::DueTime.lt(now))
        .filter(
            sea_orm::Condition::any()
                .add(case::Column::SlaBreachTime.is_null())
                .add(Expr::col(case::Column::SlaBreachTime).lt(Expr::col(case::Column::DueTime))),
        )
        .order_by_asc(case::Column::DueTime)
        .limit(limit)
        .all(db)
        .await?)
}

/// Records that a case passed its deadline, and escalates it as `breach` says: once, for
/// the version read (ABORTED if it changed meanwhile, on this replica or another).
pub async fn record_breach(
    db: &impl ConnectionTrait,
    current: &case::Model,
    status: CaseStatus,
    breach: domain::Breach,
    now: DateTime<Utc>,
) -> ApiResult<case::Model> {
    let model = update_case(
        db,
        current,
        |m| {
            m.sla_breach_time = Set(Some(now));
            if let Some(to) = &breach.assign_to {
                m.assignee = Set(to.clone());
            }
        },
        now,
    )
    .await?;
    append_event(db, &current.id, breach.event, "system:sla", now).await?;
    set_tags(db, &current.id, &[domain::BREACHED_TAG.to_owned()], &[]).await?;
    if !current.member_id.is_empty() {
        notify(
            db,
            Recipients::Member(current.member_id.clone()),
            EventType::SlaBreached,
            case_notice(current, status),
            now,
        )
        .await?;
    }
    Ok(model)
}
