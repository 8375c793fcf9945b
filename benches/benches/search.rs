//! Slot search: how cost grows with practice size.
//!
//! `search/<store>/<slots>`: one free-only `PracticeStore::slots` query over
//! a 14-day window on practices of 30 ten-minute slots a day per schedule
//! for 14 days, with 5, 50 and 240 schedules (2,100 / 21,000 / 100,800
//! slots); four slots in five are busy, so each query returns a fifth of
//! the practice (420 / 4,200 / 20,160). Stores: `MemoryStore` and
//! `SledStore` (Buffered; reads do not depend on durability).
//!
//! The limit, in the same run: `search/floor_clone_free/<slots>`, filtering
//! a `Vec` of the same slot records and cloning the free ones (the cost of
//! building the answer with no index, no locking and no decoding).
//! Criterion's throughput is slots in the practice, so elem/s is the
//! per-slot cost; the summary prints time per query and the ratio to the
//! floor.
//!
//! Run: `cargo bench -p gpconnect-benches --bench search`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_benches::*;
use gpconnect_core::store::{PracticeStore, SlotQuery, SlotRecord, SlotStatus};
use gpconnect_storage::{Durability, MemoryStore};
use jiff::SignedDuration;

const SCHEDULES: [usize; 3] = [5, 50, 240];
const PER_DAY: usize = 30;
const DAYS: usize = 14;
const BUSY: f64 = 0.8;

fn search(c: &mut Criterion) {
    let rates = Rates::default();
    let mut g = c.benchmark_group("search");
    g.sample_size(10);
    let (warm, measure) = times(Duration::from_secs(1), Duration::from_secs(4));
    g.warm_up_time(warm);
    g.measurement_time(measure);
    let from = first_day() - SignedDuration::from_hours(8);
    let to = from + SignedDuration::from_hours(24 * DAYS as i64);
    let query = SlotQuery {
        from,
        to,
        schedule_id: None,
        free_only: true,
    };
    let mut rows = Vec::new();
    for schedules in SCHEDULES {
        let import = practice(schedules, PER_DAY, DAYS, BUSY);
        let n = import.slots.len();
        let free = import
            .slots
            .iter()
            .filter(|s| s.status == SlotStatus::Free)
            .count();
        g.throughput(Throughput::Elements(n as u64));

        let all: Vec<SlotRecord> = import.slots.clone();
        let floor = format!("floor_clone_free/{n}");
        g.bench_function(BenchmarkId::new("floor_clone_free", n), |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    let out: Vec<SlotRecord> = black_box(&all)
                        .iter()
                        .filter(|s| s.status == SlotStatus::Free && s.start >= from && s.start < to)
                        .cloned()
                        .collect();
                    assert_eq!(black_box(out).len(), free);
                }
                rates.record(&floor, iters, started.elapsed())
            })
        });
        drop(all);

        let memory = MemoryStore::new();
        memory.import(ODS, import.clone()).expect("import");
        let dir = tempfile::tempdir().expect("temp dir");
        let sled = sled_store(&dir, Durability::Buffered);
        sled.import(ODS, import).expect("import");
        let stores: [(&str, &dyn PracticeStore); 2] = [("memory", &memory), ("sled", &sled)];
        for (name, store) in stores {
            let id = format!("{name}/{n}");
            g.bench_function(BenchmarkId::new(name, n), |b| {
                b.iter_custom(|iters| {
                    let started = Instant::now();
                    for _ in 0..iters {
                        let out = store.slots(ODS, black_box(&query)).expect("slots");
                        assert_eq!(black_box(out).len(), free);
                    }
                    rates.record(&id, iters, started.elapsed())
                })
            });
            rows.push((id, Some(floor.clone())));
        }
        rows.push((floor, None));
    }
    g.finish();
    rates.print("search: queries/s", &rows);
    eprintln!("\n== search: time per query and per slot in the practice ==");
    for (id, _) in &rows {
        let Some(r) = rates.rate(id) else { continue };
        let n: f64 = id
            .rsplit('/')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1.0);
        eprintln!(
            "{id:<28} {:>10.1} us/query  {:>8.1} ns/slot",
            1e6 / r,
            1e9 / r / n
        );
    }
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = search
}
criterion_main!(benches);
