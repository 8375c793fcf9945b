//! Races against PostgreSQL.
//!
//! - The storage crate's booking race (`storage/tests/race.rs`, the same
//!   driver and checks, its helpers shared through `#[path]`): 8 threads,
//!   each with its own pooled connection, race to book overlapping sets of
//!   1–3 adjacent slots, cancelling some of their bookings to keep slots
//!   contended. Every attempt books or loses with `SlotUnavailable` (never
//!   a backend error), no slot is held twice, every acknowledged booking is
//!   stored as acknowledged. `GPCONNECT_PG_RACE_ATTEMPTS` sets the attempts
//!   (default 100,000, as for the other backends).
//! - Eight clients cancelling (or amending) one appointment at one version:
//!   exactly one wins, the others get `VersionConflict`.
//! - Eight clients registering one NHS number: exactly one patient.

#![cfg(gpconnect_pg_tests)]

#[path = "../../tests/common/mod.rs"]
mod common;
mod support;

use std::sync::{Arc, Barrier};

use common::*;
use gpconnect_core::store::*;
use gpconnect_core::stu3;
use gpconnect_postgres::PgOptions;

const THREADS: usize = RACE_THREADS;

fn attempts() -> usize {
    std::env::var("GPCONNECT_PG_RACE_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn racing_store() -> gpconnect_postgres::PgStore {
    support::temporary_store_with(PgOptions {
        pool_size: THREADS as u32 + 2,
        ..PgOptions::default()
    })
}

#[test]
fn postgres_store_books_each_slot_at_most_once() {
    let store = Arc::new(racing_store());
    booking_race(store, attempts());
}

/// Run `f(i)` on `THREADS` threads released together; their results.
fn all_at_once<T: Send + 'static>(f: impl Fn(usize) -> T + Send + Sync + 'static) -> Vec<T> {
    let f = Arc::new(f);
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let f = Arc::clone(&f);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                f(i)
            })
        })
        .collect();
    threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect()
}

#[test]
fn one_of_eight_cancels_or_amends_of_one_version_wins() {
    let store = Arc::new(racing_store());
    store.import(ODS, practice(1, 4)).expect("import");
    for round in 0..5 {
        let a = book_current(&*store, &[slot_id(0, 0)], "2").expect("book");
        let s = Arc::clone(&store);
        let target = a.clone();
        let results = all_at_once(move |i| {
            let change = AppointmentChange {
                id: target.id.clone(),
                expected_version: target.version,
                resource: resource(&format!("client {i}")),
                now: now(),
            };
            // Half the clients amend, half cancel: one of them wins.
            if i % 2 == 0 {
                s.cancel(ODS, change)
            } else {
                s.amend(ODS, change)
            }
        });
        let winners: Vec<&AppointmentRecord> = results.iter().flatten().collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let winner = winners[0];
        for r in &results {
            if let Err(e) = r {
                assert_eq!(
                    *e,
                    StoreError::VersionConflict {
                        kind: "Appointment",
                        id: a.id.clone(),
                        expected: a.version,
                        actual: winner.version,
                    },
                    "round {round}"
                );
            }
        }
        assert_eq!(
            store.appointment(ODS, &a.id).expect("read").as_ref(),
            Some(winner)
        );
        if winner.status == AppointmentStatus::Booked {
            cancel(&*store, winner).expect("cancel the amended one");
        }
        let slot = store
            .slot(ODS, &slot_id(0, 0))
            .expect("read")
            .expect("slot");
        assert_eq!((slot.status, slot.appointment_id), (SlotStatus::Free, None));
    }
}

#[test]
fn one_of_eight_registrations_of_an_nhs_number_wins() {
    let store = Arc::new(racing_store());
    store.import(ODS, practice(1, 1)).expect("import");
    for round in 0..5 {
        let nhs = format!("900000{round:04}");
        let s = Arc::clone(&store);
        let number = nhs.clone();
        let results = all_at_once(move |_| {
            s.register_patient(
                ODS,
                PatientRegistration::New {
                    nhs_number: number.clone(),
                    resource: stu3::Patient::default(),
                    flags: PatientFlags::default(),
                },
            )
        });
        let ok = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(ok, 1, "round {round}: {results:?}");
        assert!(
            results
                .iter()
                .all(|r| r.is_ok() || *r == Err(StoreError::DuplicatePatient)),
            "round {round}: {results:?}"
        );
        assert_eq!(
            store.patients_by_nhs_number(ODS, &nhs).expect("read").len(),
            1
        );
    }
}
