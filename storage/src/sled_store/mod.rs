//! [`SledStore`]: the storage port on an embedded [sled] database.
//!
//! # Why it is built this way
//!
//! - **Each command inside one multi-tree transaction.** sled transactions
//!   read and write keys of several trees atomically but cannot range-scan,
//!   so every check a command makes is a point read: booking reads each
//!   slot by id and compares its status and version (a compare-and-swap on
//!   per-slot keys), reads the limit counters by key, and writes the slots,
//!   the appointment, the patient index entry, the counters and the
//!   id/version counters in the same transaction. Cancel frees the slots it
//!   still holds, decrements the counters and rewrites the appointment in
//!   one transaction; amend and cancel compare the appointment version
//!   inside it; registering a patient checks the NHS-number index (one key
//!   per number, holding the ids) inside it. sled runs transactions one at
//!   a time (a process-wide lock), so two clients racing for a slot get one
//!   booking and one [`StoreError::SlotUnavailable`] (R16).
//! - **Commit batching** (see `batch`): every sled transaction writes the
//!   log itself, so concurrent commands share a transaction: a leader runs
//!   the queued commands one after another inside one transaction (each
//!   still validates before it writes and sees its predecessors' writes; one
//!   that fails fails alone). This is what lets durable throughput grow with
//!   the number of clients.
//! - **Range reads scan index trees** whose keys sort by practice, then
//!   (schedule or patient,) then start, then id (the layout is in `keys`).
//!   Index entries are written in the same transaction as their records;
//!   the start, schedule and patient of a slot or appointment change only
//!   through import, so booking writes only the patient index entry. A
//!   range read is consistent per record (each record read is atomic), not
//!   a snapshot of the whole range.
//! - **Records are serde_json**, because the FHIR resources inside only
//!   support self-describing formats.
//! - **Versions and ids match [`MemoryStore`](crate::MemoryStore) exactly**
//!   (one global version sequence, appointment ids `1, 2, …`, patient ids
//!   `p1, p2, …`): they are counters in the `meta` tree, read and written in
//!   the command's own transaction, so a failed command consumes nothing.
//!   They are **never reused after a crash**: a transaction may hand out a
//!   value only below a *reservation* that is already durable (raised in
//!   blocks of [`SledOptions::counter_reserve_block`] and flushed before any
//!   transaction may use it). After an unclean shutdown each counter
//!   restarts at its durable reservation, above every value any client or
//!   reader could have seen, even from transactions committed but lost
//!   before a flush.
//! - **Durability.** [`Durability::Immediate`] (the default) acknowledges a
//!   command only after a flush that covers it, with **group commit** (see
//!   `group_commit`): concurrent committers share one flush.
//!   [`Durability::Buffered`] acknowledges on commit and lets sled's
//!   background flusher (every [`SledOptions::flush_every_ms`]) or
//!   [`SledStore::flush`] make it durable: a crash may lose the most recent
//!   acknowledged commands, never part of one.
//! - Closing ([`SledStore::close`], or dropping the store) flushes and marks
//!   the shutdown clean, so the next open continues every counter exactly.
//! - A [`StoreError::Backend`] from a command after its transaction
//!   committed (a failed flush) means the command may or may not survive a
//!   crash; sled errors are otherwise reported with what was being done.

mod batch;
mod group_commit;
pub(crate) mod keys;

use std::cell::Cell;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use gpconnect_core::store::*;
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError, ConflictableTransactionResult, TransactionError,
    TransactionalTree,
};

use batch::Batcher;
use group_commit::GroupCommit;

/// How many counter values one durable reservation covers by default. Each
/// reservation costs one flush; an unclean restart skips at most this many
/// values.
pub const RESERVE_BLOCK: u64 = 1 << 16;

/// When a command's changes are durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// A command returns only once it is durable (flushed and synced),
    /// sharing flushes between concurrent committers (group commit).
    #[default]
    Immediate,
    /// A command returns on commit; sled flushes in the background every
    /// [`SledOptions::flush_every_ms`]. A crash can lose the latest
    /// acknowledged commands (each completely), never corrupt the store.
    Buffered,
}

/// How to open a [`SledStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SledOptions {
    /// When commands are durable (default [`Durability::Immediate`]).
    pub durability: Durability,
    /// sled's page cache size in bytes (default 256 MiB).
    pub cache_capacity_bytes: u64,
    /// sled's background flush interval; `None` disables it (then
    /// [`Durability::Buffered`] data is durable only on [`SledStore::flush`]
    /// or close). Default 500 ms.
    pub flush_every_ms: Option<u64>,
    /// How many id/version values one durable counter reservation covers
    /// (default [`RESERVE_BLOCK`]): each reservation costs a flush, and an
    /// unclean restart skips up to this many values. At least 1.
    pub counter_reserve_block: u64,
}

impl Default for SledOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Immediate,
            cache_capacity_bytes: 256 * 1024 * 1024,
            flush_every_ms: Some(500),
            counter_reserve_block: RESERVE_BLOCK,
        }
    }
}

impl SledOptions {
    /// The default options with `durability`.
    pub fn with_durability(durability: Durability) -> Self {
        Self {
            durability,
            ..Self::default()
        }
    }
}

// Tree indices into `SledStore::trees` and a transaction's view: module
// constants below `TREES`, the length of both arrays, so indexing with them
// cannot fail.
const META: usize = 0;
const PRACTICES: usize = 1;
const ORGANIZATIONS: usize = 2;
const LOCATIONS: usize = 3;
const PRACTITIONERS: usize = 4;
const PATIENTS: usize = 5;
const PATIENTS_BY_NHS: usize = 6;
const SCHEDULES: usize = 7;
const SLOTS: usize = 8;
const SLOTS_BY_START: usize = 9;
const SLOTS_BY_SCHEDULE: usize = 10;
const APPOINTMENTS: usize = 11;
const APPOINTMENTS_BY_PATIENT: usize = 12;
const COUNTERS: usize = 13;
const TREES: usize = 14;

const TREE_NAMES: [&str; TREES] = [
    "meta",
    "practices",
    "organizations",
    "locations",
    "practitioners",
    "patients",
    "patients_by_nhs",
    "schedules",
    "slots",
    "slots_by_start",
    "slots_by_schedule",
    "appointments",
    "appointments_by_patient",
    "counters",
];

