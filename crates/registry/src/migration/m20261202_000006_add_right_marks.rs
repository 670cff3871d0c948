//! Rights record the mark they register and the brand names they were verified for, so that
//! a brand cannot be renamed into someone else's mark while keeping its protection.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IpRights {
    Table,
    MarkText,
    VerifiedTerms,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(IpRights::Table)
                    .add_column(text(IpRights::MarkText).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IpRights::Table)
                    .add_column(text(IpRights::VerifiedTerms).default("[]"))
                    .to_owned(),
            )
            .await
    }
}
