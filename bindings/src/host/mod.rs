//! Host storage: a vendor's own database backs the engine through a table
//! of C callbacks, [`gpc_host_storage`].
//!
//! # Why a transactional key/value table, not one callback per port method
//!
//! The storage port ([`PracticeStore`](gpconnect_core::store::PracticeStore))
//! has twenty methods, and its commands carry rules a store must get exactly
//! right: a booking checks every slot's status and version and the
//! slot-count limits, assigns fresh ids and versions, and marks the slots
//! busy, all or nothing. Asking every GP system to re-implement those rules
//! in C over its own schema would multiply the places they can go wrong.
//! So the host provides what every database has, and the library does the
//! rest ([`HostStore`] implements the port over it):
//!
//! - **a key/value table** of byte strings ordered bytewise (a two-column
//!   SQL table `(k BLOB PRIMARY KEY, v BLOB)` does: `get` is a `SELECT ...
//!   WHERE k = ?`, `scan` is `WHERE k >= ? AND k < ? ORDER BY k`);
//! - **transactions**: `begin`, then reads, then writes, then `commit` or
//!   not, then `end`. Atomicity is the host's duty: a transaction's writes
//!   become visible all together at a successful `commit`, or not at all
//!   (`end` without a successful `commit` rolls back). Write transactions
//!   must be serialisable with respect to each other (simplest: one at a
//!   time, e.g. SQLite `BEGIN IMMEDIATE` or one mutex), because a booking
//!   reads a slot's state and writes it in the same transaction.
//!
//! Values are the JSON of the port's records (UTF-8), so a host can read
//! what the engine stored if it wants to; keys are described in the
//! README (and `src/host/keys.rs`). New port methods (e.g. the clinical
//! record of Access Record) become new keys, not new callbacks, so the
//! table's shape is stable.

pub(crate) mod keys;
pub(crate) mod store;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::{c_char, c_void};
use std::mem::MaybeUninit;

use gpconnect_core::store::{StoreError, StoreResult};

use crate::error::gpc_result;
use crate::ffi::{FfiError, FfiResult, guard};

pub use store::HostStore;

/// `gpc_host_storage.begin` mode: the transaction only reads.
pub const GPC_HOST_TXN_READ: u32 = 0;
/// `gpc_host_storage.begin` mode: the transaction reads, then writes.
pub const GPC_HOST_TXN_WRITE: u32 = 1;

/// Called by the host's `get` with the value found (at most once per
/// `get`; not at all when the key is absent). `value` is borrowed for the
/// call only: the library copies it.
pub type gpc_host_value_fn =
    unsafe extern "C" fn(ctx: *mut c_void, value: *const u8, value_len: usize);

/// Called by the host's `scan` once per row in the range, in ascending key
/// order. Key and value are borrowed for the call only.
pub type gpc_host_row_fn = unsafe extern "C" fn(
    ctx: *mut c_void,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
);

