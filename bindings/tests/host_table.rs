//! Host storage through its C callbacks, with the callbacks implemented
//! here as `extern "C"` functions over a plain ordered map (the table a C
//! host would write, see `tests/c/host_storage.c` for one in C):
//!
//! - the storage port's conformance suite, one test per check;
//! - a failure injected at every single `put` of a booking, a cancel and an
//!   import leaves the table byte-for-byte unchanged (and the transaction
//!   ended), and the same command then succeeds whole;
//! - eight threads racing for one slot get one booking;
//! - a host whose `scan` breaks its ordering contract is caught.

// Implementing C callbacks in Rust needs raw pointers and `extern "C"`.
#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use gpconnect_core::fhir::primitive::Code;
use gpconnect_core::store::*;
use gpconnect_core::{stu3, testkit};
use gpconnect_ffi::host::{
    GPC_HOST_TXN_WRITE, HostStore, gpc_host_row_fn, gpc_host_storage, gpc_host_value_fn,
};
use jiff::Timestamp;

/// The table's rows, and the open transaction (one at a time).
#[derive(Debug, Default)]
struct Db {
    rows: BTreeMap<Vec<u8>, Vec<u8>>,
    staged: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    write: bool,
    puts: u64,
    fail_put_at: Option<u64>,
    scan_reversed: bool,
    begins: u64,
    ends: u64,
    destroyed: bool,
}

/// A transactional key/value table: `begin` waits for and takes the one
/// transaction slot, `end` gives it back.
#[derive(Debug, Default)]
struct Table {
    busy: Mutex<bool>,
    released: Condvar,
    db: Mutex<Db>,
}

