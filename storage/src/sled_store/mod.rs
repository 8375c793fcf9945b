//! [`SledStore`]: the storage port on an embedded [sled] database.
//!
//! # Why it is built this way
//!
//! - **One log write per group of commands.** Every sled 0.34 transaction
//!   and every `Tree::apply_batch` *pins the log* (it seals the current I/O
//!   buffer, which starts a write of it, to place a batch manifest), so a
//!   durable command built on either costs two log writes (its own and the
//!   flush's) where a plain `insert` + `flush` costs one. Commands therefore
//!   use neither: this process is the only writer, so commands are
//!   serialised by a store-level mutex (the writer) and validated against
//!   the current state under it, and their writes go to sled as plain
//!   `insert`s and `remove`s, made atomic by a **redo record** (below). A
//!   group of queued commands shares one redo record and one flush, so a
//!   durable booking costs one log write (plus `fsync`), like raw sled.
//! - **Commit batching** (see `batch`): the first committer to find no
//!   leader takes every queued command and runs them one after another
//!   under the writer mutex. Each validates against the store *plus* the
//!   writes of the commands before it in the group (an in-memory overlay)
//!   and records its own writes in its own overlay, which joins the group's
//!   only if it succeeds: a command that fails changes nothing, and a later
//!   command sees exactly what it would have seen had they run one by one.
//!   Two clients racing for a slot get one booking and one
//!   [`StoreError::SlotUnavailable`] (R16).
//! - **The redo record.** A group commits by (1) inserting one `meta` key
//!   `redo/<n>` whose value lists every write of the group (format in
//!   `codec`), then (2) applying those writes as plain inserts/removes, then
//!   (3) removing `redo/<n>`. A single `insert` is one log message, so it is
//!   atomic. sled recovers its log **in order and stops at the first torn
//!   message**, so what survives a crash is a *prefix* of the log, and the
//!   redo record precedes every write it lists (one thread issues them in
//!   order). So after a crash either the record is absent, and so is every
//!   write of its group, or it is present and opening the store replays it
//!   (the writes are absolute values, so replaying writes already applied is
//!   harmless) and then removes it. A group whose writes exceed
//!   [`REDO_SPLIT`] bytes is committed in several such steps, each covering
//!   whole commands, so no redo record becomes a sled blob. Concurrent
//!   readers never see half a group: steps (1)–(3) run under the write side
//!   of a visibility lock whose read side every point read holds.
//! - **Import** (rare, and possibly tens of thousands of records) runs as
//!   one sled multi-tree transaction under the writer mutex, which is
//!   crash-atomic through sled's own batch manifest.
//! - **Range reads scan index trees** whose keys sort by practice, then
//!   (schedule or patient,) then start, then id (the layout is in `keys`).
//!   The slot indexes are *covering*: their values are the encoded slot, so
//!   a slot search reads no record tree, and a free-only search skips a busy
//!   slot by its first byte without decoding it (see `codec`). A range read
//!   is consistent per record, not a snapshot of the whole range.
//! - **Records are serde_json**, because the FHIR resources inside only
//!   support self-describing formats, except slots, which hold no FHIR and
//!   use the compact binary encoding of `codec`.
//! - **Versions and ids match [`MemoryStore`](crate::MemoryStore) exactly**
//!   (one global version sequence, appointment ids `1, 2, …`, patient ids
//!   `p1, p2, …`). The counters live in memory under the writer mutex (a
//!   failed command restores them, so it consumes nothing) and are written
//!   to `meta` on a clean close and around an import. They are **never
//!   reused after a crash**: a command may hand out a value only below a
//!   *reservation* that is already durable (raised in blocks of
//!   [`SledOptions::counter_reserve_block`] and flushed before any command
//!   may use it). After an unclean shutdown each counter restarts at its
//!   durable reservation, above every value any client or reader could have
//!   seen, even from commands applied but lost before a flush.
//! - **Durability.** [`Durability::Immediate`] (the default) acknowledges a
//!   command only after a flush that covers it, with **group commit** (see
//!   `group_commit`): concurrent committers share one flush.
//!   [`Durability::Synced`] adds an `fdatasync` of sled's log to each
//!   group's flush, for stable storage across power loss (sled's own flush
//!   is `sync_file_range` on Linux; see [`Durability`]).
//!   [`Durability::Buffered`] acknowledges on commit and lets sled's
//!   background flusher (every [`SledOptions::flush_every_ms`]) or
//!   [`SledStore::flush`] make it durable: a crash may lose the most recent
//!   acknowledged commands, never part of one.
//! - Closing ([`SledStore::close`], or dropping the store) writes the
//!   counters, flushes and marks the shutdown clean, so the next open
//!   continues every counter exactly.
//! - A [`StoreError::Backend`] from a command after it was validated (a
//!   failed write or flush) means the command may or may not survive a
//!   crash; sled errors are otherwise reported with what was being done. A
//!   failed write while applying a group leaves its redo record behind,
//!   whose replay on the next open could undo later writes, so the store
//!   then refuses every further command and import until it is reopened
//!   (which replays the record).

mod batch;
mod codec;
mod group_commit;
pub(crate) mod keys;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use gpconnect_core::store::*;
use gpconnect_render::{ClinicalRecord, Section};
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sled::IVec;
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

/// A group's writes are committed (redo record, apply) as soon as they
/// reach this many bytes, so a redo record stays far below sled's blob
/// threshold (a quarter of a 512 KiB segment), where a message would go to
/// a separate file.
pub const REDO_SPLIT: usize = 32 * 1024;
/// How long opening waits for a directory's lock that a just-closed store
/// may still hold (see `SledStore::open_db`).
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// When a command's changes are durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// A command returns only once sled has flushed the log write that
    /// holds it, sharing flushes between concurrent committers (group
    /// commit). The write has then left the process and reached the
    /// device: it survives the process being killed (`kill -9`). sled
    /// 0.34's flush on Linux is `sync_file_range`, which neither persists
    /// the log file's size nor flushes the device's volatile write cache,
    /// so on power loss or an OS crash the latest acknowledged commands may
    /// be lost (each completely, never part of one) — the guarantee of
    /// SQLite's WAL mode with `synchronous=NORMAL`. Use
    /// [`Durability::Synced`] where that matters.
    #[default]
    Immediate,
    /// As [`Durability::Immediate`], and the group's flush is followed by
    /// `fdatasync` of sled's log file, so an acknowledged command is on
    /// stable storage and survives power loss. It costs the disk's real
    /// sync latency once per group (see `BENCHMARKS.md`).
    ///
    /// sled writes a value larger than its blob threshold (a quarter of a
    /// segment, 128 KiB) to a file of its own under `blobs/` and never
    /// syncs that file. Commands never write one (a group's redo record is
    /// split at [`REDO_SPLIT`]); an import can (a long clinical record), so
    /// a synced store also syncs the blob files when an import commits.
    Synced,
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
const CLINICAL_RECORDS: usize = 14;
const TREES: usize = 15;

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
    "clinical_records",
];

