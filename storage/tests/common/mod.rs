//! Helpers shared by the storage integration tests.
#![allow(dead_code)]

use gpconnect_core::store::*;
use gpconnect_core::stu3;
use gpconnect_core::testkit;
use jiff::{SignedDuration, Timestamp};

/// The practice the tests book in.
pub const ODS: &str = testkit::ODS;

/// 2026-12-01 09:00 UTC: the first slot's start.
pub fn base() -> Timestamp {
    "2026-12-01T09:00:00Z".parse().expect("timestamp")
}

/// When commands happen.
pub fn now() -> Timestamp {
    "2026-11-25T10:00:00Z".parse().expect("timestamp")
}

/// The id of slot `n` of schedule `schedule`.
pub fn slot_id(schedule: usize, n: usize) -> String {
    format!("s{schedule}-{n:03}")
}

/// The start of the `n`th ten-minute slot.
pub fn slot_start(n: usize) -> Timestamp {
    base() + SignedDuration::from_mins(10 * n as i64)
}

/// A practice with `schedules` schedules of `per_schedule` adjacent
/// ten-minute free slots each (schedule `k` is `sch{k}`; every schedule's
/// slot `n` starts at the same time).
pub fn practice(schedules: usize, per_schedule: usize) -> PracticeImport {
    let mut slots = Vec::new();
    for k in 0..schedules {
        for n in 0..per_schedule {
            slots.push(SlotRecord {
                id: slot_id(k, n),
                version: 0,
                schedule_id: format!("sch{k}"),
                start: slot_start(n),
                end: slot_start(n + 1),
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

/// The resource every test booking carries.
pub fn resource(description: &str) -> stu3::Appointment {
    stu3::Appointment {
        status: gpconnect_core::fhir::primitive::Code::from_static("booked"),
        description: Some(description.to_owned()),
        ..Default::default()
    }
}

/// A booking of `slots` (id, version) for `patient`.
pub fn booking(
    slots: Vec<(String, u64)>,
    patient: &str,
    start: Timestamp,
    end: Timestamp,
) -> NewBooking {
    NewBooking {
        slots,
        patient_id: patient.to_owned(),
        start,
        end,
        booking_ods: Some("B82001".into()),
        limits: Vec::new(),
        now: now(),
        resource: resource("test booking"),
    }
}

/// Book `ids` at their current versions (read first, so another client may
/// win the race in between).
pub fn book_current<S: PracticeStore>(
    store: &S,
    ids: &[String],
    patient: &str,
) -> StoreResult<AppointmentRecord> {
    let mut slots = Vec::with_capacity(ids.len());
    let mut times = Vec::with_capacity(ids.len());
    for id in ids {
        let s = store.slot(ODS, id)?.ok_or_else(|| StoreError::NotFound {
            kind: "Slot",
            id: id.clone(),
        })?;
        times.push((s.start, s.end));
        slots.push((s.id, s.version));
    }
    let start = times.first().map_or(base(), |t| t.0);
    let end = times.last().map_or(base(), |t| t.1);
    store.book(ODS, booking(slots, patient, start, end))
}

/// Cancel `a` at its version.
pub fn cancel<S: PracticeStore>(
    store: &S,
    a: &AppointmentRecord,
) -> StoreResult<AppointmentRecord> {
    store.cancel(
        ODS,
        AppointmentChange {
            id: a.id.clone(),
            expected_version: a.version,
            resource: resource("cancelled"),
            now: now(),
        },
    )
}

/// A small deterministic PRNG (xorshift64*), so tests need no extra crate.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// Seeded from the clock.
    pub fn from_time() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        Self::new(nanos ^ u64::from(std::process::id()))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Check the booking invariants of a practice's slots and the given
/// appointments: every slot is held by at most one booked appointment; a
/// busy slot held through this engine names a booked appointment that
/// lists it; a booked appointment holds exactly its slots; a cancelled one
/// holds none.
pub fn check_slot_invariants<S: PracticeStore>(
    store: &S,
    slot_ids: &[String],
    appointment_ids: &[String],
) -> Result<usize, String> {
    use std::collections::HashMap;
    let mut holder: HashMap<String, String> = HashMap::new();
    let mut booked = 0;
    for id in appointment_ids {
        let a = store
            .appointment(ODS, id)
            .map_err(|e| format!("reading Appointment/{id}: {e}"))?
            .ok_or_else(|| format!("Appointment/{id} is missing"))?;
        for s in &a.slot_ids {
            let slot = store
                .slot(ODS, s)
                .map_err(|e| format!("reading Slot/{s}: {e}"))?
                .ok_or_else(|| format!("Slot/{s} is missing"))?;
            match a.status {
                AppointmentStatus::Booked => {
                    if slot.status != SlotStatus::Busy
                        || slot.appointment_id.as_deref() != Some(a.id.as_str())
                    {
                        return Err(format!(
                            "booked Appointment/{id} does not hold Slot/{s}: {slot:?}"
                        ));
                    }
                    if let Some(other) = holder.insert(s.clone(), a.id.clone()) {
                        return Err(format!(
                            "Slot/{s} is held by Appointment/{other} and Appointment/{id}"
                        ));
                    }
                }
                AppointmentStatus::Cancelled => {
                    if slot.appointment_id.as_deref() == Some(a.id.as_str()) {
                        return Err(format!("cancelled Appointment/{id} still holds Slot/{s}"));
                    }
                }
            }
        }
        if a.status == AppointmentStatus::Booked {
            booked += 1;
        }
    }
    for s in slot_ids {
        let slot = store
            .slot(ODS, s)
            .map_err(|e| format!("reading Slot/{s}: {e}"))?
            .ok_or_else(|| format!("Slot/{s} is missing"))?;
        match (&slot.status, &slot.appointment_id) {
            (SlotStatus::Free, None) => {}
            (SlotStatus::Busy, Some(a)) => {
                if holder.get(s) != Some(a) {
                    return Err(format!(
                        "Slot/{s} is busy for Appointment/{a}, which does not hold it"
                    ));
                }
            }
            other => return Err(format!("Slot/{s} is inconsistent: {other:?}")),
        }
    }
    Ok(booked)
}

/// Threads of [`booking_race`].
pub const RACE_THREADS: usize = 8;
/// Slots [`booking_race`] races for.
pub const RACE_SLOTS: usize = 40;

/// What one racing thread did.
#[derive(Debug, Default)]
struct Tally {
    booked: Vec<AppointmentRecord>,
    cancelled: Vec<AppointmentRecord>,
    unavailable: usize,
}

/// The booking race (R16): [`RACE_THREADS`] threads race to book overlapping
/// sets of 1–3 adjacent slots of [`RACE_SLOTS`], `attempts` in total,
/// cancelling some of their bookings to keep slots contended. Asserts that
/// every attempt booked or lost with `SlotUnavailable` (never another
/// error), every slot is held by at most one appointment, every successful
/// booking is stored as acknowledged (or as its cancel left it), and slot
/// status agrees with the appointments.
pub fn booking_race<S: PracticeStore + 'static>(store: std::sync::Arc<S>, attempts: usize) {
    use std::sync::{Arc, Barrier};
    use std::time::Instant;
    const THREADS: usize = RACE_THREADS;
    const SLOTS: usize = RACE_SLOTS;
    let attempts = attempts / THREADS * THREADS;
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
