//! The registry's persistence: every query and write, on a pool or inside a transaction.

use std::collections::{HashMap, HashSet};

use assay_common::{ApiError, ApiResult};
use assay_proto::common::v1::Contact;
use assay_proto::registry::v1::{
    CatalogueBrand, IpOffice, IpRightKind, MemberKind, MemberStatus, VerificationStatus,
};
use chrono::{DateTime, NaiveDate, Utc};
use prost::Message;
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, Order, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::domain::brand::{BrandSpec, ReferencePrice};
use crate::domain::catalogue::{self, BrandFacts, RightFacts};
use crate::domain::member::MemberSpec;
use crate::domain::right::RightSpec;
use crate::entity::{
    brand, catalogue_entry, catalogue_state, delegation, delegation_brand, ip_right, member,
    status_change,
};

const IN_CHUNK: usize = 500;

fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_owned())
}

fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> ApiResult<T> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("corrupt {what} in the database: {e}")))
}

fn corrupt(what: &str, value: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!("unknown {what} {value:?} in the database"))
}

// ---------------------------------------------------------------------------------------
// Enums as stored

pub fn member_status(text: &str) -> ApiResult<MemberStatus> {
    MemberStatus::from_str_name(text).ok_or_else(|| corrupt("member status", text))
}

pub fn member_kind(text: &str) -> ApiResult<MemberKind> {
    MemberKind::from_str_name(text).ok_or_else(|| corrupt("member kind", text))
}

pub fn right_status(text: &str) -> ApiResult<VerificationStatus> {
    VerificationStatus::from_str_name(text).ok_or_else(|| corrupt("verification status", text))
}

pub fn right_kind(text: &str) -> ApiResult<IpRightKind> {
    IpRightKind::from_str_name(text).ok_or_else(|| corrupt("right kind", text))
}

pub fn office(text: &str) -> ApiResult<IpOffice> {
    IpOffice::from_str_name(text).ok_or_else(|| corrupt("office", text))
}

// ---------------------------------------------------------------------------------------
// Members

#[derive(Serialize, Deserialize)]
struct StoredContact {
    name: String,
    email: String,
    phone: String,
    role: String,
}

pub fn contacts(model: &member::Model) -> ApiResult<Vec<Contact>> {
    let stored: Vec<StoredContact> = from_json(&model.contacts, "contacts")?;
    Ok(stored
        .into_iter()
        .map(|c| Contact {
            name: c.name,
            email: c.email,
            phone: c.phone,
            role: c.role,
        })
        .collect())
}

fn contacts_json(contacts: &[Contact]) -> String {
    let stored: Vec<StoredContact> = contacts
        .iter()
        .map(|c| StoredContact {
            name: c.name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            role: c.role.clone(),
        })
        .collect();
    to_json(&stored)
}

pub async fn insert_member(
    db: &impl ConnectionTrait,
    id: &str,
    spec: &MemberSpec,
    now: DateTime<Utc>,
) -> ApiResult<member::Model> {
    let model = member::ActiveModel {
        id: Set(id.to_owned()),
        legal_name: Set(spec.legal_name.clone()),
        display_name: Set(spec.display_name.clone()),
        kind: Set(spec.kind.as_str_name().to_owned()),
        country_code: Set(spec.country_code.clone()),
        contacts: Set(contacts_json(&spec.contacts)),
        website: Set(spec.website.clone()),
        status: Set(MemberStatus::Applied.as_str_name().to_owned()),
        status_reason: Set(String::new()),
        version: Set(1),
        create_time: Set(now),
        update_time: Set(now),
    }
    .insert(db)
    .await?;
    record_status(db, id, MemberStatus::Applied.as_str_name(), now).await?;
    Ok(model)
}

pub async fn find_member(db: &impl ConnectionTrait, id: &str) -> ApiResult<Option<member::Model>> {
    Ok(member::Entity::find_by_id(id.to_owned()).one(db).await?)
}

pub async fn get_member(db: &impl ConnectionTrait, id: &str) -> ApiResult<member::Model> {
    find_member(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("member", id))
}

#[derive(Debug, Default)]
pub struct MemberFilter {
    pub only_id: Option<String>,
    pub status: Option<MemberStatus>,
    pub kind: Option<MemberKind>,
    pub country_code: Option<String>,
}

