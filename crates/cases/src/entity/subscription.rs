use sea_orm::entity::prelude::*;

/// A webhook subscription.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The principal that subscribed.
    pub owner: String,
    #[sea_orm(column_type = "Text")]
    pub url: String,
    /// `EventType` names, comma-separated.
    pub event_types: String,
    /// The HMAC key, hex.
    pub secret: String,
    pub create_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
