//! Case management's schema, one migration per step.

use sea_orm_migration::prelude::*;

mod m20261128_000001_create_cases;
mod m20261201_000002_add_case_trace_context;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(assay_common::idempotency::Migration),
            Box::new(assay_common::outbox::Migration),
            Box::new(m20261128_000001_create_cases::Migration),
            Box::new(assay_common::outbox::TraceContextMigration),
            Box::new(m20261201_000002_add_case_trace_context::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "cases_migrations".into_iden()
    }
}