/// Host storage: the callbacks through which a host's database backs the
/// engine (`gpc_engine_open_host`, `gpc_host_storage_conformance`).
///
/// **The contract.** The engine calls, per store operation:
/// `begin(mode)`, then any `get` and `scan` calls, then (write transactions
/// only) `put` and `remove` calls, then `commit` (write transactions only,
/// and only if everything succeeded), then always exactly one `end`. The
/// engine issues every `put` and `remove` after the transaction's last read,
/// so reads never need to see the transaction's own writes.
///
/// - Keys and values are byte strings (keys ordered bytewise, as `memcmp`
///   with the shorter first on a tie); neither contains NUL-termination.
/// - Callbacks returning `int32_t` return 0 for success and any other value
///   for failure; they may call `gpc_host_set_error` first to say why. A
///   failure fails the store operation (the engine answers 500): nothing of
///   a failed write transaction may become visible, including when
///   `commit` itself fails.
/// - A successful `commit` makes every write of the transaction visible at
///   once (atomically), and durable as far as the host promises; `end`
///   after a failed or missing `commit` rolls back.
/// - Write transactions must not interleave (serialisable or one at a time);
///   read transactions must see only committed data.
/// - When one engine serves several threads, callbacks are called
///   concurrently from them: make them thread-safe (e.g. `begin` takes a
///   lock that `end` releases).
/// - Callbacks must not call back into the engine, and must not unwind
///   (no C++ exceptions through them).
///
/// Fields are only ever appended: set `struct_size` to
/// `sizeof(gpc_host_storage)` so a newer library knows which fields a host
/// compiled against an older header has.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct gpc_host_storage {
    /// `sizeof(gpc_host_storage)` as the host was compiled.
    pub struct_size: usize,
    /// Passed to every callback; owned by the engine once opened (see
    /// `destroy`).
    pub user_data: *mut c_void,
    /// Starts a transaction of `mode` (`GPC_HOST_TXN_READ` or
    /// `GPC_HOST_TXN_WRITE`); may set `*txn_out` to anything, which is passed
    /// to the transaction's other calls (it starts as NULL). When `begin`
    /// fails, `end` is not called.
    pub begin: Option<
        unsafe extern "C" fn(user_data: *mut c_void, mode: u32, txn_out: *mut *mut c_void) -> i32,
    >,
    /// Looks `key` up: calls `found(found_ctx, value, value_len)` once if
    /// present; returns 0 whether present or not.
    pub get: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            txn: *mut c_void,
            key: *const u8,
            key_len: usize,
            found: gpc_host_value_fn,
            found_ctx: *mut c_void,
        ) -> i32,
    >,
    /// Calls `row(row_ctx, key, key_len, value, value_len)` for every key
    /// with `from <= key < to`, in ascending key order.
    pub scan: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            txn: *mut c_void,
            from: *const u8,
            from_len: usize,
            to: *const u8,
            to_len: usize,
            row: gpc_host_row_fn,
            row_ctx: *mut c_void,
        ) -> i32,
    >,
    /// Sets `key` to `value` in the transaction (insert or replace).
    pub put: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            txn: *mut c_void,
            key: *const u8,
            key_len: usize,
            value: *const u8,
            value_len: usize,
        ) -> i32,
    >,
    /// Deletes `key` in the transaction (absent is not an error).
    pub remove: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            txn: *mut c_void,
            key: *const u8,
            key_len: usize,
        ) -> i32,
    >,
    /// Commits a write transaction: all its writes visible at once, or
    /// (returning non-zero) none.
    pub commit: Option<unsafe extern "C" fn(user_data: *mut c_void, txn: *mut c_void) -> i32>,
    /// Ends a transaction (rolling back a write transaction not committed)
    /// and releases what `begin` took. Called exactly once per successful
    /// `begin`.
    pub end: Option<unsafe extern "C" fn(user_data: *mut c_void, txn: *mut c_void)>,
    /// Frees `user_data` when the engine (or conformance run) is done with
    /// it; may be NULL.
    pub destroy: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

/// The first published layout is the smallest `struct_size` accepted.
const FIRST_LAYOUT_SIZE: usize = size_of::<gpc_host_storage>();

/// Copies the host's table, checking its size and required callbacks.
///
/// # Safety
/// `storage` must be NULL or point to readable memory of at least the
/// `struct_size` it declares.
pub(crate) unsafe fn copy_table(storage: *const gpc_host_storage) -> FfiResult<gpc_host_storage> {
    if storage.is_null() {
        return Err(FfiError::null("storage"));
    }
    // SAFETY: every layout starts with `struct_size`, so it is readable;
    // read unaligned in case the host packed its struct.
    let declared = unsafe { storage.cast::<usize>().read_unaligned() };
    if declared < FIRST_LAYOUT_SIZE {
        return Err(FfiError::argument(format!(
            "`storage->struct_size` is {declared}, smaller than any gpc_host_storage layout ({FIRST_LAYOUT_SIZE}): set it to sizeof(gpc_host_storage)"
        )));
    }
    let mut table = MaybeUninit::<gpc_host_storage>::zeroed();
    // SAFETY: the host declared `declared >= size_of::<gpc_host_storage>()`
    // readable bytes; we copy only our layout's size into our own zeroed
    // value, and all-zero is a valid gpc_host_storage (NULL pointers, None
    // callbacks), as is any bit pattern of the host's fields.
    let table = unsafe {
        std::ptr::copy_nonoverlapping(
            storage.cast::<u8>(),
            table.as_mut_ptr().cast::<u8>(),
            size_of::<gpc_host_storage>(),
        );
        table.assume_init()
    };
    let missing: Vec<&str> = [
        ("begin", table.begin.is_none()),
        ("get", table.get.is_none()),
        ("scan", table.scan.is_none()),
        ("put", table.put.is_none()),
        ("remove", table.remove.is_none()),
        ("commit", table.commit.is_none()),
        ("end", table.end.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, none)| none.then_some(name))
    .collect();
    if !missing.is_empty() {
        return Err(FfiError::argument(format!(
            "the host storage table has no {} callback",
            missing.join(", ")
        )));
    }
    Ok(table)
}

