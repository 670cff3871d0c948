//! `assay admin`: operate a running Assay over gRPC, as any client would — with a bearer
//! token, through the same authorisation as every other caller. Members and agencies, an
//! import of brands and their trade marks from a spreadsheet ([`import`]), the programme's
//! figures and reports ([`report`]), the audit chain, and health (for a container without a
//! shell); any answer printed as a table, CSV or JSON ([`print`]).

mod import;
mod print;
mod report;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use assay_common::client::{self, PeerChannel, ServiceCredentials};
use assay_common::language::{self, Language};
use assay_proto::cases::v1 as cases;
use assay_proto::common::v1::Contact;
use assay_proto::lawenforcement::v1 as le;
use assay_proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_proto::registry::v1 as registry;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};

use crate::AppConfig;
use import::Import;
use print::{emit, print_message, print_rows};
pub(crate) use report::print_report;
use report::{figures, report, transparency_report};

/// Every item of a paged list RPC, page after page: `every!(client.list_brands(request) =>
/// brands)`, where `request` holds the filters and `brands` names the items of a page.
macro_rules! every {
    ($client:ident . $rpc:ident ($request:expr) => $items:ident) => {{
        let filters = $request;
        all_pages(|page_token| {
            let mut client = $client.clone();
            let mut request = filters.clone();
            request.page_size = 1000;
            request.page_token = page_token;
            async move {
                let page = client.$rpc(request).await?.into_inner();
                Ok((page.$items, page.next_page_token))
            }
        })
        .await?
    }};
}

#[derive(Args)]
pub struct Admin {
    /// The server to call [default: the configured listen address; env ASSAY_ADMIN_SERVER].
    #[arg(long, env = "ASSAY_ADMIN_SERVER")]
    server: Option<String>,
    /// A bearer token [env ASSAY_ADMIN_TOKEN]; without one, --token-file, else the
    /// bootstrap token in the data directory.
    #[arg(long, env = "ASSAY_ADMIN_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// A file holding the bearer token.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// How to print what comes back.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// The language of reports and of what the services explain: en or zh-Hans [default:
    /// the locale's (LANG), else English; env ASSAY_LANGUAGE].
    #[arg(long, env = "ASSAY_LANGUAGE", value_parser = parse_language)]
    language: Option<Language>,
    #[command(subcommand)]
    command: AdminCommand,
}

/// A language Assay writes, by its tag: `en`, `zh-Hans`, `zh-CN`, `zh`.
pub(crate) fn parse_language(tag: &str) -> Result<Language, String> {
    Language::of_tag(tag).ok_or_else(|| {
        format!("Assay writes English (en) and Simplified Chinese (zh-Hans), not {tag:?}")
    })
}

/// How an answer is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Whether each service (default: all four) is SERVING; fails if one is not, so it
    /// serves as a container health check.
    Health {
        /// registry, screening, cases, lawenforcement.
        services: Vec<String>,
    },
    /// Members of the alliance.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Law-enforcement agencies that may send requests and receive referrals.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Brands, to find the ids an import of rights or sellers names.
    #[command(subcommand)]
    Brand(BrandCommand),
    /// IP rights and their verification.
    #[command(subcommand)]
    Right(RightCommand),
    /// Brands and their trade marks from a CSV file (see `assay admin import brands -h`).
    #[command(subcommand)]
    Import(ImportCommand),
    /// The programme's figures: the alliance's today, and enforcement's all time.
    Figures,
    /// The programme's report for a period of days (a programme year runs from any day to
    /// any day): the alliance at its end, proactive removals, notices and their outcomes,
    /// referrals and their arrests, and requests answered and their arrests, kept apart.
    Report {
        /// The first day, e.g. 2025-07-01.
        #[arg(long)]
        from: NaiveDate,
        /// The last day, included, e.g. 2026-06-30.
        #[arg(long)]
        until: NaiveDate,
    },
    /// The law-enforcement transparency report for a period of days.
    TransparencyReport {
        /// The first day, e.g. 2026-01-01.
        #[arg(long)]
        from: NaiveDate,
        /// The last day, included.
        #[arg(long)]
        until: NaiveDate,
    },
    /// The law-enforcement audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Subcommand)]
