//! Shared fixtures for gpconnect's benchmarks (`benches/benches/*.rs`).
//!
//! Every bench measures its own physical limit in the same run (raw sled,
//! raw `fsync`, ...) so that the published figures are ratios that survive
//! a noisy machine. See `BENCHMARKS.md` at the workspace root.
//!
//! `GPCONNECT_BENCH_QUICK=1` shortens warm-up and measurement (see
//! [`criterion()`] and [`times`]) for a fast, noisier run.

pub mod bundle;

/// The allocator of the `gpconnect` server binary. Each criterion bench
/// installs it (`#[global_allocator]`) so the figures are those of the
/// shipped server: under glibc malloc, freeing a large answer's many small
/// allocations costs more than the search that built it, and grows faster
/// than the answer (BENCHMARKS.md, slot search). The instruction-count
/// bench keeps the system allocator.
pub type ServerAllocator = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use gpconnect_core::fhir::primitive::Code;
use gpconnect_core::store::*;
use gpconnect_core::stu3;
use gpconnect_core::testkit;
use gpconnect_storage::{Durability, SledOptions, SledStore};
use jiff::{SignedDuration, Timestamp};

/// The practice every bench hosts.
pub const ODS: &str = testkit::ODS;
/// Slots per client thread in the booking bench: bookings per timed round.
pub const POOL: usize = 1024;
/// Most client threads any bench runs.
pub const MAX_THREADS: usize = 8;
/// Keys one single-slot booking writes on `SledStore`: the redo record, the
/// slot and its two index entries, the limit counter, the appointment and
/// its patient index entry.
pub const BOOKING_KEYS: usize = 7;

