//! Each case remembers the trace it was opened in, so that what follows from it (its
//! referral to law enforcement) continues that trace.

use sea_orm_migration::schema::*;

assay_common::add_columns_migration!("cases", [text("trace_context").default("")]);