enum MemberCommand {
    /// Apply a member (and, with --activate, admit it at once); prints it.
    Create {
        /// The registered legal name.
        #[arg(long)]
        name: String,
        /// brand-owner, licensee or industry-association.
        #[arg(long, default_value = "brand-owner")]
        kind: String,
        /// ISO 3166-1 alpha-2 country code.
        #[arg(long)]
        country: String,
        /// The IP contact's email address.
        #[arg(long)]
        email: String,
        /// Admit the member at once.
        #[arg(long)]
        activate: bool,
    },
    /// Admit an applied member.
    Activate {
        id: String,
        /// Why, for the record.
        #[arg(long, default_value = "admitted")]
        reason: String,
    },
    /// Every member.
    List,
}

#[derive(Subcommand)]
enum BrandCommand {
    /// Every brand, or a member's.
    List {
        #[arg(long)]
        member: Option<String>,
    },
}

#[derive(Subcommand)]
enum RightCommand {
    /// Every IP right, or a brand's or member's.
    List {
        #[arg(long)]
        brand: Option<String>,
        #[arg(long)]
        member: Option<String>,
    },
}

#[derive(Subcommand)]
enum AgencyCommand {
    /// Register an agency (and, with --activate, let it in at once); prints it.
    Create {
        /// Its name.
        #[arg(long)]
        name: String,
        /// ISO 3166-1 alpha-2 country code.
        #[arg(long)]
        country: String,
        /// federal, state, local or international.
        #[arg(long, default_value = "federal")]
        level: String,
        /// An email domain its officers write from (repeatable).
        #[arg(long = "domain", required = true)]
        domains: Vec<String>,
        /// The duty contact's email address.
        #[arg(long)]
        email: String,
        /// Activate it at once.
        #[arg(long)]
        activate: bool,
    },
    /// Every agency.
    List,
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Brands from a CSV file with a header row. Columns: `name` (required), `member_id`
    /// (unless --member), `aliases`, `categories`, `authorized_sellers` (each `;`-separated),
    /// `reference_prices` (`handbags=EUR 1200;shoes=EUR 650`), and for a trade mark:
    /// `registration_number`, `office` (EUIPO, USPTO, CNIPA, WIPO, UKIPO, OTHER),
    /// `nice_classes` (`18;25`), `valid_from`, `valid_until` (YYYY-MM-DD), `mark_text`.
    Brands {
        #[command(flatten)]
        file: ImportFile,
        /// The member every row belongs to (else the `member_id` column).
        #[arg(long)]
        member: Option<String>,
        /// Verify each trade mark as it is imported (staff who checked the registrations).
        #[arg(long)]
        verify: bool,
    },
    /// IP rights of existing brands from a CSV file with a header row. Columns: `brand_id`
    /// and `registration_number` (required), `kind` (TRADEMARK, the default, DESIGN_PATENT,
    /// UTILITY_PATENT, COPYRIGHT), `office`, `nice_classes`, `valid_from`, `valid_until`,
    /// `mark_text`, as for brands.
    Rights {
        #[command(flatten)]
        file: ImportFile,
        /// Verify each right as it is imported (staff who checked the registrations).
        #[arg(long)]
        verify: bool,
    },
    /// Authorised sellers of existing brands from a CSV file with the columns `brand_id`
    /// and `seller_id`, a row a seller. Sellers a brand has already are kept; those in the
    /// file are added.
    Sellers {
        #[command(flatten)]
        file: ImportFile,
    },
}

/// The file of an import and how it is sent. The same file imports the same way again:
/// a rerun skips what was imported and retries the rest. Rows the server refuses are
/// written with the reason to a CSV beside the file.
#[derive(clap::Args)]
struct ImportFile {
    file: PathBuf,
    /// Rows in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Where refused rows go [default: <file>.rejected.csv].
    #[arg(long)]
    rejected: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain of every entry; fails if it is broken.
    Verify,
}

