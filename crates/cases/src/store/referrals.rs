//! Referrals to law enforcement and their outcomes.

use super::*;

/// A referral of a case to an agency, pending its acknowledgement.
pub struct NewReferral<'a> {
    pub id: &'a ReferralId,
    pub case_id: &'a CaseId,
    pub agency_id: &'a AgencyId,
    pub summary: String,
    pub package: Vec<PackageItem>,
    pub package_sha256: &'a str,
    pub referred_by: &'a str,
}

pub async fn insert_referral(
    db: &impl ConnectionTrait,
    new: NewReferral<'_>,
    now: DateTime<Utc>,
) -> ApiResult<referral::Model> {
    Ok(referral::ActiveModel {
        id: Set(new.id.clone()),
        case_id: Set(new.case_id.clone()),
        agency_id: Set(new.agency_id.clone()),
        summary: Set(new.summary),
        package: Set(Referral {
            package: new.package,
            ..Referral::default()
        }
        .encode_to_vec()),
        package_sha256: Set(new.package_sha256.to_owned()),
        state: Set(ReferralState::Pending.as_str_name().to_owned()),
        referred_by: Set(new.referred_by.to_owned()),
        create_time: Set(now),
    }
    .insert(db)
    .await?)
}

pub async fn referral_of_case(
    db: &impl ConnectionTrait,
    case_id: &CaseId,
) -> ApiResult<Option<referral::Model>> {
    Ok(referral::Entity::find()
        .filter(referral::Column::CaseId.eq(case_id.as_str()))
        .one(db)
        .await?)
}

pub async fn insert_outcome(
    db: &impl ConnectionTrait,
    referral_id: &ReferralId,
    outcome: &ReferralOutcome,
    seized_value: Option<Money>,
    actor: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let value = seized_value.map(|m| m.to_proto()).unwrap_or_default();
    referral_outcome::ActiveModel {
        referral_id: Set(referral_id.clone()),
        arrests: Set(outcome.arrests),
        seized_units: Set(outcome.seized_units),
        seized_currency: Set(value.currency_code),
        seized_value_units: Set(value.units),
        seized_value_nanos: Set(value.nanos),
        convictions: Set(outcome.convictions),
        note: Set(outcome.note.clone()),
        reported_by: Set(actor.to_owned()),
        report_time: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The package manifest of a case's evidence, and its SHA-256: one line per item,
/// `<evidence id> <sha256> <size>`, in id order.
pub fn package(evidence: &[evidence::Model]) -> (Vec<PackageItem>, String) {
    use sha2::{Digest, Sha256};
    let mut items: Vec<PackageItem> = evidence
        .iter()
        .map(|e| PackageItem {
            evidence_id: e.id.to_string(),
            sha256: e.sha256.clone(),
            size_bytes: e.size_bytes,
            description: e.description.clone(),
        })
        .collect();
    items.sort_by(|a, b| a.evidence_id.cmp(&b.evidence_id));
    let mut manifest = Sha256::new();
    for item in &items {
        manifest.update(format!(
            "{} {} {}\n",
            item.evidence_id, item.sha256, item.size_bytes
        ));
    }
    (items, hex::encode(manifest.finalize()))
}