/// `meta` key of the on-disk format version.
const FORMAT_KEY: &[u8] = b"format";
/// The format this code writes: 2 has binary slots, covering slot indexes
/// and redo records; 3 adds the `clinical_records` tree, the Access Record
/// practice settings and the patient flags' record-in-transit *date* (a
/// format-2 patient's `record_in_transit` is a boolean, which 3 cannot
/// read, so a format-2 store is refused: re-import the practice into a new
/// directory).
const FORMAT: u64 = 3;
/// `meta` key present only while the store is closed cleanly.
const CLEAN_KEY: &[u8] = b"clean_shutdown";
/// `meta` key prefix of redo records (then the group number, big-endian).
const REDO_PREFIX: &[u8] = b"redo/";

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
    /// `meta` key of the last value handed out (written on close and around
    /// imports).
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

/// Why an import transaction closure stopped.
#[derive(Debug)]
enum Abort {
    /// The import fails with this error; nothing was written.
    Store(StoreError),
    /// A counter needs a durable reservation covering `upto` first; the
    /// transaction is retried after it.
    Reserve { counter: CounterId, upto: u64 },
}

/// What a batched command returns.
#[derive(Debug)]
enum Done {
    Appointment(AppointmentRecord),
    Patient(PatientRecord),
}

/// A batched command: runs once, under the writer mutex, against a
/// [`View`], owning its inputs.
type Job = Box<dyn FnOnce(&mut View<'_>) -> StoreResult<Done> + Send>;

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

fn decode_slot(bytes: &[u8]) -> StoreResult<SlotRecord> {
    codec::decode_slot(bytes)
        .ok_or_else(|| StoreError::Backend("sled: corrupt slot record".to_owned()))
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

/// The booked appointment a change names, at the version it expects (R30,
/// R37), with its record key; a cancelled one is refused (R29, R41).
fn booked_appointment(
    v: &View<'_>,
    ods: &str,
    change: &AppointmentChange,
    if_cancelled: &str,
) -> StoreResult<(Vec<u8>, AppointmentRecord)> {
    let key = keys::record(ods, &change.id);
    let Some(record) = v.get_json::<AppointmentRecord>(APPOINTMENTS, &key)? else {
        return Err(not_found("Appointment", &change.id));
    };
    check_version(
        "Appointment",
        &change.id,
        change.expected_version,
        record.version,
    )?;
    if record.status == AppointmentStatus::Cancelled {
        return Err(StoreError::Rejected(format!(
            "Appointment/{} {if_cancelled}",
            change.id
        )));
    }
    Ok((key, record))
}

/// The two covering index keys of a slot.
fn slot_index_keys(ods: &str, slot: &SlotRecord) -> [(usize, Vec<u8>); 2] {
    [
        (SLOTS_BY_START, keys::slot_start(ods, slot.start, &slot.id)),
        (
            SLOTS_BY_SCHEDULE,
            keys::slot_schedule(ods, &slot.schedule_id, slot.start, &slot.id),
        ),
    ]
}

/// The trees of one import transaction.
struct Tx<'a> {
    trees: &'a [TransactionalTree; TREES],
    counters: &'a [Counter; 3],
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
        key: impl AsRef<[u8]> + Into<IVec>,
        value: impl Into<IVec>,
    ) -> TxResult<()> {
        self.trees[tree].insert(key, value)?;
        Ok(())
    }

    fn put_json<T: Serialize>(&self, tree: usize, key: Vec<u8>, value: &T) -> TxResult<()> {
        match encode(tree, value) {
            Ok(bytes) => self.put_raw(tree, key, bytes),
            Err(e) => fail(e),
        }
    }

    fn put_marker(&self, tree: usize, key: Vec<u8>) -> TxResult<()> {
        self.put_raw(tree, key, &[][..])
    }

    fn remove(&self, tree: usize, key: Vec<u8>) -> TxResult<()> {
        self.trees[tree].remove(key)?;
        Ok(())
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
        self.put_raw(META, counter.value_key, &value.to_be_bytes()[..])
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

    /// Replace a patient's clinical record, list by list (an empty list has
    /// no key); counts one record, unchanged when every list already holds
    /// exactly these bytes.
    fn replace_clinical_record(
        &self,
        ods: &str,
        incoming: &PatientClinicalRecord,
        summary: &mut ImportSummary,
    ) -> TxResult<()> {
        let mut changed = false;
        for list in ClinicalList::ALL {
            let key = keys::clinical(ods, &incoming.patient_id, list.tag());
            let bytes = match list.to_json(&incoming.record) {
                Ok(b) => b,
                Err(e) => {
                    return fail(backend(
                        &format!("encoding clinical record list `{}`", list.name()),
                        e,
                    ));
                }
            };
            let existing = self.trees[CLINICAL_RECORDS].get(&key)?;
            if existing.as_deref() == bytes.as_deref() {
                continue;
            }
            changed = true;
            match bytes {
                Some(b) => self.put_raw(CLINICAL_RECORDS, key, b)?,
                None => self.remove(CLINICAL_RECORDS, key)?,
            }
        }
        if changed {
            summary.written += 1;
        } else {
            summary.unchanged += 1;
        }
        Ok(())
    }

    /// [`Self::upsert`] for a slot: binary, with its covering index entries.
    fn upsert_slot(
        &self,
        ods: &str,
        mut incoming: SlotRecord,
        summary: &mut ImportSummary,
    ) -> TxResult<()> {
        let key = keys::record(ods, &incoming.id);
        let existing = match self.trees[SLOTS].get(&key)? {
            None => None,
            Some(bytes) => match decode_slot(&bytes) {
                Ok(s) => Some(s),
                Err(e) => return fail(e),
            },
        };
        if let Some(old) = &existing {
            incoming.version = old.version;
            if *old == incoming {
                summary.unchanged += 1;
                return Ok(());
            }
            for (index, k) in slot_index_keys(ods, old) {
                self.remove(index, k)?;
            }
        }
        incoming.version = self.next(CounterId::Version)?;
        let bytes = IVec::from(codec::encode_slot(&incoming));
        self.put_raw(SLOTS, key, bytes.clone())?;
        for (index, k) in slot_index_keys(ods, &incoming) {
            self.put_raw(index, k, bytes.clone())?;
        }
        summary.written += 1;
        Ok(())
    }
}

/// Writes not yet in sled, per tree: `None` removes the key.
type Overlay = [BTreeMap<Vec<u8>, Option<IVec>>; TREES];

fn overlay() -> Overlay {
    std::array::from_fn(|_| BTreeMap::new())
}

/// What the writer mutex guards.
#[derive(Debug)]
struct Writer {
    /// The counters' current values (the last value handed out).
    values: [u64; 3],
    /// The next redo record's number.
    redo_seq: u64,
    /// Why applying a group failed, if it did: a redo record may then be
    /// left in `meta`, and a later group's writes could be undone by its
    /// replay, so the store takes no more writes until reopened.
    broken: Option<StoreError>,
}

/// What a command sees and writes: the store, the writes of the commands
/// before it in its group, and its own writes (see the module docs).
struct View<'a> {
    store: &'a SledStore,
    group: &'a Overlay,
    mine: Overlay,
    /// Bytes of keys and values in `mine`.
    bytes: usize,
    values: &'a mut [u64; 3],
}

