//! Documents kept with a record — an IP right's registration certificate, a delegation's
//! letter of authorisation, an agency's signed legal process — alike in every service that
//! keeps them. Each is checked by its content (its media type is what its bytes show),
//! hashed when uploaded and checked against that hash whenever it is read, and stored in the
//! service's own database or, when `[documents.object_store]` is configured, in an
//! S3-compatible object store with only its metadata in the database.
//!
//! Who may attach or read a document is the service's to decide: whoever may read the
//! record. A document's content is kept while its record lives and for `[documents]
//! retention` after the record ended (the service says when that was, and which records a
//! preservation hold covers: those keep theirs); then it is deleted, and what describes the
//! document — its name, type, size, SHA-256 and uploader — stays, with the time of purging.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::Db;
use crate::ids::DocumentId;
use crate::{ApiError, ApiResult, FieldViolations, validate};

/// Documents of one record, at most.
pub const MAX_PER_RECORD: u64 = 20;
/// The largest document `documents.max_bytes` may allow.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// The largest upload request: a document of `MAX_BYTES` and its name and hash. Services
/// give their AttachDocument this limit in their policy.
pub const MAX_REQUEST: usize = MAX_BYTES + 64 * 1024;

/// The media types a document may have, as its content shows.
pub const MEDIA_TYPES: [&str; 5] = [
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "image/webp",
];

/// `[documents]`: how large a document may be, and where documents are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DocumentsConfig {
    /// The largest document accepted, in bytes: at most 10 MiB.
    pub max_bytes: usize,
    /// How long a document's content is kept after its record ended.
    #[serde(with = "humantime_serde")]
    pub retention: std::time::Duration,
    /// Unset: each service's own database keeps the content.
    pub object_store: Option<ObjectStoreConfig>,
}

impl Default for DocumentsConfig {
    fn default() -> Self {
        Self {
            max_bytes: MAX_BYTES,
            retention: std::time::Duration::from_secs(2555 * 24 * 3600),
            object_store: None,
        }
    }
}

/// An S3-compatible object store (AWS S3, MinIO, Ceph, ...).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectStoreConfig {
    /// e.g. "https://s3.eu-west-1.amazonaws.com" or "http://minio.internal:9000".
    pub endpoint: String,
    pub bucket: String,
    #[serde(default = "default_region")]
    pub region: String,
    /// Key names begin with it, then the service: "assay/registry/doc_...".
    #[serde(default = "default_prefix")]
    pub prefix: String,
    pub access_key_id: String,
    /// A file holding the secret access key.
    pub secret_access_key_file: std::path::PathBuf,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

fn default_prefix() -> String {
    "assay".to_owned()
}

impl DocumentsConfig {
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.max_bytes == 0 || self.max_bytes > MAX_BYTES {
            problems.push(format!(
                "documents.max_bytes must be between 1 and {MAX_BYTES}"
            ));
        }
        if self.retention.is_zero() {
            problems.push("documents.retention must be above zero".to_owned());
        }
        if let Some(store) = &self.object_store {
            if store.bucket.trim().is_empty() {
                problems.push("documents.object_store.bucket must be set".to_owned());
            }
            if !(store.endpoint.starts_with("https://") || store.endpoint.starts_with("http://")) {
                problems.push(
                    "documents.object_store.endpoint must be an http:// or https:// URL".to_owned(),
                );
            }
        }
        problems
    }
}

/// A document as checked, about to be kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub name: String,
    pub media_type: &'static str,
    pub sha256: String,
    pub content: Vec<u8>,
}

/// The media type `content` shows, if a document may have it.
pub fn media_type_of(content: &[u8]) -> Option<&'static str> {
    let shown = infer::get(content)?.mime_type();
    MEDIA_TYPES.into_iter().find(|allowed| *allowed == shown)
}

/// Where one service keeps its documents' content.
#[derive(Clone)]
pub struct Documents {
    max_bytes: usize,
    store: Option<(Arc<dyn ObjectStore>, String)>,
}

