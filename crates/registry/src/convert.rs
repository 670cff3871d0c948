//! Stored records to API messages.

use assay_common::ApiResult;
use assay_common::ids::BrandId;
use assay_common::resource::etag;
use assay_common::time::{opt_timestamp, to_date, to_timestamp};
use assay_proto::registry::v1 as pb;
use chrono::NaiveDate;

use crate::domain::right::effective_status;
use crate::entity::{brand, delegation, ip_right, member};
use crate::store;

pub fn member(model: &member::Model) -> ApiResult<pb::Member> {
    Ok(pb::Member {
        id: model.id.to_string(),
        legal_name: model.legal_name.clone(),
        display_name: model.display_name.clone(),
        kind: store::member_kind(&model.kind)? as i32,
        country_code: model.country_code.clone(),
        contacts: store::contacts(model)?,
        website: model.website.clone(),
        status: store::member_status(&model.status)? as i32,
        status_reason: model.status_reason.clone(),
        create_time: Some(to_timestamp(model.create_time)),
        update_time: Some(to_timestamp(model.update_time)),
        etag: etag(model.version),
    })
}

pub fn brand(model: &brand::Model, protected: bool) -> ApiResult<pb::Brand> {
    let spec = store::brand_spec(model)?;
    Ok(pb::Brand {
        id: model.id.to_string(),
        member_id: model.member_id.to_string(),
        name: spec.name,
        aliases: spec.aliases,
        categories: spec.categories,
        reference_prices: spec
            .reference_prices
            .iter()
            .map(|r| pb::ReferencePrice {
                category: r.category.clone(),
                price: Some(r.price.to_proto()),
            })
            .collect(),
        authorized_seller_ids: spec.authorized_seller_ids,
        logo_hashes: spec.logo_hashes,
        protected,
        create_time: Some(to_timestamp(model.create_time)),
        update_time: Some(to_timestamp(model.update_time)),
        etag: etag(model.version),
    })
}

pub fn right(model: &ip_right::Model, today: NaiveDate) -> ApiResult<pb::IpRight> {
    let spec = store::right_spec(model)?;
    let status = effective_status(store::right_status(&model.status)?, spec.valid_until, today);
    Ok(pb::IpRight {
        id: model.id.to_string(),
        brand_id: model.brand_id.to_string(),
        member_id: model.member_id.to_string(),
        kind: spec.kind as i32,
        office: spec.office as i32,
        registration_number: spec.registration_number,
        nice_classes: spec.nice_classes,
        valid_from: Some(to_date(spec.valid_from)),
        valid_until: Some(to_date(spec.valid_until)),
        verification_status: status as i32,
        verification_note: model.verification_note.clone(),
        reviewed_by: model.reviewed_by.clone(),
        review_time: opt_timestamp(model.review_time),
        create_time: Some(to_timestamp(model.create_time)),
        update_time: Some(to_timestamp(model.update_time)),
        etag: etag(model.version),
        mark_text: spec.mark_text,
        verified_terms: store::verified_terms(model)?,
    })
}

pub fn delegation(model: &delegation::Model, brand_ids: Vec<BrandId>) -> pb::Delegation {
    pb::Delegation {
        id: model.id.to_string(),
        agent_member_id: model.agent_member_id.to_string(),
        principal_member_id: model.principal_member_id.to_string(),
        brand_ids: brand_ids.into_iter().map(BrandId::into_string).collect(),
        expire_time: opt_timestamp(model.expire_time),
        create_time: Some(to_timestamp(model.create_time)),
        etag: etag(model.version),
    }
}
