//! Rights record the mark they register and the brand names they were verified for, so that
//! a brand cannot be renamed into someone else's mark while keeping its protection.

use sea_orm_migration::schema::*;

assay_common::add_columns_migration!(
    "ip_rights",
    [
        text("mark_text").default(""),
        text("verified_terms").default("[]"),
    ]
);
