//! Screening's persistence: rules with their history, and hits with their feedback.

use std::collections::HashMap;

use assay_common::db::{ROWS_PER_STATEMENT, insert_all, insert_all_new};
use assay_common::holds::Purgeable;
use assay_common::ids::{BrandId, HitId, RuleId};
use assay_common::language::Language;
use assay_common::time::to_timestamp;
use assay_common::{ApiError, ApiResult, outbox};
use assay_proto::screening::v1::{
    Calibration, Decision, FeedbackOutcome, Hit, HitAlert, Listing, SignalKind, Verdict,
    WrittenExplanations,
};
use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    Order, QueryFilter, QueryOrder, QuerySelect,
};
use sha2::{Digest, Sha256};

use crate::calibration::Shifts;
use crate::convert;
use crate::engine::say;
use crate::entity::{
    calibration, hit, hit_brand, rule, rule_revision, rule_state, seller_standing,
};
use crate::rules::{self, RuleSet, RuleSpec};

fn corrupt(what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::internal(anyhow::anyhow!("corrupt {what} in the database: {error}"))
}

// ---------------------------------------------------------------------------------------
// Rules

pub fn rule_spec(model: &rule::Model) -> ApiResult<RuleSpec> {
    Ok(RuleSpec {
        description: model.description.clone(),
        vocabulary: serde_json::from_str(&model.vocabulary)
            .map_err(|e| corrupt("vocabulary", e))?,
        review_threshold: model.review_threshold,
        block_threshold: model.block_threshold,
        ambiguous_terms: serde_json::from_str(&model.ambiguous_terms)
            .map_err(|e| corrupt("ambiguous terms", e))?,
    })
}

fn fill_rule(model: &mut rule::ActiveModel, spec: &RuleSpec) {
    model.description = Set(spec.description.clone());
    model.vocabulary = Set(serde_json::to_string(&spec.vocabulary).unwrap_or_else(|_| "[]".into()));
    model.review_threshold = Set(spec.review_threshold);
    model.block_threshold = Set(spec.block_threshold);
    model.ambiguous_terms =
        Set(serde_json::to_string(&spec.ambiguous_terms).unwrap_or_else(|_| "[]".into()));
}

/// Bumps the rule set version (taking its row lock, which orders concurrent changes).
async fn bump_rule_version(db: &impl ConnectionTrait) -> ApiResult<i64> {
    rule_state::Entity::update_many()
        .col_expr(
            rule_state::Column::Version,
            Expr::col(rule_state::Column::Version).add(1),
        )
        .filter(rule_state::Column::Id.eq(1))
        .exec(db)
        .await?;
    rule_version(db).await
}

pub async fn rule_version(db: &impl ConnectionTrait) -> ApiResult<i64> {
    Ok(rule_state(db).await?.version)
}

