//! Sellers: strikes and identifiers.

use assay_proto::cases::v1::{IdentifierKind, LinkDecision};

use super::*;
use crate::domain::cluster::{
    Cluster, ClusterSearch, IMAGE_BAND, Identifier, NEAR_IMAGE_BITS, image_bands, image_distance,
};
use crate::domain::enforcement::Recorded;
use crate::domain::say;
use assay_proto::common::v1::Message;

/// Gives each seller of the case's listings a strike (once per case).
pub async fn strike_sellers(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let sellers: BTreeSet<String> = listings_of_case(db, case_id)
        .await?
        .into_iter()
        .map(|l| l.seller_id)
        .collect();
    if sellers.is_empty() {
        return Ok(());
    }
    queue_standing(db, sellers.iter().cloned()).await?;
    strike::Entity::insert_many(sellers.into_iter().map(|seller| strike::ActiveModel {
        seller_id: Set(seller),
        case_id: Set(case_id.clone()),
        strike_time: Set(now),
        withdraw_time: Set(None),
    }))
    .on_conflict_do_nothing_on([strike::Column::SellerId, strike::Column::CaseId])
    .exec(db)
    .await?;
    Ok(())
}

pub async fn withdraw_strikes(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let sellers: BTreeSet<String> = strike::Entity::find()
        .filter(strike::Column::CaseId.eq(case_id.as_str()))
        .filter(strike::Column::WithdrawTime.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.seller_id)
        .collect();
    strike::Entity::update_many()
        .col_expr(strike::Column::WithdrawTime, Expr::value(Some(now)))
        .filter(strike::Column::CaseId.eq(case_id.as_str()))
        .filter(strike::Column::WithdrawTime.is_null())
        .exec(db)
        .await?;
    queue_standing(db, sellers).await
}

pub async fn strikes_of(
    db: &impl ConnectionTrait,
    seller_ids: &[String],
) -> ApiResult<Vec<strike::Model>> {
    Ok(strike::Entity::find()
        .filter(strike::Column::SellerId.is_in(seller_ids.iter().map(String::as_str)))
        .order_by_desc(strike::Column::StrikeTime)
        .all(db)
        .await?)
}

pub async fn case_count_of_seller(db: &impl ConnectionTrait, seller_id: &str) -> ApiResult<i64> {
    let count: Option<i64> = case_listing::Entity::find()
        .select_only()
        .column_as(
            Expr::col(case_listing::Column::CaseId).count_distinct(),
            "count",
        )
        .filter(case_listing::Column::SellerId.eq(seller_id))
        .into_tuple()
        .one(db)
        .await?;
    Ok(count.unwrap_or(0))
}

/// Files identifiers under sellers: `(seller id, (kind, normalised value))`. One already
/// filed is kept as it was.
pub async fn record_identifiers(
    db: &impl ConnectionTrait,
    identifiers: &[(String, Identifier)],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if identifiers.is_empty() {
        return Ok(());
    }
    // Each image hash is also filed under its index keys, to find its near duplicates.
    let bands: Vec<(String, Identifier)> = identifiers
        .iter()
        .filter(|(_, (kind, _))| kind == IdentifierKind::ImageHash.as_str_name())
        .flat_map(|(seller, (_, hash))| {
            image_bands(hash)
                .into_iter()
                .map(|band| (seller.clone(), (IMAGE_BAND.to_owned(), band)))
        })
        .collect();
    let rows: Vec<_> = identifiers
        .iter()
        .chain(&bands)
        .map(
            |(seller_id, (kind, value))| seller_identifier::ActiveModel {
                kind: Set(kind.clone()),
                value: Set(value.clone()),
                seller_id: Set(seller_id.clone()),
                record_time: Set(now),
            },
        )
        .collect();
    for chunk in rows.chunks(assay_common::db::ROWS_PER_STATEMENT) {
        seller_identifier::Entity::insert_many(chunk.iter().cloned())
            .on_conflict_do_nothing_on([
                seller_identifier::Column::Kind,
                seller_identifier::Column::Value,
                seller_identifier::Column::SellerId,
            ])
            .exec_without_returning(db)
            .await?;
    }
    // A new identifier changes a standing only where another seller holds it too (for an
    // image, a picture that may be near it): only those sellers' standing is queued, and
    // the relay sends the standing of every member of their clusters.
    let mut ours: BTreeMap<&Identifier, BTreeSet<&str>> = BTreeMap::new();
    for (seller, identifier) in identifiers.iter().chain(&bands) {
        ours.entry(identifier).or_default().insert(seller);
    }
    let probe: Vec<Identifier> = ours.keys().map(|i| (*i).clone()).collect();
    let mut linked: BTreeSet<String> = BTreeSet::new();
    for holder in sellers_with(db, &probe).await? {
        let key = (holder.kind, holder.value);
        for seller in ours.get(&key).into_iter().flatten() {
            if *seller != holder.seller_id {
                linked.insert((*seller).to_owned());
            }
        }
    }
    queue_standing(db, linked).await
}