impl std::fmt::Debug for Documents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Documents")
            .field("max_bytes", &self.max_bytes)
            .field(
                "object_store",
                &self.store.as_ref().map(|(_, prefix)| prefix),
            )
            .finish()
    }
}

impl Documents {
    /// The documents of service `service` as `config` says.
    pub fn new(config: &DocumentsConfig, service: &str) -> anyhow::Result<Self> {
        let store = match &config.object_store {
            None => None,
            Some(s) => {
                let secret = std::fs::read_to_string(&s.secret_access_key_file).map_err(|e| {
                    anyhow::anyhow!(
                        "documents.object_store.secret_access_key_file {}: {e}",
                        s.secret_access_key_file.display()
                    )
                })?;
                let store = object_store::aws::AmazonS3Builder::new()
                    .with_endpoint(&s.endpoint)
                    .with_bucket_name(&s.bucket)
                    .with_region(&s.region)
                    .with_access_key_id(&s.access_key_id)
                    .with_secret_access_key(secret.trim())
                    .with_allow_http(s.endpoint.starts_with("http://"))
                    .build()?;
                let prefix = format!("{}/{service}", s.prefix.trim_matches('/'));
                Some((Arc::new(store) as Arc<dyn ObjectStore>, prefix))
            }
        };
        Ok(Self {
            max_bytes: config.max_bytes,
            store,
        })
    }

    /// Checks an upload: a name, content of an allowed type by what it shows, within the
    /// size limit, and matching `sha256` if the caller sent it.
    pub fn check(
        &self,
        violations: &mut FieldViolations,
        name: &str,
        content: &[u8],
        sha256: &str,
    ) -> Option<NewDocument> {
        let name = violations.check("name", validate::text(name, 200));
        let sent = sha256.trim().to_ascii_lowercase();
        if !sent.is_empty() && (sent.len() != 64 || hex::decode(&sent).is_err()) {
            violations.add("sha256", "must be 64 hex digits");
        }
        if content.is_empty() {
            violations.add("content", "must not be empty");
            return None;
        }
        if content.len() > self.max_bytes {
            violations.add(
                "content",
                format!(
                    "must be at most {} bytes, got {}",
                    self.max_bytes,
                    content.len()
                ),
            );
            return None;
        }
        let Some(media_type) = media_type_of(content) else {
            violations.add(
                "content",
                "is not a PDF, JPEG, PNG, TIFF or WebP file, as its content shows",
            );
            return None;
        };
        let hash = hex::encode(Sha256::digest(content));
        if !sent.is_empty() && sent != hash {
            violations.add(
                "sha256",
                "does not match the content: it may have been corrupted on the way",
            );
        }
        Some(NewDocument {
            name: name?,
            media_type,
            sha256: hash,
            content: content.to_vec(),
        })
    }

    /// Keeps `new` with record `parent`, in the caller's transaction. With an object store
    /// the content is written there first: a transaction that then fails leaves an object
    /// nothing refers to, never a row whose content is missing.
    pub async fn attach(
        &self,
        db: &impl ConnectionTrait,
        parent: &str,
        new: NewDocument,
        actor: &str,
        now: DateTime<Utc>,
    ) -> ApiResult<entity::Model> {
        let kept = entity::Entity::find()
            .filter(entity::Column::Parent.eq(parent))
            .count(db)
            .await?;
        if kept >= MAX_PER_RECORD {
            return Err(ApiError::precondition(format!(
                "{parent} already has {kept} documents, the most a record keeps"
            )));
        }
        let id = DocumentId::generate();
        let size = new.content.len() as i64;
        let (content, object_key) = match &self.store {
            None => (Some(new.content), None),
            Some((store, prefix)) => {
                let key = format!("{prefix}/{id}");
                store
                    .put(&ObjectPath::from(key.as_str()), new.content.into())
                    .await
                    .map_err(|e| unavailable("stored", e))?;
                (None, Some(key))
            }
        };
        Ok(entity::ActiveModel {
            id: Set(id.to_string()),
            parent: Set(parent.to_owned()),
            name: Set(new.name),
            media_type: Set(new.media_type.to_owned()),
            sha256: Set(new.sha256),
            size_bytes: Set(size),
            content: Set(content),
            object_key: Set(object_key),
            uploaded_by: Set(actor.to_owned()),
            upload_time: Set(now),
            purge_time: Set(None),
        }
        .insert(db)
        .await?)
    }

