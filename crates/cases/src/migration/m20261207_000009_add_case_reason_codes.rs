//! A case keeps the grounds its notice gave and the grounds its takedown upheld, so that
//! they can be shown and counted.

use sea_orm_migration::schema::*;

assay_common::add_columns_migration!(
    "cases",
    [
        text("reason_codes").default(""),
        text("decision_reason_codes").default(""),
    ]
);
