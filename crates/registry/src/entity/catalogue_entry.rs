use assay_common::ids::BrandId;
use sea_orm::entity::prelude::*;

/// A brand's place in the catalogue: its last published state and the revision it was
/// published at. Entries that left the catalogue stay as tombstones (`protected` false), so
/// a watcher behind by any number of revisions learns of the removal.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "catalogue_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub brand_id: BrandId,
    pub protected: bool,
    pub revision: i64,
    /// SHA-256 of `body`, to publish only real changes.
    pub content_hash: String,
    /// The encoded `CatalogueBrand` (without its revision); empty for tombstones.
    pub body: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
