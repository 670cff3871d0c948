use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Agencies {
    Table,
    Id,
    CountryCode,
    Status,
    Body,
    Version,
}

#[derive(DeriveIden, Clone, Copy)]
enum Requests {
    Table,
    Id,
    AgencyId,
    CountryCode,
    Process,
    Status,
    Emergency,
    DueTime,
    Owed,
    EscalateTime,
    BreachTime,
    Body,
    Version,
    CreateTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum PackageItems {
    Table,
    RequestId,
    Name,
    Sha256,
    Content,
    ExpireTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum Holds {
    Table,
    Id,
    RequestId,
    Process,
    ExpireTime,
    Extended,
    CreateTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum HoldTargets {
    Table,
    Kind,
    TargetId,
    HoldId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Referrals {
    Table,
    Id,
    AgencyId,
    Status,
    Body,
    Version,
    ReceiveTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEntries {
    Table,
    Sequence,
    Time,
    Actor,
    Action,
    Resource,
    Outcome,
    Detail,
    PreviousHash,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditHead {
    Table,
    Id,
    Sequence,
    Hash,
}

fn index<T: IntoIden + Copy>(name: &str, table: T, columns: &[T]) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(*column);
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agencies::Table)
                    .col(string(Agencies::Id).primary_key())
                    .col(string(Agencies::CountryCode))
                    .col(string(Agencies::Status))
                    .col(blob(Agencies::Body))
                    .col(big_integer(Agencies::Version))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Requests::Table)
                    .col(string(Requests::Id).primary_key())
                    .col(string(Requests::AgencyId))
                    .col(string(Requests::CountryCode))
                    .col(string(Requests::Process))
                    .col(string(Requests::Status))
                    .col(boolean(Requests::Emergency))
                    .col(timestamp_with_time_zone(Requests::DueTime))
                    .col(boolean(Requests::Owed))
                    .col(timestamp_with_time_zone_null(Requests::EscalateTime))
                    .col(timestamp_with_time_zone_null(Requests::BreachTime))
                    .col(blob(Requests::Body))
                    .col(big_integer(Requests::Version))
                    .col(timestamp_with_time_zone(Requests::CreateTime))
                    .to_owned(),
            )
            .await?;
        for statement in [
            index(
                "requests_by_agency",
                Requests::Table,
                &[Requests::AgencyId, Requests::Id],
            ),
            index(
                "requests_by_due",
                Requests::Table,
                &[Requests::Owed, Requests::DueTime],
            ),
            index("requests_by_time", Requests::Table, &[Requests::CreateTime]),
        ] {
            manager.create_index(statement).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(PackageItems::Table)
                    .col(string(PackageItems::RequestId))
                    .col(string(PackageItems::Name))
                    .col(string(PackageItems::Sha256))
                    .col(blob(PackageItems::Content))
                    .col(timestamp_with_time_zone_null(PackageItems::ExpireTime))
                    .primary_key(
                        Index::create()
                            .col(PackageItems::RequestId)
                            .col(PackageItems::Name),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "package_items_by_expiry",
                PackageItems::Table,
                &[PackageItems::ExpireTime],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Holds::Table)
                    .col(string(Holds::Id).primary_key())
                    .col(string_uniq(Holds::RequestId))
                    .col(string(Holds::Process))
                    .col(timestamp_with_time_zone(Holds::ExpireTime))
                    .col(boolean(Holds::Extended))
                    .col(timestamp_with_time_zone(Holds::CreateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(HoldTargets::Table)
                    .col(string(HoldTargets::Kind))
                    .col(string(HoldTargets::TargetId))
                    .col(string(HoldTargets::HoldId))
                    .primary_key(
                        Index::create()
                            .col(HoldTargets::Kind)
                            .col(HoldTargets::TargetId)
                            .col(HoldTargets::HoldId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Referrals::Table)
                    .col(string(Referrals::Id).primary_key())
                    .col(string(Referrals::AgencyId))
                    .col(string(Referrals::Status))
                    .col(blob(Referrals::Body))
                    .col(big_integer(Referrals::Version))
                    .col(timestamp_with_time_zone(Referrals::ReceiveTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "referrals_by_agency",
                Referrals::Table,
                &[Referrals::AgencyId, Referrals::Id],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEntries::Table)
                    .col(big_integer(AuditEntries::Sequence).primary_key())
                    .col(timestamp_with_time_zone(AuditEntries::Time))
                    .col(string(AuditEntries::Actor))
                    .col(string(AuditEntries::Action))
                    .col(string(AuditEntries::Resource))
                    .col(string(AuditEntries::Outcome))
                    .col(text(AuditEntries::Detail))
                    .col(string(AuditEntries::PreviousHash))
                    .col(string(AuditEntries::Hash))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "audit_by_resource",
                AuditEntries::Table,
                &[AuditEntries::Resource, AuditEntries::Sequence],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(integer(AuditHead::Id).primary_key())
                    .col(big_integer(AuditHead::Sequence))
                    .col(string(AuditHead::Hash))
                    .to_owned(),
            )
            .await?;
        let head = Query::insert()
            .into_table(AuditHead::Table)
            .columns([AuditHead::Id, AuditHead::Sequence, AuditHead::Hash])
            .values([1.into(), 0i64.into(), crate::audit::GENESIS.into()])
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(head).await
    }
}
