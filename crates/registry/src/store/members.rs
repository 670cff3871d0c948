//! Members.

use super::*;

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
    id: &MemberId,
    spec: &MemberSpec,
    now: DateTime<Utc>,
) -> ApiResult<member::Model> {
    let model = member::ActiveModel {
        id: Set(id.clone()),
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
    record_status(db, &id, MemberStatus::Applied.as_str_name(), now).await?;
    Ok(model)
}

pub async fn find_member(
    db: &impl ConnectionTrait,
    id: &MemberId,
) -> ApiResult<Option<member::Model>> {
    Ok(member::Entity::find_by_id(id.clone()).one(db).await?)
}

pub async fn get_member(db: &impl ConnectionTrait, id: &MemberId) -> ApiResult<member::Model> {
    find_member(db, id)
        .await?
        .ok_or_else(|| ApiError::not_found("member", id.as_str()))
}

#[derive(Debug, Default)]
pub struct MemberFilter {
    pub only_id: Option<MemberId>,
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