    /// [`Documents::attach`], once per request id (`key`): a retry answers the document the
    /// first request kept. `then` runs in the same transaction when one is kept (an audit
    /// entry, say).
    pub async fn attach_once<F, Fut>(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        key: Option<&crate::idempotency::Key>,
        parent: &str,
        new: NewDocument,
        actor: &str,
        then: F,
    ) -> ApiResult<entity::Model>
    where
        F: FnOnce(entity::Model) -> Fut,
        Fut: std::future::Future<Output = ApiResult<entity::Model>>,
    {
        let kept = crate::idempotency::create_once(
            txn,
            key,
            async |existing| find(txn, &DocumentId::from_trusted(existing)).await,
            async || {
                let model = self
                    .attach(txn, parent, new, actor, crate::time::now())
                    .await?;
                let model = then(model).await?;
                Ok((model.id.clone(), model))
            },
        )
        .await?;
        Ok(kept.into_inner())
    }

    /// The content of a document, checked against the hash taken when it was uploaded.
    pub async fn content(&self, model: &entity::Model) -> ApiResult<Vec<u8>> {
        if let Some(purged) = model.purge_time {
            return Err(ApiError::precondition(format!(
                "the content of document {} was deleted on {}, its record having ended longer ago than the retention; its name, size and SHA-256 are kept",
                model.id,
                purged.date_naive()
            )));
        }
        let content = match (&model.content, &model.object_key, &self.store) {
            (Some(content), _, _) => content.clone(),
            (None, Some(key), Some((store, _))) => store
                .get(&ObjectPath::from(key.as_str()))
                .await
                .map_err(|e| unavailable("read", e))?
                .bytes()
                .await
                .map_err(|e| unavailable("read", e))?
                .to_vec(),
            (None, Some(_), None) => {
                return Err(ApiError::Unavailable(format!(
                    "document {} is in an object store, and none is configured",
                    model.id
                )));
            }
            (None, None, _) => {
                return Err(ApiError::internal(anyhow::anyhow!(
                    "document {} has neither content nor an object key",
                    model.id
                )));
            }
        };
        if hex::encode(Sha256::digest(&content)) != model.sha256 {
            return Err(ApiError::internal(anyhow::anyhow!(
                "document {} does not match the SHA-256 recorded when it was uploaded",
                model.id
            )));
        }
        Ok(content)
    }
}

/// What a service says of the records some documents belong to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Ended {
    /// The records that ended before the time asked about.
    pub ended: BTreeSet<String>,
    /// Of those, the ones a preservation hold covers: their documents are kept.
    pub held: BTreeSet<String>,
}

/// A document whose content a purge deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purged {
    pub id: String,
    pub parent: String,
    pub sha256: String,
}

/// Documents whose content is kept, read a batch at a time.
const PURGE_BATCH: u64 = 500;

