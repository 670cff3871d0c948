use assay_common::ids::{BrandId, MemberId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "brands")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: BrandId,
    pub member_id: MemberId,
    pub name: String,
    /// JSON array of strings.
    #[sea_orm(column_type = "Text")]
    pub aliases: String,
    /// JSON array of category slugs.
    #[sea_orm(column_type = "Text")]
    pub categories: String,
    /// JSON array of reference prices.
    #[sea_orm(column_type = "Text")]
    pub reference_prices: String,
    /// JSON array of seller ids.
    #[sea_orm(column_type = "Text")]
    pub authorized_seller_ids: String,
    /// JSON array of 64-bit hashes as 16 hex digits.
    #[sea_orm(column_type = "Text")]
    pub logo_hashes: String,
    pub version: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
    /// Set when deleted; deleted brands are kept for the alliance figures of past days.
    pub delete_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
