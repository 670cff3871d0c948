//! An enforcement action keeps its reason as a message of the catalogue, so that it is read
//! in the reader's language; rows from before keep their English sentence only.

use sea_orm_migration::schema::*;

assay_common::add_columns_migration!("enforcement_actions", [text_null("reason_message")]);
