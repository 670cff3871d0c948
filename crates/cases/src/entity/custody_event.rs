use assay_common::ids::EvidenceId;
use sea_orm::entity::prelude::*;

/// One entry of a chain of custody. Rows are only ever inserted.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "custody_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub evidence_id: EvidenceId,
    pub sequence: i64,
    pub action: String,
    pub actor: String,
    pub time: DateTimeUtc,
    pub sha256: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
