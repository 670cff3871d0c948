use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Brands {
    Table,
    Id,
    MemberId,
    Name,
    Aliases,
    Categories,
    ReferencePrices,
    AuthorizedSellerIds,
    LogoHashes,
    Version,
    CreateTime,
    UpdateTime,
    DeleteTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Brands::Table)
                    .col(string(Brands::Id).primary_key())
                    .col(string(Brands::MemberId))
                    .col(text(Brands::Name))
                    .col(text(Brands::Aliases))
                    .col(text(Brands::Categories))
                    .col(text(Brands::ReferencePrices))
                    .col(text(Brands::AuthorizedSellerIds))
                    .col(text(Brands::LogoHashes))
                    .col(big_integer(Brands::Version))
                    .col(timestamp_with_time_zone(Brands::CreateTime))
                    .col(timestamp_with_time_zone(Brands::UpdateTime))
                    .col(timestamp_with_time_zone_null(Brands::DeleteTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("brands_by_member")
                    .table(Brands::Table)
                    .col(Brands::MemberId)
                    .col(Brands::Id)
                    .to_owned(),
            )
            .await
    }
}