/// Whether `GPCONNECT_BENCH_QUICK` is set (to anything but `0` or empty).
pub fn quick() -> bool {
    std::env::var("GPCONNECT_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Warm-up and measurement time for a group: `full` normally, a fraction
/// of it in quick mode.
pub fn times(full_warm_up: Duration, full_measure: Duration) -> (Duration, Duration) {
    if quick() {
        (full_warm_up / 4, full_measure / 4)
    } else {
        (full_warm_up, full_measure)
    }
}

/// A criterion configured for these benches.
pub fn criterion() -> criterion::Criterion {
    let c = criterion::Criterion::default().configure_from_args();
    if quick() {
        c.warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(1))
            .sample_size(10)
    } else {
        c
    }
}

/// A timestamp from RFC 3339 text.
pub fn ts(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// The instant the benches' commands happen at.
pub fn now() -> Timestamp {
    ts("2026-11-25T10:00:00Z")
}

/// The first day of every generated practice (08:00 UTC).
pub fn first_day() -> Timestamp {
    ts("2026-12-01T08:00:00Z")
}

/// A free ten-minute slot.
pub fn slot(id: String, schedule: String, start: Timestamp) -> SlotRecord {
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

/// A practice of `schedules` schedules (`sch0`, `sch1`, ...) of `per_day`
/// ten-minute slots a day for `days` days from [`first_day`]; slot ids are
/// `{schedule}-{day}-{n}`. One slot in every `1 / (1 - busy)` is left free,
/// the rest are busy (held by the practice's own system): `busy = 0.8`
/// leaves every fifth slot free.
pub fn practice(schedules: usize, per_day: usize, days: usize, busy: f64) -> PracticeImport {
    let first = first_day();
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
    if busy > 0.0 {
        for (n, s) in slots.iter_mut().enumerate() {
            // Spread the busy ones evenly: slot n is busy when the running
            // count of busy slots falls behind `busy * (n + 1)`.
            let before = (busy * n as f64).floor() as usize;
            let after = (busy * (n + 1) as f64).floor() as usize;
            if after > before {
                s.status = SlotStatus::Busy;
            }
        }
    }
    PracticeImport {
        practice: Some(testkit::practice_record()),
        slots,
        ..Default::default()
    }
}

/// The appointment resource every bench books.
pub fn resource() -> stu3::Appointment {
    stu3::Appointment {
        status: Code::from_static("booked"),
        description: Some("Review of blood test results".to_owned()),
        comment: Some("Patient prefers a morning appointment; hearing impaired.".to_owned()),
        ..Default::default()
    }
}

/// The slot-count limit key every booking of the benches' consumer
/// organisation on their day counts against (as in the engine, one per
/// organisation and day).
pub const SHARED_LIMIT_KEY: &str = "ods:B82001:2026-12-01";

/// A single-slot booking of `id` at `version`, counting against the
/// slot-count limit `limit_key` (never reached).
pub fn new_booking(id: &str, version: u64, start: Timestamp, limit_key: &str) -> NewBooking {
    NewBooking {
        slots: vec![(id.to_owned(), version)],
        patient_id: "2".to_owned(),
        start,
        end: start + SignedDuration::from_mins(10),
        booking_ods: Some("B82001".to_owned()),
        limits: vec![LimitCheck {
            key: limit_key.to_owned(),
            max: u32::MAX,
        }],
        now: now(),
        resource: resource(),
    }
}

/// Cancel `a` (at its current version).
pub fn cancel<S: PracticeStore + ?Sized>(store: &S, a: &AppointmentRecord) -> AppointmentRecord {
    store
        .cancel(
            ODS,
            AppointmentChange {
                id: a.id.clone(),
                expected_version: a.version,
                resource: resource(),
                now: now(),
            },
        )
        .expect("cancel")
}

/// An appointment record as large as a booked one (the raw baselines write
/// values of this size).
pub fn appointment_sized_value() -> Vec<u8> {
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
        last_modified: now(),
        resource: resource(),
    };
    serde_json::to_vec(&sample).expect("encode")
}

/// A `SledStore` in `dir`.
pub fn sled_store(dir: &tempfile::TempDir, durability: Durability) -> SledStore {
    SledStore::open(dir.path(), SledOptions::with_durability(durability)).expect("open sled store")
}

/// How many items `threads` threads each handle when sharing `iters`.
pub fn split(iters: u64, threads: usize) -> Vec<usize> {
    let iters = iters as usize;
    (0..threads)
        .map(|t| iters / threads + usize::from(t < iters % threads))
        .collect()
}

/// A store ready for the booking bench: one schedule of [`POOL`] slots per
/// client thread, and the slots' current versions. Shared by every booking
/// bench (this crate's and the PostgreSQL backend's), so their figures
/// measure the same workload.
#[derive(Debug)]
pub struct BookingBench<S> {
    store: Arc<S>,
    /// Per thread: (slot id, start, current version).
    pools: Vec<Mutex<Vec<(String, Timestamp, u64)>>>,
    /// One limit key per client instead of [`SHARED_LIMIT_KEY`].
    own_limit_keys: bool,
}

impl<S: PracticeStore + 'static> BookingBench<S> {
    /// Import the practice into `store` and read the pools back. Every
    /// booking counts against [`SHARED_LIMIT_KEY`], as every booking of one
    /// consumer organisation on one day does.
    pub fn new(store: S) -> Self {
        store
            .import(ODS, practice(MAX_THREADS, POOL, 1, 0.0))
            .expect("import");
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
            own_limit_keys: false,
        }
    }

    /// Give each client its own limit key, so clients share no counter:
    /// what the shared counter costs on a backend that holds its row lock
    /// until commit.
    pub fn with_own_limit_keys(mut self) -> Self {
        self.own_limit_keys = true;
        self
    }

    /// Book `iters` single slots from `threads` clients, each from its own
    /// pool; returns the time spent booking. Between rounds of [`POOL`]
    /// bookings per client the bookings are cancelled, untimed, so the
    /// slots are free again.
    pub fn run(&self, threads: usize, iters: u64) -> Duration {
        let per_thread = split(iters, threads);
        let rounds = per_thread[0].div_ceil(POOL);
        let barrier = Barrier::new(threads + 1);
        std::thread::scope(|scope| {
            for (t, &n) in per_thread.iter().enumerate() {
                let barrier = &barrier;
                let store = &self.store;
                let pool = &self.pools[t];
                let key = if self.own_limit_keys {
                    format!("ods:B8200{t}:2026-12-01")
                } else {
                    SHARED_LIMIT_KEY.to_owned()
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
                                .book(ODS, new_booking(id, *version, *start, &key))
                                .expect("book");
                            booked.push(a);
                        }
                        barrier.wait();
                        for (a, entry) in booked.iter().zip(pool.iter_mut()) {
                            entry.2 = cancel(&**store, a).version;
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

/// Rates measured in a bench binary, for the summary it prints at the end:
/// every timed call's iterations and time, warm-up included, per bench id.
#[derive(Debug, Default)]
pub struct Rates(Mutex<BTreeMap<String, (u64, Duration)>>);

impl Rates {
    /// Record one timed call and pass its time through.
    pub fn record(&self, id: &str, iters: u64, took: Duration) -> Duration {
        let mut m = self.0.lock().expect("rates");
        let e = m.entry(id.to_owned()).or_default();
        e.0 += iters;
        e.1 += took;
        took
    }

    /// Operations per second of `id`, if it ran.
    pub fn rate(&self, id: &str) -> Option<f64> {
        let m = self.0.lock().expect("rates");
        m.get(id)
            .filter(|(n, t)| *n > 0 && !t.is_zero())
            .map(|(n, t)| *n as f64 / t.as_secs_f64())
    }

    /// Print `id: rate/s (ratio x limit)` for each `(id, limit id)` pair.
    pub fn print(&self, title: &str, rows: &[(String, Option<String>)]) {
        eprintln!("\n== {title} (ops/s over every timed call, warm-up included) ==");
        for (id, limit) in rows {
            let Some(r) = self.rate(id) else { continue };
            match limit
                .as_deref()
                .and_then(|l| self.rate(l).map(|lr| (l, lr)))
            {
                Some((l, lr)) => eprintln!("{id:<40} {r:>12.0}/s  {:>6.2}x {l}", r / lr),
                None => eprintln!("{id:<40} {r:>12.0}/s"),
            }
        }
    }
}
