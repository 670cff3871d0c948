//! Database connections and migrations.
//!
//! Every service owns one database: a SQLite file by default (`data/<service>.db`, created if
//! missing) or PostgreSQL by URL. SQLite runs in WAL mode with one writing connection, so
//! writers queue instead of failing with "database is locked", a pool of readers beside
//! it, and a connection of its own that checkpoints the WAL (see [`Db`]).

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::time::Duration;

use anyhow::Context;
use sea_orm::prelude::async_trait;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, ExecResult, IsolationLevel, QueryResult, Statement, TransactionError,
    TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::config::DatabaseConfig;

/// A service's database. On PostgreSQL, one pool. On a SQLite file, one connection that
/// writes and a pool of read-only connections beside it: in WAL mode readers never wait for
/// the writer, so reads go to the readers — every `SELECT` outside a transaction — and
/// everything else (writes, transactions, `INSERT ... RETURNING`) to the writer.
///
/// The writer of a SQLite file never checkpoints: a connection beside it copies the WAL
/// into the database every [`CHECKPOINT_EVERY`] (a passive checkpoint, which waits for no
/// reader or writer), so no commit waits for that copy and its `fsync`.
#[derive(Clone, Debug)]
pub struct Db {
    writer: DatabaseConnection,
    readers: Option<DatabaseConnection>,
    /// The checkpointer runs while any clone of this lives.
    _checkpointing: Option<Arc<()>>,
}

/// How often the WAL of a SQLite file is checkpointed beside its writer.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// A pooled PostgreSQL connection idle this long is pinged before it is used again.
///
/// Left to itself, sqlx pings every connection it hands out: on PostgreSQL a round trip to
/// the server before each query, on SQLite a round trip to the connection's thread. A
/// connection used within the last second has just shown it works; one that sat idle may
/// have been cut by the server, a proxy or a firewall, so it is pinged, and replaced if dead,
/// before a caller meets the failure (HikariCP skips its check within 500 ms of a use, for
/// the same reason). A connection cut while in use fails its call with UNAVAILABLE. A SQLite
/// connection lives in this process and cannot be cut: it is never pinged.
pub const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// Which of a database's pools `open` makes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pool {
    /// The one pool on PostgreSQL; on SQLite, the one connection that writes.
    Writer,
    /// SQLite's read-only connections.
    Readers,
    /// The connection that checkpoints a SQLite file's WAL.
    Checkpointer,
}

impl Db {
    /// One pool for everything.
    pub fn single(db: DatabaseConnection) -> Self {
        Self {
            writer: db,
            readers: None,
            _checkpointing: None,
        }
    }

    /// The connection that writes (the only one, on PostgreSQL), for what needs the pool
    /// itself: migrations, `LISTEN`.
    pub fn writer(&self) -> &DatabaseConnection {
        &self.writer
    }

    /// Its pools' connections: (pool, open, idle) — `writer` and, on SQLite, `readers`.
    pub fn connections(&self) -> Vec<(&'static str, u32, u32)> {
        let count = |db: &DatabaseConnection| -> (u32, u32) {
            match db.get_database_backend() {
                DbBackend::Postgres => {
                    let pool = db.get_postgres_connection_pool();
                    (pool.size(), pool.num_idle() as u32)
                }
                _ => {
                    let pool = db.get_sqlite_connection_pool();
                    (pool.size(), pool.num_idle() as u32)
                }
            }
        };
        let mut pools = Vec::with_capacity(2);
        let (open, idle) = count(&self.writer);
        pools.push(("writer", open, idle));
        if let Some(readers) = &self.readers {
            let (open, idle) = count(readers);
            pools.push(("readers", open, idle));
        }
        pools
    }

    fn for_query(&self, statement: &Statement) -> &DatabaseConnection {
        match &self.readers {
            Some(readers) if is_read(&statement.sql) => readers,
            _ => &self.writer,
        }
    }
}

/// Whether `sql` only reads.
fn is_read(sql: &str) -> bool {
    sql.trim_start()
        .get(..7)
        .is_some_and(|head| head.eq_ignore_ascii_case("SELECT "))
}

#[async_trait::async_trait]
impl ConnectionTrait for Db {
    fn get_database_backend(&self) -> DbBackend {
        self.writer.get_database_backend()
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        self.writer.execute_raw(statement).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.writer.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.for_query(&statement).query_one_raw(statement).await
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.for_query(&statement).query_all_raw(statement).await
    }
}

