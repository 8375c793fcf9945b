//! The schema and its migrations, the database's own booking constraint,
//! and how failures reach the port, against a live server.

#![cfg(gpconnect_pg_tests)]

#[path = "../../tests/common/mod.rs"]
mod common;
mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::*;
use gpconnect_core::store::*;
use gpconnect_postgres::{PgOptions, PgStore, SCHEMA_VERSION};

/// A raw connection to the test database.
fn client() -> postgres::Client {
    postgres::Client::connect(&support::url(), postgres::NoTls).expect("connect")
}

/// A schema name of this test run, dropped when the guard is.
struct NamedSchema(String);

impl NamedSchema {
    fn new(tag: &str) -> NamedSchema {
        static N: AtomicU32 = AtomicU32::new(0);
        NamedSchema(format!(
            "gpconnect_it_{tag}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ))
    }

    fn options(&self) -> PgOptions {
        PgOptions {
            schema: self.0.clone(),
            pool_size: 4,
            ..PgOptions::default()
        }
    }

    fn open(&self) -> StoreResult<PgStore> {
        PgStore::open(&support::url(), self.options())
    }
}

impl Drop for NamedSchema {
    fn drop(&mut self) {
        let _ = client().batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
    }
}

fn version_rows(schema: &str) -> Vec<i32> {
    client()
        .query(
            &format!("SELECT version FROM {schema}.schema_version ORDER BY version"),
            &[],
        )
        .expect("schema_version")
        .iter()
        .map(|r| r.get(0))
        .collect()
}

#[test]
fn the_schema_is_created_on_first_open_and_kept_on_the_next() {
    let schema = NamedSchema::new("reopen");
    let store = schema.open().expect("first open");
    assert_eq!(store.schema(), schema.0);
    assert_eq!(store.schema_version().expect("version"), SCHEMA_VERSION);
    store.import(ODS, practice(1, 3)).expect("import");
    let a = book_current(&store, &[slot_id(0, 0)], "2").expect("book");
    drop(store);

    let store = schema.open().expect("second open");
    assert_eq!(version_rows(&schema.0), vec![SCHEMA_VERSION]);
    assert_eq!(
        store.appointment(ODS, &a.id).expect("read"),
        Some(a.clone()),
        "records survive a reopen"
    );
    // Versions and ids continue where they were.
    let b = book_current(&store, &[slot_id(0, 1)], "2").expect("book after reopen");
    assert!(b.version > a.version, "{} > {}", b.version, a.version);
    assert_ne!(b.id, a.id);
}

#[test]
fn concurrent_first_opens_migrate_once() {
    let schema = NamedSchema::new("concurrent");
    let options = schema.options();
    let opened: Vec<StoreResult<PgStore>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                let options = options.clone();
                s.spawn(move || PgStore::open(&support::url(), options))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for o in &opened {
        assert!(o.is_ok(), "{o:?}");
    }
    assert_eq!(version_rows(&schema.0), vec![SCHEMA_VERSION]);
}

#[test]
fn a_schema_from_a_newer_build_is_refused() {
    let schema = NamedSchema::new("newer");
    drop(schema.open().expect("open"));
    client()
        .execute(
            &format!(
                "INSERT INTO {}.schema_version (version, description) VALUES ($1, 'from the future')",
                schema.0
            ),
            &[&(SCHEMA_VERSION + 1)],
        )
        .expect("insert");
    match schema.open() {
        Err(StoreError::Backend(m)) => assert!(m.contains("newer than this build"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn every_table_is_keyed_by_ods_code_first() {
    let store = support::temporary_store();
    let rows = client()
        .query(
            "SELECT c.conrelid::regclass::text, a.attname \
             FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] \
             WHERE n.nspname = $1 AND c.contype IN ('p', 'u', 'f') \
             AND c.conrelid::regclass::text NOT LIKE '%schema_version'",
            &[&store.schema()],
        )
        .expect("constraints");
    assert!(rows.len() >= 20, "{} key constraints", rows.len());
    for r in &rows {
        let (table, first): (String, String) = (r.get(0), r.get(1));
        assert_eq!(first, "ods", "a key of {table}");
    }
}

/// The slot check under lock is not the only guard: with the slot row
/// made to look free behind the store's back, `slot_holds`' primary key
/// still refuses a second live appointment, and the booking rolls back.
#[test]
fn the_database_refuses_a_second_live_appointment_for_a_slot() {
    let store = support::temporary_store();
    store.import(ODS, practice(1, 2)).expect("import");
    let first = book_current(&store, &[slot_id(0, 1)], "2").expect("book");
    let tampered = client()
        .execute(
            &format!(
                "UPDATE {}.slots SET free = true, appointment_id = NULL WHERE id = $1",
                store.schema()
            ),
            &[&slot_id(0, 1)],
        )
        .expect("tamper");
    assert_eq!(tampered, 1);
    let got = book_current(&store, &[slot_id(0, 0), slot_id(0, 1)], "3");
    assert_eq!(
        got,
        Err(StoreError::SlotUnavailable {
            slot_id: slot_id(0, 1)
        })
    );
    // Nothing of the refused booking remains.
    let s0 = store
        .slot(ODS, &slot_id(0, 0))
        .expect("read")
        .expect("slot");
    assert_eq!((s0.status, s0.appointment_id), (SlotStatus::Free, None));
    let theirs = store
        .patient_appointments(ODS, "3", base(), slot_start(10))
        .expect("read");
    assert_eq!(theirs, vec![]);
    assert_eq!(
        store.appointment(ODS, &first.id).expect("read"),
        Some(first)
    );
}

#[test]
fn values_postgres_cannot_hold_fail_cleanly_and_change_nothing() {
    let store = support::temporary_store();
    store.import(ODS, practice(1, 2)).expect("import");
    // A NUL character: PostgreSQL text cannot hold it.
    let s = store
        .slot(ODS, &slot_id(0, 0))
        .expect("read")
        .expect("slot");
    let mut b = booking(vec![(s.id.clone(), s.version)], "2", s.start, s.end);
    b.resource = resource("nul \u{0} inside");
    match store.book(ODS, b) {
        Err(StoreError::Backend(m)) => assert!(m.starts_with("PostgreSQL: booking"), "{m}"),
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert_eq!(
        store.slot(ODS, &slot_id(0, 0)).expect("read"),
        Some(s.clone()),
        "the failed booking rolled back"
    );
    // A time beyond the nanosecond columns.
    let mut far = s.clone();
    far.id = "far".to_owned();
    far.start = "2300-01-01T00:00:00Z".parse().expect("ts");
    far.end = far.start;
    let got = store.import(
        ODS,
        PracticeImport {
            slots: vec![far],
            ..Default::default()
        },
    );
    assert!(matches!(got, Err(StoreError::Rejected(_))), "{got:?}");
    assert_eq!(store.slot(ODS, "far").expect("read"), None);
}

#[test]
fn bad_options_and_an_unreachable_database_are_backend_errors() {
    let bad_schema = PgStore::open(
        &support::url(),
        PgOptions {
            schema: "Not-A-Schema".to_owned(),
            ..PgOptions::default()
        },
    );
    assert!(
        matches!(bad_schema, Err(StoreError::Backend(_))),
        "{bad_schema:?}"
    );
    let bad_url = PgStore::open("postgres://[nope", PgOptions::default());
    assert!(
        matches!(bad_url, Err(StoreError::Backend(_))),
        "{bad_url:?}"
    );
    // Nothing listens on port 1.
    let started = Instant::now();
    let down = PgStore::open(
        "postgres://gpconnect@127.0.0.1:1/gpconnect",
        PgOptions {
            connect_timeout: Duration::from_secs(1),
            checkout_timeout: Duration::from_secs(1),
            ..PgOptions::default()
        },
    );
    match down {
        Err(StoreError::Backend(m)) => {
            assert!(m.contains("PostgreSQL is unavailable"), "{m}");
            assert!(!m.contains("gpconnect@"), "no connection string in {m}");
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(10));
}

/// The blocking client runs its own tokio runtime, which tokio forbids on
/// a runtime's thread: the store steps off it, so async code (the server's
/// start-up, a host's handlers) can open, use and drop it on either kind
/// of runtime.
#[test]
fn the_store_can_be_opened_used_and_dropped_inside_a_tokio_runtime() {
    for multi_thread in [true, false] {
        let runtime = if multi_thread {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
        } else {
            tokio::runtime::Builder::new_current_thread().build()
        }
        .expect("runtime");
        runtime.block_on(async {
            let store = support::temporary_store();
            store.import(ODS, practice(1, 2)).expect("import");
            let a = book_current(&store, &[slot_id(0, 0)], "2").expect("book");
            assert_eq!(
                store.appointment(ODS, &a.id).expect("read"),
                Some(a),
                "multi-thread: {multi_thread}"
            );
            drop(store);
        });
    }
}