async fn record_revision(
    db: &impl ConnectionTrait,
    model: &rule::Model,
    deleted: bool,
    now: DateTime<Utc>,
) -> ApiResult<i64> {
    let set_version = bump_rule_version(db).await?;
    rule_revision::ActiveModel {
        rule_id: Set(model.id.clone()),
        version: Set(model.version),
        rule_set_version: Set(set_version),
        deleted: Set(deleted),
        body: Set(crate::convert::rule(model)?.encode_to_vec()),
        change_time: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(set_version)
}

pub async fn insert_rule(
    db: &impl ConnectionTrait,
    id: &RuleId,
    brand_id: &str,
    spec: &RuleSpec,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<rule::Model> {
    let mut model = rule::ActiveModel {
        id: Set(id.clone()),
        brand_id: Set(brand_id.to_owned()),
        version: Set(1),
        create_time: Set(now),
        update_time: Set(now),
        updated_by: Set(actor.to_owned()),
        ..Default::default()
    };
    fill_rule(&mut model, spec);
    let model = model.insert(db).await?;
    record_revision(db, &model, false, now).await?;
    Ok(model)
}

pub async fn get_rule(db: &impl ConnectionTrait, id: &RuleId) -> ApiResult<rule::Model> {
    assay_common::db::find_or_not_found::<rule::Entity, _>(db, "rule", id.clone()).await
}

pub async fn update_rule(
    db: &impl ConnectionTrait,
    current: rule::Model,
    spec: &RuleSpec,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<rule::Model> {
    let version = current.version + 1;
    let mut model = current.into_active_model();
    fill_rule(&mut model, spec);
    model.version = Set(version);
    model.update_time = Set(now);
    model.updated_by = Set(actor.to_owned());
    let model = model.update(db).await?;
    record_revision(db, &model, false, now).await?;
    Ok(model)
}

pub async fn delete_rule(
    db: &impl ConnectionTrait,
    current: rule::Model,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let mut last = current.clone();
    last.version += 1;
    last.update_time = now;
    last.updated_by = actor.to_owned();
    rule::Entity::delete_by_id(current.id.clone())
        .exec(db)
        .await?;
    record_revision(db, &last, true, now).await?;
    Ok(())
}

pub async fn list_rules(
    db: &impl ConnectionTrait,
    brand_ids: Option<&[String]>,
    after: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<rule::Model>> {
    let mut query = rule::Entity::find();
    if let Some(brand_ids) = brand_ids {
        query = query.filter(rule::Column::BrandId.is_in(brand_ids.iter().map(String::as_str)));
    }
    Ok(
        assay_common::db::keyset(query, rule::Column::Id, Order::Asc, after, limit)
            .all(db)
            .await?,
    )
}

pub async fn list_revisions(
    db: &impl ConnectionTrait,
    rule_id: &str,
    before_version: Option<i64>,
    limit: u64,
) -> ApiResult<Vec<rule_revision::Model>> {
    let mut query = rule_revision::Entity::find().filter(rule_revision::Column::RuleId.eq(rule_id));
    if let Some(before) = before_version {
        query = query.filter(rule_revision::Column::Version.lt(before));
    }
    Ok(query
        .order_by_desc(rule_revision::Column::Version)
        .limit(limit)
        .all(db)
        .await?)
}

/// What the engine is compiled from besides the catalogue: every rule, the calibration in
/// use and the rule set version that names both.
pub async fn load_rules(db: &impl ConnectionTrait) -> ApiResult<(i64, RuleSet)> {
    let state = rule_state(db).await?;
    let models = rule::Entity::find()
        .order_by_asc(rule::Column::Id)
        .all(db)
        .await?;
    let rules = models
        .iter()
        .map(|m| Ok(rules::input(&m.brand_id, &rule_spec(m)?)))
        .collect::<ApiResult<_>>()?;
    let calibration = shifts_of(db, state.calibration_version).await?;
    Ok((state.version, RuleSet { rules, calibration }))
}

// ---------------------------------------------------------------------------------------
// Calibrations

async fn rule_state(db: &impl ConnectionTrait) -> ApiResult<rule_state::Model> {
    rule_state::Entity::find_by_id(1)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("rule_state row is missing")))
}

/// The calibration version in use (0: none).
pub async fn active_calibration(db: &impl ConnectionTrait) -> ApiResult<i64> {
    Ok(rule_state(db).await?.calibration_version)
}

/// The shifts of calibration `version` (none for 0).
pub async fn shifts_of(db: &impl ConnectionTrait, version: i64) -> ApiResult<Shifts> {
    if version == 0 {
        return Ok(Shifts::default());
    }
    let model = get_calibration(db, version).await?;
    Ok(convert::shifts(&convert::calibration(&model, true)?))
}

pub async fn insert_calibration(
    db: &impl ConnectionTrait,
    body: &Calibration,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<calibration::Model> {
    Ok(calibration::ActiveModel {
        create_time: Set(now),
        created_by: Set(actor.to_owned()),
        body: Set(body.encode_to_vec()),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

pub async fn get_calibration(
    db: &impl ConnectionTrait,
    version: i64,
) -> ApiResult<calibration::Model> {
    assay_common::db::find_or_not_found::<calibration::Entity, _>(db, "calibration", version).await
}

/// Calibrations, newest first, older than `before`.
pub async fn list_calibrations(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    limit: u64,
) -> ApiResult<Vec<calibration::Model>> {
    Ok(assay_common::db::keyset(
        calibration::Entity::find(),
        calibration::Column::Version,
        Order::Desc,
        before,
        limit,
    )
    .all(db)
    .await?)
}

/// Puts calibration `version` in use (0: none) under a new rule set version, which it
/// returns.
pub async fn activate_calibration(db: &impl ConnectionTrait, version: i64) -> ApiResult<i64> {
    rule_state::Entity::update_many()
        .col_expr(rule_state::Column::CalibrationVersion, Expr::value(version))
        .filter(rule_state::Column::Id.eq(1))
        .exec(db)
        .await?;
    bump_rule_version(db).await
}

/// A page of hits with feedback screened in the period, newest first, older than `before`:
/// (id, outcome, encoded verdict).
pub async fn feedback_verdicts(
    db: &impl ConnectionTrait,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    before: Option<HitId>,
    limit: u64,
) -> ApiResult<Vec<(HitId, FeedbackOutcome, Vec<u8>)>> {
    let mut query = hit::Entity::find().filter(hit::Column::FeedbackOutcome.is_not_null());
    if let Some(from) = from {
        query = query.filter(hit::Column::CreateTime.gte(from));
    }
    if let Some(until) = until {
        query = query.filter(hit::Column::CreateTime.lt(until));
    }
    let rows: Vec<(HitId, Option<String>, Vec<u8>)> =
        assay_common::db::keyset(query, hit::Column::Id, Order::Desc, before, limit)
            .select_only()
            .columns([
                hit::Column::Id,
                hit::Column::FeedbackOutcome,
                hit::Column::Verdict,
            ])
            .into_tuple()
            .all(db)
            .await?;
    rows.into_iter()
        .map(|(id, outcome, verdict)| {
            let outcome = outcome
                .as_deref()
                .and_then(FeedbackOutcome::from_str_name)
                .ok_or_else(|| corrupt("feedback outcome", outcome.unwrap_or_default()))?;
            Ok((id, outcome, verdict))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Hits

/// What makes two screenings the same hit: the listing (encoded), its content, and the
/// outcome.
pub fn dedup_key(listing: &[u8], verdict: &Verdict) -> String {
    let mut hasher = Sha256::new();
    hasher.update(listing);
    hasher.update([0]);
    hasher.update(verdict.decision.to_le_bytes());
    for brand in &verdict.brands {
        hasher.update(brand.brand_id.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

fn signal_kinds(verdict: &Verdict) -> String {
    let mut kinds: Vec<&str> = verdict
        .signals
        .iter()
        .filter(|s| s.contribution > 0.0)
        .filter_map(|s| SignalKind::try_from(s.kind).ok())
        .map(|k| k.as_str_name())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds.join(",")
}

/// A hit ready to be written: its row, its brands and its alert for case management,
/// prepared by the caller so that the writer only writes.
#[derive(Debug, Clone)]
pub struct NewHit {
    pub row: hit::Model,
    pub brands: Vec<BrandId>,
    /// The encoded `HitAlert` for the outbox.
    pub alert: Vec<u8>,
    /// The trace the screening ran in, which the alert continues.
    pub traceparent: String,
}

/// Prepares the hit of a listing that was not allowed, as `id`, screened `now`. The verdict
/// is stored as the engine gave it, its explanations as messages only.
pub fn new_hit(id: HitId, listing: &Listing, verdict: &Verdict, now: DateTime<Utc>) -> NewHit {
    let encoded = listing.encode_to_vec();
    let key = dedup_key(&encoded, verdict);
    let decision = Decision::try_from(verdict.decision).unwrap_or_default();
    // The engine's brands are the catalogue's, whose ids the registry issued.
    let mut brands: Vec<BrandId> = verdict
        .brands
        .iter()
        .map(|b| BrandId::from_trusted(b.brand_id.clone()))
        .collect();
    brands.sort_unstable();
    brands.dedup();
    // Case management reads the alert's explanations as they are: in English, and in the
    // other languages beside them, for its readers.
    let mut explained = verdict.clone();
    say::write(&mut explained, Language::English);
    let translations = Language::ALL
        .into_iter()
        .filter(|language| *language != Language::English)
        .map(|language| WrittenExplanations {
            language: language.tag().to_owned(),
            explanations: say::explanations(verdict, language),
        })
        .collect();
    let alert = HitAlert {
        hit: Some(Hit {
            id: id.to_string(),
            listing: Some(listing.clone()),
            verdict: Some(explained),
            feedback: None,
            create_time: Some(to_timestamp(now)),
        }),
        traceparent: String::new(),
        translations,
    };
    NewHit {
        row: hit::Model {
            id,
            listing_id: listing.listing_id.clone(),
            seller_id: listing.seller_id.clone(),
            decision: decision.as_str_name().to_owned(),
            risk_score: verdict.risk_score,
            dedup_key: key,
            signal_kinds: signal_kinds(verdict),
            catalogue_revision: verdict.catalogue_revision,
            rule_version: verdict.rule_version,
            listing: encoded,
            verdict: verdict.encode_to_vec(),
            create_time: now,
            feedback_outcome: None,
            feedback_note: String::new(),
            feedback_by: String::new(),
            feedback_time: None,
        },
        brands,
        alert: alert.encode_to_vec(),
        traceparent: assay_common::telemetry::current_traceparent(),
    }
}

/// The ids of the hits already stored under any of `keys`, by key.
pub async fn hit_ids_by_key(
    db: &impl ConnectionTrait,
    keys: &[&str],
) -> ApiResult<HashMap<String, HitId>> {
    let mut found = HashMap::new();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let rows: Vec<(String, HitId)> = hit::Entity::find()
            .select_only()
            .columns([hit::Column::DedupKey, hit::Column::Id])
            .filter(hit::Column::DedupKey.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows);
    }
    Ok(found)
}

/// Stores hits, their brands and their outbox messages in the caller's transaction, a few
/// hundred rows per statement.
///
/// A hit whose dedup key another writer (the other lane, or a replica) stores at the same
/// moment is left to it, with its brands and alert: on PostgreSQL the insert waits for that
/// writer's commit. Returns those hits' keys with the ids the other writer stored them
/// under (none, unless writers met).
pub async fn insert_hits(
    db: &impl ConnectionTrait,
    hits: &[&NewHit],
) -> ApiResult<HashMap<String, HitId>> {
    let mut in_key_order = hits.to_vec();
    in_key_order.sort_unstable_by(|a, b| a.row.dedup_key.cmp(&b.row.dedup_key));
    let rows = in_key_order
        .iter()
        .map(|h| h.row.clone().into_active_model());
    let inserted = insert_all_new(db, rows.collect(), hit::Column::DedupKey).await?;
    let mut theirs = HashMap::new();
    let mut hits = hits.to_vec();
    if inserted < hits.len() as u64 {
        let keys: Vec<&str> = hits.iter().map(|h| h.row.dedup_key.as_str()).collect();
        let stored = hit_ids_by_key(db, &keys).await?;
        for hit in &hits {
            match stored.get(&hit.row.dedup_key) {
                Some(id) if *id == hit.row.id => {}
                Some(id) => {
                    theirs.insert(hit.row.dedup_key.clone(), id.clone());
                }
                // Stored by another writer and gone again (purged) before this one read it.
                None => {
                    return Err(ApiError::Aborted(
                        "a hit was stored and removed concurrently: retry the request".to_owned(),
                    ));
                }
            }
        }
        hits.retain(|h| !theirs.contains_key(&h.row.dedup_key));
    }
    let brands = hits.iter().flat_map(|h| {
        h.brands.iter().map(|brand_id| hit_brand::ActiveModel {
            brand_id: Set(brand_id.clone()),
            hit_id: Set(h.row.id.clone()),
        })
    });
    insert_all(db, brands.collect()).await?;
    let alerts = hits.iter().map(|h| outbox::Message {
        key: h.row.id.to_string(),
        payload: h.alert.clone(),
        traceparent: h.traceparent.clone(),
    });
    outbox::enqueue_many(db, outbox::topic::SCREENING_HIT, alerts).await?;
    Ok(theirs)
}

pub async fn get_hit(db: &impl ConnectionTrait, id: &HitId) -> ApiResult<hit::Model> {
    assay_common::db::find_or_not_found::<hit::Entity, _>(db, "hit", id.clone()).await
}

/// The brands a hit concerns.
pub async fn hit_brands(db: &impl ConnectionTrait, hit_id: &HitId) -> ApiResult<Vec<BrandId>> {
    Ok(hit_brand::Entity::find()
        .filter(hit_brand::Column::HitId.eq(hit_id.as_str()))
        .all(db)
        .await?
        .into_iter()
        .map(|b| b.brand_id)
        .collect())
}

/// Hits screened before `before`, by id after `after`: (id, seller, listing).
pub async fn hits_before(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    after: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<Purgeable>> {
    let mut query = hit::Entity::find()
        .select_only()
        .columns([
            hit::Column::Id,
            hit::Column::SellerId,
            hit::Column::ListingId,
        ])
        .filter(hit::Column::CreateTime.lt(before));
    if let Some(after) = after {
        query = query.filter(hit::Column::Id.gt(after));
    }
    let rows: Vec<(String, String, String)> = query
        .order_by_asc(hit::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, seller, listing)| Purgeable {
            id,
            about: vec![(seller, listing)],
        })
        .collect())
}

/// Deletes hits and what hangs off them.
pub async fn delete_hits(db: &impl ConnectionTrait, ids: &[String]) -> ApiResult<u64> {
    if ids.is_empty() {
        return Ok(0);
    }
    hit_brand::Entity::delete_many()
        .filter(hit_brand::Column::HitId.is_in(ids.iter().map(String::as_str)))
        .exec(db)
        .await?;
    Ok(hit::Entity::delete_many()
        .filter(hit::Column::Id.is_in(ids.iter().map(String::as_str)))
        .exec(db)
        .await?
        .rows_affected)
}

#[derive(Debug, Default)]
pub struct HitFilter {
    /// Only hits concerning one of these brands.
    pub brand_ids: Option<Vec<String>>,
    pub seller_id: Option<String>,
    pub listing_id: Option<String>,
    pub decision: Option<Decision>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Hits newest first, before the cursor `before`.
pub async fn list_hits(
    db: &impl ConnectionTrait,
    filter: &HitFilter,
    before: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<hit::Model>> {
    let mut query = hit::Entity::find();
    if let Some(brand_ids) = &filter.brand_ids {
        let concerning = Query::select()
            .column(hit_brand::Column::HitId)
            .from(hit_brand::Entity)
            .and_where(hit_brand::Column::BrandId.is_in(brand_ids.iter().map(String::as_str)))
            .to_owned();
        query = query.filter(hit::Column::Id.in_subquery(concerning));
    }
    if let Some(seller) = &filter.seller_id {
        query = query.filter(hit::Column::SellerId.eq(seller.as_str()));
    }
    if let Some(listing) = &filter.listing_id {
        query = query.filter(hit::Column::ListingId.eq(listing.as_str()));
    }
    if let Some(decision) = filter.decision {
        query = query.filter(hit::Column::Decision.eq(decision.as_str_name()));
    }
    if let Some(from) = filter.from {
        query = query.filter(hit::Column::CreateTime.gte(from));
    }
    if let Some(until) = filter.until {
        query = query.filter(hit::Column::CreateTime.lt(until));
    }
    Ok(
        assay_common::db::keyset(query, hit::Column::Id, Order::Desc, before, limit)
            .all(db)
            .await?,
    )
}

pub async fn record_feedback(
    db: &impl ConnectionTrait,
    current: hit::Model,
    outcome: FeedbackOutcome,
    note: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<hit::Model> {
    let mut model = current.into_active_model();
    model.feedback_outcome = Set(Some(outcome.as_str_name().to_owned()));
    model.feedback_note = Set(note.to_owned());
    model.feedback_by = Set(actor.to_owned());
    model.feedback_time = Set(Some(now));
    Ok(model.update(db).await?)
}

/// Hits with feedback screened in the period: (outcome, risk, signal kinds, brand ids).
pub async fn feedback_in(
    db: &impl ConnectionTrait,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> ApiResult<Vec<(FeedbackOutcome, f64, Vec<String>, Vec<String>)>> {
    let mut query = hit::Entity::find().filter(hit::Column::FeedbackOutcome.is_not_null());
    if let Some(from) = from {
        query = query.filter(hit::Column::CreateTime.gte(from));
    }
    if let Some(until) = until {
        query = query.filter(hit::Column::CreateTime.lt(until));
    }
    let hits = query.all(db).await?;
    let ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    let mut brands: HashMap<HitId, Vec<String>> = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        for row in hit_brand::Entity::find()
            .filter(hit_brand::Column::HitId.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            brands
                .entry(row.hit_id)
                .or_default()
                .push(row.brand_id.into_string());
        }
    }
    hits.into_iter()
        .map(|h| {
            let outcome = h
                .feedback_outcome
                .as_deref()
                .and_then(FeedbackOutcome::from_str_name)
                .ok_or_else(|| {
                    corrupt(
                        "feedback outcome",
                        h.feedback_outcome.clone().unwrap_or_default(),
                    )
                })?;
            let kinds = h
                .signal_kinds
                .split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect();
            let brands = brands.remove(&h.id).unwrap_or_default();
            Ok((outcome, h.risk_score, kinds, brands))
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Seller standings

/// Records standings, each only where it is newer than the one held; returns how many
/// were recorded. One statement per standing, in the caller's transaction.
pub async fn record_seller_standings(
    db: &impl ConnectionTrait,
    standings: &[(String, crate::sellers::Standing)],
    now: DateTime<Utc>,
) -> ApiResult<u64> {
    use sea_orm::sea_query::{Alias, OnConflict};
    use seller_standing::Column;
    let mut recorded = 0;
    // In the order of their ids, as every writer of standings does: two transactions then
    // never wait on each other's rows.
    let mut ordered: Vec<&(String, crate::sellers::Standing)> = standings.iter().collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    for (seller_id, standing) in ordered {
        let row = seller_standing::ActiveModel {
            seller_id: Set(seller_id.clone()),
            as_of: Set(standing.as_of),
            update_time: Set(now),
            standing: Set(standing.to_proto(seller_id).encode_to_vec()),
        };
        let newer = Expr::col((seller_standing::Entity, Column::AsOf))
            .lt(Expr::col((Alias::new("excluded"), Column::AsOf)));
        let result = seller_standing::Entity::insert(row)
            .on_conflict(
                OnConflict::column(Column::SellerId)
                    .update_columns([Column::AsOf, Column::UpdateTime, Column::Standing])
                    .action_and_where(newer)
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        recorded += result;
    }
    Ok(recorded)
}

/// Standings recorded at or after `since` (all of them without it).
pub async fn seller_standings_since(
    db: &impl ConnectionTrait,
    since: Option<DateTime<Utc>>,
) -> ApiResult<Vec<seller_standing::Model>> {
    let mut query = seller_standing::Entity::find();
    if let Some(since) = since {
        query = query.filter(seller_standing::Column::UpdateTime.gte(since));
    }
    Ok(query.all(db).await?)
}

pub async fn seller_standing(
    db: &impl ConnectionTrait,
    seller_id: &str,
) -> ApiResult<Option<crate::sellers::Standing>> {
    seller_standing::Entity::find_by_id(seller_id.to_owned())
        .one(db)
        .await?
        .map(|row| decode_standing(&row))
        .transpose()
}

pub fn decode_standing(row: &seller_standing::Model) -> ApiResult<crate::sellers::Standing> {
    let proto = assay_proto::screening::v1::SellerStanding::decode(row.standing.as_slice())
        .map_err(|e| corrupt("seller standing", e))?;
    let mut violations = assay_common::FieldViolations::new();
    crate::sellers::Standing::check(&proto, "standing", &mut violations)
        .filter(|_| violations.is_empty())
        .map(|(_, standing)| standing)
        .ok_or_else(|| corrupt("seller standing", violations))
}
