//! The law-enforcement service's persistence. Agencies, requests and referrals are stored
//! whole as encoded messages, with the columns they are found and counted by beside them;
//! every write checks the version it read.

use assay_common::{ApiError, ApiResult};
use assay_proto::lawenforcement::v1::{
    Agency, AgencyStatus, LegalProcess, LegalRequest, Referral, ReferralStatus, RequestStatus,
    Target, TargetKind,
};
use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::domain;
use crate::entity::{agency, hold, hold_target, package_item, referral, request};
use crate::ids::{AgencyId, HoldId, RequestId};
use assay_common::ids::ReferralId;

fn corrupt(what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::internal(anyhow::anyhow!("corrupt {what} in the database: {error}"))
}

// ---------------------------------------------------------------------------------------
// Agencies

pub async fn find_agency(
    db: &impl ConnectionTrait,
    id: &AgencyId,
) -> ApiResult<Option<agency::Model>> {
    Ok(agency::Entity::find_by_id(id.clone()).one(db).await?)
}

pub async fn insert_agency(db: &impl ConnectionTrait, agency: &Agency) -> ApiResult<agency::Model> {
    Ok(agency::ActiveModel {
        id: Set(AgencyId::from_trusted(agency.id.clone())),
        country_code: Set(agency.country_code.clone()),
        status: Set(AgencyStatus::try_from(agency.status)
            .unwrap_or_default()
            .as_str_name()
            .to_owned()),
        body: Set(agency.encode_to_vec()),
        version: Set(1),
    }
    .insert(db)
    .await?)
}

pub async fn save_agency(
    db: &impl ConnectionTrait,
    current: &agency::Model,
    agency: &Agency,
) -> ApiResult<agency::Model> {
    let updated = agency::Entity::update_many()
        .set(agency::ActiveModel {
            country_code: Set(agency.country_code.clone()),
            status: Set(AgencyStatus::try_from(agency.status)
                .unwrap_or_default()
                .as_str_name()
                .to_owned()),
            body: Set(Agency {
                etag: String::new(),
                ..agency.clone()
            }
            .encode_to_vec()),
            version: Set(current.version + 1),
            ..Default::default()
        })
        .filter(agency::Column::Id.eq(current.id.as_str()))
        .filter(agency::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ApiError::stale_etag("agency"));
    }
    find_agency(db, &current.id)
        .await?
        .ok_or_else(|| ApiError::not_found("agency", current.id.as_str()))
}

pub async fn list_agencies(
    db: &impl ConnectionTrait,
    country: Option<&str>,
    after: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<agency::Model>> {
    let mut query = agency::Entity::find();
    if let Some(country) = country {
        query = query.filter(agency::Column::CountryCode.eq(country));
    }
    Ok(
        assay_common::db::keyset(query, agency::Column::Id, Order::Asc, after, limit)
            .all(db)
            .await?,
    )
}

// ---------------------------------------------------------------------------------------
// Requests

pub fn status_of(model: &request::Model) -> ApiResult<RequestStatus> {
    RequestStatus::from_str_name(&model.status)
        .ok_or_else(|| corrupt("request status", &model.status))
}

pub fn process_of(model: &request::Model) -> LegalProcess {
    LegalProcess::from_str_name(&model.process).unwrap_or_default()
}

pub async fn find_request(
    db: &impl ConnectionTrait,
    id: &RequestId,
) -> ApiResult<Option<request::Model>> {
    Ok(request::Entity::find_by_id(id.clone()).one(db).await?)
}

/// The requests of `ids` that exist.
pub async fn requests_by_ids(
    db: &impl ConnectionTrait,
    ids: &[RequestId],
) -> ApiResult<Vec<request::Model>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(request::Entity::find()
        .filter(request::Column::Id.is_in(ids.iter().map(RequestId::as_str)))
        .all(db)
        .await?)
}

