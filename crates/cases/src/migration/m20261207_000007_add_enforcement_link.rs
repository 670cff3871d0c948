//! An enforcement action names the suspended seller it follows from, when a linked
//! storefront is suspended with it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EnforcementActions {
    Table,
    LinkedSellerId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EnforcementActions::Table)
                    .add_column(string_null(EnforcementActions::LinkedSellerId))
                    .to_owned(),
            )
            .await
    }
}
