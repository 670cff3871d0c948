//! `assay admin`: operate a running Assay over gRPC, as any client would — with a bearer
//! token, through the same authorisation as every other caller. Members, an import of
//! brands and their trade marks from a spreadsheet, the programme's figures, the
//! transparency report, the audit chain, and health (for a container without a shell).

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use assay_common::client::{self, PeerChannel, ServiceCredentials};
use assay_proto::cases::v1 as cases;
use assay_proto::cases::v1::cases_service_client::CasesServiceClient;
use assay_proto::common::v1::{Contact, Date, Money, TimeRange};
use assay_proto::lawenforcement::v1 as le;
use assay_proto::lawenforcement::v1::law_enforcement_service_client::LawEnforcementServiceClient;
use assay_proto::registry::v1 as registry;
use assay_proto::registry::v1::registry_service_client::RegistryServiceClient;
use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};
use futures::StreamExt;
use prost_reflect::{DescriptorPool, DynamicMessage, ReflectMessage, SerializeOptions, Value};
use sha2::{Digest, Sha256};

use crate::AppConfig;

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
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
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
    /// Brands and their trade marks from a CSV file (see `assay admin import brands -h`).
    #[command(subcommand)]
    Import(ImportCommand),
    /// The programme's figures: the alliance's today, and enforcement's all time.
    Figures,
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
    ///
    /// Each row is sent with a request id made from its content, so running the same file
    /// again skips what was imported and retries the rest. Rows the server refuses are
    /// written with the reason to a CSV beside the file.
    Brands {
        file: PathBuf,
        /// The member every row belongs to (else the `member_id` column).
        #[arg(long)]
        member: Option<String>,
        /// Verify each trade mark as it is imported (staff who checked the registrations).
        #[arg(long)]
        verify: bool,
        /// Rows in flight at once.
        #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
        concurrency: u16,
        /// Where refused rows go [default: <file>.rejected.csv].
        #[arg(long)]
        rejected: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain of every entry; fails if it is broken.
    Verify,
}

