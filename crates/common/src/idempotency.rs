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

use crate::error::{ApiError, ApiResult, FieldViolations};
use crate::principal::Principal;
use crate::validate;

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

/// A create request that carries a `request_id`.
pub trait Retryable: Message + Clone {
    /// The caller's request_id, as sent.
    fn request_id(&self) -> &str;
    /// The request as it was sent, less its request_id: what a retry must repeat.
    fn without_request_id(&self) -> Self;
}

macro_rules! retryable {
    ($($message:ty),* $(,)?) => {
        $(impl Retryable for $message {
            fn request_id(&self) -> &str {
                &self.request_id
            }

            fn without_request_id(&self) -> Self {
                Self {
                    request_id: String::new(),
                    ..self.clone()
                }
            }
        })*
    };
}

retryable!(
    assay_proto::registry::v1::CreateMemberRequest,
    assay_proto::registry::v1::CreateBrandRequest,
    assay_proto::registry::v1::CreateIpRightRequest,
    assay_proto::registry::v1::CreateDelegationRequest,
    assay_proto::registry::v1::AttachDocumentRequest,
    assay_proto::screening::v1::CreateRuleRequest,
    assay_proto::screening::v1::CreateCalibrationRequest,
    assay_proto::cases::v1::SubmitNoticeRequest,
    assay_proto::cases::v1::RemoveListingsRequest,
    assay_proto::cases::v1::CreateCaseRequest,
    assay_proto::cases::v1::RecordReferralOutcomeRequest,
    assay_proto::cases::v1::AddEvidenceRequest,
    assay_proto::cases::v1::RecordTestPurchaseRequest,
    assay_proto::lawenforcement::v1::CreateAgencyRequest,
    assay_proto::lawenforcement::v1::SubmitRequestRequest,
    assay_proto::lawenforcement::v1::ReportRequestOutcomeRequest,
    assay_proto::lawenforcement::v1::ReportReferralOutcomeRequest,
    assay_proto::lawenforcement::v1::AttachDocumentRequest,
);

/// A create that may be a retry: the caller's checked request_id, scoped to the method and
/// the caller so that keys of different callers never collide.
#[derive(Debug, Clone)]
pub struct Key {
    scope: String,
    request_id: String,
    fingerprint: String,
}

impl Key {
    /// The key of `request` to `method` from `principal`: `None` when it carries no
    /// request_id, or one that is not valid (named in `violations`).
    pub fn of(
        method: &str,
        principal: &Principal,
        violations: &mut FieldViolations,
        request: &impl Retryable,
    ) -> Option<Self> {
        let checked = violations.check("request_id", validate::request_id(request.request_id()));
        checked.flatten().map(|request_id| Key {
            scope: format!("{method}|{}", principal.actor()),
            request_id,
            fingerprint: hex::encode(Sha256::digest(request.without_request_id().encode_to_vec())),
        })
    }