/// `meta` key of the on-disk format version.
const FORMAT_KEY: &[u8] = b"format";
/// The format this code writes.
const FORMAT: u64 = 1;
/// `meta` key present only while the store is closed cleanly.
const CLEAN_KEY: &[u8] = b"clean_shutdown";

/// The store's monotonic counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CounterId {
    /// Record versions (one sequence for every record, like the reference).
    Version = 0,
    /// Appointment ids.
    Appointment = 1,
    /// Registered patient ids.
    Patient = 2,
}

const COUNTER_IDS: [CounterId; 3] = [
    CounterId::Version,
    CounterId::Appointment,
    CounterId::Patient,
];

#[derive(Debug)]
struct Counter {
    /// `meta` key of the last value handed out.
    value_key: &'static [u8],
    /// `meta` key of the durable reservation.
    reserved_key: &'static [u8],
    /// Values strictly below this may be handed out: the reservation is
    /// durable. Updated only after the flush that made it so.
    durable_reserved: AtomicU64,
}

impl Counter {
    fn new(id: CounterId) -> Self {
        let (value_key, reserved_key): (&'static [u8], &'static [u8]) = match id {
            CounterId::Version => (b"counter/version", b"reserved/version"),
            CounterId::Appointment => (b"counter/appointment", b"reserved/appointment"),
            CounterId::Patient => (b"counter/patient", b"reserved/patient"),
        };
        Self {
            value_key,
            reserved_key,
            durable_reserved: AtomicU64::new(0),
        }
    }
}

/// Why a transaction closure stopped.
#[derive(Debug)]
enum Abort {
    /// The command fails with this error; nothing was written.
    Store(StoreError),
    /// A counter needs a durable reservation covering `upto` first; the
    /// transaction is retried after it.
    Reserve { counter: CounterId, upto: u64 },
    /// A command of a group failed after writing: the group is run again
    /// one transaction per command, so the failure undoes only its own.
    Split,
}

/// What a batched command returns.
#[derive(Debug)]
enum Done {
    Appointment(AppointmentRecord),
    Patient(PatientRecord),
}

/// A batched command: runs inside a group's transaction (possibly more than
/// once, if sled retries it), owning its inputs.
type Job = Box<dyn Fn(&Tx<'_>) -> TxResult<Done> + Send>;

type TxResult<T> = ConflictableTransactionResult<T, Abort>;

fn fail<T>(e: StoreError) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(Abort::Store(e)))
}

fn backend(context: &str, e: impl fmt::Display) -> StoreError {
    StoreError::Backend(format!("sled: {context}: {e}"))
}

fn decode<T: DeserializeOwned>(tree: usize, bytes: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(bytes)
        .map_err(|e| backend(&format!("corrupt record in tree `{}`", tree_name(tree)), e))
}

fn encode<T: Serialize>(tree: usize, value: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| {
        backend(
            &format!("encoding a record for tree `{}`", tree_name(tree)),
            e,
        )
    })
}

fn tree_name(tree: usize) -> &'static str {
    TREE_NAMES.get(tree).copied().unwrap_or("?")
}

fn read_u64(bytes: Option<&[u8]>) -> StoreResult<u64> {
    match bytes {
        None => Ok(0),
        Some(b) => <[u8; 8]>::try_from(b)
            .map(u64::from_be_bytes)
            .map_err(|_| StoreError::Backend(format!("sled: corrupt counter ({} bytes)", b.len()))),
    }
}

fn read_u32(bytes: Option<&[u8]>) -> StoreResult<u32> {
    match bytes {
        None => Ok(0),
        Some(b) => <[u8; 4]>::try_from(b).map(u32::from_be_bytes).map_err(|_| {
            StoreError::Backend(format!("sled: corrupt limit counter ({} bytes)", b.len()))
        }),
    }
}

fn not_found(kind: &'static str, id: &str) -> StoreError {
    StoreError::NotFound {
        kind,
        id: id.to_owned(),
    }
}

fn check_version(kind: &'static str, id: &str, expected: u64, actual: u64) -> StoreResult<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(StoreError::VersionConflict {
            kind,
            id: id.to_owned(),
            expected,
            actual,
        })
    }
}

/// The trees of one transaction.
struct Tx<'a> {
    trees: &'a [TransactionalTree; TREES],
    counters: &'a [Counter; 3],
    /// The current command wrote something (see [`Abort::Split`]).
    dirty: Cell<bool>,
}