/// The most rows one import takes; a larger spreadsheet is split.
const MAX_ROWS: usize = 1_000_000;

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
    match admin.command {
        AdminCommand::Health { services } => health(channel, &services).await,
        AdminCommand::Member(command) => member(channel, format, command).await,
        AdminCommand::Agency(command) => agency(channel, format, command).await,
        AdminCommand::Import(ImportCommand::Brands {
            file,
            member,
            verify,
            concurrency,
            rejected,
        }) => {
            let rejected = rejected.unwrap_or_else(|| file.with_extension("rejected.csv"));
            let options = Import {
                member,
                verify,
                concurrency: concurrency.into(),
            };
            import_brands(channel, &file, &rejected, &options).await
        }
        AdminCommand::Figures => figures(channel, format).await,
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
            let mut members = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = client
                    .list_members(registry::ListMembersRequest {
                        page_size: 1000,
                        page_token,
                        ..Default::default()
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                members.extend(page.members);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            print_rows(
                format,
                "assay.registry.v1.Member",
                &members,
                &["id", "legal_name", "kind", "status", "country_code"],
            )
        }
    }
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
            let mut agencies = Vec::new();
            let mut page_token = String::new();
            loop {
                let page = client
                    .list_agencies(le::ListAgenciesRequest {
                        page_size: 1000,
                        page_token,
                        ..Default::default()
                    })
                    .await
                    .map_err(status)?
                    .into_inner();
                agencies.extend(page.agencies);
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            print_rows(
                format,
                "assay.lawenforcement.v1.Agency",
                &agencies,
                &["id", "name", "country_code", "level", "status"],
            )
        }
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

/// What an import does with each row.
struct Import {
    member: Option<String>,
    verify: bool,
    concurrency: usize,
}

/// A row of the brands file, as the server will be asked to record it.
struct BrandRow {
    line: u64,
    name: String,
    brand: registry::Brand,
    right: Option<registry::IpRight>,
    /// Identifies the row's content, for its request ids.
    digest: String,
}

/// How a row ended.
enum Outcome {
    Imported,
    Rejected {
        line: u64,
        name: String,
        reason: String,
    },
}

async fn import_brands(
    channel: PeerChannel,
    file: &Path,
    rejected_path: &Path,
    options: &Import,
) -> anyhow::Result<()> {
    let rows = read_brand_rows(file, options.member.as_deref())?;
    let total = rows.len() as u64;
    let progress =
        indicatif::ProgressBar::new(total).with_style(indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} rows  {per_sec}  {eta} left  {msg}",
        )?);
    let client = RegistryServiceClient::new(channel);
    let mut outcomes = futures::stream::iter(rows)
        .map(|row| {
            let client = &client;
            async move {
                match row {
                    Ok(row) => import_row(client, row, options.verify).await,
                    Err(rejected) => rejected,
                }
            }
        })
        .buffer_unordered(options.concurrency);
    let (mut imported, mut rejected) = (0u64, Vec::new());
    while let Some(outcome) = outcomes.next().await {
        match outcome {
            Outcome::Imported => imported += 1,
            Outcome::Rejected { line, name, reason } => {
                rejected.push((line, name, reason));
                progress.set_message(format!("{} refused", rejected.len()));
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    rejected.sort();
    if rejected.is_empty() {
        let _ = std::fs::remove_file(rejected_path);
    } else {
        let mut out = csv::Writer::from_path(rejected_path)
            .with_context(|| format!("writing {}", rejected_path.display()))?;
        out.write_record(["line", "name", "reason"])?;
        for (line, name, reason) in &rejected {
            out.write_record([line.to_string().as_str(), name, reason])?;
        }
        out.flush()?;
    }
    emit(&format!(
        "{total} rows: {imported} imported (or already there), {} refused{}\n",
        rejected.len(),
        if rejected.is_empty() {
            String::new()
        } else {
            format!(", with the reasons in {}", rejected_path.display())
        }
    ))?;
    if rejected.is_empty() {
        Ok(())
    } else {
        bail!("{} rows were refused", rejected.len())
    }
}

/// Every row of the file, each either ready to send or refused with its reason.
fn read_brand_rows(
    file: &Path,
    member: Option<&str>,
) -> anyhow::Result<Vec<Result<BrandRow, Outcome>>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_path(file)
        .with_context(|| format!("reading {}", file.display()))?;
    let headers = reader.headers()?.clone();
    const KNOWN: [&str; 12] = [
        "name",
        "member_id",
        "aliases",
        "categories",
        "authorized_sellers",
        "reference_prices",
        "registration_number",
        "office",
        "nice_classes",
        "valid_from",
        "valid_until",
        "mark_text",
    ];
    if let Some(unknown) = headers.iter().find(|h| !KNOWN.contains(h)) {
        bail!(
            "{}: unknown column {unknown:?}; the columns are {}",
            file.display(),
            KNOWN.join(", ")
        );
    }
    if !headers.iter().any(|h| h == "name") {
        bail!("{}: the header has no `name` column", file.display());
    }
    if member.is_none() && !headers.iter().any(|h| h == "member_id") {
        bail!("{}: give --member or a `member_id` column", file.display());
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        if rows.len() == MAX_ROWS {
            bail!("{}: more than {MAX_ROWS} rows; split it", file.display());
        }
        let record = match record {
            Ok(record) => record,
            // A malformed row (a field too many, bytes not UTF-8) is that row's problem.
            Err(error) if error.position().is_some() => {
                rows.push(Err(Outcome::Rejected {
                    line: error.position().map_or(0, |p| p.line()),
                    name: String::new(),
                    reason: error.to_string(),
                }));
                continue;
            }
            Err(error) => return Err(error).with_context(|| format!("reading {}", file.display())),
        };
        let line = record.position().map_or(0, |p| p.line());
        let field = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .unwrap_or("")
        };
        let name = field("name").to_owned();
        rows.push(
            brand_row(&field, member)
                .map_err(|error| Outcome::Rejected {
                    line,
                    name: name.clone(),
                    reason: format!("{error:#}"),
                })
                .map(|(brand, right)| BrandRow {
                    line,
                    name,
                    brand,
                    right,
                    digest: row_digest(&record),
                }),
        );
    }
    Ok(rows)
}