impl View<'_> {
    fn get(&self, tree: usize, key: &[u8]) -> StoreResult<Option<IVec>> {
        if let Some(v) = self.mine[tree].get(key) {
            return Ok(v.clone());
        }
        if let Some(v) = self.group[tree].get(key) {
            return Ok(v.clone());
        }
        self.store.trees[tree]
            .get(key)
            .map_err(|e| backend(&format!("reading tree `{}`", tree_name(tree)), e))
    }

    fn get_json<T: DeserializeOwned>(&self, tree: usize, key: &[u8]) -> StoreResult<Option<T>> {
        match self.get(tree, key)? {
            None => Ok(None),
            Some(bytes) => decode(tree, &bytes).map(Some),
        }
    }

    fn put(&mut self, tree: usize, key: Vec<u8>, value: Option<IVec>) {
        self.bytes += key.len() + value.as_ref().map_or(0, |v| v.len()) + 10;
        self.mine[tree].insert(key, value);
    }

    fn put_json<T: Serialize>(&mut self, tree: usize, key: Vec<u8>, value: &T) -> StoreResult<()> {
        let bytes = encode(tree, value)?;
        self.put(tree, key, Some(IVec::from(bytes)));
        Ok(())
    }

    fn require_practice(&self, ods: &str) -> StoreResult<()> {
        if self.get(PRACTICES, ods.as_bytes())?.is_some() {
            Ok(())
        } else {
            Err(StoreError::UnknownPractice(ods.to_owned()))
        }
    }

    fn slot(&self, ods: &str, id: &str) -> StoreResult<Option<SlotRecord>> {
        match self.get(SLOTS, &keys::record(ods, id))? {
            None => Ok(None),
            Some(bytes) => decode_slot(&bytes).map(Some),
        }
    }

    /// Write a slot and its covering index entries (a command never changes
    /// a slot's start or schedule, so the index keys stay the same).
    fn put_slot(&mut self, ods: &str, slot: &SlotRecord) {
        let bytes = IVec::from(codec::encode_slot(slot));
        for (index, key) in slot_index_keys(ods, slot) {
            self.put(index, key, Some(bytes.clone()));
        }
        self.put(SLOTS, keys::record(ods, &slot.id), Some(bytes));
    }

    fn limit_used(&self, ods: &str, key: &str) -> StoreResult<u32> {
        read_u32(self.get(COUNTERS, &keys::counter(ods, key))?.as_deref())
    }

    /// The next value of a counter (see the module docs on reservations).
    fn next(&mut self, id: CounterId) -> StoreResult<u64> {
        let slot = &mut self.values[id as usize];
        let next = slot
            .checked_add(1)
            .ok_or_else(|| StoreError::Backend(format!("sled: counter {id:?} exhausted")))?;
        self.store.ensure_reserved(id, next)?;
        *slot = next;
        Ok(next)
    }

    /// Add a patient id to the NHS-number index.
    fn index_nhs(&mut self, ods: &str, nhs: &str, id: &str) -> StoreResult<()> {
        let key = keys::nhs(ods, nhs);
        let mut ids: Vec<String> = self.get_json(PATIENTS_BY_NHS, &key)?.unwrap_or_default();
        if let Err(at) = ids.binary_search_by(|p| p.as_str().cmp(id)) {
            ids.insert(at, id.to_owned());
            self.put_json(PATIENTS_BY_NHS, key, &ids)?;
        }
        Ok(())
    }
}

