//! `assay`: run the services, migrate their databases, and manage credentials.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use assay::{AppConfig, select};
use assay_common::auth::{self, Principal};
use assay_common::platform::Keys;
use clap::{Parser, Subcommand};
use serde::Serialize;

/// mimalloc: markedly faster than the system allocator for the screening engine's many
/// small, short-lived allocations (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "assay",
    version,
    about = "Assay: protect intellectual property against counterfeits"
)]
struct Cli {
    /// A TOML configuration file (see config/assay.example.toml).
    #[arg(long, short, global = true, env = "ASSAY_CONFIG")]
    config: Option<PathBuf>,
    /// Where embedded databases and generated secrets live [default: data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the named services (default: all) on one port.
    Serve {
        /// Services to run: all, registry, screening, cases, lawenforcement.
        services: Vec<String>,
        /// Listen address [default: 127.0.0.1:50051; env ASSAY_LISTEN].
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Run the pending database migrations of the named services (default: all) and exit.
    Migrate {
        /// Services to migrate: all, registry, screening, cases, lawenforcement.
        services: Vec<String>,
        /// Print each migration, applied or pending, and change nothing; fails if any is
        /// pending.
        #[arg(long)]
        status: bool,
    },
    /// Print the effective configuration as TOML, with secrets redacted.
    Config,
    /// Credentials.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Operate a running Assay over gRPC: members, imports, figures, reports, health.
    Admin(assay::admin::Admin),
    /// A programme year in one command: start the system on a temporary directory, play a
    /// synthetic year through the public APIs (members, brands, a screened feed, notices,
    /// test purchases, referrals and requests with their outcomes), print the year's report.
    Demo(assay::demo::Demo),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Sign a JWT for a principal with this deployment's signing key (never creates one).
    Mint {
        /// staff:<subject>:<roles>, member:<member id>, agency:<agency id> or service:<name>.
        principal: String,
        /// How long it is valid, e.g. 8h or 3d [default: 12h, or less if the principal's
        /// kind may not live that long].
        #[arg(long)]
        ttl: Option<humantime::Duration>,
    },
    /// Make an Ed25519 key pair for signing tokens: the private key (mode 0600) and its
    /// public key, with the configuration that uses them.
    Keygen {
        /// The key id tokens signed with it will name.
        #[arg(long)]
        kid: String,
        /// Where to write `<kid>.pem` and `<kid>.pub.pem`.
        #[arg(long, default_value = ".")]
        out: PathBuf,
        /// Whom its tokens may name, e.g. service:screening (repeatable) [default: *].
        #[arg(long = "principal")]
        principals: Vec<String>,
    },
    /// Make a random static token and print the configuration that accepts it.
    New {
        /// Who the token speaks for.
        principal: String,
    },
    /// Print the SHA-256 of a token, as configured in auth.tokens.
    Hash { token: String },
    /// Revoke a signed token: its id (`jti`) goes into `auth.jwt.revoked_ids_file`, which
    /// every process re-reads within seconds, and the token is refused from then on.
    Revoke {
        /// The token, or its id.
        token: String,
        /// Why, kept beside the id.
        #[arg(long, default_value = "")]
        reason: String,
    },
}

/// Flags that override configuration, in the configuration's shape.
#[derive(Serialize, Default)]
struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let listen = match &cli.command {
        Command::Serve { listen, .. } => *listen,
        _ => None,
    };
    let overrides = Overrides {
        listen,
        data_dir: cli.data_dir.clone(),
    };
    let config: AppConfig = assay_common::config::load(cli.config.as_deref(), overrides)?;

    match cli.command {
        Command::Serve { services, .. } => serve(config, &services).await,
        Command::Migrate { services, status } => {
            let names = select(&services).map_err(anyhow::Error::msg)?;
            if status {
                return assay::migration_status(config, &names).await;
            }
            let _telemetry = assay_common::telemetry::init(&config.log, "assay")?;
            assay::migrate(config, &names).await
        }
        Command::Admin(admin) => assay::admin::run(admin, &config).await,
        Command::Demo(demo) => assay::demo::run(demo, config).await,
        Command::Config => {
            print!("{}", toml::to_string_pretty(&config.redacted())?);
            Ok(())
        }
        Command::Token(command) => token(config, cli.config.as_deref(), command),
    }
}

