//! A case remembers whether the rights holder took its listings down itself (trusted
//! self-service removal), which only staff may reverse.

use sea_orm_migration::schema::*;

assay_common::add_columns_migration!("cases", [boolean("self_service").default(false)]);
