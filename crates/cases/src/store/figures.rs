//! Notice accuracy and the programme's figures.

use super::*;

/// Notices filed in `[from, until)` by what became of them: a member's, or (`None`) all.
pub async fn notice_accuracy(
    db: &impl ConnectionTrait,
    member_id: Option<&str>,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> ApiResult<domain::Accuracy> {
    let mut query = case::Entity::find()
        .select_only()
        .columns([case::Column::Decision, case::Column::Status])
        .column_as(case::Column::Id.count(), "count")
        .filter(case::Column::Source.eq(CaseSource::Notice.as_str_name()))
        .group_by(case::Column::Decision)
        .group_by(case::Column::Status);
    if let Some(member_id) = member_id {
        query = query.filter(case::Column::MemberId.eq(member_id));
    }
    if let Some(from) = from {
        query = query.filter(case::Column::CreateTime.gte(from));
    }
    if let Some(until) = until {
        query = query.filter(case::Column::CreateTime.lt(until));
    }
    // A few rows, one per decision and status, however many notices.
    let rows: Vec<(String, String, i64)> = query.into_tuple().all(db).await?;
    let mut accuracy = domain::Accuracy::default();
    for (decision, status, count) in rows {
        accuracy.notices += count;
        match Decision::parse(&decision) {
            Some(Decision::Upheld) => accuracy.upheld += count,
            Some(Decision::Rejected) => accuracy.rejected += count,
            Some(Decision::Overturned) => accuracy.overturned += count,
            None if status == CaseStatus::Merged.as_str_name() => {}
            None => accuracy.pending += count,
        }
    }
    Ok(accuracy)
}

/// Counts of the programme in `[from, until)`.
#[derive(Debug, Default)]
pub struct Figures {
    pub by_source: HashMap<String, i64>,
    pub listings_taken_down: i64,
    /// Of those, on cases opened by notices.
    pub listings_taken_down_on_notices: i64,
    pub listings_reinstated: i64,
    pub counter_notices: i64,
    pub referrals: i64,
    pub arrests: i64,
    pub seized_units: i64,
    pub seized_value: BTreeMap<String, i128>,
    pub convictions: i64,
    pub sellers_struck: i64,
    pub sla_breaches: i64,
    /// Notices per ground, and takedowns per ground upheld.
    pub notices_by_reason: BTreeMap<ReasonCode, i64>,
    pub takedowns_by_reason: BTreeMap<ReasonCode, i64>,
}

pub async fn figures(
    db: &impl ConnectionTrait,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> ApiResult<Figures> {
    fn within<C: ColumnTrait>(
        column: C,
        from: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> sea_orm::Condition {
        let mut condition = sea_orm::Condition::all().add(column.is_not_null());
        if let Some(from) = from {
            condition = condition.add(column.gte(from));
        }
        if let Some(until) = until {
            condition = condition.add(column.lt(until));
        }
        condition
    }
    let mut figures = Figures::default();
    let sources: Vec<(String, i64)> = case::Entity::find()
        .select_only()
        .column(case::Column::Source)
        .column_as(case::Column::Id.count(), "count")
        .filter(within(case::Column::CreateTime, from, until))
        .group_by(case::Column::Source)
        .into_tuple()
        .all(db)
        .await?;
    figures.by_source = sources.into_iter().collect();

    let count = |query: sea_orm::Select<case_listing::Entity>| async move {
        let n: Option<i64> = query
            .select_only()
            .column_as(case_listing::Column::ListingId.count(), "count")
            .into_tuple()
            .one(db)
            .await?;
        ApiResult::Ok(n.unwrap_or(0))
    };
    figures.listings_taken_down = count(case_listing::Entity::find().filter(within(
        case_listing::Column::TakedownTime,
        from,
        until,
    )))
    .await?;
    let notice_cases = Query::select()
        .column(case::Column::Id)
        .from(case::Entity)
        .and_where(case::Column::Source.eq(CaseSource::Notice.as_str_name()))
        .to_owned();
    figures.listings_taken_down_on_notices = count(
        case_listing::Entity::find()
            .filter(within(case_listing::Column::TakedownTime, from, until))
            .filter(case_listing::Column::CaseId.in_subquery(notice_cases)),
    )
    .await?;
    figures.listings_reinstated = count(case_listing::Entity::find().filter(within(
        case_listing::Column::ReinstateTime,
        from,
        until,
    )))
    .await?;
    let counter_notices: Option<i64> = case::Entity::find()
        .select_only()
        .column_as(case::Column::Id.count(), "count")
        .filter(within(case::Column::CounterNoticeTime, from, until))
        .into_tuple()
        .one(db)
        .await?;
    figures.counter_notices = counter_notices.unwrap_or(0);
    let referrals: Option<i64> = referral::Entity::find()
        .select_only()
        .column_as(referral::Column::Id.count(), "count")
        .filter(within(referral::Column::CreateTime, from, until))
        .into_tuple()
        .one(db)
        .await?;
    figures.referrals = referrals.unwrap_or(0);
    for outcome in referral_outcome::Entity::find()
        .filter(within(referral_outcome::Column::ReportTime, from, until))
        .all(db)
        .await?
    {
        validate::add_to(&mut figures.arrests, outcome.arrests.into())?;
        validate::add_to(&mut figures.seized_units, outcome.seized_units)?;
        validate::add_to(&mut figures.convictions, outcome.convictions.into())?;
        if let Some(value) = crate::convert::seized_value(&outcome)
            && let Ok(money) = Money::from_proto(&value)
        {
            *figures
                .seized_value
                .entry(money.currency.as_str().to_owned())
                .or_default() += money.nanos;
        }
    }
    let struck: Option<i64> = strike::Entity::find()
        .select_only()
        .column_as(
            Expr::col(strike::Column::SellerId).count_distinct(),
            "count",
        )
        .filter(within(strike::Column::StrikeTime, from, until))
        .filter(strike::Column::WithdrawTime.is_null())
        .into_tuple()
        .one(db)
        .await?;
    figures.sellers_struck = struck.unwrap_or(0);
    // Each deadline a case missed, as its timeline records them.
    let breaches: Option<i64> = case_event::Entity::find()
        .select_only()
        .column_as(case_event::Column::Id.count(), "count")
        .filter(case_event::Column::Kind.eq(CaseEventKind::SlaBreached.as_str_name()))
        .filter(within(case_event::Column::Time, from, until))
        .into_tuple()
        .one(db)
        .await?;
    figures.sla_breaches = breaches.unwrap_or(0);
    // Grounds: one row per list of them kept (there are few), split here.
    let by_grounds = |kept: case::Column, which: sea_orm::Condition| async move {
        let rows: Vec<(String, i64)> = case::Entity::find()
            .select_only()
            .column(kept)
            .column_as(case::Column::Id.count(), "count")
            .filter(which)
            .group_by(kept)
            .into_tuple()
            .all(db)
            .await?;
        ApiResult::Ok(domain::reasons::count(rows))
    };
    figures.notices_by_reason = by_grounds(
        case::Column::ReasonCodes,
        within(case::Column::CreateTime, from, until)
            .add(case::Column::Source.eq(CaseSource::Notice.as_str_name())),
    )
    .await?;
    figures.takedowns_by_reason = by_grounds(
        case::Column::DecisionReasonCodes,
        within(case::Column::DecisionTime, from, until)
            .add(case::Column::Decision.eq(Decision::Upheld.as_str())),
    )
    .await?;
    Ok(figures)
}
