use assay_common::ids::ReferralId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_outcomes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub referral_id: ReferralId,
    pub arrests: i32,
    pub seized_units: i64,
    /// Empty when no value was reported.
    pub seized_currency: String,
    pub seized_value_units: i64,
    pub seized_value_nanos: i32,
    pub convictions: i32,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub reported_by: String,
    pub report_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