/// The storage port on sled (see the module docs).
pub struct SledStore {
    db: sled::Db,
    trees: [sled::Tree; TREES],
    counters: [Counter; 3],
    durability: Durability,
    reserve_block: u64,
    /// Serialises every write (commands and imports): this process is the
    /// only writer.
    writer: Mutex<Writer>,
    /// Held for writing while a group's writes are applied, for reading by
    /// point reads, so no reader sees half a group.
    visible: RwLock<()>,
    batcher: Batcher<Job, StoreResult<Done>>,
    group: GroupCommit,
    /// sled's log file, synced after each flush, and its blob directory,
    /// synced after an import: [`Durability::Synced`] only.
    log: Option<std::fs::File>,
    blobs: Option<std::path::PathBuf>,
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

/// Flush `db`'s log, then `fdatasync` `log` if given (see
/// [`Durability::Synced`] for why sled's flush alone is not enough).
fn sync_log(db: &sled::Db, log: Option<&std::fs::File>) -> sled::Result<usize> {
    let flushed = db.flush()?;
    if let Some(log) = log {
        log.sync_data()?;
    }
    Ok(flushed)
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

    /// Open sled's database, waiting up to [`LOCK_WAIT`] for the directory's
    /// lock. A store closed (or dropped) a moment ago can still hold it:
    /// sled releases its file through background I/O work and epoch-deferred
    /// drops that finish after `Db` is gone (sled's own tests block on the
    /// lock for this reason). A directory another live store holds still
    /// fails, after the wait.
    fn open_db(config: &sled::Config) -> StoreResult<sled::Db> {
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match config.open() {
                Err(sled::Error::Io(e))
                    if e.to_string().starts_with("could not acquire lock")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other.map_err(|e| backend("opening the database", e)),
            }
        }
    }

