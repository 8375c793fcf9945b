//! [`PgStore`]: the gpconnect storage port
//! ([`PracticeStore`](gpconnect_core::store::PracticeStore)) on PostgreSQL,
//! for hosting many practices on an existing database engine.
//!
//! # Design
//!
//! - **Schema** ([`schema`]): owned by the backend, created on first open
//!   and upgraded by numbered migrations recorded in `schema_version`, each
//!   in one transaction under an advisory lock. One row per record, with
//!   the columns the port looks up by and JSONB for the FHIR resources;
//!   every key starts with the practice's ODS code, ready for declarative
//!   partitioning by it. All of it lives in one PostgreSQL schema
//!   ([`PgOptions::schema`], default `gpconnect`), so one database can hold
//!   several stores.
//! - **Booking correctness is the database's.** A command is one
//!   transaction. `book` locks its slots (`SELECT ... FOR UPDATE`, in id
//!   order so two bookings cannot deadlock), checks each is free at the
//!   version the caller read, bumps the limit counters with an upsert that
//!   returns the new count, and inserts one `slot_holds` row per slot:
//!   `slot_holds`' primary key `(ods, slot_id)` is the constraint that a
//!   slot has at most one live appointment, so even a booking that got past
//!   the checks could not take a held slot. `amend` and `cancel` are a
//!   version compare-and-swap (`UPDATE ... WHERE version = $expected AND
//!   status = 'booked'`); `cancel` then frees the slots the appointment
//!   still holds, deletes its holds and releases its counters.
//! - **Isolation.** Commands run at READ COMMITTED with explicit row locks:
//!   every check they make is on rows they have locked (or a conditional
//!   `UPDATE`, which re-checks its condition on the newest row after
//!   waiting for a lock), and locks are taken in one order (appointment,
//!   then slots by id, then counters by key). The exception is registering
//!   a new patient, whose check ("no patient has this NHS number") is about
//!   a row that does not exist yet, which no row lock can guard: it runs
//!   SERIALIZABLE. A serialization failure or deadlock rolls the whole
//!   transaction back, so it is run again, up to [`MAX_ATTEMPTS`] times; a
//!   booking that still cannot get through, or whose locks time out, lost
//!   the race for its slots and is [`StoreError::SlotUnavailable`] (409
//!   DUPLICATE_REJECTED), never a backend failure.
//! - **Pool** ([`pool`]): [`r2d2`] over blocking [`postgres`] clients (the
//!   port is synchronous), each keeping its prepared statements. Nothing
//!   is sent to check a connection on checkout; a command whose connection
//!   turns out dead (the server restarted) before it committed is run again
//!   on another, so a restart costs no failed command (one that loses its
//!   connection *during* COMMIT is not repeated: its outcome is unknown).
//!   Connect, checkout, statement and lock timeouts are [`PgOptions`].
//!   When the database is down a command fails after the checkout timeout
//!   with [`StoreError::Backend`] ("PostgreSQL is unavailable: ..."), which
//!   the engine answers with 500 INTERNAL_SERVER_ERROR and an
//!   OperationOutcome; the store works again as soon as the database does.
//! - **Versions and ids** come from PostgreSQL sequences (see [`schema`]):
//!   fresh and increasing like the reference store's, with gaps where a
//!   transaction failed after taking a value.
//! - **Reads** are single statements (one snapshot each). A read that
//!   finds nothing checks that the practice is hosted, to answer
//!   [`StoreError::UnknownPractice`] as the port requires.
//!
//! # Limits
//!
//! - Times the port queries by range (slot and appointment start and end,
//!   `last_modified`) are stored as nanoseconds in a `bigint`, so they must
//!   lie between 1677-09-21 and 2262-04-11; others are refused with
//!   [`StoreError::Rejected`].
//! - PostgreSQL text cannot hold the NUL character; a record containing
//!   one fails with [`StoreError::Backend`].
//!
//! # Tests
//!
//! The tests that need a server are compiled only when
//! `GPCONNECT_TEST_POSTGRES_URL` names one (`.ci/run` starts a throwaway
//! server and sets it): the storage conformance suite, the 8-thread race,
//! schema and error-mapping tests, and, when `GPCONNECT_TEST_POSTGRES_CTL`
//! names a command that stops and starts that server, a test that the store
//! fails cleanly while it is down and recovers. Each test store is a fresh
//! schema, dropped when the store is.

