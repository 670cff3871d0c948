use assay_common::ids::{AgencyId, RequestId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: RequestId,
    pub agency_id: AgencyId,
    /// The agency's country when the request was filed, for transparency reports.
    pub country_code: String,
    pub process: String,
    pub status: String,
    pub emergency: bool,
    pub due_time: DateTimeUtc,
    /// Whether an answer is still owed (domain::is_owed), for deadline listings.
    pub owed: bool,
    /// When the warning that the deadline is near was raised, once.
    pub escalate_time: Option<DateTimeUtc>,
    /// When the passed deadline was escalated, once.
    pub breach_time: Option<DateTimeUtc>,
    /// The encoded `LegalRequest`.
    pub body: Vec<u8>,
    pub version: i64,
    pub create_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
