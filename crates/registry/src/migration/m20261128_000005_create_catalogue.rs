use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogueEntries {
    Table,
    BrandId,
    Protected,
    Revision,
    ContentHash,
    Body,
}

#[derive(DeriveIden)]
enum CatalogueState {
    Table,
    Id,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CatalogueEntries::Table)
                    .col(string(CatalogueEntries::BrandId).primary_key())
                    .col(boolean(CatalogueEntries::Protected))
                    .col(big_integer(CatalogueEntries::Revision))
                    .col(string(CatalogueEntries::ContentHash))
                    .col(blob(CatalogueEntries::Body))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("catalogue_entries_by_revision")
                    .table(CatalogueEntries::Table)
                    .col(CatalogueEntries::Revision)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CatalogueState::Table)
                    .col(integer(CatalogueState::Id).primary_key())
                    .col(big_integer(CatalogueState::Revision))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(CatalogueState::Table)
                    .columns([CatalogueState::Id, CatalogueState::Revision])
                    .values_panic([1.into(), 0.into()])
                    .to_owned(),
            )
            .await
    }
}
