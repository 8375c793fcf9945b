//! Storage benchmarks.
//!
//! - `book/*`: bookings per second on `MemoryStore`, `SledStore` (Buffered
//!   and Immediate) with 1 and 8 client threads, beside raw sled
//!   (`insert` of one appointment-sized value, then `flush`; and `insert` of
//!   as many keys as one booking writes, then one `flush`) with 1 and 8
//!   threads in the same run, and raw sled multi-tree transactions writing
//!   as many keys as a booking, then `flush` (the floor of a design with a
//!   transaction per command). Each client books single slots of its own
//!   schedule; between timed rounds (untimed) the bookings are cancelled so
//!   the slots are free again. Targets: durable single-client booking at
//!   least 0.9x the raw insert+flush rate; 8 durable clients at least 2x one
//!   (group commit).
//! - `search/*`: one `slots` query on a practice of 50 schedules x 30
//!   slots/day x 14 days (21,000 slots): the whole 14-day window (21,000
//!   slots returned), one day of every schedule (1,500) and one schedule
//!   over 14 days (420); four slots in five are busy, and the
//!   `*_free_only` queries list only the free ones (4,200 and 300).
//!   Criterion reports the time per query.
//!
//! Run: `cargo bench -p gpconnect-storage --bench store`. Sled databases go
//! to the system temp directory (`TMPDIR`), which should be a real disk for
//! the durable figures to mean anything.

use std::hint::black_box;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_core::fhir::primitive::Code;
use gpconnect_core::store::*;
use gpconnect_core::stu3;
use gpconnect_core::testkit;
use gpconnect_storage::{Durability, MemoryStore, SledOptions, SledStore};
use jiff::{SignedDuration, Timestamp};

const ODS: &str = testkit::ODS;
/// Slots per client thread: bookings per timed round.
const POOL: usize = 1024;
const MAX_THREADS: usize = 8;
/// Keys one single-slot booking writes on `SledStore`: the redo record, the
/// slot and its two index entries, the limit counter, the appointment and
/// its patient index entry (the redo record's removal is an eighth write).
const BOOKING_KEYS: usize = 7;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn slot(id: String, schedule: String, start: Timestamp) -> SlotRecord {
    SlotRecord {
        id,
        version: 0,
        schedule_id: schedule,
        start,
        end: start + SignedDuration::from_mins(10),
        status: SlotStatus::Free,
        appointment_id: None,
        delivery_channel: "In-person".into(),
        service_type: "General GP Appointment".into(),
        bookable: true,
        restrictions: SlotRestrictions::default(),
        booking_window: None,
    }
}

/// `schedules` schedules of `per_day` ten-minute slots a day for `days`.
fn practice(schedules: usize, per_day: usize, days: usize) -> PracticeImport {
    let first = ts("2026-12-01T08:00:00Z");
    let mut slots = Vec::with_capacity(schedules * per_day * days);
    for d in 0..days {
        for k in 0..schedules {
            for n in 0..per_day {
                let start = first
                    + SignedDuration::from_hours(24 * d as i64)
                    + SignedDuration::from_mins(10 * n as i64);
                slots.push(slot(format!("{k}-{d}-{n}"), format!("sch{k}"), start));
            }
        }
    }
    PracticeImport {
        practice: Some(testkit::practice_record()),
        slots,
        ..Default::default()
    }
}

fn resource() -> stu3::Appointment {
    stu3::Appointment {
        status: Code::from_static("booked"),
        description: Some("Review of blood test results".to_owned()),
        comment: Some("Patient prefers a morning appointment; hearing impaired.".to_owned()),
        ..Default::default()
    }
}

/// A store ready for booking benchmarks: one schedule of `POOL` slots per
/// client thread, and the slots' current versions.
struct BookingBench<S> {
    store: Arc<S>,
    /// Per thread: (slot id, start, current version).
    pools: Vec<Mutex<Vec<(String, Timestamp, u64)>>>,
}

