use sea_orm::entity::prelude::*;

/// A member became eligible for self-service removal, or ceased to be.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "self_service_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub sequence: i64,
    pub member_id: String,
    pub eligible: bool,
    pub change_time: DateTimeUtc,
    /// The member's decided notices then, and how many of them were upheld.
    pub decided: i64,
    pub upheld: i64,
    #[sea_orm(column_type = "Text")]
    pub cause: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