pub async fn insert_request(
    db: &impl ConnectionTrait,
    body: &LegalRequest,
    country_code: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<request::Model> {
    let process = LegalProcess::try_from(body.process).unwrap_or_default();
    Ok(request::ActiveModel {
        id: Set(RequestId::from_trusted(body.id.clone())),
        agency_id: Set(AgencyId::from_trusted(body.agency_id.clone())),
        country_code: Set(country_code.to_owned()),
        process: Set(process.as_str_name().to_owned()),
        status: Set(RequestStatus::Received.as_str_name().to_owned()),
        emergency: Set(body.emergency),
        due_time: Set(due),
        owed: Set(true),
        escalate_time: Set(None),
        breach_time: Set(None),
        body: Set(body.encode_to_vec()),
        version: Set(1),
        create_time: Set(now),
    }
    .insert(db)
    .await?)
}

/// Writes `body` over a request read at `current.version`; ABORTED if it changed since.
pub async fn save_request(
    db: &impl ConnectionTrait,
    current: &request::Model,
    body: &LegalRequest,
) -> ApiResult<request::Model> {
    let status = RequestStatus::try_from(body.status).unwrap_or_default();
    let owed = domain::is_owed(status, process_of(current));
    let updated = request::Entity::update_many()
        .set(request::ActiveModel {
            status: Set(status.as_str_name().to_owned()),
            owed: Set(owed),
            body: Set(LegalRequest {
                etag: String::new(),
                urgency: 0,
                ..body.clone()
            }
            .encode_to_vec()),
            version: Set(current.version + 1),
            ..Default::default()
        })
        .filter(request::Column::Id.eq(current.id.as_str()))
        .filter(request::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ApiError::stale_etag("request"));
    }
    find_request(db, &current.id)
        .await?
        .ok_or_else(|| ApiError::not_found("request", current.id.as_str()))
}

/// Filters of ListRequests, as validated.
#[derive(Debug, Default, Clone)]
pub struct RequestFilter {
    pub agency_id: Option<AgencyId>,
    pub statuses: Vec<RequestStatus>,
    pub process: Option<LegalProcess>,
    pub overdue_at: Option<DateTime<Utc>>,
}

pub async fn list_requests(
    db: &impl ConnectionTrait,
    filter: &RequestFilter,
    before: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<request::Model>> {
    let mut query = request::Entity::find();
    if let Some(agency) = &filter.agency_id {
        query = query.filter(request::Column::AgencyId.eq(agency.as_str()));
    }
    if !filter.statuses.is_empty() {
        query = query
            .filter(request::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str_name())));
    }
    if let Some(process) = filter.process {
        query = query.filter(request::Column::Process.eq(process.as_str_name()));
    }
    if let Some(now) = filter.overdue_at {
        query = query
            .filter(request::Column::Owed.eq(true))
            .filter(request::Column::DueTime.lt(now));
    }
    Ok(
        assay_common::db::keyset(query, request::Column::Id, Order::Desc, before, limit)
            .all(db)
            .await?,
    )
}

/// Owed requests due before `horizon`, soonest first.
pub async fn owed_before(
    db: &impl ConnectionTrait,
    horizon: DateTime<Utc>,
    limit: u64,
) -> ApiResult<Vec<request::Model>> {
    Ok(request::Entity::find()
        .filter(request::Column::Owed.eq(true))
        .filter(request::Column::DueTime.lt(horizon))
        .order_by_asc(request::Column::DueTime)
        .limit(limit)
        .all(db)
        .await?)
}

/// Owed requests not yet escalated at the level they may have reached: due before
/// `horizon` and never warned, or past `now` and never escalated as breached.
pub async fn to_escalate(
    db: &impl ConnectionTrait,
    horizon: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: u64,
) -> ApiResult<Vec<request::Model>> {
    use sea_orm::Condition;
    Ok(request::Entity::find()
        .filter(request::Column::Owed.eq(true))
        .filter(request::Column::DueTime.lt(horizon))
        .filter(
            Condition::any()
                .add(request::Column::EscalateTime.is_null())
                .add(
                    Condition::all()
                        .add(request::Column::DueTime.lte(now))
                        .add(request::Column::BreachTime.is_null()),
                ),
        )
        .order_by_asc(request::Column::DueTime)
        .limit(limit)
        .all(db)
        .await?)
}

