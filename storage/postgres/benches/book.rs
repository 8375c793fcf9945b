//! Booking throughput on PostgreSQL beside sled, in the same run.
//!
//! The workload is the storage crate's `book/*` bench (`storage/benches/
//! store.rs`): each client thread books single slots of its own schedule
//! (1,024 per timed round), every booking counting against one slot-count
//! limit key shared by all clients (as every booking of one consumer
//! organisation on one day does); between timed rounds (untimed) the
//! bookings are cancelled so the slots are free again. Bookings are
//! durable when acknowledged in every row (`SledStore` with
//! `Durability::Immediate`; PostgreSQL with `fsync` and
//! `synchronous_commit` on, as `.ci/run` starts it).
//!
//! - `sled_immediate/{1,8}`: `SledStore`, durable, group commit.
//! - `postgres/{1,8}`: `PgStore` (a temporary schema on the server at
//!   `GPCONNECT_TEST_POSTGRES_URL`; skipped when it is unset).
//! - `postgres_own_limit/8`: the same with one limit key per client, so
//!   the clients share no row: what the shared counter costs on PostgreSQL,
//!   where its row lock is held until the commit's WAL flush.
//!
//! Run (with a server, e.g. the one `.ci/run` starts):
//!
//! ```text
//! GPCONNECT_TEST_POSTGRES_URL=postgres://gpconnect@127.0.0.1:54329/gpconnect_test \
//!     cargo bench -p gpconnect-postgres --bench book
//! ```

use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_core::fhir::primitive::Code;
use gpconnect_core::store::*;
use gpconnect_core::stu3;
use gpconnect_core::testkit;
use gpconnect_postgres::{PgOptions, PgStore};
use gpconnect_storage::{Durability, SledOptions, SledStore};
use jiff::{SignedDuration, Timestamp};

const ODS: &str = testkit::ODS;
/// Slots per client thread: bookings per timed round.
const POOL: usize = 1024;
const MAX_THREADS: usize = 8;

fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// `MAX_THREADS` schedules of `POOL` ten-minute slots.
fn practice() -> PracticeImport {
    let first = ts("2026-12-01T08:00:00Z");
    let mut slots = Vec::with_capacity(MAX_THREADS * POOL);
    for k in 0..MAX_THREADS {
        for n in 0..POOL {
            let start = first + SignedDuration::from_mins(10 * n as i64);
            slots.push(SlotRecord {
                id: format!("{k}-0-{n}"),
                version: 0,
                schedule_id: format!("sch{k}"),
                start,
                end: start + SignedDuration::from_mins(10),
                status: SlotStatus::Free,
                appointment_id: None,
                delivery_channel: "In-person".into(),
                service_type: "General GP Appointment".into(),
                bookable: true,
                restrictions: SlotRestrictions::default(),
                booking_window: None,
            });
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

/// A store ready for booking: one schedule of `POOL` slots per client
/// thread, and the slots' current versions.
struct BookingBench<S> {
    store: Arc<S>,
    pools: Vec<Mutex<Vec<(String, Timestamp, u64)>>>,
    /// One limit key per client instead of one shared by all.
    own_limit: bool,
}

impl<S: PracticeStore + 'static> BookingBench<S> {
    fn new(store: S, own_limit: bool) -> Self {
        store.import(ODS, practice()).expect("import");
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
            own_limit,
        }
    }

    /// Book `iters` single slots from `threads` clients; the time spent
    /// booking (cancelling between rounds is not timed).
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
                let key = if self.own_limit {
                    format!("ods:B8200{t}:2026-12-01")
                } else {
                    "ods:B82001:2026-12-01".to_owned()
                };
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
                                            key: key.clone(),
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

fn book(c: &mut Criterion) {
    let mut g = c.benchmark_group("book");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(6));

    let dir = tempfile::tempdir().expect("temp dir");
    let sled = BookingBench::new(
        SledStore::open(
            dir.path(),
            SledOptions::with_durability(Durability::Immediate),
        )
        .expect("open sled store"),
        false,
    );
    for threads in [1, MAX_THREADS] {
        g.bench_function(BenchmarkId::new("sled_immediate", threads), |b| {
            b.iter_custom(|iters| sled.run(threads, iters))
        });
    }
    drop(sled);

    match std::env::var("GPCONNECT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let open = || {
                PgStore::open_temporary(
                    &url,
                    PgOptions {
                        pool_size: MAX_THREADS as u32 + 2,
                        ..PgOptions::default()
                    },
                )
                .expect("open a temporary PostgreSQL store")
            };
            let pg = BookingBench::new(open(), false);
            for threads in [1, MAX_THREADS] {
                g.bench_function(BenchmarkId::new("postgres", threads), |b| {
                    b.iter_custom(|iters| pg.run(threads, iters))
                });
            }
            drop(pg);
            let pg = BookingBench::new(open(), true);
            g.bench_function(BenchmarkId::new("postgres_own_limit", MAX_THREADS), |b| {
                b.iter_custom(|iters| pg.run(MAX_THREADS, iters))
            });
        }
        _ => eprintln!("GPCONNECT_TEST_POSTGRES_URL is not set: no PostgreSQL rows"),
    }
    g.finish();
}

criterion_group!(benches, book);
criterion_main!(benches);
