use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Cases {
    Table,
    Id,
    Source,
    Status,
    Title,
    Summary,
    MemberId,
    IpRightId,
    HitId,
    SourceKey,
    RiskScore,
    Assignee,
    FastTrack,
    DueTime,
    MergedInto,
    ResolutionNote,
    Decision,
    DecisionTime,
    CounterNotice,
    CounterNoticeTime,
    Version,
    CreateTime,
    UpdateTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseBrands {
    Table,
    CaseId,
    BrandId,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseTags {
    Table,
    CaseId,
    Tag,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseListings {
    Table,
    CaseId,
    ListingId,
    SellerId,
    Title,
    TakedownTime,
    ReinstateTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseEvents {
    Table,
    Id,
    CaseId,
    Sequence,
    Kind,
    Actor,
    Time,
    FromStatus,
    ToStatus,
    Detail,
}

#[derive(DeriveIden, Clone, Copy)]
enum Evidence {
    Table,
    Id,
    CaseId,
    Kind,
    Description,
    MediaType,
    Sha256,
    SizeBytes,
    Content,
    ReferenceUri,
    AddedBy,
    AddTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum CustodyEvents {
    Table,
    Id,
    EvidenceId,
    Sequence,
    Action,
    Actor,
    Time,
    Sha256,
    Detail,
}

#[derive(DeriveIden, Clone, Copy)]
enum Strikes {
    Table,
    SellerId,
    CaseId,
    StrikeTime,
    WithdrawTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum SellerIdentifiers {
    Table,
    Kind,
    Value,
    SellerId,
    RecordTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum Referrals {
    Table,
    Id,
    CaseId,
    AgencyId,
    Summary,
    Package,
    PackageSha256,
    State,
    ReferredBy,
    CreateTime,
}

#[derive(DeriveIden, Clone, Copy)]
enum ReferralOutcomes {
    Table,
    Id,
    ReferralId,
    Arrests,
    SeizedUnits,
    SeizedCurrency,
    SeizedValueUnits,
    SeizedValueNanos,
    Convictions,
    Note,
    ReportedBy,
    ReportTime,
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
                    .table(Cases::Table)
                    .col(string(Cases::Id).primary_key())
                    .col(string(Cases::Source))
                    .col(string(Cases::Status))
                    .col(string(Cases::Title))
                    .col(text(Cases::Summary))
                    .col(string(Cases::MemberId))
                    .col(string(Cases::IpRightId))
                    .col(string(Cases::HitId))
                    .col(string_null(Cases::SourceKey).unique_key())
                    .col(double(Cases::RiskScore))
                    .col(string(Cases::Assignee))
                    .col(boolean(Cases::FastTrack))
                    .col(timestamp_with_time_zone_null(Cases::DueTime))
                    .col(string(Cases::MergedInto))
                    .col(text(Cases::ResolutionNote))
                    .col(string(Cases::Decision))
                    .col(timestamp_with_time_zone_null(Cases::DecisionTime))
                    .col(blob_null(Cases::CounterNotice))
                    .col(timestamp_with_time_zone_null(Cases::CounterNoticeTime))
                    .col(big_integer(Cases::Version))
                    .col(timestamp_with_time_zone(Cases::CreateTime))
                    .col(timestamp_with_time_zone(Cases::UpdateTime))
                    .to_owned(),
            )
            .await?;
        for statement in [
            index(
                "cases_by_time",
                Cases::Table,
                &[Cases::CreateTime, Cases::Id],
            ),
            index("cases_by_status", Cases::Table, &[Cases::Status, Cases::Id]),
            index(
                "cases_by_assignee",
                Cases::Table,
                &[Cases::Assignee, Cases::Id],
            ),
            index("cases_by_due", Cases::Table, &[Cases::DueTime]),
            index(
                "cases_by_member",
                Cases::Table,
                &[Cases::MemberId, Cases::CreateTime],
            ),
        ] {
            manager.create_index(statement).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(CaseBrands::Table)
                    .col(string(CaseBrands::CaseId))
                    .col(string(CaseBrands::BrandId))
                    .primary_key(
                        Index::create()
                            .col(CaseBrands::CaseId)
                            .col(CaseBrands::BrandId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "case_brands_by_brand",
                CaseBrands::Table,
                &[CaseBrands::BrandId, CaseBrands::CaseId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseTags::Table)
                    .col(string(CaseTags::CaseId))
                    .col(string(CaseTags::Tag))
                    .primary_key(Index::create().col(CaseTags::CaseId).col(CaseTags::Tag))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "case_tags_by_tag",
                CaseTags::Table,
                &[CaseTags::Tag, CaseTags::CaseId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseListings::Table)
                    .col(string(CaseListings::CaseId))
                    .col(string(CaseListings::ListingId))
                    .col(string(CaseListings::SellerId))
                    .col(string(CaseListings::Title))
                    .col(timestamp_with_time_zone_null(CaseListings::TakedownTime))
                    .col(timestamp_with_time_zone_null(CaseListings::ReinstateTime))
                    .primary_key(
                        Index::create()
                            .col(CaseListings::CaseId)
                            .col(CaseListings::ListingId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "case_listings_by_seller",
                CaseListings::Table,
                &[CaseListings::SellerId, CaseListings::CaseId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseEvents::Table)
                    .col(big_pk_auto(CaseEvents::Id))
                    .col(string(CaseEvents::CaseId))
                    .col(big_integer(CaseEvents::Sequence))
                    .col(string(CaseEvents::Kind))
                    .col(string(CaseEvents::Actor))
                    .col(timestamp_with_time_zone(CaseEvents::Time))
                    .col(string(CaseEvents::FromStatus))
                    .col(string(CaseEvents::ToStatus))
                    .col(text(CaseEvents::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "case_events_sequence",
                    CaseEvents::Table,
                    &[CaseEvents::CaseId, CaseEvents::Sequence],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Evidence::Table)
                    .col(string(Evidence::Id).primary_key())
                    .col(string(Evidence::CaseId))
                    .col(string(Evidence::Kind))
                    .col(text(Evidence::Description))
                    .col(string(Evidence::MediaType))
                    .col(string(Evidence::Sha256))
                    .col(big_integer(Evidence::SizeBytes))
                    .col(blob_null(Evidence::Content))
                    .col(string(Evidence::ReferenceUri))
                    .col(string(Evidence::AddedBy))
                    .col(timestamp_with_time_zone(Evidence::AddTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "evidence_by_case",
                Evidence::Table,
                &[Evidence::CaseId, Evidence::Id],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CustodyEvents::Table)
                    .col(big_pk_auto(CustodyEvents::Id))
                    .col(string(CustodyEvents::EvidenceId))
                    .col(big_integer(CustodyEvents::Sequence))
                    .col(string(CustodyEvents::Action))
                    .col(string(CustodyEvents::Actor))
                    .col(timestamp_with_time_zone(CustodyEvents::Time))
                    .col(string(CustodyEvents::Sha256))
                    .col(text(CustodyEvents::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "custody_events_sequence",
                    CustodyEvents::Table,
                    &[CustodyEvents::EvidenceId, CustodyEvents::Sequence],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Strikes::Table)
                    .col(string(Strikes::SellerId))
                    .col(string(Strikes::CaseId))
                    .col(timestamp_with_time_zone(Strikes::StrikeTime))
                    .col(timestamp_with_time_zone_null(Strikes::WithdrawTime))
                    .primary_key(Index::create().col(Strikes::SellerId).col(Strikes::CaseId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "strikes_by_time",
                Strikes::Table,
                &[Strikes::StrikeTime],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SellerIdentifiers::Table)
                    .col(string(SellerIdentifiers::Kind))
                    .col(string(SellerIdentifiers::Value))
                    .col(string(SellerIdentifiers::SellerId))
                    .col(timestamp_with_time_zone(SellerIdentifiers::RecordTime))
                    .primary_key(
                        Index::create()
                            .col(SellerIdentifiers::Kind)
                            .col(SellerIdentifiers::Value)
                            .col(SellerIdentifiers::SellerId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "seller_identifiers_by_seller",
                SellerIdentifiers::Table,
                &[SellerIdentifiers::SellerId],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Referrals::Table)
                    .col(string(Referrals::Id).primary_key())
                    .col(string_uniq(Referrals::CaseId))
                    .col(string(Referrals::AgencyId))
                    .col(text(Referrals::Summary))
                    .col(blob(Referrals::Package))
                    .col(string(Referrals::PackageSha256))
                    .col(string(Referrals::State))
                    .col(string(Referrals::ReferredBy))
                    .col(timestamp_with_time_zone(Referrals::CreateTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "referrals_by_time",
                Referrals::Table,
                &[Referrals::CreateTime],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReferralOutcomes::Table)
                    .col(big_pk_auto(ReferralOutcomes::Id))
                    .col(string(ReferralOutcomes::ReferralId))
                    .col(integer(ReferralOutcomes::Arrests))
                    .col(big_integer(ReferralOutcomes::SeizedUnits))
                    .col(string(ReferralOutcomes::SeizedCurrency))
                    .col(big_integer(ReferralOutcomes::SeizedValueUnits))
                    .col(integer(ReferralOutcomes::SeizedValueNanos))
                    .col(integer(ReferralOutcomes::Convictions))
                    .col(text(ReferralOutcomes::Note))
                    .col(string(ReferralOutcomes::ReportedBy))
                    .col(timestamp_with_time_zone(ReferralOutcomes::ReportTime))
                    .to_owned(),
            )
            .await?;
        for statement in [
            index(
                "referral_outcomes_by_referral",
                ReferralOutcomes::Table,
                &[ReferralOutcomes::ReferralId, ReferralOutcomes::Id],
            ),
            index(
                "referral_outcomes_by_time",
                ReferralOutcomes::Table,
                &[ReferralOutcomes::ReportTime],
            ),
        ] {
            manager.create_index(statement).await?;
        }
        Ok(())
    }
}