impl Tx<'_> {
    fn get_json<T: DeserializeOwned>(&self, tree: usize, key: &[u8]) -> TxResult<Option<T>> {
        match self.trees[tree].get(key)? {
            None => Ok(None),
            Some(bytes) => match decode(tree, &bytes) {
                Ok(v) => Ok(Some(v)),
                Err(e) => fail(e),
            },
        }
    }

    fn put_raw(
        &self,
        tree: usize,
        key: impl AsRef<[u8]> + Into<sled::IVec>,
        value: &[u8],
    ) -> TxResult<()> {
        self.dirty.set(true);
        self.trees[tree].insert(key, value)?;
        Ok(())
    }

    fn put_json<T: Serialize>(&self, tree: usize, key: Vec<u8>, value: &T) -> TxResult<()> {
        match encode(tree, value) {
            Ok(bytes) => self.put_raw(tree, key, &bytes),
            Err(e) => fail(e),
        }
    }

    fn put_marker(&self, tree: usize, key: Vec<u8>) -> TxResult<()> {
        self.put_raw(tree, key, &[])
    }

    fn remove(&self, tree: usize, key: Vec<u8>) -> TxResult<()> {
        self.dirty.set(true);
        self.trees[tree].remove(key)?;
        Ok(())
    }

    fn require_practice(&self, ods: &str) -> TxResult<()> {
        if self.trees[PRACTICES].get(ods.as_bytes())?.is_some() {
            Ok(())
        } else {
            fail(StoreError::UnknownPractice(ods.to_owned()))
        }
    }

    fn counter_value(&self, id: CounterId) -> TxResult<(&Counter, u64)> {
        let counter = &self.counters[id as usize];
        let raw = self.trees[META].get(counter.value_key)?;
        match read_u64(raw.as_deref()) {
            Ok(v) => Ok((counter, v)),
            Err(e) => fail(e),
        }
    }

    fn set_counter(&self, id: CounterId, counter: &Counter, value: u64) -> TxResult<()> {
        if value >= counter.durable_reserved.load(Ordering::Acquire) {
            return Err(ConflictableTransactionError::Abort(Abort::Reserve {
                counter: id,
                upto: value,
            }));
        }
        self.put_raw(META, counter.value_key, &value.to_be_bytes())
    }

    /// The next value of a counter (see the module docs on reservations).
    fn next(&self, id: CounterId) -> TxResult<u64> {
        let (counter, current) = self.counter_value(id)?;
        let Some(next) = current.checked_add(1) else {
            return fail(StoreError::Backend(format!(
                "sled: counter {id:?} exhausted"
            )));
        };
        self.set_counter(id, counter, next)?;
        Ok(next)
    }

    /// Raise a counter to at least `value` (an imported appointment id).
    fn raise(&self, id: CounterId, value: u64) -> TxResult<()> {
        let (counter, current) = self.counter_value(id)?;
        if value > current {
            self.set_counter(id, counter, value)?;
        }
        Ok(())
    }

    /// Add (or remove) a patient id in the NHS-number index.
    fn index_nhs(&self, ods: &str, nhs: &str, id: &str, present: bool) -> TxResult<()> {
        let key = keys::nhs(ods, nhs);
        let mut ids: Vec<String> = self.get_json(PATIENTS_BY_NHS, &key)?.unwrap_or_default();
        match (ids.binary_search_by(|p| p.as_str().cmp(id)), present) {
            (Err(at), true) => ids.insert(at, id.to_owned()),
            (Ok(at), false) => {
                ids.remove(at);
            }
            _ => return Ok(()),
        }
        if ids.is_empty() {
            self.remove(PATIENTS_BY_NHS, key)
        } else {
            self.put_json(PATIENTS_BY_NHS, key, &ids)
        }
    }

    /// Upsert keeping the version when nothing else differs; returns the
    /// previous record and the written one, or `None` when unchanged.
    fn upsert<T: Serialize + DeserializeOwned + PartialEq>(
        &self,
        tree: usize,
        key: Vec<u8>,
        mut incoming: T,
        version: impl Fn(&mut T) -> &mut u64,
        summary: &mut ImportSummary,
    ) -> TxResult<Option<(Option<T>, T)>> {
        let existing: Option<T> = self.get_json(tree, &key)?;
        if let Some(mut old) = existing {
            *version(&mut incoming) = *version(&mut old);
            if old == incoming {
                summary.unchanged += 1;
                return Ok(None);
            }
            *version(&mut incoming) = self.next(CounterId::Version)?;
            self.put_json(tree, key, &incoming)?;
            summary.written += 1;
            return Ok(Some((Some(old), incoming)));
        }
        *version(&mut incoming) = self.next(CounterId::Version)?;
        self.put_json(tree, key, &incoming)?;
        summary.written += 1;
        Ok(Some((None, incoming)))
    }
}

/// The storage port on sled (see the module docs).
pub struct SledStore {
    db: sled::Db,
    trees: [sled::Tree; TREES],
    counters: [Counter; 3],
    durability: Durability,
    reserve_block: u64,
    /// Serialises reservations, so concurrent transactions needing one
    /// cause one flush.
    reserve_lock: Mutex<()>,
    batcher: Batcher<Job, StoreResult<Done>>,
    group: GroupCommit,
    closed: bool,
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SledStore")
            .field("durability", &self.durability)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

impl SledStore {
    /// Open (or create) the store in directory `path`. sled runs in its
    /// high-throughput mode (less segment cleaning than its space-saving
    /// default): a practice's appointment book is small, and durable
    /// booking throughput measured somewhat higher. Fails with
    /// [`StoreError::Backend`] if the directory is in use by another store
    /// or holds an unknown format.
    pub fn open(path: impl AsRef<Path>, options: SledOptions) -> StoreResult<Self> {
        let config = sled::Config::new()
            .path(path.as_ref())
            .mode(sled::Mode::HighThroughput)
            .cache_capacity(options.cache_capacity_bytes)
            .flush_every_ms(options.flush_every_ms);
        Self::open_config(config, &options).map_err(|e| match e {
            StoreError::Backend(m) => {
                StoreError::Backend(format!("{m} (store at {})", path.as_ref().display()))
            }
            other => other,
        })
    }

    /// A store in a fresh temporary directory that sled deletes when the
    /// store is dropped: for tests and examples.
    pub fn open_temporary(options: SledOptions) -> StoreResult<Self> {
        let config = sled::Config::new()
            .temporary(true)
            .mode(sled::Mode::HighThroughput)
            .cache_capacity(options.cache_capacity_bytes)
            .flush_every_ms(options.flush_every_ms);
        Self::open_config(config, &options)
    }

    fn open_config(config: sled::Config, options: &SledOptions) -> StoreResult<Self> {
        let db = config
            .open()
            .map_err(|e| backend("opening the database", e))?;
        let mut opened = Vec::with_capacity(TREES);
        for name in TREE_NAMES {
            opened.push(
                db.open_tree(name)
                    .map_err(|e| backend(&format!("opening tree `{name}`"), e))?,
            );
        }
        let trees = <[sled::Tree; TREES]>::try_from(opened)
            .map_err(|_| StoreError::Backend("sled: tree count mismatch".to_owned()))?;
        let meta = &trees[META];
        let get = |key: &[u8]| {
            meta.get(key)
                .map_err(|e| backend("reading the meta tree", e))
        };
        let format = read_u64(get(FORMAT_KEY)?.as_deref())?;
        if format == 0 {
            meta.insert(FORMAT_KEY, &FORMAT.to_be_bytes()[..])
                .map_err(|e| backend("writing the format version", e))?;
        } else if format != FORMAT {
            return Err(StoreError::Backend(format!(
                "sled: store format {format} is not supported (expected {FORMAT})"
            )));
        }
        let clean = get(CLEAN_KEY)?.is_some();
        let counters = COUNTER_IDS.map(Counter::new);
        for counter in &counters {
            let value = read_u64(get(counter.value_key)?.as_deref())?;
            let reserved = read_u64(get(counter.reserved_key)?.as_deref())?;
            if !clean && reserved > 0 && value < reserved - 1 {
                // Unclean shutdown: values up to `reserved - 1` may have been
                // handed out by transactions lost before a flush.
                meta.insert(counter.value_key, &(reserved - 1).to_be_bytes()[..])
                    .map_err(|e| backend("recovering a counter", e))?;
            }
            counter.durable_reserved.store(reserved, Ordering::Release);
        }
        // From now until a clean close, a crash is an unclean shutdown.
        meta.remove(CLEAN_KEY)
            .map_err(|e| backend("clearing the clean-shutdown flag", e))?;
        db.flush().map_err(|e| backend("flushing after open", e))?;
        Ok(Self {
            db,
            trees,
            counters,
            durability: options.durability,
            reserve_block: options.counter_reserve_block.max(1),
            reserve_lock: Mutex::new(()),
            batcher: Batcher::default(),
            group: GroupCommit::default(),
            closed: false,
        })
    }