/// Owed requests whose deadline passed before `now`.
pub async fn count_overdue(db: &impl ConnectionTrait, now: DateTime<Utc>) -> ApiResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(request::Entity::find()
        .filter(request::Column::Owed.eq(true))
        .filter(request::Column::DueTime.lte(now))
        .count(db)
        .await?)
}

/// Records that a request was escalated (as breached when `breached`); false when someone
/// else already did.
pub async fn mark_escalated(
    db: &impl ConnectionTrait,
    id: &RequestId,
    breached: bool,
    now: DateTime<Utc>,
) -> ApiResult<bool> {
    let column = if breached {
        request::Column::BreachTime
    } else {
        request::Column::EscalateTime
    };
    let mut update = request::Entity::update_many()
        .col_expr(column, sea_orm::sea_query::Expr::value(Some(now)))
        .filter(request::Column::Id.eq(id.as_str()))
        .filter(column.is_null());
    if breached {
        // A breach is also the last warning.
        update = update.col_expr(
            request::Column::EscalateTime,
            sea_orm::sea_query::ExprTrait::if_null(
                sea_orm::sea_query::Expr::col(request::Column::EscalateTime),
                now,
            ),
        );
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Requests filed in `[from, until)`, for the transparency report.
pub async fn requests_in(
    db: &impl ConnectionTrait,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> ApiResult<Vec<request::Model>> {
    let mut query = request::Entity::find();
    if let Some(from) = from {
        query = query.filter(request::Column::CreateTime.gte(from));
    }
    if let Some(until) = until {
        query = query.filter(request::Column::CreateTime.lt(until));
    }
    Ok(query.all(db).await?)
}

/// Every request, for outcomes reported in a period (reports read them all).
pub async fn all_requests(db: &impl ConnectionTrait) -> ApiResult<Vec<request::Model>> {
    Ok(request::Entity::find().all(db).await?)
}

// ---------------------------------------------------------------------------------------
// Packages

pub async fn insert_package(
    db: &impl ConnectionTrait,
    request_id: &RequestId,
    files: &[(String, String, Vec<u8>)],
) -> ApiResult<()> {
    package_item::Entity::delete_many()
        .filter(package_item::Column::RequestId.eq(request_id.as_str()))
        .exec(db)
        .await?;
    for (name, sha256, content) in files {
        package_item::ActiveModel {
            request_id: Set(request_id.clone()),
            name: Set(name.clone()),
            sha256: Set(sha256.clone()),
            content: Set(content.clone()),
            expire_time: Set(None),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// The package of `request_id` expires at `expire`: it is deleted then.
pub async fn release_package(
    db: &impl ConnectionTrait,
    request_id: &RequestId,
    expire: DateTime<Utc>,
) -> ApiResult<()> {
    package_item::Entity::update_many()
        .col_expr(
            package_item::Column::ExpireTime,
            sea_orm::sea_query::Expr::value(Some(expire)),
        )
        .filter(package_item::Column::RequestId.eq(request_id.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Requests whose released package expired before `now`.
pub async fn expired_packages(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> ApiResult<Vec<RequestId>> {
    Ok(package_item::Entity::find()
        .select_only()
        .column(package_item::Column::RequestId)
        .distinct()
        .filter(package_item::Column::ExpireTime.lte(now))
        .order_by_asc(package_item::Column::RequestId)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?)
}

/// Deletes the files of a package; returns how many there were.
pub async fn delete_package_files(
    db: &impl ConnectionTrait,
    request_id: &RequestId,
) -> ApiResult<u64> {
    Ok(package_item::Entity::delete_many()
        .filter(package_item::Column::RequestId.eq(request_id.as_str()))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn package_files(
    db: &impl ConnectionTrait,
    request_id: &RequestId,
) -> ApiResult<Vec<package_item::Model>> {
    Ok(package_item::Entity::find()
        .filter(package_item::Column::RequestId.eq(request_id.as_str()))
        .order_by_asc(package_item::Column::Name)
        .all(db)
        .await?)
}

// ---------------------------------------------------------------------------------------
// Holds

fn kind_word(kind: TargetKind) -> &'static str {
    kind.as_str_name()
}

/// Places a preservation hold for `request_id` on `targets` (its sellers and listings)
/// until `expire_time`.
pub async fn place_hold(
    db: &impl ConnectionTrait,
    hold_id: &HoldId,
    request_id: &RequestId,
    process: LegalProcess,
    targets: &[Target],
    expire_time: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<hold::Model> {
    let saved = hold::ActiveModel {
        id: Set(hold_id.clone()),
        request_id: Set(request_id.clone()),
        process: Set(process.as_str_name().to_owned()),
        expire_time: Set(expire_time),
        extended: Set(false),
        create_time: Set(now),
        warned_expire_time: Set(None),
    }
    .insert(db)
    .await?;
    for target in targets {
        let kind = TargetKind::try_from(target.kind).unwrap_or_default();
        if !matches!(kind, TargetKind::Seller | TargetKind::Listing) {
            continue;
        }
        hold_target::ActiveModel {
            kind: Set(kind_word(kind).to_owned()),
            target_id: Set(target.id.clone()),
            hold_id: Set(hold_id.clone()),
        }
        .insert(db)
        .await?;
    }
    Ok(saved)
}

/// Holds in force that end by `horizon` and whose agency was not yet warned of that end.
pub async fn holds_to_warn(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    horizon: DateTime<Utc>,
    limit: u64,
) -> ApiResult<Vec<hold::Model>> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    Ok(hold::Entity::find()
        .filter(hold::Column::ExpireTime.gt(now))
        .filter(hold::Column::ExpireTime.lte(horizon))
        .filter(
            sea_orm::Condition::any()
                .add(hold::Column::WarnedExpireTime.is_null())
                .add(
                    Expr::col(hold::Column::WarnedExpireTime)
                        .ne(Expr::col(hold::Column::ExpireTime)),
                ),
        )
        .order_by_asc(hold::Column::ExpireTime)
        .limit(limit)
        .all(db)
        .await?)
}

/// Marks the agency as warned of the end `hold` had when read; false if it was warned of it
/// already, or the hold has another end since.
pub async fn claim_hold_warning(db: &impl ConnectionTrait, hold: &hold::Model) -> ApiResult<bool> {
    use sea_orm::sea_query::Expr;
    let claimed = hold::Entity::update_many()
        .col_expr(
            hold::Column::WarnedExpireTime,
            Expr::value(hold.expire_time),
        )
        .filter(hold::Column::Id.eq(hold.id.as_str()))
        .filter(hold::Column::ExpireTime.eq(hold.expire_time))
        .filter(
            sea_orm::Condition::any()
                .add(hold::Column::WarnedExpireTime.is_null())
                .add(hold::Column::WarnedExpireTime.ne(hold.expire_time)),
        )
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

pub async fn find_hold(db: &impl ConnectionTrait, id: &HoldId) -> ApiResult<hold::Model> {
    assay_common::db::find_or_not_found::<hold::Entity, _>(db, "hold", id.clone()).await
}

pub async fn extend_hold(
    db: &impl ConnectionTrait,
    current: &hold::Model,
    expire: DateTime<Utc>,
) -> ApiResult<hold::Model> {
    let updated = hold::Entity::update_many()
        .col_expr(
            hold::Column::ExpireTime,
            sea_orm::sea_query::Expr::value(expire),
        )
        .col_expr(
            hold::Column::Extended,
            sea_orm::sea_query::Expr::value(true),
        )
        .filter(hold::Column::Id.eq(current.id.as_str()))
        .filter(hold::Column::Extended.eq(false))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ApiError::precondition(
            "this hold was already extended once",
        ));
    }
    find_hold(db, &current.id).await
}

pub async fn active_holds(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    after: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<hold::Model>> {
    let query = hold::Entity::find().filter(hold::Column::ExpireTime.gt(now));
    Ok(
        assay_common::db::keyset(query, hold::Column::Id, Order::Asc, after, limit)
            .all(db)
            .await?,
    )
}

/// What a hold covers.
pub async fn hold_targets(
    db: &impl ConnectionTrait,
    hold_id: &HoldId,
) -> ApiResult<Vec<hold_target::Model>> {
    Ok(hold_target::Entity::find()
        .filter(hold_target::Column::HoldId.eq(hold_id.as_str()))
        .order_by_asc(hold_target::Column::Kind)
        .order_by_asc(hold_target::Column::TargetId)
        .all(db)
        .await?)
}

/// Of `ids` of `kind`, those a hold in force covers.
pub async fn held(
    db: &impl ConnectionTrait,
    kind: TargetKind,
    ids: &[String],
    now: DateTime<Utc>,
) -> ApiResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let live = sea_orm::sea_query::Query::select()
        .column(hold::Column::Id)
        .from(hold::Entity)
        .and_where(hold::Column::ExpireTime.gt(now))
        .to_owned();
    let mut held: Vec<String> = hold_target::Entity::find()
        .filter(hold_target::Column::Kind.eq(kind_word(kind)))
        .filter(hold_target::Column::TargetId.is_in(ids.iter().map(String::as_str)))
        .filter(hold_target::Column::HoldId.in_subquery(live))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.target_id)
        .collect();
    held.sort();
    held.dedup();
    Ok(held)
}

// ---------------------------------------------------------------------------------------
// Referrals

pub async fn find_referral(
    db: &impl ConnectionTrait,
    id: &ReferralId,
) -> ApiResult<Option<referral::Model>> {
    Ok(referral::Entity::find_by_id(id.clone()).one(db).await?)
}

pub async fn insert_referral(
    db: &impl ConnectionTrait,
    body: &Referral,
    now: DateTime<Utc>,
) -> ApiResult<referral::Model> {
    Ok(referral::ActiveModel {
        id: Set(ReferralId::from_trusted(body.id.clone())),
        agency_id: Set(AgencyId::from_trusted(body.agency_id.clone())),
        status: Set(ReferralStatus::try_from(body.status)
            .unwrap_or_default()
            .as_str_name()
            .to_owned()),
        body: Set(body.encode_to_vec()),
        version: Set(1),
        receive_time: Set(now),
    }
    .insert(db)
    .await?)
}

pub async fn save_referral(
    db: &impl ConnectionTrait,
    current: &referral::Model,
    body: &Referral,
) -> ApiResult<referral::Model> {
    let updated = referral::Entity::update_many()
        .set(referral::ActiveModel {
            status: Set(ReferralStatus::try_from(body.status)
                .unwrap_or_default()
                .as_str_name()
                .to_owned()),
            body: Set(body.encode_to_vec()),
            version: Set(current.version + 1),
            ..Default::default()
        })
        .filter(referral::Column::Id.eq(current.id.as_str()))
        .filter(referral::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ApiError::Aborted(
            "the referral was changed concurrently: retry".to_owned(),
        ));
    }
    find_referral(db, &current.id)
        .await?
        .ok_or_else(|| ApiError::not_found("referral", current.id.as_str()))
}

pub async fn list_referrals(
    db: &impl ConnectionTrait,
    agency_id: Option<&AgencyId>,
    before: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<referral::Model>> {
    let mut query = referral::Entity::find();
    if let Some(agency) = agency_id {
        query = query.filter(referral::Column::AgencyId.eq(agency.as_str()));
    }
    Ok(
        assay_common::db::keyset(query, referral::Column::Id, Order::Desc, before, limit)
            .all(db)
            .await?,
    )
}

pub async fn all_referrals(db: &impl ConnectionTrait) -> ApiResult<Vec<referral::Model>> {
    Ok(referral::Entity::find().all(db).await?)
}

// Notifications

/// Tells agency `agency_id` of `event`, through each of its subscriptions that asked for
/// it, in the caller's transaction.
pub async fn tell_agency(
    db: &impl sea_orm::ConnectionTrait,
    agency_id: &str,
    event: assay_proto::lawenforcement::v1::EventType,
    data: serde_json::Value,
    now: chrono::DateTime<chrono::Utc>,
) -> ApiResult<()> {
    assay_common::webhooks::store::notify(
        &crate::domain::notify::EVENTS,
        db,
        assay_common::outbox::topic::AGENCY_NOTIFICATION,
        &crate::domain::notify::agency_owner(agency_id),
        event,
        data,
        now,
    )
    .await
}
