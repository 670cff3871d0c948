use assay_common::ids::HitId;
use sea_orm::entity::prelude::*;

/// A listing that was not allowed, with its verdict.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "hits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: HitId,
    pub listing_id: String,
    pub seller_id: String,
    pub decision: String,
    pub risk_score: f64,
    /// The same listing, content and outcome screened again makes no second hit.
    #[sea_orm(unique)]
    pub dedup_key: String,
    /// Signal kinds that contributed, comma-separated, for precision reports.
    pub signal_kinds: String,
    pub catalogue_revision: i64,
    pub rule_version: i64,
    /// The encoded `Listing` as screened.
    pub listing: Vec<u8>,
    /// The encoded `Verdict`.
    pub verdict: Vec<u8>,
    pub create_time: DateTimeUtc,
    pub feedback_outcome: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub feedback_note: String,
    pub feedback_by: String,
    pub feedback_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
