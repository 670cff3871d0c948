use sea_orm::entity::prelude::*;

/// An analyst's decision about two sellers, the smaller id first.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "seller_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seller_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub linked_seller_id: String,
    /// A `LinkDecision` name.
    pub decision: String,
    #[sea_orm(column_type = "Text")]
    pub note: String,
    pub decided_by: String,
    pub decide_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
