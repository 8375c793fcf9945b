//! A1 slot search, end to end through the operation (query parsing, the
//! store's range read, availability rules, Bundle population, JSON
//! encoding), over a practice of 50 schedules × 30 ten-minute slots a day ×
//! 14 days = 21,000 slots in the in-memory store (issue 3 target: p99 <
//! 1 ms). Two availability profiles: every slot free, and a realistic book
//! where 9 in 10 slots are already taken.
//!
//! Run: `cargo bench -p gpconnect-core --bench search`.

use criterion::{Criterion, criterion_group, criterion_main};
use gpconnect_core::appointments::search::{parse_slot_search, search_free_slots};
use gpconnect_core::checks::datetime::{uk_start_of_day, uk_today};
use gpconnect_core::error::SpecEdition;
use gpconnect_core::fhir::to_json;
use gpconnect_core::operation::Context;
use gpconnect_core::store::memory::MemoryStore;
use gpconnect_core::store::{PracticeStore, ScheduleRecord, SlotRecord, SlotStatus};
use gpconnect_core::testkit;
use jiff::{SignedDuration, Span, Timestamp};
use std::hint::black_box;

const SCHEDULES: usize = 50;
const SLOTS_PER_DAY: usize = 30;
const DAYS: usize = 14;

fn store(now: Timestamp, busy_one_in: Option<usize>) -> MemoryStore {
    let mut import = testkit::practice(now);
    let template = import.schedules[0].clone();
    import.schedules = (0..SCHEDULES)
        .map(|i| ScheduleRecord {
            id: format!("s{i}"),
            ..template.clone()
        })
        .collect();
    let today = uk_today(now);
    let mut slots = Vec::with_capacity(SCHEDULES * SLOTS_PER_DAY * DAYS);
    for d in 1..=DAYS {
        let day = today
            .checked_add(Span::new().days(d as i64))
            .expect("date in range");
        let midnight = uk_start_of_day(day).expect("UK day");
        for s in 0..SCHEDULES {
            for n in 0..SLOTS_PER_DAY {
                let start = midnight + SignedDuration::from_mins(8 * 60 + 10 * n as i64);
                let busy = busy_one_in.is_some_and(|k| (s + n + d) % k != 0);
                slots.push(SlotRecord {
                    id: format!("{s}-{d}-{n}"),
                    version: 0,
                    schedule_id: format!("s{s}"),
                    start,
                    end: start + SignedDuration::from_mins(10),
                    status: if busy {
                        SlotStatus::Busy
                    } else {
                        SlotStatus::Free
                    },
                    appointment_id: None,
                    delivery_channel: "In-person".into(),
                    service_type: "General GP Appointment".into(),
                    bookable: true,
                    restrictions: Default::default(),
                    booking_window: None,
                });
            }
        }
    }
    import.slots = slots;
    let store = MemoryStore::new();
    store.import(testkit::ODS, import).expect("import");
    store
}

fn search(c: &mut Criterion) {
    let now: Timestamp = "2026-11-25T10:00:00Z".parse().expect("now");
    let practice = testkit::practice_record();
    let query = |days: i64| {
        let from = uk_today(now).checked_add(Span::new().days(1)).expect("day");
        let to = from.checked_add(Span::new().days(days - 1)).expect("day");
        (format!("ge{from}"), format!("le{to}"))
    };
    for (label, busy) in [("all_free", None), ("nine_in_ten_busy", Some(10))] {
        let store = store(now, busy);
        let practice = store
            .practice(testkit::ODS)
            .expect("read")
            .unwrap_or_else(|| practice.clone());
        let ctx = Context {
            store: &store,
            practice: &practice,
            now,
            edition: SpecEdition::Appointments129,
        };
        let mut g = c.benchmark_group(format!("slot_search_21000_slots_{label}"));
        for days in [1, 14] {
            let (start, end) = query(days);
            let params = [
                ("start", start.as_str()),
                ("end", end.as_str()),
                ("status", "free"),
                ("_include", "Slot:schedule"),
                ("_include:recurse", "Schedule:actor:Practitioner"),
                ("_include:recurse", "Schedule:actor:Location"),
            ];
            // Criterion reports means; the target is a percentile, so also
            // time single searches and print p50/p99.
            let mut samples: Vec<std::time::Duration> = (0..1000)
                .map(|_| {
                    let t = std::time::Instant::now();
                    let search = parse_slot_search(black_box(&params)).expect("valid");
                    let answer = search_free_slots(&ctx, &search).expect("search");
                    black_box(to_json(&answer.body));
                    t.elapsed()
                })
                .collect();
            samples.sort();
            println!(
                "slot_search_21000_slots_{label}/{days}_day_window: p50 {:?} p99 {:?} (1000 searches)",
                samples[500], samples[990]
            );
            g.bench_function(format!("{days}_day_window"), |b| {
                b.iter(|| {
                    let search = parse_slot_search(black_box(&params)).expect("valid");
                    let answer = search_free_slots(&ctx, &search).expect("search");
                    to_json(&answer.body)
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, search);
criterion_main!(benches);
