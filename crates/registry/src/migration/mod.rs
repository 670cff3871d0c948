//! The registry's schema, one migration per step.

use sea_orm_migration::prelude::*;

mod m20261128_000001_create_members;
mod m20261128_000002_create_brands;
mod m20261128_000003_create_ip_rights;
mod m20261128_000004_create_delegations;
mod m20261128_000005_create_catalogue;
mod m20261202_000006_add_right_marks;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(assay_common::idempotency::Migration),
            Box::new(m20261128_000001_create_members::Migration),
            Box::new(m20261128_000002_create_brands::Migration),
            Box::new(m20261128_000003_create_ip_rights::Migration),
            Box::new(m20261128_000004_create_delegations::Migration),
            Box::new(m20261128_000005_create_catalogue::Migration),
            Box::new(m20261202_000006_add_right_marks::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "registry_migrations".into_iden()
    }
}
