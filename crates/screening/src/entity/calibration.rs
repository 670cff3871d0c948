use sea_orm::entity::prelude::*;

/// One version of the signal weights fitted to analysts' feedback.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calibrations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub version: i64,
    pub create_time: DateTimeUtc,
    pub created_by: String,
    /// The encoded `Calibration`, less what the row holds (version, time, author, use).
    pub body: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
