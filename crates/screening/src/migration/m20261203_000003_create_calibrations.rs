use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Calibrations {
    Table,
    Version,
    CreateTime,
    CreatedBy,
    Body,
}

#[derive(DeriveIden)]
enum RuleState {
    Table,
    CalibrationVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Calibrations::Table)
                    .col(big_pk_auto(Calibrations::Version))
                    .col(timestamp_with_time_zone(Calibrations::CreateTime))
                    .col(string(Calibrations::CreatedBy))
                    .col(blob(Calibrations::Body))
                    .to_owned(),
            )
            .await?;
        // The calibration in use moves with the rule set version, which replicas follow.
        manager
            .alter_table(
                Table::alter()
                    .table(RuleState::Table)
                    .add_column(big_integer(RuleState::CalibrationVersion).default(0))
                    .to_owned(),
            )
            .await
    }
}
