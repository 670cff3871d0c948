//! A preservation hold remembers the end its agency was last warned of, so that it is
//! warned once per end (an extension brings a new one).

use sea_orm_migration::schema::*;

assay_common::add_columns_migration!(
    "holds",
    [timestamp_with_time_zone_null("warned_expire_time")]
);
