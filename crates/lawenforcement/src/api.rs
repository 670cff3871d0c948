//! The gRPC handler. Agencies see only their own requests and referrals: anything else
//! answers NOT_FOUND, exactly as an id that does not exist, so ids leak nothing. Every read
//! of a request, package or personal data, and every disclosure, is written to the audit
//! log in the transaction that does it; a refusal is written once that transaction is over.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use assay_common::auth::{self, Owner, Principal};
use assay_common::directory::Directory;
use assay_common::idempotency::{self, Key};
use assay_common::ids::{CaseId, ReferralId};
use assay_common::money::Money;
use assay_common::outbox::topic;
use assay_common::page::{PageTokens, page_size};
use assay_common::resource::{check_etag, mask_paths};
use assay_common::{ApiError, ApiResult, FieldViolations, outbox, time, validate};
use assay_proto::cases::v1 as cases;
use assay_proto::common::v1::Contact;
use assay_proto::lawenforcement::v1::law_enforcement_service_server::LawEnforcementService;
use assay_proto::lawenforcement::v1::*;
use chrono::{DateTime, Utc};
use prost::Message;
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use crate::audit::{self, Audit, Entry};
use crate::config::Config;
use crate::domain::{self, Action};
use crate::entity::{hold, request};
use crate::gather::{self, Sources};
use crate::ids::{AgencyId, HoldId, RequestId};
use crate::store;

/// The law-enforcement service.
#[derive(Clone)]
pub struct LawEnforcementApi {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    audit: Audit,
    sources: Sources,
    page_tokens: PageTokens,
    config: Arc<Config>,
    /// Told when an agency's status changes, so its credentials feel it at once.
    directory: Directory,
    relay: OnceLock<Arc<Notify>>,
}

/// Who is calling, as far as requests are concerned.
enum Caller {
    /// An active agency: sees only its own.
    Agency(String),
    /// Staff or an internal service.
    Marketplace,
}

impl Caller {
    fn sees(&self, agency_id: &str) -> bool {
        match self {
            Caller::Agency(own) => own == agency_id,
            Caller::Marketplace => true,
        }
    }
}

fn request_id_arg(field: &str, value: &str) -> ApiResult<RequestId> {
    RequestId::parse(value).map_err(|e| ApiError::invalid(field, e))
}

fn time_range(
    violations: &mut FieldViolations,
    field: &str,
    range: Option<&assay_proto::common::v1::TimeRange>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let Some(range) = range else {
        return (None, None);
    };
    let from = range
        .start_time
        .as_ref()
        .and_then(|t| violations.check(&format!("{field}.start_time"), time::from_timestamp(t)));
    let until = range
        .end_time
        .as_ref()
        .and_then(|t| violations.check(&format!("{field}.end_time"), time::from_timestamp(t)));
    (from, until)
}

fn check_contacts(violations: &mut FieldViolations, field: &str, contacts: &[Contact]) {
    let contacts = validate::bounded(violations, field, contacts, 0, 20);
    for (i, contact) in contacts.iter().enumerate() {
        let at = |name: &str| format!("{field}[{i}].{name}");
        violations.check(&at("name"), validate::text(&contact.name, 200));
        violations.check(&at("email"), validate::email(&contact.email));
        violations.check(&at("phone"), validate::phone(&contact.phone));
        violations.check(&at("role"), validate::optional_text(&contact.role, 100));
    }
}

/// Checks an agency's editable fields, naming bad ones under `prefix`.
fn check_agency(violations: &mut FieldViolations, prefix: &str, agency: &Agency) -> Option<Agency> {
    let field = |name: &str| format!("{prefix}.{name}");
    let name = violations.check(&field("name"), validate::text(&agency.name, 200));
    let country = violations.check(
        &field("country_code"),
        validate::country_code(&agency.country_code),
    );
    let level = violations.check(
        &field("level"),
        validate::required_enum::<AgencyLevel>(agency.level),
    );
    let domains = validate::each(
        violations,
        &field("verified_email_domains"),
        &agency.verified_email_domains,
        1..=20,
        |d| validate::domain(&d.to_ascii_lowercase()),
    );
    check_contacts(violations, &field("contacts"), &agency.contacts);
    Some(Agency {
        name: name?,
        country_code: country?,
        level: level? as i32,
        verified_email_domains: domains,
        contacts: agency.contacts.clone(),
        ..Agency::default()
    })
}

/// Checks targets: 1 to 100, kinds set, marketplace ids, no repeats.
fn check_targets(violations: &mut FieldViolations, field: &str, targets: &[Target]) -> Vec<Target> {
    validate::each(violations, field, targets, 1..=100, |t| {
        let kind =
            validate::required_enum::<TargetKind>(t.kind).map_err(|e| format!("kind {e}"))?;
        let id = validate::external_id(&t.id).map_err(|e| format!("id {e}"))?;
        Ok(Target {
            kind: kind as i32,
            id,
        })
    })
}

fn check_categories(
    violations: &mut FieldViolations,
    field: &str,
    categories: &[i32],
) -> Vec<DataCategory> {
    validate::each(violations, field, categories, 1..=10, |c| {
        validate::required_enum::<DataCategory>(*c)
    })
}

fn check_outcome(
    violations: &mut FieldViolations,
    field: &str,
    outcome: Option<&Outcome>,
) -> Option<(Outcome, Option<Money>)> {
    let Some(outcome) = outcome else {
        violations.add(field, "must be set");
        return None;
    };
    let value = validate::outcome_figures(
        violations,
        field,
        outcome.arrests,
        outcome.seized_units,
        outcome.convictions,
        outcome.seized_value.as_ref(),
    );
    let note = violations.check(
        &format!("{field}.note"),
        validate::optional_text(&outcome.note, 2000),
    )?;
    Some((
        Outcome {
            note,
            ..outcome.clone()
        },
        value,
    ))
}

/// The e-mail domain of an address, lower case ("" for no valid address).
fn email_domain(email: &str) -> String {
    validate::email_domain(email).unwrap_or_default()
}

/// Whether `email` is at one of `domains` (or a subdomain of one).
fn domain_verified(email: &str, domains: &[String]) -> bool {
    let Some(domain) = validate::email_domain(email) else {
        return false;
    };
    domains.iter().any(|d| {
        let d = d.to_ascii_lowercase();
        domain == d || domain.ends_with(&format!(".{d}"))
    })
}

/// Emergency requests need two confirmations by different people, one of them out of band,
/// before data goes out.
fn emergency_confirmed(request: &LegalRequest) -> bool {
    let confirmers: BTreeSet<&str> = request
        .confirmations
        .iter()
        .map(|c| c.confirmed_by.as_str())
        .collect();
    let out_of_band = request
        .confirmations
        .iter()
        .any(|c| c.channel != ConfirmationChannel::Email as i32);
    !request.emergency || (confirmers.len() >= 2 && out_of_band)
}