impl Table {
    fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// # Safety
/// `user_data` is an `Arc<Table>` pointer from `table_for`.
unsafe fn table<'a>(user_data: *mut c_void) -> &'a Table {
    // SAFETY: the caller's contract; the Arc outlives every callback.
    unsafe { &*user_data.cast::<Table>() }
}

unsafe extern "C" fn begin(user_data: *mut c_void, mode: u32, txn_out: *mut *mut c_void) -> i32 {
    // SAFETY: user_data is ours.
    let t = unsafe { table(user_data) };
    let mut busy = t.busy.lock().unwrap_or_else(PoisonError::into_inner);
    while *busy {
        busy = t
            .released
            .wait(busy)
            .unwrap_or_else(PoisonError::into_inner);
    }
    *busy = true;
    let mut db = t.db();
    db.write = mode == GPC_HOST_TXN_WRITE;
    db.puts = 0;
    db.begins += 1;
    // SAFETY: the library passes a valid out-pointer.
    unsafe { txn_out.write(user_data) };
    0
}

unsafe extern "C" fn get(
    user_data: *mut c_void,
    _txn: *mut c_void,
    key: *const u8,
    key_len: usize,
    found: gpc_host_value_fn,
    found_ctx: *mut c_void,
) -> i32 {
    // SAFETY: user_data is ours; the library passes key_len readable bytes.
    let (t, key) = unsafe { (table(user_data), std::slice::from_raw_parts(key, key_len)) };
    let db = t.db();
    if let Some(v) = db.rows.get(key) {
        // SAFETY: the library's callback with its own context.
        unsafe { found(found_ctx, v.as_ptr(), v.len()) };
    }
    0
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn scan(
    user_data: *mut c_void,
    _txn: *mut c_void,
    from: *const u8,
    from_len: usize,
    to: *const u8,
    to_len: usize,
    row: gpc_host_row_fn,
    row_ctx: *mut c_void,
) -> i32 {
    // SAFETY: as in `get`.
    let (t, from, to) = unsafe {
        (
            table(user_data),
            std::slice::from_raw_parts(from, from_len).to_vec(),
            std::slice::from_raw_parts(to, to_len).to_vec(),
        )
    };
    let db = t.db();
    let mut rows: Vec<(&Vec<u8>, &Vec<u8>)> = db.rows.range(from..to).collect();
    if db.scan_reversed {
        rows.reverse();
    }
    for (k, v) in rows {
        // SAFETY: the library's callback with its own context.
        unsafe { row(row_ctx, k.as_ptr(), k.len(), v.as_ptr(), v.len()) };
    }
    0
}

unsafe extern "C" fn put(
    user_data: *mut c_void,
    _txn: *mut c_void,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
) -> i32 {
    // SAFETY: as in `get`.
    let (t, key, value) = unsafe {
        (
            table(user_data),
            std::slice::from_raw_parts(key, key_len),
            std::slice::from_raw_parts(value, value_len),
        )
    };
    let mut db = t.db();
    let n = db.puts;
    db.puts += 1;
    if !db.write || db.fail_put_at == Some(n) {
        return -1;
    }
    db.staged.push((key.to_vec(), Some(value.to_vec())));
    0
}

unsafe extern "C" fn remove(
    user_data: *mut c_void,
    _txn: *mut c_void,
    key: *const u8,
    key_len: usize,
) -> i32 {
    // SAFETY: as in `get`.
    let (t, key) = unsafe { (table(user_data), std::slice::from_raw_parts(key, key_len)) };
    let mut db = t.db();
    if !db.write {
        return -1;
    }
    db.staged.push((key.to_vec(), None));
    0
}

unsafe extern "C" fn commit(user_data: *mut c_void, _txn: *mut c_void) -> i32 {
    // SAFETY: user_data is ours.
    let t = unsafe { table(user_data) };
    let mut db = t.db();
    for (k, v) in std::mem::take(&mut db.staged) {
        match v {
            Some(v) => db.rows.insert(k, v),
            None => db.rows.remove(&k),
        };
    }
    0
}

unsafe extern "C" fn end(user_data: *mut c_void, _txn: *mut c_void) {
    // SAFETY: user_data is ours.
    let t = unsafe { table(user_data) };
    {
        let mut db = t.db();
        db.staged.clear();
        db.ends += 1;
    }
    *t.busy.lock().unwrap_or_else(PoisonError::into_inner) = false;
    t.released.notify_one();
}

unsafe extern "C" fn destroy(user_data: *mut c_void) {
    // SAFETY: the Arc reference `table_for` leaked into user_data.
    let t = unsafe { Arc::from_raw(user_data.cast::<Table>().cast_const()) };
    t.db().destroyed = true;
}

/// The callbacks over `t`; the store holds one reference to it.
fn table_for(t: &Arc<Table>) -> gpc_host_storage {
    gpc_host_storage {
        struct_size: size_of::<gpc_host_storage>(),
        user_data: Arc::into_raw(t.clone()).cast_mut().cast::<c_void>(),
        begin: Some(begin),
        get: Some(get),
        scan: Some(scan),
        put: Some(put),
        remove: Some(remove),
        commit: Some(commit),
        end: Some(end),
        destroy: Some(destroy),
    }
}

fn store_over(t: &Arc<Table>) -> HostStore {
    let storage = table_for(t);
    // SAFETY: a complete table of callbacks that honour the contract.
    unsafe { HostStore::from_table(&storage) }.expect("a valid table")
}

fn fresh_store() -> HostStore {
    store_over(&Arc::new(Table::default()))
}

mod conformance {
    gpconnect_storage::conformance_tests!(super::fresh_store);
}

fn now() -> Timestamp {
    "2026-11-25T10:00:00Z".parse().expect("now")
}

fn loaded() -> (Arc<Table>, HostStore) {
    let t = Arc::new(Table::default());
    let store = store_over(&t);
    store
        .import(testkit::ODS, testkit::practice(now()))
        .expect("import the test practice");
    (t, store)
}

fn booking(store: &HostStore, slot_ids: &[&str]) -> NewBooking {
    let slots: Vec<SlotRecord> = slot_ids
        .iter()
        .map(|id| {
            store
                .slot(testkit::ODS, id)
                .expect("read")
                .expect("the slot")
        })
        .collect();
    NewBooking {
        slots: slots.iter().map(|s| (s.id.clone(), s.version)).collect(),
        patient_id: "2".to_owned(),
        start: slots[0].start,
        end: slots[slots.len() - 1].end,
        booking_ods: Some("B82001".to_owned()),
        limits: vec![LimitCheck {
            key: "ods:B82001:day".to_owned(),
            max: 10,
        }],
        now: now(),
        resource: stu3::Appointment {
            status: Code::from_static("booked"),
            ..Default::default()
        },
    }
}

/// Runs `command` with a failure injected at its first put, second put,
/// ... until it succeeds; after each failure the table must be exactly as
/// before. The number of failure points exercised.
fn fails_cleanly_at_every_put<T>(t: &Table, mut command: impl FnMut() -> StoreResult<T>) -> u64 {
    let mut failure_points = 0;
    loop {
        let before = t.db().rows.clone();
        t.db().fail_put_at = Some(failure_points);
        let result = command();
        t.db().fail_put_at = None;
        match result {
            Ok(_) => return failure_points,
            Err(StoreError::Backend(message)) => {
                assert!(message.contains("`put` failed"), "{message}");
                let db = t.db();
                assert!(
                    db.rows == before,
                    "a put failing at #{failure_points} changed the table"
                );
                assert_eq!(db.begins, db.ends, "every transaction was ended");
                failure_points += 1;
            }
            Err(other) => panic!("unexpected error {other:?}"),
        }
    }
}

#[test]
fn a_booking_failing_at_any_put_is_not_half_written() {
    let (t, store) = loaded();
    let slots = ["14-1-0", "14-1-6"];
    let points =
        fails_cleanly_at_every_put(&t, || store.book(testkit::ODS, booking(&store, &slots)));
    // Two slots (record + two indexes each), the appointment (record +
    // index), the counter and two sequences: every one was a failure point.
    assert!(points >= 9, "only {points} puts in a two-slot booking");
    for id in slots {
        let slot = store.slot(testkit::ODS, id).expect("read").expect("slot");
        assert_eq!(
            slot.status,
            SlotStatus::Busy,
            "{id} booked once it succeeded"
        );
    }
}

#[test]
fn a_cancel_failing_at_any_put_is_not_half_written() {
    let (t, store) = loaded();
    let booked = store
        .book(testkit::ODS, booking(&store, &["14-1-0"]))
        .expect("book");
    let change = AppointmentChange {
        id: booked.id.clone(),
        expected_version: booked.version,
        resource: booked.resource.clone(),
        now: now(),
    };
    let points = fails_cleanly_at_every_put(&t, || store.cancel(testkit::ODS, change.clone()));
    assert!(points >= 4, "only {points} puts in a cancel");
    let slot = store
        .slot(testkit::ODS, "14-1-0")
        .expect("read")
        .expect("slot");
    assert_eq!(slot.status, SlotStatus::Free);
}

#[test]
fn an_import_failing_at_some_put_writes_nothing() {
    let t = Arc::new(Table::default());
    let store = store_over(&t);
    let practice = testkit::practice(now());
    // Every put of a whole import would take long: fail at a spread of
    // points, each on the empty table, then succeed.
    for point in [0u64, 1, 17, 200, 500] {
        t.db().fail_put_at = Some(point);
        let result = store.import(testkit::ODS, practice.clone());
        t.db().fail_put_at = None;
        assert!(result.is_err(), "put #{point} failed, so the import must");
        assert!(t.db().rows.is_empty(), "put #{point}: nothing written");
    }
    store.import(testkit::ODS, practice).expect("import");
    assert!(!t.db().rows.is_empty());
}

#[test]
fn racing_bookings_of_one_slot_make_one_appointment() {
    let (t, store) = loaded();
    let store = Arc::new(store);
    let attempt = booking(&store, &["14-1-0"]);
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let attempt = attempt.clone();
            std::thread::spawn(move || store.book(testkit::ODS, attempt))
        })
        .collect();
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(_) | Err(StoreError::SlotUnavailable { .. })))
    );
    let db = t.db();
    assert_eq!(db.begins, db.ends);
}

