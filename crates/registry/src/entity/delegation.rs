use assay_common::ids::{DelegationId, MemberId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delegations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: DelegationId,
    pub agent_member_id: MemberId,
    pub principal_member_id: MemberId,
    pub expire_time: Option<DateTimeUtc>,
    pub version: i64,
    pub create_time: DateTimeUtc,
    pub delete_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
