use sea_orm::entity::prelude::*;

/// One entry of the hash-chained audit log. Rows are only ever inserted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sequence: i64,
    pub time: DateTimeUtc,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub outcome: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub previous_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