#[test]
fn dropping_the_store_destroys_the_table_once() {
    let t = Arc::new(Table::default());
    let store = store_over(&t);
    assert_eq!(Arc::strong_count(&t), 2);
    drop(store);
    assert!(t.db().destroyed);
    assert_eq!(
        Arc::strong_count(&t),
        1,
        "destroy released user_data exactly once"
    );
}

#[test]
fn a_scan_out_of_order_is_a_backend_error() {
    let (t, store) = loaded();
    t.db().scan_reversed = true;
    let query = SlotQuery {
        from: now(),
        to: now() + jiff::SignedDuration::from_hours(24 * 14),
        schedule_id: None,
        free_only: true,
    };
    match store.slots(testkit::ODS, &query) {
        Err(StoreError::Backend(message)) => {
            assert!(message.contains("out of order"), "{message}")
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
}

#[test]
fn incomplete_tables_are_refused_before_anything_is_called() {
    let t = Arc::new(Table::default());
    let mut storage = table_for(&t);
    storage.commit = None;
    // SAFETY: a readable table; the missing callback is what is checked.
    let e = unsafe { HostStore::from_table(&storage) }.expect_err("no commit");
    assert!(e.contains("commit"), "{e}");
    storage.commit = Some(commit);
    storage.struct_size = 8;
    // SAFETY: as above.
    let e = unsafe { HostStore::from_table(&storage) }.expect_err("too small");
    assert!(e.contains("struct_size"), "{e}");
    // SAFETY: NULL is refused before any read.
    let e = unsafe { HostStore::from_table(std::ptr::null()) }.expect_err("NULL");
    assert!(e.contains("NULL"), "{e}");
    assert!(!t.db().destroyed);
    // Nothing took user_data: give back the reference `table_for` leaked.
    // SAFETY: `table_for` leaked exactly one reference into user_data.
    drop(unsafe { Arc::from_raw(storage.user_data.cast::<Table>().cast_const()) });
    assert_eq!(Arc::strong_count(&t), 1);
}