pub async fn identifiers_of(
    db: &impl ConnectionTrait,
    seller_ids: &[String],
) -> ApiResult<Vec<seller_identifier::Model>> {
    Ok(seller_identifier::Entity::find()
        .filter(seller_identifier::Column::SellerId.is_in(seller_ids.iter().map(String::as_str)))
        .filter(seller_identifier::Column::Kind.ne(IMAGE_BAND))
        .order_by_asc(seller_identifier::Column::Kind)
        .order_by_asc(seller_identifier::Column::Value)
        .all(db)
        .await?)
}

/// Sellers holding any of `identifiers` ((kind, value) pairs).
pub async fn sellers_with(
    db: &impl ConnectionTrait,
    identifiers: &[(String, String)],
) -> ApiResult<Vec<seller_identifier::Model>> {
    let mut found = Vec::new();
    // One query per kind keeps the condition a plain IN list.
    let mut by_kind: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (kind, value) in identifiers {
        by_kind.entry(kind).or_default().push(value);
    }
    for (kind, values) in by_kind {
        for chunk in values.chunks(500) {
            found.extend(
                seller_identifier::Entity::find()
                    .filter(seller_identifier::Column::Kind.eq(kind))
                    .filter(seller_identifier::Column::Value.is_in(chunk.iter().copied()))
                    .all(db)
                    .await?,
            );
        }
    }
    Ok(found)
}

/// The sellers linked to `seller_id` through identifiers they share, breadth first and
/// bounded (see [`ClusterSearch`]).
pub async fn cluster_of(db: &impl ConnectionTrait, seller_id: String) -> ApiResult<Cluster> {
    let image = IdentifierKind::ImageHash.as_str_name();
    let mut search = ClusterSearch::from(seller_id);
    while let Some(seller) = search.next_seller() {
        let decided = link_decisions_of(db, std::slice::from_ref(&seller)).await?;
        search.decided(
            &seller,
            decided.into_iter().map(|link| {
                let confirmed = link.decision == LinkDecision::Confirmed.as_str_name();
                let other = if link.seller_id == seller {
                    link.linked_seller_id
                } else {
                    link.seller_id
                };
                (other, confirmed)
            }),
        );
        let own = identifiers_of(db, std::slice::from_ref(&seller)).await?;
        let keys: Vec<(String, String)> = own.into_iter().map(|i| (i.kind, i.value)).collect();
        let holders = sellers_with(db, &keys).await?;
        search.linked(
            &seller,
            holders
                .into_iter()
                .map(|h| (h.seller_id, (h.kind, h.value))),
        );
        // Near-duplicate product images: candidates by index key, kept by distance.
        let hashes: Vec<&String> = keys
            .iter()
            .filter(|(k, _)| k == image)
            .map(|(_, v)| v)
            .collect();
        if hashes.is_empty() {
            continue;
        }
        let bands: Vec<(String, String)> = hashes
            .iter()
            .flat_map(|h| image_bands(h))
            .map(|band| (IMAGE_BAND.to_owned(), band))
            .collect();
        let candidates: BTreeSet<String> = sellers_with(db, &bands)
            .await?
            .into_iter()
            .map(|b| b.seller_id)
            .filter(|s| *s != seller)
            .collect();
        let candidates: Vec<String> = candidates.into_iter().collect();
        let near = identifiers_of(db, &candidates)
            .await?
            .into_iter()
            .filter(|i| i.kind == image)
            .filter(|i| {
                hashes.iter().any(|h| {
                    image_distance(h, &i.value).is_some_and(|d| d > 0 && d <= NEAR_IMAGE_BITS)
                })
            });
        search.linked(&seller, near.map(|i| (i.seller_id, (i.kind, i.value))));
    }
    Ok(search.finish())
}

/// Analysts' decisions about any of `seller_ids` and another seller, newest first.
pub async fn link_decisions_of(
    db: &impl ConnectionTrait,
    seller_ids: &[String],
) -> ApiResult<Vec<seller_link::Model>> {
    let mut found = Vec::new();
    for chunk in seller_ids.chunks(assay_common::db::ROWS_PER_STATEMENT) {
        let ids = || chunk.iter().map(String::as_str);
        found.extend(
            seller_link::Entity::find()
                .filter(
                    Condition::any()
                        .add(seller_link::Column::SellerId.is_in(ids()))
                        .add(seller_link::Column::LinkedSellerId.is_in(ids())),
                )
                .all(db)
                .await?,
        );
    }
    found.sort_by(|a, b| {
        (b.decide_time, &a.seller_id, &a.linked_seller_id).cmp(&(
            a.decide_time,
            &b.seller_id,
            &b.linked_seller_id,
        ))
    });
    found.dedup_by(|a, b| a.seller_id == b.seller_id && a.linked_seller_id == b.linked_seller_id);
    Ok(found)
}

