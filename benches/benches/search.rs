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
//! `a1/<store>/<slots>`: the whole A1 operation on the same practices (with
//! their schedules, locations, practitioners and organisation): parsing the
//! query, the store's read, the availability rules, the searchset Bundle
//! and its JSON. The issue's target is a percentile (p99 < 1 ms at 21,000
//! slots) and criterion reports means, so after each A1 bench the summary
//! also times single searches (at least 100, for as long as the
//! measurement time) and prints their p50 and p99.
//!
//! Run: `cargo bench -p gpconnect-benches --bench search`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_benches::*;
use gpconnect_core::appointments::search::{parse_slot_search, search_free_slots};
use gpconnect_core::error::SpecEdition;
use gpconnect_core::fhir::to_json;
use gpconnect_core::operation::Context;
use gpconnect_core::store::{
    PracticeImport, PracticeStore, ScheduleRecord, SlotQuery, SlotRecord, SlotStatus,
};
use gpconnect_core::testkit;
use gpconnect_storage::{Durability, MemoryStore};
use jiff::SignedDuration;

#[global_allocator]
static ALLOCATOR: gpconnect_benches::ServerAllocator = mimalloc::MiMalloc;

const SCHEDULES: [usize; 3] = [5, 50, 240];
const PER_DAY: usize = 30;
const DAYS: usize = 14;
const BUSY: f64 = 0.8;

/// [`practice`] with what an A1 search needs besides slots: a schedule
/// per `sch{k}` (on the test practice's locations and practitioners), and
/// the practice's organisation.
fn a1_practice(schedules: usize) -> PracticeImport {
    let mut import = practice(schedules, PER_DAY, DAYS, BUSY);
    let linked = testkit::practice(now());
    let template = linked.schedules[0].clone();
    import.schedules = (0..schedules)
        .map(|k| ScheduleRecord {
            id: format!("sch{k}"),
            ..template.clone()
        })
        .collect();
    import.organizations = linked.organizations;
    import.locations = linked.locations;
    import.practitioners = linked.practitioners;
    import
}

/// p50 and p99 of single calls of `f`: at least 100 calls, and as many as
/// fit in `budget`.
fn percentiles(budget: Duration, mut f: impl FnMut()) -> (Duration, Duration, usize) {
    let mut took = Vec::new();
    let started = Instant::now();
    while took.len() < 100 || started.elapsed() < budget {
        let t = Instant::now();
        f();
        took.push(t.elapsed());
    }
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    (at(0.50), at(0.99), took.len())
}

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
    // The same 14 UK days as an A1 request (December: UK time is UTC).
    let last_day = (to - SignedDuration::from_hours(24)).strftime("%Y-%m-%d");
    let params = [
        ("start", format!("ge{}", from.strftime("%Y-%m-%d"))),
        ("end", format!("le{last_day}")),
        ("status", "free".to_owned()),
        ("_include", "Slot:schedule".to_owned()),
        ("_include:recurse", "Schedule:actor:Practitioner".to_owned()),
        ("_include:recurse", "Schedule:actor:Location".to_owned()),
    ];
    let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut rows = Vec::new();
    let mut a1_rows = Vec::new();
    for schedules in SCHEDULES {
        let import = a1_practice(schedules);
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

        let practice = testkit::practice_record();
        for (name, store) in stores {
            let ctx = Context {
                store,
                practice: &practice,
                now: now(),
                edition: SpecEdition::Appointments129,
            };
            let a1 = || {
                let search = parse_slot_search(black_box(&params)).expect("valid");
                let answer = search_free_slots(&ctx, &search).expect("search");
                to_json(&answer.body)
            };
            // Every free slot, its schedules, two locations, two
            // practitioners and the organisation.
            let slots_in = |json: &[u8]| {
                let text = std::str::from_utf8(json).expect("UTF-8");
                text.matches(r#""resourceType":"Slot""#).count()
            };
            assert_eq!(slots_in(&a1()), free, "A1 returns every free slot");
            let id = format!("a1/{name}/{n}");
            let mut single = None;
            g.bench_function(BenchmarkId::new(format!("a1/{name}"), n), |b| {
                // Here, not after: criterion calls this only for a bench
                // its filter selects (e.g. under `--profile-time`).
                if single.is_none() {
                    single = Some(percentiles(measure, || {
                        black_box(a1());
                    }));
                }
                b.iter_custom(|iters| {
                    let started = Instant::now();
                    for _ in 0..iters {
                        black_box(a1());
                    }
                    rates.record(&id, iters, started.elapsed())
                })
            });
            if let Some((p50, p99, calls)) = single {
                a1_rows.push((id, p50, p99, calls));
            }
        }
    }
    g.finish();
    rates.print("search: queries/s", &rows);
    eprintln!("\n== search: time per query and per slot in the practice ==");
    let per_slot = |id: &str| {
        let n: f64 = id
            .rsplit('/')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1.0);
        rates.rate(id).map(|r| (1e6 / r, 1e9 / r / n))
    };
    for (id, _) in &rows {
        let Some((us, ns)) = per_slot(id) else {
            continue;
        };
        eprintln!("{id:<28} {us:>10.1} us/query  {ns:>8.1} ns/slot");
    }
    eprintln!("\n== a1: time per search (mean over timed calls; single-call p50/p99) ==");
    for (id, p50, p99, calls) in &a1_rows {
        let Some((us, ns)) = per_slot(id) else {
            continue;
        };
        eprintln!(
            "{id:<28} {us:>10.1} us/query  {ns:>8.1} ns/slot  p50 {:>9.1} us  p99 {:>9.1} us  ({calls} calls)",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6,
        );
    }
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = search
}
criterion_main!(benches);
