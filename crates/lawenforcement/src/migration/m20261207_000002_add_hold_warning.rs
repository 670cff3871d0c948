//! A preservation hold remembers the end its agency was last warned of, so that it is
//! warned once per end (an extension brings a new one).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Holds {
    Table,
    WarnedExpireTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Holds::Table)
                    .add_column(timestamp_with_time_zone_null(Holds::WarnedExpireTime))
                    .to_owned(),
            )
            .await
    }
}
