//! Migrations as replicas and rolling upgrades meet them, for every service, on SQLite and
//! PostgreSQL:
//!
//! - replicas that start together on a fresh database migrate it once, without error;
//! - every migration only expands the schema (the expand/contract rule in CONTRIBUTING.md),
//!   so that the previous release keeps working on the schema the next one migrated;
//! - a binary serves a database that a newer release migrated further, and refuses one
//!   migrated by a line of releases it does not descend from.

use std::collections::BTreeMap;

use assay_common::config::{DatabaseConfig, sqlite_url};
use assay_common::db::{self, Db, TestDatabase};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::MigratorTrait;

/// Runs `$body` once for each service's migrator, as the type `M`, with its table name.
macro_rules! for_each_migrator {
    (|$m:ident| $body:expr) => {{
        {
            type $m = assay_registry::migration::Migrator;
            $body
        }
        {
            type $m = assay_screening::migration::Migrator;
            $body
        }
        {
            type $m = assay_cases::migration::Migrator;
            $body
        }
        {
            type $m = assay_lawenforcement::migration::Migrator;
            $body
        }
    }};
}

/// A fresh, empty database: a SQLite file or a PostgreSQL database dropped at the end.
struct Fresh {
    url: String,
    postgres: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

impl Fresh {
    async fn sqlite() -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        Some(Self {
            url: sqlite_url(&dir.path().join("fresh.db")),
            postgres: None,
            _dir: dir,
        })
    }

    /// `None` where no PostgreSQL answers (see `db::test_postgres`).
    async fn postgres() -> Option<Self> {
        let database = TestDatabase::create("assay_migrations").await?;
        Some(Self {
            url: database.url.clone(),
            postgres: Some(database),
            _dir: tempfile::tempdir().unwrap(),
        })
    }

    async fn db(&self) -> Db {
        db::connect(&self.url, &DatabaseConfig::default())
            .await
            .unwrap()
    }

    async fn drop(self) {
        if let Some(database) = self.postgres {
            database.drop().await;
        }
    }
}

async fn recorded<M: MigratorTrait>(db: &Db) -> usize {
    M::get_migration_models(db.writer()).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_starting_together_migrate_a_fresh_database_once_on_postgres() {
    for_each_migrator!(|M| {
        let Some(fresh) = Fresh::postgres().await else {
            return;
        };
        let mut replicas = Vec::new();
        for _ in 0..4 {
            let db = fresh.db().await;
            replicas.push(tokio::spawn(async move {
                db::migrate::<M>(&db).await.map(|applied| (db, applied))
            }));
        }
        let mut applied_by_any = Vec::new();
        for replica in replicas {
            let (db, applied_here) = replica
                .await
                .unwrap()
                .expect("every replica migrates or finds it done");
            assert_eq!(recorded::<M>(&db).await, M::migrations().len());
            applied_by_any.extend(applied_here);
        }
        let all: Vec<String> = M::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        assert_eq!(applied_by_any, all, "each migration applied once, in order");
        fresh.drop().await;
    });
}

/// Each table's columns: (type, nullable, has a default).
type Schema = BTreeMap<String, BTreeMap<String, (String, bool, bool)>>;

async fn schema(db: &Db) -> Schema {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, \
             is_nullable = 'YES' AS nullable, column_default IS NOT NULL AS defaulted \
             FROM information_schema.columns WHERE table_schema = current_schema()"
        }
        _ => {
            "SELECT m.name AS t, p.name AS c, p.type AS ty, p.\"notnull\" = 0 AS nullable, \
             p.dflt_value IS NOT NULL AS defaulted \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
        }
    };
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap();
    let mut schema = Schema::new();
    for row in rows {
        let get = |c: &str| row.try_get::<String>("", c).unwrap();
        let flag = |c: &str| {
            row.try_get::<bool>("", c)
                .or_else(|_| row.try_get::<i32>("", c).map(|v| v != 0))
                .unwrap()
        };
        schema
            .entry(get("t"))
            .or_default()
            .insert(get("c"), (get("ty"), flag("nullable"), flag("defaulted")));
    }
    schema
}

/// What in `after` an older release, written against `before`, could not live with.
fn contractions(before: &Schema, after: &Schema) -> Vec<String> {
    let mut found = Vec::new();
    for (table, columns) in before {
        let Some(now) = after.get(table) else {
            found.push(format!("table {table} was dropped or renamed"));
            continue;
        };
        for (column, (ty, nullable, _)) in columns {
            match now.get(column) {
                None => found.push(format!("column {table}.{column} was dropped or renamed")),
                Some((new_ty, _, _)) if new_ty != ty => found.push(format!(
                    "column {table}.{column} changed type from {ty} to {new_ty}"
                )),
                Some((_, false, _)) if *nullable => {
                    found.push(format!("column {table}.{column} became NOT NULL"))
                }
                Some(_) => {}
            }
        }
        for (column, (_, nullable, defaulted)) in now {
            if !columns.contains_key(column) && !nullable && !defaulted {
                found.push(format!(
                    "column {table}.{column} was added NOT NULL without a default: older code's inserts fail"
                ));
            }
        }
    }
    found
}

