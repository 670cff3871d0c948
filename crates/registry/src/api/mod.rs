//! The gRPC handlers, one file per resource: members, brands, IP rights, delegations, and
//! the alliance's catalogue and figures. Each decodes, authorises, validates with the
//! domain, calls the store, and encodes with `convert`.

mod alliance;
mod brands;
mod delegations;
mod documents;
mod members;
mod rights;

use assay_common::auth::{self, Owner, Principal, Role};
use assay_common::db::Db;
use assay_common::directory::Directory;
use assay_common::documents::Documents;
use assay_common::idempotency::{Key, create_once};
use assay_common::page::{PageTokens, page_size};
use assay_common::resource::{check_etag, mask_paths};
use assay_common::{ApiError, ApiResult, FieldViolations, time, validate};
use assay_proto::registry::v1::registry_service_server::RegistryService;
use assay_proto::registry::v1::*;
use sea_orm::TransactionTrait;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::catalogue::{self, CatalogueHub};
use crate::domain::member::Transition;
use crate::domain::{
    brand as brand_domain, figures, member as member_domain, right as right_domain,
};
use crate::entity::{brand, ip_right};
use crate::ids::{BrandId, DelegationId, IpRightId, MemberId};
use crate::{convert, store};

/// Most brands one delegation may cover.
const MAX_DELEGATED_BRANDS: usize = 1000;

/// The registry service.
#[derive(Clone)]
pub struct RegistryApi {
    db: Db,
    page_tokens: PageTokens,
    hub: CatalogueHub,
    shutdown: CancellationToken,
    /// Told when a member's status changes, so its credentials feel it at once.
    directory: Directory,
    /// Where certificates and letters of authorisation are kept.
    documents: Documents,
}

impl RegistryApi {
    pub fn new(
        db: Db,
        page_tokens: PageTokens,
        hub: CatalogueHub,
        shutdown: CancellationToken,
        directory: Directory,
        documents: Documents,
    ) -> Self {
        Self {
            db,
            page_tokens,
            hub,
            shutdown,
            directory,
            documents,
        }
    }
}