impl LawEnforcementApi {
    pub fn new(
        db: DatabaseConnection,
        sources: Sources,
        page_tokens: PageTokens,
        config: Arc<Config>,
        directory: Directory,
        audit: Audit,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                audit,
                sources,
                page_tokens,
                config,
                directory,
                relay: OnceLock::new(),
            }),
        }
    }

    pub fn set_waker(&self, waker: Arc<Notify>) {
        let _ = self.inner.relay.set(waker);
    }

    fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// Records a refusal in the audit log. Call it only once the refused work's transaction
    /// has ended: on SQLite that transaction holds the one connection there is.
    async fn audit_refusal(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
        why: &ApiError,
    ) {
        let outcome = match why {
            ApiError::NotFound { .. } => "not found".to_owned(),
            other => format!("refused: {}", other.code().grpc()),
        };
        let written = self
            .inner
            .audit
            .append(
                self.db(),
                Entry {
                    actor: &principal.actor(),
                    action,
                    resource,
                    outcome: &outcome,
                    detail: "",
                },
            )
            .await;
        if let Err(error) = written {
            tracing::error!(%error, "could not write a refusal to the audit log");
        }
    }

    /// Who the caller is for requests. The guard has already applied the policy table and
    /// checked that an agency is in the directory and active.
    fn caller(principal: &Principal) -> Caller {
        match principal.agency_id() {
            Some(agency_id) => Caller::Agency(agency_id.to_owned()),
            None => Caller::Marketplace,
        }
    }

    /// Reads, inside `txn`, a request the caller may see, and hands the transaction back.
    /// Otherwise the transaction is abandoned, the refusal audited, and NOT_FOUND returned,
    /// just as for an id that does not exist.
    async fn visible_request(
        &self,
        txn: DatabaseTransaction,
        principal: &Principal,
        caller: &Caller,
        id: &RequestId,
        action: &str,
    ) -> ApiResult<(DatabaseTransaction, request::Model)> {
        match store::find_request(&txn, id.as_str()).await? {
            Some(model) if caller.sees(&model.agency_id) => Ok((txn, model)),
            _ => {
                txn.rollback().await?;
                let error = ApiError::not_found("legal request", id.as_str());
                self.audit_refusal(principal, action, id.as_str(), &error)
                    .await;
                Err(error)
            }
        }
    }

    fn respond(&self, model: &request::Model) -> ApiResult<LegalRequest> {
        let mut request = store::decode_request(model)?;
        let status = store::status_of(model)?;
        let owed = domain::is_owed(status, store::process_of(model));
        request.urgency =
            domain::urgency(owed, model.create_time, model.due_time, time::now()) as i32;
        Ok(request)
    }

    /// Reads a request for a change inside `txn` (legal staff), checks the etag and the
    /// move; returns it decoded with the status after.
    async fn open_for(
        &self,
        txn: &DatabaseTransaction,
        id: &RequestId,
        etag: &str,
        action: Action,
    ) -> ApiResult<(request::Model, LegalRequest, RequestStatus)> {
        let model = store::find_request(txn, id.as_str())
            .await?
            .ok_or_else(|| ApiError::not_found("legal request", id.as_str()))?;
        check_etag(etag, model.version, "request")?;
        let from = store::status_of(&model)?;
        let to = domain::transition(from, action, store::process_of(&model))
            .map_err(ApiError::precondition)?;
        let body = store::decode_request(&model)?;
        Ok((model, body, to))
    }

    async fn audit(
        &self,
        txn: &impl sea_orm::ConnectionTrait,
        principal: &Principal,
        action: &str,
        resource: &str,
        detail: String,
    ) -> ApiResult<()> {
        self.inner
            .audit
            .append(
                txn,
                Entry {
                    actor: &principal.actor(),
                    action,
                    resource,
                    outcome: "ok",
                    detail: &detail,
                },
            )
            .await
            .map(|_| ())
    }

    /// Records which records a listing showed the caller, in a transaction of its own.
    async fn audit_listed(
        &self,
        principal: &Principal,
        action: &str,
        resource: &str,
        ids: impl Iterator<Item = &str>,
    ) -> ApiResult<()> {
        let txn = self.db().begin().await?;
        self.audit(
            &txn,
            principal,
            action,
            resource,
            ids.collect::<Vec<_>>().join(","),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    // ---- agencies -----------------------------------------------------------------------------

    async fn create_agency(
        &self,
        principal: &Principal,
        req: CreateAgencyRequest,
    ) -> ApiResult<Agency> {
        let Some(agency) = &req.agency else {
            return Err(ApiError::invalid("agency", "must be set"));
        };
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let checked = check_agency(&mut violations, "agency", agency);
        let checked = violations.require(checked)?;
        let key = Key::new(
            "CreateAgency",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&CreateAgencyRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );
        let now = time::now();
        let txn = self.db().begin().await?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(&txn).await?
        {
            let model = store::find_agency(&txn, &existing)
                .await?
                .ok_or_else(|| ApiError::not_found("agency", &existing))?;
            return store::agency_proto(&model);
        }
        let agency = Agency {
            id: AgencyId::generate().into_string(),
            status: AgencyStatus::Pending as i32,
            create_time: Some(time::to_timestamp(now)),
            update_time: Some(time::to_timestamp(now)),
            ..checked
        };
        let model = store::insert_agency(&txn, &agency).await?;
        if let Some(key) = &key {
            key.record(&txn, &agency.id).await?;
        }
        self.audit(
            &txn,
            principal,
            "agency.create",
            &agency.id,
            agency.name.clone(),
        )
        .await?;
        txn.commit().await?;
        store::agency_proto(&model)
    }

    async fn get_agency(&self, principal: &Principal, req: GetAgencyRequest) -> ApiResult<Agency> {
        let id = AgencyId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        principal.scope(Owner::Agency(id.as_str()), "agency", id.as_str())?;
        let model = store::find_agency(self.db(), id.as_str())
            .await?
            .ok_or_else(|| ApiError::not_found("agency", id.as_str()))?;
        // Agencies' contacts are people: who read them is on the record.
        self.audit_listed(principal, "agency.read", id.as_str(), std::iter::empty())
            .await?;
        store::agency_proto(&model)
    }

    async fn list_agencies(
        &self,
        principal: &Principal,
        req: ListAgenciesRequest,
    ) -> ApiResult<ListAgenciesResponse> {
        let size = page_size(req.page_size)?;
        if !req.country_code.is_empty() {
            validate::country_code(&req.country_code)
                .map_err(|e| ApiError::invalid("country_code", e))?;
        }
        let country = (!req.country_code.is_empty()).then_some(req.country_code.as_str());
        let scope = format!("ListAgencies|{country:?}");
        let after = self.inner.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_agencies(self.db(), country, after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |a| a.id.clone());
        self.audit_listed(
            principal,
            "agencies.list",
            "",
            rows.iter().map(|a| a.id.as_str()),
        )
        .await?;
        Ok(ListAgenciesResponse {
            agencies: rows
                .iter()
                .map(store::agency_proto)
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    async fn update_agency(
        &self,
        principal: &Principal,
        req: UpdateAgencyRequest,
    ) -> ApiResult<Agency> {
        let Some(update) = &req.agency else {
            return Err(ApiError::invalid("agency", "must be set"));
        };
        let id = AgencyId::parse(&update.id).map_err(|e| ApiError::invalid("agency.id", e))?;
        const FIELDS: &[&str] = &[
            "name",
            "country_code",
            "level",
            "verified_email_domains",
            "contacts",
        ];
        let paths = mask_paths(req.update_mask.as_ref(), FIELDS)?;
        let txn = self.db().begin().await?;
        let current = store::find_agency(&txn, id.as_str())
            .await?
            .ok_or_else(|| ApiError::not_found("agency", id.as_str()))?;
        check_etag(&update.etag, current.version, "agency")?;
        let mut merged = store::agency_proto(&current)?;
        for path in &paths {
            match *path {
                "name" => merged.name = update.name.clone(),
                "country_code" => merged.country_code = update.country_code.clone(),
                "level" => merged.level = update.level,
                "verified_email_domains" => {
                    merged.verified_email_domains = update.verified_email_domains.clone()
                }
                "contacts" => merged.contacts = update.contacts.clone(),
                _ => {}
            }
        }
        let mut violations = FieldViolations::new();
        let checked = check_agency(&mut violations, "agency", &merged);
        let checked = violations.require(checked)?;
        let agency = Agency {
            update_time: Some(time::to_timestamp(time::now())),
            ..Agency {
                id: merged.id.clone(),
                status: merged.status,
                create_time: merged.create_time,
                ..checked
            }
        };
        let model = store::save_agency(&txn, &current, &agency).await?;
        self.audit(
            &txn,
            principal,
            "agency.update",
            id.as_str(),
            paths.join(","),
        )
        .await?;
        txn.commit().await?;
        store::agency_proto(&model)
    }

    async fn set_agency_status(
        &self,
        principal: &Principal,
        id: &str,
        etag: &str,
        to: AgencyStatus,
        reason: &str,
    ) -> ApiResult<Agency> {
        let id = AgencyId::parse(id).map_err(|e| ApiError::invalid("id", e))?;
        let txn = self.db().begin().await?;
        let current = store::find_agency(&txn, id.as_str())
            .await?
            .ok_or_else(|| ApiError::not_found("agency", id.as_str()))?;
        check_etag(etag, current.version, "agency")?;
        let mut agency = store::agency_proto(&current)?;
        let from = AgencyStatus::try_from(agency.status).unwrap_or_default();
        let allowed = match to {
            AgencyStatus::Active => matches!(from, AgencyStatus::Pending | AgencyStatus::Suspended),
            AgencyStatus::Suspended => from == AgencyStatus::Active,
            _ => false,
        };
        if !allowed {
            return Err(ApiError::precondition(format!(
                "an agency that is {} cannot become {}",
                from.as_str_name().trim_start_matches("AGENCY_STATUS_"),
                to.as_str_name().trim_start_matches("AGENCY_STATUS_")
            )));
        }
        agency.status = to as i32;
        agency.update_time = Some(time::to_timestamp(time::now()));
        let model = store::save_agency(&txn, &current, &agency).await?;
        self.audit(
            &txn,
            principal,
            "agency.status",
            id.as_str(),
            format!("{} {reason}", to.as_str_name()),
        )
        .await?;
        txn.commit().await?;
        self.inner.directory.forget_agency(id.as_str());
        store::agency_proto(&model)
    }

    // ---- requests -------------------------------------------------------------------------------

    async fn submit_request(
        &self,
        principal: &Principal,
        req: SubmitRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let caller = Self::caller(principal);
        let Some(filed) = &req.legal_request else {
            return Err(ApiError::invalid("legal_request", "must be set"));
        };
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let agency_id = match &caller {
            Caller::Agency(own) if filed.agency_id.is_empty() || filed.agency_id == *own => {
                Some(own.clone())
            }
            Caller::Agency(_) => {
                return Err(ApiError::denied(
                    "an agency files requests in its own name only",
                ));
            }
            Caller::Marketplace => violations
                .check("legal_request.agency_id", AgencyId::parse(&filed.agency_id))
                .map(AgencyId::into_string),
        };
        let process = violations.check(
            "legal_request.process",
            validate::required_enum::<LegalProcess>(filed.process),
        );
        let reference = violations.check(
            "legal_request.reference",
            validate::text(&filed.reference, 200),
        );
        let requester_name = violations.check(
            "legal_request.requester_name",
            validate::text(&filed.requester_name, 200),
        );
        let requester_email = violations.check(
            "legal_request.requester_email",
            validate::email(&filed.requester_email),
        );
        let targets = check_targets(&mut violations, "legal_request.targets", &filed.targets);
        let categories = check_categories(
            &mut violations,
            "legal_request.data_categories",
            &filed.data_categories,
        );
        let justification = if filed.emergency {
            violations.check(
                "legal_request.emergency_justification",
                validate::text(&filed.emergency_justification, 2000),
            )
        } else {
            violations.check(
                "legal_request.emergency_justification",
                validate::optional_text(&filed.emergency_justification, 2000),
            )
        };
        let non_disclosure = violations.check(
            "legal_request.non_disclosure_days",
            domain::non_disclosure_days(filed.non_disclosure_days),
        );
        let now = time::now();
        let respond_by = filed.respond_by.as_ref().and_then(|t| {
            violations.check(
                "legal_request.respond_by",
                time::from_timestamp(t).and_then(|t| {
                    if t > now {
                        Ok(t)
                    } else {
                        Err("must be in the future".to_owned())
                    }
                }),
            )
        });
        let (
            agency_id,
            process,
            reference,
            requester_name,
            requester_email,
            justification,
            non_disclosure,
        ) = violations.finish(|| {
            (
                agency_id.unwrap_or_default(),
                process.unwrap_or_default(),
                reference.unwrap_or_default(),
                requester_name.unwrap_or_default(),
                requester_email.unwrap_or_default(),
                justification.unwrap_or_default(),
                non_disclosure.unwrap_or_default(),
            )
        })?;
        let agency_model = store::find_agency(self.db(), &agency_id)
            .await?
            .ok_or_else(|| ApiError::not_found("agency", &agency_id))?;
        let agency = store::agency_proto(&agency_model)?;
        if agency.status != AgencyStatus::Active as i32 {
            return Err(ApiError::precondition(format!(
                "agency {agency_id} is not active"
            )));
        }
        let key = Key::new(
            "SubmitRequest",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&SubmitRequestRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );
        let due = domain::due(process, filed.emergency, now, respond_by);
        let body = LegalRequest {
            id: RequestId::generate().into_string(),
            agency_id: agency_id.clone(),
            process: process as i32,
            reference,
            requester_name,
            domain_verified: domain_verified(&requester_email, &agency.verified_email_domains),
            requester_email,
            targets,
            data_categories: categories.iter().map(|c| *c as i32).collect(),
            emergency: filed.emergency,
            emergency_justification: justification,
            non_disclosure_days: non_disclosure,
            respond_by: respond_by.map(time::to_timestamp),
            status: RequestStatus::Received as i32,
            due_time: Some(time::to_timestamp(due)),
            non_disclosure_until: (non_disclosure > 0).then(|| {
                time::to_timestamp(now + chrono::Duration::days(i64::from(non_disclosure)))
            }),
            create_time: Some(time::to_timestamp(now)),
            update_time: Some(time::to_timestamp(now)),
            ..LegalRequest::default()
        };
        let txn = self.db().begin().await?;
        if let Some(key) = &key
            && let Some(existing) = key.earlier(&txn).await?
        {
            let model = store::find_request(&txn, &existing)
                .await?
                .ok_or_else(|| ApiError::not_found("legal request", &existing))?;
            return self.respond(&model);
        }
        let model = store::insert_request(&txn, &body, &agency.country_code, due, now).await?;
        if let Some(key) = &key {
            key.record(&txn, &body.id).await?;
        }
        self.audit(
            &txn,
            principal,
            "request.submit",
            &body.id,
            format!(
                "{} from {agency_id}, {} targets{}",
                process.as_str_name(),
                body.targets.len(),
                if body.emergency { ", EMERGENCY" } else { "" }
            ),
        )
        .await?;
        txn.commit().await?;
        self.respond(&model)
    }

    async fn get_request(
        &self,
        principal: &Principal,
        req: GetRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_request(txn, principal, &caller, &id, "request.read")
            .await?;
        self.audit(&txn, principal, "request.read", id.as_str(), String::new())
            .await?;
        txn.commit().await?;
        self.respond(&model)
    }

    async fn list_requests(
        &self,
        principal: &Principal,
        req: ListRequestsRequest,
    ) -> ApiResult<ListRequestsResponse> {
        let size = page_size(req.page_size)?;
        let caller = Self::caller(principal);
        let mut violations = FieldViolations::new();
        let statuses = validate::each(&mut violations, "statuses", &req.statuses, 0..=20, |s| {
            validate::required_enum::<RequestStatus>(*s)
        });
        let process = violations
            .check(
                "process",
                validate::optional_enum::<LegalProcess>(req.process),
            )
            .flatten();
        if !req.agency_id.is_empty() {
            violations.check("agency_id", AgencyId::parse(&req.agency_id));
        }
        violations.into_result(())?;
        let agency_id = match &caller {
            // An agency's own requests only, whatever it asks for.
            Caller::Agency(own) => Some(own.clone()),
            Caller::Marketplace => (!req.agency_id.is_empty()).then(|| req.agency_id.clone()),
        };
        let now = time::now();
        let filter = store::RequestFilter {
            agency_id,
            statuses,
            process,
            overdue_at: req.overdue_only.then_some(now),
        };
        let scope = format!(
            "ListRequests|{:?}|{}",
            store::RequestFilter {
                overdue_at: None,
                ..filter.clone()
            },
            req.overdue_only
        );
        let before = self.inner.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_requests(self.db(), &filter, before.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |r| r.id.clone());
        self.audit_listed(
            principal,
            "request.list",
            "requests",
            rows.iter().map(|r| r.id.as_str()),
        )
        .await?;
        Ok(ListRequestsResponse {
            legal_requests: rows
                .iter()
                .map(|r| self.respond(r))
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    async fn start_verification(
        &self,
        principal: &Principal,
        req: StartVerificationRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let txn = self.db().begin().await?;
        let (model, mut body, to) = self
            .open_for(&txn, &id, &req.etag, Action::StartVerification)
            .await?;
        let agency = store::find_agency(&txn, &body.agency_id)
            .await?
            .map(|a| store::agency_proto(&a))
            .transpose()?
            .unwrap_or_default();
        body.domain_verified =
            domain_verified(&body.requester_email, &agency.verified_email_domains);
        body.status = to as i32;
        body.update_time = Some(time::to_timestamp(time::now()));
        let saved = store::save_request(&txn, &model, &body).await?;
        self.audit(
            &txn,
            principal,
            "request.verify",
            id.as_str(),
            format!(
                "requester domain {} {}",
                email_domain(&body.requester_email),
                if body.domain_verified {
                    "is verified for the agency"
                } else {
                    "is NOT a verified domain of the agency"
                }
            ),
        )
        .await?;
        txn.commit().await?;
        self.respond(&saved)
    }

    fn confirmation(
        &self,
        principal: &Principal,
        field: &str,
        confirmation: Option<&Confirmation>,
    ) -> ApiResult<Confirmation> {
        let given = confirmation.cloned().unwrap_or_default();
        let mut violations = FieldViolations::new();
        let method = violations.check(
            &format!("{field}.method"),
            validate::text(&given.method, 500),
        );
        let channel = violations.check(
            &format!("{field}.channel"),
            validate::required_enum::<ConfirmationChannel>(given.channel),
        );
        let (method, channel) = violations.require(method.zip(channel))?;
        Ok(Confirmation {
            confirmed_by: principal.actor(),
            method,
            confirm_time: Some(time::to_timestamp(time::now())),
            channel: channel as i32,
        })
    }

    async fn complete_verification(
        &self,
        principal: &Principal,
        req: CompleteVerificationRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let confirmation =
            self.confirmation(principal, "confirmation", req.confirmation.as_ref())?;
        let txn = self.db().begin().await?;
        let (model, mut body, to) = self
            .open_for(&txn, &id, &req.etag, Action::CompleteVerification)
            .await?;
        if !body.domain_verified {
            return Err(ApiError::precondition(format!(
                "the requester's e-mail domain {} is not a verified domain of agency {}: reject the request or verify the domain first",
                email_domain(&body.requester_email),
                body.agency_id
            )));
        }
        body.confirmations.push(confirmation.clone());
        body.status = to as i32;
        body.update_time = Some(time::to_timestamp(time::now()));
        let saved = store::save_request(&txn, &model, &body).await?;
        self.audit(
            &txn,
            principal,
            "request.verified",
            id.as_str(),
            confirmation.method,
        )
        .await?;
        txn.commit().await?;
        self.respond(&saved)
    }

    async fn confirm_emergency(
        &self,
        principal: &Principal,
        req: ConfirmEmergencyRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let confirmation =
            self.confirmation(principal, "confirmation", req.confirmation.as_ref())?;
        let txn = self.db().begin().await?;
        let model = store::find_request(&txn, id.as_str())
            .await?
            .ok_or_else(|| ApiError::not_found("legal request", id.as_str()))?;
        let mut body = store::decode_request(&model)?;
        if !body.emergency {
            return Err(ApiError::precondition("this is not an emergency request"));
        }
        let status = store::status_of(&model)?;
        if body.confirmations.is_empty() {
            return Err(ApiError::precondition(
                "complete the verification first: this confirms it independently",
            ));
        }
        if matches!(
            status,
            RequestStatus::Rejected | RequestStatus::Disclosed | RequestStatus::Closed
        ) {
            return Err(ApiError::precondition(format!(
                "a request that is {} needs no confirmation",
                domain::status_word(status)
            )));
        }
        if body
            .confirmations
            .iter()
            .any(|c| c.confirmed_by == confirmation.confirmed_by)
        {
            return Err(ApiError::precondition(
                "a second confirmation must come from someone else: you already confirmed this request",
            ));
        }
        if confirmation.channel == ConfirmationChannel::Email as i32 {
            return Err(ApiError::precondition(
                "an emergency cannot be confirmed by e-mail, which a hijacked mailbox answers itself: call the agency back on its published number, or use its credentials or a known liaison",
            ));
        }
        body.confirmations.push(confirmation.clone());
        body.update_time = Some(time::to_timestamp(time::now()));
        let saved = store::save_request(&txn, &model, &body).await?;
        self.audit(
            &txn,
            principal,
            "request.emergency_confirmed",
            id.as_str(),
            confirmation.method,
        )
        .await?;
        txn.commit().await?;
        self.respond(&saved)
    }

    async fn review_request(
        &self,
        principal: &Principal,
        req: ReviewRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let mut violations = FieldViolations::new();
        let decision = violations.check(
            "decision",
            validate::required_enum::<ReviewDecision>(req.decision),
        );
        let reasons = violations.check("reasons", validate::text(&req.reasons, 4000));
        let narrowing = decision == Some(ReviewDecision::Narrow);
        let targets = if narrowing {
            check_targets(&mut violations, "approved_targets", &req.approved_targets)
        } else {
            if !req.approved_targets.is_empty() {
                violations.add("approved_targets", "only a NARROW decision names targets");
            }
            Vec::new()
        };
        let categories = if narrowing {
            check_categories(
                &mut violations,
                "approved_categories",
                &req.approved_categories,
            )
        } else {
            if !req.approved_categories.is_empty() {
                violations.add(
                    "approved_categories",
                    "only a NARROW decision names categories",
                );
            }
            Vec::new()
        };
        let (decision, reasons) = violations.require(decision.zip(reasons))?;
        let action = match decision {
            ReviewDecision::Approve => Action::Approve,
            ReviewDecision::Narrow => Action::Narrow,
            _ => Action::Reject,
        };
        let now = time::now();
        let txn = self.db().begin().await?;
        let (model, mut body, to) = self.open_for(&txn, &id, &req.etag, action).await?;
        // What was approved must be a part of what was asked.
        if narrowing {
            let mut violations = FieldViolations::new();
            for (i, target) in targets.iter().enumerate() {
                if !body.targets.contains(target) {
                    violations.add(
                        format!("approved_targets[{i}]"),
                        "is not one of the request's targets",
                    );
                }
            }
            for (i, category) in categories.iter().enumerate() {
                if !body.data_categories.contains(&(*category as i32)) {
                    violations.add(
                        format!("approved_categories[{i}]"),
                        "is not one of the categories asked for",
                    );
                }
            }
            violations.into_result(())?;
        }
        let (approved_targets, approved_categories) = match action {
            Action::Approve => (body.targets.clone(), body.data_categories.clone()),
            Action::Narrow => (targets, categories.iter().map(|c| *c as i32).collect()),
            _ => (Vec::new(), Vec::new()),
        };
        body.review_decision = decision as i32;
        body.review_reasons = reasons.clone();
        body.approved_targets = approved_targets.clone();
        body.approved_categories = approved_categories;
        body.status = to as i32;
        body.update_time = Some(time::to_timestamp(now));
        let process = store::process_of(&model);
        let mut detail = format!("{}: {reasons}", decision.as_str_name());
        if action != Action::Reject
            && let Some((period, _)) = domain::hold_periods(process)
        {
            let hold_id = HoldId::generate();
            store::insert_hold(
                &txn,
                hold::Model {
                    id: hold_id.as_str().to_owned(),
                    request_id: id.as_str().to_owned(),
                    process: process.as_str_name().to_owned(),
                    expire_time: now + period,
                    extended: false,
                    create_time: now,
                },
                &approved_targets,
            )
            .await?;
            detail.push_str(&format!("; hold {hold_id} placed until {}", now + period));
        }
        let saved = store::save_request(&txn, &model, &body).await?;
        self.audit(&txn, principal, "request.review", id.as_str(), detail)
            .await?;
        txn.commit().await?;
        self.respond(&saved)
    }

    async fn gather_request(
        &self,
        principal: &Principal,
        req: GatherRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        // Check before asking anyone for anything.
        let model = store::find_request(self.db(), id.as_str())
            .await?
            .ok_or_else(|| ApiError::not_found("legal request", id.as_str()))?;
        check_etag(&req.etag, model.version, "request")?;
        let from = store::status_of(&model)?;
        domain::transition(from, Action::Gather, store::process_of(&model))
            .map_err(ApiError::precondition)?;
        let body = store::decode_request(&model)?;
        if !emergency_confirmed(&body) {
            return Err(ApiError::precondition(
                "an emergency request needs a second, independent confirmation before any data is gathered",
            ));
        }
        let categories: Vec<DataCategory> = body
            .approved_categories
            .iter()
            .filter_map(|c| DataCategory::try_from(*c).ok())
            .collect();
        let gathered = self
            .inner
            .sources
            .gather(&body.approved_targets, &categories)
            .await?;

        let now = time::now();
        let txn = self.db().begin().await?;
        // Nobody may have moved it while we gathered.
        let (model, mut body, to) = self
            .open_for(
                &txn,
                &id,
                &assay_common::resource::etag(model.version),
                Action::Gather,
            )
            .await?;
        let items: Vec<PackageItem> = gathered
            .files
            .iter()
            .map(|(item, _)| item.clone())
            .collect();
        let (manifest, manifest_sha256) = gather::manifest(&items);
        let files: Vec<(String, String, Vec<u8>)> = gathered
            .files
            .into_iter()
            .map(|(item, content)| (item.name, item.sha256, content))
            .collect();
        store::insert_package(&txn, id.as_str(), &files).await?;
        body.package = Some(Package {
            items,
            manifest,
            manifest_sha256: manifest_sha256.clone(),
            build_time: Some(gather::now_timestamp()),
            expire_time: None,
            not_found: gathered.not_found,
            delete_time: None,
        });
        body.status = to as i32;
        body.update_time = Some(time::to_timestamp(now));
        let saved = store::save_request(&txn, &model, &body).await?;
        self.audit(
            &txn,
            principal,
            "request.gather",
            id.as_str(),
            format!(
                "{} files, manifest sha256 {manifest_sha256}: {}",
                files.len(),
                files
                    .iter()
                    .map(|f| f.0.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .await?;
        txn.commit().await?;
        self.respond(&saved)
    }

    async fn disclose_request(
        &self,
        principal: &Principal,
        req: DiscloseRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let now = time::now();
        let txn = self.db().begin().await?;
        let (model, mut body, to) = self
            .open_for(&txn, &id, &req.etag, Action::Disclose)
            .await?;
        if !emergency_confirmed(&body) {
            return Err(ApiError::precondition(
                "an emergency request needs a second, independent confirmation before any data goes out",
            ));
        }
        let ttl = chrono::Duration::from_std(self.inner.config.package_ttl)
            .unwrap_or(chrono::Duration::days(30));
        let package = body.package.get_or_insert_with(Package::default);
        package.expire_time = Some(time::to_timestamp(now + ttl));
        store::release_package(&txn, id.as_str(), now + ttl).await?;
        let detail = format!(
            "released {} files to {} until {}, manifest sha256 {}",
            package.items.len(),
            body.agency_id,
            now + ttl,
            package.manifest_sha256
        );
        body.status = to as i32;
        body.update_time = Some(time::to_timestamp(now));
        let saved = store::save_request(&txn, &model, &body).await?;
        self.audit(&txn, principal, "request.disclose", id.as_str(), detail)
            .await?;
        txn.commit().await?;
        self.respond(&saved)
    }

    async fn download_package(
        &self,
        principal: &Principal,
        req: DownloadPackageRequest,
    ) -> ApiResult<DownloadPackageResponse> {
        let id = request_id_arg("id", &req.id)?;
        let result = self.download(principal, &id).await;
        // A request the caller may not see was audited as such already.
        if let Err(error) = &result
            && !matches!(error, ApiError::NotFound { .. })
        {
            self.audit_refusal(principal, "package.download", id.as_str(), error)
                .await;
        }
        result
    }

    async fn download(
        &self,
        principal: &Principal,
        id: &RequestId,
    ) -> ApiResult<DownloadPackageResponse> {
        let id = id.clone();
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_request(txn, principal, &caller, &id, "package.download")
            .await?;
        let body = store::decode_request(&model)?;
        let package = body.package.clone().unwrap_or_default();
        let status = store::status_of(&model)?;
        let released = package.expire_time.is_some()
            && matches!(status, RequestStatus::Disclosed | RequestStatus::Closed);
        if !released {
            return Err(ApiError::precondition(
                "no package was disclosed for this request",
            ));
        }
        let expires = package
            .expire_time
            .as_ref()
            .and_then(|t| time::from_timestamp(t).ok())
            .unwrap_or_default();
        if expires <= time::now() {
            return Err(ApiError::precondition(format!(
                "the package expired at {expires}: its files are deleted, only its manifest is kept"
            )));
        }
        let files = store::package_files(&txn, id.as_str()).await?;
        self.audit(
            &txn,
            principal,
            "package.download",
            id.as_str(),
            format!(
                "{} files, manifest sha256 {}",
                files.len(),
                package.manifest_sha256
            ),
        )
        .await?;
        txn.commit().await?;
        let files = package
            .items
            .iter()
            .map(|item| PackageFile {
                content: files
                    .iter()
                    .find(|f| f.name == item.name)
                    .map(|f| f.content.clone())
                    .unwrap_or_default(),
                item: Some(item.clone()),
            })
            .collect();
        Ok(DownloadPackageResponse {
            package: Some(package),
            files,
        })
    }

    async fn close_request(
        &self,
        principal: &Principal,
        req: CloseRequestRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let note =
            validate::optional_text(&req.note, 2000).map_err(|e| ApiError::invalid("note", e))?;
        let txn = self.db().begin().await?;
        let (model, mut body, to) = self.open_for(&txn, &id, &req.etag, Action::Close).await?;
        body.status = to as i32;
        body.update_time = Some(time::to_timestamp(time::now()));
        let saved = store::save_request(&txn, &model, &body).await?;
        self.audit(&txn, principal, "request.close", id.as_str(), note)
            .await?;
        txn.commit().await?;
        self.respond(&saved)
    }

    async fn extend_non_disclosure(
        &self,
        principal: &Principal,
        req: ExtendNonDisclosureRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let reason =
            validate::text(&req.reason, 2000).map_err(|e| ApiError::invalid("reason", e))?;
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_request(txn, principal, &caller, &id, "request.non_disclosure")
            .await?;
        let mut body = store::decode_request(&model)?;
        let now = time::now();
        let until = body
            .non_disclosure_until
            .as_ref()
            .and_then(|t| time::from_timestamp(t).ok());
        let extended = domain::extend_non_disclosure(model.create_time, until, now)
            .map_err(ApiError::precondition)?;
        body.non_disclosure_until = Some(time::to_timestamp(extended));
        body.non_disclosure_days += domain::NON_DISCLOSURE_STEP_DAYS;
        body.update_time = Some(time::to_timestamp(now));
        let saved = store::save_request(&txn, &model, &body).await?;
        self.audit(
            &txn,
            principal,
            "request.non_disclosure",
            id.as_str(),
            format!("until {extended}: {reason}"),
        )
        .await?;
        txn.commit().await?;
        self.respond(&saved)
    }

    async fn report_request_outcome(
        &self,
        principal: &Principal,
        req: ReportRequestOutcomeRequest,
    ) -> ApiResult<LegalRequest> {
        let id = request_id_arg("id", &req.id)?;
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let outcome = check_outcome(&mut violations, "outcome", req.outcome.as_ref());
        let (outcome, _) = violations.require(outcome)?;
        let Some(agency) = principal.agency_id() else {
            return Err(ApiError::denied(
                "outcomes of requests are reported by the requesting agency",
            ));
        };
        let caller = Self::caller(principal);
        let key = Key::new(
            "ReportRequestOutcome",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&ReportRequestOutcomeRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );
        let now = time::now();
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_request(txn, principal, &caller, &id, "request.outcome")
            .await?;
        if let Some(key) = &key
            && key.earlier(&txn).await?.is_some()
        {
            return self.respond(&model);
        }
        let mut body = store::decode_request(&model)?;
        body.outcomes.push(Outcome {
            reported_by: principal.actor(),
            report_time: Some(time::to_timestamp(now)),
            ..outcome.clone()
        });
        let saved = store::save_request(&txn, &model, &body).await?;
        if let Some(key) = &key {
            key.record(&txn, id.as_str()).await?;
        }
        self.audit(
            &txn,
            principal,
            "request.outcome",
            id.as_str(),
            format!(
                "{agency}: {} arrests, {} units seized, {} convictions",
                outcome.arrests, outcome.seized_units, outcome.convictions
            ),
        )
        .await?;
        txn.commit().await?;
        self.respond(&saved)
    }

    async fn list_deadlines(
        &self,
        principal: &Principal,
        req: ListDeadlinesRequest,
    ) -> ApiResult<ListDeadlinesResponse> {
        let size = page_size(req.page_size)?;
        let now = time::now();
        // The warning window is at most two days.
        let rows = store::owed_before(self.db(), now + chrono::Duration::days(2), 10_000).await?;
        let mut urgent: Vec<(Urgency, request::Model)> = rows
            .into_iter()
            .filter_map(|m| {
                let urgency = domain::urgency(true, m.create_time, m.due_time, now);
                (urgency != Urgency::OnTrack).then_some((urgency, m))
            })
            .collect();
        urgent.sort_by_key(|(u, m)| (std::cmp::Reverse(*u as i32), m.due_time));
        urgent.truncate(size as usize);
        self.audit_listed(
            principal,
            "deadlines.list",
            "",
            urgent.iter().map(|(_, m)| m.id.as_str()),
        )
        .await?;
        Ok(ListDeadlinesResponse {
            legal_requests: urgent
                .iter()
                .map(|(_, m)| self.respond(m))
                .collect::<ApiResult<_>>()?,
        })
    }

    // ---- holds ------------------------------------------------------------------------------------

    async fn list_holds(
        &self,
        principal: &Principal,
        req: ListHoldsRequest,
    ) -> ApiResult<ListHoldsResponse> {
        let size = page_size(req.page_size)?;
        let scope = "ListHolds";
        let after = self.inner.page_tokens.decode(scope, &req.page_token)?;
        let rows = store::active_holds(self.db(), time::now(), after.as_deref(), size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(scope, rows, size, |h| h.id.clone());
        let mut holds = Vec::with_capacity(rows.len());
        for row in &rows {
            holds.push(store::hold_proto(self.db(), row).await?);
        }
        self.audit_listed(
            principal,
            "holds.list",
            "",
            rows.iter().map(|h| h.id.as_str()),
        )
        .await?;
        Ok(ListHoldsResponse {
            holds,
            next_page_token,
        })
    }

    async fn extend_hold(&self, principal: &Principal, req: ExtendHoldRequest) -> ApiResult<Hold> {
        let id = HoldId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let txn = self.db().begin().await?;
        let current = store::find_hold(&txn, id.as_str()).await?;
        let process = LegalProcess::from_str_name(&current.process).unwrap_or_default();
        let Some((_, extension)) = domain::hold_periods(process) else {
            return Err(ApiError::precondition("this hold cannot be extended"));
        };
        if current.extended {
            return Err(ApiError::precondition(
                "this hold was already extended once: a new preservation request is needed",
            ));
        }
        if current.expire_time <= time::now() {
            return Err(ApiError::precondition("this hold has already ended"));
        }
        let extended = store::extend_hold(&txn, &current, current.expire_time + extension).await?;
        self.audit(
            &txn,
            principal,
            "hold.extend",
            id.as_str(),
            format!("until {}", extended.expire_time),
        )
        .await?;
        let hold = store::hold_proto(&txn, &extended).await?;
        txn.commit().await?;
        Ok(hold)
    }

    async fn check_holds(
        &self,
        principal: &Principal,
        req: CheckHoldsRequest,
    ) -> ApiResult<CheckHoldsResponse> {
        let mut violations = FieldViolations::new();
        for (field, ids) in [
            ("seller_ids", &req.seller_ids),
            ("listing_ids", &req.listing_ids),
        ] {
            if let Err(e) = validate::count(ids, 0, 1000) {
                violations.add(field, e);
            }
        }
        violations.into_result(())?;
        let now = time::now();
        let answer = CheckHoldsResponse {
            held_seller_ids: store::held(self.db(), TargetKind::Seller, &req.seller_ids, now)
                .await?,
            held_listing_ids: store::held(self.db(), TargetKind::Listing, &req.listing_ids, now)
                .await?,
        };
        // Which sellers and listings are under a hold is itself law-enforcement data.
        self.audit_listed(
            principal,
            "holds.check",
            "",
            answer
                .held_seller_ids
                .iter()
                .chain(&answer.held_listing_ids)
                .map(String::as_str),
        )
        .await?;
        Ok(answer)
    }

    // ---- referrals --------------------------------------------------------------------------------

    async fn receive_referral(
        &self,
        principal: &Principal,
        req: ReceiveReferralRequest,
    ) -> ApiResult<ReceiveReferralResponse> {
        let Some(case) = req.r#case else {
            return Err(ApiError::invalid("case", "must be set"));
        };
        let Some(referral) = case.referral.clone() else {
            return Err(ApiError::invalid("case.referral", "must be set"));
        };
        let mut violations = FieldViolations::new();
        violations.check("case.id", CaseId::parse(&case.id));
        violations.check("case.referral.id", ReferralId::parse(&referral.id));
        violations.check(
            "case.referral.agency_id",
            AgencyId::parse(&referral.agency_id),
        );
        violations.into_result(())?;
        let now = time::now();
        let txn = self.db().begin().await?;
        if store::find_referral(&txn, &referral.id).await?.is_some() {
            return Ok(ReceiveReferralResponse {
                referral_id: referral.id,
                created: false,
            });
        }
        if store::find_agency(&txn, &referral.agency_id)
            .await?
            .is_none()
        {
            return Err(ApiError::precondition(format!(
                "agency {} is not in the directory: add it, and the referral will be delivered",
                referral.agency_id
            )));
        }
        let body = Referral {
            id: referral.id.clone(),
            agency_id: referral.agency_id.clone(),
            r#case: Some(case.clone()),
            status: ReferralStatus::Received as i32,
            outcomes: Vec::new(),
            receive_time: Some(time::to_timestamp(now)),
            acknowledge_time: None,
        };
        // A concurrent delivery of the same referral may win the insert: then it is here.
        if let Err(error) = store::insert_referral(&txn, &body, now).await {
            txn.rollback().await?;
            return match store::find_referral(self.db(), &referral.id).await? {
                Some(_) => Ok(ReceiveReferralResponse {
                    referral_id: referral.id,
                    created: false,
                }),
                None => Err(error),
            };
        }
        self.audit(
            &txn,
            principal,
            "referral.receive",
            &referral.id,
            format!("case {} for {}", case.id, referral.agency_id),
        )
        .await?;
        txn.commit().await?;
        Ok(ReceiveReferralResponse {
            referral_id: referral.id,
            created: true,
        })
    }

    /// Like [`Self::visible_request`], for a referral.
    async fn visible_referral(
        &self,
        txn: DatabaseTransaction,
        principal: &Principal,
        caller: &Caller,
        id: &str,
        action: &str,
    ) -> ApiResult<(DatabaseTransaction, crate::entity::referral::Model)> {
        match store::find_referral(&txn, id).await? {
            Some(model) if caller.sees(&model.agency_id) => Ok((txn, model)),
            _ => {
                txn.rollback().await?;
                let error = ApiError::not_found("referral", id);
                self.audit_refusal(principal, action, id, &error).await;
                Err(error)
            }
        }
    }

    async fn get_referral(
        &self,
        principal: &Principal,
        req: GetReferralRequest,
    ) -> ApiResult<Referral> {
        ReferralId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_referral(txn, principal, &caller, &req.id, "referral.read")
            .await?;
        self.audit(&txn, principal, "referral.read", &req.id, String::new())
            .await?;
        txn.commit().await?;
        store::decode_referral(&model)
    }

    async fn list_referrals(
        &self,
        principal: &Principal,
        req: ListReferralsRequest,
    ) -> ApiResult<ListReferralsResponse> {
        let size = page_size(req.page_size)?;
        let caller = Self::caller(principal);
        let agency = match &caller {
            Caller::Agency(own) => Some(own.clone()),
            Caller::Marketplace => None,
        };
        let scope = format!("ListReferrals|{agency:?}");
        let before = self.inner.page_tokens.decode(&scope, &req.page_token)?;
        let rows = store::list_referrals(self.db(), agency.as_deref(), before.as_deref(), size + 1)
            .await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |r| r.id.clone());
        self.audit_listed(
            principal,
            "referral.list",
            "referrals",
            rows.iter().map(|r| r.id.as_str()),
        )
        .await?;
        Ok(ListReferralsResponse {
            referrals: rows
                .iter()
                .map(store::decode_referral)
                .collect::<ApiResult<_>>()?,
            next_page_token,
        })
    }

    async fn acknowledge_referral(
        &self,
        principal: &Principal,
        req: AcknowledgeReferralRequest,
    ) -> ApiResult<Referral> {
        ReferralId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        if principal.agency_id().is_none() {
            return Err(ApiError::denied(
                "referrals are acknowledged by their agency",
            ));
        }
        let caller = Self::caller(principal);
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_referral(txn, principal, &caller, &req.id, "referral.acknowledge")
            .await?;
        let mut body = store::decode_referral(&model)?;
        if body.status == ReferralStatus::Acknowledged as i32 {
            return Err(ApiError::precondition(
                "the referral was already acknowledged",
            ));
        }
        body.status = ReferralStatus::Acknowledged as i32;
        body.acknowledge_time = Some(time::to_timestamp(time::now()));
        let saved = store::save_referral(&txn, &model, &body).await?;
        self.audit(
            &txn,
            principal,
            "referral.acknowledge",
            &req.id,
            String::new(),
        )
        .await?;
        txn.commit().await?;
        store::decode_referral(&saved)
    }

    async fn report_referral_outcome(
        &self,
        principal: &Principal,
        req: ReportReferralOutcomeRequest,
    ) -> ApiResult<Referral> {
        ReferralId::parse(&req.id).map_err(|e| ApiError::invalid("id", e))?;
        let mut violations = FieldViolations::new();
        let request_id = violations
            .check("request_id", validate::request_id(&req.request_id))
            .flatten();
        let outcome = check_outcome(&mut violations, "outcome", req.outcome.as_ref());
        let (outcome, value) = violations.require(outcome)?;
        if principal.agency_id().is_none() {
            return Err(ApiError::denied(
                "outcomes of referrals are reported by their agency",
            ));
        }
        let caller = Self::caller(principal);
        let key = Key::new(
            "ReportReferralOutcome",
            &principal.actor(),
            request_id,
            idempotency::fingerprint(&ReportReferralOutcomeRequest {
                request_id: String::new(),
                ..req.clone()
            }),
        );
        let now = time::now();
        let txn = self.db().begin().await?;
        let (txn, model) = self
            .visible_referral(txn, principal, &caller, &req.id, "referral.outcome")
            .await?;
        if let Some(key) = &key
            && key.earlier(&txn).await?.is_some()
        {
            return store::decode_referral(&model);
        }
        let mut body = store::decode_referral(&model)?;
        let reported = Outcome {
            reported_by: principal.actor(),
            report_time: Some(time::to_timestamp(now)),
            ..outcome.clone()
        };
        body.outcomes.push(reported);
        let case_id = body
            .r#case
            .as_ref()
            .map(|c| c.id.clone())
            .unwrap_or_default();
        let saved = store::save_referral(&txn, &model, &body).await?;
        // Case management records it on the case, through the outbox.
        let delivery_key = format!("{}-{}", req.id, body.outcomes.len());
        let forward = cases::RecordReferralOutcomeRequest {
            id: case_id.clone(),
            outcome: Some(cases::ReferralOutcome {
                arrests: outcome.arrests,
                seized_units: outcome.seized_units,
                seized_value: value.map(|v| v.to_proto()),
                convictions: outcome.convictions,
                note: format!("reported by {}: {}", principal.actor(), outcome.note)
                    .chars()
                    .take(2000)
                    .collect(),
                ..Default::default()
            }),
            request_id: delivery_key.clone(),
        };
        outbox::enqueue(
            &txn,
            topic::REFERRAL_OUTCOME,
            &delivery_key,
            forward.encode_to_vec(),
        )
        .await?;
        if let Some(key) = &key {
            key.record(&txn, &req.id).await?;
        }
        self.audit(
            &txn,
            principal,
            "referral.outcome",
            &req.id,
            format!(
                "case {case_id}: {} arrests, {} units seized, {} convictions",
                outcome.arrests, outcome.seized_units, outcome.convictions
            ),
        )
        .await?;
        txn.commit().await?;
        if let Some(waker) = self.inner.relay.get() {
            waker.notify_one();
        }
        store::decode_referral(&saved)
    }

    // ---- reports and audit ------------------------------------------------------------------------

    async fn get_transparency_report(
        &self,
        req: GetTransparencyReportRequest,
    ) -> ApiResult<GetTransparencyReportResponse> {
        let mut violations = FieldViolations::new();
        let (from, until) = time_range(&mut violations, "period", req.period.as_ref());
        violations.into_result(())?;
        let within = |t: Option<&prost_types::Timestamp>| {
            let Some(t) = t.and_then(|t| time::from_timestamp(t).ok()) else {
                return false;
            };
            from.is_none_or(|f| t >= f) && until.is_none_or(|u| t < u)
        };
        let mut report = GetTransparencyReportResponse::default();
        #[derive(Default)]
        struct Tally {
            requests: i64,
            accounts: BTreeSet<String>,
            produced: i64,
        }
        let mut by_process: BTreeMap<String, Tally> = BTreeMap::new();
        let mut by_country: BTreeMap<String, Tally> = BTreeMap::new();
        let mut accounts: BTreeSet<String> = BTreeSet::new();
        let mut decided = 0i64;
        let mut produced = 0i64;
        for model in store::requests_in(self.db(), from, until).await? {
            let body = store::decode_request(&model)?;
            let status = store::status_of(&model)?;
            let sellers: BTreeSet<String> = body
                .targets
                .iter()
                .filter(|t| t.kind == TargetKind::Seller as i32)
                .map(|t| t.id.clone())
                .collect();
            let disclosed = body
                .package
                .as_ref()
                .is_some_and(|p| p.expire_time.is_some() && !p.items.is_empty());
            if body.review_decision != ReviewDecision::Unspecified as i32 {
                decided += 1;
            }
            report.requests += 1;
            report.emergency_requests += i64::from(body.emergency);
            report.rejected += i64::from(status == RequestStatus::Rejected);
            produced += i64::from(disclosed);
            for (tallies, key) in [
                (&mut by_process, model.process.clone()),
                (&mut by_country, model.country_code.clone()),
            ] {
                let tally = tallies.entry(key).or_default();
                tally.requests += 1;
                tally.accounts.extend(sellers.iter().cloned());
                tally.produced += i64::from(disclosed);
            }
            accounts.extend(sellers);
        }
        // Outcomes count in the period they were reported in, whenever the request was.
        for model in store::all_requests(self.db()).await? {
            for outcome in store::decode_request(&model)?.outcomes {
                if within(outcome.report_time.as_ref()) {
                    validate::add_to(&mut report.arrests, outcome.arrests.into())?;
                    validate::add_to(&mut report.seized_units, outcome.seized_units)?;
                    validate::add_to(&mut report.convictions, outcome.convictions.into())?;
                }
            }
        }
        for model in store::all_referrals(self.db()).await? {
            let body = store::decode_referral(&model)?;
            if within(body.receive_time.as_ref()) {
                report.referrals += 1;
            }
            for outcome in body.outcomes {
                if within(outcome.report_time.as_ref()) {
                    validate::add_to(&mut report.arrests, outcome.arrests.into())?;
                    validate::add_to(&mut report.seized_units, outcome.seized_units)?;
                    validate::add_to(&mut report.convictions, outcome.convictions.into())?;
                }
            }
        }
        let rows = |tallies: BTreeMap<String, Tally>, prefix: &str| {
            tallies
                .into_iter()
                .map(|(key, t)| RequestCount {
                    key: key.strip_prefix(prefix).unwrap_or(&key).to_owned(),
                    requests: t.requests,
                    accounts_specified: t.accounts.len() as i64,
                    with_data_produced: t.produced,
                })
                .collect()
        };
        report.by_process = rows(by_process, "LEGAL_PROCESS_");
        report.by_country = rows(by_country, "");
        report.accounts_specified = accounts.len() as i64;
        report.share_with_data_produced = if decided == 0 {
            0.0
        } else {
            produced as f64 / decided as f64
        };
        Ok(report)
    }

    async fn list_audit_entries(
        &self,
        req: ListAuditEntriesRequest,
    ) -> ApiResult<ListAuditEntriesResponse> {
        let size = page_size(req.page_size)?;
        let resource = (!req.resource.is_empty()).then_some(req.resource.as_str());
        let scope = format!("ListAuditEntries|{resource:?}");
        let after = self
            .inner
            .page_tokens
            .decode(&scope, &req.page_token)?
            .map(|c| c.parse::<i64>())
            .transpose()
            .map_err(|_| ApiError::invalid("page_token", "is not a token of this request"))?;
        let rows = audit::list(self.db(), resource, after, size + 1).await?;
        let (rows, next_page_token) = self
            .inner
            .page_tokens
            .page(&scope, rows, size, |e| e.sequence.to_string());
        Ok(ListAuditEntriesResponse {
            entries: rows
                .into_iter()
                .map(|e| AuditEntry {
                    sequence: e.sequence,
                    time: Some(time::to_timestamp(e.time)),
                    actor: e.actor,
                    action: e.action,
                    resource: e.resource,
                    outcome: e.outcome,
                    detail: e.detail,
                    previous_hash: e.previous_hash,
                    hash: e.hash,
                })
                .collect(),
            next_page_token,
        })
    }

    async fn verify_audit_log(&self) -> ApiResult<VerifyAuditLogResponse> {
        let result = self.inner.audit.verify(self.db()).await?;
        let (first_broken_sequence, problem) = result.broken.clone().unwrap_or_default();
        if result.broken.is_some() {
            tracing::error!(first_broken_sequence, %problem, "the audit log does not verify");
        }
        Ok(VerifyAuditLogResponse {
            valid: result.broken.is_none(),
            entries_checked: result.checked,
            first_broken_sequence,
            problem,
        })
    }
}

/// Raises a deadline warning, once per request, for requests about to breach or past due:
/// an audit entry and an error-level log line for the on-call.
/// What the deadline watcher reports.
struct DeadlineMetrics {
    overdue: opentelemetry::metrics::Gauge<u64>,
    escalated: opentelemetry::metrics::Counter<u64>,
}

fn deadline_metrics() -> &'static DeadlineMetrics {
    static METRICS: OnceLock<DeadlineMetrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let meter = assay_common::metrics::meter();
        DeadlineMetrics {
            overdue: meter
                .u64_gauge("assay.lawenforcement.requests.overdue")
                .with_description("Requests still owed to an agency after their legal deadline")
                .build(),
            escalated: meter
                .u64_counter("assay.lawenforcement.deadlines.escalated")
                .with_description("Deadlines raised, as due soon or overdue")
                .build(),
        }
    })
}

/// Escalates legal deadlines and deletes expired packages, every `interval`.
pub async fn watch_deadlines_forever(
    db: DatabaseConnection,
    audit: Audit,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        if let Err(error) = escalate_deadlines(&db, &audit).await {
            tracing::warn!(%error, "checking legal deadlines failed; will retry");
        }
        match store::count_overdue(&db, time::now()).await {
            Ok(overdue) => deadline_metrics().overdue.record(overdue, &[]),
            Err(error) => tracing::warn!(%error, "counting overdue requests failed"),
        }
        if let Err(error) = delete_expired_packages(&db, &audit).await {
            tracing::warn!(%error, "deleting expired packages failed; will retry");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(interval) => {}
        }
    }
}

/// Raises each owed request once when its deadline is near and once more when it passed:
/// in the audit log, and as an error log for whoever watches them.
async fn escalate_deadlines(db: &DatabaseConnection, audit: &Audit) -> ApiResult<()> {
    const BATCH: u64 = 500;
    let now = time::now();
    // The warning window is at most two days.
    let horizon = now + chrono::Duration::days(2);
    loop {
        let batch = store::to_escalate(db, horizon, now, BATCH).await?;
        let mut raised = 0u64;
        for model in &batch {
            let urgency = domain::urgency(true, model.create_time, model.due_time, now);
            let breached = match urgency {
                Urgency::Overdue => true,
                Urgency::DueSoon if model.escalate_time.is_none() => false,
                _ => continue,
            };
            let txn = db.begin().await?;
            if store::mark_escalated(&txn, &model.id, breached, now).await? {
                let word = if breached { "overdue" } else { "due soon" };
                audit
                    .append(
                        &txn,
                        Entry {
                            actor: "system:deadlines",
                            action: "request.deadline",
                            resource: &model.id,
                            outcome: word,
                            detail: &format!("due {}", model.due_time),
                        },
                    )
                    .await?;
                tracing::error!(request = model.id, due = %model.due_time, "legal deadline {word}");
                deadline_metrics()
                    .escalated
                    .add(1, &[opentelemetry::KeyValue::new("urgency", word)]);
                raised += 1;
            }
            txn.commit().await?;
        }
        // What was raised leaves the candidates; stop when a batch raised nothing.
        if (batch.len() as u64) < BATCH || raised == 0 {
            return Ok(());
        }
    }
}

/// Deletes the files of packages past their expiry; the manifest and hashes stay on the
/// request, as the record of what was disclosed.
async fn delete_expired_packages(db: &DatabaseConnection, audit: &Audit) -> ApiResult<()> {
    let now = time::now();
    for request_id in store::expired_packages(db, now, 500).await? {
        let txn = db.begin().await?;
        let deleted = store::delete_package_files(&txn, &request_id).await?;
        if let Some(model) = store::find_request(&txn, &request_id).await? {
            let mut body = store::decode_request(&model)?;
            if let Some(package) = body.package.as_mut() {
                package.delete_time = Some(time::to_timestamp(now));
            }
            store::save_request(&txn, &model, &body).await?;
        }
        audit
            .append(
                &txn,
                Entry {
                    actor: "system:retention",
                    action: "package.delete",
                    resource: &request_id,
                    outcome: "ok",
                    detail: &format!("{deleted} files of the expired package deleted"),
                },
            )
            .await?;
        txn.commit().await?;
        tracing::info!(
            request = request_id,
            files = deleted,
            "expired package deleted"
        );
    }
    Ok(())
}

assay_common::rpcs! {
    impl LawEnforcementService for LawEnforcementApi (self) {
        create_agency(CreateAgencyRequest) -> CreateAgencyResponse =
            |p, req| self.create_agency(&p, req), |a| CreateAgencyResponse { agency: Some(a) };
        get_agency(GetAgencyRequest) -> GetAgencyResponse =
            |p, req| self.get_agency(&p, req), |a| GetAgencyResponse { agency: Some(a) };
        list_agencies(ListAgenciesRequest) -> ListAgenciesResponse =
            |p, req| self.list_agencies(&p, req);
        update_agency(UpdateAgencyRequest) -> UpdateAgencyResponse =
            |p, req| self.update_agency(&p, req), |a| UpdateAgencyResponse { agency: Some(a) };
        activate_agency(ActivateAgencyRequest) -> ActivateAgencyResponse =
            |p, req| self.set_agency_status(&p, &req.id, &req.etag, AgencyStatus::Active, ""),
            |a| ActivateAgencyResponse { agency: Some(a) };
        submit_request(SubmitRequestRequest) -> SubmitRequestResponse =
            |p, req| self.submit_request(&p, req),
            |r| SubmitRequestResponse { legal_request: Some(r) };
        get_request(GetRequestRequest) -> GetRequestResponse =
            |p, req| self.get_request(&p, req), |r| GetRequestResponse { legal_request: Some(r) };
        list_requests(ListRequestsRequest) -> ListRequestsResponse =
            |p, req| self.list_requests(&p, req);
        start_verification(StartVerificationRequest) -> StartVerificationResponse =
            |p, req| self.start_verification(&p, req),
            |r| StartVerificationResponse { legal_request: Some(r) };
        complete_verification(CompleteVerificationRequest) -> CompleteVerificationResponse =
            |p, req| self.complete_verification(&p, req),
            |r| CompleteVerificationResponse { legal_request: Some(r) };
        confirm_emergency(ConfirmEmergencyRequest) -> ConfirmEmergencyResponse =
            |p, req| self.confirm_emergency(&p, req),
            |r| ConfirmEmergencyResponse { legal_request: Some(r) };
        review_request(ReviewRequestRequest) -> ReviewRequestResponse =
            |p, req| self.review_request(&p, req),
            |r| ReviewRequestResponse { legal_request: Some(r) };
        gather_request(GatherRequestRequest) -> GatherRequestResponse =
            |p, req| self.gather_request(&p, req),
            |r| GatherRequestResponse { legal_request: Some(r) };
        disclose_request(DiscloseRequestRequest) -> DiscloseRequestResponse =
            |p, req| self.disclose_request(&p, req),
            |r| DiscloseRequestResponse { legal_request: Some(r) };
        download_package(DownloadPackageRequest) -> DownloadPackageResponse =
            |p, req| self.download_package(&p, req);
        close_request(CloseRequestRequest) -> CloseRequestResponse =
            |p, req| self.close_request(&p, req),
            |r| CloseRequestResponse { legal_request: Some(r) };
        extend_non_disclosure(ExtendNonDisclosureRequest) -> ExtendNonDisclosureResponse =
            |p, req| self.extend_non_disclosure(&p, req),
            |r| ExtendNonDisclosureResponse { legal_request: Some(r) };
        report_request_outcome(ReportRequestOutcomeRequest) -> ReportRequestOutcomeResponse =
            |p, req| self.report_request_outcome(&p, req),
            |r| ReportRequestOutcomeResponse { legal_request: Some(r) };
        list_deadlines(ListDeadlinesRequest) -> ListDeadlinesResponse =
            |p, req| self.list_deadlines(&p, req);
        list_holds(ListHoldsRequest) -> ListHoldsResponse = |p, req| self.list_holds(&p, req);
        extend_hold(ExtendHoldRequest) -> ExtendHoldResponse =
            |p, req| self.extend_hold(&p, req), |h| ExtendHoldResponse { hold: Some(h) };
        check_holds(CheckHoldsRequest) -> CheckHoldsResponse = |p, req| self.check_holds(&p, req);
        receive_referral(ReceiveReferralRequest) -> ReceiveReferralResponse =
            |p, req| self.receive_referral(&p, req);
        get_referral(GetReferralRequest) -> GetReferralResponse =
            |p, req| self.get_referral(&p, req), |r| GetReferralResponse { referral: Some(r) };
        list_referrals(ListReferralsRequest) -> ListReferralsResponse =
            |p, req| self.list_referrals(&p, req);
        acknowledge_referral(AcknowledgeReferralRequest) -> AcknowledgeReferralResponse =
            |p, req| self.acknowledge_referral(&p, req),
            |r| AcknowledgeReferralResponse { referral: Some(r) };
        report_referral_outcome(ReportReferralOutcomeRequest) -> ReportReferralOutcomeResponse =
            |p, req| self.report_referral_outcome(&p, req),
            |r| ReportReferralOutcomeResponse { referral: Some(r) };
        get_transparency_report(GetTransparencyReportRequest) -> GetTransparencyReportResponse =
            |_, req| self.get_transparency_report(req);
        list_audit_entries(ListAuditEntriesRequest) -> ListAuditEntriesResponse =
            |_, req| self.list_audit_entries(req);
        verify_audit_log(VerifyAuditLogRequest) -> VerifyAuditLogResponse =
            |_, _req| self.verify_audit_log();
    }
    {
        async fn suspend_agency(
            &self,
            request: Request<SuspendAgencyRequest>,
        ) -> Result<Response<SuspendAgencyResponse>, Status> {
            let principal = auth::principal(&request)?;
            let req = request.into_inner();
            let reason = validate::text(&req.reason, 2000)
                .map_err(|e| Status::from(ApiError::invalid("reason", e)))?;
            let agency = self
                .set_agency_status(
                    &principal,
                    &req.id,
                    &req.etag,
                    AgencyStatus::Suspended,
                    &reason,
                )
                .await?;
            Ok(Response::new(SuspendAgencyResponse {
                agency: Some(agency),
            }))
        }
    }
}
