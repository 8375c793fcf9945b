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
