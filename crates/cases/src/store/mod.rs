//! Case management's persistence. Every function takes any connection, so a handler can
//! run several in one transaction.

mod custody;
mod deadlines;
mod figures;
mod notifications;
mod referrals;
mod sellers;
mod timeline;
mod trust;

pub use custody::*;
pub use deadlines::*;
pub use figures::*;
pub use notifications::*;
pub use referrals::*;
pub use sellers::*;
pub use timeline::*;
pub use trust::*;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use assay_common::db::{insert_all, insert_all_new};
use assay_common::holds::Purgeable;
use assay_common::ids::{AgencyId, BrandId, CaseId, EvidenceId, ReferralId, TestPurchaseId};
use assay_common::money::Money;
use assay_common::outbox::{self, topic};
use assay_common::time::to_timestamp;
use assay_common::validate;
use assay_common::{ApiError, ApiResult};
use assay_proto::cases::v1::{
    CaseEventKind, CaseListing, CaseSource, CaseStatus, CounterNotice, CustodyAction, CustodyEvent,
    EnforcementLevel, EventType, PackageItem, ReasonCode, Referral, ReferralOutcome, ReferralState,
};
use assay_proto::screening::v1::{FeedbackOutcome, RecordHitFeedbackRequest};
use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, Order, QueryFilter, QueryOrder, QuerySelect, TryIntoModel,
};

use crate::domain::check::NewEvidence;
use crate::domain::moves::{Effect, Event, Move};
use crate::domain::{self, Decision};
use crate::entity::{
    case, case_brand, case_event, case_listing, case_tag, custody_event, enforcement_action,
    evidence, referral, referral_outcome, seller_identifier, seller_link, strike, test_purchase,
};

pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::internal(anyhow::anyhow!("corrupt {what} in the database: {error}"))
}

/// The counter-notice filed on a case, if any.
pub fn counter_notice_of(model: &case::Model) -> ApiResult<Option<CounterNotice>> {
    model
        .counter_notice
        .as_deref()
        .map(CounterNotice::decode)
        .transpose()
        .map_err(|e| corrupt("counter-notice", e))
}

pub fn status_of(model: &case::Model) -> ApiResult<CaseStatus> {
    CaseStatus::from_str_name(&model.status).ok_or_else(|| corrupt("case status", &model.status))
}

// ---------------------------------------------------------------------------------------
// Cases

/// A case about to be opened.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub id: CaseId,
    pub source: CaseSource,
    pub title: String,
    pub summary: String,
    /// The summary in other languages, as a case keeps them (`domain::say::summary`).
    pub summary_translations: Option<String>,
    pub brand_ids: Vec<BrandId>,
    pub listings: Vec<CaseListing>,
    pub member_id: String,
    pub ip_right_id: String,
    pub hit_id: String,
    pub source_key: Option<String>,
    pub risk_score: f64,
    pub fast_track: bool,
    pub due_time: DateTime<Utc>,
    /// The trace the case continues; `None`: the current one.
    pub traceparent: Option<String>,
    /// Identifiers the case's evidence gives its first listing's seller (the product images
    /// of a screened listing), filed when the case opens.
    pub captured: Vec<crate::domain::cluster::Identifier>,
    /// The grounds a notice gave.
    pub reason_codes: Vec<ReasonCode>,
}

