//! The registry's schema, one migration per step.

mod m20261128_000001_create_members;
mod m20261128_000002_create_brands;
mod m20261128_000003_create_ip_rights;
mod m20261128_000004_create_delegations;
mod m20261128_000005_create_catalogue;
mod m20261202_000006_add_right_marks;

assay_common::migrator!(
    "registry_migrations",
    [
        assay_common::idempotency::Migration,
        m20261128_000001_create_members::Migration,
        m20261128_000002_create_brands::Migration,
        m20261128_000003_create_ip_rights::Migration,
        m20261128_000004_create_delegations::Migration,
        m20261128_000005_create_catalogue::Migration,
        m20261202_000006_add_right_marks::Migration,
        assay_common::documents::Migration,
        assay_common::documents::PurgeTimeMigration,
    ]
);