impl Documents {
    /// Deletes the content of every document uploaded before `before` whose record ended
    /// before it, batch by batch: `judge` says which of a batch's records ended before
    /// `before` (and which of those are held), `record` is handed the transaction that marks
    /// a batch purged, with what it purged, to add to it (an audit entry, say) and hand
    /// back. An object is deleted before its row says so: a purge cut short is finished by
    /// the next. Returns (purged, kept for a hold).
    pub async fn purge_ended<J, JF, R, RF>(
        &self,
        db: &Db,
        before: DateTime<Utc>,
        mut judge: J,
        mut record: R,
    ) -> ApiResult<(u64, u64)>
    where
        J: FnMut(Vec<String>) -> JF,
        JF: Future<Output = ApiResult<Ended>>,
        R: FnMut(sea_orm::DatabaseTransaction, Vec<Purged>) -> RF,
        RF: Future<Output = ApiResult<sea_orm::DatabaseTransaction>>,
    {
        use sea_orm::TransactionTrait;
        let (mut purged, mut held) = (0u64, 0u64);
        let mut after: Option<String> = None;
        loop {
            let mut query = entity::Entity::find()
                .select_only()
                .columns([
                    entity::Column::Id,
                    entity::Column::Parent,
                    entity::Column::Sha256,
                    entity::Column::ObjectKey,
                ])
                .filter(entity::Column::PurgeTime.is_null())
                // One uploaded to a record long over is kept for the retention too.
                .filter(entity::Column::UploadTime.lt(before));
            if let Some(after) = &after {
                query = query.filter(entity::Column::Id.gt(after.as_str()));
            }
            let kept: Vec<(String, String, String, Option<String>)> = query
                .order_by_asc(entity::Column::Id)
                .limit(PURGE_BATCH)
                .into_tuple()
                .all(db)
                .await?;
            let Some((last, ..)) = kept.last() else {
                break;
            };
            after = Some(last.clone());
            let parents: BTreeSet<&str> = kept.iter().map(|(_, p, ..)| p.as_str()).collect();
            let judged = judge(parents.into_iter().map(str::to_owned).collect()).await?;
            let mut doomed = Vec::new();
            for (id, parent, sha256, key) in &kept {
                if !judged.ended.contains(parent) {
                    continue;
                }
                if judged.held.contains(parent) {
                    held += 1;
                    continue;
                }
                if let (Some(key), Some((store, _))) = (key, &self.store) {
                    match store.delete(&ObjectPath::from(key.as_str())).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                        Err(e) => return Err(unavailable("deleted", e)),
                    }
                }
                doomed.push(Purged {
                    id: id.clone(),
                    parent: parent.clone(),
                    sha256: sha256.clone(),
                });
            }
            let now = crate::time::now();
            let txn = db.begin().await?;
            let mut done = Vec::with_capacity(doomed.len());
            for document in doomed {
                // One row at a time: a replica purging beside this one purges each once.
                let marked = entity::Entity::update_many()
                    .col_expr(
                        entity::Column::Content,
                        sea_orm::sea_query::Expr::value(Option::<Vec<u8>>::None),
                    )
                    .col_expr(
                        entity::Column::PurgeTime,
                        sea_orm::sea_query::Expr::value(Some(now)),
                    )
                    .filter(entity::Column::Id.eq(document.id.as_str()))
                    .filter(entity::Column::PurgeTime.is_null())
                    .exec(&txn)
                    .await?;
                if marked.rows_affected == 1 {
                    done.push(document);
                }
            }
            let count = done.len() as u64;
            let txn = if done.is_empty() {
                txn
            } else {
                record(txn, done).await?
            };
            txn.commit().await?;
            purged += count;
            if (kept.len() as u64) < PURGE_BATCH {
                break;
            }
        }
        Ok((purged, held))
    }
}

fn unavailable(what: &str, error: object_store::Error) -> ApiError {
    ApiError::Unavailable(format!(
        "the document could not be {what} in the object store: {error}"
    ))
}