pub async fn run(admin: Admin, config: &AppConfig) -> anyhow::Result<()> {
    let server = admin.server.clone().unwrap_or_else(|| {
        let mut at = config.listen;
        if at.ip().is_unspecified() {
            at.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        let scheme = if config.server.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{at}")
    });
    let tls = config
        .auth
        .peer_tls
        .as_ref()
        .filter(|_| server.starts_with("https:"))
        .map(assay_common::tls::client_config)
        .transpose()?;
    let token = token(&admin, config)?;
    let credentials = match token {
        Some(token) => ServiceCredentials::fixed(token),
        None => ServiceCredentials::none(),
    }
    .with_tls(tls);
    let channel = client::connect(&server, credentials)?;
    let format = admin.format;
    let language = admin.language.unwrap_or_else(Language::of_locale);
    // The services answer in the language too: the channel says so on every call.
    language::speaking(language, command(channel, format, admin.command)).await
}

async fn command(
    channel: PeerChannel,
    format: Format,
    command: AdminCommand,
) -> anyhow::Result<()> {
    match command {
        AdminCommand::Health { services } => health(channel, &services).await,
        AdminCommand::Member(command) => member(channel, format, command).await,
        AdminCommand::Agency(command) => agency(channel, format, command).await,
        AdminCommand::Brand(BrandCommand::List { member }) => {
            brands(channel, format, member.unwrap_or_default()).await
        }
        AdminCommand::Right(RightCommand::List { brand, member }) => {
            rights(
                channel,
                format,
                brand.unwrap_or_default(),
                member.unwrap_or_default(),
            )
            .await
        }
        AdminCommand::Import(command) => {
            let (kind, file, member, verify) = match command {
                ImportCommand::Brands {
                    file,
                    member,
                    verify,
                } => (import::Kind::Brands, file, member, verify),
                ImportCommand::Rights { file, verify } => {
                    (import::Kind::Rights, file, None, verify)
                }
                ImportCommand::Sellers { file } => (import::Kind::Sellers, file, None, false),
            };
            let rejected = file
                .rejected
                .unwrap_or_else(|| file.file.with_extension("rejected.csv"));
            let options = Import {
                member,
                verify,
                concurrency: file.concurrency.into(),
            };
            import::import(kind, channel, &file.file, &rejected, &options).await
        }
        AdminCommand::Figures => figures(channel, format).await,
        AdminCommand::Report { from, until } => report(channel, format, from, until).await,
        AdminCommand::TransparencyReport { from, until } => {
            transparency_report(channel, format, from, until).await
        }
        AdminCommand::Audit(AuditCommand::Verify) => audit_verify(channel, format).await,
    }
}

fn token(admin: &Admin, config: &AppConfig) -> anyhow::Result<Option<String>> {
    if let Some(token) = &admin.token {
        return Ok(Some(token.trim().to_owned()));
    }
    let file = admin.token_file.clone().or_else(|| {
        let bootstrap = config.platform().data_file("bootstrap-token");
        bootstrap.exists().then_some(bootstrap)
    });
    match file {
        Some(file) => {
            let token = std::fs::read_to_string(&file)
                .with_context(|| format!("reading the token in {}", file.display()))?;
            Ok(Some(token.trim().to_owned()))
        }
        None => Ok(None),
    }
}

fn status(error: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("{:?}: {}", error.code(), error.message())
}

async fn health(channel: PeerChannel, services: &[String]) -> anyhow::Result<()> {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let names = crate::select(services).map_err(anyhow::Error::msg)?;
    let mut client = HealthClient::new(channel);
    let mut down = Vec::new();
    for name in names {
        let service = match name {
            crate::ServiceName::Registry => registry::registry_service_server::SERVICE_NAME,
            crate::ServiceName::Screening => {
                assay_proto::screening::v1::screening_service_server::SERVICE_NAME
            }
            crate::ServiceName::Cases => cases::cases_service_server::SERVICE_NAME,
            crate::ServiceName::LawEnforcement => le::law_enforcement_service_server::SERVICE_NAME,
        };
        let answer = tokio::time::timeout(
            Duration::from_secs(5),
            client.check(HealthCheckRequest {
                service: service.to_owned(),
            }),
        )
        .await;
        let said = match answer {
            Ok(Ok(answer)) => answer.into_inner().status().as_str_name().to_owned(),
            Ok(Err(error)) => format!("{:?}: {}", error.code(), error.message()),
            Err(_) => "no answer within 5 s".to_owned(),
        };
        emit(&format!("{:<16} {said}\n", name.as_str()))?;
        if said != ServingStatus::Serving.as_str_name() {
            down.push(name.as_str());
        }
    }
    if !down.is_empty() {
        bail!("not serving: {}", down.join(", "));
    }
    Ok(())
}

async fn member(
    channel: PeerChannel,
    format: Format,
    command: MemberCommand,
) -> anyhow::Result<()> {
    let mut client = RegistryServiceClient::new(channel);
    match command {
        MemberCommand::Create {
            name,
            kind,
            country,
            email,
            activate,
        } => {
            let kind = enum_value(&kind, "MEMBER_KIND_", registry::MemberKind::from_str_name)
                .with_context(|| format!("--kind {kind:?}"))?;
            let mut member = client
                .create_member(registry::CreateMemberRequest {
                    member: Some(registry::Member {
                        legal_name: name,
                        kind: kind as i32,
                        country_code: country,
                        contacts: vec![Contact {
                            name: "IP contact".to_owned(),
                            email,
                            ..Contact::default()
                        }],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map_err(status)?
                .into_inner()
                .member
                .unwrap_or_default();
            if activate {
                member = activate_member(&mut client, &member.id, "admitted").await?;
            }
            print_message(format, "assay.registry.v1.Member", &member)
        }
        MemberCommand::Activate { id, reason } => {
            let member = activate_member(&mut client, &id, &reason).await?;
            print_message(format, "assay.registry.v1.Member", &member)
        }
        MemberCommand::List => {
            let members =
                every!(client.list_members(registry::ListMembersRequest::default()) => members);
            print_rows(
                format,
                "assay.registry.v1.Member",
                &members,
                &["id", "legal_name", "kind", "status", "country_code"],
            )
        }
    }
}

async fn brands(channel: PeerChannel, format: Format, member_id: String) -> anyhow::Result<()> {
    let client = RegistryServiceClient::new(channel);
    let brands = every!(client.list_brands(registry::ListBrandsRequest {
        member_id,
        ..Default::default()
    }) => brands);
    print_rows(
        format,
        "assay.registry.v1.Brand",
        &brands,
        &["id", "name", "member_id", "protected"],
    )
}

async fn rights(
    channel: PeerChannel,
    format: Format,
    brand_id: String,
    member_id: String,
) -> anyhow::Result<()> {
    let client = RegistryServiceClient::new(channel);
    let rights = every!(client.list_ip_rights(registry::ListIpRightsRequest {
        brand_id,
        member_id,
        ..Default::default()
    }) => ip_rights);
    print_rows(
        format,
        "assay.registry.v1.IpRight",
        &rights,
        &[
            "id",
            "brand_id",
            "kind",
            "office",
            "registration_number",
            "verification_status",
        ],
    )
}

async fn agency(
    channel: PeerChannel,
    format: Format,
    command: AgencyCommand,
) -> anyhow::Result<()> {
    let mut client = LawEnforcementServiceClient::new(channel);
    match command {
        AgencyCommand::Create {
            name,
            country,
            level,
            domains,
            email,
            activate,
        } => {
            let level = enum_value(&level, "AGENCY_LEVEL_", le::AgencyLevel::from_str_name)
                .with_context(|| format!("--level {level:?}"))?;
            let mut agency = client
                .create_agency(le::CreateAgencyRequest {
                    agency: Some(le::Agency {
                        name,
                        country_code: country,
                        level: level as i32,
                        verified_email_domains: domains,
                        contacts: vec![Contact {
                            name: "Duty officer".to_owned(),
                            email,
                            ..Contact::default()
                        }],
                        ..Default::default()
                    }),
                    request_id: String::new(),
                })
                .await
                .map_err(status)?
                .into_inner()
                .agency
                .unwrap_or_default();
            if activate {
                agency = client
                    .activate_agency(le::ActivateAgencyRequest {
                        id: agency.id.clone(),
                        etag: String::new(),
                    })
                    .await
                    .map_err(status)?
                    .into_inner()
                    .agency
                    .unwrap_or_default();
            }
            print_message(format, "assay.lawenforcement.v1.Agency", &agency)
        }
        AgencyCommand::List => {
            let agencies =
                every!(client.list_agencies(le::ListAgenciesRequest::default()) => agencies);
            print_rows(
                format,
                "assay.lawenforcement.v1.Agency",
                &agencies,
                &["id", "name", "country_code", "level", "status"],
            )
        }
    }
}

/// Every item of a paged list: `page` fetches the page at a token, with the next token
/// ("" after the last).
async fn all_pages<T, F, R>(mut page: F) -> anyhow::Result<Vec<T>>
where
    F: FnMut(String) -> R,
    R: Future<Output = Result<(Vec<T>, String), tonic::Status>>,
{
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = page(token).await.map_err(status)?;
        all.extend(items);
        if next.is_empty() {
            return Ok(all);
        }
        token = next;
    }
}

async fn activate_member(
    client: &mut RegistryServiceClient<PeerChannel>,
    id: &str,
    reason: &str,
) -> anyhow::Result<registry::Member> {
    Ok(client
        .activate_member(registry::ActivateMemberRequest {
            id: id.to_owned(),
            etag: String::new(),
            reason: reason.to_owned(),
        })
        .await
        .map_err(status)?
        .into_inner()
        .member
        .unwrap_or_default())
}

/// An enum value from its short or full name, in any case: `euipo`, `IP_OFFICE_EUIPO`.
fn enum_value<E>(text: &str, prefix: &str, from: fn(&str) -> Option<E>) -> anyhow::Result<E> {
    let upper = text.trim().to_uppercase().replace('-', "_");
    from(&upper)
        .or_else(|| from(&format!("{prefix}{upper}")))
        .filter(|_| !upper.is_empty() && !upper.ends_with("UNSPECIFIED"))
        .ok_or_else(|| anyhow::anyhow!("unknown value {text:?}"))
}

async fn audit_verify(channel: PeerChannel, format: Format) -> anyhow::Result<()> {
    let verdict = LawEnforcementServiceClient::new(channel)
        .verify_audit_log(le::VerifyAuditLogRequest {})
        .await
        .map_err(status)?
        .into_inner();
    print_message(
        format,
        "assay.lawenforcement.v1.VerifyAuditLogResponse",
        &verdict,
    )?;
    if verdict.valid {
        Ok(())
    } else {
        bail!(
            "the audit log is broken at entry {}: {}",
            verdict.first_broken_sequence,
            verdict.problem
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_values_by_short_or_full_name() {
        let office = |s| enum_value(s, "IP_OFFICE_", registry::IpOffice::from_str_name);
        assert_eq!(office("euipo").unwrap(), registry::IpOffice::Euipo);
        assert_eq!(
            office("IP_OFFICE_USPTO").unwrap(),
            registry::IpOffice::Uspto
        );
        assert!(office("unspecified").is_err());
        assert!(office("").is_err());
        assert!(office("moon").is_err());
        let kind = |s| enum_value(s, "MEMBER_KIND_", registry::MemberKind::from_str_name);
        assert_eq!(
            kind("industry-association").unwrap(),
            registry::MemberKind::IndustryAssociation
        );
    }
}