/// Opens one case: its row, brands, listings and first timeline entry.
pub async fn insert_case(
    db: &impl ConnectionTrait,
    new: NewCase,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<case::Model> {
    let mut opened = insert_cases(db, vec![new], actor, now).await?;
    opened
        .cases
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no case was opened")))
}

/// What [`insert_cases`] did.
pub struct Opened {
    /// The rows it inserted.
    pub cases: Vec<case::Model>,
    /// By source key, the cases another writer opened at the same moment, which were left
    /// to it (see [`insert_unless_known`]); empty unless writers met.
    pub theirs: HashMap<String, String>,
}

/// Opens cases with one multi-row insert a table (the cases, their brands, their listings
/// and their first timeline entries), in the caller's transaction.
pub async fn insert_cases(
    db: &impl ConnectionTrait,
    news: Vec<NewCase>,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<Opened> {
    let current_trace = assay_common::telemetry::current_traceparent();
    let mut cases = Vec::with_capacity(news.len());
    let mut brands = Vec::new();
    let mut listings = Vec::new();
    let mut events = Vec::with_capacity(news.len());
    for new in news {
        let mut brand_ids = new.brand_ids;
        brand_ids.sort_unstable();
        brand_ids.dedup();
        brands.extend(brand_ids.into_iter().map(|brand| case_brand::ActiveModel {
            case_id: Set(new.id.clone()),
            brand_id: Set(brand),
        }));
        let mut seen = BTreeSet::new();
        listings.extend(
            new.listings
                .into_iter()
                .filter(|l| seen.insert(l.listing_id.clone()))
                .map(|l| case_listing::ActiveModel {
                    case_id: Set(new.id.clone()),
                    listing_id: Set(l.listing_id),
                    seller_id: Set(l.seller_id),
                    title: Set(l.title),
                    takedown_time: Set(None),
                    reinstate_time: Set(None),
                }),
        );
        let detail = match new.source {
            CaseSource::Notice => "opened from a takedown notice",
            CaseSource::ScreeningAlert => "opened from a screening alert",
            _ => "opened by staff",
        };
        events.push(event_row(
            &new.id,
            1,
            Event::new(CaseEventKind::Opened, detail).status(CaseStatus::Open, CaseStatus::Open),
            actor,
            now,
        ));
        cases.push(case::Model {
            id: new.id,
            source: new.source.as_str_name().to_owned(),
            status: CaseStatus::Open.as_str_name().to_owned(),
            title: new.title,
            summary: new.summary,
            member_id: new.member_id,
            ip_right_id: new.ip_right_id,
            hit_id: new.hit_id,
            source_key: new.source_key,
            risk_score: new.risk_score,
            assignee: String::new(),
            fast_track: new.fast_track,
            due_time: Some(new.due_time),
            merged_into: String::new(),
            resolution_note: String::new(),
            decision: String::new(),
            decision_time: None,
            counter_notice: None,
            counter_notice_time: None,
            version: 1,
            create_time: now,
            update_time: now,
            sla_breach_time: None,
            trace_context: new.traceparent.unwrap_or_else(|| current_trace.clone()),
            reason_codes: domain::reasons::encode(&new.reason_codes),
            decision_reason_codes: String::new(),
            self_service: false,
            summary_translations: new.summary_translations,
        });
    }
    // Cases from alerts go in in the order of their keys, so that two writers of the same
    // alerts wait on each other in one direction only and never deadlock.
    cases.sort_by(|a, b| a.source_key.cmp(&b.source_key));
    let theirs = insert_unless_known(db, &cases).await?;
    if !theirs.is_empty() {
        let left: BTreeSet<CaseId> = cases
            .iter()
            .filter(|c| {
                c.source_key
                    .as_ref()
                    .is_some_and(|k| theirs.contains_key(k))
            })
            .map(|c| c.id.clone())
            .collect();
        let ours = |id: Option<&CaseId>| id.is_some_and(|id| !left.contains(id));
        cases.retain(|c| !left.contains(&c.id));
        brands.retain(|b| ours(b.case_id.try_as_ref()));
        listings.retain(|l| ours(l.case_id.try_as_ref()));
        events.retain(|e| ours(e.case_id.try_as_ref()));
    }
    insert_all(db, brands).await?;
    insert_all(db, listings).await?;
    insert_all(db, events).await?;
    for case in cases.iter().filter(|c| !c.member_id.is_empty()) {
        notify(
            db,
            Recipients::Member(case.member_id.clone()),
            EventType::CaseOpened,
            case_notice(case, CaseStatus::Open),
            now,
        )
        .await?;
    }
    Ok(Opened { cases, theirs })
}

/// Inserts case rows, leaving out those whose source key another writer (a second relay's
/// delivery of the same alert) stores at the same moment: on PostgreSQL the insert waits
/// for that writer's commit. Returns, by source key, the ids of the cases left out.
async fn insert_unless_known(
    db: &impl ConnectionTrait,
    cases: &[case::Model],
) -> ApiResult<HashMap<String, String>> {
    let rows = cases.iter().map(|c| c.clone().into_active_model());
    let inserted = insert_all_new(db, rows.collect(), case::Column::SourceKey).await?;
    let mut theirs = HashMap::new();
    if inserted < cases.len() as u64 {
        let keys: Vec<&str> = cases
            .iter()
            .filter_map(|c| c.source_key.as_deref())
            .collect();
        let stored = case_ids_by_source_key(db, &keys).await?;
        for case in cases {
            let Some(key) = &case.source_key else {
                continue;
            };
            match stored.get(key) {
                Some(id) if id.as_str() == case.id.as_str() => {}
                Some(id) => {
                    theirs.insert(key.clone(), id.clone());
                }
                // Opened by another writer and gone again before this one read it.
                None => {
                    return Err(ApiError::Aborted(
                        "a case was opened and removed concurrently: retry the request".to_owned(),
                    ));
                }
            }
        }
    }
    Ok(theirs)
}

/// What a notification about a case says of it: enough to look it up, nothing more.
pub fn case_notice(case: &case::Model, status: CaseStatus) -> serde_json::Value {
    serde_json::json!({
        "case_id": case.id.as_str(),
        "status": status.as_str_name(),
        "member_id": case.member_id,
    })
}

async fn add_brands(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    brand_ids: &[BrandId],
) -> ApiResult<()> {
    if brand_ids.is_empty() {
        return Ok(());
    }
    case_brand::Entity::insert_many(brand_ids.iter().map(|brand| case_brand::ActiveModel {
        case_id: Set(case_id.clone()),
        brand_id: Set(brand.clone()),
    }))
    .on_conflict_do_nothing_on([case_brand::Column::CaseId, case_brand::Column::BrandId])
    .exec(db)
    .await?;
    Ok(())
}

async fn add_listings(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    listings: &[CaseListing],
) -> ApiResult<()> {
    if listings.is_empty() {
        return Ok(());
    }
    case_listing::Entity::insert_many(listings.iter().map(|l| case_listing::ActiveModel {
        case_id: Set(case_id.clone()),
        listing_id: Set(l.listing_id.clone()),
        seller_id: Set(l.seller_id.clone()),
        title: Set(l.title.clone()),
        takedown_time: Set(None),
        reinstate_time: Set(None),
    }))
    .on_conflict_do_nothing_on([
        case_listing::Column::CaseId,
        case_listing::Column::ListingId,
    ])
    .exec(db)
    .await?;
    Ok(())
}

pub async fn find_case(db: &impl ConnectionTrait, id: &CaseId) -> ApiResult<case::Model> {
    assay_common::db::find_or_not_found::<case::Entity, _>(db, "case", id.clone()).await
}

/// The cases already opened from any of `keys` (their `source_key`s), by key.
pub async fn case_ids_by_source_key(
    db: &impl ConnectionTrait,
    keys: &[&str],
) -> ApiResult<HashMap<String, String>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(assay_common::db::ROWS_PER_STATEMENT) {
        let rows: Vec<(String, String)> = case::Entity::find()
            .select_only()
            .columns([case::Column::SourceKey, case::Column::Id])
            .filter(case::Column::SourceKey.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

pub async fn brands_of_case(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
) -> ApiResult<Vec<BrandId>> {
    Ok(case_brand::Entity::find()
        .filter(case_brand::Column::CaseId.eq(case_id.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.brand_id)
        .collect())
}

pub async fn listings_of_case(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
) -> ApiResult<Vec<case_listing::Model>> {
    Ok(case_listing::Entity::find()
        .filter(case_listing::Column::CaseId.eq(case_id.as_str()))
        .order_by_asc(case_listing::Column::ListingId)
        .all(db)
        .await?)
}

/// Applies a decided [`Move`] to the case read as `current`: its status, deadline and
/// fields, its timeline entries in order, and its effects on listings, strikes and
/// screening, all in the caller's transaction.
pub async fn apply_move(
    db: &impl ConnectionTrait,
    current: &case::Model,
    mv: &Move,
    due: Option<DateTime<Utc>>,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<case::Model> {
    let fields = &mv.fields;
    let model = update_case(
        db,
        current,
        |m| {
            m.status = Set(mv.to.as_str_name().to_owned());
            m.due_time = Set(due);
            if let Some(assignee) = &fields.assignee {
                m.assignee = Set(assignee.clone());
            }
            if let Some(note) = &fields.resolution_note {
                m.resolution_note = Set(note.clone());
            }
            if let Some(decision) = fields.decision {
                m.decision = Set(decision.as_str().to_owned());
                m.decision_time = Set(Some(now));
            }
            if let Some(counter) = &fields.counter_notice {
                m.counter_notice = Set(Some(counter.encode_to_vec()));
            }
            if fields.counter_notice_filed {
                m.counter_notice_time = Set(Some(now));
            }
            if let Some(target) = &fields.merged_into {
                m.merged_into = Set(target.clone());
            }
            if let Some(grounds) = &fields.decision_reason_codes {
                m.decision_reason_codes = Set(domain::reasons::encode(grounds));
            }
            if fields.self_service {
                m.self_service = Set(true);
            }
        },
        now,
    )
    .await?;
    for event in &mv.events {
        append_event(db, &current.id, event.clone(), actor, now).await?;
    }
    for effect in &mv.effects {
        match effect {
            Effect::TakeDownListings => take_down_listings(db, &current.id, now).await?,
            Effect::StrikeSellers => strike_sellers(db, &current.id, now).await?,
            Effect::ReinstateListings => reinstate_listings(db, &current.id, now).await?,
            Effect::WithdrawStrikes => withdraw_strikes(db, &current.id, now).await?,
            Effect::Feedback { outcome, why } => queue_feedback(db, &model, *outcome, why).await?,
        }
    }
    Ok(model)
}

/// Queues feedback on the case's hit for screening, when it came from one.
async fn queue_feedback(
    db: &impl ConnectionTrait,
    model: &case::Model,
    outcome: FeedbackOutcome,
    why: &str,
) -> ApiResult<()> {
    if model.hit_id.is_empty() {
        return Ok(());
    }
    let request = RecordHitFeedbackRequest {
        hit_id: model.hit_id.clone(),
        outcome: outcome as i32,
        note: format!("case {}: {why}", model.id)
            .chars()
            .take(2000)
            .collect(),
    };
    outbox::enqueue(
        db,
        topic::HIT_FEEDBACK,
        &format!(
            "{}/{}/{}",
            model.hit_id,
            outcome.as_str_name(),
            model.version
        ),
        request.encode_to_vec(),
    )
    .await
}

/// Assigns a case (the caller decided it may be, and wrote `event`).
pub async fn assign(
    db: &impl ConnectionTrait,
    current: &case::Model,
    assignee: &str,
    event: Event,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<case::Model> {
    let model = update_case(db, current, |m| m.assignee = Set(assignee.to_owned()), now).await?;
    append_event(db, &current.id, event, actor, now).await?;
    Ok(model)
}

/// Marks a case changed (a new version and update time) when only its parts changed.
pub async fn touch_case(
    db: &impl ConnectionTrait,
    current: &case::Model,
    now: DateTime<Utc>,
) -> ApiResult<case::Model> {
    update_case(db, current, |_| {}, now).await
}

/// Writes `change` to a case read at `current.version`, bumping the version; ABORTED if
/// someone changed it since.
async fn update_case(
    db: &impl ConnectionTrait,
    current: &case::Model,
    change: impl FnOnce(&mut case::ActiveModel),
    now: DateTime<Utc>,
) -> ApiResult<case::Model> {
    let mut model: case::ActiveModel = current.clone().into();
    change(&mut model);
    model.version = Set(current.version + 1);
    model.update_time = Set(now);
    let updated = case::Entity::update_many()
        .set(model.clone())
        .filter(case::Column::Id.eq(current.id.as_str()))
        .filter(case::Column::Version.eq(current.version))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(ApiError::stale_etag("case"));
    }
    // The row as written: no need to read it back.
    Ok(model.try_into_model()?)
}

pub async fn set_tags(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    add: &[String],
    remove: &[String],
) -> ApiResult<()> {
    if !remove.is_empty() {
        case_tag::Entity::delete_many()
            .filter(case_tag::Column::CaseId.eq(case_id.as_str()))
            .filter(case_tag::Column::Tag.is_in(remove.iter().map(String::as_str)))
            .exec(db)
            .await?;
    }
    if !add.is_empty() {
        case_tag::Entity::insert_many(add.iter().map(|tag| case_tag::ActiveModel {
            case_id: Set(case_id.clone()),
            tag: Set(tag.clone()),
        }))
        .on_conflict_do_nothing_on([case_tag::Column::CaseId, case_tag::Column::Tag])
        .exec(db)
        .await?;
    }
    Ok(())
}

/// Marks the case's listings taken down (those not already).
pub async fn take_down_listings(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    case_listing::Entity::update_many()
        .col_expr(case_listing::Column::TakedownTime, Expr::value(Some(now)))
        .filter(case_listing::Column::CaseId.eq(case_id.as_str()))
        .filter(case_listing::Column::TakedownTime.is_null())
        .exec(db)
        .await?;
    Ok(())
}

pub async fn reinstate_listings(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    case_listing::Entity::update_many()
        .col_expr(case_listing::Column::ReinstateTime, Expr::value(Some(now)))
        .filter(case_listing::Column::CaseId.eq(case_id.as_str()))
        .filter(case_listing::Column::TakedownTime.is_not_null())
        .filter(case_listing::Column::ReinstateTime.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Filters of ListCases, as validated.
#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    /// Only cases concerning one of these brands (a member's view, or a brand filter).
    pub brand_ids: Option<Vec<String>>,
    pub statuses: Vec<CaseStatus>,
    pub source: Option<CaseSource>,
    pub assignee: Option<String>,
    pub seller_id: Option<String>,
    pub listing_id: Option<String>,
    pub tag: Option<String>,
    /// Only cases whose notice gives it, or whose takedown upheld it.
    pub reason: Option<ReasonCode>,
    pub overdue_at: Option<DateTime<Utc>>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

pub async fn list_cases(
    db: &impl ConnectionTrait,
    filter: &CaseFilter,
    before: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<case::Model>> {
    let mut query = case::Entity::find();
    if let Some(brand_ids) = &filter.brand_ids {
        let concerning = Query::select()
            .column(case_brand::Column::CaseId)
            .from(case_brand::Entity)
            .and_where(case_brand::Column::BrandId.is_in(brand_ids.iter().map(String::as_str)))
            .to_owned();
        query = query.filter(case::Column::Id.in_subquery(concerning));
    }
    if !filter.statuses.is_empty() {
        query = query
            .filter(case::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str_name())));
    }
    if let Some(source) = filter.source {
        query = query.filter(case::Column::Source.eq(source.as_str_name()));
    }
    if let Some(assignee) = &filter.assignee {
        query = query.filter(case::Column::Assignee.eq(assignee.as_str()));
    }
    if let Some(seller) = &filter.seller_id {
        let selling = Query::select()
            .column(case_listing::Column::CaseId)
            .from(case_listing::Entity)
            .and_where(case_listing::Column::SellerId.eq(seller.as_str()))
            .to_owned();
        query = query.filter(case::Column::Id.in_subquery(selling));
    }
    if let Some(listing) = &filter.listing_id {
        let listed = Query::select()
            .column(case_listing::Column::CaseId)
            .from(case_listing::Entity)
            .and_where(case_listing::Column::ListingId.eq(listing.as_str()))
            .to_owned();
        query = query.filter(case::Column::Id.in_subquery(listed));
    }
    if let Some(tag) = &filter.tag {
        let tagged = Query::select()
            .column(case_tag::Column::CaseId)
            .from(case_tag::Entity)
            .and_where(case_tag::Column::Tag.eq(tag.as_str()))
            .to_owned();
        query = query.filter(case::Column::Id.in_subquery(tagged));
    }
    if let Some(reason) = filter.reason {
        // A kept list is names between commas: the name whole, not part of another (its
        // underscores escaped, which LIKE reads as any letter).
        let name = reason.as_str_name();
        let like = |pattern: String| {
            sea_orm::sea_query::LikeExpr::new(pattern.replace('_', "\\_")).escape('\\')
        };
        let mut holds = sea_orm::Condition::any();
        for kept in [case::Column::ReasonCodes, case::Column::DecisionReasonCodes] {
            holds = holds
                .add(kept.eq(name))
                .add(kept.like(like(format!("{name},%"))))
                .add(kept.like(like(format!("%,{name}"))))
                .add(kept.like(like(format!("%,{name},%"))));
        }
        query = query.filter(holds);
    }
    if let Some(now) = filter.overdue_at {
        query = query.filter(case::Column::DueTime.lt(now));
    }
    if let Some(from) = filter.from {
        query = query.filter(case::Column::CreateTime.gte(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(case::Column::CreateTime.lt(until));
    }
    Ok(
        assay_common::db::keyset(query, case::Column::Id, Order::Desc, before, limit)
            .all(db)
            .await?,
    )
}

/// What a case's answer is made of besides its row: brands, listings, tags, and its
/// referral with the outcomes reported, for many cases in a few queries.
#[derive(Default)]
pub struct CaseParts {
    pub brands: HashMap<CaseId, Vec<BrandId>>,
    pub listings: HashMap<CaseId, Vec<case_listing::Model>>,
    pub tags: HashMap<CaseId, Vec<String>>,
    pub referrals: HashMap<CaseId, (referral::Model, Vec<referral_outcome::Model>)>,
}

pub async fn case_parts(db: &impl ConnectionTrait, models: &[case::Model]) -> ApiResult<CaseParts> {
    let mut parts = CaseParts::default();
    if models.is_empty() {
        return Ok(parts);
    }
    let ids: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    for row in case_brand::Entity::find()
        .filter(case_brand::Column::CaseId.is_in(ids.clone()))
        .order_by_asc(case_brand::Column::BrandId)
        .all(db)
        .await?
    {
        parts
            .brands
            .entry(row.case_id)
            .or_default()
            .push(row.brand_id);
    }
    for row in case_listing::Entity::find()
        .filter(case_listing::Column::CaseId.is_in(ids.clone()))
        .order_by_asc(case_listing::Column::ListingId)
        .all(db)
        .await?
    {
        parts
            .listings
            .entry(row.case_id.clone())
            .or_default()
            .push(row);
    }
    for row in case_tag::Entity::find()
        .filter(case_tag::Column::CaseId.is_in(ids.clone()))
        .order_by_asc(case_tag::Column::Tag)
        .all(db)
        .await?
    {
        parts.tags.entry(row.case_id).or_default().push(row.tag);
    }
    for row in referral::Entity::find()
        .filter(referral::Column::CaseId.is_in(ids))
        .all(db)
        .await?
    {
        let outcomes = referral_outcome::Entity::find()
            .filter(referral_outcome::Column::ReferralId.eq(row.id.as_str()))
            .order_by_asc(referral_outcome::Column::Id)
            .all(db)
            .await?;
        parts.referrals.insert(row.case_id.clone(), (row, outcomes));
    }
    Ok(parts)
}

/// Moves everything of `source` to `target`: listings (those the target lacks), brands,
/// tags, evidence and test purchases. Returns the evidence moved.
pub async fn move_case_contents(
    db: &impl ConnectionTrait,
    source: &CaseId,
    target: &CaseId,
) -> ApiResult<Vec<evidence::Model>> {
    let listings: Vec<CaseListing> = listings_of_case(db, source)
        .await?
        .into_iter()
        .map(|l| CaseListing {
            listing_id: l.listing_id,
            seller_id: l.seller_id,
            title: l.title,
            ..CaseListing::default()
        })
        .collect();
    add_listings(db, target, &listings).await?;
    case_listing::Entity::delete_many()
        .filter(case_listing::Column::CaseId.eq(source.as_str()))
        .exec(db)
        .await?;
    add_brands(db, target, &brands_of_case(db, source).await?).await?;
    let tags: Vec<String> = case_tag::Entity::find()
        .filter(case_tag::Column::CaseId.eq(source.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| t.tag)
        .collect();
    set_tags(db, target, &tags, &[]).await?;
    let moved = evidence::Entity::find()
        .filter(evidence::Column::CaseId.eq(source.as_str()))
        .all(db)
        .await?;
    evidence::Entity::update_many()
        .col_expr(evidence::Column::CaseId, Expr::value(target.as_str()))
        .filter(evidence::Column::CaseId.eq(source.as_str()))
        .exec(db)
        .await?;
    test_purchase::Entity::update_many()
        .col_expr(test_purchase::Column::CaseId, Expr::value(target.as_str()))
        .filter(test_purchase::Column::CaseId.eq(source.as_str()))
        .exec(db)
        .await?;
    Ok(moved)
}

/// Closed or merged cases last changed before `before`, by id after `after`, with the
/// (seller, listing) pairs of their listings.
pub async fn purgeable_cases(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    after: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<Purgeable>> {
    let mut query = case::Entity::find()
        .select_only()
        .column(case::Column::Id)
        .filter(case::Column::Status.is_in([
            CaseStatus::Closed.as_str_name(),
            CaseStatus::Merged.as_str_name(),
        ]))
        .filter(case::Column::UpdateTime.lt(before));
    if let Some(after) = after {
        query = query.filter(case::Column::Id.gt(after));
    }
    let ids: Vec<String> = query
        .order_by_asc(case::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let mut listings: HashMap<CaseId, Vec<(String, String)>> = HashMap::new();
    if !ids.is_empty() {
        for row in case_listing::Entity::find()
            .filter(case_listing::Column::CaseId.is_in(ids.iter().map(String::as_str)))
            .all(db)
            .await?
        {
            listings
                .entry(row.case_id)
                .or_default()
                .push((row.seller_id, row.listing_id));
        }
    }
    Ok(ids
        .into_iter()
        .map(|id| Purgeable {
            about: listings.remove(id.as_str()).unwrap_or_default(),
            id,
        })
        .collect())
}

/// Deletes cases and everything of theirs: brands, listings, tags, timeline, evidence with
/// its chain of custody, test purchases, referral with its outcomes. Strikes stay: they are the sellers'
/// record, not the case's.
pub async fn delete_cases(db: &impl ConnectionTrait, ids: &[String]) -> ApiResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    let ids = || ids.iter().map(String::as_str);
    let evidence_ids = Query::select()
        .column(evidence::Column::Id)
        .from(evidence::Entity)
        .and_where(evidence::Column::CaseId.is_in(ids()))
        .to_owned();
    custody_event::Entity::delete_many()
        .filter(custody_event::Column::EvidenceId.in_subquery(evidence_ids))
        .exec(db)
        .await?;
    evidence::Entity::delete_many()
        .filter(evidence::Column::CaseId.is_in(ids()))
        .exec(db)
        .await?;
    test_purchase::Entity::delete_many()
        .filter(test_purchase::Column::CaseId.is_in(ids()))
        .exec(db)
        .await?;
    let referral_ids = Query::select()
        .column(referral::Column::Id)
        .from(referral::Entity)
        .and_where(referral::Column::CaseId.is_in(ids()))
        .to_owned();
    referral_outcome::Entity::delete_many()
        .filter(referral_outcome::Column::ReferralId.in_subquery(referral_ids))
        .exec(db)
        .await?;
    referral::Entity::delete_many()
        .filter(referral::Column::CaseId.is_in(ids()))
        .exec(db)
        .await?;
    case_event::Entity::delete_many()
        .filter(case_event::Column::CaseId.is_in(ids()))
        .exec(db)
        .await?;
    case_tag::Entity::delete_many()
        .filter(case_tag::Column::CaseId.is_in(ids()))
        .exec(db)
        .await?;
    case_listing::Entity::delete_many()
        .filter(case_listing::Column::CaseId.is_in(ids()))
        .exec(db)
        .await?;
    case_brand::Entity::delete_many()
        .filter(case_brand::Column::CaseId.is_in(ids()))
        .exec(db)
        .await?;
    Ok(case::Entity::delete_many()
        .filter(case::Column::Id.is_in(ids()))
        .exec(db)
        .await?
        .rows_affected)
}

pub async fn set_referral_state(
    db: &impl ConnectionTrait,
    referral_id: &ReferralId,
    state: ReferralState,
) -> ApiResult<()> {
    referral::Entity::update_many()
        .col_expr(referral::Column::State, Expr::value(state.as_str_name()))
        .filter(referral::Column::Id.eq(referral_id.as_str()))
        .exec(db)
        .await?;
    Ok(())
}
