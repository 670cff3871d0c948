//! IP rights and their verification.

use super::*;

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
    id: &IpRightId,
    brand: &brand::Model,
    spec: &RightSpec,
    now: DateTime<Utc>,
) -> ApiResult<ip_right::Model> {
    let mut model = ip_right::ActiveModel {
        id: Set(id.clone()),
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
    record_status(db, &id, VerificationStatus::Pending.as_str_name(), now).await?;
    Ok(model)
}

pub async fn get_right(db: &impl ConnectionTrait, id: &IpRightId) -> ApiResult<ip_right::Model> {
    assay_common::db::find_or_not_found::<ip_right::Entity, _>(db, "IP right", id.clone()).await
}

/// Another right, not rejected, registered under the same office, kind and number.
/// Another live (not rejected) right with the same registration, held by `member_id` if
/// given, or by anyone with `status` if given.
pub async fn find_registration(
    db: &impl ConnectionTrait,
    spec: &RightSpec,
    except_id: Option<&IpRightId>,
    member_id: Option<&MemberId>,
    status: Option<VerificationStatus>,
) -> ApiResult<Option<ip_right::Model>> {
    let mut query = ip_right::Entity::find()
        .filter(ip_right::Column::Office.eq(spec.office.as_str_name()))
        .filter(ip_right::Column::Kind.eq(spec.kind.as_str_name()))
        .filter(ip_right::Column::RegistrationNumber.eq(spec.registration_number.as_str()))
        .filter(ip_right::Column::Status.ne(VerificationStatus::Rejected.as_str_name()));
    if let Some(id) = except_id {
        query = query.filter(ip_right::Column::Id.ne(id.as_str()));
    }
    if let Some(member_id) = member_id {
        query = query.filter(ip_right::Column::MemberId.eq(member_id.as_str()));
    }
    if let Some(status) = status {
        query = query.filter(ip_right::Column::Status.eq(status.as_str_name()));
    }
    Ok(query.one(db).await?)
}

/// The verified rights of a brand.
pub async fn verified_rights_of(
    db: &impl ConnectionTrait,
    brand_id: &BrandId,
) -> ApiResult<Vec<ip_right::Model>> {
    Ok(ip_right::Entity::find()
        .filter(ip_right::Column::BrandId.eq(brand_id.as_str()))
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
    pub brand_id: Option<BrandId>,
    pub member_id: Option<MemberId>,
    /// Only rights of brands this member owns or acts for.
    pub visible_to: Option<MemberId>,
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