    /// The durability commands get.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// Make every committed command durable (useful with
    /// [`Durability::Buffered`]).
    pub fn flush(&self) -> StoreResult<()> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| backend("flushing", e))
    }

    /// Flush and mark the shutdown clean. Dropping the store does the same
    /// but cannot report a failure.
    pub fn close(mut self) -> StoreResult<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> StoreResult<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.flush()?;
        self.trees[META]
            .insert(CLEAN_KEY, &[1u8][..])
            .map_err(|e| backend("setting the clean-shutdown flag", e))?;
        self.flush()
    }

    fn reserve(&self, id: CounterId, upto: u64) -> StoreResult<()> {
        let _guard = self
            .reserve_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let counter = &self.counters[id as usize];
        if upto < counter.durable_reserved.load(Ordering::Acquire) {
            return Ok(());
        }
        let reserved = upto
            .checked_add(self.reserve_block)
            .ok_or_else(|| StoreError::Backend(format!("sled: counter {id:?} exhausted")))?;
        self.trees[META]
            .insert(counter.reserved_key, &reserved.to_be_bytes()[..])
            .map_err(|e| backend("writing a counter reservation", e))?;
        self.db
            .flush()
            .map_err(|e| backend("flushing a counter reservation", e))?;
        counter.durable_reserved.store(reserved, Ordering::Release);
        Ok(())
    }

    /// Run `f` as one transaction over every tree, taking reservations and
    /// retrying as needed. Does not wait for durability. Fails with
    /// [`Abort::Store`] or [`Abort::Split`].
    fn transact_inner<T>(&self, f: impl Fn(&Tx<'_>) -> TxResult<T>) -> Result<T, Abort> {
        loop {
            let result = Transactional::<Abort>::transaction(
                &self.trees[..],
                |view: &Vec<TransactionalTree>| {
                    let Ok(trees) = <&[TransactionalTree; TREES]>::try_from(view.as_slice()) else {
                        return fail(StoreError::Backend(
                            "sled: transaction view has the wrong tree count".to_owned(),
                        ));
                    };
                    f(&Tx {
                        trees,
                        counters: &self.counters,
                        dirty: Cell::new(false),
                    })
                },
            );
            match result {
                Ok(v) => return Ok(v),
                Err(TransactionError::Abort(Abort::Reserve { counter, upto })) => {
                    self.reserve(counter, upto).map_err(Abort::Store)?;
                }
                Err(TransactionError::Abort(abort)) => return Err(abort),
                Err(TransactionError::Storage(e)) => {
                    return Err(Abort::Store(backend("transaction", e)));
                }
            }
        }
    }

    /// [`Self::transact_inner`] for one command.
    fn transact<T>(&self, f: impl Fn(&Tx<'_>) -> TxResult<T>) -> StoreResult<T> {
        match self.transact_inner(f) {
            Ok(v) => Ok(v),
            Err(Abort::Store(e)) => Err(e),
            Err(other) => Err(StoreError::Backend(format!(
                "sled: unexpected transaction abort {other:?}"
            ))),
        }
    }

    /// Run a group of commands in one transaction (see `batch`); returns
    /// their results in order.
    fn run_group(&self, jobs: Vec<Job>) -> Vec<StoreResult<Done>> {
        if let [job] = jobs.as_slice() {
            return vec![self.transact(|tx| job(tx))];
        }
        let grouped = self.transact_inner(|tx| {
            let mut out = Vec::with_capacity(jobs.len());
            for job in &jobs {
                tx.dirty.set(false);
                match job(tx) {
                    Ok(done) => out.push(Ok(done)),
                    // Failed before writing anything: it fails alone.
                    Err(ConflictableTransactionError::Abort(Abort::Store(e)))
                        if !tx.dirty.get() =>
                    {
                        out.push(Err(e))
                    }
                    Err(ConflictableTransactionError::Abort(Abort::Store(_))) => {
                        return Err(ConflictableTransactionError::Abort(Abort::Split));
                    }
                    Err(other) => return Err(other),
                }
            }
            Ok(out)
        });
        match grouped {
            Ok(results) => results,
            // One transaction per command: each failure undoes only itself.
            Err(Abort::Split) => jobs.iter().map(|job| self.transact(|tx| job(tx))).collect(),
            Err(Abort::Store(e)) => jobs.iter().map(|_| Err(e.clone())).collect(),
            Err(other) => jobs
                .iter()
                .map(|_| {
                    Err(StoreError::Backend(format!(
                        "sled: unexpected transaction abort {other:?}"
                    )))
                })
                .collect(),
        }
    }

    /// A command: committed in a group's transaction, then durable as
    /// promised.
    fn command(&self, job: Job) -> StoreResult<Done> {
        let done = self.batcher.submit(
            job,
            |jobs| self.run_group(jobs),
            || {
                Err(StoreError::Backend(
                    "sled: the command's group stopped without a result".to_owned(),
                ))
            },
        )?;
        self.durable()?;
        Ok(done)
    }

    /// Wait until everything committed so far is durable, if the store
    /// promises it.
    fn durable(&self) -> StoreResult<()> {
        if self.durability == Durability::Immediate {
            self.group.wait_durable(|| self.db.flush())?;
        }
        Ok(())
    }

    fn require_practice(&self, ods: &str) -> StoreResult<()> {
        match self.trees[PRACTICES].contains_key(ods.as_bytes()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::UnknownPractice(ods.to_owned())),
            Err(e) => Err(backend("reading the practices tree", e)),
        }
    }

    fn get_json<T: DeserializeOwned>(&self, tree: usize, key: &[u8]) -> StoreResult<Option<T>> {
        match self.trees[tree].get(key) {
            Ok(None) => Ok(None),
            Ok(Some(bytes)) => decode(tree, &bytes).map(Some),
            Err(e) => Err(backend(&format!("reading tree `{}`", tree_name(tree)), e)),
        }
    }

    /// A record of a practice by id.
    fn record<T: DeserializeOwned>(
        &self,
        tree: usize,
        ods: &str,
        id: &str,
    ) -> StoreResult<Option<T>> {
        self.require_practice(ods)?;
        self.get_json(tree, &keys::record(ods, id))
    }

    /// Every record of a practice in one tree, by id, that `keep` accepts.
    fn scan<T: DeserializeOwned>(
        &self,
        tree: usize,
        ods: &str,
        keep: impl Fn(&T) -> bool,
    ) -> StoreResult<Vec<T>> {
        self.require_practice(ods)?;
        let mut out = Vec::new();
        for item in self.trees[tree].scan_prefix(keys::practice(ods)) {
            let (_, bytes) =
                item.map_err(|e| backend(&format!("scanning `{}`", tree_name(tree)), e))?;
            let record: T = decode(tree, &bytes)?;
            if keep(&record) {
                out.push(record);
            }
        }
        Ok(out)
    }

    /// Records of `tree` whose ids end the index keys in `[lo, hi)`; `lo`
    /// and `hi` are bounds with an empty id, so every key in range has
    /// their length less the timestamp before its timestamp.
    fn index_range<T: DeserializeOwned>(
        &self,
        index: usize,
        tree: usize,
        ods: &str,
        lo: Vec<u8>,
        hi: Vec<u8>,
        keep: impl Fn(&T) -> bool,
    ) -> StoreResult<Vec<T>> {
        let prefix_len = lo.len().saturating_sub(keys::TS_LEN);
        let practice = keys::practice(ods);
        let mut record_key = practice.clone();
        let mut out = Vec::new();
        for item in self.trees[index].range(lo..hi) {
            let (key, _) =
                item.map_err(|e| backend(&format!("scanning `{}`", tree_name(index)), e))?;
            let Some(id) = keys::id_after_ts(&key, prefix_len) else {
                return Err(StoreError::Backend(format!(
                    "sled: malformed key in `{}`",
                    tree_name(index)
                )));
            };
            record_key.truncate(practice.len());
            record_key.extend_from_slice(id);
            // Records are never deleted, and an index entry is written with
            // its record, so a miss means corruption.
            let Some(record) = self.get_json::<T>(tree, &record_key)? else {
                return Err(StoreError::Backend(format!(
                    "sled: `{}` entry without a record in `{}`",
                    tree_name(index),
                    tree_name(tree)
                )));
            };
            // A concurrent import may have moved the record since the index
            // entry was read.
            if keep(&record) {
                out.push(record);
            }
        }
        Ok(out)
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        // Nothing can report a failure here; `close` does.
        let _ = self.shutdown();
    }
}