impl<S: PracticeStore + 'static> BookingBench<S> {
    fn new(store: S) -> Self {
        let import = practice(MAX_THREADS, POOL, 1);
        store.import(ODS, import).expect("import");
        let pools = (0..MAX_THREADS)
            .map(|k| {
                let schedule = format!("sch{k}");
                let q = SlotQuery {
                    from: ts("2026-01-01T00:00:00Z"),
                    to: ts("2028-01-01T00:00:00Z"),
                    schedule_id: Some(&schedule),
                    free_only: false,
                };
                let slots = store.slots(ODS, &q).expect("slots");
                assert_eq!(slots.len(), POOL);
                Mutex::new(
                    slots
                        .into_iter()
                        .map(|s| (s.id, s.start, s.version))
                        .collect(),
                )
            })
            .collect();
        Self {
            store: Arc::new(store),
            pools,
        }
    }

    /// Book `iters` single slots from `threads` clients; returns the time
    /// spent booking (cancelling between rounds is not timed).
    fn run(&self, threads: usize, iters: u64) -> Duration {
        let iters = iters as usize;
        let per_thread: Vec<usize> = (0..threads)
            .map(|t| iters / threads + usize::from(t < iters % threads))
            .collect();
        let rounds = per_thread[0].div_ceil(POOL);
        let barrier = Barrier::new(threads + 1);
        std::thread::scope(|scope| {
            for (t, &n) in per_thread.iter().enumerate() {
                let barrier = &barrier;
                let store = &self.store;
                let pool = &self.pools[t];
                scope.spawn(move || {
                    let mut pool = pool.lock().expect("pool");
                    let mut left = n;
                    for _ in 0..rounds {
                        let chunk = left.min(POOL);
                        let mut booked = Vec::with_capacity(chunk);
                        barrier.wait();
                        for (id, start, version) in pool.iter().take(chunk) {
                            let a = store
                                .book(
                                    ODS,
                                    NewBooking {
                                        slots: vec![(id.clone(), *version)],
                                        patient_id: "2".to_owned(),
                                        start: *start,
                                        end: *start + SignedDuration::from_mins(10),
                                        booking_ods: Some("B82001".to_owned()),
                                        limits: vec![LimitCheck {
                                            key: "ods:B82001:2026-12-01".to_owned(),
                                            max: u32::MAX,
                                        }],
                                        now: ts("2026-11-25T10:00:00Z"),
                                        resource: resource(),
                                    },
                                )
                                .expect("book");
                            booked.push(a);
                        }
                        barrier.wait();
                        for (a, entry) in booked.iter().zip(pool.iter_mut()) {
                            let c = store
                                .cancel(
                                    ODS,
                                    AppointmentChange {
                                        id: a.id.clone(),
                                        expected_version: a.version,
                                        resource: resource(),
                                        now: ts("2026-11-25T10:00:00Z"),
                                    },
                                )
                                .expect("cancel");
                            entry.2 = c.version;
                        }
                        left -= chunk;
                    }
                });
            }
            let mut timed = Duration::ZERO;
            for _ in 0..rounds {
                barrier.wait();
                let started = Instant::now();
                barrier.wait();
                timed += started.elapsed();
            }
            timed
        })
    }
}

/// Raw sled: `insert` `keys` values the size of a booked appointment's
/// record, then `flush`, from `threads` threads. With `keys = 1` this is the
/// floor of any durable write on sled; with [`BOOKING_KEYS`] it writes as
/// many keys as one booking does, with nothing else (no reads, no
/// validation, no encoding).
fn raw_sled(
    db: &sled::Db,
    value: &[u8],
    next: &std::sync::atomic::AtomicU64,
    keys: usize,
    threads: usize,
    iters: u64,
) -> Duration {
    let iters = iters as usize;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let n = iters / threads + usize::from(t < iters % threads);
            scope.spawn(move || {
                for _ in 0..n {
                    for _ in 0..keys {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        db.insert(k.to_be_bytes(), value).expect("insert");
                    }
                    db.flush().expect("flush");
                }
            });
        }
    });
    started.elapsed()
}

/// Raw sled: one multi-tree transaction writing as many keys as a booking
/// does (slot, appointment, patient index, limit counter, version and id
/// counters), then `flush`, from `threads` threads: the floor of the
/// transactional design (sled pins the log for every transaction).
fn raw_sled_tx(
    trees: &[sled::Tree],
    value: &[u8],
    next: &std::sync::atomic::AtomicU64,
    threads: usize,
    iters: u64,
) -> Duration {
    use sled::Transactional;
    let iters = iters as usize;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let n = iters / threads + usize::from(t < iters % threads);
            scope.spawn(move || {
                for _ in 0..n {
                    let k = next
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                        .to_be_bytes();
                    trees
                        .transaction(
                            |tx| -> sled::transaction::ConflictableTransactionResult<(), ()> {
                                for t in tx {
                                    t.insert(&k[..], value)?;
                                }
                                Ok(())
                            },
                        )
                        .expect("transaction");
                    trees[0].flush().expect("flush");
                }
            });
        }
    });
    started.elapsed()
}

fn sled_store(dir: &tempfile::TempDir, durability: Durability) -> SledStore {
    SledStore::open(dir.path(), SledOptions::with_durability(durability)).expect("open sled store")
}

