use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Members {
    Table,
    Id,
    LegalName,
    DisplayName,
    Kind,
    CountryCode,
    Contacts,
    Website,
    Status,
    StatusReason,
    Version,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden)]
enum StatusChanges {
    Table,
    Id,
    SubjectId,
    Status,
    ChangeTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Members::Table)
                    .col(string(Members::Id).primary_key())
                    .col(text(Members::LegalName))
                    .col(text(Members::DisplayName))
                    .col(string(Members::Kind))
                    .col(string(Members::CountryCode))
                    .col(text(Members::Contacts))
                    .col(text(Members::Website))
                    .col(string(Members::Status))
                    .col(text(Members::StatusReason))
                    .col(big_integer(Members::Version))
                    .col(timestamp_with_time_zone(Members::CreateTime))
                    .col(timestamp_with_time_zone(Members::UpdateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(StatusChanges::Table)
                    .col(big_pk_auto(StatusChanges::Id))
                    .col(string(StatusChanges::SubjectId))
                    .col(string(StatusChanges::Status))
                    .col(timestamp_with_time_zone(StatusChanges::ChangeTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("status_changes_by_subject")
                    .table(StatusChanges::Table)
                    .col(StatusChanges::SubjectId)
                    .col(StatusChanges::ChangeTime)
                    .to_owned(),
            )
            .await
    }
}
