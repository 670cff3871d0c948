//! Test purchases: an order of a case's listing, examined, with its report and photos kept
//! as evidence.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TestPurchases {
    Table,
    Id,
    CaseId,
    ListingId,
    SellerId,
    OrderReference,
    OrderDate,
    PriceCurrency,
    PriceNanos,
    DeliveredTo,
    Authenticator,
    Method,
    Conclusion,
    Findings,
    ReportEvidenceId,
    PhotoEvidenceIds,
    RecordedBy,
    RecordTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TestPurchases::Table)
                    .col(string(TestPurchases::Id).primary_key())
                    .col(string(TestPurchases::CaseId))
                    .col(string(TestPurchases::ListingId))
                    .col(string(TestPurchases::SellerId))
                    .col(string(TestPurchases::OrderReference))
                    .col(date(TestPurchases::OrderDate))
                    .col(string(TestPurchases::PriceCurrency))
                    // Nanos of the currency unit: i128 does not fit a column, and a test
                    // purchase is far below 9.2 billion units.
                    .col(big_integer(TestPurchases::PriceNanos))
                    .col(text(TestPurchases::DeliveredTo))
                    .col(string(TestPurchases::Authenticator))
                    .col(string(TestPurchases::Method))
                    .col(string(TestPurchases::Conclusion))
                    .col(text(TestPurchases::Findings))
                    .col(string(TestPurchases::ReportEvidenceId))
                    .col(text(TestPurchases::PhotoEvidenceIds))
                    .col(string(TestPurchases::RecordedBy))
                    .col(timestamp_with_time_zone(TestPurchases::RecordTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("test_purchases_by_case")
                    .table(TestPurchases::Table)
                    .col(TestPurchases::CaseId)
                    .col(TestPurchases::RecordTime)
                    .to_owned(),
            )
            .await
    }
}