#[async_trait::async_trait]
impl TransactionTrait for Db {
    type Transaction = DatabaseTransaction;

    async fn begin(&self) -> Result<DatabaseTransaction, DbErr> {
        self.writer.begin().await
    }

    async fn begin_with_config(
        &self,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.writer
            .begin_with_config(isolation_level, access_mode)
            .await
    }

    async fn begin_with_options(
        &self,
        options: TransactionOptions,
    ) -> Result<DatabaseTransaction, DbErr> {
        self.writer.begin_with_options(options).await
    }

    async fn transaction<F, T, E>(&self, callback: F) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.writer.transaction(callback).await
    }

    async fn transaction_with_config<F, T, E>(
        &self,
        callback: F,
        isolation_level: Option<IsolationLevel>,
        access_mode: Option<AccessMode>,
    ) -> Result<T, TransactionError<E>>
    where
        F: for<'c> FnOnce(
                &'c DatabaseTransaction,
            ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
            + Send,
        T: Send,
        E: std::fmt::Display + std::fmt::Debug + Send,
    {
        self.writer
            .transaction_with_config(callback, isolation_level, access_mode)
            .await
    }
}

/// Opens a service's database for `url` without connecting yet; the first query connects.
/// This lets a server answer health checks (NOT_SERVING) while its database is still
/// unreachable.
pub async fn connect(url: &str, config: &DatabaseConfig) -> anyhow::Result<Db> {
    let writer = open(url, config, Pool::Writer).await?;
    let (readers, checkpointing) = match sqlite_path(url) {
        Some(_) => {
            let checkpointing = Arc::new(());
            checkpoint_beside(
                open(url, config, Pool::Checkpointer).await?,
                Arc::downgrade(&checkpointing),
            );
            (
                Some(open(url, config, Pool::Readers).await?),
                Some(checkpointing),
            )
        }
        None => (None, None),
    };
    Ok(Db {
        writer,
        readers,
        _checkpointing: checkpointing,
    })
}

/// Checkpoints the WAL through `checkpointer` every [`CHECKPOINT_EVERY`] while `alive`.
fn checkpoint_beside(checkpointer: DatabaseConnection, alive: Weak<()>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if alive.strong_count() == 0 {
                break;
            }
            if let Err(error) = checkpointer
                .execute_unprepared("PRAGMA wal_checkpoint(PASSIVE)")
                .await
            {
                // Only this connection checkpoints, and a passive checkpoint waits on no
                // reader or writer: a failure is rather an I/O error or a full disk, and
                // while it lasts the WAL grows.
                tracing::warn!(%error, "checkpointing the WAL failed; trying again shortly");
            }
        }
        let _ = checkpointer.close().await;
    });
}

/// The pool `pool` of `url`.
async fn open(
    url: &str,
    config: &DatabaseConfig,
    pool: Pool,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(config.connect_timeout)
        .acquire_timeout(config.acquire_timeout)
        .sqlx_logging(config.log_statements)
        .sqlx_logging_level(tracing::log::LevelFilter::Debug)
        .connect_lazy(true);

    if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_path(url)
            .and_then(Path::parent)
            .filter(|d| !d.as_os_str().is_empty())
        {
            crate::auth::create_private_dir(dir)
                .with_context(|| format!("creating the data directory {}", dir.display()))?;
        }
        // SQLite gives the WAL and shared-memory files the mode of the database file.
        if let Some(path) = sqlite_path(url) {
            crate::auth::create_private_file(path)
                .with_context(|| format!("creating the database file {}", path.display()))?;
        }
        // A file's writer leaves checkpoints to the checkpointer; an in-memory database
        // has no WAL.
        let writes_a_file = pool == Pool::Writer && sqlite_path(url).is_some();
        options.test_before_acquire(false);
        if pool == Pool::Readers {
            options
                .max_connections(config.max_connections.max(1))
                .min_connections(0)
                .map_sqlx_sqlite_opts(|opts: SqliteConnectOptions| {
                    opts.read_only(true).busy_timeout(Duration::from_secs(5))
                });
        } else {
            options
                .max_connections(1)
                .min_connections(1)
                // An in-memory database lives as long as its connection.
                .idle_timeout(None::<Duration>)
                .max_lifetime(None::<Duration>)
                .map_sqlx_sqlite_opts(move |opts: SqliteConnectOptions| {
                    let opts = opts
                        .journal_mode(SqliteJournalMode::Wal)
                        .synchronous(SqliteSynchronous::Normal)
                        .busy_timeout(Duration::from_secs(5))
                        .foreign_keys(true);
                    if writes_a_file {
                        opts.pragma("wal_autocheckpoint", "0")
                    } else {
                        opts
                    }
                });
        }
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        options
            .max_connections(config.max_connections)
            .min_connections(config.min_connections)
            .test_before_acquire_if_idle_for(PING_IDLE_AFTER);
    } else {
        anyhow::bail!("unsupported database URL {url:?}: use sqlite://... or postgres://...");
    }
    Database::connect(options)
        .await
        .with_context(|| format!("opening database {}", redact(url)))
}

