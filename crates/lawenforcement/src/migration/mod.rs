//! The law-enforcement service's schema, one migration per step.

mod m20261128_000001_create_lawenforcement;
mod m20261207_000002_add_hold_warning;

assay_common::migrator!(
    "lawenforcement_migrations",
    [
        assay_common::idempotency::Migration,
        assay_common::outbox::Migration,
        m20261128_000001_create_lawenforcement::Migration,
        assay_common::outbox::TraceContextMigration,
        assay_common::outbox::UndeliveredIndexMigration,
        assay_common::webhooks::Migration,
        assay_common::webhooks::GivenUpMigration,
        m20261207_000002_add_hold_warning::Migration,
        assay_common::documents::Migration,
        assay_common::documents::PurgeTimeMigration,
    ]
);
