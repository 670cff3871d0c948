//! The tables of notifications, alike in every service that keeps them.

pub mod subscription {
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
}

pub mod notification {
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
}

pub mod delivery {
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
}