thread_local! {
    static HOST_ERROR: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Lets a host storage callback say why it is about to return failure:
/// the message (UTF-8; invalid bytes are replaced) goes into the store
/// error, and so into the engine's audit record and 500 diagnostics. Call
/// it on the thread running the callback, before returning non-zero.
///
/// # Safety
///
/// `message` must be valid for reads of `message_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_host_set_error(
    message: *const c_char,
    message_len: usize,
) -> gpc_result {
    guard("gpc_host_set_error", || {
        // SAFETY: the caller's contract.
        let raw = unsafe { crate::ffi::bytes(message.cast::<u8>(), message_len, "message") }?;
        let message = String::from_utf8_lossy(raw).into_owned();
        let _ = HOST_ERROR.try_with(|e| *e.borrow_mut() = Some(message));
        Ok(())
    })
}

fn clear_host_error() {
    let _ = HOST_ERROR.try_with(|e| e.borrow_mut().take());
}

/// The store error for callback `op` returning `code`.
fn callback_failed(op: &str, code: i32) -> StoreError {
    let said = HOST_ERROR
        .try_with(|e| e.borrow_mut().take())
        .ok()
        .flatten();
    StoreError::Backend(match said {
        Some(message) => format!("host storage `{op}` failed (code {code}): {message}"),
        None => format!("host storage `{op}` failed (code {code})"),
    })
}

/// The host's table, owned: `destroy` runs when it is dropped.
#[derive(Debug)]
pub(crate) struct Table(gpc_host_storage);

// SAFETY: the gpc_host_storage contract requires callbacks and user_data
// to be usable from any thread, concurrently.
unsafe impl Send for Table {}
// SAFETY: as above.
unsafe impl Sync for Table {}

impl Drop for Table {
    fn drop(&mut self) {
        if let Some(destroy) = self.0.destroy {
            // SAFETY: the host gave us user_data to own; this is the one
            // call to destroy, after every other callback has returned
            // (we are being dropped, so nothing borrows the table).
            unsafe { destroy(self.0.user_data) };
        }
    }
}

/// Whether a transaction may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Read,
    Write,
}

impl Table {
    pub fn new(table: gpc_host_storage) -> Table {
        Table(table)
    }

    /// Starts a transaction.
    pub fn begin(&self, mode: Mode) -> StoreResult<Txn<'_>> {
        let begin = self.0.begin.ok_or_else(|| missing("begin"))?;
        let code = match mode {
            Mode::Read => GPC_HOST_TXN_READ,
            Mode::Write => GPC_HOST_TXN_WRITE,
        };
        let mut txn: *mut c_void = std::ptr::null_mut();
        clear_host_error();
        // SAFETY: a callback of the host's table with its own user_data and
        // a valid out-pointer, per the contract.
        let rc = unsafe { begin(self.0.user_data, code, &mut txn) };
        if rc != 0 {
            return Err(callback_failed("begin", rc));
        }
        Ok(Txn {
            table: self,
            txn,
            mode,
            writes: BTreeMap::new(),
        })
    }
}

fn missing(op: &str) -> StoreError {
    StoreError::Backend(format!("the host storage table has no `{op}` callback"))
}

/// One host transaction. Writes are buffered here and sent at commit, so
/// every read comes before every write (see the contract) and reads see the
/// transaction's own writes through the buffer.
#[derive(Debug)]
pub(crate) struct Txn<'t> {
    table: &'t Table,
    txn: *mut c_void,
    mode: Mode,
    /// key → new value, or `None` to remove.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

unsafe extern "C" fn collect_value(ctx: *mut c_void, value: *const u8, value_len: usize) {
    // SAFETY: ctx is the `&mut Option<Vec<u8>>` `Txn::get` passed with this
    // function, live for the duration of the host's `get`.
    let out = unsafe { &mut *ctx.cast::<Option<Vec<u8>>>() };
    // SAFETY: the host passes `value_len` readable bytes (NULL only with 0).
    let value = unsafe { slice_or_empty(value, value_len) };
    *out = Some(value.to_vec());
}

/// The rows a scan collected.
type Rows = Vec<(Vec<u8>, Vec<u8>)>;

unsafe extern "C" fn collect_row(
    ctx: *mut c_void,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) {
    // SAFETY: ctx is the `&mut Rows` `Txn::scan` passed with this function,
    // live for the duration of the host's `scan`.
    let out = unsafe { &mut *ctx.cast::<Rows>() };
    // SAFETY: the host passes readable key and value bytes of those lengths.
    let (key, value) = unsafe {
        (
            slice_or_empty(key, key_len),
            slice_or_empty(value, value_len),
        )
    };
    out.push((key.to_vec(), value.to_vec()));
}

/// # Safety
/// When `len > 0`, `ptr` must be non-NULL and readable for `len` bytes.
unsafe fn slice_or_empty<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        &[]
    } else {
        // SAFETY: the caller's contract.
        unsafe { std::slice::from_raw_parts(ptr, len) }
    }
}

