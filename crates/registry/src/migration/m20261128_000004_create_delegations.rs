use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Delegations {
    Table,
    Id,
    AgentMemberId,
    PrincipalMemberId,
    ExpireTime,
    Version,
    CreateTime,
    DeleteTime,
}

#[derive(DeriveIden)]
enum DelegationBrands {
    Table,
    DelegationId,
    BrandId,
    AgentMemberId,
    ExpireTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Delegations::Table)
                    .col(string(Delegations::Id).primary_key())
                    .col(string(Delegations::AgentMemberId))
                    .col(string(Delegations::PrincipalMemberId))
                    .col(timestamp_with_time_zone_null(Delegations::ExpireTime))
                    .col(big_integer(Delegations::Version))
                    .col(timestamp_with_time_zone(Delegations::CreateTime))
                    .col(timestamp_with_time_zone_null(Delegations::DeleteTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DelegationBrands::Table)
                    .col(string(DelegationBrands::DelegationId))
                    .col(string(DelegationBrands::BrandId))
                    .col(string(DelegationBrands::AgentMemberId))
                    .col(timestamp_with_time_zone_null(DelegationBrands::ExpireTime))
                    .primary_key(
                        Index::create()
                            .col(DelegationBrands::DelegationId)
                            .col(DelegationBrands::BrandId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("delegation_brands_by_brand")
                    .table(DelegationBrands::Table)
                    .col(DelegationBrands::BrandId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("delegation_brands_by_agent")
                    .table(DelegationBrands::Table)
                    .col(DelegationBrands::AgentMemberId)
                    .to_owned(),
            )
            .await
    }
}
