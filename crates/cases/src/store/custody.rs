//! Evidence and its chain of custody, and the test purchases whose reports and photos are
//! evidence.

use super::*;
use crate::domain::purchase::NewTestPurchase;
use crate::entity::test_purchase;

pub async fn insert_evidence(
    db: &impl ConnectionTrait,
    id: &EvidenceId,
    case_id: &CaseId,
    new: NewEvidence,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<evidence::Model> {
    let size = new.content.as_ref().map_or(0, |c| c.len() as i64);
    let model = evidence::ActiveModel {
        id: Set(id.clone()),
        case_id: Set(case_id.clone()),
        kind: Set(new.kind.as_str_name().to_owned()),
        description: Set(new.description),
        media_type: Set(new.media_type),
        sha256: Set(new.sha256),
        size_bytes: Set(size),
        content: Set(new.content),
        reference_uri: Set(new.reference_uri),
        added_by: Set(actor.to_owned()),
        add_time: Set(now),
    }
    .insert(db)
    .await?;
    append_custody(db, &model, CustodyAction::Added, actor, "", now).await?;
    append_event(
        db,
        case_id,
        Event::new(
            CaseEventKind::EvidenceAdded,
            format!("evidence {id} added (sha256 {})", model.sha256),
        ),
        actor,
        now,
    )
    .await?;
    Ok(model)
}

pub async fn find_evidence(
    db: &impl ConnectionTrait,
    id: &EvidenceId,
) -> ApiResult<evidence::Model> {
    assay_common::db::find_or_not_found::<evidence::Entity, _>(db, "evidence", id.clone()).await
}

/// Evidence of a case without its content.
pub async fn list_evidence(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    after: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<evidence::Model>> {
    let query = evidence::Entity::find()
        .select_only()
        .columns([
            evidence::Column::Id,
            evidence::Column::CaseId,
            evidence::Column::Kind,
            evidence::Column::Description,
            evidence::Column::MediaType,
            evidence::Column::Sha256,
            evidence::Column::SizeBytes,
            evidence::Column::ReferenceUri,
            evidence::Column::AddedBy,
            evidence::Column::AddTime,
        ])
        .column_as(
            Expr::val(Option::<Vec<u8>>::None),
            evidence::Column::Content,
        )
        .filter(evidence::Column::CaseId.eq(case_id.as_str()));
    Ok(
        assay_common::db::keyset(query, evidence::Column::Id, Order::Asc, after, limit)
            .into_model::<evidence::Model>()
            .all(db)
            .await?,
    )
}

pub async fn append_custody(
    db: &impl ConnectionTrait,
    evidence: &evidence::Model,
    action: CustodyAction,
    actor: &str,
    detail: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let last: Option<i64> = custody_event::Entity::find()
        .select_only()
        .column_as(custody_event::Column::Sequence.max(), "last")
        .filter(custody_event::Column::EvidenceId.eq(evidence.id.as_str()))
        .into_tuple()
        .one(db)
        .await?
        .flatten();
    custody_event::ActiveModel {
        evidence_id: Set(evidence.id.clone()),
        sequence: Set(last.unwrap_or(0) + 1),
        action: Set(action.as_str_name().to_owned()),
        actor: Set(actor.to_owned()),
        time: Set(now),
        sha256: Set(evidence.sha256.clone()),
        detail: Set(detail.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn list_custody(
    db: &impl ConnectionTrait,
    evidence_id: &EvidenceId,
    after: Option<i64>,
    limit: u64,
) -> ApiResult<Vec<CustodyEvent>> {
    let query = custody_event::Entity::find()
        .filter(custody_event::Column::EvidenceId.eq(evidence_id.as_str()));
    Ok(assay_common::db::keyset(
        query,
        custody_event::Column::Sequence,
        Order::Asc,
        after,
        limit,
    )
    .all(db)
    .await?
    .into_iter()
    .map(|e| CustodyEvent {
        sequence: e.sequence,
        action: CustodyAction::from_str_name(&e.action).unwrap_or_default() as i32,
        actor: e.actor,
        time: Some(to_timestamp(e.time)),
        sha256: e.sha256,
        detail: e.detail,
    })
    .collect())
}

/// Records a test purchase whose report and photos were stored as evidence.
#[allow(clippy::too_many_arguments)] // one row, written once
pub async fn insert_test_purchase(
    db: &impl ConnectionTrait,
    id: &TestPurchaseId,
    case_id: &CaseId,
    seller_id: &str,
    purchase: NewTestPurchase,
    report_evidence_id: &EvidenceId,
    photo_evidence_ids: &[EvidenceId],
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<test_purchase::Model> {
    let price_nanos = i64::try_from(purchase.price.nanos)
        .map_err(|_| ApiError::invalid("test_purchase.price_paid", "is too large"))?;
    let photos: Vec<&str> = photo_evidence_ids.iter().map(EvidenceId::as_str).collect();
    Ok(test_purchase::ActiveModel {
        id: Set(id.clone()),
        case_id: Set(case_id.clone()),
        listing_id: Set(purchase.listing_id),
        seller_id: Set(seller_id.to_owned()),
        order_reference: Set(purchase.order_reference),
        order_date: Set(purchase.order_date),
        price_currency: Set(purchase.price.currency.as_str().to_owned()),
        price_nanos: Set(price_nanos),
        delivered_to: Set(purchase.delivered_to),
        authenticator: Set(purchase.authenticator),
        method: Set(purchase.method.as_str_name().to_owned()),
        conclusion: Set(purchase.conclusion.as_str_name().to_owned()),
        findings: Set(purchase.findings),
        report_evidence_id: Set(report_evidence_id.to_string()),
        photo_evidence_ids: Set(photos.join(",")),
        recorded_by: Set(actor.to_owned()),
        record_time: Set(now),
    }
    .insert(db)
    .await?)
}

pub async fn find_test_purchase(
    db: &impl ConnectionTrait,
    id: &TestPurchaseId,
) -> ApiResult<test_purchase::Model> {
    assay_common::db::find_or_not_found::<test_purchase::Entity, _>(db, "test purchase", id.clone())
        .await
}

/// How many test purchases a case holds.
pub async fn test_purchase_count(db: &impl ConnectionTrait, case_id: &CaseId) -> ApiResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(test_purchase::Entity::find()
        .filter(test_purchase::Column::CaseId.eq(case_id.as_str()))
        .count(db)
        .await?)
}

/// One listing of a case, if it has it.
pub async fn listing_of_case(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    listing_id: &str,
) -> ApiResult<Option<case_listing::Model>> {
    Ok(case_listing::Entity::find()
        .filter(case_listing::Column::CaseId.eq(case_id.as_str()))
        .filter(case_listing::Column::ListingId.eq(listing_id))
        .one(db)
        .await?)
}

/// What a test purchase concluded, and the evidence it recorded (its report and photos).
pub fn purchase_findings(
    model: &test_purchase::Model,
) -> (assay_proto::cases::v1::TestPurchaseConclusion, Vec<&str>) {
    let conclusion =
        assay_proto::cases::v1::TestPurchaseConclusion::from_str_name(&model.conclusion)
            .unwrap_or_default();
    let recorded = std::iter::once(model.report_evidence_id.as_str())
        .chain(model.photo_evidence_ids.split(','))
        .filter(|id| !id.is_empty())
        .collect();
    (conclusion, recorded)
}

/// A case's test purchases, oldest first.
pub async fn test_purchases_of(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
    limit: u64,
) -> ApiResult<Vec<test_purchase::Model>> {
    Ok(test_purchase::Entity::find()
        .filter(test_purchase::Column::CaseId.eq(case_id.as_str()))
        .order_by_asc(test_purchase::Column::RecordTime)
        .order_by_asc(test_purchase::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}
