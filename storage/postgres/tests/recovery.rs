//! The database goes away and comes back: commands and reads fail with
//! `StoreError::Backend` within the checkout timeout (the engine answers
//! 500 INTERNAL_SERVER_ERROR with an OperationOutcome), and once the
//! server is back the same store (the same pool, whose connections all
//! died) works again with no restart of gpconnect; after a restart that
//! no command saw, the dead pooled connections cost no failed command.
//!
//! Runs when `GPCONNECT_TEST_POSTGRES_CTL` names a command that takes
//! `stop` or `start` for the server at `GPCONNECT_TEST_POSTGRES_URL`
//! (`.ci/run` writes one). Cargo runs test binaries one at a time, and this
//! binary has one test, so stopping the server disturbs no other test.

#![cfg(all(gpconnect_pg_tests, gpconnect_pg_ctl))]

#[path = "../../tests/common/mod.rs"]
mod common;
mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use gpconnect_core::checks::headers::Interaction;
use gpconnect_core::clock::FixedClock;
use gpconnect_core::engine::token::TokenSpec;
use gpconnect_core::engine::{Engine, EngineConfig, HttpRequest, HttpResponse};
use gpconnect_core::foundations::{LocalPds, SoftwareInfo};
use gpconnect_core::store::*;
use gpconnect_core::testkit;
use gpconnect_postgres::PgOptions;

fn ctl(action: &str) {
    let command =
        std::env::var("GPCONNECT_TEST_POSTGRES_CTL").expect("GPCONNECT_TEST_POSTGRES_CTL");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("\"$0\" {action}"))
        .arg(&command)
        .status()
        .expect("run the server control command");
    assert!(status.success(), "{command} {action}: {status}");
}

/// Starts the server again however the test ends, so the test binaries
/// after this one find it running.
struct Restart(bool);

impl Drop for Restart {
    fn drop(&mut self) {
        if self.0 {
            ctl("start");
        }
    }
}

fn read_organization(engine: &Engine) -> HttpResponse {
    let token = TokenSpec::for_interaction(Interaction::ReadOrganization, "B82001", now())
        .encode()
        .expect("token");
    let auth = format!("Bearer {token}");
    let headers = [
        ("Ssp-TraceID", "09a01679-2564-0fb4-5129-aecc81ea2706"),
        ("Ssp-From", "200000000359"),
        ("Ssp-To", testkit::ASID),
        (
            "Ssp-InteractionID",
            Interaction::ReadOrganization.interaction_id(),
        ),
        ("Authorization", auth.as_str()),
    ];
    engine.handle(&HttpRequest {
        method: "GET",
        path: "/A00001/STU3/1/gpconnect/Organization/23",
        query: "",
        headers: &headers,
        body: &[],
    })
}

#[test]
fn the_store_fails_cleanly_while_the_database_is_down_and_recovers() {
    let checkout = Duration::from_secs(2);
    let store = Arc::new(support::temporary_store_with(PgOptions {
        pool_size: 4,
        connect_timeout: Duration::from_secs(1),
        checkout_timeout: checkout,
        ..PgOptions::default()
    }));
    store.import(ODS, testkit::practice(now())).expect("import");
    store.import(ODS, practice(1, 4)).expect("slots");
    let engine = Engine::new(
        Arc::clone(&store) as Arc<dyn PracticeStore>,
        Arc::new(FixedClock::new(now())),
        Arc::new(LocalPds::default()),
        EngineConfig::new(SoftwareInfo {
            name: "gpconnect".to_owned(),
            version: "0.1.0".to_owned(),
            release_date: jiff::civil::date(2026, 11, 26),
            publisher: "gpconnect".to_owned(),
            contact_name: None,
        }),
    )
    .expect("engine");
    // Warm the pool: every connection it holds will be dead.
    std::thread::scope(|s| {
        for n in 0..4 {
            let store = &store;
            s.spawn(move || store.slot(ODS, &slot_id(0, n)).expect("read"));
        }
    });
    assert_eq!(read_organization(&engine).status, 200);
    let before = book_current(&*store, &[slot_id(0, 0)], "2").expect("book while up");

    let s1 = store
        .slot(ODS, &slot_id(0, 1))
        .expect("read")
        .expect("slot");
    ctl("stop");
    let mut restart = Restart(true);
    let started = Instant::now();
    match store.book(
        ODS,
        booking(vec![(s1.id, s1.version)], "2", s1.start, s1.end),
    ) {
        Err(StoreError::Backend(m)) => {
            assert!(m.contains("PostgreSQL is unavailable"), "{m}");
            eprintln!("while down: {m}");
        }
        other => panic!("expected a backend error, got {other:?}"),
    }
    assert!(
        started.elapsed() < checkout * 3,
        "failed after {:?}",
        started.elapsed()
    );
    assert!(matches!(
        store.cancel(
            ODS,
            AppointmentChange {
                id: before.id.clone(),
                expected_version: before.version,
                resource: resource("cancel"),
                now: now(),
            }
        ),
        Err(StoreError::Backend(_))
    ));
    let down = read_organization(&engine);
    assert_eq!(down.status, 500, "{}", String::from_utf8_lossy(&down.body));
    let outcome: serde_json::Value = serde_json::from_slice(&down.body).expect("JSON");
    assert_eq!(outcome["resourceType"], "OperationOutcome");
    assert_eq!(
        outcome["issue"][0]["details"]["coding"][0]["code"], "INTERNAL_SERVER_ERROR",
        "{outcome}"
    );

    ctl("start");
    restart.0 = false;
    // The same store, with no reopen: dead connections are replaced.
    let after = book_current(&*store, &[slot_id(0, 1)], "2").expect("book after the restart");
    assert!(after.version > before.version);
    assert_eq!(
        store.appointment(ODS, &before.id).expect("read"),
        Some(before),
        "the booking made before the outage survived it"
    );
    assert_eq!(read_organization(&engine).status, 200);

    // A restart nobody saw: every pooled connection is dead, and the next
    // commands meet them first. They are dropped and the commands run on
    // fresh ones, with no error reaching the caller.
    let warm = |store: &gpconnect_postgres::PgStore| {
        std::thread::scope(|s| {
            for n in 0..4 {
                s.spawn(move || store.slot(ODS, &slot_id(0, n)).expect("read"));
            }
        })
    };
    warm(&store);
    ctl("stop");
    let mut restart = Restart(true);
    ctl("start");
    restart.0 = false;
    warm(&store);
    let again = book_current(&*store, &[slot_id(0, 2)], "2").expect("book after an unseen restart");
    assert!(again.version > after.version);
    assert_eq!(read_organization(&engine).status, 200);
}
