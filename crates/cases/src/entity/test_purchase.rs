use assay_common::ids::{CaseId, TestPurchaseId};
use sea_orm::entity::prelude::*;

/// A test purchase of one of a case's listings.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "test_purchases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: TestPurchaseId,
    pub case_id: CaseId,
    pub listing_id: String,
    pub seller_id: String,
    pub order_reference: String,
    pub order_date: Date,
    /// ISO 4217.
    pub price_currency: String,
    /// Nanos of the currency's unit.
    pub price_nanos: i64,
    #[sea_orm(column_type = "Text")]
    pub delivered_to: String,
    pub authenticator: String,
    /// A `TestPurchaseMethod` name.
    pub method: String,
    /// A `TestPurchaseConclusion` name.
    pub conclusion: String,
    #[sea_orm(column_type = "Text")]
    pub findings: String,
    pub report_evidence_id: String,
    /// The photos' evidence ids, comma-separated.
    #[sea_orm(column_type = "Text")]
    pub photo_evidence_ids: String,
    pub recorded_by: String,
    pub record_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