/// The documents of record `parent`, oldest first, without their content: what describes
/// twenty documents of 10 MiB is read, not 200 MiB.
pub async fn of(db: &impl ConnectionTrait, parent: &str) -> ApiResult<Vec<entity::Model>> {
    use sea_orm::Iterable;
    Ok(entity::Entity::find()
        .select_only()
        .columns(entity::Column::iter().filter(|c| !matches!(c, entity::Column::Content)))
        .column_as(
            sea_orm::sea_query::Expr::value(Option::<Vec<u8>>::None),
            entity::Column::Content,
        )
        .filter(entity::Column::Parent.eq(parent))
        .order_by_asc(entity::Column::UploadTime)
        .order_by_asc(entity::Column::Id)
        .limit(MAX_PER_RECORD)
        .all(db)
        .await?)
}

/// One document, or NOT_FOUND.
pub async fn find(db: &impl ConnectionTrait, id: &DocumentId) -> ApiResult<entity::Model> {
    crate::db::find_or_not_found::<entity::Entity, _>(db, "document", id.to_string()).await
}

/// A document as the contract shows it, without its content.
pub fn to_proto(model: &entity::Model) -> assay_proto::common::v1::Document {
    assay_proto::common::v1::Document {
        id: model.id.clone(),
        parent: model.parent.clone(),
        name: model.name.clone(),
        media_type: model.media_type.clone(),
        sha256: model.sha256.clone(),
        size_bytes: model.size_bytes,
        uploaded_by: model.uploaded_by.clone(),
        upload_time: Some(crate::time::to_timestamp(model.upload_time)),
        purge_time: model.purge_time.map(crate::time::to_timestamp),
    }
}

pub mod entity {
    use sea_orm::entity::prelude::*;

    /// A document kept with a record.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "documents")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The record's id.
        pub parent: String,
        pub name: String,
        pub media_type: String,
        pub sha256: String,
        pub size_bytes: i64,
        /// The content, when the database keeps it.
        pub content: Option<Vec<u8>>,
        /// Its key in the object store, when one keeps it.
        pub object_key: Option<String>,
        pub uploaded_by: String,
        pub upload_time: DateTimeUtc,
        /// When its content was deleted, its record's retention over.
        pub purge_time: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The documents table, listed by each service that keeps documents in its migrator.
pub struct Migration;

impl sea_orm_migration::MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000013_create_documents"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl sea_orm_migration::MigrationTrait for Migration {
    async fn up(
        &self,
        manager: &sea_orm_migration::SchemaManager,
    ) -> Result<(), sea_orm_migration::DbErr> {
        use sea_orm_migration::prelude::*;
        use sea_orm_migration::schema::*;

        #[derive(DeriveIden)]
        enum Documents {
            Table,
            Id,
            Parent,
            Name,
            MediaType,
            Sha256,
            SizeBytes,
            Content,
            ObjectKey,
            UploadedBy,
            UploadTime,
        }
        manager
            .create_table(
                Table::create()
                    .table(Documents::Table)
                    .col(string(Documents::Id).primary_key())
                    .col(string(Documents::Parent))
                    .col(string(Documents::Name))
                    .col(string(Documents::MediaType))
                    .col(string(Documents::Sha256))
                    .col(big_integer(Documents::SizeBytes))
                    .col(blob_null(Documents::Content))
                    .col(string_null(Documents::ObjectKey))
                    .col(string(Documents::UploadedBy))
                    .col(timestamp_with_time_zone(Documents::UploadTime))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("documents_by_parent")
                    .table(Documents::Table)
                    .col(Documents::Parent)
                    .col(Documents::UploadTime)
                    .to_owned(),
            )
            .await
    }
}

/// The time a document's content was deleted, listed after [`Migration`].
pub struct PurgeTimeMigration;

