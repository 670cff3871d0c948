//! Idempotent creates: a retried create with the same `request_id` returns the first result;
//! the same `request_id` with other content is refused.
//!
//! Each service keeps a `request_ids` table (its migrator includes [`Migration`]). The row
//! is written in the same transaction as the record it created, so either both exist or
//! neither does; a concurrent duplicate loses on the primary key and then finds the winner.

use prost::Message;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use sea_orm_migration::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ApiResult};

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "request_ids")]
    pub struct Model {
        /// The method and the caller: keys of different callers never collide.
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub request_id: String,
        /// SHA-256 of the request without its request_id.
        pub fingerprint: String,
        /// The id of the record the request created.
        pub resource_id: String,
        pub create_time: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The fingerprint of a request message (encode it with its request_id cleared).
pub fn fingerprint(message: &impl Message) -> String {
    hex::encode(Sha256::digest(message.encode_to_vec()))
}

/// A create that may be a retry.
#[derive(Debug, Clone)]
pub struct Key {
    pub scope: String,
    pub request_id: String,
    pub fingerprint: String,
}

impl Key {
    /// `None` when the caller sent no request_id.
    pub fn new(
        method: &str,
        actor: &str,
        request_id: Option<String>,
        fingerprint: String,
    ) -> Option<Self> {
        request_id.map(|request_id| Key {
            scope: format!("{method}|{actor}"),
            request_id,
            fingerprint,
        })
    }

    /// The id created by an earlier request with this key, if any; ALREADY_EXISTS if that
    /// request had other content.
    pub async fn earlier(&self, db: &impl ConnectionTrait) -> ApiResult<Option<String>> {
        let found = entity::Entity::find_by_id((self.scope.clone(), self.request_id.clone()))
            .one(db)
            .await?;
        match found {
            None => Ok(None),
            Some(row) if row.fingerprint == self.fingerprint => Ok(Some(row.resource_id)),
            Some(_) => Err(ApiError::AlreadyExists(format!(
                "request_id {:?} was already used for a different request",
                self.request_id
            ))),
        }
    }

    /// Records that this key created `resource_id` (inside the creating transaction).
    pub async fn record(&self, db: &impl ConnectionTrait, resource_id: &str) -> ApiResult<()> {
        entity::ActiveModel {
            scope: Set(self.scope.clone()),
            request_id: Set(self.request_id.clone()),
            fingerprint: Set(self.fingerprint.clone()),
            resource_id: Set(resource_id.to_owned()),
            create_time: Set(crate::time::now()),
        }
        .insert(db)
        .await
        .map_err(|error| {
            if crate::error::is_unique_violation(&error) {
                ApiError::Aborted(format!(
                    "a request with request_id {:?} is in progress: retry it",
                    self.request_id
                ))
            } else {
                error.into()
            }
        })?;
        Ok(())
    }
}

/// The migration creating `request_ids`; every service's migrator lists it.
pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000000_create_request_ids"
    }
}

#[derive(DeriveIden)]
enum RequestIds {
    Table,
    Scope,
    RequestId,
    Fingerprint,
    ResourceId,
    CreateTime,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        manager
            .create_table(
                Table::create()
                    .table(RequestIds::Table)
                    .if_not_exists()
                    .col(string(RequestIds::Scope))
                    .col(string(RequestIds::RequestId))
                    .col(string(RequestIds::Fingerprint))
                    .col(string(RequestIds::ResourceId))
                    .col(timestamp_with_time_zone(RequestIds::CreateTime))
                    .primary_key(
                        Index::create()
                            .col(RequestIds::Scope)
                            .col(RequestIds::RequestId),
                    )
                    .to_owned(),
            )
            .await
    }
}
