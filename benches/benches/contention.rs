//! Contention: 8 clients racing for a small pool of slots.
//!
//! `contention/<store>/16`: in each round [`MAX_THREADS`] client threads
//! all hold the same search result (the 16 free slots of one schedule and
//! their versions, read untimed before the round) and each tries to book
//! every one of them, single-slot, in its own order. Exactly one attempt
//! per slot can win; the other seven lose with `SlotUnavailable`, so seven
//! attempts in eight lose. Criterion's throughput is *decided attempts*
//! (wins and losses) per second; a round is 128 attempts, and criterion's
//! iteration count is rounded up to whole rounds (the time is scaled back
//! to the iterations asked for).
//!
//! Proof that nothing was double-booked, checked after every round
//! (untimed) and failing the bench otherwise: each slot was won exactly
//! once, every slot is busy and names the one appointment that won it,
//! and every other attempt lost with `SlotUnavailable`. The winners are
//! then cancelled (untimed) so the next round starts from a free pool.
//!
//! Run: `cargo bench -p gpconnect-benches --bench contention`.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_benches::*;
use gpconnect_core::store::{AppointmentRecord, PracticeStore, SlotStatus, StoreError};
use gpconnect_storage::{Durability, MemoryStore};
use jiff::Timestamp;

#[global_allocator]
static ALLOCATOR: gpconnect_benches::ServerAllocator = mimalloc::MiMalloc;

const SLOTS: usize = 16;
const ATTEMPTS: usize = SLOTS * MAX_THREADS;

/// Wins and losses over the whole bench of one store.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    wins: u64,
    losses: u64,
}

/// One round: every thread tries every slot of `pool`; returns the time the
/// attempts took. Checks the round's outcome and frees the pool, untimed.
fn round<S: PracticeStore + ?Sized>(
    store: &S,
    pool: &[(String, Timestamp, u64)],
    tally: &mut Tally,
) -> Duration {
    let barrier = Barrier::new(MAX_THREADS + 1);
    let (took, results) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..MAX_THREADS)
            .map(|t| {
                let barrier = &barrier;
                scope.spawn(move || {
                    let mut won: Vec<(usize, AppointmentRecord)> = Vec::new();
                    let mut lost = 0u64;
                    barrier.wait();
                    for i in 0..SLOTS {
                        // Each client walks the pool from its own offset.
                        let k = (i + t * SLOTS / MAX_THREADS) % SLOTS;
                        let (id, start, version) = &pool[k];
                        match store.book(ODS, new_booking(id, *version, *start, SHARED_LIMIT_KEY)) {
                            Ok(a) => won.push((k, a)),
                            Err(StoreError::SlotUnavailable { .. }) => lost += 1,
                            Err(e) => panic!("book: {e}"),
                        }
                    }
                    barrier.wait();
                    (won, lost)
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        barrier.wait();
        let took = started.elapsed();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect();
        (took, results)
    });

    // Untimed: nothing double-booked, nothing undecided.
    let mut winner: Vec<Option<AppointmentRecord>> = vec![None; SLOTS];
    let mut losses = 0;
    for (won, lost) in results {
        losses += lost;
        for (k, a) in won {
            assert!(
                winner[k].is_none(),
                "Slot/{} double-booked: {} and {}",
                pool[k].0,
                winner[k].as_ref().map_or("", |w| w.id.as_str()),
                a.id
            );
            winner[k] = Some(a);
        }
    }
    assert_eq!(losses as usize, ATTEMPTS - SLOTS, "wrong number of losses");
    for ((id, _, _), w) in pool.iter().zip(&winner) {
        let w = w
            .as_ref()
            .unwrap_or_else(|| panic!("Slot/{id} won by nobody"));
        let s = store.slot(ODS, id).expect("slot").expect("slot exists");
        assert_eq!(s.status, SlotStatus::Busy, "Slot/{id} not busy");
        assert_eq!(s.appointment_id.as_deref(), Some(w.id.as_str()));
    }
    tally.wins += SLOTS as u64;
    tally.losses += losses;
    for a in winner.iter().flatten() {
        cancel(store, a);
    }
    took
}

/// The pool's current state, as a search would return it.
fn read_pool<S: PracticeStore + ?Sized>(store: &S) -> Vec<(String, Timestamp, u64)> {
    (0..SLOTS)
        .map(|n| {
            let s = store
                .slot(ODS, &format!("0-0-{n}"))
                .expect("slot")
                .expect("slot exists");
            assert_eq!(s.status, SlotStatus::Free);
            (s.id, s.start, s.version)
        })
        .collect()
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
        let mut tally = Tally::default();
        let id = format!("{name}/{SLOTS}");
        g.bench_function(BenchmarkId::new(name, SLOTS), |b| {
            b.iter_custom(|iters| {
                let rounds = iters.div_ceil(ATTEMPTS as u64).max(1);
                let mut took = Duration::ZERO;
                for _ in 0..rounds {
                    let pool = read_pool(store);
                    took += round(store, &pool, &mut tally);
                }
                let attempts = rounds * ATTEMPTS as u64;
                rates.record(&id, attempts, took);
                took.mul_f64(iters as f64 / attempts as f64)
            })
        });
        summary.push((id, tally));
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

    eprintln!(
        "\n== contention: {MAX_THREADS} clients racing for {SLOTS} slots; every round checked: no slot double-booked =="
    );
    for (id, t) in summary {
        let rate = rates.rate(&id).unwrap_or(0.0);
        let share = 100.0 * t.losses as f64 / (t.wins + t.losses).max(1) as f64;
        eprintln!(
            "{id:<24} {rate:>10.0} decided attempts/s  wins {} losses {} ({share:.1}% lost)",
            t.wins, t.losses
        );
    }
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = contention
}
criterion_main!(benches);
