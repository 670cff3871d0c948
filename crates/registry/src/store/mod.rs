//! The registry's persistence: every query and write, on a pool or inside a transaction.

mod brands;
mod catalogue;
mod delegations;
mod figures;
mod members;
mod rights;

pub use brands::*;
pub use catalogue::*;
pub use delegations::*;
pub use figures::*;
pub use members::*;
pub use rights::*;

use std::collections::{HashMap, HashSet};

use assay_common::ids::{BrandId, DelegationId, IpRightId, MemberId};
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
use crate::domain::catalogue::{self as derive, BrandFacts, RightFacts};
use crate::domain::member::MemberSpec;
use crate::domain::right::RightSpec;
use crate::entity::{
    brand, catalogue_entry, catalogue_state, delegation, delegation_brand, ip_right, member,
    status_change,
};

const IN_CHUNK: usize = 500;

/// Records that a member or right entered `status` (the history behind figures).
async fn record_status(
    db: &impl ConnectionTrait,
    subject_id: impl AsRef<str>,
    status: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    status_change::ActiveModel {
        subject_id: Set(subject_id.as_ref().to_owned()),
        status: Set(status.to_owned()),
        change_time: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

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

/// Of `records` (IP rights and delegations, by id), those that ended before `before`.
pub async fn records_ended_before(
    db: &impl ConnectionTrait,
    records: &[String],
    before: DateTime<Utc>,
) -> ApiResult<std::collections::BTreeSet<String>> {
    use crate::domain::retention;
    let of = |prefix: &'static str| {
        records
            .iter()
            .filter(move |id| id.starts_with(prefix))
            .map(String::as_str)
    };
    let mut ended = std::collections::BTreeSet::new();
    for right in ip_right::Entity::find()
        .filter(ip_right::Column::Id.is_in(of("ipr_")))
        .all(db)
        .await?
    {
        let stored = right_status(&right.status)?;
        if retention::right_ends(
            stored,
            right.valid_until,
            right.review_time,
            right.update_time,
        ) < before
        {
            ended.insert(right.id.to_string());
        }
    }
    for delegation in delegation::Entity::find()
        .filter(delegation::Column::Id.is_in(of("dlg_")))
        .all(db)
        .await?
    {
        if retention::delegation_ends(delegation.delete_time, delegation.expire_time)
            .is_some_and(|ends| ends < before)
        {
            ended.insert(delegation.id.to_string());
        }
    }
    Ok(ended)
}
