//! When members became eligible for self-service removal and when they ceased to be.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SelfServiceChanges {
    Table,
    Sequence,
    MemberId,
    Eligible,
    ChangeTime,
    Decided,
    Upheld,
    Cause,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SelfServiceChanges::Table)
                    .col(big_pk_auto(SelfServiceChanges::Sequence))
                    .col(string(SelfServiceChanges::MemberId))
                    .col(boolean(SelfServiceChanges::Eligible))
                    .col(timestamp_with_time_zone(SelfServiceChanges::ChangeTime))
                    .col(big_integer(SelfServiceChanges::Decided))
                    .col(big_integer(SelfServiceChanges::Upheld))
                    .col(text(SelfServiceChanges::Cause))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("self_service_changes_by_member")
                    .table(SelfServiceChanges::Table)
                    .col(SelfServiceChanges::MemberId)
                    .col(SelfServiceChanges::Sequence)
                    .to_owned(),
            )
            .await
    }
}