    fn open_config(config: sled::Config, options: &SledOptions) -> StoreResult<Self> {
        let db = Self::open_db(&config)?;
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
        replay_redo(&trees)?;
        let clean = get(CLEAN_KEY)?.is_some();
        let counters = COUNTER_IDS.map(Counter::new);
        let mut values = [0u64; 3];
        for (counter, value) in counters.iter().zip(values.iter_mut()) {
            *value = read_u64(get(counter.value_key)?.as_deref())?;
            let reserved = read_u64(get(counter.reserved_key)?.as_deref())?;
            if !clean && reserved > 0 && *value < reserved - 1 {
                // Unclean shutdown: values up to `reserved - 1` may have been
                // handed out by commands lost before a flush.
                *value = reserved - 1;
                meta.insert(counter.value_key, &value.to_be_bytes()[..])
                    .map_err(|e| backend("recovering a counter", e))?;
            }
            counter.durable_reserved.store(reserved, Ordering::Release);
        }
        // From now until a clean close, a crash is an unclean shutdown.
        meta.remove(CLEAN_KEY)
            .map_err(|e| backend("clearing the clean-shutdown flag", e))?;
        // sled's log (`<dir>/db`, sled 0.34's layout), opened only to sync
        // it: a sync through any descriptor of the file covers its data.
        let log = match options.durability {
            Durability::Synced => Some(std::fs::File::open(config.get_path().join("db")).map_err(
                |e| StoreError::Backend(format!("sled: opening the log to sync it: {e}")),
            )?),
            Durability::Immediate | Durability::Buffered => None,
        };
        let blobs = log.as_ref().map(|_| config.get_path().join("blobs"));
        sync_log(&db, log.as_ref()).map_err(|e| backend("flushing after open", e))?;
        Ok(Self {
            db,
            trees,
            counters,
            durability: options.durability,
            reserve_block: options.counter_reserve_block.max(1),
            writer: Mutex::new(Writer {
                values,
                redo_seq: 0,
                broken: None,
            }),
            visible: RwLock::new(()),
            batcher: Batcher::default(),
            group: GroupCommit::default(),
            log,
            blobs,
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
        self.sync().map(|_| ()).map_err(|e| backend("flushing", e))
    }

    /// Synced stores: `fsync` every file under sled's `blobs/` directory and
    /// the directory itself, which sled writes without syncing (see
    /// [`Durability::Synced`]). After an import only: a practice holds a
    /// blob per large clinical record at most.
    fn sync_blobs(&self) -> StoreResult<()> {
        let Some(dir) = &self.blobs else {
            return Ok(());
        };
        let failed = |e: std::io::Error| {
            StoreError::Backend(format!("sled: syncing {}: {e}", dir.display()))
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(failed(e)),
        };
        for entry in entries {
            let path = entry.map_err(failed)?.path();
            match std::fs::File::open(&path) {
                Ok(file) => file.sync_data().map_err(failed)?,
                // sled removes a blob whose page was rewritten.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(failed(e)),
            }
        }
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(failed)
    }

    /// Flush sled's log, then sync it when the store is
    /// [`Durability::Synced`].
    fn sync(&self) -> sled::Result<usize> {
        sync_log(&self.db, self.log.as_ref())
    }

    /// Write the counters, flush and mark the shutdown clean. Dropping the
    /// store does the same but cannot report a failure.
    pub fn close(mut self) -> StoreResult<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> StoreResult<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        {
            let writer = self.lock_writer();
            self.save_counters(&writer)?;
        }
        self.flush()?;
        self.trees[META]
            .insert(CLEAN_KEY, &[1u8][..])
            .map_err(|e| backend("setting the clean-shutdown flag", e))?;
        self.flush()
    }

    fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        // Every critical section leaves `Writer` consistent (a failed
        // command restores the counters before it returns).
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read_guard(&self) -> RwLockReadGuard<'_, ()> {
        self.visible.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Write the in-memory counter values to `meta` (not flushed).
    fn save_counters(&self, writer: &Writer) -> StoreResult<()> {
        for (counter, value) in self.counters.iter().zip(writer.values) {
            self.trees[META]
                .insert(counter.value_key, &value.to_be_bytes()[..])
                .map_err(|e| backend("writing a counter", e))?;
        }
        Ok(())
    }

    /// Make sure `value` of counter `id` may be handed out: below a durable
    /// reservation. Call only under the writer mutex.
    fn ensure_reserved(&self, id: CounterId, value: u64) -> StoreResult<()> {
        if value
            < self.counters[id as usize]
                .durable_reserved
                .load(Ordering::Acquire)
        {
            return Ok(());
        }
        self.reserve(id, value)
    }

    /// Durably reserve counter `id` up to at least `upto` (exclusive) plus a
    /// block. Call only under the writer mutex.
    fn reserve(&self, id: CounterId, upto: u64) -> StoreResult<()> {
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
        self.sync()
            .map_err(|e| backend("flushing a counter reservation", e))?;
        counter.durable_reserved.store(reserved, Ordering::Release);
        Ok(())
    }

    /// Run `f` as one sled transaction over every tree (imports only),
    /// taking reservations and retrying as needed. Call only under the
    /// writer mutex. Does not wait for durability.
    fn transact<T>(&self, f: impl Fn(&Tx<'_>) -> TxResult<T>) -> StoreResult<T> {
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
                    })
                },
            );
            match result {
                Ok(v) => return Ok(v),
                Err(TransactionError::Abort(Abort::Reserve { counter, upto })) => {
                    self.reserve(counter, upto)?;
                }
                Err(TransactionError::Abort(Abort::Store(e))) => return Err(e),
                Err(TransactionError::Storage(e)) => return Err(backend("transaction", e)),
            }
        }
    }

    /// Run a group of commands under the writer mutex (see `batch` and the
    /// module docs); returns their results in order.
    fn run_group(&self, jobs: Vec<Job>) -> Vec<StoreResult<Done>> {
        let mut writer = self.lock_writer();
        let writer = &mut *writer;
        if let Some(e) = &writer.broken {
            return jobs.iter().map(|_| Err(e.clone())).collect();
        }
        let mut results: Vec<StoreResult<Done>> = Vec::with_capacity(jobs.len());
        let mut group = overlay();
        let mut bytes = 0usize;
        // Results of commands whose writes are in `group`, not yet applied.
        let mut pending: Vec<usize> = Vec::new();
        for job in jobs {
            let saved = writer.values;
            let mut view = View {
                store: self,
                group: &group,
                mine: overlay(),
                bytes: 0,
                values: &mut writer.values,
            };
            let result = job(&mut view);
            let View {
                mine,
                bytes: written,
                ..
            } = view;
            match result {
                Ok(done) => {
                    for (into, from) in group.iter_mut().zip(mine) {
                        into.extend(from);
                    }
                    bytes += written;
                    pending.push(results.len());
                    results.push(Ok(done));
                }
                Err(e) => {
                    // A failed command consumes no counter value.
                    writer.values = saved;
                    results.push(Err(e));
                }
            }
            if bytes >= REDO_SPLIT {
                self.commit_pending(writer, &mut group, &mut pending, &mut results);
                bytes = 0;
            }
        }
        self.commit_pending(writer, &mut group, &mut pending, &mut results);
        results
    }

    /// [`Self::commit`] the group's writes; if that fails, so do the
    /// commands that made them.
    fn commit_pending(
        &self,
        writer: &mut Writer,
        group: &mut Overlay,
        pending: &mut Vec<usize>,
        results: &mut [StoreResult<Done>],
    ) {
        if let Err(e) = self.commit(writer, group) {
            writer.broken = Some(StoreError::Backend(format!(
                "sled: the store stopped taking writes after a failed write ({e}); reopen it"
            )));
            for &i in pending.iter() {
                if let Some(r) = results.get_mut(i) {
                    *r = Err(e.clone());
                }
            }
        }
        pending.clear();
        *group = overlay();
    }

    /// Apply a group's writes atomically: redo record, writes, removal of
    /// the redo record (see the module docs). Not flushed.
    fn commit(&self, writer: &mut Writer, group: &Overlay) -> StoreResult<()> {
        let size: usize = group
            .iter()
            .flat_map(|t| t.iter())
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, |v| v.len()) + 10)
            .sum();
        if size == 0 {
            return Ok(());
        }
        let record = codec::encode_redo(
            group.iter().enumerate().flat_map(|(tree, writes)| {
                writes
                    .iter()
                    .map(move |(k, v)| (tree, k.as_slice(), v.as_deref()))
            }),
            size,
        );
        let mut key = REDO_PREFIX.to_vec();
        key.extend_from_slice(&writer.redo_seq.to_be_bytes());
        writer.redo_seq += 1;
        let _visible = self.visible.write().unwrap_or_else(PoisonError::into_inner);
        let meta = &self.trees[META];
        meta.insert(&key[..], record)
            .map_err(|e| backend("writing a redo record", e))?;
        for (tree, writes) in group.iter().enumerate() {
            for (k, v) in writes {
                match v {
                    Some(v) => self.trees[tree].insert(&k[..], v.clone()),
                    None => self.trees[tree].remove(&k[..]),
                }
                .map_err(|e| backend(&format!("writing tree `{}`", tree_name(tree)), e))?;
            }
        }
        meta.remove(&key[..])
            .map_err(|e| backend("removing a redo record", e))?;
        Ok(())
    }

    /// A command: run in a group, then durable as promised.
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

    /// A command whose result is an appointment (book, amend, cancel).
    fn appointment_command(&self, job: Job) -> StoreResult<AppointmentRecord> {
        match self.command(job)? {
            Done::Appointment(record) => Ok(record),
            other => Err(StoreError::Backend(format!(
                "sled: unexpected command result {other:?}"
            ))),
        }
    }

    /// Wait until everything committed so far is durable, if the store
    /// promises it.
    fn durable(&self) -> StoreResult<()> {
        match self.durability {
            Durability::Immediate | Durability::Synced => self.group.wait_durable(|| self.sync()),
            Durability::Buffered => Ok(()),
        }
    }

    fn require_practice(&self, ods: &str) -> StoreResult<()> {
        match self.trees[PRACTICES].contains_key(ods.as_bytes()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::UnknownPractice(ods.to_owned())),
            Err(e) => Err(backend("reading the practices tree", e)),
        }
    }

    fn get_raw(&self, tree: usize, key: &[u8]) -> StoreResult<Option<IVec>> {
        let _visible = self.read_guard();
        self.trees[tree]
            .get(key)
            .map_err(|e| backend(&format!("reading tree `{}`", tree_name(tree)), e))
    }

    fn get_json<T: DeserializeOwned>(&self, tree: usize, key: &[u8]) -> StoreResult<Option<T>> {
        match self.get_raw(tree, key)? {
            None => Ok(None),
            Some(bytes) => decode(tree, &bytes).map(Some),
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
            // Records are never deleted, and an index entry is applied with
            // its record under the visibility lock this read waits for, so a
            // miss means corruption.
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

/// Apply and remove the redo records a crash left (see the module docs),
/// oldest first. Replaying is idempotent, so a crash during it is harmless.
fn replay_redo(trees: &[sled::Tree; TREES]) -> StoreResult<()> {
    let meta = &trees[META];
    for item in meta.scan_prefix(REDO_PREFIX) {
        let (key, record) = item.map_err(|e| backend("reading redo records", e))?;
        let writes = codec::decode_redo(&record)
            .ok_or_else(|| StoreError::Backend("sled: corrupt redo record".to_owned()))?;
        for (tree, k, v) in writes {
            let tree = trees
                .get(tree)
                .ok_or_else(|| StoreError::Backend(format!("sled: redo names tree {tree}")))?;
            match v {
                Some(v) => tree.insert(k, v).map(|_| ()),
                None => tree.remove(k).map(|_| ()),
            }
            .map_err(|e| backend("replaying a redo record", e))?;
        }
        meta.remove(key)
            .map_err(|e| backend("removing a replayed redo record", e))?;
    }
    Ok(())
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
        self.require_practice(ods)?;
        match self.get_raw(SLOTS, &keys::record(ods, id))? {
            None => Ok(None),
            Some(bytes) => decode_slot(&bytes).map(Some),
        }
    }

    fn slots(&self, ods: &str, query: &SlotQuery<'_>) -> StoreResult<Vec<SlotRecord>> {
        if query.from >= query.to {
            return Ok(Vec::new());
        }
        self.require_practice(ods)?;
        let (from, to) = (query.from, query.to);
        let (index, lo, hi) = match query.schedule_id {
            Some(schedule) => (
                SLOTS_BY_SCHEDULE,
                keys::slot_schedule(ods, schedule, from, ""),
                keys::slot_schedule(ods, schedule, to, ""),
            ),
            None => (
                SLOTS_BY_START,
                keys::slot_start(ods, from, ""),
                keys::slot_start(ods, to, ""),
            ),
        };
        // The index is covering: its values are the slots (see `codec`).
        let mut out = Vec::new();
        for item in self.trees[index].range(lo..hi) {
            let (_, bytes) =
                item.map_err(|e| backend(&format!("scanning `{}`", tree_name(index)), e))?;
            if query.free_only && !codec::is_free(&bytes) {
                continue;
            }
            let slot = decode_slot(&bytes)?;
            if slot.start >= from
                && slot.start < to
                && query.schedule_id.is_none_or(|id| slot.schedule_id == id)
            {
                out.push(slot);
            }
        }
        Ok(out)
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

    fn clinical_record(
        &self,
        ods: &str,
        patient_id: &str,
        section: Section,
    ) -> StoreResult<ClinicalRecord> {
        self.require_practice(ods)?;
        // One point read per list the section needs; each list is as
        // committed, but a read racing a re-import of this patient may
        // combine lists from before and after it (as range reads are
        // consistent per record).
        let mut record = ClinicalRecord::default();
        for list in ClinicalList::for_section(section) {
            let key = keys::clinical(ods, patient_id, list.tag());
            if let Some(bytes) = self.get_raw(CLINICAL_RECORDS, &key)? {
                list.set_from_json(&mut record, &bytes).map_err(|e| {
                    backend(
                        &format!("corrupt clinical record list `{}`", list.name()),
                        e,
                    )
                })?;
            }
        }
        Ok(record)
    }

    fn book(&self, ods: &str, booking: NewBooking) -> StoreResult<AppointmentRecord> {
        let ods = ods.to_owned();
        let job: Job = Box::new(move |v: &mut View<'_>| {
            let ods = ods.as_str();
            v.require_practice(ods)?;
            // Validate everything before writing: a failed booking changes
            // nothing (and a slot named twice validates like the reference).
            let mut slots = Vec::with_capacity(booking.slots.len());
            for (slot_id, version) in &booking.slots {
                let Some(slot) = v.slot(ods, slot_id)? else {
                    return Err(not_found("Slot", slot_id));
                };
                if slot.status != SlotStatus::Free || slot.version != *version {
                    return Err(StoreError::SlotUnavailable {
                        slot_id: slot_id.clone(),
                    });
                }
                slots.push(slot);
            }
            let held = u32::try_from(booking.slots.len()).unwrap_or(u32::MAX);
            for limit in &booking.limits {
                if v.limit_used(ods, &limit.key)?.saturating_add(held) > limit.max {
                    return Err(StoreError::LimitReached {
                        key: limit.key.clone(),
                    });
                }
            }
            let id = v.next(CounterId::Appointment)?.to_string();
            let version = v.next(CounterId::Version)?;
            for mut slot in slots {
                slot.status = SlotStatus::Busy;
                slot.appointment_id = Some(id.clone());
                slot.version = version;
                v.put_slot(ods, &slot);
            }
            for limit in &booking.limits {
                // Read again: a key named twice counts twice, as in the
                // reference.
                let used = v.limit_used(ods, &limit.key)?;
                v.put(
                    COUNTERS,
                    keys::counter(ods, &limit.key),
                    Some(IVec::from(&used.saturating_add(held).to_be_bytes()[..])),
                );
            }
            let NewBooking {
                slots,
                patient_id,
                start,
                end,
                booking_ods,
                limits,
                now,
                resource,
            } = booking;
            let record = AppointmentRecord {
                id: id.clone(),
                version,
                status: AppointmentStatus::Booked,
                patient_id,
                slot_ids: slots.into_iter().map(|(s, _)| s).collect(),
                start,
                end,
                booking_ods,
                limit_keys: limits.into_iter().map(|l| l.key).collect(),
                last_modified: now,
                resource,
            };
            v.put_json(APPOINTMENTS, keys::record(ods, &id), &record)?;
            v.put(
                APPOINTMENTS_BY_PATIENT,
                keys::appointment_patient(ods, &record.patient_id, record.start, &id),
                Some(IVec::default()),
            );
            Ok(Done::Appointment(record))
        });
        self.appointment_command(job)
    }

    fn amend(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord> {
        let ods = ods.to_owned();
        let job: Job = Box::new(move |v: &mut View<'_>| {
            let ods = ods.as_str();
            v.require_practice(ods)?;
            let (key, mut record) = booked_appointment(v, ods, &change, "is cancelled")?;
            record.resource = change.resource;
            record.last_modified = change.now;
            record.version = v.next(CounterId::Version)?;
            v.put_json(APPOINTMENTS, key, &record)?;
            Ok(Done::Appointment(record))
        });
        self.appointment_command(job)
    }

    fn cancel(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord> {
        let ods = ods.to_owned();
        let job: Job = Box::new(move |v: &mut View<'_>| {
            let ods = ods.as_str();
            v.require_practice(ods)?;
            let (key, mut record) = booked_appointment(v, ods, &change, "is already cancelled")?;
            let version = v.next(CounterId::Version)?;
            for slot_id in &record.slot_ids {
                // Free only what this appointment still holds: a slot since
                // re-imported as busy, or never held, stays as it is.
                if let Some(mut slot) = v.slot(ods, slot_id)? {
                    if slot.appointment_id.as_deref() == Some(record.id.as_str()) {
                        slot.status = SlotStatus::Free;
                        slot.appointment_id = None;
                        slot.version = version;
                        v.put_slot(ods, &slot);
                    }
                }
            }
            let held = u32::try_from(record.slot_ids.len()).unwrap_or(u32::MAX);
            for limit_key in &record.limit_keys {
                let key = keys::counter(ods, limit_key);
                if let Some(raw) = v.get(COUNTERS, &key)? {
                    let used = read_u32(Some(&raw))?;
                    v.put(
                        COUNTERS,
                        key,
                        Some(IVec::from(&used.saturating_sub(held).to_be_bytes()[..])),
                    );
                }
            }
            record.status = AppointmentStatus::Cancelled;
            record.resource = change.resource;
            record.last_modified = change.now;
            record.version = version;
            v.put_json(APPOINTMENTS, key, &record)?;
            Ok(Done::Appointment(record))
        });
        self.appointment_command(job)
    }

    fn update_patient_flags(
        &self,
        ods: &str,
        id: &str,
        expected_version: u64,
        flags: PatientFlags,
    ) -> StoreResult<PatientRecord> {
        let (ods, id) = (ods.to_owned(), id.to_owned());
        let job: Job = Box::new(move |v: &mut View<'_>| {
            let ods = ods.as_str();
            v.require_practice(ods)?;
            let key = keys::record(ods, &id);
            let Some(mut record) = v.get_json::<PatientRecord>(PATIENTS, &key)? else {
                return Err(not_found("Patient", &id));
            };
            check_version("Patient", &id, expected_version, record.version)?;
            record.flags = flags;
            record.version = v.next(CounterId::Version)?;
            v.put_json(PATIENTS, key, &record)?;
            Ok(Done::Patient(record))
        });
        match self.command(job)? {
            Done::Patient(record) => Ok(record),
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
        let job: Job = Box::new(move |v: &mut View<'_>| {
            let ods = ods.as_str();
            v.require_practice(ods)?;
            match registration {
                PatientRegistration::New {
                    nhs_number,
                    resource,
                    flags,
                } => {
                    let taken: Option<Vec<String>> =
                        v.get_json(PATIENTS_BY_NHS, &keys::nhs(ods, &nhs_number))?;
                    if taken.is_some_and(|ids| !ids.is_empty()) {
                        return Err(StoreError::DuplicatePatient);
                    }
                    let (id, key) = loop {
                        let id = format!("p{}", v.next(CounterId::Patient)?);
                        let key = keys::record(ods, &id);
                        if v.get(PATIENTS, &key)?.is_none() {
                            break (id, key);
                        }
                    };
                    let record = PatientRecord {
                        id: id.clone(),
                        version: v.next(CounterId::Version)?,
                        nhs_number,
                        resource,
                        flags,
                    };
                    v.put_json(PATIENTS, key, &record)?;
                    v.index_nhs(ods, &record.nhs_number, &id)?;
                    Ok(Done::Patient(record))
                }
                PatientRegistration::Reactivate {
                    id,
                    expected_version,
                    resource,
                    flags,
                } => {
                    let key = keys::record(ods, &id);
                    let Some(mut record) = v.get_json::<PatientRecord>(PATIENTS, &key)? else {
                        return Err(not_found("Patient", &id));
                    };
                    check_version("Patient", &id, expected_version, record.version)?;
                    record.resource = resource;
                    record.flags = flags;
                    record.version = v.next(CounterId::Version)?;
                    v.put_json(PATIENTS, key, &record)?;
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
        let mut writer = self.lock_writer();
        if let Some(e) = &writer.broken {
            return Err(e.clone());
        }
        // The transaction reads and writes the counters in `meta`.
        self.save_counters(&writer)?;
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
        let version = writer.values[CounterId::Version as usize];
        self.ensure_reserved(CounterId::Version, version.saturating_add(records as u64))?;
        let result = self.transact(|tx| {
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
                tx.upsert_slot(ods, r.clone(), &mut summary)?;
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
            for r in &import.clinical_records {
                tx.replace_clinical_record(ods, r, &mut summary)?;
            }
            Ok(summary)
        });
        // Whatever happened, `meta` holds the counters' values now.
        for (counter, value) in self.counters.iter().zip(writer.values.iter_mut()) {
            let stored = self.trees[META]
                .get(counter.value_key)
                .map_err(|e| backend("reading a counter", e))?;
            *value = read_u64(stored.as_deref())?;
        }
        drop(writer);
        let summary = result?;
        self.durable()?;
        self.sync_blobs()?;
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

    /// A job that takes a version and writes `key` to the counters tree,
    /// then fails if asked.
    fn job(key: &'static str, fail_after_write: bool, fail_before: bool) -> Job {
        Box::new(move |v: &mut View<'_>| {
            if fail_before {
                return Err(StoreError::Rejected(format!("{key} refused")));
            }
            let version = v.next(CounterId::Version)?;
            v.put(
                COUNTERS,
                keys::counter("A1", key),
                Some(IVec::from(&1u32.to_be_bytes()[..])),
            );
            if fail_after_write {
                return Err(StoreError::Rejected(format!("{key} failed late")));
            }
            Ok(Done::Patient(PatientRecord {
                id: key.to_owned(),
                version,
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

    fn version(result: &StoreResult<Done>) -> u64 {
        match result {
            Ok(Done::Patient(p)) => p.version,
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_group_command_failing_before_writing_fails_alone() {
        let store = store();
        let results = store.run_group(vec![
            job("a", false, false),
            job("b", false, true),
            job("c", false, false),
        ]);
        assert!(matches!(results[1], Err(StoreError::Rejected(_))));
        assert_eq!(version(&results[2]), version(&results[0]) + 1);
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
        assert!(matches!(&results[1], Err(StoreError::Rejected(m)) if m.contains("late")));
        // The failed command consumed no version either.
        assert_eq!(version(&results[2]), version(&results[0]) + 1);
        assert!(written(&store, "a") && !written(&store, "b") && written(&store, "c"));
        assert_eq!(
            store.trees[META].scan_prefix(REDO_PREFIX).count(),
            0,
            "no redo record outlives its group"
        );
    }

    #[test]
    fn a_synced_import_of_a_large_clinical_record_survives_reopening() {
        // A 2,000-item record's Medications list is far over sled's blob
        // threshold, so this import writes blob files, which a synced store
        // syncs when the import commits.
        let dir = tempfile::tempdir().expect("temp dir");
        let record = gpconnect_render::sample::large_record(jiff::civil::date(2025, 6, 10), 2_000);
        let mut import =
            gpconnect_core::testkit::practice("2026-11-25T10:00:00Z".parse().expect("timestamp"));
        import.clinical_records = vec![PatientClinicalRecord {
            patient_id: "2".to_owned(),
            record: record.clone(),
        }];
        let open = || {
            SledStore::open(dir.path(), SledOptions::with_durability(Durability::Synced))
                .expect("open synced")
        };
        let store = open();
        store
            .import(gpconnect_core::testkit::ODS, import)
            .expect("import");
        let blobs = std::fs::read_dir(dir.path().join("blobs"))
            .expect("sled's blob directory")
            .count();
        assert!(blobs > 0, "the record should have gone to a blob file");
        store.close().expect("close");
        let store = open();
        let meds = store
            .clinical_record(gpconnect_core::testkit::ODS, "2", Section::Medications)
            .expect("read");
        assert_eq!(meds.medications, record.medications);
    }

    #[test]
    fn a_large_group_commits_in_several_redo_records() {
        let store = store();
        let jobs: Vec<Job> = (0..64)
            .map(|n| -> Job {
                Box::new(move |v: &mut View<'_>| {
                    let version = v.next(CounterId::Version)?;
                    v.put(
                        COUNTERS,
                        keys::counter("A1", &format!("big{n}")),
                        Some(IVec::from(vec![7u8; 4096])),
                    );
                    Ok(Done::Patient(PatientRecord {
                        id: n.to_string(),
                        version,
                        nhs_number: String::new(),
                        resource: Default::default(),
                        flags: Default::default(),
                    }))
                })
            })
            .collect();
        let results = store.run_group(jobs);
        assert!(results.iter().all(Result::is_ok));
        assert!(store.writer.lock().expect("writer").redo_seq > 1);
        for n in 0..64 {
            assert!(written(&store, &format!("big{n}")));
        }
    }

    /// A crash after the redo record reached the log but before (some of)
    /// the writes it lists: the next open applies them.
    #[test]
    fn opening_replays_a_redo_record_left_by_a_crash() {
        let dir = tempfile::tempdir().expect("dir");
        {
            let store = SledStore::open(dir.path(), SledOptions::default()).expect("open");
            let mut writes = overlay();
            writes[COUNTERS].insert(
                keys::counter("A1", "replayed"),
                Some(IVec::from(&3u32.to_be_bytes()[..])),
            );
            writes[COUNTERS].insert(keys::counter("A1", "removed"), None);
            store.trees[COUNTERS]
                .insert(keys::counter("A1", "removed"), &[0u8; 4][..])
                .expect("write");
            let record = codec::encode_redo(
                writes.iter().enumerate().flat_map(|(tree, w)| {
                    w.iter()
                        .map(move |(k, v)| (tree, k.as_slice(), v.as_deref()))
                }),
                0,
            );
            let mut key = REDO_PREFIX.to_vec();
            key.extend_from_slice(&7u64.to_be_bytes());
            store.trees[META].insert(key, record).expect("redo");
            store.flush().expect("flush");
            // A clean close does not touch redo records: the next open
            // sees what a crash at this point would have left.
            store.close().expect("close");
        }
        let store = SledStore::open(dir.path(), SledOptions::default()).expect("reopen");
        assert_eq!(
            store.trees[COUNTERS]
                .get(keys::counter("A1", "replayed"))
                .expect("read")
                .as_deref(),
            Some(&3u32.to_be_bytes()[..])
        );
        assert!(!written(&store, "removed"));
        assert_eq!(store.trees[META].scan_prefix(REDO_PREFIX).count(), 0);
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

    /// sled lets go of the directory lock in the background after a close;
    /// an immediate reopen (a host restarting its engine) must still work.
    #[test]
    fn closing_and_reopening_at_once_succeeds() {
        let dir = tempfile::tempdir().expect("dir");
        for round in 0..20 {
            let store = SledStore::open(dir.path(), SledOptions::default())
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            store
                .import(
                    "A1",
                    PracticeImport {
                        practice: Some(gpconnect_core::testkit::practice_record()),
                        ..Default::default()
                    },
                )
                .expect("import");
            store.close().expect("close");
        }
    }

    #[test]
    fn a_second_open_of_the_same_directory_fails_cleanly() {
        let dir = tempfile::tempdir().expect("dir");
        let _first = SledStore::open(dir.path(), SledOptions::default()).expect("open");
        let second = SledStore::open(dir.path(), SledOptions::default());
        assert!(matches!(second, Err(StoreError::Backend(_))), "{second:?}");
    }

    #[test]
    fn a_format_2_store_is_refused() {
        // Format 2 stored the patient flag `record_in_transit` as a boolean
        // and had no clinical records; this code cannot read its patients.
        let dir = tempfile::tempdir().expect("dir");
        {
            let store = SledStore::open(dir.path(), SledOptions::default()).expect("open");
            store.trees[META]
                .insert(FORMAT_KEY, &2u64.to_be_bytes()[..])
                .expect("write");
            store.close().expect("close");
        }
        let err = SledStore::open(dir.path(), SledOptions::default()).expect_err("refused");
        assert!(
            matches!(&err, StoreError::Backend(m) if m.contains("format 2 is not supported (expected 3)")),
            "{err:?}"
        );
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