/// The PostgreSQL advisory lock that every Assay migrator takes ("assay_mg"): one at a
/// time, whichever service, replica or `assay migrate` Job it is.
const MIGRATION_LOCK: i64 = 0x6173_7361_795f_6d67;

/// Runs every pending migration of `M`, safely beside other replicas doing the same.
///
/// On PostgreSQL all of it runs in one transaction under an advisory lock: replicas that
/// start together on a fresh database take turns, and those that wait find the schema done
/// (their health says NOT_SERVING meanwhile). A crash half-way leaves nothing behind. On
/// SQLite one connection writes anyway.
///
/// A database that a newer release has already migrated further (a rolling upgrade, or a
/// rollback of the binary) is served as it is: by the expand/contract rule (see
/// CONTRIBUTING.md) what a newer release adds, older code may ignore. A database that has
/// migrations this binary does not know *and* lacks some it does is refused.
///
/// Returns the names of the migrations it applied.
pub async fn migrate<M: MigratorTrait>(db: &Db) -> anyhow::Result<Vec<String>> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db.writer().begin().await?;
            let free = txn
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_try_advisory_xact_lock($1) AS free",
                    [MIGRATION_LOCK.into()],
                ))
                .await?
                .and_then(|row| row.try_get::<bool>("", "free").ok())
                .unwrap_or(false);
            if !free {
                tracing::info!("another replica is migrating the database; waiting for it");
                txn.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_advisory_xact_lock($1)",
                    [MIGRATION_LOCK.into()],
                ))
                .await?;
            }
            let applied = migrate_on::<M, _>(&txn)
                .await
                .context("running migrations")?;
            txn.commit().await.context("committing migrations")?;
            Ok(applied)
        }
        _ => migrate_on::<M, _>(db.writer())
            .await
            .context("running migrations"),
    }
}

/// Each migration of `M`, in order, and whether the database has it — changing nothing (no
/// table is created). Fails, naming them, where the database has migrations `M` does not
/// know.
pub async fn migration_status<M: MigratorTrait>(db: &Db) -> anyhow::Result<Vec<(String, bool)>> {
    Ok(M::get_migration_with_status_read_only(db.writer())
        .await
        .context("reading the migrations applied")?
        .iter()
        .map(|m| {
            (
                m.name().to_owned(),
                m.status() == sea_orm_migration::MigrationStatus::Applied,
            )
        })
        .collect())
}

/// [`migrate`] on one connection or transaction.
async fn migrate_on<M, C>(conn: &C) -> anyhow::Result<Vec<String>>
where
    M: MigratorTrait,
    C: ConnectionTrait,
    for<'c> &'c C: sea_orm::IntoDatabaseExecutor<'c>,
{
    M::install(conn).await?;
    let known: std::collections::BTreeSet<String> = M::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let applied: std::collections::BTreeSet<String> = M::get_migration_models(conn)
        .await?
        .into_iter()
        .map(|m| m.version)
        .collect();
    let newer: Vec<&String> = applied.difference(&known).collect();
    if newer.is_empty() {
        let pending: Vec<String> = M::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .filter(|name| !applied.contains(name))
            .collect();
        M::up(conn, None).await?;
        return Ok(pending);
    }
    let missing: Vec<&String> = known.difference(&applied).collect();
    anyhow::ensure!(
        missing.is_empty(),
        "the database has migrations this binary does not know ({newer:?}) and lacks some it does ({missing:?}): it was migrated by another line of releases"
    );
    tracing::warn!(
        ?newer,
        "the database was migrated by a newer release; serving it as it is"
    );
    Ok(Vec::new())
}

