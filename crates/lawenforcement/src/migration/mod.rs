//! The law-enforcement service's schema, one migration per step.

mod m20261128_000001_create_lawenforcement;

assay_common::migrator!(
    "lawenforcement_migrations",
    [
        assay_common::idempotency::Migration,
        assay_common::outbox::Migration,
        m20261128_000001_create_lawenforcement::Migration,
        assay_common::outbox::TraceContextMigration,
        assay_common::outbox::UndeliveredIndexMigration,
    ]
);
