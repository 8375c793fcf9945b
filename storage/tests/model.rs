//! Model-based property test: random sequences of book / amend / cancel /
//! slot search / patient appointments run against each backend and against
//! a deliberately simple reference model (a few `Vec`s); every result and
//! every error must agree exactly (records including versions and ids, and
//! errors including their fields), and so must the final state.

mod common;

use common::*;
use gpconnect_core::store::*;
use gpconnect_storage::host::TableStore;
use gpconnect_storage::{Durability, MemoryStore, SledOptions, SledStore};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

const SCHEDULES: usize = 2;
const PER_SCHEDULE: usize = 8;
const SLOTS: usize = SCHEDULES * PER_SCHEDULE;
const PATIENTS: [&str; 3] = ["2", "3", "4"];
const LIMIT_KEYS: [&str; 2] = ["ods:B82001:2026-12-01", "type:urgent-care:2026-12-01"];

#[derive(Debug, Clone)]
enum Op {
    /// Book slots by index (`SLOTS` = a slot that does not exist), maybe
    /// naming one at a stale version, maybe under a limit.
    Book {
        slots: Vec<usize>,
        stale: Option<usize>,
        patient: usize,
        limit: Option<(usize, u32)>,
    },
    /// Amend the `pick`th appointment ever booked (none: an unknown id).
    Amend { pick: usize, stale: bool },
    /// Cancel the `pick`th appointment ever booked.
    Cancel { pick: usize, stale: bool },
    /// Slots starting in `[from, to)` (five-minute steps from the first
    /// slot's start), optionally of one schedule.
    Slots {
        from: usize,
        to: usize,
        schedule: Option<usize>,
    },
    /// A patient's appointments in `[from, to)`.
    PatientAppointments {
        patient: usize,
        from: usize,
        to: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (
            prop::collection::vec(0..=SLOTS, 1..=3),
            prop::option::weighted(0.15, 0usize..3),
            0..PATIENTS.len(),
            prop::option::weighted(0.4, (0..LIMIT_KEYS.len(), 0u32..6)),
        )
            .prop_map(|(slots, stale, patient, limit)| Op::Book { slots, stale, patient, limit }),
        2 => (0usize..12, prop::bool::weighted(0.2)).prop_map(|(pick, stale)| Op::Amend { pick, stale }),
        2 => (0usize..12, prop::bool::weighted(0.2)).prop_map(|(pick, stale)| Op::Cancel { pick, stale }),
        1 => (0usize..2 * PER_SCHEDULE + 2, 0usize..2 * PER_SCHEDULE + 2, prop::option::of(0..SCHEDULES + 1))
            .prop_map(|(from, to, schedule)| Op::Slots { from, to, schedule }),
        1 => (0..PATIENTS.len(), 0usize..2 * PER_SCHEDULE + 2, 0usize..2 * PER_SCHEDULE + 2)
            .prop_map(|(patient, from, to)| Op::PatientAppointments { patient, from, to }),
    ]
}

fn at(step: usize) -> Timestamp {
    base() + SignedDuration::from_mins(5 * step as i64)
}

fn model_slot_id(i: usize) -> String {
    if i >= SLOTS {
        "missing".to_owned()
    } else {
        slot_id(i / PER_SCHEDULE, i % PER_SCHEDULE)
    }
}

/// The reference model: what the port promises, as plainly as possible.
#[derive(Debug, Default)]
struct Model {
    slots: Vec<SlotRecord>,
    appointments: Vec<AppointmentRecord>,
    counters: Vec<(String, u32)>,
    last_version: u64,
    last_appointment: u64,
}

impl Model {
    fn new(import: &PracticeImport) -> Self {
        let mut m = Model {
            last_version: 1, // the practice record
            ..Model::default()
        };
        for s in &import.slots {
            m.last_version += 1;
            m.slots.push(SlotRecord {
                version: m.last_version,
                ..s.clone()
            });
        }
        m
    }

    fn slot(&self, id: &str) -> Option<&SlotRecord> {
        self.slots.iter().find(|s| s.id == id)
    }

    fn counter(&self, key: &str) -> u32 {
        self.counters.iter().find(|c| c.0 == key).map_or(0, |c| c.1)
    }

