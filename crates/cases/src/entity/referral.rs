use assay_common::ids::{AgencyId, CaseId, ReferralId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: ReferralId,
    #[sea_orm(unique)]
    pub case_id: CaseId,
    pub agency_id: AgencyId,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    /// The encoded package items (`Referral` with only `package` set).
    pub package: Vec<u8>,
    pub package_sha256: String,
    pub state: String,
    pub referred_by: String,
    pub create_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