/// A row's content, each field with its length, so that no two different rows agree.
fn row_digest(record: &csv::StringRecord) -> String {
    let mut hash = Sha256::new();
    for field in record {
        hash.update((field.len() as u64).to_le_bytes());
        hash.update(field.as_bytes());
    }
    hex::encode(hash.finalize())
}

fn brand_row<'a>(
    field: &impl Fn(&str) -> &'a str,
    member: Option<&str>,
) -> anyhow::Result<(registry::Brand, Option<registry::IpRight>)> {
    let list = |name: &str| -> Vec<String> {
        field(name)
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let member_id = match (member, field("member_id")) {
        (Some(member), "") => member.to_owned(),
        (Some(member), column) if column == member => member.to_owned(),
        (Some(_), column) => bail!("member_id {column:?} differs from --member"),
        (None, "") => bail!("member_id is empty"),
        (None, column) => column.to_owned(),
    };
    let reference_prices = list("reference_prices")
        .iter()
        .map(|pair| {
            let (category, price) = pair.split_once('=').with_context(|| {
                format!("reference_prices: {pair:?} is not category=CUR amount")
            })?;
            Ok(registry::ReferencePrice {
                category: category.trim().to_owned(),
                price: Some(money(price).with_context(|| format!("reference_prices: {pair:?}"))?),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let brand = registry::Brand {
        member_id,
        name: field("name").to_owned(),
        aliases: list("aliases"),
        categories: list("categories"),
        reference_prices,
        authorized_seller_ids: list("authorized_sellers"),
        ..Default::default()
    };
    let registration = field("registration_number");
    let right = if registration.is_empty() {
        None
    } else {
        let office = match field("office") {
            "" => bail!("office is empty, though registration_number is set"),
            office => enum_value(office, "IP_OFFICE_", registry::IpOffice::from_str_name)
                .context("office")?,
        };
        let nice_classes = list("nice_classes")
            .iter()
            .map(|c| {
                c.parse::<i32>()
                    .with_context(|| format!("nice_classes: {c:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Some(registry::IpRight {
            kind: registry::IpRightKind::Trademark as i32,
            office: office as i32,
            registration_number: registration.to_owned(),
            nice_classes,
            valid_from: date(field("valid_from")).context("valid_from")?,
            valid_until: date(field("valid_until")).context("valid_until")?,
            mark_text: field("mark_text").to_owned(),
            ..Default::default()
        })
    };
    Ok((brand, right))
}

/// `EUR 1200` or `EUR 1200.50`.
fn money(text: &str) -> anyhow::Result<Money> {
    let (currency, amount) = text
        .trim()
        .split_once(' ')
        .context("write a currency and an amount, e.g. EUR 1200")?;
    let (units, fraction) = amount.trim().split_once('.').unwrap_or((amount.trim(), ""));
    anyhow::ensure!(
        fraction.len() <= 9 && fraction.bytes().all(|b| b.is_ascii_digit()),
        "{amount:?} is not an amount"
    );
    let units: i64 = units
        .parse()
        .with_context(|| format!("{amount:?} is not an amount"))?;
    let nanos: i32 = format!("{fraction:0<9}").parse().unwrap_or(0);
    Ok(Money {
        currency_code: currency.trim().to_owned(),
        units,
        nanos: if units < 0 { -nanos } else { nanos },
    })
}

fn date(text: &str) -> anyhow::Result<Option<Date>> {
    use chrono::Datelike;
    if text.is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("{text:?} is not a YYYY-MM-DD date"))?;
    Ok(Some(Date {
        year: day.year(),
        month: day.month() as i32,
        day: day.day() as i32,
    }))
}

/// A request id for one step of one row: the same file imports the same way again.
fn request_id(step: &str, scope: &str, digest: &str) -> String {
    let id = Sha256::digest(format!("{step}\0{scope}\0{digest}"));
    format!("import-{}", &hex::encode(id)[..40])
}

/// Calls `rpc` until it answers, waiting and trying again (up to eight times, backing off
/// to 5 s) while the server says to slow down or is briefly unavailable. Only for calls that
/// may be repeated: creates with a request id, reads.
async fn patiently<T, F, R>(mut rpc: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> R,
    R: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
{
    let mut wait = Duration::from_millis(100);
    let mut tries = 0;
    loop {
        match rpc().await {
            Ok(answer) => return Ok(answer.into_inner()),
            Err(error)
                if tries < 8
                    && matches!(
                        error.code(),
                        tonic::Code::ResourceExhausted | tonic::Code::Unavailable
                    ) =>
            {
                tries += 1;
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(error) => return Err(error),
        }
    }
}

async fn import_row(
    client: &RegistryServiceClient<PeerChannel>,
    row: BrandRow,
    verify: bool,
) -> Outcome {
    let refused = |reason: String| Outcome::Rejected {
        line: row.line,
        name: row.name.clone(),
        reason,
    };
    let create = registry::CreateBrandRequest {
        request_id: request_id("brand", &row.brand.member_id, &row.digest),
        brand: Some(row.brand.clone()),
    };
    let brand = match patiently(|| {
        let (mut client, request) = (client.clone(), create.clone());
        async move { client.create_brand(request).await }
    })
    .await
    {
        Ok(answer) => answer.brand.unwrap_or_default(),
        Err(error) => return refused(format!("brand: {}", status(error))),
    };
    let Some(right) = row.right.clone() else {
        return Outcome::Imported;
    };
    let create = registry::CreateIpRightRequest {
        request_id: request_id("right", &brand.id, &row.digest),
        ip_right: Some(registry::IpRight {
            brand_id: brand.id.clone(),
            ..right
        }),
    };
    let right = match patiently(|| {
        let (mut client, request) = (client.clone(), create.clone());
        async move { client.create_ip_right(request).await }
    })
    .await
    {
        Ok(answer) => answer.ip_right.unwrap_or_default(),
        Err(error) => return refused(format!("trade mark: {}", status(error))),
    };
    if verify && right.verification_status() == registry::VerificationStatus::Pending {
        // Only the version read is verified (its etag): a retry after a lost answer is
        // refused as a conflict, and is no error if the right is verified.
        let verify = registry::VerifyIpRightRequest {
            id: right.id.clone(),
            etag: right.etag.clone(),
            note: "verified on import".to_owned(),
        };
        match patiently(|| {
            let (mut client, request) = (client.clone(), verify.clone());
            async move { client.verify_ip_right(request).await }
        })
        .await
        {
            Ok(_) => {}
            Err(error) if error.code() == tonic::Code::Aborted => {
                let read = registry::GetIpRightRequest {
                    id: right.id.clone(),
                };
                let now = patiently(|| {
                    let (mut client, request) = (client.clone(), read.clone());
                    async move { client.get_ip_right(request).await }
                })
                .await
                .map(|answer| answer.ip_right.unwrap_or_default().verification_status());
                if !matches!(now, Ok(registry::VerificationStatus::Verified)) {
                    return refused(format!(
                        "verifying the trade mark: it changed meanwhile: {}",
                        status(error)
                    ));
                }
            }
            Err(error) => return refused(format!("verifying the trade mark: {}", status(error))),
        }
    }
    Outcome::Imported
}

async fn figures(channel: PeerChannel, format: Format) -> anyhow::Result<()> {
    let alliance = RegistryServiceClient::new(channel.clone())
        .get_alliance_figures(registry::GetAllianceFiguresRequest::default())
        .await
        .map_err(status)?
        .into_inner();
    let enforcement = CasesServiceClient::new(channel)
        .get_enforcement_figures(cases::GetEnforcementFiguresRequest::default())
        .await
        .map_err(status)?
        .into_inner();
    print_sections(
        format,
        &[
            (
                "alliance",
                dynamic("assay.registry.v1.GetAllianceFiguresResponse", &alliance)?,
            ),
            (
                "enforcement",
                dynamic("assay.cases.v1.GetEnforcementFiguresResponse", &enforcement)?,
            ),
        ],
    )
}

async fn transparency_report(
    channel: PeerChannel,
    format: Format,
    from: NaiveDate,
    until: NaiveDate,
) -> anyhow::Result<()> {
    anyhow::ensure!(from <= until, "--from is after --until");
    let midnight = |day: NaiveDate| prost_types::Timestamp {
        seconds: day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp(),
        nanos: 0,
    };
    let end = until.succ_opt().context("--until is too late")?;
    let report = LawEnforcementServiceClient::new(channel)
        .get_transparency_report(le::GetTransparencyReportRequest {
            period: Some(TimeRange {
                start_time: Some(midnight(from)),
                end_time: Some(midnight(end)),
            }),
        })
        .await
        .map_err(status)?
        .into_inner();
    print_message(
        format,
        "assay.lawenforcement.v1.GetTransparencyReportResponse",
        &report,
    )
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

// -------------------------------------------------------------------------------------
// Printing any message: through its descriptor, so every field shows as the contract names
// it, with no printing code per message.

fn pool() -> &'static DescriptorPool {
    static POOL: std::sync::OnceLock<DescriptorPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        DescriptorPool::decode(assay_proto::FILE_DESCRIPTOR_SET)
            .expect("the descriptor set compiled into this binary decodes")
    })
}

/// `message` as the contract's message `name` (e.g. `assay.registry.v1.Member`).
fn dynamic(name: &str, message: &impl prost::Message) -> anyhow::Result<DynamicMessage> {
    let descriptor = pool()
        .get_message_by_name(name)
        .with_context(|| format!("no descriptor for {name}"))?;
    Ok(DynamicMessage::decode(
        descriptor,
        message.encode_to_vec().as_slice(),
    )?)
}

fn json(message: &DynamicMessage) -> anyhow::Result<serde_json::Value> {
    let options = SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false)
        .stringify_64_bit_integers(false);
    Ok(message.serialize_with_options(serde_json::value::Serializer, &options)?)
}

/// A field's value as one cell: enums by name, messages and lists as compact JSON.
fn cell(message: &DynamicMessage, field: &str) -> anyhow::Result<String> {
    let Some(descriptor) = message.descriptor().get_field_by_name(field) else {
        return Ok(String::new());
    };
    let value = message.get_field(&descriptor);
    Ok(match value.as_ref() {
        Value::String(s) => s.clone(),
        Value::EnumNumber(n) => match descriptor.kind().as_enum() {
            Some(e) => e
                .get_value(*n)
                .map_or_else(|| n.to_string(), |v| v.name().to_owned()),
            None => n.to_string(),
        },
        Value::Bool(b) => b.to_string(),
        Value::I32(n) => n.to_string(),
        Value::I64(n) => n.to_string(),
        Value::U32(n) => n.to_string(),
        Value::U64(n) => n.to_string(),
        Value::F32(n) => n.to_string(),
        Value::F64(n) => n.to_string(),
        _ => {
            let whole = json(message)?;
            match whole.get(field) {
                Some(serde_json::Value::String(text)) => text.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            }
        }
    })
}

fn fields(message: &DynamicMessage) -> Vec<String> {
    message
        .descriptor()
        .fields()
        .map(|f| f.name().to_owned())
        .collect()
}

fn print_message(format: Format, name: &str, message: &impl prost::Message) -> anyhow::Result<()> {
    print_sections(format, &[("", dynamic(name, message)?)])
}

/// Messages one after another: as one JSON object (by section name, or the message alone),
/// or as `field value` lines (`section.field` where there are sections).
fn print_sections(format: Format, sections: &[(&str, DynamicMessage)]) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let value = match sections {
                [("", message)] => json(message)?,
                _ => serde_json::Value::Object(
                    sections
                        .iter()
                        .map(|(name, message)| Ok(((*name).to_owned(), json(message)?)))
                        .collect::<anyhow::Result<_>>()?,
                ),
            };
            emit(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
        }
        Format::Table | Format::Csv => {
            let mut lines = Vec::new();
            for (section, message) in sections {
                for field in fields(message) {
                    let name = if section.is_empty() {
                        field.clone()
                    } else {
                        format!("{section}.{field}")
                    };
                    lines.push(vec![name, cell(message, &field)?]);
                }
            }
            print_table(format, &["field", "value"], &lines)?;
        }
    }
    Ok(())
}

/// Messages of one kind, a row each, in `columns` (all of them as JSON).
fn print_rows(
    format: Format,
    name: &str,
    messages: &[impl prost::Message],
    columns: &[&str],
) -> anyhow::Result<()> {
    let messages = messages
        .iter()
        .map(|m| dynamic(name, m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    if format == Format::Json {
        let all = messages
            .iter()
            .map(json)
            .collect::<anyhow::Result<Vec<_>>>()?;
        emit(&format!("{}\n", serde_json::to_string_pretty(&all)?))?;
        return Ok(());
    }
    let lines = messages
        .iter()
        .map(|m| columns.iter().map(|c| cell(m, c)).collect())
        .collect::<anyhow::Result<Vec<Vec<String>>>>()?;
    print_table(format, columns, &lines)
}

fn print_table(format: Format, header: &[&str], lines: &[Vec<String>]) -> anyhow::Result<()> {
    if format == Format::Csv {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(header)?;
        for line in lines {
            out.write_record(line)?;
        }
        return emit(&String::from_utf8(out.into_inner()?)?);
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for line in lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut text = String::new();
    let mut row = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        text.push_str(padded.join("  ").trim_end());
        text.push('\n');
    };
    row(header.to_vec());
    for line in lines {
        row(line.iter().map(String::as_str).collect());
    }
    emit(&text)
}

/// Writes to standard output; a reader that went away (`| head`) is no error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_dates_read_as_written() {
        let m = money("EUR 1200.5").unwrap();
        assert_eq!(
            (m.currency_code.as_str(), m.units, m.nanos),
            ("EUR", 1200, 500_000_000)
        );
        assert_eq!(money("USD 80").unwrap().nanos, 0);
        for bad in ["1200", "EUR twelve", "EUR 1.2.3", "EUR 1.0000000001"] {
            assert!(money(bad).is_err(), "{bad}");
        }
        assert_eq!(date("2026-02-28").unwrap().unwrap().day, 28);
        assert!(date("2026-02-30").is_err());
        assert!(date("").unwrap().is_none());
    }

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

    #[test]
    fn rows_that_differ_only_in_where_a_field_ends_are_different_rows() {
        let row = |fields: &[&str]| row_digest(&csv::StringRecord::from(fields.to_vec()));
        assert_ne!(row(&["ab", "c"]), row(&["a", "bc"]));
        assert_eq!(row(&["ab", "c"]), row(&["ab", "c"]));
    }

    #[test]
    fn a_row_means_the_same_request_ids_every_time() {
        let a = request_id("brand", "mbr_1", "abc");
        assert_eq!(a, request_id("brand", "mbr_1", "abc"));
        assert_ne!(a, request_id("brand", "mbr_2", "abc"));
        assert_ne!(a, request_id("right", "mbr_1", "abc"));
        assert!(assay_common::validate::request_id(&a).unwrap().is_some());
    }
}
