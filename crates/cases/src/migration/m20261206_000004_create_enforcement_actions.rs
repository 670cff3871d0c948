//! What the repeat-infringer policy decided for sellers, in order.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EnforcementActions {
    Table,
    Sequence,
    SellerId,
    Level,
    PreviousLevel,
    ActiveStrikes,
    CaseIds,
    Reason,
    CreateTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EnforcementActions::Table)
                    .col(big_pk_auto(EnforcementActions::Sequence))
                    .col(string(EnforcementActions::SellerId))
                    .col(string(EnforcementActions::Level))
                    .col(string(EnforcementActions::PreviousLevel))
                    .col(integer(EnforcementActions::ActiveStrikes))
                    .col(text(EnforcementActions::CaseIds))
                    .col(text(EnforcementActions::Reason))
                    .col(timestamp_with_time_zone(EnforcementActions::CreateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("enforcement_actions_by_seller")
                    .table(EnforcementActions::Table)
                    .col(EnforcementActions::SellerId)
                    .col(EnforcementActions::Sequence)
                    .to_owned(),
            )
            .await
    }
}
