use sea_orm::entity::prelude::*;

/// A notification made for a subscription: the body every delivery attempt sends.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub subscription_id: String,
    /// An `EventType` name.
    pub event_type: String,
    /// The JSON body.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub create_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
