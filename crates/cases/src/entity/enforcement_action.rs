use sea_orm::entity::prelude::*;

/// A change of a seller's enforcement level.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enforcement_actions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub sequence: i64,
    pub seller_id: String,
    /// An `EnforcementLevel` name.
    pub level: String,
    pub previous_level: String,
    pub active_strikes: i32,
    /// The cases of the strikes that count, comma-separated.
    #[sea_orm(column_type = "Text")]
    pub case_ids: String,
    /// In English.
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub create_time: DateTimeUtc,
    /// The suspended seller this one is suspended with, as a linked storefront.
    pub linked_seller_id: Option<String>,
    /// The reason as a message of the catalogue, `{"id": ..., "args": {...}}`; none on rows
    /// from before it was kept.
    #[sea_orm(column_type = "Text", nullable)]
    pub reason_message: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