    fn book(&mut self, b: &NewBooking) -> StoreResult<AppointmentRecord> {
        for (id, version) in &b.slots {
            match self.slot(id) {
                None => {
                    return Err(StoreError::NotFound {
                        kind: "Slot",
                        id: id.clone(),
                    });
                }
                Some(s) if s.status != SlotStatus::Free || s.version != *version => {
                    return Err(StoreError::SlotUnavailable {
                        slot_id: id.clone(),
                    });
                }
                Some(_) => {}
            }
        }
        let held = b.slots.len() as u32;
        for l in &b.limits {
            if self.counter(&l.key) + held > l.max {
                return Err(StoreError::LimitReached { key: l.key.clone() });
            }
        }
        self.last_appointment += 1;
        self.last_version += 1;
        let id = self.last_appointment.to_string();
        for s in &mut self.slots {
            if b.slots.iter().any(|(i, _)| *i == s.id) {
                s.status = SlotStatus::Busy;
                s.appointment_id = Some(id.clone());
                s.version = self.last_version;
            }
        }
        for l in &b.limits {
            match self.counters.iter_mut().find(|c| c.0 == l.key) {
                Some(c) => c.1 += held,
                None => self.counters.push((l.key.clone(), held)),
            }
        }
        let a = AppointmentRecord {
            id,
            version: self.last_version,
            status: AppointmentStatus::Booked,
            patient_id: b.patient_id.clone(),
            slot_ids: b.slots.iter().map(|s| s.0.clone()).collect(),
            start: b.start,
            end: b.end,
            booking_ods: b.booking_ods.clone(),
            limit_keys: b.limits.iter().map(|l| l.key.clone()).collect(),
            last_modified: b.now,
            resource: b.resource.clone(),
        };
        self.appointments.push(a.clone());
        Ok(a)
    }

    fn change(&mut self, c: &AppointmentChange, cancel: bool) -> StoreResult<AppointmentRecord> {
        let Some(i) = self.appointments.iter().position(|a| a.id == c.id) else {
            return Err(StoreError::NotFound {
                kind: "Appointment",
                id: c.id.clone(),
            });
        };
        let a = &self.appointments[i];
        if a.version != c.expected_version {
            return Err(StoreError::VersionConflict {
                kind: "Appointment",
                id: c.id.clone(),
                expected: c.expected_version,
                actual: a.version,
            });
        }
        if a.status == AppointmentStatus::Cancelled {
            let what = if cancel {
                "is already cancelled"
            } else {
                "is cancelled"
            };
            return Err(StoreError::Rejected(format!("Appointment/{} {what}", c.id)));
        }
        self.last_version += 1;
        let version = self.last_version;
        let mut a = a.clone();
        a.resource = c.resource.clone();
        a.last_modified = c.now;
        a.version = version;
        if cancel {
            a.status = AppointmentStatus::Cancelled;
            for s in &mut self.slots {
                if a.slot_ids.contains(&s.id) && s.appointment_id.as_deref() == Some(a.id.as_str())
                {
                    s.status = SlotStatus::Free;
                    s.appointment_id = None;
                    s.version = version;
                }
            }
            for key in &a.limit_keys {
                if let Some(c) = self.counters.iter_mut().find(|c| &c.0 == key) {
                    c.1 = c.1.saturating_sub(a.slot_ids.len() as u32);
                }
            }
        }
        self.appointments[i] = a.clone();
        Ok(a)
    }

