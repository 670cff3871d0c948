//! An enforcement action names the suspended seller it follows from, when a linked
//! storefront is suspended with it.

use sea_orm_migration::schema::*;

assay_common::add_columns_migration!("enforcement_actions", [string_null("linked_seller_id")]);
