use assay_common::ids::{BrandId, DelegationId, MemberId};
use sea_orm::entity::prelude::*;

/// One brand covered by a delegation.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delegation_brands")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub delegation_id: DelegationId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: BrandId,
    /// Copied from the delegation, so a brand's acting agents are one indexed lookup.
    pub agent_member_id: MemberId,
    pub expire_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