fn book(c: &mut Criterion) {
    let mut g = c.benchmark_group("book");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(6));

    // Raw sled baseline first, with a value as large as an appointment.
    let sample = AppointmentRecord {
        id: "1234567".to_owned(),
        version: 1_234_567,
        status: AppointmentStatus::Booked,
        patient_id: "2".to_owned(),
        slot_ids: vec!["7-0-1023".to_owned()],
        start: ts("2026-12-01T09:00:00Z"),
        end: ts("2026-12-01T09:10:00Z"),
        booking_ods: Some("B82001".to_owned()),
        limit_keys: vec!["ods:B82001:2026-12-01".to_owned()],
        last_modified: ts("2026-11-25T10:00:00Z"),
        resource: resource(),
    };
    let value = serde_json::to_vec(&sample).expect("encode");
    let raw_dir = tempfile::tempdir().expect("temp dir");
    let db = sled::Config::new()
        .path(raw_dir.path())
        .mode(sled::Mode::HighThroughput)
        .cache_capacity(256 * 1024 * 1024)
        .open()
        .expect("raw sled");
    let next = std::sync::atomic::AtomicU64::new(0);
    for threads in [1, MAX_THREADS] {
        g.bench_function(BenchmarkId::new("raw_sled_insert_flush", threads), |b| {
            b.iter_custom(|iters| raw_sled(&db, &value, &next, 1, threads, iters))
        });
        g.bench_function(
            BenchmarkId::new(format!("raw_sled_insert{BOOKING_KEYS}_flush"), threads),
            |b| b.iter_custom(|iters| raw_sled(&db, &value, &next, BOOKING_KEYS, threads, iters)),
        );
    }
    let trees: Vec<sled::Tree> = (0..6)
        .map(|i| db.open_tree(format!("t{i}")).expect("tree"))
        .collect();
    for threads in [1, MAX_THREADS] {
        g.bench_function(BenchmarkId::new("raw_sled_tx6_flush", threads), |b| {
            b.iter_custom(|iters| raw_sled_tx(&trees, &value, &next, threads, iters))
        });
    }
    drop(trees);
    drop(db);

    let memory = BookingBench::new(MemoryStore::new());
    for threads in [1, MAX_THREADS] {
        g.bench_function(BenchmarkId::new("memory", threads), |b| {
            b.iter_custom(|iters| memory.run(threads, iters))
        });
    }
    drop(memory);

    for (name, durability) in [
        ("sled_buffered", Durability::Buffered),
        ("sled_immediate", Durability::Immediate),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let bench = BookingBench::new(sled_store(&dir, durability));
        for threads in [1, MAX_THREADS] {
            g.bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter_custom(|iters| bench.run(threads, iters))
            });
        }
    }
    g.finish();
}

fn search(c: &mut Criterion) {
    let mut g = c.benchmark_group("search");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(4));
    let mut import = practice(50, 30, 14);
    assert_eq!(import.slots.len(), 21_000);
    // A real appointment book is mostly booked: four slots in five busy
    // (held by the practice's own system), so free-only search skips them.
    for (n, s) in import.slots.iter_mut().enumerate() {
        if n % 5 != 0 {
            s.status = SlotStatus::Busy;
        }
    }
    let memory = MemoryStore::new();
    memory.import(ODS, import.clone()).expect("import");
    let dir = tempfile::tempdir().expect("temp dir");
    let sled = sled_store(&dir, Durability::Buffered);
    sled.import(ODS, import).expect("import");
    let first = ts("2026-12-01T00:00:00Z");
    let fortnight = first + SignedDuration::from_hours(24 * 14);
    let day = first + SignedDuration::from_hours(24);
    let queries = [
        (
            "14_days_all_schedules",
            SlotQuery {
                from: first,
                to: fortnight,
                schedule_id: None,
                free_only: false,
            },
            21_000,
        ),
        (
            "1_day_all_schedules",
            SlotQuery {
                from: first,
                to: day,
                schedule_id: None,
                free_only: false,
            },
            1_500,
        ),
        (
            "14_days_one_schedule",
            SlotQuery {
                from: first,
                to: fortnight,
                schedule_id: Some("sch7"),
                free_only: false,
            },
            420,
        ),
        (
            "14_days_all_schedules_free_only",
            SlotQuery {
                from: first,
                to: fortnight,
                schedule_id: None,
                free_only: true,
            },
            4_200,
        ),
        (
            "1_day_all_schedules_free_only",
            SlotQuery {
                from: first,
                to: day,
                schedule_id: None,
                free_only: true,
            },
            300,
        ),
    ];
    for (name, query, expected) in &queries {
        assert_eq!(memory.slots(ODS, query).expect("slots").len(), *expected);
        assert_eq!(sled.slots(ODS, query).expect("slots").len(), *expected);
        g.bench_with_input(BenchmarkId::new("memory", name), query, |b, q| {
            b.iter(|| memory.slots(ODS, black_box(q)).expect("slots"))
        });
        g.bench_with_input(BenchmarkId::new("sled", name), query, |b, q| {
            b.iter(|| sled.slots(ODS, black_box(q)).expect("slots"))
        });
    }
    g.finish();
}

criterion_group!(benches, book, search);
criterion_main!(benches);
