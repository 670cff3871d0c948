use assay_common::ids::RuleId;
use sea_orm::entity::prelude::*;

/// Every version a rule went through, append-only.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rule_revisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub rule_id: RuleId,
    pub version: i64,
    /// The rule set version this change produced.
    pub rule_set_version: i64,
    pub deleted: bool,
    /// The encoded `Rule` as it was.
    pub body: Vec<u8>,
    pub change_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
