//! Race test (R16): 8 threads race to book overlapping sets of 1–3 adjacent
//! slots, 10^5 attempts in total, cancelling some of their bookings to keep
//! slots contended. At the end every slot is held by at most one
//! appointment, every successful booking is present and holds exactly its
//! slots (or none, once its thread cancelled it), and slot status agrees
//! with the appointments.

mod common;

use std::sync::{Arc, Barrier};
use std::time::Instant;

use common::*;
use gpconnect_core::store::*;
use gpconnect_storage::{Durability, MemoryStore, SledOptions, SledStore};

const THREADS: usize = 8;
const ATTEMPTS: usize = 100_000;
const SLOTS: usize = 40;

#[derive(Debug, Default)]
struct Tally {
    booked: Vec<AppointmentRecord>,
    cancelled: Vec<AppointmentRecord>,
    unavailable: usize,
}

fn race<S: PracticeStore + 'static>(store: Arc<S>, attempts: usize) {
    store.import(ODS, practice(1, SLOTS)).expect("import");
    let barrier = Arc::new(Barrier::new(THREADS));
    let started = Instant::now();
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut rng = Rng::new(0xB00C + t as u64);
                let mut tally = Tally::default();
                let mut mine: Vec<AppointmentRecord> = Vec::new();
                barrier.wait();
                for _ in 0..attempts / THREADS {
                    let len = 1 + rng.below(3);
                    let first = rng.below(SLOTS - len + 1);
                    let ids: Vec<String> = (first..first + len).map(|n| slot_id(0, n)).collect();
                    match book_current(&*store, &ids, "2") {
                        Ok(a) => {
                            assert_eq!(a.slot_ids, ids);
                            tally.booked.push(a.clone());
                            mine.push(a);
                        }
                        Err(StoreError::SlotUnavailable { slot_id }) => {
                            assert!(ids.contains(&slot_id));
                            tally.unavailable += 1;
                        }
                        Err(e) => panic!("unexpected booking error {e:?}"),
                    }
                    // Cancel about as often as a booking succeeds once the
                    // thread holds a few, so slots keep changing hands.
                    if mine.len() > 2 && rng.below(2) == 0 {
                        let a = mine.swap_remove(rng.below(mine.len()));
                        let c = cancel(&*store, &a).expect("cancel my own booking");
                        tally.cancelled.push(c);
                    }
                }
                tally
            })
        })
        .collect();
    let tallies: Vec<Tally> = threads
        .into_iter()
        .map(|t| t.join().expect("racing thread"))
        .collect();
    let elapsed = started.elapsed();

    let booked: Vec<&AppointmentRecord> = tallies.iter().flat_map(|t| &t.booked).collect();
    let cancelled: std::collections::HashMap<&str, &AppointmentRecord> = tallies
        .iter()
        .flat_map(|t| &t.cancelled)
        .map(|c| (c.id.as_str(), c))
        .collect();
    let unavailable: usize = tallies.iter().map(|t| t.unavailable).sum();
    assert_eq!(
        booked.len() + unavailable,
        attempts,
        "every attempt booked or lost the race"
    );
    assert!(
        unavailable > attempts / 10,
        "too little contention: {unavailable} lost races"
    );
    assert!(
        booked.len() > attempts / 10,
        "too few bookings: {}",
        booked.len()
    );

    let mut ids: Vec<String> = booked.iter().map(|a| a.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), booked.len(), "appointment ids are unique");

    // Every successful booking is present: as booked, or as its cancel left it.
    for a in &booked {
        let stored = store
            .appointment(ODS, &a.id)
            .expect("read")
            .expect("present");
        match cancelled.get(a.id.as_str()) {
            Some(c) => assert_eq!(&stored, *c),
            None => assert_eq!(&stored, *a),
        }
    }
    let slot_ids: Vec<String> = (0..SLOTS).map(|n| slot_id(0, n)).collect();
    let still_booked = check_slot_invariants(&*store, &slot_ids, &ids).expect("slot invariants");
    assert_eq!(still_booked, booked.len() - cancelled.len());
    eprintln!(
        "{} attempts in {elapsed:?}: {} booked, {} cancelled, {unavailable} lost races",
        attempts,
        booked.len(),
        cancelled.len()
    );
}

#[test]
fn memory_store_books_each_slot_at_most_once() {
    race(Arc::new(MemoryStore::new()), ATTEMPTS);
}

#[test]
fn sled_store_books_each_slot_at_most_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(
        dir.path(),
        SledOptions::with_durability(Durability::Buffered),
    )
    .expect("open");
    race(Arc::new(store), ATTEMPTS);
}

/// The durable path applies each group's writes on the applier thread
/// while the group is flushed; the next group must still see them. Fewer
/// attempts: every group waits for an `fsync`.
#[test]
fn durable_sled_store_books_each_slot_at_most_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(
        dir.path(),
        SledOptions::with_durability(Durability::Immediate),
    )
    .expect("open");
    race(Arc::new(store), ATTEMPTS / 10);
}
