use assay_common::ids::RuleId;
use sea_orm::entity::prelude::*;

/// A rule: counterfeit vocabulary and thresholds, global (`brand_id` empty) or per brand.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rules")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: RuleId,
    /// Empty for a global rule.
    pub brand_id: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    /// JSON array of [term, weight].
    #[sea_orm(column_type = "Text")]
    pub vocabulary: String,
    pub review_threshold: Option<f64>,
    pub block_threshold: Option<f64>,
    /// JSON array of strings.
    #[sea_orm(column_type = "Text")]
    pub ambiguous_terms: String,
    pub version: i64,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
    pub updated_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
