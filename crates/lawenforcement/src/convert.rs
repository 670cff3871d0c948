//! Entities to protos. Agencies, requests and referrals are kept whole as encoded protos
//! (their columns index them); holds are rows with their targets.

use assay_common::resource::etag;
use assay_common::time::to_timestamp;
use assay_common::{ApiError, ApiResult};
use assay_proto::lawenforcement::v1::{Agency, Hold, LegalRequest, Referral, Target, TargetKind};
use prost::Message;

use crate::entity::{agency, hold, hold_target, referral, request};

fn corrupt(what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::internal(anyhow::anyhow!("corrupt {what} in the database: {error}"))
}

pub fn agency(model: &agency::Model) -> ApiResult<Agency> {
    let mut agency = Agency::decode(model.body.as_slice()).map_err(|e| corrupt("agency", e))?;
    agency.etag = etag(model.version);
    Ok(agency)
}

pub fn request(model: &request::Model) -> ApiResult<LegalRequest> {
    let mut request =
        LegalRequest::decode(model.body.as_slice()).map_err(|e| corrupt("request", e))?;
    request.etag = etag(model.version);
    Ok(request)
}

pub fn referral(model: &referral::Model) -> ApiResult<Referral> {
    Referral::decode(model.body.as_slice()).map_err(|e| corrupt("referral", e))
}

pub fn hold(model: &hold::Model, targets: Vec<hold_target::Model>) -> Hold {
    Hold {
        id: model.id.to_string(),
        request_id: model.request_id.to_string(),
        targets: targets
            .into_iter()
            .map(|t| Target {
                kind: TargetKind::from_str_name(&t.kind).unwrap_or_default() as i32,
                id: t.target_id,
            })
            .collect(),
        expire_time: Some(to_timestamp(model.expire_time)),
        extended: model.extended,
        create_time: Some(to_timestamp(model.create_time)),
    }
}
