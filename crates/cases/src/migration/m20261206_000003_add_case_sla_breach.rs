//! A case remembers when it passed its deadline undecided, so that it is escalated once.

use sea_orm_migration::schema::*;

assay_common::add_columns_migration!("cases", [timestamp_with_time_zone_null("sla_breach_time")]);
