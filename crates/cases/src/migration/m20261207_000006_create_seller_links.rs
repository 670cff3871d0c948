//! Analysts' decisions that two sellers are, or are not, one operation.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SellerLinks {
    Table,
    SellerId,
    LinkedSellerId,
    Decision,
    Note,
    DecidedBy,
    DecideTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SellerLinks::Table)
                    // The pair in order: the smaller id first.
                    .col(string(SellerLinks::SellerId))
                    .col(string(SellerLinks::LinkedSellerId))
                    .col(string(SellerLinks::Decision))
                    .col(text(SellerLinks::Note))
                    .col(string(SellerLinks::DecidedBy))
                    .col(timestamp_with_time_zone(SellerLinks::DecideTime))
                    .primary_key(
                        Index::create()
                            .col(SellerLinks::SellerId)
                            .col(SellerLinks::LinkedSellerId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("seller_links_by_linked_seller")
                    .table(SellerLinks::Table)
                    .col(SellerLinks::LinkedSellerId)
                    .to_owned(),
            )
            .await
    }
}