async fn every_migration_only_expands_the_schema(fresh: impl AsyncFn() -> Option<Fresh>) {
    for_each_migrator!(|M| {
        let Some(fresh) = fresh().await else {
            return;
        };
        let db = fresh.db().await;
        let mut before = schema(&db).await;
        for migration in M::migrations() {
            M::up(db.writer(), Some(1)).await.unwrap();
            let after = schema(&db).await;
            let found = contractions(&before, &after);
            assert!(
                found.is_empty(),
                "migration {} contracts the schema: {found:?}",
                migration.name()
            );
            before = after;
        }
        drop(db);
        fresh.drop().await;
    });
}

#[tokio::test]
async fn every_migration_only_expands_the_schema_on_sqlite() {
    every_migration_only_expands_the_schema(Fresh::sqlite).await;
}

#[tokio::test]
async fn every_migration_only_expands_the_schema_on_postgres() {
    every_migration_only_expands_the_schema(Fresh::postgres).await;
}

#[test]
fn the_rule_sees_what_older_code_cannot_live_with() {
    let table = |cols: &[(&str, &str, bool, bool)]| -> Schema {
        let mut s = Schema::new();
        for (c, ty, nullable, defaulted) in cols {
            s.entry("t".to_owned())
                .or_default()
                .insert((*c).to_owned(), ((*ty).to_owned(), *nullable, *defaulted));
        }
        s
    };
    let base = table(&[("id", "text", false, false), ("note", "text", true, false)]);
    let added = table(&[
        ("id", "text", false, false),
        ("note", "text", true, false),
        ("tag", "text", false, true),
        ("extra", "text", true, false),
    ]);
    assert!(contractions(&base, &added).is_empty());
    assert!(contractions(&base, &Schema::new())[0].contains("dropped"));
    let tightened = table(&[("id", "text", false, false), ("note", "text", false, false)]);
    assert!(contractions(&base, &tightened)[0].contains("NOT NULL"));
    let retyped = table(&[
        ("id", "bigint", false, false),
        ("note", "text", true, false),
    ]);
    assert!(contractions(&base, &retyped)[0].contains("type"));
    let renamed = table(&[("id", "text", false, false), ("notes", "text", true, false)]);
    assert!(contractions(&base, &renamed)[0].contains("note was dropped"));
    let strict = table(&[
        ("id", "text", false, false),
        ("note", "text", true, false),
        ("must", "text", false, false),
    ]);
    assert!(contractions(&base, &strict)[0].contains("without a default"));
}

/// A release ahead of this binary migrated the database (a column and a record of its
/// migration): this binary still migrates it, and finds nothing to do. A
/// database with a migration unknown here *and* one of this binary's missing is refused.
async fn a_database_a_newer_release_migrated_is_served(fresh: Option<Fresh>) {
    let Some(fresh) = fresh else {
        return;
    };
    type M = assay_cases::migration::Migrator;
    let db = fresh.db().await;
    db::migrate::<M>(&db).await.unwrap();
    let known = M::migrations().len();
    for sql in [
        "ALTER TABLE cases ADD COLUMN added_by_a_newer_release TEXT",
        "INSERT INTO cases_migrations (version, applied_at) VALUES ('m20991231_000001_newer', 0)",
    ] {
        db.execute_unprepared(sql).await.unwrap();
    }
    let applied = db::migrate::<M>(&db)
        .await
        .expect("an older binary serves a newer schema");
    assert!(applied.is_empty(), "{applied:?}");
    assert_eq!(recorded::<M>(&db).await, known + 1);

    let last = M::migrations().last().unwrap().name().to_owned();
    db.execute_unprepared(&format!(
        "DELETE FROM cases_migrations WHERE version = '{last}'"
    ))
    .await
    .unwrap();
    let refused = db::migrate::<M>(&db).await.unwrap_err();
    assert!(
        format!("{refused:#}").contains("another line of releases"),
        "{refused:#}"
    );
    drop(db);
    fresh.drop().await;
}

#[tokio::test]
async fn a_database_a_newer_release_migrated_is_served_on_sqlite() {
    a_database_a_newer_release_migrated_is_served(Fresh::sqlite().await).await;
}

#[tokio::test]
async fn a_database_a_newer_release_migrated_is_served_on_postgres() {
    a_database_a_newer_release_migrated_is_served(Fresh::postgres().await).await;
}