/// Whether the database answers.
pub async fn ping(db: &Db) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// The backend behind a connection.
pub fn backend(db: &impl ConnectionTrait) -> DbBackend {
    db.get_database_backend()
}

fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

/// A URL with its password hidden (in the authority or as a `password=` parameter), for
/// logs, errors and `assay config`.
pub fn redact(url: &str) -> String {
    let url = match url.split_once('?') {
        Some((base, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{base}?{}", query.join("&"))
        }
        None => url.to_owned(),
    };
    let url = url.as_str();
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// For tests on PostgreSQL: the admin URL of the server they use (`TEST_POSTGRES_URL`, else
/// `postgres://postgres@127.0.0.1:5432/postgres`) if it answers. If it does not, `None`, after
/// a notice on standard error (once, past the test harness's capture), so that a first
/// `cargo test` without PostgreSQL runs the rest; unless `ASSAY_REQUIRE_POSTGRES` is set, as
/// CI sets it, where a missing server fails the test.
pub async fn test_postgres() -> Option<String> {
    static FOUND: tokio::sync::OnceCell<Option<String>> = tokio::sync::OnceCell::const_new();
    FOUND
        .get_or_init(|| async {
            let url = std::env::var("TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
            let mut options = ConnectOptions::new(url.clone());
            options
                .connect_timeout(Duration::from_secs(3))
                .max_connections(1)
                .sqlx_logging(false);
            let answer = match Database::connect(options).await {
                Ok(db) => db.execute_unprepared("SELECT 1").await.map(|_| ()),
                Err(error) => Err(error),
            };
            match answer {
                Ok(()) => Some(url),
                Err(error) if std::env::var_os("ASSAY_REQUIRE_POSTGRES").is_some() => {
                    panic!("PostgreSQL at {} is required (ASSAY_REQUIRE_POSTGRES): {error}", redact(&url))
                }
                Err(error) => {
                    use std::io::Write;
                    let _ = writeln!(
                        std::io::stderr(),
                        "\nnote: no PostgreSQL at {} ({error}): the PostgreSQL tests pass without running. \
                         Start one, or set TEST_POSTGRES_URL; set ASSAY_REQUIRE_POSTGRES=1 to make this a failure.\n",
                        redact(&url)
                    );
                    None
                }
            }
        })
        .await
        .clone()
}

/// For tests: a fresh database on the PostgreSQL server of [`test_postgres`], named with
/// `prefix` and a unique suffix; `None` where no server answers. [`TestDatabase::drop`]
/// removes it (connections and all).
pub struct TestDatabase {
    admin: DatabaseConnection,
    name: String,
    /// Its URL.
    pub url: String,
}

impl TestDatabase {
    pub async fn create(prefix: &str) -> Option<Self> {
        let admin_url = test_postgres().await?;
        let admin = Database::connect(&admin_url)
            .await
            .expect("connecting to the test PostgreSQL");
        let name = format!("{prefix}_{}", uuid::Uuid::now_v7().simple());
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("creating a test database");
        let server = admin_url
            .split('?')
            .next()
            .and_then(|u| u.rsplit_once('/'))
            .map_or(admin_url.as_str(), |(server, _)| server);
        let url = format!("{server}/{name}");
        Some(Self { admin, name, url })
    }

    pub async fn drop(self) {
        let _ = self
            .admin
            .execute_unprepared(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .await;
    }
}

/// A service's migrator: its migrations in order, recorded in its own table so that
/// services sharing one database keep separate histories.
///
/// ```ignore
/// assay_common::migrator!("cases_migrations", [
///     assay_common::idempotency::Migration,
///     m20261128_000001_create_cases::Migration,
/// ]);
/// ```
#[macro_export]
macro_rules! migrator {
    ($table:literal, [$($migration:expr),* $(,)?]) => {
        pub struct Migrator;

        #[::sea_orm_migration::async_trait::async_trait]
        impl ::sea_orm_migration::MigratorTrait for Migrator {
            fn migrations() -> Vec<Box<dyn ::sea_orm_migration::MigrationTrait>> {
                vec![$(Box::new($migration)),*]
            }

            fn migration_table_name() -> ::sea_orm_migration::prelude::DynIden {
                ::sea_orm_migration::prelude::IntoIden::into_iden($table)
            }
        }
    };
}

/// The row of `E` with primary key `id`, or NOT_FOUND for `kind` `id` (as
/// [`ApiError::not_found`] words it, the same for a row of another tenant's).
pub async fn find_or_not_found<E, K>(
    db: &impl ConnectionTrait,
    kind: &'static str,
    id: K,
) -> crate::ApiResult<E::Model>
where
    E: sea_orm::EntityTrait,
    K: Into<<E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType> + std::fmt::Display,
{
    let shown = id.to_string();
    E::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| crate::ApiError::not_found(kind, shown))
}

/// Adds `columns` to `table`, one statement a column: SQLite alters one column at a time.
pub async fn add_columns(
    manager: &sea_orm_migration::SchemaManager<'_>,
    table: impl sea_orm_migration::prelude::IntoIden,
    columns: impl IntoIterator<Item = sea_orm_migration::prelude::ColumnDef>,
) -> Result<(), DbErr> {
    use sea_orm_migration::prelude::Table;
    let table = table.into_iden();
    for column in columns {
        let alter = Table::alter()
            .table(table.clone())
            .add_column(column)
            .to_owned();
        manager.alter_table(alter).await?;
    }
    Ok(())
}

/// A migration that only adds columns to one table, named (as every migration is) by its
/// file.
///
/// ```ignore
/// use sea_orm_migration::schema::*;
/// assay_common::add_columns_migration!("cases", [text("trace_context").default("")]);
/// ```
#[macro_export]
macro_rules! add_columns_migration {
    ($table:literal, [$($column:expr),+ $(,)?]) => {
        #[derive(::sea_orm_migration::prelude::DeriveMigrationName)]
        pub struct Migration;

        #[::sea_orm_migration::async_trait::async_trait]
        impl ::sea_orm_migration::MigrationTrait for Migration {
            async fn up(
                &self,
                manager: &::sea_orm_migration::SchemaManager,
            ) -> Result<(), ::sea_orm_migration::DbErr> {
                $crate::db::add_columns(manager, $table, [$($column.to_owned()),+]).await
            }
        }
    };
}

/// Rows of one multi-row `INSERT`, or keys of one `IN (...)`, at most: with a few dozen
/// columns a row this stays far below SQLite's and PostgreSQL's limits on bound parameters.
pub const ROWS_PER_STATEMENT: usize = 500;

/// Inserts `rows` with as few statements as the limit on bound parameters allows (in the
/// caller's transaction, if it has one); nothing for no rows.
pub async fn insert_all<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> Result<(), DbErr>
where
    A: sea_orm::ActiveModelTrait,
{
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        <A::Entity as sea_orm::EntityTrait>::insert_many(rows.by_ref().take(ROWS_PER_STATEMENT))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Inserts `rows` as [`insert_all`] does, leaving out each row whose `unique` column holds a
/// value already stored, or being stored by another writer at that moment (on PostgreSQL
/// the insert waits for that writer's commit); returns how many rows it inserted. A caller
/// given fewer than it sent looks up which were left out. Rows sorted by `unique` make two
/// writers of the same values wait on each other in one direction only, never deadlock.
pub async fn insert_all_new<A>(
    db: &impl ConnectionTrait,
    rows: Vec<A>,
    unique: <A::Entity as sea_orm::EntityTrait>::Column,
) -> Result<u64, DbErr>
where
    A: sea_orm::ActiveModelTrait,
{
    let skip = sea_orm::sea_query::OnConflict::column(unique)
        .do_nothing()
        .to_owned();
    let mut inserted = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        inserted += <A::Entity as sea_orm::EntityTrait>::insert_many(
            rows.by_ref().take(ROWS_PER_STATEMENT),
        )
        .on_conflict(skip.clone())
        .exec_without_returning(db)
        .await?;
    }
    Ok(inserted)
}

/// Keyset paging: the rows of `query` past `cursor` on `key` (after it, ascending; before
/// it, descending), in that order, at most `limit`.
pub fn keyset<E, V>(
    query: sea_orm::Select<E>,
    key: E::Column,
    order: sea_orm::Order,
    cursor: Option<V>,
    limit: u64,
) -> sea_orm::Select<E>
where
    E: sea_orm::EntityTrait,
    V: Into<sea_orm::Value>,
{
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let query = match (cursor, &order) {
        (None, _) => query,
        (Some(cursor), sea_orm::Order::Desc) => query.filter(key.lt(cursor)),
        (Some(cursor), _) => query.filter(key.gt(cursor)),
    };
    query.order_by(key, order).limit(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keyset_pages_either_way_from_a_cursor() {
        use sea_orm::{EntityTrait, Order, QuerySelect};
        use sea_orm_migration::prelude::*;

        use crate::outbox::entity as message;

        struct Migrator;
        #[async_trait::async_trait]
        impl MigratorTrait for Migrator {
            fn migrations() -> Vec<Box<dyn MigrationTrait>> {
                vec![
                    Box::new(crate::outbox::Migration),
                    Box::new(crate::outbox::TraceContextMigration),
                    Box::new(crate::outbox::UndeliveredIndexMigration),
                ]
            }
        }

        let dir = tempfile::tempdir().unwrap();
        let url = crate::config::sqlite_url(&dir.path().join("keyset.db"));
        let db = connect(&url, &crate::config::DatabaseConfig::default())
            .await
            .unwrap();
        migrate::<Migrator>(&db).await.unwrap();
        for key in ["a", "b", "c", "d", "e"] {
            crate::outbox::enqueue(&db, "t", key, Vec::new())
                .await
                .unwrap();
        }
        let ids = async |order, cursor: Option<i64>, limit| -> Vec<i64> {
            keyset(
                message::Entity::find(),
                message::Column::Id,
                order,
                cursor,
                limit,
            )
            .select_only()
            .column(message::Column::Id)
            .into_tuple()
            .all(&db)
            .await
            .unwrap()
        };
        assert_eq!(ids(Order::Asc, None, 2).await, [1, 2]);
        assert_eq!(ids(Order::Asc, Some(2), 2).await, [3, 4]);
        assert_eq!(ids(Order::Asc, Some(4), 2).await, [5]);
        assert_eq!(ids(Order::Desc, None, 2).await, [5, 4]);
        assert_eq!(ids(Order::Desc, Some(4), 10).await, [3, 2, 1]);
        assert!(ids(Order::Desc, Some(1), 10).await.is_empty());
    }

    /// On a SQLite file, reads go to the read-only pool and see every committed write;
    /// writes — `INSERT ... RETURNING` too — and transactions go to the writer.
    #[tokio::test]
    async fn sqlite_reads_go_to_readers_and_see_what_was_committed() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::config::sqlite_url(&dir.path().join("split.db"));
        let db = connect(&url, &DatabaseConfig::default()).await.unwrap();
        let readers = db.readers.clone().expect("a file database has readers");
        let sql = |text: &str| Statement::from_string(DbBackend::Sqlite, text.to_owned());
        db.execute_unprepared("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            .await
            .unwrap();
        let inserted = db
            .query_one_raw(sql("INSERT INTO t (v) VALUES ('a') RETURNING id"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(inserted.try_get::<i64>("", "id").unwrap(), 1);
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO t (v) VALUES ('b')")
            .await
            .unwrap();
        sea_orm::TransactionSession::commit(txn).await.unwrap();
        let count = |row: Option<QueryResult>| row.unwrap().try_get::<i64>("", "n").unwrap();
        let seen = db
            .query_one_raw(sql("SELECT COUNT(*) AS n FROM t"))
            .await
            .unwrap();
        assert_eq!(count(seen), 2, "a read sees both committed writes");
        assert!(
            readers
                .execute_unprepared("INSERT INTO t (v) VALUES ('c')")
                .await
                .is_err(),
            "the readers cannot write"
        );
        assert!(is_read("  select 1") && !is_read("UPDATE t SET v = 'x' RETURNING id"));
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://assay:hunter2@db:5432/registry"),
            "postgres://assay:***@db:5432/registry"
        );
        assert_eq!(
            redact("sqlite://data/registry.db?mode=rwc"),
            "sqlite://data/registry.db?mode=rwc"
        );
        assert_eq!(
            redact("postgres://db/registry?user=assay&password=hunter2&sslmode=require"),
            "postgres://db/registry?user=assay&password=***&sslmode=require"
        );
    }

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            sqlite_path("sqlite://data/registry.db?mode=rwc"),
            Some(Path::new("data/registry.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
    }

    #[tokio::test]
    async fn a_sqlite_files_wal_is_checkpointed_beside_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::config::sqlite_url(&dir.path().join("wal.db"));
        let db = connect(&url, &DatabaseConfig::default()).await.unwrap();
        let setting = |name: &'static str| {
            let db = db.clone();
            async move {
                let row = db
                    .query_one_raw(Statement::from_string(
                        DbBackend::Sqlite,
                        format!("PRAGMA {name}"),
                    ))
                    .await
                    .unwrap()
                    .unwrap();
                row.try_get_by_index::<i64>(0).unwrap()
            }
        };
        assert_eq!(
            setting("wal_autocheckpoint").await,
            0,
            "the writer never checkpoints"
        );
        db.execute_unprepared("CREATE TABLE blobs (b BLOB)")
            .await
            .unwrap();
        // 8 MiB written a MiB at a time, the checkpointer given its turn after each: the
        // WAL starts over each time instead of growing (SQLite's own checkpoint would
        // let it reach 4 MiB first; none would let it hold all 8).
        for _ in 0..8 {
            db.execute_unprepared("INSERT INTO blobs VALUES (randomblob(1048576))")
                .await
                .unwrap();
            tokio::time::sleep(CHECKPOINT_EVERY * 3).await;
        }
        let wal = std::fs::metadata(dir.path().join("wal.db-wal"))
            .unwrap()
            .len();
        assert!(wal < 3 << 20, "the WAL grew to {wal} bytes");
        let count = db
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT count(*) FROM blobs",
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            count.try_get_by_index::<i64>(0).unwrap(),
            8,
            "every row readable"
        );
    }

    #[tokio::test]
    async fn sqlite_file_and_directory_are_created() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::config::sqlite_url(&dir.path().join("nested/registry.db"));
        let db = connect(&url, &DatabaseConfig::default()).await.unwrap();
        assert!(ping(&db).await);
        let file = dir.path().join("nested/registry.db");
        assert!(file.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&dir.path().join("nested")), 0o700);
            assert_eq!(mode(&file), 0o600);
            let wal = dir.path().join("nested/registry.db-wal");
            if wal.exists() {
                assert_eq!(mode(&wal), 0o600);
            }
        }
    }

    /// Connections in use are not pinged before each query (see [`PING_IDLE_AFTER`]). One
    /// the server cut while it was in use fails its next call with UNAVAILABLE, which
    /// clients retry, and is replaced; one cut while it sat idle in the pool is found dead
    /// and replaced before a caller uses it.
    #[tokio::test]
    async fn a_postgres_connection_the_server_cut_is_replaced() {
        let Some(database) = TestDatabase::create("db_cut").await else {
            return;
        };
        let db = connect(&database.url, &DatabaseConfig::default())
            .await
            .unwrap();
        let backend = async || -> Result<i32, DbErr> {
            let row = db
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT pg_backend_pid() AS pid",
                ))
                .await?;
            Ok(row.unwrap().try_get::<i32>("", "pid").unwrap())
        };
        let cut = async |pid: i32| {
            // Waits (up to 5 s) until the server process has gone.
            let sql = format!("SELECT pg_terminate_backend({pid}, 5000) AS cut");
            let row = database
                .admin
                .query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .unwrap()
                .unwrap();
            assert!(
                row.try_get::<bool>("", "cut").unwrap(),
                "the server cut {pid}"
            );
        };

        // A connection goes back to the pool after the call, once sqlx has pinged it.
        let idle_in_the_pool = async || {
            let pool = db.writer.get_postgres_connection_pool();
            for _ in 0..500 {
                if pool.num_idle() == 1 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            panic!("the connection never went back to the pool");
        };

        let first = backend().await.unwrap();
        idle_in_the_pool().await;
        cut(first).await;
        let lost = backend().await.expect_err("the connection in use was cut");
        assert_eq!(
            crate::error::ApiError::from(lost).code(),
            crate::error::ErrorCode::Unavailable,
            "a lost connection is a retry, not an internal error"
        );
        let second = backend().await.expect("a new connection");
        assert_ne!(first, second);

        tokio::time::sleep(PING_IDLE_AFTER + Duration::from_millis(200)).await;
        cut(second).await;
        let third = backend()
            .await
            .expect("the idle connection that was cut is replaced, not handed to the caller");
        assert_ne!(second, third);
        db.writer.close_by_ref().await.unwrap();
        database.drop().await;
    }
}
