use assay_common::ids::{AgencyId, ReferralId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ReferralId,
    pub agency_id: AgencyId,
    pub status: String,
    /// The encoded `Referral`.
    pub body: Vec<u8>,
    pub version: i64,
    pub receive_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