impl sea_orm_migration::MigrationName for PurgeTimeMigration {
    fn name(&self) -> &str {
        "m20261207_000015_add_document_purge_time"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl sea_orm_migration::MigrationTrait for PurgeTimeMigration {
    async fn up(
        &self,
        manager: &sea_orm_migration::SchemaManager,
    ) -> Result<(), sea_orm_migration::DbErr> {
        use sea_orm_migration::schema::timestamp_with_time_zone_null;
        crate::db::add_columns(
            manager,
            "documents",
            [timestamp_with_time_zone_null("purge_time").to_owned()],
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PDF: &[u8] = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n%%EOF\n";
    const PNG: &[u8] =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

    fn fields(violations: &FieldViolations) -> Vec<String> {
        violations.iter().map(|(f, _)| f.to_owned()).collect()
    }

    mod documents_db {
        crate::migrator!(
            "documents_migrations",
            [super::super::Migration, super::super::PurgeTimeMigration]
        );
    }

    #[tokio::test]
    async fn a_records_documents_are_listed_without_their_content() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::config::sqlite_url(&dir.path().join("documents.db"));
        let db = crate::db::connect(&url, &crate::config::DatabaseConfig::default())
            .await
            .unwrap();
        crate::db::migrate::<documents_db::Migrator>(&db)
            .await
            .unwrap();
        let documents = Documents::new(&DocumentsConfig::default(), "test").unwrap();
        let new = documents
            .check(&mut FieldViolations::new(), "c.pdf", PDF, "")
            .unwrap();
        let kept = documents
            .attach(&db, "ipr_1", new, "staff:a", crate::time::now())
            .await
            .unwrap();
        assert!(kept.content.is_some());

        let listed = of(&db, "ipr_1").await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].content, None, "listed without its bytes");
        assert_eq!(to_proto(&listed[0]), to_proto(&kept));
        let found = find(&db, &DocumentId::from_trusted(kept.id.clone()))
            .await
            .unwrap();
        assert_eq!(documents.content(&found).await.unwrap(), PDF);
    }

    #[test]
    fn documents_are_what_their_content_shows() {
        assert_eq!(media_type_of(PDF), Some("application/pdf"));
        assert_eq!(media_type_of(PNG), Some("image/png"));
        assert_eq!(
            media_type_of(b"MZ\x90\0\x03\0\0\0"),
            None,
            "a Windows program"
        );
        assert_eq!(media_type_of(b"<html><script>"), None);
        assert_eq!(media_type_of(b"PK\x03\x04 a zip"), None);
    }

    #[test]
    fn an_upload_is_named_bounded_typed_and_hashed() {
        let documents = Documents::new(
            &DocumentsConfig {
                max_bytes: 100,
                ..DocumentsConfig::default()
            },
            "test",
        )
        .unwrap();
        let mut ok = FieldViolations::new();
        let new = documents
            .check(&mut ok, "certificate.pdf", PDF, "")
            .unwrap();
        assert!(ok.is_empty());
        assert_eq!(new.media_type, "application/pdf");
        assert_eq!(new.sha256, hex::encode(Sha256::digest(PDF)));

        let mut bad = FieldViolations::new();
        documents.check(&mut bad, " ", b"#!/bin/sh\nrm -rf /\n", "xyz");
        assert_eq!(fields(&bad), ["name", "sha256", "content"]);
        let mut big = FieldViolations::new();
        documents.check(&mut big, "big.pdf", &[b'%'; 101], "");
        assert_eq!(fields(&big), ["content"]);
        let mut wrong = FieldViolations::new();
        documents.check(&mut wrong, "c.pdf", PDF, &"0".repeat(64));
        assert_eq!(fields(&wrong), ["sha256"]);
    }

    #[test]
    fn a_size_a_retention_and_an_object_store_url_are_checked() {
        let config = DocumentsConfig {
            max_bytes: 0,
            retention: std::time::Duration::ZERO,
            object_store: Some(ObjectStoreConfig {
                endpoint: "minio:9000".to_owned(),
                bucket: String::new(),
                region: default_region(),
                prefix: default_prefix(),
                access_key_id: "k".to_owned(),
                secret_access_key_file: "/nonexistent".into(),
            }),
        };
        assert_eq!(config.problems().len(), 4, "{:?}", config.problems());
        assert!(
            Documents::new(&config, "registry").is_err(),
            "no secret file"
        );
    }
}
