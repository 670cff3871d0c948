use sea_orm::entity::prelude::*;

/// One attempt to deliver a notification.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub notification_id: String,
    pub attempt_time: DateTimeUtc,
    pub status_code: i32,
    #[sea_orm(column_type = "Text")]
    pub error: String,
    pub delivered: bool,
    /// The last attempt: the notification was failing for longer than retries go on.
    pub given_up: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
