//! Running the provider: open the store, load practices, listen, and shut
//! down gracefully.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use gpconnect_core::clock::{Clock, SystemClock};
use gpconnect_core::engine::{ConfigError, Engine, EngineConfig};
use gpconnect_core::fhir::Format;
use gpconnect_core::foundations::{LocalPds, Pds, PdsError, PdsRecord, SoftwareInfo};
use gpconnect_core::import::{ImportReport, import_practice};
use gpconnect_core::store::{PracticeStore, SlotRecord, StoreError};
use gpconnect_postgres::{PgOptions, PgStore};
use gpconnect_storage::{Durability, SledOptions, SledStore};

use crate::app::{AppState, router};
use crate::audit::AuditLog;
use crate::demo;

/// `--durability`: when the sled store acknowledges a booking (see
/// [`Durability`] for what each survives).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DurabilityArg {
    /// Once sled has flushed it to the device: survives the process being
    /// killed; power loss may lose the latest bookings (default).
    Immediate,
    /// As immediate, then `fdatasync`: survives power loss.
    Synced,
    /// On commit, flushed in the background within about 500 ms.
    Buffered,
}

impl DurabilityArg {
    /// The store's durability.
    pub fn durability(self) -> Durability {
        match self {
            Self::Immediate => Durability::Immediate,
            Self::Synced => Durability::Synced,
            Self::Buffered => Durability::Buffered,
        }
    }

    /// The flag's value, as `--durability` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Immediate => "immediate",
            Self::Synced => "synced",
            Self::Buffered => "buffered",
        }
    }
}

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The store failed to open, read or close.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// A practice file could not be read.
    #[error("reading {file}: {error}")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A practice file was refused by the importer.
    #[error("importing {file}: {error}")]
    Import {
        /// The file.
        file: PathBuf,
        /// The importer's answer (status, Spine code, diagnostics).
        error: gpconnect_core::Error,
    },
    /// The engine configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Listening or the audit log failed.
    #[error("{context}: {error}")]
    Io {
        /// What was being done.
        context: String,
        /// Why it failed.
        error: std::io::Error,
    },
}

/// What `gpconnect serve` runs with.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The sled store's directory (and the audit log's default one).
    pub data: PathBuf,
    /// A PostgreSQL URL (`postgres://user:password@host:port/database`):
    /// keep the practices there instead of in a sled store in `data`.
    pub store: Option<String>,
    /// Address to listen on (port 0 picks a free one; the chosen address is
    /// printed).
    pub listen: SocketAddr,
    /// Practice files to import before serving.
    pub imports: Vec<PathBuf>,
    /// Load the demo practice (as of start-up). On a store that already
    /// has it, slots it holds are kept as they are (booked or not) and only
    /// new days' slots are added.
    pub demo: bool,
    /// The audit log; default `audit.jsonl` in the data directory.
    pub audit_log: Option<PathBuf>,
    /// When bookings are acknowledged.
    pub durability: Durability,
    /// Scheme and host consumers reach this server on, for absolute
    /// `Location` headers (see [`EngineConfig::public_base_url`]).
    pub public_base_url: Option<String>,
}

/// The software the capability statements describe.
pub fn software() -> SoftwareInfo {
    SoftwareInfo {
        name: "gpconnect".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        release_date: jiff::civil::date(2026, 11, 26),
        publisher: "gpconnect".to_owned(),
        contact_name: None,
    }
}

/// Open the sled store in `data` (created if missing).
///
/// # Errors
/// The directory cannot be created or the store opened.
pub fn open_store(data: &Path, durability: Durability) -> Result<SledStore, ServerError> {
    std::fs::create_dir_all(data).map_err(|error| ServerError::Io {
        context: format!("creating {}", data.display()),
        error,
    })?;
    Ok(SledStore::open(
        data,
        SledOptions::with_durability(durability),
    )?)
}

