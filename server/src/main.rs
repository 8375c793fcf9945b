//! `gpconnect`: serve GP Connect over HTTP, import practices, mint tokens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use gpconnect_core::checks::jwt::{JwtProfile, Scope};
use gpconnect_core::clock::{Clock, SystemClock};
use gpconnect_core::engine::token::TokenSpec;
use gpconnect_server::demo;
use gpconnect_server::serve::{
    DurabilityArg, ServeOptions, import_files, is_postgres_url, open_store, serve,
};
use gpconnect_storage::Durability;

/// A booking allocates and frees a few hundred small buffers (headers,
/// JSON, records) across the async workers and the blocking pool; glibc's
/// malloc spent about 13% of the server's CPU on them under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "gpconnect",
    version,
    about = "The reference GP Connect provider"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve GP Connect over HTTP.
    Serve {
        /// The store's directory.
        #[arg(long, default_value = "./gpconnect-data")]
        data: PathBuf,
        /// Keep the practices in PostgreSQL instead of sled in --data:
        /// postgres://user:password@host:port/database (the schema
        /// `gpconnect` is created or upgraded on start). The audit log
        /// still defaults to --data.
        #[arg(long, value_name = "URL", value_parser = parse_store)]
        store: Option<String>,
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Practice files to import first (FHIR Bundles; docs/import.md).
        #[arg(long = "import")]
        imports: Vec<PathBuf>,
        /// Load the demo practice A00001 (slots today to +14 days; on a
        /// store that has it, existing slots and bookings are kept).
        #[arg(long)]
        demo: bool,
        /// The audit log (default: audit.jsonl in the data directory).
        #[arg(long)]
        audit_log: Option<PathBuf>,
        /// When bookings are acknowledged.
        #[arg(long, value_enum, default_value = "immediate")]
        durability: DurabilityArg,
        /// Scheme and host consumers reach this server on, e.g.
        /// `https://gpconnect.example.nhs.uk` (makes Location absolute).
        #[arg(long)]
        public_base_url: Option<String>,
    },
    /// Import practice files into a store.
    Import {
        /// The store's directory.
        #[arg(long, default_value = "./gpconnect-data")]
        data: PathBuf,
        /// Practice files (FHIR Bundles, JSON or XML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print a valid unsigned GP Connect JWT (valid for 300 seconds).
    Token {
        /// requested_scope: patient/*.read, patient/*.write,
        /// organization/*.read or organization/*.write.
        #[arg(long, default_value = "patient/*.read")]
        scope: String,
        /// The requesting organisation's ODS code.
        #[arg(long, default_value = "B82001")]
        org: String,
        /// An Access Record (DSTU2) token for this patient's record.
        #[arg(long)]
        nhs_number: Option<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GPCONNECT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("gpconnect: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Serve {
            data,
            store,
            listen,
            imports,
            demo,
            audit_log,
            durability,
            public_base_url,
        } => {
            let options = ServeOptions {
                data,
                store,
                listen,
                imports,
                demo,
                audit_log,
                durability: durability.durability(),
                public_base_url,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("starting the runtime: {e}"))?;
            let demo_requested = options.demo;
            runtime
                .block_on(serve(
                    options,
                    move |addr| {
                        println!("gpconnect listening on http://{addr}");
                        if demo_requested {
                            println!(
                                "{}",
                                demo::example_requests(
                                    &format!("http://{addr}"),
                                    SystemClock.now()
                                )
                            );
                        }
                    },
                    shutdown_signal(),
                ))
                .map_err(|e| e.to_string())
        }
        Command::Import { data, files } => {
            let store = open_store(&data, Durability::Immediate).map_err(|e| e.to_string())?;
            for report in import_files(&store, &files).map_err(|e| e.to_string())? {
                println!(
                    "{}: {} written, {} unchanged",
                    report.ods_code, report.summary.written, report.summary.unchanged
                );
            }
            store.close().map_err(|e| e.to_string())
        }
        Command::Token {
            scope,
            org,
            nhs_number,
        } => {
            let scope = Scope::parse(&scope).ok_or_else(|| {
                format!("unknown scope {scope:?} (patient/*.read, patient/*.write, organization/*.read, organization/*.write)")
            })?;
            let now = SystemClock.now();
            let spec = match &nhs_number {
                Some(nhs) => TokenSpec::new(JwtProfile::AccessRecordHtml, scope, &org, now)
                    .with_requested_patient(nhs),
                None => TokenSpec::new(JwtProfile::Appointments, scope, &org, now),
            };
            println!("{}", spec.encode().map_err(|e| e.to_string())?);
            Ok(())
        }
    }
}

/// `--store`: a PostgreSQL URL.
fn parse_store(url: &str) -> Result<String, String> {
    if is_postgres_url(url) {
        Ok(url.to_owned())
    } else {
        Err("expected a PostgreSQL URL: postgres://user:password@host:port/database".to_owned())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}
