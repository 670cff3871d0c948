//! Screening's schema, one migration per step.

mod m20261128_000001_create_rules;
mod m20261128_000002_create_hits;
mod m20261203_000003_create_calibrations;
mod m20261206_000004_create_seller_standings;

assay_common::migrator!(
    "screening_migrations",
    [
        assay_common::idempotency::Migration,
        assay_common::outbox::Migration,
        m20261128_000001_create_rules::Migration,
        m20261128_000002_create_hits::Migration,
        assay_common::outbox::TraceContextMigration,
        assay_common::outbox::UndeliveredIndexMigration,
        m20261203_000003_create_calibrations::Migration,
        m20261206_000004_create_seller_standings::Migration,
    ]
);
