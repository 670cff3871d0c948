//! A case opened from a screening alert keeps its summary in the other languages the alert
//! wrote its explanations in, so that it is read in the reader's language; cases from
//! before keep their English summary only.

use sea_orm_migration::schema::*;

assay_common::add_columns_migration!("cases", [text_null("summary_translations")]);
