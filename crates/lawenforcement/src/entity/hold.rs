use assay_common::ids::{HoldId, RequestId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "holds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: HoldId,
    #[sea_orm(unique)]
    pub request_id: RequestId,
    pub process: String,
    pub expire_time: DateTimeUtc,
    pub extended: bool,
    pub create_time: DateTimeUtc,
    /// The end its agency was last warned of.
    pub warned_expire_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
