//! Race test (R16): 8 threads race to book overlapping sets of 1–3 adjacent
//! slots, 10^5 attempts in total, cancelling some of their bookings to keep
//! slots contended. At the end every slot is held by at most one
//! appointment, every successful booking is present and holds exactly its
//! slots (or none, once its thread cancelled it), and slot status agrees
//! with the appointments. The driver, `common::booking_race`, is shared
//! with the PostgreSQL backend's race test.

mod common;

use std::sync::Arc;

use common::booking_race;
use gpconnect_storage::{Durability, MemoryStore, SledOptions, SledStore};

const ATTEMPTS: usize = 100_000;

#[test]
fn memory_store_books_each_slot_at_most_once() {
    booking_race(Arc::new(MemoryStore::new()), ATTEMPTS);
}

#[test]
fn sled_store_books_each_slot_at_most_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(
        dir.path(),
        SledOptions::with_durability(Durability::Buffered),
    )
    .expect("open");
    booking_race(Arc::new(store), ATTEMPTS);
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
    booking_race(Arc::new(store), ATTEMPTS / 10);
}
