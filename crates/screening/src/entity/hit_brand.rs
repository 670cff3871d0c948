use assay_common::ids::{BrandId, HitId};
use sea_orm::entity::prelude::*;

/// A brand a hit concerns, for listing hits by brand.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hit_brands")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: BrandId,
    #[sea_orm(primary_key, auto_increment = false)]
    pub hit_id: HitId,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
