use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SellerStandings {
    Table,
    SellerId,
    AsOf,
    UpdateTime,
    Standing,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SellerStandings::Table)
                    .col(string(SellerStandings::SellerId).primary_key())
                    .col(timestamp_with_time_zone(SellerStandings::AsOf))
                    .col(timestamp_with_time_zone(SellerStandings::UpdateTime))
                    .col(blob(SellerStandings::Standing))
                    .to_owned(),
            )
            .await?;
        // Replicas pick up what changed since they last looked.
        manager
            .create_index(
                Index::create()
                    .name("seller_standings_update_time")
                    .table(SellerStandings::Table)
                    .col(SellerStandings::UpdateTime)
                    .to_owned(),
            )
            .await
    }
}
