use assay_common::ids::{BrandId, IpRightId, MemberId};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ip_rights")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: IpRightId,
    pub brand_id: BrandId,
    /// The brand's owner, kept here so that a member's rights are found without a join.
    pub member_id: MemberId,
    pub kind: String,
    pub office: String,
    pub registration_number: String,
    /// JSON array of Nice classes.
    #[sea_orm(column_type = "Text")]
    pub nice_classes: String,
    pub valid_from: Date,
    pub valid_until: Date,
    /// PENDING, VERIFIED or REJECTED; EXPIRED is derived from `valid_until`.
    pub status: String,
    pub verification_note: String,
    pub reviewed_by: String,
    pub review_time: Option<DateTimeUtc>,
    pub version: i64,
    /// The word mark as registered ("" for other rights).
    pub mark_text: String,
    /// JSON array of the normalized brand name and aliases it was verified for.
    #[sea_orm(column_type = "Text")]
    pub verified_terms: String,
    pub create_time: DateTimeUtc,
    pub update_time: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
