//! Case management's schema, one migration per step.

mod m20261128_000001_create_cases;
mod m20261201_000002_add_case_trace_context;
mod m20261206_000003_add_case_sla_breach;
mod m20261206_000004_create_enforcement_actions;
mod m20261207_000006_create_seller_links;
mod m20261207_000007_add_enforcement_link;
mod m20261207_000009_add_case_reason_codes;
mod m20261207_000010_add_case_self_service;
mod m20261207_000011_create_self_service_changes;
mod m20261207_000012_create_test_purchases;
mod m20261207_000014_add_enforcement_reason_message;
mod m20261207_000016_add_case_summary_translations;

assay_common::migrator!(
    "cases_migrations",
    [
        assay_common::idempotency::Migration,
        assay_common::outbox::Migration,
        m20261128_000001_create_cases::Migration,
        assay_common::outbox::TraceContextMigration,
        m20261201_000002_add_case_trace_context::Migration,
        assay_common::outbox::UndeliveredIndexMigration,
        m20261206_000003_add_case_sla_breach::Migration,
        m20261206_000004_create_enforcement_actions::Migration,
        assay_common::webhooks::Migration,
        m20261207_000006_create_seller_links::Migration,
        m20261207_000007_add_enforcement_link::Migration,
        assay_common::webhooks::GivenUpMigration,
        m20261207_000009_add_case_reason_codes::Migration,
        m20261207_000010_add_case_self_service::Migration,
        m20261207_000011_create_self_service_changes::Migration,
        m20261207_000012_create_test_purchases::Migration,
        m20261207_000014_add_enforcement_reason_message::Migration,
        m20261207_000016_add_case_summary_translations::Migration,
    ]
);
