//! Entities to protos: what the store read, as callers see it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use assay_common::ids::{BrandId, CaseId};
use assay_common::language;
use assay_common::resource::etag;
use assay_common::time::{opt_timestamp, to_timestamp};
use assay_common::{ApiError, ApiResult};
use assay_proto::cases::v1::{
    Case, CaseEvent, CaseEventKind, CaseListing, CaseSource, CaseStatus, Evidence, EvidenceKind,
    ReasonCode, ReasonFigures, Referral, ReferralOutcome, ReferralState,
};
use chrono::{DateTime, Utc};
use prost::Message;

use crate::domain::say;
use crate::entity::{case, case_event, case_listing, evidence, referral, referral_outcome};
use crate::store::{self, CaseParts};

/// The cases as callers see them at `now` (whether each is overdue), with their parts.
pub fn cases(
    models: &[case::Model],
    mut parts: CaseParts,
    now: DateTime<Utc>,
) -> ApiResult<Vec<Case>> {
    let mut referrals: HashMap<CaseId, Referral> = HashMap::new();
    for (case_id, (row, outcomes)) in parts.referrals.drain() {
        referrals.insert(case_id, referral(&row, &outcomes)?);
    }
    models
        .iter()
        .map(|m| {
            Ok(Case {
                id: m.id.to_string(),
                source: CaseSource::from_str_name(&m.source).unwrap_or_default() as i32,
                status: store::status_of(m)? as i32,
                title: m.title.clone(),
                summary: say::summary(
                    &m.summary,
                    m.summary_translations.as_deref(),
                    language::current(),
                ),
                brand_ids: parts
                    .brands
                    .remove(&m.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(BrandId::into_string)
                    .collect(),
                listings: parts
                    .listings
                    .remove(&m.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(listing)
                    .collect(),
                member_id: m.member_id.clone(),
                ip_right_id: m.ip_right_id.clone(),
                hit_id: m.hit_id.clone(),
                risk_score: m.risk_score,
                assignee: m.assignee.clone(),
                tags: parts.tags.remove(&m.id).unwrap_or_default(),
                due_time: opt_timestamp(m.due_time),
                overdue: m.due_time.is_some_and(|due| due < now),
                sla_breach_time: opt_timestamp(m.sla_breach_time),
                fast_track: m.fast_track,
                counter_notice: store::counter_notice_of(m)?,
                referral: referrals.remove(&m.id),
                merged_into_case_id: m.merged_into.clone(),
                resolution_note: m.resolution_note.clone(),
                create_time: Some(to_timestamp(m.create_time)),
                update_time: Some(to_timestamp(m.update_time)),
                etag: etag(m.version),
                reason_codes: grounds(&m.reason_codes),
                decision_reason_codes: grounds(&m.decision_reason_codes),
                self_service: m.self_service,
            })
        })
        .collect()
}

/// One row per ground with any notice or takedown, in the order of the enum.
pub fn reason_figures(
    notices: &BTreeMap<ReasonCode, i64>,
    takedowns: &BTreeMap<ReasonCode, i64>,
) -> Vec<ReasonFigures> {
    let grounds: BTreeSet<ReasonCode> = notices.keys().chain(takedowns.keys()).copied().collect();
    grounds
        .into_iter()
        .map(|ground| ReasonFigures {
            reason: ground as i32,
            notices: notices.get(&ground).copied().unwrap_or(0),
            takedowns: takedowns.get(&ground).copied().unwrap_or(0),
        })
        .collect()
}

pub fn self_service_change(
    m: &crate::entity::self_service_change::Model,
) -> assay_proto::cases::v1::SelfServiceChange {
    let accuracy = match m.decided {
        0 => 0.0,
        decided => m.upheld as f64 / decided as f64,
    };
    assay_proto::cases::v1::SelfServiceChange {
        sequence: m.sequence,
        member_id: m.member_id.clone(),
        eligible: m.eligible,
        change_time: Some(to_timestamp(m.change_time)),
        decided: m.decided,
        upheld: m.upheld,
        accuracy,
        cause: m.cause.clone(),
    }
}

pub fn test_purchase(
    m: &crate::entity::test_purchase::Model,
) -> ApiResult<assay_proto::cases::v1::TestPurchase> {
    use assay_proto::cases::v1::{TestPurchaseConclusion, TestPurchaseMethod};
    let currency = assay_common::money::CurrencyCode::parse(&m.price_currency)
        .map_err(|e| store::corrupt("test purchase currency", e))?;
    let method = TestPurchaseMethod::from_str_name(&m.method)
        .ok_or_else(|| store::corrupt("test purchase method", &m.method))?;
    let conclusion = TestPurchaseConclusion::from_str_name(&m.conclusion)
        .ok_or_else(|| store::corrupt("test purchase conclusion", &m.conclusion))?;
    Ok(assay_proto::cases::v1::TestPurchase {
        id: m.id.to_string(),
        case_id: m.case_id.to_string(),
        listing_id: m.listing_id.clone(),
        seller_id: m.seller_id.clone(),
        order_reference: m.order_reference.clone(),
        order_date: Some(assay_common::time::to_date(m.order_date)),
        price_paid: Some(
            assay_common::money::Money {
                currency,
                nanos: i128::from(m.price_nanos),
            }
            .to_proto(),
        ),
        delivered_to: m.delivered_to.clone(),
        authenticator: m.authenticator.clone(),
        method: method as i32,
        conclusion: conclusion as i32,
        findings: m.findings.clone(),
        report_evidence_id: m.report_evidence_id.clone(),
        photo_evidence_ids: m
            .photo_evidence_ids
            .split(',')
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect(),
        recorded_by: m.recorded_by.clone(),
        record_time: Some(to_timestamp(m.record_time)),
    })
}

/// Value seized per currency (as ISO 4217 codes), a `Money` each.
pub fn seized_values(by_currency: &BTreeMap<String, i128>) -> Vec<assay_proto::common::v1::Money> {
    by_currency
        .iter()
        .filter_map(|(code, nanos)| {
            let currency = assay_common::money::CurrencyCode::parse(code).ok()?;
            Some(
                assay_common::money::Money {
                    currency,
                    nanos: *nanos,
                }
                .to_proto(),
            )
        })
        .collect()
}

fn grounds(kept: &str) -> Vec<i32> {
    crate::domain::reasons::decode(kept)
        .into_iter()
        .map(|ground| ground as i32)
        .collect()
}

fn listing(row: case_listing::Model) -> CaseListing {
    CaseListing {
        listing_id: row.listing_id,
        seller_id: row.seller_id,
        title: row.title,
        takedown_time: opt_timestamp(row.takedown_time),
        reinstate_time: opt_timestamp(row.reinstate_time),
    }
}

pub fn event(model: &case_event::Model) -> CaseEvent {
    CaseEvent {
        sequence: model.sequence,
        kind: CaseEventKind::from_str_name(&model.kind).unwrap_or_default() as i32,
        actor: model.actor.clone(),
        time: Some(to_timestamp(model.time)),
        from_status: CaseStatus::from_str_name(&model.from_status).unwrap_or_default() as i32,
        to_status: CaseStatus::from_str_name(&model.to_status).unwrap_or_default() as i32,
        detail: model.detail.clone(),
    }
}

pub fn evidence(model: &evidence::Model) -> Evidence {
    Evidence {
        id: model.id.to_string(),
        case_id: model.case_id.to_string(),
        kind: EvidenceKind::from_str_name(&model.kind).unwrap_or_default() as i32,
        description: model.description.clone(),
        media_type: model.media_type.clone(),
        sha256: model.sha256.clone(),
        size_bytes: model.size_bytes,
        reference_uri: model.reference_uri.clone(),
        added_by: model.added_by.clone(),
        add_time: Some(to_timestamp(model.add_time)),
    }
}

/// The value seized, as reported with an outcome.
pub fn seized_value(model: &referral_outcome::Model) -> Option<assay_proto::common::v1::Money> {
    (!model.seized_currency.is_empty()).then(|| assay_proto::common::v1::Money {
        currency_code: model.seized_currency.clone(),
        units: model.seized_value_units,
        nanos: model.seized_value_nanos,
    })
}

pub fn referral(
    model: &referral::Model,
    outcomes: &[referral_outcome::Model],
) -> ApiResult<Referral> {
    let package = Referral::decode(model.package.as_slice())
        .map_err(|e| {
            ApiError::internal(anyhow::anyhow!(
                "corrupt referral package in the database: {e}"
            ))
        })?
        .package;
    Ok(Referral {
        id: model.id.to_string(),
        agency_id: model.agency_id.to_string(),
        summary: model.summary.clone(),
        package,
        package_sha256: model.package_sha256.clone(),
        state: ReferralState::from_str_name(&model.state).unwrap_or_default() as i32,
        outcomes: outcomes
            .iter()
            .map(|o| ReferralOutcome {
                arrests: o.arrests,
                seized_units: o.seized_units,
                seized_value: seized_value(o),
                convictions: o.convictions,
                note: o.note.clone(),
                reported_by: o.reported_by.clone(),
                report_time: Some(to_timestamp(o.report_time)),
            })
            .collect(),
        referred_by: model.referred_by.clone(),
        create_time: Some(to_timestamp(model.create_time)),
    })
}

/// A seller's standing, as screening is told it.
pub fn standing(
    standing: &crate::domain::standing::Standing,
) -> assay_proto::screening::v1::SellerStanding {
    use assay_proto::screening::v1::{SellerLink, SellerStanding};
    SellerStanding {
        seller_id: standing.seller_id.clone(),
        strike_times: standing
            .strike_times
            .iter()
            .map(|t| to_timestamp(*t))
            .collect(),
        strike_window: Some(prost_types::Duration {
            seconds: i64::try_from(standing.window.as_secs()).unwrap_or(i64::MAX),
            nanos: 0,
        }),
        repeat_infringer_strikes: i32::try_from(standing.repeat_infringer_strikes)
            .unwrap_or(i32::MAX),
        links: standing
            .links
            .iter()
            .map(|(seller_id, evidence)| SellerLink {
                seller_id: seller_id.clone(),
                evidence: evidence.clone(),
            })
            .collect(),
        as_of: Some(to_timestamp(standing.as_of)),
    }
}

pub fn enforcement_action(
    model: &crate::entity::enforcement_action::Model,
) -> assay_proto::cases::v1::EnforcementAction {
    use assay_proto::cases::v1::{EnforcementAction, EnforcementLevel};
    let level = |name: &str| EnforcementLevel::from_str_name(name).unwrap_or_default() as i32;
    // Kept by case management itself: one it cannot read is shown as the English it kept.
    let reason = model.reason_message.as_deref().and_then(say::from_kept);
    EnforcementAction {
        sequence: model.sequence,
        seller_id: model.seller_id.clone(),
        level: level(&model.level),
        previous_level: level(&model.previous_level),
        active_strikes: model.active_strikes,
        case_ids: model
            .case_ids
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        reason: match &reason {
            Some(message) => say::say(message, language::current()),
            None => model.reason.clone(),
        },
        create_time: Some(to_timestamp(model.create_time)),
        linked_seller_id: model.linked_seller_id.clone().unwrap_or_default(),
        reason_parts: reason.into_iter().collect(),
    }
}

pub fn seller_link(
    model: &crate::entity::seller_link::Model,
) -> assay_proto::cases::v1::SellerLink {
    use assay_proto::cases::v1::{LinkDecision, SellerLink};
    SellerLink {
        seller_id: model.seller_id.clone(),
        linked_seller_id: model.linked_seller_id.clone(),
        decision: LinkDecision::from_str_name(&model.decision).unwrap_or_default() as i32,
        note: model.note.clone(),
        decided_by: model.decided_by.clone(),
        decide_time: Some(to_timestamp(model.decide_time)),
    }
}