/// Records an analyst's decision about two sellers, replacing any earlier one, and queues
/// both sellers' standing for screening (a link may have made or unmade a tie to a repeat
/// infringer).
pub async fn decide_link(
    db: &impl ConnectionTrait,
    link: seller_link::Model,
) -> ApiResult<seller_link::Model> {
    seller_link::Entity::insert(seller_link::ActiveModel::from(link.clone()))
        .on_conflict(
            sea_orm::sea_query::OnConflict::columns([
                seller_link::Column::SellerId,
                seller_link::Column::LinkedSellerId,
            ])
            .update_columns([
                seller_link::Column::Decision,
                seller_link::Column::Note,
                seller_link::Column::DecidedBy,
                seller_link::Column::DecideTime,
            ])
            .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    queue_standing(db, [link.seller_id.clone(), link.linked_seller_id.clone()]).await?;
    Ok(link)
}

/// Each seller's strikes: when given, and when withdrawn.
pub async fn strikes_by_seller(
    db: &impl ConnectionTrait,
    seller_ids: &[String],
) -> ApiResult<crate::domain::standing::StrikesBySeller> {
    let mut strikes = crate::domain::standing::StrikesBySeller::new();
    for strike in strikes_of(db, seller_ids).await? {
        strikes
            .entry(strike.seller_id)
            .or_default()
            .push((strike.strike_time, strike.withdraw_time));
    }
    Ok(strikes)
}

/// Queues the sellers' standing for screening: delivered as it is when the relay sends it,
/// so a message is only "this seller changed" (its key is unique to the change).
pub async fn queue_standing(
    db: &impl ConnectionTrait,
    seller_ids: impl IntoIterator<Item = String>,
) -> ApiResult<()> {
    let change = uuid::Uuid::now_v7().simple().to_string();
    let messages: Vec<outbox::Message> = seller_ids
        .into_iter()
        .map(|seller_id| outbox::Message {
            key: format!("{seller_id}/{change}"),
            payload: seller_id.into_bytes(),
            traceparent: assay_common::telemetry::current_traceparent(),
        })
        .collect();
    if messages.is_empty() {
        return Ok(());
    }
    outbox::enqueue_many(db, topic::SELLER_STANDING, messages).await
}

/// Holds the seller until the caller's transaction ends, so that two decisions about its
/// strikes count them one after the other. On PostgreSQL a transaction-scoped advisory
/// lock on the seller's id; SQLite has one writer anyway.
pub async fn lock_seller(db: &impl ConnectionTrait, seller_id: &str) -> ApiResult<()> {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    db.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        [format!("assay.seller/{seller_id}").into()],
    ))
    .await?;
    Ok(())
}

/// The seller's enforcement level as its latest action left it: NONE without one.
pub async fn enforcement_of(db: &impl ConnectionTrait, seller_id: &str) -> ApiResult<Recorded> {
    let latest = enforcement_action::Entity::find()
        .filter(enforcement_action::Column::SellerId.eq(seller_id))
        .order_by_desc(enforcement_action::Column::Sequence)
        .one(db)
        .await?;
    match latest {
        None => Ok(Recorded {
            level: EnforcementLevel::None,
            linked_seller_id: None,
        }),
        Some(action) => Ok(Recorded {
            level: EnforcementLevel::from_str_name(&action.level)
                .ok_or_else(|| corrupt("enforcement level", &action.level))?,
            linked_seller_id: action.linked_seller_id,
        }),
    }
}

/// Queues another look at the enforcement level of each of `seller_ids`, in its own
/// transaction (see [`crate::relay::EnforcementChecks`]); `spread`: and, after it, at that
/// of every seller in its cluster.
pub async fn queue_enforcement_checks(
    db: &impl ConnectionTrait,
    seller_ids: impl IntoIterator<Item = String>,
    spread: bool,
) -> ApiResult<()> {
    let change = uuid::Uuid::now_v7().simple().to_string();
    let messages: Vec<outbox::Message> = seller_ids
        .into_iter()
        .map(|seller_id| outbox::Message {
            key: format!("{seller_id}/{change}"),
            payload: EnforcementCheck { seller_id, spread }.encode(),
            traceparent: assay_common::telemetry::current_traceparent(),
        })
        .collect();
    if messages.is_empty() {
        return Ok(());
    }
    outbox::enqueue_many(db, topic::ENFORCEMENT_CHECK, messages).await
}

