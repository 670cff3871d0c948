use assay_common::ids::CaseId;
use sea_orm::entity::prelude::*;

/// One entry of a case's timeline. Rows are only ever inserted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: CaseId,
    pub sequence: i64,
    pub kind: String,
    pub actor: String,
    pub time: DateTimeUtc,
    pub from_status: String,
    pub to_status: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