    fn slots(&self, q: &SlotQuery<'_>) -> Vec<SlotRecord> {
        let mut out: Vec<SlotRecord> = self
            .slots
            .iter()
            .filter(|s| {
                s.start >= q.from
                    && s.start < q.to
                    && q.schedule_id.is_none_or(|id| s.schedule_id == id)
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        out
    }

    fn patient_appointments(
        &self,
        patient: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Vec<AppointmentRecord> {
        let mut out: Vec<AppointmentRecord> = self
            .appointments
            .iter()
            .filter(|a| a.patient_id == patient && a.start >= from && a.start < to)
            .cloned()
            .collect();
        out.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        out
    }
}

/// One step's observable result, comparable across stores and the model.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // short-lived, compared once
enum Observed {
    Appointment(StoreResult<AppointmentRecord>),
    Slots(StoreResult<Vec<SlotRecord>>),
    Appointments(StoreResult<Vec<AppointmentRecord>>),
}

/// Run `ops` on `store` and the model in lockstep; fail on the first
/// disagreement.
fn check<S: PracticeStore>(name: &str, store: &S, ops: &[Op]) -> Result<(), TestCaseError> {
    let import = practice(SCHEDULES, PER_SCHEDULE);
    store
        .import(ODS, import.clone())
        .map_err(|e| TestCaseError::fail(format!("{name}: import: {e}")))?;
    let mut model = Model::new(&import);
    for (step, op) in ops.iter().enumerate() {
        let (got, want) = match op {
            Op::Book {
                slots,
                stale,
                patient,
                limit,
            } => {
                let mut named: Vec<(String, u64)> = slots
                    .iter()
                    .map(|&i| {
                        let id = model_slot_id(i);
                        let v = model.slot(&id).map_or(1, |s| s.version);
                        (id, v)
                    })
                    .collect();
                if let Some(k) = stale {
                    let k = k % named.len();
                    named[k].1 += 1;
                }
                let start = slots
                    .first()
                    .filter(|&&i| i < SLOTS)
                    .map_or(base(), |&i| slot_start(i % PER_SCHEDULE));
                let end = slots
                    .last()
                    .filter(|&&i| i < SLOTS)
                    .map_or(base(), |&i| slot_start(i % PER_SCHEDULE + 1));
                let mut b = booking(named, PATIENTS[*patient], start, end);
                if let Some((key, max)) = limit {
                    b.limits = vec![LimitCheck {
                        key: LIMIT_KEYS[*key].to_owned(),
                        max: *max,
                    }];
                }
                (
                    Observed::Appointment(store.book(ODS, b.clone())),
                    Observed::Appointment(model.book(&b)),
                )
            }
            Op::Amend { pick, stale } | Op::Cancel { pick, stale } => {
                let cancel = matches!(op, Op::Cancel { .. });
                let (id, version) = model
                    .appointments
                    .get(*pick)
                    .map_or(("999".to_owned(), 1), |a| (a.id.clone(), a.version));
                let c = AppointmentChange {
                    id,
                    expected_version: if *stale { version + 1 } else { version },
                    resource: resource(if cancel { "cancelled" } else { "amended" }),
                    now: now() + SignedDuration::from_mins(step as i64),
                };
                let got = if cancel {
                    store.cancel(ODS, c.clone())
                } else {
                    store.amend(ODS, c.clone())
                };
                (
                    Observed::Appointment(got),
                    Observed::Appointment(model.change(&c, cancel)),
                )
            }
            Op::Slots { from, to, schedule } => {
                let schedule_id = schedule.map(|k| format!("sch{k}"));
                let q = SlotQuery {
                    from: at(*from),
                    to: at(*to),
                    schedule_id: schedule_id.as_deref(),
                    free_only: false,
                };
                (
                    Observed::Slots(store.slots(ODS, &q)),
                    Observed::Slots(Ok(model.slots(&q))),
                )
            }
            Op::PatientAppointments { patient, from, to } => {
                let p = PATIENTS[*patient];
                (
                    Observed::Appointments(store.patient_appointments(ODS, p, at(*from), at(*to))),
                    Observed::Appointments(Ok(model.patient_appointments(p, at(*from), at(*to)))),
                )
            }
        };
        prop_assert_eq!(got, want, "{}: step {} {:?}", name, step, op);
    }
    for s in &model.slots {
        let got = store.slot(ODS, &s.id).ok().flatten();
        prop_assert_eq!(got.as_ref(), Some(s), "{}: final Slot/{}", name, s.id);
    }
    for a in &model.appointments {
        let got = store.appointment(ODS, &a.id).ok().flatten();
        prop_assert_eq!(
            got.as_ref(),
            Some(a),
            "{}: final Appointment/{}",
            name,
            a.id
        );
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn memory_store_agrees_with_the_model(ops in prop::collection::vec(op(), 1..60)) {
        check("MemoryStore", &MemoryStore::new(), &ops)?;
    }

    #[test]
    fn sled_store_agrees_with_the_model(ops in prop::collection::vec(op(), 1..60)) {
        let store = SledStore::open_temporary(SledOptions {
            // Small reservation blocks exercise the reservation path.
            counter_reserve_block: 4,
            ..SledOptions::with_durability(Durability::Buffered)
        })
        .map_err(|e| TestCaseError::fail(format!("open: {e}")))?;
        check("SledStore", &store, &ops)?;
    }

    #[test]
    fn host_table_store_agrees_with_the_model(ops in prop::collection::vec(op(), 1..60)) {
        check("TableStore", &TableStore::new(), &ops)?;
    }
}