impl Txn<'_> {
    fn storage(&self) -> &gpc_host_storage {
        &self.table.0
    }

    /// The value at `key`: this transaction's own write if any, else the
    /// host's.
    pub fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        if let Some(written) = self.writes.get(key) {
            return Ok(written.clone());
        }
        let get = self.storage().get.ok_or_else(|| missing("get"))?;
        let mut found: Option<Vec<u8>> = None;
        clear_host_error();
        // SAFETY: the host's callback with its user_data and transaction;
        // key is our slice; collect_value/found match (see collect_value).
        let rc = unsafe {
            get(
                self.storage().user_data,
                self.txn,
                key.as_ptr(),
                key.len(),
                collect_value,
                (&raw mut found).cast::<c_void>(),
            )
        };
        if rc != 0 {
            return Err(callback_failed("get", rc));
        }
        Ok(found)
    }

    /// Every row with `from <= key < to`, in key order, this transaction's
    /// own writes applied.
    pub fn scan(&self, from: &[u8], to: &[u8]) -> StoreResult<Rows> {
        if from >= to {
            return Ok(Vec::new());
        }
        let scan = self.storage().scan.ok_or_else(|| missing("scan"))?;
        let mut rows: Rows = Vec::new();
        clear_host_error();
        // SAFETY: as in `get`, with collect_row and a `&mut Rows`.
        let rc = unsafe {
            scan(
                self.storage().user_data,
                self.txn,
                from.as_ptr(),
                from.len(),
                to.as_ptr(),
                to.len(),
                collect_row,
                (&raw mut rows).cast::<c_void>(),
            )
        };
        if rc != 0 {
            return Err(callback_failed("scan", rc));
        }
        // The contract says ascending and in range: check, because a
        // misordered scan would silently break slot order and lookups.
        let mut previous: Option<&[u8]> = None;
        for (key, _) in &rows {
            let key = key.as_slice();
            if key < from || key >= to || previous.is_some_and(|p| p >= key) {
                return Err(StoreError::Backend(format!(
                    "host storage `scan` broke its contract: key {:?} is out of order or outside [{:?}, {:?})",
                    String::from_utf8_lossy(key),
                    String::from_utf8_lossy(from),
                    String::from_utf8_lossy(to)
                )));
            }
            previous = Some(key);
        }
        if self
            .writes
            .range(from.to_vec()..to.to_vec())
            .next()
            .is_none()
        {
            return Ok(rows);
        }
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = rows.into_iter().collect();
        for (key, value) in self.writes.range(from.to_vec()..to.to_vec()) {
            match value {
                Some(v) => merged.insert(key.clone(), v.clone()),
                None => merged.remove(key),
            };
        }
        Ok(merged.into_iter().collect())
    }

    /// Sets `key` at commit.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, Some(value));
    }

    /// Deletes `key` at commit.
    pub fn remove(&mut self, key: Vec<u8>) {
        self.writes.insert(key, None);
    }

    /// Sends the buffered writes and commits; on any failure the
    /// transaction is rolled back (by `end`, when it is dropped).
    pub fn commit(self) -> StoreResult<()> {
        if self.mode != Mode::Write {
            return Err(StoreError::Backend(
                "a read transaction cannot commit (engine bug)".to_owned(),
            ));
        }
        let s = *self.storage();
        let (put, remove, commit) = (
            s.put.ok_or_else(|| missing("put"))?,
            s.remove.ok_or_else(|| missing("remove"))?,
            s.commit.ok_or_else(|| missing("commit"))?,
        );
        for (key, value) in &self.writes {
            clear_host_error();
            let (op, rc) = match value {
                // SAFETY: the host's callbacks with its user_data and
                // transaction; key and value are our slices.
                Some(v) => ("put", unsafe {
                    put(
                        s.user_data,
                        self.txn,
                        key.as_ptr(),
                        key.len(),
                        v.as_ptr(),
                        v.len(),
                    )
                }),
                // SAFETY: as above.
                None => ("remove", unsafe {
                    remove(s.user_data, self.txn, key.as_ptr(), key.len())
                }),
            };
            if rc != 0 {
                return Err(callback_failed(op, rc));
            }
        }
        clear_host_error();
        // SAFETY: as above.
        let rc = unsafe { commit(s.user_data, self.txn) };
        if rc != 0 {
            return Err(callback_failed("commit", rc));
        }
        Ok(())
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        if let Some(end) = self.storage().end {
            // SAFETY: the one `end` for this transaction's successful
            // `begin`, with the host's own user_data and transaction.
            unsafe { end(self.storage().user_data, self.txn) };
        }
    }
}
