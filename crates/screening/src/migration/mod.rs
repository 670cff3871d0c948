//! Screening's schema, one migration per step.

use sea_orm_migration::prelude::*;

mod m20261128_000001_create_rules;
mod m20261128_000002_create_hits;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(assay_common::idempotency::Migration),
            Box::new(assay_common::outbox::Migration),
            Box::new(m20261128_000001_create_rules::Migration),
            Box::new(m20261128_000002_create_hits::Migration),
            Box::new(assay_common::outbox::TraceContextMigration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "screening_migrations".into_iden()
    }
}
