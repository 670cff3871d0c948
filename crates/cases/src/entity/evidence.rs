use assay_common::ids::{CaseId, EvidenceId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "evidence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: EvidenceId,
    pub case_id: CaseId,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub media_type: String,
    pub sha256: String,
    pub size_bytes: i64,
    /// Stored content; `None` for references.
    pub content: Option<Vec<u8>>,
    pub reference_uri: String,
    pub added_by: String,
    pub add_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