impl PracticeStore for SledStore {
    fn practice(&self, ods: &str) -> StoreResult<Option<PracticeRecord>> {
        self.get_json(PRACTICES, ods.as_bytes())
    }

    fn practices(&self) -> StoreResult<Vec<String>> {
        let mut out = Vec::new();
        for item in self.trees[PRACTICES].iter() {
            let (key, _) = item.map_err(|e| backend("scanning `practices`", e))?;
            out.push(
                String::from_utf8(key.to_vec())
                    .map_err(|e| backend("a practice key is not UTF-8", e))?,
            );
        }
        Ok(out)
    }

    fn patient(&self, ods: &str, id: &str) -> StoreResult<Option<PatientRecord>> {
        self.record(PATIENTS, ods, id)
    }

    fn patients_by_nhs_number(
        &self,
        ods: &str,
        nhs_number: &str,
    ) -> StoreResult<Vec<PatientRecord>> {
        self.require_practice(ods)?;
        let ids: Vec<String> = self
            .get_json(PATIENTS_BY_NHS, &keys::nhs(ods, nhs_number))?
            .unwrap_or_default();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(p) = self.get_json::<PatientRecord>(PATIENTS, &keys::record(ods, &id))? {
                if p.nhs_number == nhs_number {
                    out.push(p);
                }
            }
        }
        Ok(out)
    }

    fn practitioner(&self, ods: &str, id: &str) -> StoreResult<Option<PractitionerRecord>> {
        self.record(PRACTITIONERS, ods, id)
    }

    fn practitioners_by_sds_user_id(
        &self,
        ods: &str,
        sds_user_id: &str,
    ) -> StoreResult<Vec<PractitionerRecord>> {
        // A practice has tens of practitioners: a scan beats maintaining an
        // index on every import.
        self.scan(PRACTITIONERS, ods, |p: &PractitionerRecord| {
            p.sds_user_ids.iter().any(|s| s == sds_user_id)
        })
    }

    fn organization(&self, ods: &str, id: &str) -> StoreResult<Option<OrganizationRecord>> {
        self.record(ORGANIZATIONS, ods, id)
    }

    fn organizations_by_ods_code(
        &self,
        ods: &str,
        ods_code: &str,
    ) -> StoreResult<Vec<OrganizationRecord>> {
        self.scan(ORGANIZATIONS, ods, |o: &OrganizationRecord| {
            o.ods_code == ods_code
        })
    }

    fn location(&self, ods: &str, id: &str) -> StoreResult<Option<LocationRecord>> {
        self.record(LOCATIONS, ods, id)
    }

    fn schedule(&self, ods: &str, id: &str) -> StoreResult<Option<ScheduleRecord>> {
        self.record(SCHEDULES, ods, id)
    }

    fn slot(&self, ods: &str, id: &str) -> StoreResult<Option<SlotRecord>> {
        self.record(SLOTS, ods, id)
    }

    fn slots(&self, ods: &str, query: &SlotQuery<'_>) -> StoreResult<Vec<SlotRecord>> {
        if query.from >= query.to {
            return Ok(Vec::new());
        }
        self.require_practice(ods)?;
        let (from, to) = (query.from, query.to);
        let keep = |s: &SlotRecord| {
            s.start >= from
                && s.start < to
                && query.schedule_id.is_none_or(|id| s.schedule_id == id)
                && (!query.free_only || s.status == SlotStatus::Free)
        };
        match query.schedule_id {
            Some(schedule) => {
                let lo = keys::slot_schedule(ods, schedule, from, "");
                let hi = keys::slot_schedule(ods, schedule, to, "");
                self.index_range(SLOTS_BY_SCHEDULE, SLOTS, ods, lo, hi, keep)
            }
            None => {
                let lo = keys::slot_start(ods, from, "");
                let hi = keys::slot_start(ods, to, "");
                self.index_range(SLOTS_BY_START, SLOTS, ods, lo, hi, keep)
            }
        }
    }

    fn appointment(&self, ods: &str, id: &str) -> StoreResult<Option<AppointmentRecord>> {
        self.record(APPOINTMENTS, ods, id)
    }

    fn patient_appointments(
        &self,
        ods: &str,
        patient_id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<AppointmentRecord>> {
        if from >= to {
            return Ok(Vec::new());
        }
        self.require_practice(ods)?;
        let lo = keys::appointment_patient(ods, patient_id, from, "");
        let hi = keys::appointment_patient(ods, patient_id, to, "");
        self.index_range(
            APPOINTMENTS_BY_PATIENT,
            APPOINTMENTS,
            ods,
            lo,
            hi,
            |a: &AppointmentRecord| a.patient_id == patient_id && a.start >= from && a.start < to,
        )
    }

    fn book(&self, ods: &str, booking: NewBooking) -> StoreResult<AppointmentRecord> {
        let ods = ods.to_owned();
        let job: Job = Box::new(move |tx: &Tx<'_>| {
            let ods = ods.as_str();
            tx.require_practice(ods)?;
            // Validate everything before writing: a failed booking changes
            // nothing (and a slot named twice validates like the reference).
            let mut slots = Vec::with_capacity(booking.slots.len());
            for (slot_id, version) in &booking.slots {
                let key = keys::record(ods, slot_id);
                let Some(slot) = tx.get_json::<SlotRecord>(SLOTS, &key)? else {
                    return fail(not_found("Slot", slot_id));
                };
                if slot.status != SlotStatus::Free || slot.version != *version {
                    return fail(StoreError::SlotUnavailable {
                        slot_id: slot_id.clone(),
                    });
                }
                slots.push((key, slot));
            }
            let held = u32::try_from(booking.slots.len()).unwrap_or(u32::MAX);
            for limit in &booking.limits {
                let used = match read_u32(
                    tx.trees[COUNTERS]
                        .get(keys::counter(ods, &limit.key))?
                        .as_deref(),
                ) {
                    Ok(n) => n,
                    Err(e) => return fail(e),
                };
                if used.saturating_add(held) > limit.max {
                    return fail(StoreError::LimitReached {
                        key: limit.key.clone(),
                    });
                }
            }
            let id = tx.next(CounterId::Appointment)?.to_string();
            let version = tx.next(CounterId::Version)?;
            for (key, mut slot) in slots {
                slot.status = SlotStatus::Busy;
                slot.appointment_id = Some(id.clone());
                slot.version = version;
                tx.put_json(SLOTS, key, &slot)?;
            }
            for limit in &booking.limits {
                // Read again: a key named twice counts twice, as in the
                // reference.
                let key = keys::counter(ods, &limit.key);
                let used = match read_u32(tx.trees[COUNTERS].get(&key)?.as_deref()) {
                    Ok(n) => n,
                    Err(e) => return fail(e),
                };
                tx.put_raw(COUNTERS, key, &used.saturating_add(held).to_be_bytes())?;
            }
            let record = AppointmentRecord {
                id: id.clone(),
                version,
                status: AppointmentStatus::Booked,
                patient_id: booking.patient_id.clone(),
                slot_ids: booking.slots.iter().map(|(s, _)| s.clone()).collect(),
                start: booking.start,
                end: booking.end,
                booking_ods: booking.booking_ods.clone(),
                limit_keys: booking.limits.iter().map(|l| l.key.clone()).collect(),
                last_modified: booking.now,
                resource: booking.resource.clone(),
            };
            tx.put_marker(
                APPOINTMENTS_BY_PATIENT,
                keys::appointment_patient(ods, &record.patient_id, record.start, &id),
            )?;
            tx.put_json(APPOINTMENTS, keys::record(ods, &id), &record)?;
            Ok(Done::Appointment(record))
        });
        match self.command(job)? {
            Done::Appointment(record) => Ok(record),
            other => Err(StoreError::Backend(format!(
                "sled: unexpected command result {other:?}"
            ))),
        }
    }

    fn amend(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord> {
        let ods = ods.to_owned();
        let job: Job = Box::new(move |tx: &Tx<'_>| {
            let ods = ods.as_str();
            tx.require_practice(ods)?;
            let key = keys::record(ods, &change.id);
            let Some(mut record) = tx.get_json::<AppointmentRecord>(APPOINTMENTS, &key)? else {
                return fail(not_found("Appointment", &change.id));
            };
            if let Err(e) = check_version(
                "Appointment",
                &change.id,
                change.expected_version,
                record.version,
            ) {
                return fail(e);
            }
            if record.status == AppointmentStatus::Cancelled {
                return fail(StoreError::Rejected(format!(
                    "Appointment/{} is cancelled",
                    change.id
                )));
            }
            record.resource = change.resource.clone();
            record.last_modified = change.now;
            record.version = tx.next(CounterId::Version)?;
            tx.put_json(APPOINTMENTS, key, &record)?;
            Ok(Done::Appointment(record))
        });
        match self.command(job)? {
            Done::Appointment(record) => Ok(record),
            other => Err(StoreError::Backend(format!(
                "sled: unexpected command result {other:?}"
            ))),
        }
    }

    fn cancel(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord> {
        let ods = ods.to_owned();
        let job: Job = Box::new(move |tx: &Tx<'_>| {
            let ods = ods.as_str();
            tx.require_practice(ods)?;
            let key = keys::record(ods, &change.id);
            let Some(mut record) = tx.get_json::<AppointmentRecord>(APPOINTMENTS, &key)? else {
                return fail(not_found("Appointment", &change.id));
            };
            if let Err(e) = check_version(
                "Appointment",
                &change.id,
                change.expected_version,
                record.version,
            ) {
                return fail(e);
            }
            if record.status == AppointmentStatus::Cancelled {
                return fail(StoreError::Rejected(format!(
                    "Appointment/{} is already cancelled",
                    change.id
                )));
            }
            let version = tx.next(CounterId::Version)?;
            for slot_id in &record.slot_ids {
                let slot_key = keys::record(ods, slot_id);
                // Free only what this appointment still holds: a slot since
                // re-imported as busy, or never held, stays as it is.
                if let Some(mut slot) = tx.get_json::<SlotRecord>(SLOTS, &slot_key)? {
                    if slot.appointment_id.as_deref() == Some(record.id.as_str()) {
                        slot.status = SlotStatus::Free;
                        slot.appointment_id = None;
                        slot.version = version;
                        tx.put_json(SLOTS, slot_key, &slot)?;
                    }
                }
            }
            let held = u32::try_from(record.slot_ids.len()).unwrap_or(u32::MAX);
            for limit_key in &record.limit_keys {
                let key = keys::counter(ods, limit_key);
                if let Some(raw) = tx.trees[COUNTERS].get(&key)? {
                    let used = match read_u32(Some(&raw)) {
                        Ok(n) => n,
                        Err(e) => return fail(e),
                    };
                    tx.put_raw(COUNTERS, key, &used.saturating_sub(held).to_be_bytes())?;
                }
            }
            record.status = AppointmentStatus::Cancelled;
            record.resource = change.resource.clone();
            record.last_modified = change.now;
            record.version = version;
            tx.put_json(APPOINTMENTS, key, &record)?;
            Ok(Done::Appointment(record))
        });
        match self.command(job)? {
            Done::Appointment(record) => Ok(record),
            other => Err(StoreError::Backend(format!(
                "sled: unexpected command result {other:?}"
            ))),
        }
    }

    fn register_patient(
        &self,
        ods: &str,
        registration: PatientRegistration,
    ) -> StoreResult<PatientRecord> {
        let ods = ods.to_owned();
        let job: Job = Box::new(move |tx: &Tx<'_>| {
            let ods = ods.as_str();
            tx.require_practice(ods)?;
            match &registration {
                PatientRegistration::New {
                    nhs_number,
                    resource,
                    flags,
                } => {
                    let taken: Option<Vec<String>> =
                        tx.get_json(PATIENTS_BY_NHS, &keys::nhs(ods, nhs_number))?;
                    if taken.is_some_and(|ids| !ids.is_empty()) {
                        return fail(StoreError::DuplicatePatient);
                    }
                    let (id, key) = loop {
                        let id = format!("p{}", tx.next(CounterId::Patient)?);
                        let key = keys::record(ods, &id);
                        if tx.trees[PATIENTS].get(&key)?.is_none() {
                            break (id, key);
                        }
                    };
                    let record = PatientRecord {
                        id: id.clone(),
                        version: tx.next(CounterId::Version)?,
                        nhs_number: nhs_number.clone(),
                        resource: resource.clone(),
                        flags: flags.clone(),
                    };
                    tx.put_json(PATIENTS, key, &record)?;
                    tx.index_nhs(ods, nhs_number, &id, true)?;
                    Ok(Done::Patient(record))
                }
                PatientRegistration::Reactivate {
                    id,
                    expected_version,
                    resource,
                    flags,
                } => {
                    let key = keys::record(ods, id);
                    let Some(mut record) = tx.get_json::<PatientRecord>(PATIENTS, &key)? else {
                        return fail(not_found("Patient", id));
                    };
                    if let Err(e) = check_version("Patient", id, *expected_version, record.version)
                    {
                        return fail(e);
                    }
                    record.resource = resource.clone();
                    record.flags = flags.clone();
                    record.version = tx.next(CounterId::Version)?;
                    tx.put_json(PATIENTS, key, &record)?;
                    Ok(Done::Patient(record))
                }
            }
        });
        match self.command(job)? {
            Done::Patient(record) => Ok(record),
            other => Err(StoreError::Backend(format!(
                "sled: unexpected command result {other:?}"
            ))),
        }
    }

    fn import(&self, ods: &str, import: PracticeImport) -> StoreResult<ImportSummary> {
        // Reserve enough versions up front so a large import is not retried
        // once per reservation block.
        let records = 1
            + import.organizations.len()
            + import.locations.len()
            + import.practitioners.len()
            + import.patients.len()
            + import.schedules.len()
            + import.slots.len()
            + import.appointments.len();
        let counter = &self.counters[CounterId::Version as usize];
        let current = read_u64(
            self.trees[META]
                .get(counter.value_key)
                .map_err(|e| backend("reading the version counter", e))?
                .as_deref(),
        )?;
        let needed = current.saturating_add(records as u64);
        if needed >= counter.durable_reserved.load(Ordering::Acquire) {
            self.reserve(CounterId::Version, needed)?;
        }
        let summary = self.transact(|tx| {
            let mut summary = ImportSummary::default();
            let existing: Option<PracticeRecord> = tx.get_json(PRACTICES, ods.as_bytes())?;
            if let Some(incoming) = &import.practice {
                let mut record = incoming.clone();
                record.ods_code = ods.to_owned();
                match &existing {
                    Some(old)
                        if PracticeRecord {
                            version: old.version,
                            ..record.clone()
                        } == *old =>
                    {
                        summary.unchanged += 1;
                    }
                    _ => {
                        record.version = tx.next(CounterId::Version)?;
                        tx.put_json(PRACTICES, ods.as_bytes().to_vec(), &record)?;
                        summary.written += 1;
                    }
                }
            } else if existing.is_none() {
                return fail(StoreError::UnknownPractice(ods.to_owned()));
            }
            for r in &import.organizations {
                let key = keys::record(ods, &r.id);
                tx.upsert(
                    ORGANIZATIONS,
                    key,
                    r.clone(),
                    |r| &mut r.version,
                    &mut summary,
                )?;
            }
            for r in &import.locations {
                let key = keys::record(ods, &r.id);
                tx.upsert(LOCATIONS, key, r.clone(), |r| &mut r.version, &mut summary)?;
            }
            for r in &import.practitioners {
                let key = keys::record(ods, &r.id);
                tx.upsert(
                    PRACTITIONERS,
                    key,
                    r.clone(),
                    |r| &mut r.version,
                    &mut summary,
                )?;
            }
            for r in &import.patients {
                let key = keys::record(ods, &r.id);
                let changed =
                    tx.upsert(PATIENTS, key, r.clone(), |r| &mut r.version, &mut summary)?;
                if let Some((old, new)) = changed {
                    if let Some(old) = old.filter(|o| o.nhs_number != new.nhs_number) {
                        tx.index_nhs(ods, &old.nhs_number, &old.id, false)?;
                    }
                    tx.index_nhs(ods, &new.nhs_number, &new.id, true)?;
                }
            }
            for r in &import.schedules {
                let key = keys::record(ods, &r.id);
                tx.upsert(SCHEDULES, key, r.clone(), |r| &mut r.version, &mut summary)?;
            }
            for r in &import.slots {
                let key = keys::record(ods, &r.id);
                let changed = tx.upsert(SLOTS, key, r.clone(), |r| &mut r.version, &mut summary)?;
                if let Some((old, new)) = changed {
                    if let Some(old) = old {
                        tx.remove(SLOTS_BY_START, keys::slot_start(ods, old.start, &old.id))?;
                        tx.remove(
                            SLOTS_BY_SCHEDULE,
                            keys::slot_schedule(ods, &old.schedule_id, old.start, &old.id),
                        )?;
                    }
                    tx.put_marker(SLOTS_BY_START, keys::slot_start(ods, new.start, &new.id))?;
                    tx.put_marker(
                        SLOTS_BY_SCHEDULE,
                        keys::slot_schedule(ods, &new.schedule_id, new.start, &new.id),
                    )?;
                }
            }
            for r in &import.appointments {
                let key = keys::record(ods, &r.id);
                let changed = tx.upsert(
                    APPOINTMENTS,
                    key,
                    r.clone(),
                    |r| &mut r.version,
                    &mut summary,
                )?;
                if let Some((old, new)) = changed {
                    if let Some(old) = old {
                        tx.remove(
                            APPOINTMENTS_BY_PATIENT,
                            keys::appointment_patient(ods, &old.patient_id, old.start, &old.id),
                        )?;
                    }
                    tx.put_marker(
                        APPOINTMENTS_BY_PATIENT,
                        keys::appointment_patient(ods, &new.patient_id, new.start, &new.id),
                    )?;
                }
                // Later bookings must not take an imported numeric id.
                if let Ok(n) = r.id.parse::<u64>() {
                    tx.raise(CounterId::Appointment, n)?;
                }
            }
            Ok(summary)
        })?;
        self.durable()?;
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> SledStore {
        let store = SledStore::open_temporary(SledOptions::with_durability(Durability::Buffered))
            .expect("open");
        store
            .import(
                "A1",
                PracticeImport {
                    practice: Some(gpconnect_core::testkit::practice_record()),
                    ..Default::default()
                },
            )
            .expect("import");
        store
    }

    /// A job that writes `key` to the counters tree, then fails if asked.
    fn job(key: &'static str, fail_after_write: bool, fail_before: bool) -> Job {
        Box::new(move |tx: &Tx<'_>| {
            if fail_before {
                return fail(StoreError::Rejected(format!("{key} refused")));
            }
            tx.put_raw(COUNTERS, keys::counter("A1", key), &1u32.to_be_bytes())?;
            if fail_after_write {
                return fail(StoreError::Rejected(format!("{key} failed late")));
            }
            Ok(Done::Patient(PatientRecord {
                id: key.to_owned(),
                version: 0,
                nhs_number: String::new(),
                resource: Default::default(),
                flags: Default::default(),
            }))
        })
    }

    fn written(store: &SledStore, key: &str) -> bool {
        store.trees[COUNTERS]
            .get(keys::counter("A1", key))
            .expect("read")
            .is_some()
    }

    #[test]
    fn a_group_command_failing_before_writing_fails_alone() {
        let store = store();
        let results = store.run_group(vec![
            job("a", false, false),
            job("b", false, true),
            job("c", false, false),
        ]);
        assert!(matches!(results[0], Ok(Done::Patient(_))));
        assert!(matches!(results[1], Err(StoreError::Rejected(_))));
        assert!(matches!(results[2], Ok(Done::Patient(_))));
        assert!(written(&store, "a") && !written(&store, "b") && written(&store, "c"));
    }

    #[test]
    fn a_group_command_failing_after_writing_undoes_only_its_own_writes() {
        let store = store();
        let results = store.run_group(vec![
            job("a", false, false),
            job("b", true, false),
            job("c", false, false),
        ]);
        assert!(matches!(results[0], Ok(Done::Patient(_))));
        assert!(matches!(&results[1], Err(StoreError::Rejected(m)) if m.contains("late")));
        assert!(matches!(results[2], Ok(Done::Patient(_))));
        assert!(written(&store, "a") && !written(&store, "b") && written(&store, "c"));
    }

    #[test]
    fn reopening_after_a_clean_close_continues_every_counter_exactly() {
        let dir = tempfile::tempdir().expect("dir");
        let before = {
            let store = SledStore::open(dir.path(), SledOptions::default()).expect("open");
            store
                .import(
                    "A1",
                    PracticeImport {
                        practice: Some(gpconnect_core::testkit::practice_record()),
                        ..Default::default()
                    },
                )
                .expect("import");
            let p = store
                .register_patient(
                    "A1",
                    PatientRegistration::New {
                        nhs_number: "9000000009".into(),
                        resource: Default::default(),
                        flags: Default::default(),
                    },
                )
                .expect("register");
            store.close().expect("close");
            p
        };
        let store = SledStore::open(dir.path(), SledOptions::default()).expect("reopen");
        assert_eq!(
            store.patient("A1", &before.id).expect("read"),
            Some(before.clone())
        );
        let next = store
            .register_patient(
                "A1",
                PatientRegistration::New {
                    nhs_number: "9000000017".into(),
                    resource: Default::default(),
                    flags: Default::default(),
                },
            )
            .expect("register");
        assert_eq!(next.version, before.version + 1);
        assert_eq!(next.id, "p2");
    }

    #[test]
    fn a_second_open_of_the_same_directory_fails_cleanly() {
        let dir = tempfile::tempdir().expect("dir");
        let _first = SledStore::open(dir.path(), SledOptions::default()).expect("open");
        let second = SledStore::open(dir.path(), SledOptions::default());
        assert!(matches!(second, Err(StoreError::Backend(_))), "{second:?}");
    }

    #[test]
    fn an_unknown_format_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        {
            let store = SledStore::open(dir.path(), SledOptions::default()).expect("open");
            store.trees[META]
                .insert(FORMAT_KEY, &99u64.to_be_bytes()[..])
                .expect("write");
            store.close().expect("close");
        }
        let err = SledStore::open(dir.path(), SledOptions::default()).expect_err("refused");
        assert!(
            matches!(&err, StoreError::Backend(m) if m.contains("format 99")),
            "{err:?}"
        );
    }
}
