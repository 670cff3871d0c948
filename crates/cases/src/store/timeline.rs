//! A case's timeline: entries appended in order, never changed.

use super::*;

pub async fn append_event(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    event: Event,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let last: Option<i64> = case_event::Entity::find()
        .select_only()
        .column_as(case_event::Column::Sequence.max(), "last")
        .filter(case_event::Column::CaseId.eq(case_id.as_str()))
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    event_row(case_id, last.unwrap_or(0) + 1, event, actor, now)
        .insert(db)
        .await?;
    Ok(())
}

/// The `sequence`-th entry of a case's timeline.
pub(super) fn event_row(
    case_id: &CaseId,
    sequence: i64,
    event: Event,
    actor: &str,
    now: DateTime<Utc>,
) -> case_event::ActiveModel {
    let (from, to) = event
        .statuses
        .map(|(f, t)| (f.as_str_name(), t.as_str_name()))
        .unwrap_or(("", ""));
    case_event::ActiveModel {
        case_id: Set(case_id.clone()),
        sequence: Set(sequence),
        kind: Set(event.kind.as_str_name().to_owned()),
        actor: Set(actor.to_owned()),
        time: Set(now),
        from_status: Set(from.to_owned()),
        to_status: Set(to.to_owned()),
        detail: Set(event.detail),
        ..Default::default()
    }
}

pub async fn list_events(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    after: Option<i64>,
    limit: u64,
) -> ApiResult<Vec<case_event::Model>> {
    let query = case_event::Entity::find().filter(case_event::Column::CaseId.eq(case_id.as_str()));
    Ok(assay_common::db::keyset(
        query,
        case_event::Column::Sequence,
        Order::Asc,
        after,
        limit,
    )
    .all(db)
    .await?)
}
