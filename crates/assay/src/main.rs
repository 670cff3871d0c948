//! `assay`: run the services, migrate their databases, and manage credentials.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use assay::{AppConfig, select};
use assay_common::Platform;
use assay_common::auth::{self, Principal};
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
    },
    /// Print the effective configuration as TOML.
    Config,
    /// Credentials.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Sign a JWT for a principal with this deployment's signing key.
    Mint {
        /// staff:<subject>:<roles>, member:<member id>, agency:<agency id> or service:<name>.
        principal: String,
        /// How long it is valid, e.g. 8h or 30d.
        #[arg(long, default_value = "12h")]
        ttl: humantime::Duration,
    },
    /// Make a random static token and print the configuration that accepts it.
    New {
        /// Who the token speaks for.
        principal: String,
    },
    /// Print the SHA-256 of a token, as configured in auth.tokens.
    Hash { token: String },
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
        Command::Migrate { services } => {
            let _telemetry = assay_common::telemetry::init(&config.log, "assay")?;
            let names = select(&services).map_err(anyhow::Error::msg)?;
            assay::migrate(config, &names).await
        }
        Command::Config => {
            print!("{}", toml::to_string_pretty(&config)?);
            Ok(())
        }
        Command::Token(command) => token(config, command),
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
    if let Some((token, path)) = &running.new_bootstrap_token {
        println!(
            "\nBootstrap admin token (shown once; kept in {}):\n\n    {token}\n\n\
             Call the API with it, for example:\n\n    \
             grpcurl -plaintext -H \"authorization: Bearer $(cat {})\" {} list\n",
            path.display(),
            path.display(),
            running.addr,
        );
    }
    assay_common::server::cancel_on_signals(running.shutdown_token());
    running.wait().await
}

fn token(config: AppConfig, command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Mint { principal, ttl } => {
            let principal: Principal = principal.parse().map_err(anyhow::Error::msg)?;
            let (platform, _) = Platform::init(config.platform())?;
            let signer = platform.signer.context(
                "no signing key: configure auth.jwt.hs256_secret_file or auth.jwt.signing_key",
            )?;
            let ttl: Duration = ttl.into();
            println!("{}", signer.mint(&principal, ttl)?);
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
    }
    Ok(())
}
