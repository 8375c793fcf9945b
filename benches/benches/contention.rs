//! Contention: 8 clients booking from a small pool of slots.
//!
//! `contention/<store>/<slots>`: [`MAX_THREADS`] client threads each
//! repeatedly pick a slot of a shared pool of `slots` free slots, read it
//! (`PracticeStore::slot`, as a client reads a search result), and try to
//! book it at the version read. Most attempts lose (`SlotUnavailable`, or
//! the slot was already busy when read); a winner cancels its booking at
//! once so the slot returns to the pool. Criterion's throughput is
//! *decided attempts* per second: a win (book + cancel) or a loss each
//! count one.
//!
//! Proof that nothing was double-booked: every win increments a per-slot
//! holder counter and asserts it was zero (decremented before the cancel);
//! and after every timed call every slot is free, holds no appointment,
//! and wins + losses equal the attempts made. The summary at the end
//! prints wins, losses and the rates.
//!
//! Run: `cargo bench -p gpconnect-benches --bench contention`.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_benches::*;
use gpconnect_core::store::{PracticeStore, SlotStatus, StoreError};
use gpconnect_storage::{Durability, MemoryStore};

const SLOTS: usize = 16;

#[derive(Debug, Default)]
struct Tally {
    wins: AtomicU64,
    losses: AtomicU64,
}

fn contend<S: PracticeStore + ?Sized>(
    store: &S,
    ids: &[String],
    holders: &[AtomicUsize],
    tally: &Tally,
    iters: u64,
) -> Duration {
    let per_thread = split(iters, MAX_THREADS);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (t, &n) in per_thread.iter().enumerate() {
            scope.spawn(move || {
                // A small LCG per thread: clients pick slots independently.
                let mut x = (t as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                for _ in 0..n {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let k = (x >> 33) as usize % ids.len();
                    let s = store
                        .slot(ODS, &ids[k])
                        .expect("slot")
                        .expect("slot exists");
                    if s.status != SlotStatus::Free {
                        tally.losses.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    match store.book(ODS, new_booking(&s.id, s.version, s.start)) {
                        Ok(a) => {
                            let before = holders[k].fetch_add(1, Ordering::SeqCst);
                            assert_eq!(before, 0, "Slot/{} double-booked", s.id);
                            holders[k].fetch_sub(1, Ordering::SeqCst);
                            cancel(store, &a);
                            tally.wins.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(StoreError::SlotUnavailable { .. }) => {
                            tally.losses.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => panic!("book: {e}"),
                    }
                }
            });
        }
    });
    let took = started.elapsed();
    // Untimed: the pool is whole again and nothing is left booked.
    for id in ids {
        let s = store.slot(ODS, id).expect("slot").expect("slot exists");
        assert_eq!(s.status, SlotStatus::Free, "Slot/{id} left busy");
        assert_eq!(s.appointment_id, None, "Slot/{id} left holding");
    }
    took
}

fn contention(c: &mut Criterion) {
    let rates = Rates::default();
    let mut g = c.benchmark_group("contention");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    let (warm, measure) = times(Duration::from_secs(1), Duration::from_secs(5));
    g.warm_up_time(warm);
    g.measurement_time(measure);

    let mut summary = Vec::new();
    let mut run = |name: &str, store: &dyn PracticeStore| {
        store
            .import(ODS, practice(1, SLOTS, 1, 0.0))
            .expect("import");
        let ids: Vec<String> = (0..SLOTS).map(|n| format!("0-0-{n}")).collect();
        let holders: Vec<AtomicUsize> = (0..SLOTS).map(|_| AtomicUsize::new(0)).collect();
        let tally = Tally::default();
        let id = format!("{name}/{SLOTS}");
        let attempts = AtomicU64::new(0);
        g.bench_function(BenchmarkId::new(name, SLOTS), |b| {
            b.iter_custom(|iters| {
                attempts.fetch_add(iters, Ordering::Relaxed);
                rates.record(&id, iters, contend(store, &ids, &holders, &tally, iters))
            })
        });
        let (w, l) = (
            tally.wins.load(Ordering::Relaxed),
            tally.losses.load(Ordering::Relaxed),
        );
        assert_eq!(
            w + l,
            attempts.load(Ordering::Relaxed),
            "undecided attempts"
        );
        summary.push((id, w, l));
    };
    run("memory", &MemoryStore::new());
    for (name, durability) in [
        ("sled_buffered", Durability::Buffered),
        ("sled_durable", Durability::Immediate),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        run(name, &sled_store(&dir, durability));
    }
    g.finish();

    eprintln!("\n== contention: {MAX_THREADS} clients, {SLOTS} slots (no slot double-booked) ==");
    for (id, w, l) in summary {
        let rate = rates.rate(&id).unwrap_or(0.0);
        let share = 100.0 * w as f64 / (w + l).max(1) as f64;
        eprintln!("{id:<24} {rate:>10.0} decided/s  wins {w} losses {l} ({share:.0}% won)");
    }
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = contention
}
criterion_main!(benches);
