use sea_orm::entity::prelude::*;

/// Every status a member or right took, and when: the alliance figures of past days are
/// computed from these.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "status_changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// A member id or an IP right id.
    pub subject_id: String,
    pub status: String,
    pub change_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