async fn serve(config: AppConfig, services: &[String]) -> anyhow::Result<()> {
    let names = select(services).map_err(anyhow::Error::msg)?;
    let service_name = match names.as_slice() {
        [one] => format!("assay-{}", one.as_str()),
        _ => "assay".to_owned(),
    };
    let _telemetry = assay_common::telemetry::init(&config.log, &service_name)?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let running = assay::start(config, &names, listener).await?;
    if let Some((path, expires)) = &running.new_bootstrap_token {
        // The token stays in its file: whatever reads the logs must not get an admin. Said on
        // standard error, apart from the logs on standard output.
        eprintln!(
            "\nA bootstrap admin token is in {} (mode 0600), valid until {}.\n\
             Call the API with it, for example:\n\n    \
             grpcurl -plaintext -H \"authorization: Bearer $(cat {})\" {} list\n",
            path.display(),
            humantime::format_rfc3339_seconds(*expires),
            path.display(),
            running.addr,
        );
    }
    assay_common::server::cancel_on_signals(running.shutdown_token());
    running.wait().await
}

fn token(
    config: AppConfig,
    config_file: Option<&std::path::Path>,
    command: TokenCommand,
) -> anyhow::Result<()> {
    match command {
        TokenCommand::Mint { principal, ttl } => {
            let principal: Principal = principal.parse().map_err(anyhow::Error::msg)?;
            let read = config_file.map_or_else(
                || "no configuration file (defaults and ASSAY_ environment)".to_owned(),
                |f| format!("configuration {}", f.display()),
            );
            let keys =
                Keys::load(&config.platform(), false).with_context(|| format!("with {read}"))?;
            let (signer, path) = keys
                .signer
                .with_context(|| format!("with {read}: no signing key configured"))?;
            let ttl: Duration = match ttl {
                Some(ttl) => ttl.into(),
                None => signer
                    .max_lifetime(&principal)
                    .min(Duration::from_secs(12 * 3600)),
            };
            let token = signer.mint(&principal, ttl)?;
            eprintln!(
                "signed with key {:?} from {} ({read}), valid {}",
                signer.kid(),
                path.display(),
                humantime::format_duration(ttl)
            );
            println!("{token}");
        }
        TokenCommand::Keygen {
            kid,
            out,
            principals,
        } => {
            let principals = if principals.is_empty() {
                vec!["*".to_owned()]
            } else {
                principals
            };
            assay_common::jwt::patterns(&principals).map_err(anyhow::Error::msg)?;
            anyhow::ensure!(
                !kid.is_empty()
                    && kid
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                "--kid must be letters, digits, '-', '_' or '.'"
            );
            let (private, public) = assay_common::jwt::generate_ed25519()?;
            let private_path = out.join(format!("{kid}.pem"));
            let public_path = out.join(format!("{kid}.pub.pem"));
            anyhow::ensure!(
                !private_path.exists(),
                "{} exists: keys are never overwritten",
                private_path.display()
            );
            auth::read_or_create_secret(&private_path, || private)?;
            std::fs::write(&public_path, public)?;
            let list = principals
                .iter()
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(", ");
            println!(
                "# the process that signs with it:\n[auth.jwt]\nsigning_key_file = {:?}\n\
                 signing_key_id = {kid:?}\nsigning_key_principals = [{list}]\n\n\
                 # every process that accepts its tokens:\n[[auth.jwt.trusted_keys]]\n\
                 kid = {kid:?}\nalgorithm = \"EdDSA\"\npublic_key_file = {:?}\nprincipals = [{list}]",
                private_path.display().to_string(),
                public_path.display().to_string(),
            );
        }
        TokenCommand::New { principal } => {
            let parsed: Principal = principal.parse().map_err(anyhow::Error::msg)?;
            let token = auth::generate_token();
            println!("token: {token}\n");
            println!("# add to your configuration file:");
            println!(
                "[[auth.tokens]]\nsha256 = \"{}\"\nprincipal = \"{parsed}\"",
                auth::token_sha256(&token)
            );
        }
        TokenCommand::Hash { token } => println!("{}", auth::token_sha256(&token)),
        TokenCommand::Revoke { token, reason } => {
            let file = config.auth.jwt.revoked_ids_file.as_deref().context(
                "auth.jwt.revoked_ids_file is not configured: name the file every process \
                 reads (the same for all of them) and run this again",
            )?;
            let (jti, note) = match assay_common::jwt::unverified_id(&token) {
                Some((jti, subject, expires)) => {
                    let until = chrono::DateTime::from_timestamp(expires as i64, 0)
                        .map_or_else(|| expires.to_string(), |t| t.to_rfc3339());
                    (jti, format!("{subject}, valid until {until}"))
                }
                None => (token.trim().to_owned(), String::new()),
            };
            let note = format!(
                "revoked {}{}{}",
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                if note.is_empty() {
                    String::new()
                } else {
                    format!("; {note}")
                },
                if reason.is_empty() {
                    String::new()
                } else {
                    format!("; {reason}")
                },
            );
            let added = assay_common::jwt::revoke(file, &jti, &note)
                .with_context(|| format!("revoking in {}", file.display()))?;
            if added {
                println!("revoked {jti} in {}", file.display());
            } else {
                println!("{jti} was already revoked in {}", file.display());
            }
        }
    }
    Ok(())
}