/// Whether `url` names a PostgreSQL database (`postgres://` or
/// `postgresql://`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Open the PostgreSQL store at `url`, creating or upgrading its schema
/// (`gpconnect`).
///
/// # Errors
/// The URL is not a PostgreSQL one, or the database cannot be reached or
/// migrated.
pub fn open_postgres(url: &str) -> Result<PgStore, ServerError> {
    if !is_postgres_url(url) {
        return Err(ServerError::Store(StoreError::Backend(
            "--store takes a PostgreSQL URL: postgres://user:password@host:port/database"
                .to_owned(),
        )));
    }
    Ok(PgStore::open(url, PgOptions::default())?)
}

/// The store `serve` runs on, and how it is closed.
enum Backend {
    Sled(Arc<SledStore>),
    Postgres(Arc<PgStore>),
}

impl Backend {
    fn open(options: &ServeOptions) -> Result<Backend, ServerError> {
        match &options.store {
            Some(url) => {
                // The audit log's default home.
                std::fs::create_dir_all(&options.data).map_err(|error| ServerError::Io {
                    context: format!("creating {}", options.data.display()),
                    error,
                })?;
                let store = open_postgres(url)?;
                tracing::info!(
                    store = "postgres",
                    schema = store.schema(),
                    "opened the store"
                );
                Ok(Backend::Postgres(Arc::new(store)))
            }
            None => Ok(Backend::Sled(Arc::new(open_store(
                &options.data,
                options.durability,
            )?))),
        }
    }

    fn store(&self) -> Arc<dyn PracticeStore> {
        match self {
            Backend::Sled(s) => Arc::clone(s) as Arc<dyn PracticeStore>,
            Backend::Postgres(s) => Arc::clone(s) as Arc<dyn PracticeStore>,
        }
    }

    fn close(self) -> Result<(), ServerError> {
        match self {
            Backend::Sled(store) => match Arc::try_unwrap(store) {
                Ok(store) => store.close().map_err(ServerError::from),
                // A request task still holds the engine (it cannot, once
                // serve has returned, but never skip the flush): flush what
                // is there.
                Err(store) => store.flush().map_err(ServerError::from),
            },
            // Every command committed before it answered; dropping the
            // store closes the pool's connections.
            Backend::Postgres(_) => Ok(()),
        }
    }
}

/// Import practice files (FHIR Bundles, JSON or XML by their first
/// non-blank byte; `docs/import.md`).
///
/// # Errors
/// The first file that cannot be read or is refused.
pub fn import_files(
    store: &dyn PracticeStore,
    files: &[PathBuf],
) -> Result<Vec<ImportReport>, ServerError> {
    files
        .iter()
        .map(|file| {
            let bytes = std::fs::read(file).map_err(|error| ServerError::Read {
                file: file.clone(),
                error,
            })?;
            let format = match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
                Some(b'<') => Format::Xml,
                _ => Format::Json,
            };
            import_practice(store, &bytes, format).map_err(|error| ServerError::Import {
                file: file.clone(),
                error,
            })
        })
        .collect()
}

/// The server's PDS: the provider has no Spine connection, so it answers
/// a trace from the people it was given (the demo's unregistered people)
/// and, failing that, from the practices' own records, which were traced
/// when the patients registered (see `gpconnect_core::foundations::pds`).
pub struct PracticePds {
    store: Arc<dyn PracticeStore>,
    known: LocalPds,
}

impl std::fmt::Debug for PracticePds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PracticePds")
            .field("known", &self.known)
            .finish_non_exhaustive()
    }
}

impl PracticePds {
    /// A PDS over `store`'s patients plus `known`.
    pub fn new(store: Arc<dyn PracticeStore>, known: LocalPds) -> PracticePds {
        PracticePds { store, known }
    }
}

