use assay_common::ids::RequestId;
use sea_orm::entity::prelude::*;

/// A file of a disclosure package.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "package_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: RequestId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub sha256: String,
    pub content: Vec<u8>,
    /// When the agency can no longer download it and it is deleted; set on disclosure.
    pub expire_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