/// One queued look at a seller's enforcement level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnforcementCheck {
    pub seller_id: String,
    pub spread: bool,
}

impl EnforcementCheck {
    fn encode(&self) -> Vec<u8> {
        let mode = if self.spread { "spread" } else { "check" };
        format!("{mode}:{}", self.seller_id).into_bytes()
    }

    pub fn decode(payload: &[u8]) -> Option<Self> {
        let text = std::str::from_utf8(payload).ok()?;
        let (mode, seller_id) = text.split_once(':')?;
        let spread = match mode {
            "spread" => true,
            "check" => false,
            _ => return None,
        };
        Some(Self {
            seller_id: seller_id.to_owned(),
            spread,
        })
    }
}

/// A change of a seller's enforcement level.
pub struct NewEnforcement<'a> {
    pub seller_id: &'a str,
    pub level: EnforcementLevel,
    pub previous: EnforcementLevel,
    pub active_strikes: u32,
    pub case_ids: Vec<String>,
    pub reason: Message,
    /// The suspended seller it is suspended with, as a linked storefront.
    pub linked_seller_id: Option<String>,
}

pub async fn record_enforcement(
    db: &impl ConnectionTrait,
    action: NewEnforcement<'_>,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let data = serde_json::json!({
        "seller_id": action.seller_id,
        "level": action.level.as_str_name(),
        "previous_level": action.previous.as_str_name(),
        "active_strikes": action.active_strikes,
        "case_ids": action.case_ids,
        "reason": say::english(&action.reason),
        "reasons": say::in_every_language(&action.reason),
        "linked_seller_id": action.linked_seller_id,
    });
    notify(
        db,
        Recipients::SellerManagement,
        EventType::EnforcementAction,
        data,
        now,
    )
    .await?;
    enforcement_action::ActiveModel {
        seller_id: Set(action.seller_id.to_owned()),
        level: Set(action.level.as_str_name().to_owned()),
        previous_level: Set(action.previous.as_str_name().to_owned()),
        active_strikes: Set(i32::try_from(action.active_strikes).unwrap_or(i32::MAX)),
        case_ids: Set(action.case_ids.join(",")),
        reason: Set(say::english(&action.reason)),
        create_time: Set(now),
        linked_seller_id: Set(action.linked_seller_id),
        reason_message: Set(Some(say::to_kept(&action.reason))),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Sellers whose latest enforcement action left them above NONE: those an expired strike
/// may step back.
pub async fn enforced_sellers(db: &impl ConnectionTrait) -> ApiResult<Vec<String>> {
    let latest = Query::select()
        .expr(Expr::col(enforcement_action::Column::Sequence).max())
        .from(enforcement_action::Entity)
        .group_by_col(enforcement_action::Column::SellerId)
        .to_owned();
    Ok(enforcement_action::Entity::find()
        .select_only()
        .column(enforcement_action::Column::SellerId)
        .filter(enforcement_action::Column::Sequence.in_subquery(latest))
        .filter(enforcement_action::Column::Level.ne(EnforcementLevel::None.as_str_name()))
        .order_by_asc(enforcement_action::Column::SellerId)
        .into_tuple()
        .all(db)
        .await?)
}

/// Actions after `after`, oldest first, of one seller or all.
pub async fn enforcement_actions(
    db: &impl ConnectionTrait,
    after: i64,
    seller_id: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<enforcement_action::Model>> {
    let mut query = enforcement_action::Entity::find()
        .filter(enforcement_action::Column::Sequence.gt(after))
        .order_by_asc(enforcement_action::Column::Sequence)
        .limit(limit);
    if let Some(seller_id) = seller_id {
        query = query.filter(enforcement_action::Column::SellerId.eq(seller_id));
    }
    Ok(query.all(db).await?)
}

#[cfg(test)]
mod tests {
    use super::EnforcementCheck;

    #[test]
    fn a_queued_enforcement_check_reads_back_as_written() {
        for spread in [true, false] {
            let check = EnforcementCheck {
                seller_id: "shop:with:colons".to_owned(),
                spread,
            };
            assert_eq!(EnforcementCheck::decode(&check.encode()), Some(check));
        }
        assert_eq!(EnforcementCheck::decode(b"later:S-1"), None);
        assert_eq!(EnforcementCheck::decode(b"S-1"), None);
        assert_eq!(EnforcementCheck::decode(&[0xff, b':']), None);
    }
}