mod error;
mod import;
pub mod pool;
mod rows;
pub mod schema;
mod store;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use gpconnect_core::store::{StoreError, StoreResult};
use postgres::{Client, IsolationLevel, Transaction};

use crate::error::{Fail, R, backend, connection_lost, describe, lock_timeout, retryable};
use crate::pool::{Conn, Db, Manager};
pub use crate::schema::SCHEMA_VERSION;

/// How many times a transaction that hit a serialization failure or a
/// deadlock is run in all.
pub const MAX_ATTEMPTS: u32 = 8;

/// How a [`PgStore`] connects and where its tables live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// The PostgreSQL schema holding the store's tables (a lower-case
    /// identifier; created if missing).
    pub schema: String,
    /// Most connections the pool opens.
    pub pool_size: u32,
    /// How long opening one connection may take.
    pub connect_timeout: Duration,
    /// How long a command waits for a pooled connection (all in use, or the
    /// database unreachable) before failing with [`StoreError::Backend`].
    pub checkout_timeout: Duration,
    /// `statement_timeout`: the longest any statement may run.
    pub statement_timeout: Duration,
    /// `lock_timeout`: the longest a statement waits for a row lock.
    pub lock_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            schema: "gpconnect".to_owned(),
            pool_size: 16,
            connect_timeout: Duration::from_secs(5),
            checkout_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(10),
        }
    }
}

/// The pool, held in an option only so that [`PgStore`]'s `Drop` can drop
/// it off any tokio runtime (see [`off_runtime`]).
struct Pool(Option<r2d2::Pool<Manager>>);

impl Pool {
    fn get(&self) -> Result<r2d2::PooledConnection<Manager>, Fail> {
        match &self.0 {
            Some(pool) => Ok(pool.get()?),
            None => Err(Fail::Store(StoreError::Backend(
                "PostgreSQL: the store is closed".to_owned(),
            ))),
        }
    }

    fn state(&self) -> Option<r2d2::State> {
        self.0.as_ref().map(r2d2::Pool::state)
    }
}

/// Run `f`, which blocks on PostgreSQL, where blocking is allowed.
///
/// The `postgres` client drives a tokio runtime of its own, and tokio
/// panics when a runtime is entered (or dropped) on a thread that is
/// running another runtime's tasks. So a call from async code on a
/// multi-threaded runtime goes through `block_in_place` (which, on a
/// thread of the blocking pool, such as the server's request handlers use,
/// just runs `f`), and one from a current-thread runtime goes to a scoped
/// thread of its own. Anywhere else `f` simply runs.
fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Err(_) => f(),
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        Ok(_) => std::thread::scope(|s| match s.spawn(f).join() {
            Ok(v) => v,
            Err(panic) => std::panic::resume_unwind(panic),
        }),
    }
}

/// The storage port on PostgreSQL (see the crate docs).
pub struct PgStore {
    pool: Pool,
    schema: String,
    /// How many dead connections a command may meet before giving up: one
    /// more than the pool holds.
    reconnects: u32,
    /// Drop the schema when the store is dropped.
    temporary: bool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.pool.state();
        f.debug_struct("PgStore")
            .field("schema", &self.schema)
            .field("connections", &state.as_ref().map(|s| s.connections))
            .field("idle", &state.as_ref().map(|s| s.idle_connections))
            .field("temporary", &self.temporary)
            .finish()
    }
}

/// A unique schema name for a temporary store.
fn temporary_schema() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("gpconnect_tmp_{}_{n}_{nanos}", std::process::id())
}

