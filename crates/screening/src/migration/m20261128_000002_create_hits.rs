use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Hits {
    Table,
    Id,
    ListingId,
    SellerId,
    Decision,
    RiskScore,
    DedupKey,
    SignalKinds,
    CatalogueRevision,
    RuleVersion,
    Listing,
    Verdict,
    CreateTime,
    FeedbackOutcome,
    FeedbackNote,
    FeedbackBy,
    FeedbackTime,
}

#[derive(DeriveIden)]
enum HitBrands {
    Table,
    BrandId,
    HitId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Hits::Table)
                    .col(string(Hits::Id).primary_key())
                    .col(string(Hits::ListingId))
                    .col(string(Hits::SellerId))
                    .col(string(Hits::Decision))
                    .col(double(Hits::RiskScore))
                    .col(string_uniq(Hits::DedupKey))
                    .col(string(Hits::SignalKinds))
                    .col(big_integer(Hits::CatalogueRevision))
                    .col(big_integer(Hits::RuleVersion))
                    .col(blob(Hits::Listing))
                    .col(blob(Hits::Verdict))
                    .col(timestamp_with_time_zone(Hits::CreateTime))
                    .col(string_null(Hits::FeedbackOutcome))
                    .col(text(Hits::FeedbackNote))
                    .col(string(Hits::FeedbackBy))
                    .col(timestamp_with_time_zone_null(Hits::FeedbackTime))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("hits_by_seller", vec![Hits::SellerId, Hits::Id]),
            ("hits_by_listing", vec![Hits::ListingId, Hits::Id]),
            ("hits_by_time", vec![Hits::CreateTime]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Hits::Table);
            for column in columns {
                index.col(column);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(HitBrands::Table)
                    .col(string(HitBrands::BrandId))
                    .col(string(HitBrands::HitId))
                    .primary_key(
                        Index::create()
                            .col(HitBrands::BrandId)
                            .col(HitBrands::HitId),
                    )
                    .to_owned(),
            )
            .await
    }
}
