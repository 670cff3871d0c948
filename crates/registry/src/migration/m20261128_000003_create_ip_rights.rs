use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IpRights {
    Table,
    Id,
    BrandId,
    MemberId,
    Kind,
    Office,
    RegistrationNumber,
    NiceClasses,
    ValidFrom,
    ValidUntil,
    Status,
    VerificationNote,
    ReviewedBy,
    ReviewTime,
    Version,
    CreateTime,
    UpdateTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IpRights::Table)
                    .col(string(IpRights::Id).primary_key())
                    .col(string(IpRights::BrandId))
                    .col(string(IpRights::MemberId))
                    .col(string(IpRights::Kind))
                    .col(string(IpRights::Office))
                    .col(string(IpRights::RegistrationNumber))
                    .col(text(IpRights::NiceClasses))
                    .col(date(IpRights::ValidFrom))
                    .col(date(IpRights::ValidUntil))
                    .col(string(IpRights::Status))
                    .col(text(IpRights::VerificationNote))
                    .col(text(IpRights::ReviewedBy))
                    .col(timestamp_with_time_zone_null(IpRights::ReviewTime))
                    .col(big_integer(IpRights::Version))
                    .col(timestamp_with_time_zone(IpRights::CreateTime))
                    .col(timestamp_with_time_zone(IpRights::UpdateTime))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("ip_rights_by_brand", vec![IpRights::BrandId, IpRights::Id]),
            (
                "ip_rights_by_member",
                vec![IpRights::MemberId, IpRights::Id],
            ),
            (
                "ip_rights_by_registration",
                vec![
                    IpRights::Office,
                    IpRights::Kind,
                    IpRights::RegistrationNumber,
                ],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(IpRights::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }
}
