use assay_common::ids::CaseId;
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_listings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub case_id: CaseId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub listing_id: String,
    pub seller_id: String,
    pub title: String,
    pub takedown_time: Option<DateTimeUtc>,
    pub reinstate_time: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
