use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Rules {
    Table,
    Id,
    BrandId,
    Description,
    Vocabulary,
    ReviewThreshold,
    BlockThreshold,
    AmbiguousTerms,
    Version,
    CreateTime,
    UpdateTime,
    UpdatedBy,
}

#[derive(DeriveIden)]
enum RuleRevisions {
    Table,
    Id,
    RuleId,
    Version,
    RuleSetVersion,
    Deleted,
    Body,
    ChangeTime,
}

#[derive(DeriveIden)]
enum RuleState {
    Table,
    Id,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Rules::Table)
                    .col(string(Rules::Id).primary_key())
                    .col(string(Rules::BrandId))
                    .col(text(Rules::Description))
                    .col(text(Rules::Vocabulary))
                    .col(double_null(Rules::ReviewThreshold))
                    .col(double_null(Rules::BlockThreshold))
                    .col(text(Rules::AmbiguousTerms))
                    .col(big_integer(Rules::Version))
                    .col(timestamp_with_time_zone(Rules::CreateTime))
                    .col(timestamp_with_time_zone(Rules::UpdateTime))
                    .col(string(Rules::UpdatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rules_by_brand")
                    .table(Rules::Table)
                    .col(Rules::BrandId)
                    .col(Rules::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RuleRevisions::Table)
                    .col(big_pk_auto(RuleRevisions::Id))
                    .col(string(RuleRevisions::RuleId))
                    .col(big_integer(RuleRevisions::Version))
                    .col(big_integer(RuleRevisions::RuleSetVersion))
                    .col(boolean(RuleRevisions::Deleted))
                    .col(blob(RuleRevisions::Body))
                    .col(timestamp_with_time_zone(RuleRevisions::ChangeTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("rule_revisions_by_rule")
                    .table(RuleRevisions::Table)
                    .col(RuleRevisions::RuleId)
                    .col(RuleRevisions::Version)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RuleState::Table)
                    .col(integer(RuleState::Id).primary_key())
                    .col(big_integer(RuleState::Version))
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(RuleState::Table)
            .columns([RuleState::Id, RuleState::Version])
            .values([1.into(), 0.into()])
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(insert).await
    }
}
