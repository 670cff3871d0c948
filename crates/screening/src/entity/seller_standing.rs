use sea_orm::entity::prelude::*;

/// What case management last said of a seller with strikes or links.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seller_standings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seller_id: String,
    /// When case management read it.
    pub as_of: DateTimeUtc,
    /// When this service recorded it, for replicas to follow.
    pub update_time: DateTimeUtc,
    /// The encoded `SellerStanding`.
    pub standing: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