fn parse_id<T>(
    violations: &mut FieldViolations,
    field: &str,
    value: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Option<T> {
    violations.check(field, parse(value))
}

/// A single id argument, or INVALID_ARGUMENT.
fn id_arg<T>(field: &str, value: &str, parse: fn(&str) -> Result<T, String>) -> ApiResult<T> {
    parse(value).map_err(|e| ApiError::invalid(field, e))
}

/// The member the caller acts as, if it is one: its id came with its credentials and its
/// standing was checked live.
fn own_member(principal: &Principal) -> Option<MemberId> {
    principal
        .member_id()
        .map(|id| MemberId::from_trusted(id.to_owned()))
}

/// A status change's reason, up to 1,000 characters; `required` unless the change is
/// routine.
fn reason_text(value: &str, required: bool) -> Result<String, String> {
    if required {
        validate::text(value, 1000)
    } else {
        validate::optional_text(value, 1000)
    }
}

impl RegistryApi {
    /// Keeps a member to the brands it owns or acts for: any other brand's `kind id` (the
    /// brand's, or a record of it) answers NOT_FOUND, as a missing one does.
    async fn scope_brand(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        principal: &Principal,
        brand: &brand::Model,
        kind: &'static str,
        id: &str,
    ) -> ApiResult<()> {
        if principal.member_id().is_none() {
            return principal.scope(Owner::Nobody, kind, id);
        }
        let members = store::acting_members(db, brand, time::now()).await?;
        let members: Vec<&str> = members.iter().map(MemberId::as_str).collect();
        principal.scope(Owner::Members(&members), kind, id)
    }
}

assay_common::rpcs! {
    impl RegistryService for RegistryApi (self) {
        create_member(CreateMemberRequest) -> CreateMemberResponse =
            |p, req| self.create_member(&p, req), |m| CreateMemberResponse { member: Some(m) };
        get_member(GetMemberRequest) -> GetMemberResponse =
            |p, req| self.get_member(&p, req), |m| GetMemberResponse { member: Some(m) };
        list_members(ListMembersRequest) -> ListMembersResponse =
            |p, req| self.list_members(&p, req);
        update_member(UpdateMemberRequest) -> UpdateMemberResponse =
            |p, req| self.update_member(&p, req), |m| UpdateMemberResponse { member: Some(m) };
        activate_member(ActivateMemberRequest) -> ActivateMemberResponse =
            |_, req| self.transition_member(&req.id, &req.etag, &req.reason, Transition::Activate),
            |(m, catalogue_revision)| ActivateMemberResponse { member: Some(m), catalogue_revision };
        suspend_member(SuspendMemberRequest) -> SuspendMemberResponse =
            |_, req| self.transition_member(&req.id, &req.etag, &req.reason, Transition::Suspend),
            |(m, catalogue_revision)| SuspendMemberResponse { member: Some(m), catalogue_revision };
        exit_member(ExitMemberRequest) -> ExitMemberResponse =
            |_, req| self.transition_member(&req.id, &req.etag, &req.reason, Transition::Exit),
            |(m, catalogue_revision)| ExitMemberResponse { member: Some(m), catalogue_revision };
        create_brand(CreateBrandRequest) -> CreateBrandResponse =
            |p, req| self.create_brand(&p, req), |b| CreateBrandResponse { brand: Some(b) };
        get_brand(GetBrandRequest) -> GetBrandResponse =
            |p, req| self.get_brand(&p, req), |b| GetBrandResponse { brand: Some(b) };
        list_brands(ListBrandsRequest) -> ListBrandsResponse = |p, req| self.list_brands(&p, req);
        update_brand(UpdateBrandRequest) -> UpdateBrandResponse =
            |p, req| self.update_brand(&p, req),
            |(b, catalogue_revision)| UpdateBrandResponse { brand: Some(b), catalogue_revision };
        delete_brand(DeleteBrandRequest) -> DeleteBrandResponse =
            |p, req| self.delete_brand(&p, req),
            |catalogue_revision| DeleteBrandResponse { catalogue_revision };
        create_ip_right(CreateIpRightRequest) -> CreateIpRightResponse =
            |p, req| self.create_ip_right(&p, req), |r| CreateIpRightResponse { ip_right: Some(r) };
        get_ip_right(GetIpRightRequest) -> GetIpRightResponse =
            |p, req| self.get_ip_right(&p, req), |r| GetIpRightResponse { ip_right: Some(r) };
        list_ip_rights(ListIpRightsRequest) -> ListIpRightsResponse =
            |p, req| self.list_ip_rights(&p, req);
        update_ip_right(UpdateIpRightRequest) -> UpdateIpRightResponse =
            |p, req| self.update_ip_right(&p, req),
            |(r, catalogue_revision)| UpdateIpRightResponse { ip_right: Some(r), catalogue_revision };
        verify_ip_right(VerifyIpRightRequest) -> VerifyIpRightResponse =
            |p, req| self.review_ip_right(&p, &req.id, &req.etag, &req.note, true),
            |(r, catalogue_revision)| VerifyIpRightResponse { ip_right: Some(r), catalogue_revision };
        reject_ip_right(RejectIpRightRequest) -> RejectIpRightResponse =
            |p, req| self.review_ip_right(&p, &req.id, &req.etag, &req.reason, false),
            |(r, catalogue_revision)| RejectIpRightResponse { ip_right: Some(r), catalogue_revision };
        create_delegation(CreateDelegationRequest) -> CreateDelegationResponse =
            |p, req| self.create_delegation(&p, req),
            |(d, catalogue_revision)| CreateDelegationResponse { delegation: Some(d), catalogue_revision };
        get_delegation(GetDelegationRequest) -> GetDelegationResponse =
            |p, req| self.get_delegation(&p, req),
            |d| GetDelegationResponse { delegation: Some(d) };
        list_delegations(ListDelegationsRequest) -> ListDelegationsResponse =
            |p, req| self.list_delegations(&p, req);
        delete_delegation(DeleteDelegationRequest) -> DeleteDelegationResponse =
            |p, req| self.delete_delegation(&p, req),
            |catalogue_revision| DeleteDelegationResponse { catalogue_revision };
        attach_document(AttachDocumentRequest) -> AttachDocumentResponse =
            |p, req| self.attach_document(&p, req),
            |d| AttachDocumentResponse { document: Some(d) };
        list_documents(ListDocumentsRequest) -> ListDocumentsResponse =
            |p, req| self.list_documents(&p, req);
        get_document(GetDocumentRequest) -> GetDocumentResponse =
            |p, req| self.get_document(&p, req);
        purge_documents(PurgeDocumentsRequest) -> PurgeDocumentsResponse =
            |_, req| self.purge_documents_before(req);
    }
    {
        async fn get_catalogue(
            &self,
            request: Request<GetCatalogueRequest>,
        ) -> Result<Response<GetCatalogueResponse>, Status> {
            auth::principal(&request)?;
            Ok(Response::new(self.get_catalogue().await?))
        }

        type WatchCatalogueStream = ReceiverStream<Result<WatchCatalogueResponse, Status>>;

        async fn watch_catalogue(
            &self,
            request: Request<WatchCatalogueRequest>,
        ) -> Result<Response<Self::WatchCatalogueStream>, Status> {
            auth::principal(&request)?;
            let since = request.into_inner().since_revision;
            if since < 0 {
                return Err(ApiError::invalid("since_revision", "must not be negative").into());
            }
            // A small buffer: a slow watcher holds the sender back instead of growing memory.
            let (tx, rx) = tokio::sync::mpsc::channel(4);
            tokio::spawn(catalogue::watch(
                self.db.clone(),
                self.hub.clone(),
                since,
                tx,
                self.shutdown.clone(),
            ));
            Ok(Response::new(ReceiverStream::new(rx)))
        }

        async fn get_alliance_figures(
            &self,
            request: Request<GetAllianceFiguresRequest>,
        ) -> Result<Response<GetAllianceFiguresResponse>, Status> {
            auth::principal(&request)?;
            Ok(Response::new(
                self.get_alliance_figures(request.into_inner()).await?,
            ))
        }
    }
}
