use assay_common::ids::MemberId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: MemberId,
    pub legal_name: String,
    pub display_name: String,
    pub kind: String,
    pub country_code: String,
    /// JSON array of contacts.
    #[sea_orm(column_type = "Text")]
    pub contacts: String,
    pub website: String,
    pub status: String,
    pub status_reason: String,
    pub version: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