pub async fn list_members(
    db: &impl ConnectionTrait,
    filter: &MemberFilter,
    after: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<member::Model>> {
    let mut query = member::Entity::find();
    if let Some(id) = &filter.only_id {
        query = query.filter(member::Column::Id.eq(id.as_str()));
    }
    if let Some(status) = filter.status {
        query = query.filter(member::Column::Status.eq(status.as_str_name()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(member::Column::Kind.eq(kind.as_str_name()));
    }
    if let Some(country) = &filter.country_code {
        query = query.filter(member::Column::CountryCode.eq(country.as_str()));
    }
    Ok(
        assay_common::db::keyset(query, member::Column::Id, Order::Asc, after, limit)
            .all(db)
            .await?,
    )
}

pub async fn update_member(
    db: &impl ConnectionTrait,
    current: member::Model,
    spec: &MemberSpec,
    now: DateTime<Utc>,
) -> ApiResult<member::Model> {
    let version = current.version + 1;
    let mut model = current.into_active_model();
    model.legal_name = Set(spec.legal_name.clone());
    model.display_name = Set(spec.display_name.clone());
    model.kind = Set(spec.kind.as_str_name().to_owned());
    model.country_code = Set(spec.country_code.clone());
    model.contacts = Set(contacts_json(&spec.contacts));
    model.website = Set(spec.website.clone());
    model.version = Set(version);
    model.update_time = Set(now);
    Ok(model.update(db).await?)
}

pub async fn set_member_status(
    db: &impl ConnectionTrait,
    current: member::Model,
    status: MemberStatus,
    reason: &str,
    now: DateTime<Utc>,
) -> ApiResult<member::Model> {
    let id = current.id.clone();
    let version = current.version + 1;
    let mut model = current.into_active_model();
    model.status = Set(status.as_str_name().to_owned());
    model.status_reason = Set(reason.to_owned());
    model.version = Set(version);
    model.update_time = Set(now);
    let model = model.update(db).await?;
    record_status(db, &id, status.as_str_name(), now).await?;
    Ok(model)
}

async fn record_status(
    db: &impl ConnectionTrait,
    subject_id: &str,
    status: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    status_change::ActiveModel {
        subject_id: Set(subject_id.to_owned()),
        status: Set(status.to_owned()),
        change_time: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Brands

pub fn brand_spec(model: &brand::Model) -> ApiResult<BrandSpec> {
    let hashes: Vec<String> = from_json(&model.logo_hashes, "logo hashes")?;
    let logo_hashes = hashes
        .iter()
        .map(|h| u64::from_str_radix(h, 16).map_err(|_| corrupt("logo hash", h)))
        .collect::<ApiResult<Vec<u64>>>()?;
    Ok(BrandSpec {
        name: model.name.clone(),
        aliases: from_json(&model.aliases, "aliases")?,
        categories: from_json(&model.categories, "categories")?,
        reference_prices: from_json::<Vec<ReferencePrice>>(&model.reference_prices, "prices")?,
        authorized_seller_ids: from_json(&model.authorized_seller_ids, "authorized sellers")?,
        logo_hashes,
    })
}

fn hashes_json(hashes: &[u64]) -> String {
    let hex: Vec<String> = hashes.iter().map(|h| format!("{h:016x}")).collect();
    to_json(&hex)
}

fn fill_brand(model: &mut brand::ActiveModel, spec: &BrandSpec) {
    model.name = Set(spec.name.clone());
    model.aliases = Set(to_json(&spec.aliases));
    model.categories = Set(to_json(&spec.categories));
    model.reference_prices = Set(to_json(&spec.reference_prices));
    model.authorized_seller_ids = Set(to_json(&spec.authorized_seller_ids));
    model.logo_hashes = Set(hashes_json(&spec.logo_hashes));
}

pub async fn insert_brand(
    db: &impl ConnectionTrait,
    id: &str,
    member_id: &str,
    spec: &BrandSpec,
    now: DateTime<Utc>,
) -> ApiResult<brand::Model> {
    let mut model = brand::ActiveModel {
        id: Set(id.to_owned()),
        member_id: Set(member_id.to_owned()),
        version: Set(1),
        create_time: Set(now),
        update_time: Set(now),
        delete_time: Set(None),
        ..Default::default()
    };
    fill_brand(&mut model, spec);
    Ok(model.insert(db).await?)
}

/// A brand that has not been deleted.
pub async fn get_brand(db: &impl ConnectionTrait, id: &str) -> ApiResult<brand::Model> {
    brand::Entity::find_by_id(id.to_owned())
        .filter(brand::Column::DeleteTime.is_null())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("brand", id))
}

pub async fn update_brand(
    db: &impl ConnectionTrait,
    current: brand::Model,
    spec: &BrandSpec,
    now: DateTime<Utc>,
) -> ApiResult<brand::Model> {
    let version = current.version + 1;
    let mut model = current.into_active_model();
    fill_brand(&mut model, spec);
    model.version = Set(version);
    model.update_time = Set(now);
    Ok(model.update(db).await?)
}

pub async fn delete_brand(
    db: &impl ConnectionTrait,
    current: brand::Model,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let id = current.id.clone();
    let version = current.version + 1;
    let mut model = current.into_active_model();
    model.delete_time = Set(Some(now));
    model.version = Set(version);
    model.update_time = Set(now);
    model.update(db).await?;
    delegation_brand::Entity::delete_many()
        .filter(delegation_brand::Column::BrandId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// The members who may act on a brand: its owner and agents holding a live delegation.
pub async fn acting_members(
    db: &impl ConnectionTrait,
    brand: &brand::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<String>> {
    let mut members = vec![brand.member_id.clone()];
    let agents = delegation_brand::Entity::find()
        .filter(delegation_brand::Column::BrandId.eq(brand.id.as_str()))
        .filter(live_delegation(now))
        .all(db)
        .await?;
    members.extend(agents.into_iter().map(|row| row.agent_member_id));
    Ok(members)
}

/// The ids of brands delegated to an agent, as a subquery.
fn delegated_brand_ids(agent_member_id: &str, now: DateTime<Utc>) -> SelectStatement {
    Query::select()
        .column(delegation_brand::Column::BrandId)
        .from(delegation_brand::Entity)
        .and_where(delegation_brand::Column::AgentMemberId.eq(agent_member_id))
        .cond_where(live_delegation(now))
        .to_owned()
}

fn live_delegation(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(delegation_brand::Column::ExpireTime.is_null())
        .add(delegation_brand::Column::ExpireTime.gt(now))
}

#[derive(Debug, Default)]
pub struct BrandFilter {
    /// Only brands of this owner.
    pub member_id: Option<String>,
    /// Only brands this member owns or acts for.
    pub visible_to: Option<String>,
}

pub async fn list_brands(
    db: &impl ConnectionTrait,
    filter: &BrandFilter,
    after: Option<&str>,
    limit: u64,
    now: DateTime<Utc>,
) -> ApiResult<Vec<brand::Model>> {
    let mut query = brand::Entity::find().filter(brand::Column::DeleteTime.is_null());
    if let Some(member_id) = &filter.member_id {
        query = query.filter(brand::Column::MemberId.eq(member_id.as_str()));
    }
    if let Some(member_id) = &filter.visible_to {
        let delegated = delegated_brand_ids(member_id, now);
        query = query.filter(
            Condition::any()
                .add(brand::Column::MemberId.eq(member_id.as_str()))
                .add(brand::Column::Id.in_subquery(delegated)),
        );
    }
    Ok(
        assay_common::db::keyset(query, brand::Column::Id, Order::Asc, after, limit)
            .all(db)
            .await?,
    )
}

// ---------------------------------------------------------------------------------------
// IP rights

pub fn right_spec(model: &ip_right::Model) -> ApiResult<RightSpec> {
    Ok(RightSpec {
        kind: right_kind(&model.kind)?,
        office: office(&model.office)?,
        registration_number: model.registration_number.clone(),
        nice_classes: from_json(&model.nice_classes, "nice classes")?,
        valid_from: model.valid_from,
        valid_until: model.valid_until,
        mark_text: model.mark_text.clone(),
    })
}

/// The terms a right was verified for.
pub fn verified_terms(model: &ip_right::Model) -> ApiResult<Vec<String>> {
    from_json(&model.verified_terms, "verified terms")
}

fn fill_right(model: &mut ip_right::ActiveModel, spec: &RightSpec) {
    model.kind = Set(spec.kind.as_str_name().to_owned());
    model.office = Set(spec.office.as_str_name().to_owned());
    model.registration_number = Set(spec.registration_number.clone());
    model.nice_classes = Set(to_json(&spec.nice_classes));
    model.valid_from = Set(spec.valid_from);
    model.valid_until = Set(spec.valid_until);
    model.mark_text = Set(spec.mark_text.clone());
}

pub async fn insert_right(
    db: &impl ConnectionTrait,
    id: &str,
    brand: &brand::Model,
    spec: &RightSpec,
    now: DateTime<Utc>,
) -> ApiResult<ip_right::Model> {
    let mut model = ip_right::ActiveModel {
        id: Set(id.to_owned()),
        brand_id: Set(brand.id.clone()),
        member_id: Set(brand.member_id.clone()),
        status: Set(VerificationStatus::Pending.as_str_name().to_owned()),
        verification_note: Set(String::new()),
        reviewed_by: Set(String::new()),
        review_time: Set(None),
        verified_terms: Set("[]".to_owned()),
        version: Set(1),
        create_time: Set(now),
        update_time: Set(now),
        ..Default::default()
    };
    fill_right(&mut model, spec);
    let model = model.insert(db).await?;
    record_status(db, id, VerificationStatus::Pending.as_str_name(), now).await?;
    Ok(model)
}

pub async fn get_right(db: &impl ConnectionTrait, id: &str) -> ApiResult<ip_right::Model> {
    ip_right::Entity::find_by_id(id.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("IP right", id))
}

/// Another right, not rejected, registered under the same office, kind and number.
/// Another live (not rejected) right with the same registration, held by `member_id` if
/// given, or by anyone with `status` if given.
pub async fn find_registration(
    db: &impl ConnectionTrait,
    spec: &RightSpec,
    except_id: Option<&str>,
    member_id: Option<&str>,
    status: Option<VerificationStatus>,
) -> ApiResult<Option<ip_right::Model>> {
    let mut query = ip_right::Entity::find()
        .filter(ip_right::Column::Office.eq(spec.office.as_str_name()))
        .filter(ip_right::Column::Kind.eq(spec.kind.as_str_name()))
        .filter(ip_right::Column::RegistrationNumber.eq(spec.registration_number.as_str()))
        .filter(ip_right::Column::Status.ne(VerificationStatus::Rejected.as_str_name()));
    if let Some(id) = except_id {
        query = query.filter(ip_right::Column::Id.ne(id));
    }
    if let Some(member_id) = member_id {
        query = query.filter(ip_right::Column::MemberId.eq(member_id));
    }
    if let Some(status) = status {
        query = query.filter(ip_right::Column::Status.eq(status.as_str_name()));
    }
    Ok(query.one(db).await?)
}

/// The verified rights of a brand.
pub async fn verified_rights_of(
    db: &impl ConnectionTrait,
    brand_id: &str,
) -> ApiResult<Vec<ip_right::Model>> {
    Ok(ip_right::Entity::find()
        .filter(ip_right::Column::BrandId.eq(brand_id))
        .filter(ip_right::Column::Status.eq(VerificationStatus::Verified.as_str_name()))
        .all(db)
        .await?)
}

/// Sends a verified right back to PENDING: what it was verified for no longer holds.
pub async fn unverify_right(
    db: &impl ConnectionTrait,
    current: ip_right::Model,
    why: &str,
    now: DateTime<Utc>,
) -> ApiResult<ip_right::Model> {
    let id = current.id.clone();
    let version = current.version + 1;
    let mut model = current.into_active_model();
    model.status = Set(VerificationStatus::Pending.as_str_name().to_owned());
    model.verification_note = Set(why.to_owned());
    model.version = Set(version);
    model.update_time = Set(now);
    let model = model.update(db).await?;
    record_status(db, &id, VerificationStatus::Pending.as_str_name(), now).await?;
    Ok(model)
}

/// Writes new registration facts; a right whose facts changed goes back to PENDING.
pub async fn update_right(
    db: &impl ConnectionTrait,
    current: ip_right::Model,
    spec: &RightSpec,
    now: DateTime<Utc>,
) -> ApiResult<ip_right::Model> {
    let changed = right_spec(&current)? != *spec;
    let id = current.id.clone();
    let version = current.version + 1;
    let mut model = current.into_active_model();
    fill_right(&mut model, spec);
    model.version = Set(version);
    model.update_time = Set(now);
    if changed {
        model.status = Set(VerificationStatus::Pending.as_str_name().to_owned());
        model.verification_note = Set(String::new());
        model.reviewed_by = Set(String::new());
        model.review_time = Set(None);
    }
    let model = model.update(db).await?;
    if changed {
        record_status(db, &id, VerificationStatus::Pending.as_str_name(), now).await?;
    }
    Ok(model)
}

/// Records a review; a verification also records the brand terms it covers.
pub async fn review_right(
    db: &impl ConnectionTrait,
    current: ip_right::Model,
    status: VerificationStatus,
    verified_terms: &[String],
    note: &str,
    reviewer: &str,
    now: DateTime<Utc>,
) -> ApiResult<ip_right::Model> {
    let id = current.id.clone();
    let version = current.version + 1;
    let mut model = current.into_active_model();
    model.status = Set(status.as_str_name().to_owned());
    model.verified_terms = Set(to_json(&verified_terms));
    model.verification_note = Set(note.to_owned());
    model.reviewed_by = Set(reviewer.to_owned());
    model.review_time = Set(Some(now));
    model.version = Set(version);
    model.update_time = Set(now);
    let model = model.update(db).await?;
    record_status(db, &id, status.as_str_name(), now).await?;
    Ok(model)
}

#[derive(Debug, Default)]
pub struct RightFilter {
    pub brand_id: Option<String>,
    pub member_id: Option<String>,
    /// Only rights of brands this member owns or acts for.
    pub visible_to: Option<String>,
    pub status: Option<VerificationStatus>,
}

pub async fn list_rights(
    db: &impl ConnectionTrait,
    filter: &RightFilter,
    after: Option<&str>,
    limit: u64,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> ApiResult<Vec<ip_right::Model>> {
    let mut query = ip_right::Entity::find();
    if let Some(brand_id) = &filter.brand_id {
        query = query.filter(ip_right::Column::BrandId.eq(brand_id.as_str()));
    }
    if let Some(member_id) = &filter.member_id {
        query = query.filter(ip_right::Column::MemberId.eq(member_id.as_str()));
    }
    if let Some(member_id) = &filter.visible_to {
        let delegated = delegated_brand_ids(member_id, now);
        query = query.filter(
            Condition::any()
                .add(ip_right::Column::MemberId.eq(member_id.as_str()))
                .add(ip_right::Column::BrandId.in_subquery(delegated)),
        );
    }
    let verified = VerificationStatus::Verified.as_str_name();
    query = match filter.status {
        None => query,
        Some(VerificationStatus::Expired) => query
            .filter(ip_right::Column::Status.eq(verified))
            .filter(ip_right::Column::ValidUntil.lt(today)),
        Some(VerificationStatus::Verified) => query
            .filter(ip_right::Column::Status.eq(verified))
            .filter(ip_right::Column::ValidUntil.gte(today)),
        Some(status) => query.filter(ip_right::Column::Status.eq(status.as_str_name())),
    };
    Ok(
        assay_common::db::keyset(query, ip_right::Column::Id, Order::Asc, after, limit)
            .all(db)
            .await?,
    )
}

// ---------------------------------------------------------------------------------------
// Delegations

pub async fn insert_delegation(
    db: &impl ConnectionTrait,
    id: &str,
    agent_member_id: &str,
    principal_member_id: &str,
    brand_ids: &[String],
    expire_time: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> ApiResult<delegation::Model> {
    let model = delegation::ActiveModel {
        id: Set(id.to_owned()),
        agent_member_id: Set(agent_member_id.to_owned()),
        principal_member_id: Set(principal_member_id.to_owned()),
        expire_time: Set(expire_time),
        version: Set(1),
        create_time: Set(now),
        delete_time: Set(None),
    }
    .insert(db)
    .await?;
    let rows: Vec<_> = brand_ids
        .iter()
        .map(|brand_id| delegation_brand::ActiveModel {
            delegation_id: Set(id.to_owned()),
            brand_id: Set(brand_id.clone()),
            agent_member_id: Set(agent_member_id.to_owned()),
            expire_time: Set(expire_time),
        })
        .collect();
    delegation_brand::Entity::insert_many(rows).exec(db).await?;
    Ok(model)
}

/// A delegation that has not been deleted.
pub async fn get_delegation(db: &impl ConnectionTrait, id: &str) -> ApiResult<delegation::Model> {
    delegation::Entity::find_by_id(id.to_owned())
        .filter(delegation::Column::DeleteTime.is_null())
        .one(db)
        .await?
        .ok_or_else(|| ApiError::not_found("delegation", id))
}

pub async fn delegation_brand_ids(
    db: &impl ConnectionTrait,
    delegation_id: &str,
) -> ApiResult<Vec<String>> {
    Ok(delegation_brand::Entity::find()
        .filter(delegation_brand::Column::DelegationId.eq(delegation_id))
        .order_by_asc(delegation_brand::Column::BrandId)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.brand_id)
        .collect())
}

#[derive(Debug, Default)]
pub struct DelegationFilter {
    pub agent_member_id: Option<String>,
    pub principal_member_id: Option<String>,
    /// Only delegations this member gave or received.
    pub party: Option<String>,
}

pub async fn list_delegations(
    db: &impl ConnectionTrait,
    filter: &DelegationFilter,
    after: Option<&str>,
    limit: u64,
) -> ApiResult<Vec<delegation::Model>> {
    let mut query = delegation::Entity::find().filter(delegation::Column::DeleteTime.is_null());
    if let Some(agent) = &filter.agent_member_id {
        query = query.filter(delegation::Column::AgentMemberId.eq(agent.as_str()));
    }
    if let Some(principal) = &filter.principal_member_id {
        query = query.filter(delegation::Column::PrincipalMemberId.eq(principal.as_str()));
    }
    if let Some(party) = &filter.party {
        query = query.filter(
            Condition::any()
                .add(delegation::Column::AgentMemberId.eq(party.as_str()))
                .add(delegation::Column::PrincipalMemberId.eq(party.as_str())),
        );
    }
    Ok(
        assay_common::db::keyset(query, delegation::Column::Id, Order::Asc, after, limit)
            .all(db)
            .await?,
    )
}

pub async fn delete_delegation(
    db: &impl ConnectionTrait,
    current: delegation::Model,
    now: DateTime<Utc>,
) -> ApiResult<Vec<String>> {
    let brand_ids = delegation_brand_ids(db, &current.id).await?;
    delegation_brand::Entity::delete_many()
        .filter(delegation_brand::Column::DelegationId.eq(current.id.as_str()))
        .exec(db)
        .await?;
    let version = current.version + 1;
    let mut model = current.into_active_model();
    model.delete_time = Set(Some(now));
    model.version = Set(version);
    model.update(db).await?;
    Ok(brand_ids)
}

/// Brands whose delegations expired in `(since, until]`: their catalogue entries list
/// agents that no longer act for them.
pub async fn brands_with_expired_delegations(
    db: &impl ConnectionTrait,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> ApiResult<Vec<String>> {
    Ok(delegation_brand::Entity::find()
        .filter(delegation_brand::Column::ExpireTime.gt(since))
        .filter(delegation_brand::Column::ExpireTime.lte(until))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.brand_id)
        .collect())
}

// ---------------------------------------------------------------------------------------
// Catalogue

/// Ids of all brands of a member (deleted ones included).
pub async fn member_brand_ids(
    db: &impl ConnectionTrait,
    member_id: &str,
) -> ApiResult<Vec<String>> {
    Ok(brand::Entity::find()
        .select_only()
        .column(brand::Column::Id)
        .filter(brand::Column::MemberId.eq(member_id))
        .into_tuple::<String>()
        .all(db)
        .await?)
}

/// Ids of every brand that is, or might become, protected: those with a catalogue entry or
/// a verified right.
pub async fn candidate_brand_ids(db: &impl ConnectionTrait) -> ApiResult<Vec<String>> {
    let mut ids: HashSet<String> = catalogue_entry::Entity::find()
        .select_only()
        .column(catalogue_entry::Column::BrandId)
        .filter(catalogue_entry::Column::Protected.eq(true))
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    ids.extend(
        ip_right::Entity::find()
            .select_only()
            .column(ip_right::Column::BrandId)
            .filter(ip_right::Column::Status.eq(VerificationStatus::Verified.as_str_name()))
            .distinct()
            .into_tuple::<String>()
            .all(db)
            .await?,
    );
    let mut ids: Vec<String> = ids.into_iter().collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Recomputes the catalogue entries of `brand_ids` as of `day`, and publishes those that
/// changed under one new revision. Returns that revision, or `None` if nothing changed.
pub async fn refresh_catalogue(
    db: &impl ConnectionTrait,
    brand_ids: &[String],
    day: NaiveDate,
    now: DateTime<Utc>,
) -> ApiResult<Option<i64>> {
    let mut ids: Vec<&String> = brand_ids.iter().collect();
    ids.sort_unstable();
    ids.dedup();
    // Brand id, and its new encoded entry and content hash (none: no longer protected).
    type Change = (String, Option<(Vec<u8>, String)>);
    let mut changes: Vec<Change> = Vec::new();

    for chunk in ids.chunks(IN_CHUNK) {
        let chunk: Vec<&str> = chunk.iter().map(|s| s.as_str()).collect();
        let brands = brand::Entity::find()
            .filter(brand::Column::Id.is_in(chunk.clone()))
            .all(db)
            .await?;
        let owner_ids: Vec<&str> = brands.iter().map(|b| b.member_id.as_str()).collect();
        let owners: HashMap<String, MemberStatus> = member::Entity::find()
            .filter(member::Column::Id.is_in(owner_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|m| member_status(&m.status).map(|s| (m.id, s)))
            .collect::<ApiResult<_>>()?;
        let mut rights: HashMap<String, Vec<RightFacts>> = HashMap::new();
        for right in ip_right::Entity::find()
            .filter(ip_right::Column::BrandId.is_in(chunk.clone()))
            .all(db)
            .await?
        {
            rights
                .entry(right.brand_id.clone())
                .or_default()
                .push(RightFacts {
                    kind: right_kind(&right.kind)?,
                    status: right_status(&right.status)?,
                    valid_from: right.valid_from,
                    valid_until: right.valid_until,
                });
        }
        let mut agents: HashMap<String, Vec<String>> = HashMap::new();
        for row in delegation_brand::Entity::find()
            .filter(delegation_brand::Column::BrandId.is_in(chunk.clone()))
            .filter(live_delegation(now))
            .all(db)
            .await?
        {
            agents
                .entry(row.brand_id)
                .or_default()
                .push(row.agent_member_id);
        }
        let existing: HashMap<String, catalogue_entry::Model> = catalogue_entry::Entity::find()
            .filter(catalogue_entry::Column::BrandId.is_in(chunk.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|e| (e.brand_id.clone(), e))
            .collect();

        for brand in &brands {
            let spec = brand_spec(brand)?;
            let facts = BrandFacts {
                brand_id: &brand.id,
                member_id: &brand.member_id,
                owner_status: owners
                    .get(&brand.member_id)
                    .copied()
                    .unwrap_or(MemberStatus::Unspecified),
                deleted: brand.delete_time.is_some(),
                spec: &spec,
                rights: rights.get(&brand.id).map(Vec::as_slice).unwrap_or_default(),
                agent_member_ids: agents.remove(&brand.id).unwrap_or_default(),
            };
            let desired = catalogue::entry(&facts, day).map(|e| catalogue::encode(&e));
            let current = existing.get(&brand.id);
            let unchanged = match (&desired, current) {
                (Some((_, hash)), Some(entry)) => entry.protected && entry.content_hash == *hash,
                (None, Some(entry)) => !entry.protected,
                (None, None) => true,
                (Some(_), None) => false,
            };
            if !unchanged {
                changes.push((brand.id.clone(), desired));
            }
        }
    }
    if changes.is_empty() {
        return Ok(None);
    }

    let revision = bump_revision(db).await?;
    for (brand_id, desired) in changes {
        let (protected, body, hash) = match desired {
            Some((body, hash)) => (true, body, hash),
            None => (false, Vec::new(), String::new()),
        };
        let entry = catalogue_entry::ActiveModel {
            brand_id: Set(brand_id),
            protected: Set(protected),
            revision: Set(revision),
            content_hash: Set(hash),
            body: Set(body),
        };
        catalogue_entry::Entity::insert(entry)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(catalogue_entry::Column::BrandId)
                    .update_columns([
                        catalogue_entry::Column::Protected,
                        catalogue_entry::Column::Revision,
                        catalogue_entry::Column::ContentHash,
                        catalogue_entry::Column::Body,
                    ])
                    .to_owned(),
            )
            .exec(db)
            .await?;
    }
    Ok(Some(revision))
}

async fn bump_revision(db: &impl ConnectionTrait) -> ApiResult<i64> {
    catalogue_state::Entity::update_many()
        .col_expr(
            catalogue_state::Column::Revision,
            Expr::col(catalogue_state::Column::Revision).add(1),
        )
        .filter(catalogue_state::Column::Id.eq(1))
        .exec(db)
        .await?;
    current_revision(db).await
}

pub async fn current_revision(db: &impl ConnectionTrait) -> ApiResult<i64> {
    catalogue_state::Entity::find_by_id(1)
        .one(db)
        .await?
        .map(|s| s.revision)
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("catalogue_state row is missing")))
}

/// Catalogue entries changed after `revision`, oldest change first, and the revision they
/// bring a watcher to. Read in one statement, so the result is one consistent state.
pub async fn catalogue_since(
    db: &impl ConnectionTrait,
    revision: i64,
) -> ApiResult<(i64, Vec<catalogue_entry::Model>)> {
    let entries = catalogue_entry::Entity::find()
        .filter(catalogue_entry::Column::Revision.gt(revision))
        .order_by_asc(catalogue_entry::Column::Revision)
        .order_by_asc(catalogue_entry::Column::BrandId)
        .all(db)
        .await?;
    let reached = entries.last().map_or(revision, |e| e.revision);
    Ok((reached, entries))
}

/// Decodes a published entry, with its revision.
pub fn catalogue_brand(entry: &catalogue_entry::Model) -> ApiResult<CatalogueBrand> {
    let mut brand = CatalogueBrand::decode(entry.body.as_slice())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("corrupt catalogue entry: {e}")))?;
    brand.revision = entry.revision;
    Ok(brand)
}

pub async fn is_protected(db: &impl ConnectionTrait, brand_id: &str) -> ApiResult<bool> {
    Ok(catalogue_entry::Entity::find_by_id(brand_id.to_owned())
        .one(db)
        .await?
        .is_some_and(|e| e.protected))
}

pub async fn protected_among(
    db: &impl ConnectionTrait,
    brand_ids: &[&str],
) -> ApiResult<HashSet<String>> {
    if brand_ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(catalogue_entry::Entity::find()
        .select_only()
        .column(catalogue_entry::Column::BrandId)
        .filter(catalogue_entry::Column::BrandId.is_in(brand_ids.to_vec()))
        .filter(catalogue_entry::Column::Protected.eq(true))
        .into_tuple::<String>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

// ---------------------------------------------------------------------------------------
// Alliance figures

/// Every status change before `end`, per subject, in order.
pub async fn statuses_before(
    db: &impl ConnectionTrait,
    end: DateTime<Utc>,
) -> ApiResult<HashMap<String, String>> {
    let mut latest = HashMap::new();
    for change in status_change::Entity::find()
        .filter(status_change::Column::ChangeTime.lt(end))
        .order_by_asc(status_change::Column::ChangeTime)
        .order_by_asc(status_change::Column::Id)
        .all(db)
        .await?
    {
        latest.insert(change.subject_id, change.status);
    }
    Ok(latest)
}

pub async fn members_created_before(
    db: &impl ConnectionTrait,
    end: DateTime<Utc>,
) -> ApiResult<Vec<member::Model>> {
    Ok(member::Entity::find()
        .filter(member::Column::CreateTime.lt(end))
        .all(db)
        .await?)
}

/// Brands that existed at `end`.
pub async fn brands_existing_at(
    db: &impl ConnectionTrait,
    end: DateTime<Utc>,
) -> ApiResult<Vec<brand::Model>> {
    Ok(brand::Entity::find()
        .filter(brand::Column::CreateTime.lt(end))
        .filter(
            Condition::any()
                .add(brand::Column::DeleteTime.is_null())
                .add(brand::Column::DeleteTime.gte(end)),
        )
        .all(db)
        .await?)
}

pub async fn rights_created_before(
    db: &impl ConnectionTrait,
    end: DateTime<Utc>,
) -> ApiResult<Vec<ip_right::Model>> {
    Ok(ip_right::Entity::find()
        .filter(ip_right::Column::CreateTime.lt(end))
        .all(db)
        .await?)
}