    /// The id created by an earlier request with this key, if any; ALREADY_EXISTS if that
    /// request had other content. [`create_once`] asks this itself; a handler asks it
    /// first only to spare a retry work outside the transaction (a call to another service).
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
    async fn record(&self, db: &impl ConnectionTrait, resource_id: &str) -> ApiResult<()> {
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

/// What [`create_once`] did.
#[derive(Debug)]
pub enum Once<T> {
    /// This request created it.
    Created(T),
    /// An earlier request with the same key created it; this is that record, read again.
    Earlier(T),
}

impl<T> Once<T> {
    pub fn into_inner(self) -> T {
        match self {
            Once::Created(value) | Once::Earlier(value) => value,
        }
    }

    pub fn is_created(&self) -> bool {
        matches!(self, Once::Created(_))
    }
}

/// An idempotent create inside the caller's transaction `db`: when `key` already created a
/// record, `earlier` reads it by its id; otherwise `create` makes it and returns its id,
/// which is recorded under the key in the same transaction. The caller commits.
pub async fn create_once<T>(
    db: &impl ConnectionTrait,
    key: Option<&Key>,
    earlier: impl AsyncFnOnce(String) -> ApiResult<T>,
    create: impl AsyncFnOnce() -> ApiResult<(String, T)>,
) -> ApiResult<Once<T>> {
    if let Some(key) = key
        && let Some(id) = key.earlier(db).await?
    {
        return Ok(Once::Earlier(earlier(id).await?));
    }
    let (id, value) = create().await?;
    if let Some(key) = key {
        key.record(db, &id).await?;
    }
    Ok(Once::Created(value))
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

#[cfg(test)]
mod tests {
    use assay_proto::registry::v1::{CreateMemberRequest, Member};
    use sea_orm::TransactionTrait;
    use sea_orm_migration::MigratorTrait;

    use super::*;

    struct Migrator;

    #[async_trait::async_trait]
    impl MigratorTrait for Migrator {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![Box::new(super::Migration)]
        }
    }

    fn request(request_id: &str, name: &str) -> CreateMemberRequest {
        CreateMemberRequest {
            request_id: request_id.to_owned(),
            member: Some(Member {
                display_name: name.to_owned(),
                ..Member::default()
            }),
        }
    }

    /// Creates "records" named by a counter, once per key.
    async fn create(
        db: &crate::db::Db,
        principal: &Principal,
        req: &CreateMemberRequest,
        next: &mut u32,
    ) -> ApiResult<Once<String>> {
        let mut violations = FieldViolations::new();
        let key = Key::of("CreateMember", principal, &mut violations, req);
        violations.into_result(())?;
        let txn = db.begin().await?;
        let once = create_once(
            &txn,
            key.as_ref(),
            async |existing| Ok(format!("read {existing}")),
            async || {
                *next += 1;
                let id = format!("rec_{next}");
                Ok((id.clone(), id))
            },
        )
        .await?;
        txn.commit().await?;
        Ok(once)
    }

    #[tokio::test]
    async fn a_retry_gets_the_first_result_and_other_content_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let url = crate::config::sqlite_url(&dir.path().join("ids.db"));
        let db = crate::db::connect(&url, &crate::config::DatabaseConfig::default())
            .await
            .unwrap();
        crate::db::migrate::<Migrator>(&db).await.unwrap();
        let alice = Principal::Staff {
            subject: "alice".into(),
            roles: Vec::new(),
        };
        let bob = Principal::Staff {
            subject: "bob".into(),
            roles: Vec::new(),
        };
        let mut next = 0;

        let first = create(&db, &alice, &request("r-1", "Acme"), &mut next)
            .await
            .unwrap();
        assert!(matches!(first, Once::Created(ref id) if id == "rec_1"));
        let retry = create(&db, &alice, &request("r-1", "Acme"), &mut next)
            .await
            .unwrap();
        assert!(matches!(retry, Once::Earlier(ref read) if read == "read rec_1"));
        // The same request_id with other content is refused, and creates nothing.
        let other = create(&db, &alice, &request("r-1", "Acme Two"), &mut next).await;
        assert!(
            matches!(other, Err(ApiError::AlreadyExists(_))),
            "{other:?}"
        );
        // Another caller's key never collides; no request_id means no key.
        let bobs = create(&db, &bob, &request("r-1", "Acme"), &mut next)
            .await
            .unwrap();
        assert!(bobs.is_created());
        assert!(
            create(&db, &alice, &request("", "Acme"), &mut next)
                .await
                .unwrap()
                .is_created()
        );
        assert!(
            create(&db, &alice, &request("", "Acme"), &mut next)
                .await
                .unwrap()
                .is_created()
        );
        assert_eq!(next, 4);
        // A malformed request_id is named.
        let bad = create(&db, &alice, &request("has space", "Acme"), &mut next).await;
        assert!(matches!(bad, Err(ApiError::InvalidArgument(_))), "{bad:?}");
    }
}