impl PgStore {
    /// Connect to the database at `url` (`postgres://user:password@host:port/db`
    /// or a key=value connection string), create or upgrade the store's
    /// schema, and return the store.
    ///
    /// # Errors
    /// [`StoreError::Backend`]: the URL is invalid, the database cannot be
    /// reached, the schema name is not a plain identifier, or the schema
    /// was written by a newer build.
    pub fn open(url: &str, options: PgOptions) -> StoreResult<PgStore> {
        Self::open_inner(url, options, false)
    }

    /// [`open`](Self::open) in a fresh schema of its own, dropped (with
    /// everything in it) when the store is: for tests and benchmarks.
    ///
    /// # Errors
    /// As [`open`](Self::open).
    pub fn open_temporary(url: &str, options: PgOptions) -> StoreResult<PgStore> {
        let options = PgOptions {
            schema: temporary_schema(),
            ..options
        };
        Self::open_inner(url, options, true)
    }

    fn open_inner(url: &str, options: PgOptions, temporary: bool) -> StoreResult<PgStore> {
        if !schema::valid_schema_name(&options.schema) {
            return Err(StoreError::Backend(format!(
                "PostgreSQL: schema name {:?} must be a lower-case identifier \
                 (a-z, 0-9, _; not starting with a digit or pg_)",
                options.schema
            )));
        }
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Backend(format!("PostgreSQL: invalid connection URL: {e}")))?;
        config
            .connect_timeout(options.connect_timeout)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(30))
            .application_name("gpconnect")
            .options(&format!(
                "-c search_path={} -c statement_timeout={} -c lock_timeout={} \
                 -c idle_in_transaction_session_timeout={}",
                options.schema,
                options.statement_timeout.as_millis(),
                options.lock_timeout.as_millis(),
                options.statement_timeout.as_millis().max(1000) * 2,
            ));
        let pool = off_runtime(move || {
            r2d2::Pool::builder()
                .max_size(options.pool_size.max(1))
                .min_idle(Some(0))
                .connection_timeout(options.checkout_timeout)
                // No validation query per checkout (a round trip on every
                // command): a connection found dead by its first statement
                // is dropped and the work run again on another (see
                // `read` and `transaction_here`).
                .test_on_check_out(false)
                .build_unchecked(Manager { config })
        });
        let store = PgStore {
            reconnects: options.pool_size.max(1) + 1,
            pool: Pool(Some(pool)),
            schema: options.schema,
            temporary,
        };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&self) -> StoreResult<()> {
        off_runtime(|| self.migrate_here())
    }

    fn migrate_here(&self) -> StoreResult<()> {
        let what = "creating or upgrading the schema";
        let mut conn = self.pool.get().map_err(|f| backend(what, f))?;
        let result = (|| {
            let mut tx = conn.client.transaction()?;
            let v = schema::migrate(&mut tx, &self.schema)?;
            tx.commit()?;
            Ok(v)
        })();
        match result {
            Ok(_) => Ok(()),
            Err(schema::MigrateError::Pg(e)) => Err(backend(what, Fail::Pg(e))),
            Err(schema::MigrateError::TooNew(v)) => Err(StoreError::Backend(format!(
                "PostgreSQL: schema {} is at version {v}, newer than this build's {}; \
                 upgrade gpconnect",
                self.schema, SCHEMA_VERSION
            ))),
        }
    }

    /// The PostgreSQL schema the store's tables are in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The schema version recorded in the database.
    ///
    /// # Errors
    /// [`StoreError::Backend`] when the database cannot be read.
    pub fn schema_version(&self) -> StoreResult<i32> {
        self.read("reading the schema version", |db| {
            let row = db.query_opt("SELECT max(version) FROM schema_version", &[])?;
            Ok(row.and_then(|r| r.get::<_, Option<i32>>(0)).unwrap_or(0))
        })
    }

    /// Run `body` on a pooled connection outside a transaction (a read of
    /// one statement, or several that need not agree).
    fn read<T: Send>(
        &self,
        what: &str,
        mut body: impl FnMut(&mut Db<'_, Client>) -> R<T> + Send,
    ) -> StoreResult<T> {
        let run = || -> R<T> {
            let mut lost = 0;
            loop {
                let mut conn = self.pool.get()?;
                let Conn { client, statements } = &mut *conn;
                let mut db = Db { client, statements };
                // A read is one statement (or a few that need not agree):
                // run it again on another connection if this one was dead.
                match body(&mut db) {
                    Err(Fail::Pg(e)) if connection_lost(&e) && lost < self.reconnects => {
                        lost += 1;
                    }
                    other => return other,
                }
            }
        };
        off_runtime(run).map_err(|f| backend(what, f))
    }

    /// Run `body` in a transaction at `isolation` and commit it, running it
    /// again after a serialization failure or deadlock (the transaction was
    /// rolled back, so nothing of the failed attempt remains). An answer of
    /// the port (`Fail::Store`) rolls back and is returned as is. When every
    /// attempt lost, or a row lock timed out, the answer is `lost()`.
    fn transaction<T: Send>(
        &self,
        isolation: IsolationLevel,
        what: &str,
        lost: impl Fn() -> StoreError + Send,
        body: impl FnMut(&mut Db<'_, Transaction<'_>>) -> R<T> + Send,
    ) -> StoreResult<T> {
        off_runtime(|| self.transaction_here(isolation, what, lost, body))
    }

    fn transaction_here<T>(
        &self,
        isolation: IsolationLevel,
        what: &str,
        lost: impl Fn() -> StoreError,
        mut body: impl FnMut(&mut Db<'_, Transaction<'_>>) -> R<T>,
    ) -> StoreResult<T> {
        let mut attempt = 0;
        let mut dead = 0;
        loop {
            attempt += 1;
            let result = (|| -> R<T> {
                let mut conn = self.pool.get()?;
                let Conn { client, statements } = &mut *conn;
                let mut tx = client
                    .build_transaction()
                    .isolation_level(isolation)
                    .start()?;
                let out = body(&mut Db {
                    client: &mut tx,
                    statements,
                })?;
                // Losing the connection during COMMIT leaves the outcome
                // unknown: never run the command again after that.
                tx.commit().map_err(|e| {
                    if connection_lost(&e) {
                        Fail::Store(StoreError::Backend(format!(
                            "PostgreSQL: {what}: the connection was lost while committing, \
                             so the change may or may not have been made: {}",
                            describe(&e)
                        )))
                    } else {
                        Fail::Pg(e)
                    }
                })?;
                Ok(out)
            })();
            match result {
                Ok(out) => return Ok(out),
                // Before COMMIT, a dead connection rolled everything back:
                // run the command again on another one.
                Err(Fail::Pg(e)) if connection_lost(&e) && dead < self.reconnects => {
                    dead += 1;
                    attempt -= 1;
                }
                Err(Fail::Pg(e)) if retryable(&e) && attempt < MAX_ATTEMPTS => {
                    // Back off a little, more each time, so the transactions
                    // that collided do not collide again in step.
                    let jitter = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| u64::from(d.subsec_nanos()) % 500);
                    std::thread::sleep(Duration::from_micros(200 * u64::from(attempt) + jitter));
                }
                Err(Fail::Pg(e)) if retryable(&e) || lock_timeout(&e) => return Err(lost()),
                Err(f) => return Err(backend(what, f)),
            }
        }
    }

    /// The failure for "the database could not settle a conflict".
    fn gave_up(what: &'static str) -> impl Fn() -> StoreError {
        move || {
            StoreError::Backend(format!(
                "PostgreSQL: {what}: still conflicting with concurrent transactions after \
                 {MAX_ATTEMPTS} attempts"
            ))
        }
    }
}

impl Drop for PgStore {
    fn drop(&mut self) {
        let pool = self.pool.0.take();
        let drop_schema = self.temporary.then(|| self.schema.clone());
        off_runtime(move || {
            if let (Some(pool), Some(schema)) = (&pool, drop_schema) {
                if let Ok(mut conn) = pool.get() {
                    let _ = conn
                        .client
                        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
                }
            }
            drop(pool);
        });
    }
}