impl Pds for PracticePds {
    fn retrieve(&self, nhs_number: &str) -> Result<Option<PdsRecord>, PdsError> {
        if let Some(found) = self.known.retrieve(nhs_number)? {
            return Ok(Some(found));
        }
        let unavailable = |e: StoreError| PdsError::Unavailable(e.to_string());
        for ods in self.store.practices().map_err(unavailable)? {
            let patients = self
                .store
                .patients_by_nhs_number(&ods, nhs_number)
                .map_err(unavailable)?;
            if let Some(found) = patients.iter().find_map(PdsRecord::from_patient) {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

/// The slots of `slots` that `store` does not hold yet for `ods`.
///
/// # Errors
/// The store failed to read.
pub fn new_slots(
    store: &dyn PracticeStore,
    ods: &str,
    slots: Vec<SlotRecord>,
) -> Result<Vec<SlotRecord>, ServerError> {
    if store.practice(ods)?.is_none() {
        return Ok(slots);
    }
    let mut fresh = Vec::with_capacity(slots.len());
    for slot in slots {
        if store.slot(ods, &slot.id)?.is_none() {
            fresh.push(slot);
        }
    }
    Ok(fresh)
}

/// Run the server until `shutdown` resolves: in-flight requests finish,
/// then the store is flushed and closed cleanly. `on_listening` is told
/// the bound address once the server accepts connections.
///
/// # Errors
/// Start-up failures (store, imports, listening) and a failed close.
pub async fn serve(
    options: ServeOptions,
    on_listening: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let backend = Backend::open(&options)?;
    let store = backend.store();
    for report in import_files(&*store, &options.imports)? {
        tracing::info!(
            practice = %report.ods_code,
            written = report.summary.written,
            unchanged = report.summary.unchanged,
            "imported practice"
        );
    }
    let clock = SystemClock;
    let mut demo_pds = None;
    if options.demo {
        let mut import = demo::practice(clock.now());
        demo_pds = Some(demo::pds(&import));
        // On a restart over the same data the store already has the demo's
        // slots, some of them booked: an import is an upsert where the
        // file wins (docs/import.md), so re-importing them would free
        // booked slots and let them be booked twice. Only the slots the
        // store does not have yet (the days that came into the horizon)
        // are added.
        let offered = import.slots.len();
        import.slots = new_slots(&*store, demo::ODS, import.slots)?;
        let kept = offered - import.slots.len();
        let summary = store.import(demo::ODS, import)?;
        tracing::info!(
            practice = demo::ODS,
            written = summary.written,
            existing_slots_kept = kept,
            "loaded the demo practice"
        );
    }
    let pds = PracticePds::new(
        Arc::clone(&store) as Arc<dyn PracticeStore>,
        demo_pds.unwrap_or_default(),
    );
    let mut config = EngineConfig::new(software());
    config.public_base_url = options.public_base_url.clone();
    let engine = Arc::new(Engine::new(
        Arc::clone(&store) as Arc<dyn PracticeStore>,
        Arc::new(clock),
        Arc::new(pds),
        config,
    )?);
    let audit_path = options
        .audit_log
        .clone()
        .unwrap_or_else(|| options.data.join("audit.jsonl"));
    let audit = Arc::new(
        AuditLog::open(&audit_path).map_err(|error| ServerError::Io {
            context: format!("opening the audit log {}", audit_path.display()),
            error,
        })?,
    );
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|error| ServerError::Io {
            context: format!("listening on {}", options.listen),
            error,
        })?;
    let local = listener.local_addr().map_err(|error| ServerError::Io {
        context: "reading the bound address".to_owned(),
        error,
    })?;
    tracing::info!(address = %local, audit = %audit_path.display(), "listening");
    on_listening(local);
    let app = router(Arc::new(AppState {
        engine: Arc::clone(&engine),
        audit: Arc::clone(&audit),
    }));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|error| ServerError::Io {
            context: "serving".to_owned(),
            error,
        });
    tracing::info!("stopped accepting; closing the store");
    audit.flush();
    drop(engine);
    drop(store);
    let closed = backend.close();
    served.and(closed)
}
