//! The conformance suite of the storage port: one function per behaviour of
//! [`PracticeStore`], so every backend (the reference
//! [`MemoryStore`](crate::MemoryStore), [`SledStore`](crate::SledStore), the
//! example [`TableStore`](crate::host::TableStore)) is held to the same
//! contract and none can drift.
//!
//! # Running it against your own adapter
//!
//! A GP system that implements [`PracticeStore`] over its own database runs
//! the suite with a factory that returns a fresh, **empty** store (no
//! practices) each time it is called:
//!
//! ```no_run
//! // tests/store_conformance.rs of the host system; replace the example
//! // adapter's constructor with one that returns your adapter over an empty
//! // test database, e.g. `|| MyAdapter::connect(&fresh_test_database())`.
//! gpconnect_storage::conformance_tests!(gpconnect_storage::host::TableStore::new);
//! # fn main() {}
//! ```
//!
//! expands to one `#[test]` per behaviour, named after the functions below.
//! Outside a test harness, [`run_all`] returns the failures instead.
//!
//! Each check loads the shared test practice ([`gpconnect_core::testkit`],
//! ODS `A00001`, relative to a fixed "now") and exercises one behaviour:
//! reads after import, idempotent re-import, slot range queries, booking
//! and its failures (busy, stale version, unknown slot, limit reached,
//! atomicity of multi-slot bookings), amend and cancel with their version
//! and status rules, cancel freeing only the slots it holds and releasing
//! its limits, patient registration, practice partitioning, unknown
//! practices, and patients' clinical records (section subsetting, re-import
//! replacing a record, partitioning, no record read as an empty one).
//!
//! The suite checks the port's contract, not one implementation's
//! numbering: versions must be fresh (greater than every version the store
//! assigned before) and unchanged by identical re-imports; appointment and
//! patient ids must be fresh. It does not require the reference's exact
//! sequence numbers (the storage crate's model test does, for its own
//! backends).

use std::fmt;

use gpconnect_core::fhir::primitive::Code;
use gpconnect_core::store::*;
use gpconnect_core::stu3;
use gpconnect_core::testkit;
use gpconnect_render::record::*;
use gpconnect_render::section::Table;
use gpconnect_render::{ClinicalRecord, Section};
use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};

/// A behaviour a store got wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The check (the function's name).
    pub check: &'static str,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conformance check `{}` failed: {}",
            self.check, self.message
        )
    }
}

impl std::error::Error for Failure {}

/// The result of one check.
pub type Outcome = Result<(), Failure>;

type Check = Result<(), String>;

fn named(check: &'static str, f: impl FnOnce() -> Check) -> Outcome {
    f().map_err(|message| Failure { check, message })
}

/// Context for an unexpected error or a missing record.
trait Ctx<T> {
    fn ctx(self, what: &str) -> Result<T, String>;
}

impl<T> Ctx<T> for StoreResult<T> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: unexpected error {e:?}"))
    }
}

impl<T> Ctx<T> for Option<T> {
    fn ctx(self, what: &str) -> Result<T, String> {
        self.ok_or_else(|| format!("{what}: missing"))
    }
}

macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

macro_rules! ensure_eq {
    ($actual:expr, $expected:expr, $($msg:tt)+) => {{
        let (actual, expected) = (&$actual, &$expected);
        if actual != expected {
            return Err(format!(
                "{}: expected {:?}, got {:?}",
                format!($($msg)+),
                expected,
                actual
            ));
        }
    }};
}

/// The test practice's ODS code.
const ODS: &str = testkit::ODS;
/// A second practice for partitioning checks.
const OTHER_ODS: &str = "B00002";

fn now() -> Result<Timestamp, String> {
    "2026-11-25T10:00:00Z"
        .parse()
        .map_err(|e| format!("fixed now: {e}"))
}

fn later(minutes: i64) -> Result<Timestamp, String> {
    Ok(now()? + SignedDuration::from_mins(minutes))
}

/// A fresh store holding the test practice.
fn loaded<S: PracticeStore>(new_store: &impl Fn() -> S) -> Result<S, String> {
    let store = new_store();
    store
        .import(ODS, testkit::practice(now()?))
        .ctx("importing the test practice")?;
    Ok(store)
}

fn appointment_resource(description: &str) -> stu3::Appointment {
    stu3::Appointment {
        status: Code::from_static("booked"),
        description: Some(description.to_owned()),
        comment: Some("Booked through the conformance suite".to_owned()),
        ..Default::default()
    }
}

/// A booking of `slot_ids` at their current versions, for patient `2`.
fn booking<S: PracticeStore>(
    store: &S,
    ods: &str,
    slot_ids: &[&str],
) -> Result<NewBooking, String> {
    let mut slots = Vec::new();
    let mut times = Vec::new();
    for id in slot_ids {
        let slot = store
            .slot(ods, id)
            .ctx("reading a slot to book")?
            .ctx(&format!("Slot/{id}"))?;
        times.push((slot.start, slot.end));
        slots.push((slot.id, slot.version));
    }
    let start = times.first().map_or(now()?, |t| t.0);
    let end = times.last().map_or(now()?, |t| t.1);
    Ok(NewBooking {
        slots,
        patient_id: "2".to_owned(),
        start,
        end,
        booking_ods: Some("B82001".to_owned()),
        limits: Vec::new(),
        now: now()?,
        resource: appointment_resource("Follow-up"),
    })
}

fn change(
    a: &AppointmentRecord,
    description: &str,
    minutes: i64,
) -> Result<AppointmentChange, String> {
    Ok(AppointmentChange {
        id: a.id.clone(),
        expected_version: a.version,
        resource: appointment_resource(description),
        now: later(minutes)?,
    })
}

fn slot<S: PracticeStore>(store: &S, ods: &str, id: &str) -> Result<SlotRecord, String> {
    store
        .slot(ods, id)
        .ctx(&format!("reading Slot/{id}"))?
        .ctx(&format!("Slot/{id}"))
}

fn appointment<S: PracticeStore>(
    store: &S,
    ods: &str,
    id: &str,
) -> Result<AppointmentRecord, String> {
    store
        .appointment(ods, id)
        .ctx(&format!("reading Appointment/{id}"))?
        .ctx(&format!("Appointment/{id}"))
}

/// Every version the store reports for the test practice's records.
fn all_versions<S: PracticeStore>(store: &S, ods: &str) -> Result<Vec<u64>, String> {
    let mut v = Vec::new();
    v.extend(store.practice(ods).ctx("practice")?.map(|p| p.version));
    let import = testkit::practice(now()?);
    for r in &import.organizations {
        v.extend(
            store
                .organization(ods, &r.id)
                .ctx("organization")?
                .map(|r| r.version),
        );
    }
    for r in &import.locations {
        v.extend(
            store
                .location(ods, &r.id)
                .ctx("location")?
                .map(|r| r.version),
        );
    }
    for r in &import.practitioners {
        v.extend(
            store
                .practitioner(ods, &r.id)
                .ctx("practitioner")?
                .map(|r| r.version),
        );
    }
    for r in &import.patients {
        v.extend(store.patient(ods, &r.id).ctx("patient")?.map(|r| r.version));
    }
    for r in &import.schedules {
        v.extend(
            store
                .schedule(ods, &r.id)
                .ctx("schedule")?
                .map(|r| r.version),
        );
    }
    for r in &import.slots {
        v.extend(store.slot(ods, &r.id).ctx("slot")?.map(|r| r.version));
    }
    Ok(v)
}

fn window(from: Timestamp, to: Timestamp) -> SlotQuery<'static> {
    SlotQuery {
        from,
        to,
        schedule_id: None,
        free_only: false,
    }
}

/// Import the test practice, then read every record back by id and by
/// each lookup key; versions are assigned, distinct and non-zero.
pub fn import_and_read<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("import_and_read", || {
        let store = new_store();
        ensure_eq!(
            store.practices().ctx("practices")?,
            Vec::<String>::new(),
            "an empty store hosts nothing"
        );
        let import = testkit::practice(now()?);
        let total = 1
            + import.organizations.len()
            + import.locations.len()
            + import.practitioners.len()
            + import.patients.len()
            + import.schedules.len()
            + import.slots.len()
            + import.clinical_records.len();
        let summary = store.import(ODS, import.clone()).ctx("import")?;
        ensure_eq!(
            summary,
            ImportSummary {
                written: total,
                unchanged: 0
            },
            "first import summary"
        );
        ensure_eq!(
            store.practices().ctx("practices")?,
            vec![ODS.to_owned()],
            "hosted practices"
        );
        let practice = store
            .practice(ODS)
            .ctx("practice")?
            .ctx("practice record")?;
        ensure_eq!(
            practice,
            PracticeRecord {
                version: practice.version,
                ..testkit::practice_record()
            },
            "practice record"
        );
        for r in &import.organizations {
            let got = store
                .organization(ODS, &r.id)
                .ctx("organization")?
                .ctx("organization")?;
            ensure_eq!(
                got,
                OrganizationRecord {
                    version: got.version,
                    ..r.clone()
                },
                "Organization/{}",
                r.id
            );
            let by_code = store
                .organizations_by_ods_code(ODS, &r.ods_code)
                .ctx("organizations_by_ods_code")?;
            ensure_eq!(
                by_code,
                vec![got],
                "organizations with ODS code {}",
                r.ods_code
            );
        }
        for r in &import.locations {
            let got = store
                .location(ODS, &r.id)
                .ctx("location")?
                .ctx("location")?;
            ensure_eq!(
                got,
                LocationRecord {
                    version: got.version,
                    ..r.clone()
                },
                "Location/{}",
                r.id
            );
        }
        for r in &import.practitioners {
            let got = store
                .practitioner(ODS, &r.id)
                .ctx("practitioner")?
                .ctx("practitioner")?;
            ensure_eq!(
                got,
                PractitionerRecord {
                    version: got.version,
                    ..r.clone()
                },
                "Practitioner/{}",
                r.id
            );
            for sds in &r.sds_user_ids {
                let by_sds = store
                    .practitioners_by_sds_user_id(ODS, sds)
                    .ctx("practitioners_by_sds_user_id")?;
                ensure_eq!(by_sds, vec![got.clone()], "practitioners with SDS id {sds}");
            }
        }
        for r in &import.patients {
            let got = store.patient(ODS, &r.id).ctx("patient")?.ctx("patient")?;
            ensure_eq!(
                got,
                PatientRecord {
                    version: got.version,
                    ..r.clone()
                },
                "Patient/{}",
                r.id
            );
            let by_nhs = store
                .patients_by_nhs_number(ODS, &r.nhs_number)
                .ctx("patients_by_nhs_number")?;
            ensure_eq!(
                by_nhs,
                vec![got],
                "patients with NHS number {}",
                r.nhs_number
            );
        }
        for r in &import.schedules {
            let got = store
                .schedule(ODS, &r.id)
                .ctx("schedule")?
                .ctx("schedule")?;
            ensure_eq!(
                got,
                ScheduleRecord {
                    version: got.version,
                    ..r.clone()
                },
                "Schedule/{}",
                r.id
            );
        }
        for r in &import.slots {
            let got = slot(&store, ODS, &r.id)?;
            ensure_eq!(
                got,
                SlotRecord {
                    version: got.version,
                    ..r.clone()
                },
                "Slot/{}",
                r.id
            );
        }
        ensure_eq!(
            store.patient(ODS, "999").ctx("patient")?,
            None,
            "an unknown patient"
        );
        ensure_eq!(store.slot(ODS, "999").ctx("slot")?, None, "an unknown slot");
        ensure_eq!(
            store.appointment(ODS, "1").ctx("appointment")?,
            None,
            "no appointment yet"
        );
        ensure_eq!(
            store
                .patients_by_nhs_number(ODS, "9999999999")
                .ctx("by NHS")?,
            vec![],
            "an unknown NHS number"
        );
        ensure_eq!(
            store.practitioners_by_sds_user_id(ODS, "0").ctx("by SDS")?,
            vec![],
            "an unknown SDS id"
        );
        ensure_eq!(
            store.organizations_by_ods_code(ODS, "ZZZ").ctx("by ODS")?,
            vec![],
            "an unknown ODS code"
        );
        for r in &import.clinical_records {
            for section in Section::ALL {
                ensure_eq!(
                    store
                        .clinical_record(ODS, &r.patient_id, section)
                        .ctx("clinical_record")?,
                    expected_view(&r.record, section),
                    "patient {}'s clinical record, section {}",
                    r.patient_id,
                    section.code()
                );
            }
        }
        // Clinical records carry no version.
        let versioned = total - import.clinical_records.len();
        let mut versions = all_versions(&store, ODS)?;
        ensure_eq!(versions.len(), versioned, "every record read back");
        ensure!(
            versions.iter().all(|v| *v > 0),
            "versions are assigned (non-zero)"
        );
        versions.sort_unstable();
        versions.dedup();
        ensure_eq!(versions.len(), versioned, "versions are distinct");
        Ok(())
    })
}

/// Every read and command on an unhosted practice fails with
/// [`StoreError::UnknownPractice`]; `practice` answers `None`; importing
/// records without a practice fails.
pub fn unknown_practice<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("unknown_practice", || {
        let store = loaded(&new_store)?;
        let unknown = "Z99999";
        let err = StoreError::UnknownPractice(unknown.to_owned());
        let expect = |what: &str, got: Result<(), StoreError>| -> Check {
            ensure_eq!(got, Err(err.clone()), "{what} on an unknown practice");
            Ok(())
        };
        ensure_eq!(
            store.practice(unknown).ctx("practice")?,
            None,
            "practice of an unknown ODS code"
        );
        expect("patient", store.patient(unknown, "2").map(drop))?;
        expect(
            "patients_by_nhs_number",
            store
                .patients_by_nhs_number(unknown, "9000000009")
                .map(drop),
        )?;
        expect("practitioner", store.practitioner(unknown, "2").map(drop))?;
        expect(
            "practitioners_by_sds_user_id",
            store
                .practitioners_by_sds_user_id(unknown, "111122223333")
                .map(drop),
        )?;
        expect("organization", store.organization(unknown, "23").map(drop))?;
        expect(
            "organizations_by_ods_code",
            store.organizations_by_ods_code(unknown, ODS).map(drop),
        )?;
        expect("location", store.location(unknown, "17").map(drop))?;
        expect("schedule", store.schedule(unknown, "14").map(drop))?;
        expect("slot", store.slot(unknown, "14-2-0").map(drop))?;
        expect(
            "slots",
            store
                .slots(unknown, &window(now()?, later(60 * 24 * 30)?))
                .map(drop),
        )?;
        expect("appointment", store.appointment(unknown, "1").map(drop))?;
        expect(
            "clinical_record",
            store
                .clinical_record(unknown, "2", Section::Summary)
                .map(drop),
        )?;
        expect(
            "patient_appointments",
            store
                .patient_appointments(unknown, "2", now()?, later(60 * 24 * 30)?)
                .map(drop),
        )?;
        let b = booking(&store, ODS, &["14-2-0"])?;
        expect("book", store.book(unknown, b.clone()).map(drop))?;
        let a = store
            .book(ODS, b.clone())
            .ctx("book in the real practice")?;
        expect("amend", store.amend(unknown, change(&a, "x", 1)?).map(drop))?;
        expect(
            "cancel",
            store.cancel(unknown, change(&a, "x", 1)?).map(drop),
        )?;
        expect(
            "register_patient",
            store
                .register_patient(
                    unknown,
                    PatientRegistration::New {
                        nhs_number: "9000000017".to_owned(),
                        resource: stu3::Patient::default(),
                        flags: PatientFlags::default(),
                    },
                )
                .map(drop),
        )?;
        let records_only = PracticeImport {
            slots: testkit::slots(now()?, 1),
            ..Default::default()
        };
        expect(
            "import without a practice record",
            store.import(unknown, records_only).map(drop),
        )?;
        ensure_eq!(
            store.practices().ctx("practices")?,
            vec![ODS.to_owned()],
            "a failed import hosts nothing"
        );
        // The failed commands changed nothing in the real practice.
        ensure_eq!(
            slot(&store, ODS, "14-2-1")?.status,
            SlotStatus::Free,
            "untouched slot"
        );
        ensure_eq!(
            appointment(&store, ODS, &a.id)?,
            a,
            "the appointment after commands on another practice"
        );
        Ok(())
    })
}

/// Importing the same practice again writes nothing and keeps every
/// version; changing one record rewrites only it, with a fresh version.
pub fn reimport_is_idempotent<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("reimport_is_idempotent", || {
        let store = loaded(&new_store)?;
        let before = all_versions(&store, ODS)?;
        let mut import = testkit::practice(now()?);
        // Incoming versions are ignored.
        for s in &mut import.slots {
            s.version = 12345;
        }
        // Clinical records carry no version, but count as records.
        let total = before.len() + import.clinical_records.len();
        let summary = store.import(ODS, import.clone()).ctx("re-import")?;
        ensure_eq!(
            summary,
            ImportSummary {
                written: 0,
                unchanged: total
            },
            "re-import summary"
        );
        ensure_eq!(
            all_versions(&store, ODS)?,
            before,
            "versions after an identical re-import"
        );
        let max_before = before.iter().copied().max().unwrap_or(0);
        let mut changed = import.clone();
        changed.organizations.clear();
        changed.locations.clear();
        changed.practitioners.clear();
        changed.patients.clear();
        changed.schedules.clear();
        changed.clinical_records.clear();
        changed
            .slots
            .retain(|s| s.id == "14-3-0" || s.id == "14-3-1");
        for s in &mut changed.slots {
            if s.id == "14-3-0" {
                s.service_type = "Changed".to_owned();
            }
        }
        let summary = store.import(ODS, changed).ctx("changing one slot")?;
        ensure_eq!(
            summary,
            ImportSummary {
                written: 1,
                unchanged: 2
            },
            "summary of a one-record change"
        );
        let s = slot(&store, ODS, "14-3-0")?;
        ensure_eq!(s.service_type, "Changed", "the changed slot");
        ensure!(
            s.version > max_before,
            "a changed record gets a fresh version ({} <= {max_before})",
            s.version
        );
        let mut after = all_versions(&store, ODS)?;
        let mut expected = before.clone();
        // Only the changed slot's version moved.
        after.retain(|v| *v != s.version);
        expected.sort_unstable();
        after.sort_unstable();
        ensure_eq!(after.len() + 1, expected.len(), "one version changed");
        Ok(())
    })
}

/// Re-importing a slot with a new start or schedule, a patient with a new
/// NHS number, or an appointment with a new start moves it in the lookups.
pub fn import_updates_lookups<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("import_updates_lookups", || {
        let store = loaded(&new_store)?;
        let mut s = slot(&store, ODS, "14-2-0")?;
        let old_start = s.start;
        s.start = old_start + SignedDuration::from_hours(24 * 20);
        s.end = s.start + SignedDuration::from_mins(10);
        s.schedule_id = "15".to_owned();
        let mut p = store.patient(ODS, "3").ctx("patient")?.ctx("Patient/3")?;
        p.nhs_number = "9000000025".to_owned();
        let a = AppointmentRecord {
            id: "700".to_owned(),
            version: 0,
            status: AppointmentStatus::Booked,
            patient_id: "3".to_owned(),
            slot_ids: vec![],
            start: old_start,
            end: old_start + SignedDuration::from_mins(10),
            booking_ods: None,
            limit_keys: vec![],
            last_modified: now()?,
            resource: appointment_resource("Imported"),
        };
        store
            .import(
                ODS,
                PracticeImport {
                    slots: vec![s.clone()],
                    patients: vec![p.clone()],
                    appointments: vec![a.clone()],
                    ..Default::default()
                },
            )
            .ctx("import")?;
        let old_window = window(old_start, old_start + SignedDuration::from_mins(1));
        let ids = |q: &SlotQuery<'_>| -> Result<Vec<String>, String> {
            Ok(store
                .slots(ODS, q)
                .ctx("slots")?
                .into_iter()
                .map(|s| s.id)
                .collect())
        };
        ensure!(
            !ids(&old_window)?.contains(&s.id),
            "a moved slot left its old time"
        );
        let new_window = window(s.start, s.start + SignedDuration::from_mins(1));
        ensure_eq!(
            ids(&new_window)?,
            vec![s.id.clone()],
            "a moved slot at its new time"
        );
        let in_14 = SlotQuery {
            schedule_id: Some("14"),
            ..new_window.clone()
        };
        let in_15 = SlotQuery {
            schedule_id: Some("15"),
            ..new_window
        };
        ensure_eq!(
            ids(&in_14)?,
            Vec::<String>::new(),
            "a slot moved out of schedule 14"
        );
        ensure_eq!(
            ids(&in_15)?,
            vec![s.id.clone()],
            "a slot moved into schedule 15"
        );
        ensure_eq!(
            store
                .patients_by_nhs_number(ODS, "9476719931")
                .ctx("old NHS")?,
            vec![],
            "old NHS number"
        );
        let by_new = store
            .patients_by_nhs_number(ODS, "9000000025")
            .ctx("new NHS")?;
        ensure_eq!(
            by_new.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
            vec!["3"],
            "new NHS number"
        );
        let day = |t: Timestamp| (t, t + SignedDuration::from_hours(24));
        let (f, t) = day(old_start);
        let found = store
            .patient_appointments(ODS, "3", f, t)
            .ctx("patient_appointments")?;
        ensure_eq!(
            found.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            vec!["700"],
            "imported appointment"
        );
        let mut moved = a.clone();
        moved.start = old_start + SignedDuration::from_hours(48);
        moved.end = moved.start + SignedDuration::from_mins(10);
        store
            .import(
                ODS,
                PracticeImport {
                    appointments: vec![moved.clone()],
                    ..Default::default()
                },
            )
            .ctx("moving the appointment")?;
        ensure_eq!(
            store.patient_appointments(ODS, "3", f, t).ctx("old day")?,
            vec![],
            "moved appointment left its old day"
        );
        let (f2, t2) = day(moved.start);
        let found = store
            .patient_appointments(ODS, "3", f2, t2)
            .ctx("new day")?;
        ensure_eq!(
            found.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
            vec!["700"],
            "moved appointment on its new day"
        );
        // A later booking does not reuse an imported numeric id.
        let b = store
            .book(ODS, booking(&store, ODS, &["14-2-1"])?)
            .ctx("book")?;
        ensure!(
            b.id != "700",
            "a booking reused the imported appointment id 700"
        );
        ensure_eq!(
            appointment(&store, ODS, "700")?.start,
            moved.start,
            "the imported appointment after a booking"
        );
        Ok(())
    })
}

/// `slots` lists slots starting in `[from, to)` ordered by start then id,
/// optionally of one schedule.
pub fn slot_range_query<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("slot_range_query", || {
        let store = loaded(&new_store)?;
        let first = slot(&store, ODS, "14-2-0")?.start;
        let tenth = slot(&store, ODS, "14-2-10")?.start;
        let q = window(first, tenth);
        let got = store.slots(ODS, &q).ctx("slots")?;
        let ids: Vec<&str> = got.iter().map(|s| s.id.as_str()).collect();
        let mut expected = Vec::new();
        for n in 0..10 {
            expected.push(format!("14-2-{n}"));
            expected.push(format!("15-2-{n}"));
        }
        ensure_eq!(
            ids,
            expected.iter().map(String::as_str).collect::<Vec<_>>(),
            "slots in [09:00, 10:40) of day 2, by start then id"
        );
        for w in got.windows(2) {
            ensure!((w[0].start, &w[0].id) < (w[1].start, &w[1].id), "ordering");
        }
        let only_15 = SlotQuery {
            schedule_id: Some("15"),
            ..q.clone()
        };
        let got15: Vec<String> = store
            .slots(ODS, &only_15)
            .ctx("slots of 15")?
            .into_iter()
            .map(|s| s.id)
            .collect();
        ensure_eq!(
            got15,
            (0..10).map(|n| format!("15-2-{n}")).collect::<Vec<_>>(),
            "schedule filter"
        );
        let unknown = SlotQuery {
            schedule_id: Some("99"),
            ..q.clone()
        };
        ensure_eq!(
            store.slots(ODS, &unknown).ctx("unknown schedule")?,
            vec![],
            "an unknown schedule has no slots"
        );
        // Bounds: `from` inclusive, `to` exclusive, to the nanosecond.
        let one = window(first, first + SignedDuration::from_nanos(1));
        let got: Vec<String> = store
            .slots(ODS, &one)
            .ctx("1 ns")?
            .into_iter()
            .map(|s| s.id)
            .collect();
        ensure_eq!(
            got,
            vec!["14-2-0".to_owned(), "15-2-0".to_owned()],
            "a 1 ns window at a start"
        );
        let before = window(first - SignedDuration::from_mins(5), first);
        let got = store.slots(ODS, &before).ctx("before")?;
        ensure!(got.iter().all(|s| s.start < first), "`to` is exclusive");
        ensure_eq!(
            store.slots(ODS, &window(first, first)).ctx("empty")?,
            vec![],
            "an empty window"
        );
        ensure_eq!(
            store.slots(ODS, &window(tenth, first)).ctx("inverted")?,
            vec![],
            "an inverted window"
        );
        let all = window(now()?, later(60 * 24 * 30)?);
        let every = store.slots(ODS, &all).ctx("all")?;
        ensure_eq!(
            every.len(),
            testkit::slots(now()?, 14).len(),
            "every slot in a month"
        );
        ensure_eq!(
            every.iter().find(|s| s.id == "14-1-5").map(|s| s.status),
            Some(SlotStatus::Busy),
            "busy slots are listed too"
        );
        Ok(())
    })
}

/// A booking makes every slot busy and held by the new appointment, at the
/// appointment's version, and returns what a read returns.
pub fn book_marks_slots_busy<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("book_marks_slots_busy", || {
        let store = loaded(&new_store)?;
        let max_before = all_versions(&store, ODS)?.into_iter().max().unwrap_or(0);
        let mut b = booking(&store, ODS, &["14-2-0", "14-2-1"])?;
        b.limits = vec![LimitCheck {
            key: "ods:B82001:day2".to_owned(),
            max: 5,
        }];
        let a = store.book(ODS, b.clone()).ctx("book")?;
        ensure_eq!(
            a,
            AppointmentRecord {
                id: a.id.clone(),
                version: a.version,
                status: AppointmentStatus::Booked,
                patient_id: "2".to_owned(),
                slot_ids: vec!["14-2-0".to_owned(), "14-2-1".to_owned()],
                start: b.start,
                end: b.end,
                booking_ods: Some("B82001".to_owned()),
                limit_keys: vec!["ods:B82001:day2".to_owned()],
                last_modified: b.now,
                resource: b.resource.clone(),
            },
            "the booked appointment"
        );
        ensure!(a.version > max_before, "the appointment's version is fresh");
        ensure!(!a.id.is_empty(), "the appointment has an id");
        ensure_eq!(
            appointment(&store, ODS, &a.id)?,
            a,
            "reading the appointment back"
        );
        for id in ["14-2-0", "14-2-1"] {
            let s = slot(&store, ODS, id)?;
            ensure_eq!(s.status, SlotStatus::Busy, "Slot/{id} status");
            ensure_eq!(
                s.appointment_id.as_deref(),
                Some(a.id.as_str()),
                "Slot/{id} holder"
            );
            ensure_eq!(s.version, a.version, "Slot/{id} version");
        }
        let untouched = slot(&store, ODS, "14-2-2")?;
        ensure_eq!(untouched.status, SlotStatus::Free, "the next slot");
        let listed = store
            .patient_appointments(ODS, "2", now()?, later(60 * 24 * 30)?)
            .ctx("patient_appointments")?;
        ensure_eq!(listed, vec![a.clone()], "the patient's appointments");
        Ok(())
    })
}

/// `free_only` lists exactly the free slots of the range, in the same
/// order, and sees a slot leave and come back as it is booked and cancelled.
pub fn slot_range_query_free_only<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("slot_range_query_free_only", || {
        let store = loaded(&new_store)?;
        let first = slot(&store, ODS, "14-1-0")?.start;
        let last = slot(&store, ODS, "14-1-17")?.end;
        let all = window(first, last);
        let free = SlotQuery {
            free_only: true,
            ..all.clone()
        };
        let expected: Vec<SlotRecord> = store
            .slots(ODS, &all)
            .ctx("slots")?
            .into_iter()
            .filter(|s| s.status == SlotStatus::Free)
            .collect();
        let got = store.slots(ODS, &free).ctx("free slots")?;
        ensure_eq!(got, expected, "free slots of day 1");
        ensure!(
            !got.iter().any(|s| s.id == "14-1-5"),
            "the practice's own busy slot 14-1-5 is not listed"
        );
        let a = store
            .book(ODS, booking(&store, ODS, &["14-1-6"])?)
            .ctx("book")?;
        let got = store.slots(ODS, &free).ctx("free slots after booking")?;
        ensure!(
            !got.iter().any(|s| s.id == "14-1-6"),
            "a booked slot is not listed"
        );
        store
            .cancel(
                ODS,
                AppointmentChange {
                    id: a.id.clone(),
                    expected_version: a.version,
                    resource: a.resource.clone(),
                    now: now()?,
                },
            )
            .ctx("cancel")?;
        let got = store.slots(ODS, &free).ctx("free slots after cancel")?;
        ensure!(
            got.iter().any(|s| s.id == "14-1-6"),
            "a cancelled booking's slot is listed again"
        );
        Ok(())
    })
}

/// Booking a busy slot (booked here, or busy in the practice's own system)
/// fails with [`StoreError::SlotUnavailable`].
pub fn book_busy_slot<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("book_busy_slot", || {
        let store = loaded(&new_store)?;
        let b = booking(&store, ODS, &["14-2-0"])?;
        let a = store.book(ODS, b).ctx("first booking")?;
        // Even at the slot's current version, a busy slot cannot be booked.
        let again = booking(&store, ODS, &["14-2-0"])?;
        ensure_eq!(
            store.book(ODS, again),
            Err(StoreError::SlotUnavailable {
                slot_id: "14-2-0".to_owned()
            }),
            "re-booking a booked slot"
        );
        let practice_busy = booking(&store, ODS, &["14-1-5"])?;
        ensure_eq!(
            store.book(ODS, practice_busy),
            Err(StoreError::SlotUnavailable {
                slot_id: "14-1-5".to_owned()
            }),
            "booking a slot the practice marked busy"
        );
        ensure_eq!(
            slot(&store, ODS, "14-2-0")?.appointment_id,
            Some(a.id),
            "the slot keeps its holder"
        );
        Ok(())
    })
}

/// Booking a free slot at a version other than its current one fails with
/// [`StoreError::SlotUnavailable`] (the caller validated a stale copy).
pub fn book_stale_slot_version<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("book_stale_slot_version", || {
        let store = loaded(&new_store)?;
        let mut b = booking(&store, ODS, &["14-2-0"])?;
        let current = b.slots[0].1;
        for stale in [current + 1, current.saturating_sub(1), 0] {
            if stale == current {
                continue;
            }
            b.slots[0].1 = stale;
            ensure_eq!(
                store.book(ODS, b.clone()),
                Err(StoreError::SlotUnavailable {
                    slot_id: "14-2-0".to_owned()
                }),
                "booking at version {stale} (current {current})"
            );
        }
        // Booked and cancelled: free again, but at a new version.
        let fresh = booking(&store, ODS, &["14-2-0"])?;
        let a = store.book(ODS, fresh.clone()).ctx("book")?;
        store.cancel(ODS, change(&a, "x", 1)?).ctx("cancel")?;
        ensure_eq!(
            store.book(ODS, fresh),
            Err(StoreError::SlotUnavailable {
                slot_id: "14-2-0".to_owned()
            }),
            "booking a re-freed slot at its old version"
        );
        store
            .book(ODS, booking(&store, ODS, &["14-2-0"])?)
            .ctx("booking at the current version")?;
        Ok(())
    })
}

/// Booking a slot that does not exist fails with [`StoreError::NotFound`].
pub fn book_unknown_slot<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("book_unknown_slot", || {
        let store = loaded(&new_store)?;
        let mut b = booking(&store, ODS, &["14-2-0"])?;
        b.slots.push(("nope".to_owned(), 1));
        ensure_eq!(
            store.book(ODS, b),
            Err(StoreError::NotFound {
                kind: "Slot",
                id: "nope".to_owned()
            }),
            "booking an unknown slot"
        );
        ensure_eq!(
            slot(&store, ODS, "14-2-0")?.status,
            SlotStatus::Free,
            "the known slot stays free"
        );
        Ok(())
    })
}

/// A booking that would take a limit counter past its maximum fails with
/// [`StoreError::LimitReached`]; counters grow by the number of slots.
pub fn book_limit_reached<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("book_limit_reached", || {
        let store = loaded(&new_store)?;
        let limit = |max| LimitCheck {
            key: "ods:B82001:2026-11-27".to_owned(),
            max,
        };
        let other = LimitCheck {
            key: "type:urgent-care:2026-11-27".to_owned(),
            max: 10,
        };
        let mut b = booking(&store, ODS, &["14-2-0", "14-2-1"])?;
        b.limits = vec![other.clone(), limit(3)];
        store.book(ODS, b).ctx("2 of 3")?;
        let mut b = booking(&store, ODS, &["14-2-2", "14-2-3"])?;
        b.limits = vec![other.clone(), limit(3)];
        ensure_eq!(
            store.book(ODS, b.clone()),
            Err(StoreError::LimitReached {
                key: "ods:B82001:2026-11-27".to_owned()
            }),
            "2 more slots under a limit of 3 with 2 held"
        );
        ensure_eq!(
            slot(&store, ODS, "14-2-2")?.status,
            SlotStatus::Free,
            "a refused booking leaves its slots free"
        );
        let mut one = booking(&store, ODS, &["14-2-2"])?;
        one.limits = vec![limit(3)];
        store.book(ODS, one).ctx("the third slot")?;
        let mut b = booking(&store, ODS, &["14-2-3"])?;
        b.limits = vec![limit(3)];
        ensure_eq!(
            store.book(ODS, b.clone()),
            Err(StoreError::LimitReached {
                key: "ods:B82001:2026-11-27".to_owned()
            }),
            "a fourth slot under a limit of 3"
        );
        // The other counter is at 2 (the refused booking did not count).
        let mut b = booking(
            &store,
            ODS,
            &[
                "14-2-4", "14-2-5", "14-2-6", "14-2-7", "14-2-8", "14-2-9", "14-2-10", "14-2-11",
            ],
        )?;
        b.limits = vec![other.clone()];
        store
            .book(ODS, b)
            .ctx("8 more under the other limit of 10")?;
        let mut b = booking(&store, ODS, &["14-2-12"])?;
        b.limits = vec![other];
        ensure_eq!(
            store.book(ODS, b),
            Err(StoreError::LimitReached {
                key: "type:urgent-care:2026-11-27".to_owned()
            }),
            "the eleventh slot under the other limit"
        );
        let mut zero = booking(&store, ODS, &["14-2-13"])?;
        zero.limits = vec![LimitCheck {
            key: "fresh".to_owned(),
            max: 0,
        }];
        ensure_eq!(
            store.book(ODS, zero),
            Err(StoreError::LimitReached {
                key: "fresh".to_owned()
            }),
            "a limit of 0"
        );
        Ok(())
    })
}

/// A multi-slot booking that fails on any slot or limit changes nothing:
/// no slot, counter, appointment or id is taken.
pub fn failed_booking_changes_nothing<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("failed_booking_changes_nothing", || {
        let store = loaded(&new_store)?;
        store
            .book(ODS, booking(&store, ODS, &["14-2-3"])?)
            .ctx("book the third slot")?;
        let snapshot = |ids: &[&str]| -> Result<Vec<SlotRecord>, String> {
            ids.iter().map(|id| slot(&store, ODS, id)).collect()
        };
        let ids = ["14-2-0", "14-2-1", "14-2-2", "14-2-3"];
        let before = snapshot(&ids)?;
        let attempts: Vec<(NewBooking, StoreError)> = vec![
            (
                booking(&store, ODS, &["14-2-0", "14-2-1", "14-2-2", "14-2-3"])?,
                StoreError::SlotUnavailable {
                    slot_id: "14-2-3".to_owned(),
                },
            ),
            (
                {
                    let mut b = booking(&store, ODS, &["14-2-0", "14-2-1"])?;
                    b.slots[1].1 += 1;
                    b
                },
                StoreError::SlotUnavailable {
                    slot_id: "14-2-1".to_owned(),
                },
            ),
            (
                {
                    let mut b = booking(&store, ODS, &["14-2-0", "14-2-1"])?;
                    b.slots.push(("missing".to_owned(), 1));
                    b
                },
                StoreError::NotFound {
                    kind: "Slot",
                    id: "missing".to_owned(),
                },
            ),
            (
                {
                    let mut b = booking(&store, ODS, &["14-2-0", "14-2-1", "14-2-2"])?;
                    b.limits = vec![
                        LimitCheck {
                            key: "roomy".to_owned(),
                            max: 100,
                        },
                        LimitCheck {
                            key: "tight".to_owned(),
                            max: 2,
                        },
                    ];
                    b
                },
                StoreError::LimitReached {
                    key: "tight".to_owned(),
                },
            ),
        ];
        for (b, err) in attempts {
            ensure_eq!(store.book(ODS, b), Err(err.clone()), "failing booking");
            ensure_eq!(
                snapshot(&ids)?,
                before,
                "slots after a booking failed with {err:?}"
            );
        }
        // No counter moved: "roomy" and "tight" still admit their maximum.
        let mut b = booking(&store, ODS, &["14-2-0", "14-2-1"])?;
        b.limits = vec![
            LimitCheck {
                key: "tight".to_owned(),
                max: 2,
            },
            LimitCheck {
                key: "roomy".to_owned(),
                max: 2,
            },
        ];
        let a = store.book(ODS, b).ctx("booking after the failures")?;
        let patients = store
            .patient_appointments(ODS, "2", now()?, later(60 * 24 * 30)?)
            .ctx("patient_appointments")?;
        ensure_eq!(patients.len(), 2, "only the successful bookings exist");
        ensure!(
            patients.iter().any(|p| p.id == a.id),
            "the later booking is listed"
        );
        Ok(())
    })
}

/// Amend replaces the resource at the expected version only, with a fresh
/// version; a stale version is a [`StoreError::VersionConflict`]; an
/// unknown appointment [`StoreError::NotFound`].
pub fn amend_checks_version<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("amend_checks_version", || {
        let store = loaded(&new_store)?;
        let a = store
            .book(ODS, booking(&store, ODS, &["14-2-0"])?)
            .ctx("book")?;
        let amended = store.amend(ODS, change(&a, "Amended", 5)?).ctx("amend")?;
        ensure!(amended.version > a.version, "amend gives a fresh version");
        ensure_eq!(
            amended,
            AppointmentRecord {
                version: amended.version,
                resource: appointment_resource("Amended"),
                last_modified: later(5)?,
                ..a.clone()
            },
            "the amended appointment"
        );
        ensure_eq!(
            appointment(&store, ODS, &a.id)?,
            amended,
            "reading the amended appointment"
        );
        ensure_eq!(
            slot(&store, ODS, "14-2-0")?.version,
            a.version,
            "amend does not touch the slots"
        );
        let stale = change(&a, "Stale", 6)?;
        ensure_eq!(
            store.amend(ODS, stale),
            Err(StoreError::VersionConflict {
                kind: "Appointment",
                id: a.id.clone(),
                expected: a.version,
                actual: amended.version,
            }),
            "amend at a stale version"
        );
        ensure_eq!(
            appointment(&store, ODS, &a.id)?,
            amended,
            "a refused amend changes nothing"
        );
        let mut unknown = change(&a, "x", 6)?;
        unknown.id = "424242".to_owned();
        ensure_eq!(
            store.amend(ODS, unknown),
            Err(StoreError::NotFound {
                kind: "Appointment",
                id: "424242".to_owned()
            }),
            "amending an unknown appointment"
        );
        let twice = store
            .amend(ODS, change(&amended, "Again", 7)?)
            .ctx("second amend")?;
        ensure!(
            twice.version > amended.version,
            "each amend gives a fresh version"
        );
        Ok(())
    })
}

/// A cancelled appointment cannot be amended ([`StoreError::Rejected`]);
/// the version check comes first.
pub fn amend_rejects_cancelled<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("amend_rejects_cancelled", || {
        let store = loaded(&new_store)?;
        let a = store
            .book(ODS, booking(&store, ODS, &["14-2-0"])?)
            .ctx("book")?;
        let c = store
            .cancel(ODS, change(&a, "Cancelled", 1)?)
            .ctx("cancel")?;
        let got = store.amend(ODS, change(&c, "Amended", 2)?);
        ensure!(
            matches!(got, Err(StoreError::Rejected(_))),
            "amending a cancelled appointment: got {got:?}"
        );
        ensure_eq!(
            store.amend(ODS, change(&a, "Amended", 2)?),
            Err(StoreError::VersionConflict {
                kind: "Appointment",
                id: a.id.clone(),
                expected: a.version,
                actual: c.version,
            }),
            "a stale amend of a cancelled appointment"
        );
        ensure_eq!(
            appointment(&store, ODS, &a.id)?,
            c,
            "the cancelled appointment is unchanged"
        );
        Ok(())
    })
}

/// Cancel at a stale version is a [`StoreError::VersionConflict`] and
/// changes nothing; an unknown appointment is [`StoreError::NotFound`].
pub fn cancel_checks_version<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("cancel_checks_version", || {
        let store = loaded(&new_store)?;
        let a = store
            .book(ODS, booking(&store, ODS, &["14-2-0", "14-2-1"])?)
            .ctx("book")?;
        let amended = store.amend(ODS, change(&a, "Amended", 1)?).ctx("amend")?;
        ensure_eq!(
            store.cancel(ODS, change(&a, "Cancel", 2)?),
            Err(StoreError::VersionConflict {
                kind: "Appointment",
                id: a.id.clone(),
                expected: a.version,
                actual: amended.version,
            }),
            "cancel at a stale version"
        );
        ensure_eq!(
            appointment(&store, ODS, &a.id)?,
            amended,
            "a refused cancel leaves the appointment"
        );
        for id in ["14-2-0", "14-2-1"] {
            let s = slot(&store, ODS, id)?;
            ensure_eq!(
                (s.status, s.appointment_id),
                (SlotStatus::Busy, Some(a.id.clone())),
                "Slot/{id} after a refused cancel"
            );
        }
        let mut unknown = change(&a, "x", 2)?;
        unknown.id = "424242".to_owned();
        ensure_eq!(
            store.cancel(ODS, unknown),
            Err(StoreError::NotFound {
                kind: "Appointment",
                id: "424242".to_owned()
            }),
            "cancelling an unknown appointment"
        );
        Ok(())
    })
}

/// Cancel sets the status, stores the resource, frees the slots at the
/// cancel's version, and cannot be repeated ([`StoreError::Rejected`]); the
/// cancelled appointment stays listed for its patient.
pub fn cancel_frees_slots<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("cancel_frees_slots", || {
        let store = loaded(&new_store)?;
        let a = store
            .book(ODS, booking(&store, ODS, &["14-2-0", "14-2-1"])?)
            .ctx("book")?;
        let c = store
            .cancel(ODS, change(&a, "Cancelled", 3)?)
            .ctx("cancel")?;
        ensure!(c.version > a.version, "cancel gives a fresh version");
        ensure_eq!(
            c,
            AppointmentRecord {
                version: c.version,
                status: AppointmentStatus::Cancelled,
                resource: appointment_resource("Cancelled"),
                last_modified: later(3)?,
                ..a.clone()
            },
            "the cancelled appointment keeps its slots, patient and limits"
        );
        ensure_eq!(
            appointment(&store, ODS, &a.id)?,
            c,
            "reading the cancelled appointment"
        );
        for id in ["14-2-0", "14-2-1"] {
            let s = slot(&store, ODS, id)?;
            ensure_eq!(
                (s.status, s.appointment_id.clone(), s.version),
                (SlotStatus::Free, None, c.version),
                "Slot/{id} after cancel"
            );
        }
        let got = store.cancel(ODS, change(&c, "Again", 4)?);
        ensure!(
            matches!(got, Err(StoreError::Rejected(_))),
            "cancelling twice: got {got:?}"
        );
        let listed = store
            .patient_appointments(ODS, "2", now()?, later(60 * 24 * 30)?)
            .ctx("patient_appointments")?;
        ensure_eq!(
            listed,
            vec![c.clone()],
            "a cancelled appointment is still listed (R54)"
        );
        let rebooked = store
            .book(ODS, booking(&store, ODS, &["14-2-0"])?)
            .ctx("re-booking a freed slot")?;
        ensure!(rebooked.id != a.id, "a new booking gets a new id");
        Ok(())
    })
}

/// Cancel frees only the slots the appointment still holds: a slot it
/// names but another appointment (or the practice) holds stays busy.
pub fn cancel_frees_only_held_slots<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("cancel_frees_only_held_slots", || {
        let store = loaded(&new_store)?;
        let other = store
            .book(ODS, booking(&store, ODS, &["14-2-1"])?)
            .ctx("book 14-2-1")?;
        let start = slot(&store, ODS, "14-2-0")?.start;
        // An imported appointment naming a free slot, a slot booked by
        // `other`, a slot busy in the practice's system and a missing slot.
        let imported = AppointmentRecord {
            id: "9001".to_owned(),
            version: 0,
            status: AppointmentStatus::Booked,
            patient_id: "3".to_owned(),
            slot_ids: vec![
                "14-2-0".to_owned(),
                "14-2-1".to_owned(),
                "14-1-5".to_owned(),
                "gone".to_owned(),
            ],
            start,
            end: start + SignedDuration::from_mins(10),
            booking_ods: None,
            limit_keys: vec![],
            last_modified: now()?,
            resource: appointment_resource("Imported"),
        };
        let mut held = slot(&store, ODS, "14-2-0")?;
        held.status = SlotStatus::Busy;
        held.appointment_id = Some("9001".to_owned());
        store
            .import(
                ODS,
                PracticeImport {
                    slots: vec![held],
                    appointments: vec![imported],
                    ..Default::default()
                },
            )
            .ctx("import")?;
        let imported = appointment(&store, ODS, "9001")?;
        let before_other = slot(&store, ODS, "14-2-1")?;
        let before_practice = slot(&store, ODS, "14-1-5")?;
        let c = store
            .cancel(ODS, change(&imported, "Cancelled", 1)?)
            .ctx("cancel")?;
        let freed = slot(&store, ODS, "14-2-0")?;
        ensure_eq!(
            (freed.status, freed.appointment_id, freed.version),
            (SlotStatus::Free, None, c.version),
            "the slot it held"
        );
        ensure_eq!(
            slot(&store, ODS, "14-2-1")?,
            before_other,
            "a slot another appointment holds"
        );
        ensure_eq!(
            slot(&store, ODS, "14-1-5")?,
            before_practice,
            "a slot the practice holds"
        );
        ensure_eq!(
            appointment(&store, ODS, &other.id)?,
            other,
            "the other appointment"
        );
        Ok(())
    })
}

/// Cancel releases the limit counters the appointment counted against, by
/// its number of slots.
pub fn cancel_releases_limits<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("cancel_releases_limits", || {
        let store = loaded(&new_store)?;
        let limit = LimitCheck {
            key: "ods:B82001:2026-11-27".to_owned(),
            max: 3,
        };
        let mut b = booking(&store, ODS, &["14-2-0", "14-2-1"])?;
        b.limits = vec![limit.clone()];
        let a = store.book(ODS, b).ctx("2 of 3")?;
        let mut b = booking(&store, ODS, &["14-2-4"])?;
        b.limits = vec![limit.clone()];
        let small = store.book(ODS, b).ctx("3 of 3")?;
        let mut two = booking(&store, ODS, &["14-2-2", "14-2-3"])?;
        two.limits = vec![limit.clone()];
        ensure!(
            matches!(
                store.book(ODS, two.clone()),
                Err(StoreError::LimitReached { .. })
            ),
            "the limit is full"
        );
        store
            .cancel(ODS, change(&a, "Cancelled", 1)?)
            .ctx("cancel")?;
        store
            .book(ODS, two)
            .ctx("2 slots after the cancel released 2")?;
        store
            .cancel(ODS, change(&small, "Cancelled", 1)?)
            .ctx("cancel the 1-slot booking")?;
        let mut one = booking(&store, ODS, &["14-2-5"])?;
        one.limits = vec![limit.clone()];
        store
            .book(ODS, one)
            .ctx("1 slot after the cancel released 1")?;
        let mut more = booking(&store, ODS, &["14-2-6"])?;
        more.limits = vec![limit];
        ensure!(
            matches!(store.book(ODS, more), Err(StoreError::LimitReached { .. })),
            "full again"
        );
        Ok(())
    })
}

/// Registering a new patient assigns a fresh id and version and indexes the
/// NHS number.
pub fn register_new_patient<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("register_new_patient", || {
        let store = loaded(&new_store)?;
        let max_before = all_versions(&store, ODS)?.into_iter().max().unwrap_or(0);
        let flags = PatientFlags {
            registration_type: RegistrationType::Temporary,
            nhs_number_verified: true,
            ..Default::default()
        };
        let resource = stu3::Patient {
            gender: Some(Code::from_static("male")),
            ..Default::default()
        };
        let p = store
            .register_patient(
                ODS,
                PatientRegistration::New {
                    nhs_number: "9000000017".to_owned(),
                    resource: resource.clone(),
                    flags: flags.clone(),
                },
            )
            .ctx("register")?;
        ensure!(p.version > max_before, "a fresh version");
        ensure!(
            testkit::practice(now()?)
                .patients
                .iter()
                .all(|q| q.id != p.id),
            "a fresh id, not one of the imported patients' ({})",
            p.id
        );
        ensure_eq!(
            p,
            PatientRecord {
                id: p.id.clone(),
                version: p.version,
                nhs_number: "9000000017".to_owned(),
                resource,
                flags
            },
            "the registered patient"
        );
        ensure_eq!(
            store.patient(ODS, &p.id).ctx("read")?,
            Some(p.clone()),
            "reading the patient"
        );
        ensure_eq!(
            store
                .patients_by_nhs_number(ODS, "9000000017")
                .ctx("by NHS")?,
            vec![p.clone()],
            "finding the patient"
        );
        let q = store
            .register_patient(
                ODS,
                PatientRegistration::New {
                    nhs_number: "9000000025".to_owned(),
                    resource: stu3::Patient::default(),
                    flags: PatientFlags::default(),
                },
            )
            .ctx("register another")?;
        ensure!(q.id != p.id, "patient ids are fresh");
        ensure!(q.version > p.version, "versions are fresh");
        Ok(())
    })
}

/// Registering an NHS number any patient of the practice already has
/// (active or not) fails with [`StoreError::DuplicatePatient`] and writes
/// nothing.
pub fn register_duplicate_patient<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("register_duplicate_patient", || {
        let store = loaded(&new_store)?;
        let new = |nhs: &str| PatientRegistration::New {
            nhs_number: nhs.to_owned(),
            resource: stu3::Patient::default(),
            flags: PatientFlags::default(),
        };
        // 9000000009 is active, 9000000041 has left the practice.
        for nhs in ["9000000009", "9000000041"] {
            ensure_eq!(
                store.register_patient(ODS, new(nhs)),
                Err(StoreError::DuplicatePatient),
                "registering {nhs} again"
            );
            ensure_eq!(
                store.patients_by_nhs_number(ODS, nhs).ctx("by NHS")?.len(),
                1,
                "still one patient with {nhs}"
            );
        }
        store
            .register_patient(ODS, new("9000000017"))
            .ctx("register")?;
        ensure_eq!(
            store.register_patient(ODS, new("9000000017")),
            Err(StoreError::DuplicatePatient),
            "registering a registered number"
        );
        ensure_eq!(
            store
                .patients_by_nhs_number(ODS, "9000000017")
                .ctx("by NHS")?
                .len(),
            1,
            "one registration"
        );
        Ok(())
    })
}

/// Updating a patient's flags changes only the flags, at the expected
/// version only, and gives a fresh version.
pub fn update_patient_flags<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("update_patient_flags", || {
        let store = loaded(&new_store)?;
        let before = store.patient(ODS, "2").ctx("read")?.ctx("Patient/2")?;
        let flags = PatientFlags {
            nhs_number_verified: !before.flags.nhs_number_verified,
            ..before.flags.clone()
        };
        let after = store
            .update_patient_flags(ODS, "2", before.version, flags.clone())
            .ctx("update")?;
        ensure_eq!(after.flags, flags, "the new flags");
        ensure_eq!(after.resource, before.resource, "demographics untouched");
        ensure_eq!(after.nhs_number, before.nhs_number, "NHS number untouched");
        ensure!(after.version > before.version, "a fresh version");
        ensure_eq!(
            store.patient(ODS, "2").ctx("re-read")?.ctx("Patient/2")?,
            after,
            "reading it back"
        );
        ensure!(
            matches!(
                store.update_patient_flags(ODS, "2", before.version, flags.clone()),
                Err(StoreError::VersionConflict { .. })
            ),
            "a stale version is a VersionConflict"
        );
        ensure!(
            matches!(
                store.update_patient_flags(ODS, "no-such", 1, flags),
                Err(StoreError::NotFound { .. })
            ),
            "an unknown patient is NotFound"
        );
        Ok(())
    })
}

/// Re-activating a patient replaces demographics and flags at the expected
/// version only.
pub fn reactivate_patient<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("reactivate_patient", || {
        let store = loaded(&new_store)?;
        let left = store.patient(ODS, "6").ctx("read")?.ctx("Patient/6")?;
        let flags = PatientFlags {
            registration: RegistrationStatus::Active,
            registration_type: RegistrationType::Temporary,
            ..left.flags.clone()
        };
        let reactivate = |version: u64| PatientRegistration::Reactivate {
            id: "6".to_owned(),
            expected_version: version,
            resource: left.resource.clone(),
            flags: flags.clone(),
        };
        let p = store
            .register_patient(ODS, reactivate(left.version))
            .ctx("reactivate")?;
        ensure!(p.version > left.version, "a fresh version");
        ensure_eq!(
            p,
            PatientRecord {
                version: p.version,
                flags: flags.clone(),
                ..left.clone()
            },
            "the re-activated patient"
        );
        ensure_eq!(
            store.patient(ODS, "6").ctx("read")?,
            Some(p.clone()),
            "reading it back"
        );
        ensure_eq!(
            store.register_patient(ODS, reactivate(left.version)),
            Err(StoreError::VersionConflict {
                kind: "Patient",
                id: "6".to_owned(),
                expected: left.version,
                actual: p.version
            }),
            "re-activating at a stale version"
        );
        ensure_eq!(
            store.register_patient(
                ODS,
                PatientRegistration::Reactivate {
                    id: "404".to_owned(),
                    expected_version: 1,
                    resource: stu3::Patient::default(),
                    flags: PatientFlags::default(),
                }
            ),
            Err(StoreError::NotFound {
                kind: "Patient",
                id: "404".to_owned()
            }),
            "re-activating an unknown patient"
        );
        ensure_eq!(
            store
                .patients_by_nhs_number(ODS, &left.nhs_number)
                .ctx("by NHS")?,
            vec![p],
            "the NHS number still finds it"
        );
        Ok(())
    })
}

/// `patient_appointments` lists one patient's appointments starting in
/// `[from, to)`, by start then id, cancelled ones included.
pub fn patient_appointments_range<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("patient_appointments_range", || {
        let store = loaded(&new_store)?;
        let book = |patient: &str, slots: &[&str]| -> Result<AppointmentRecord, String> {
            let mut b = booking(&store, ODS, slots)?;
            b.patient_id = patient.to_owned();
            store.book(ODS, b).ctx("book")
        };
        let late = book("2", &["14-3-5"])?;
        let early = book("2", &["14-2-0", "14-2-1"])?;
        let same_start = book("2", &["15-2-0"])?;
        let someone_else = book("3", &["14-2-2"])?;
        let cancelled = book("2", &["14-4-0"])?;
        let cancelled = store
            .cancel(ODS, change(&cancelled, "Cancelled", 1)?)
            .ctx("cancel")?;
        let all = store
            .patient_appointments(ODS, "2", now()?, later(60 * 24 * 30)?)
            .ctx("all")?;
        let mut expected = vec![early.clone(), same_start.clone()];
        expected.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        expected.push(late.clone());
        expected.push(cancelled.clone());
        ensure_eq!(all, expected, "patient 2's appointments by start then id");
        ensure!(
            all.iter().all(|a| a.id != someone_else.id),
            "another patient's appointment is not listed"
        );
        let from_early = store
            .patient_appointments(ODS, "2", early.start, late.start)
            .ctx("[early, late)")?;
        ensure_eq!(from_early.len(), 2, "`from` inclusive, `to` exclusive");
        let exact = store
            .patient_appointments(
                ODS,
                "2",
                late.start,
                late.start + SignedDuration::from_nanos(1),
            )
            .ctx("1 ns")?;
        ensure_eq!(exact, vec![late.clone()], "a 1 ns window at a start");
        ensure_eq!(
            store
                .patient_appointments(ODS, "2", late.start, late.start)
                .ctx("empty")?,
            vec![],
            "an empty window"
        );
        ensure_eq!(
            store
                .patient_appointments(ODS, "404", now()?, later(60 * 24 * 30)?)
                .ctx("unknown")?,
            vec![],
            "an unknown patient"
        );
        Ok(())
    })
}

/// Two practices with the same record ids are independent: nothing of one
/// is visible or changed through the other.
pub fn practices_are_partitioned<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("practices_are_partitioned", || {
        let store = loaded(&new_store)?;
        let mut other = testkit::practice(now()?);
        if let Some(p) = other.practice.as_mut() {
            p.asid = "900000000002".to_owned();
        }
        for s in &mut other.slots {
            s.service_type = "Other practice".to_owned();
        }
        other.patients.retain(|p| p.id == "2");
        store
            .import(OTHER_ODS, other)
            .ctx("import the other practice")?;
        ensure_eq!(
            store.practices().ctx("practices")?,
            vec![ODS.to_owned(), OTHER_ODS.to_owned()],
            "both hosted, sorted"
        );
        let theirs = store
            .practice(OTHER_ODS)
            .ctx("practice")?
            .ctx("other practice")?;
        ensure_eq!(
            (theirs.ods_code.as_str(), theirs.asid.as_str()),
            (OTHER_ODS, "900000000002"),
            "the import sets the ODS code"
        );
        let a = store
            .book(ODS, booking(&store, ODS, &["14-2-0"])?)
            .ctx("book in A")?;
        let mine = slot(&store, ODS, "14-2-0")?;
        let theirs = slot(&store, OTHER_ODS, "14-2-0")?;
        ensure_eq!(mine.status, SlotStatus::Busy, "booked in A");
        ensure_eq!(
            (theirs.status, theirs.appointment_id.clone()),
            (SlotStatus::Free, None),
            "the same slot id in B"
        );
        ensure_eq!(theirs.service_type, "Other practice", "B's own slot");
        ensure_eq!(
            store
                .appointment(OTHER_ODS, &a.id)
                .ctx("appointment in B")?,
            None,
            "A's appointment through B"
        );
        ensure_eq!(
            store
                .patient_appointments(OTHER_ODS, "2", now()?, later(60 * 24 * 30)?)
                .ctx("B's")?,
            vec![],
            "patient 2's appointments in B"
        );
        ensure_eq!(
            store.patient(OTHER_ODS, "3").ctx("patient")?,
            None,
            "a patient only A has"
        );
        ensure_eq!(
            store.cancel(OTHER_ODS, change(&a, "x", 1)?),
            Err(StoreError::NotFound {
                kind: "Appointment",
                id: a.id.clone()
            }),
            "cancelling A's appointment through B"
        );
        // Booking B's slot of the same id leaves A's alone.
        let b = store
            .book(OTHER_ODS, booking(&store, OTHER_ODS, &["14-2-0"])?)
            .ctx("book in B")?;
        ensure_eq!(
            appointment(&store, OTHER_ODS, &b.id)?.slot_ids,
            vec!["14-2-0".to_owned()],
            "B's appointment"
        );
        ensure_eq!(
            appointment(&store, ODS, &a.id)?,
            a,
            "A's appointment after booking in B"
        );
        ensure_eq!(
            slot(&store, ODS, "14-2-0")?.appointment_id,
            Some(a.id.clone()),
            "A's slot still held by A's appointment"
        );
        // The same NHS number can be registered in both practices only once each.
        ensure_eq!(
            store
                .register_patient(
                    OTHER_ODS,
                    PatientRegistration::New {
                        nhs_number: "9476719931".to_owned(),
                        resource: stu3::Patient::default(),
                        flags: PatientFlags::default()
                    }
                )
                .map(|p| p.nhs_number),
            Ok("9476719931".to_owned()),
            "A's patient's NHS number is free in B"
        );
        // Limit counters are per practice.
        let limit = LimitCheck {
            key: "shared-key".to_owned(),
            max: 1,
        };
        let mut in_a = booking(&store, ODS, &["14-2-5"])?;
        in_a.limits = vec![limit.clone()];
        store.book(ODS, in_a).ctx("limit in A")?;
        let mut in_b = booking(&store, OTHER_ODS, &["14-2-5"])?;
        in_b.limits = vec![limit];
        store.book(OTHER_ODS, in_b).ctx("the same limit key in B")?;
        Ok(())
    })
}

/// Every command assigns a version greater than any the store assigned
/// before, and appointment ids are never reused.
pub fn versions_and_ids_are_fresh<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("versions_and_ids_are_fresh", || {
        let store = loaded(&new_store)?;
        let mut last = all_versions(&store, ODS)?.into_iter().max().unwrap_or(0);
        let mut ids = Vec::new();
        let mut fresh = |v: u64, what: &str| -> Check {
            ensure!(v > last, "{what}: version {v} is not above {last}");
            last = v;
            Ok(())
        };
        for n in 0..6 {
            let id = format!("14-5-{n}");
            let a = store
                .book(ODS, booking(&store, ODS, &[id.as_str()])?)
                .ctx("book")?;
            fresh(a.version, "book")?;
            ensure!(!ids.contains(&a.id), "appointment id {} reused", a.id);
            ids.push(a.id.clone());
            let b = store.amend(ODS, change(&a, "Amended", 1)?).ctx("amend")?;
            fresh(b.version, "amend")?;
            if n % 2 == 0 {
                let c = store
                    .cancel(ODS, change(&b, "Cancelled", 2)?)
                    .ctx("cancel")?;
                fresh(c.version, "cancel")?;
                let again = store
                    .book(ODS, booking(&store, ODS, &[id.as_str()])?)
                    .ctx("re-book")?;
                fresh(again.version, "re-book")?;
                ensure!(
                    !ids.contains(&again.id),
                    "appointment id {} reused after cancel",
                    again.id
                );
                ids.push(again.id);
            }
        }
        let mut s = slot(&store, ODS, "14-6-0")?;
        s.service_type = "Changed".to_owned();
        store
            .import(
                ODS,
                PracticeImport {
                    slots: vec![s],
                    ..Default::default()
                },
            )
            .ctx("import")?;
        fresh(slot(&store, ODS, "14-6-0")?.version, "import")?;
        Ok(())
    })
}

/// A clinical record with one item (`tag` in its text) in every list, and
/// one unavailable table.
fn full_record(tag: &str) -> ClinicalRecord {
    let d = date(2016, 1, 12);
    ClinicalRecord {
        encounters: vec![Encounter {
            date: d,
            title: format!("{tag} consultation"),
            details: "Back pain\nReviewed".to_owned(),
            exclusion: Exclusion::None,
        }],
        clinical_items: vec![ClinicalItem {
            date: d,
            entry: format!("{tag} smoker"),
            details: String::new(),
            exclusion: Exclusion::None,
        }],
        problems: vec![Problem {
            status: ProblemStatus::Active,
            start: d,
            end: None,
            entry: format!("{tag} asthma"),
            significance: Some(Significance::Major),
            details: String::new(),
            exclusion: Exclusion::None,
        }],
        allergies: vec![Allergy {
            status: AllergyStatus::Current,
            start: d,
            end: None,
            details: format!("{tag} penicillin"),
            exclusion: Exclusion::Confidential,
        }],
        medications: vec![Medication {
            kind: MedicationKind::Repeat,
            prescriber: Prescriber::Practice,
            post_dated: false,
            start: d,
            item: format!("{tag} salbutamol 100mcg inhaler"),
            dosage: "2 puffs when required".to_owned(),
            quantity: "1 inhaler".to_owned(),
            scheduled_end: None,
            days_duration: Some(28),
            review_date: None,
            max_issues: Some(6),
            controlled_drug: false,
            discontinuation: None,
            authorisation_end: None,
            last_authorised: None,
            reason: None,
            linked_problems: vec!["Asthma".to_owned()],
            additional_information: None,
            issues: vec![MedicationIssue { date: d }],
            exclusion: Exclusion::None,
        }],
        referrals: vec![Referral {
            date: d,
            from: "Dr Black".to_owned(),
            to: format!("{tag} respiratory clinic"),
            priority: "Routine".to_owned(),
            details: String::new(),
            exclusion: Exclusion::None,
        }],
        observations: vec![Observation {
            date: d,
            entry: format!("{tag} peak flow"),
            value: Some(Measurement {
                value: "450".to_owned(),
                unit: Some("L/min".to_owned()),
            }),
            range: None,
            details: String::new(),
            exclusion: Exclusion::None,
        }],
        immunisations: vec![Immunisation {
            date: d,
            vaccination: format!("{tag} influenza"),
            part: Some(1),
            contents: String::new(),
            details: String::new(),
            exclusion: Exclusion::None,
        }],
        administrative_items: vec![AdministrativeItem {
            date: d,
            entry: format!("{tag} registration"),
            details: String::new(),
            exclusion: Exclusion::None,
        }],
        emergency_codes: vec![EmergencyCode {
            date: d,
            entry: format!("{tag} DNACPR"),
            details: String::new(),
            location: "Problems and Issues".to_owned(),
            group: None,
            exclusion: Exclusion::None,
        }],
        unavailable: vec![UnavailableTable {
            table: Table::HistoricalAllergies,
            reason: Unavailability::NotSupported,
        }],
    }
}

/// What `section` of `full` must read as: the section's lists (written out
/// here from accessrecord §3, independently of core's table) and
/// `unavailable`, everything else empty.
fn expected_view(full: &ClinicalRecord, section: Section) -> ClinicalRecord {
    let mut v = ClinicalRecord {
        unavailable: full.unavailable.clone(),
        ..Default::default()
    };
    match section {
        Section::Summary => {
            v.emergency_codes = full.emergency_codes.clone();
            v.encounters = full.encounters.clone();
            v.problems = full.problems.clone();
            v.allergies = full.allergies.clone();
            v.medications = full.medications.clone();
        }
        Section::Encounters => v.encounters = full.encounters.clone(),
        Section::ClinicalItems => v.clinical_items = full.clinical_items.clone(),
        Section::Problems => v.problems = full.problems.clone(),
        Section::Allergies => v.allergies = full.allergies.clone(),
        Section::Medications => v.medications = full.medications.clone(),
        Section::Referrals => v.referrals = full.referrals.clone(),
        Section::Observations => v.observations = full.observations.clone(),
        Section::Immunisations => v.immunisations = full.immunisations.clone(),
        Section::AdministrativeItems => {
            v.administrative_items = full.administrative_items.clone();
        }
    }
    v
}

fn clinical_import(records: Vec<(&str, ClinicalRecord)>) -> PracticeImport {
    PracticeImport {
        clinical_records: records
            .into_iter()
            .map(|(patient_id, record)| PatientClinicalRecord {
                patient_id: patient_id.to_owned(),
                record,
            })
            .collect(),
        ..Default::default()
    }
}

/// Every section of every patient, as the store answers it.
fn every_view<S: PracticeStore>(
    store: &S,
    ods: &str,
    patient: &str,
) -> Result<Vec<ClinicalRecord>, String> {
    Section::ALL
        .into_iter()
        .map(|s| {
            store
                .clinical_record(ods, patient, s)
                .ctx(&format!("reading {} of patient {patient}", s.code()))
        })
        .collect()
}

/// A section reads exactly the lists its views need (SUM: emergency codes,
/// encounters, problems, allergies, medications; every other section its
/// own list), always with `unavailable`, every other list empty.
pub fn clinical_record_sections<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("clinical_record_sections", || {
        let store = loaded(&new_store)?;
        let full = full_record("A");
        let summary = store
            .import(ODS, clinical_import(vec![("3", full.clone())]))
            .ctx("import a clinical record")?;
        ensure_eq!(
            summary,
            ImportSummary {
                written: 1,
                unchanged: 0
            },
            "a new clinical record counts as one record written"
        );
        for section in Section::ALL {
            ensure_eq!(
                store
                    .clinical_record(ODS, "3", section)
                    .ctx("clinical_record")?,
                expected_view(&full, section),
                "section {} of patient 3",
                section.code()
            );
        }
        Ok(())
    })
}

/// A patient without a record, and an id no patient has, read as the empty
/// record in every section (not an error: records are keyed by patient id,
/// and the operation has already read the patient).
pub fn clinical_record_without_one_is_empty<S: PracticeStore>(
    new_store: impl Fn() -> S,
) -> Outcome {
    named("clinical_record_without_one_is_empty", || {
        let store = loaded(&new_store)?;
        store
            .import(ODS, clinical_import(vec![("3", full_record("A"))]))
            .ctx("import a clinical record")?;
        for patient in ["6", "no-such-patient", "33"] {
            for view in every_view(&store, ODS, patient)? {
                ensure_eq!(
                    view,
                    ClinicalRecord::default(),
                    "a section of patient {patient}, who has no record"
                );
            }
        }
        Ok(())
    })
}

/// Importing a patient's record replaces it list by list (a list the new
/// record leaves empty is empty afterwards); importing the same record again
/// counts it unchanged; an empty record removes the patient's; other
/// patients' records are untouched.
pub fn clinical_record_reimport_replaces<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("clinical_record_reimport_replaces", || {
        let store = loaded(&new_store)?;
        let first = full_record("A");
        let other = full_record("Other");
        store
            .import(
                ODS,
                clinical_import(vec![("3", first.clone()), ("6", other.clone())]),
            )
            .ctx("first import")?;
        let summary = store
            .import(ODS, clinical_import(vec![("3", first.clone())]))
            .ctx("identical re-import")?;
        ensure_eq!(
            summary,
            ImportSummary {
                written: 0,
                unchanged: 1
            },
            "an identical record is unchanged"
        );
        let second = ClinicalRecord {
            encounters: full_record("B").encounters,
            problems: full_record("B").problems,
            ..Default::default()
        };
        let summary = store
            .import(ODS, clinical_import(vec![("3", second.clone())]))
            .ctx("changed re-import")?;
        ensure_eq!(
            summary,
            ImportSummary {
                written: 1,
                unchanged: 0
            },
            "a changed record is written"
        );
        for section in Section::ALL {
            ensure_eq!(
                store
                    .clinical_record(ODS, "3", section)
                    .ctx("clinical_record")?,
                expected_view(&second, section),
                "section {} after replacing the record (no list kept from the first)",
                section.code()
            );
        }
        let summary = store
            .import(ODS, clinical_import(vec![("3", second.clone())]))
            .ctx("re-import of the replacement")?;
        ensure_eq!(
            summary.unchanged,
            1,
            "re-importing the replacement is idempotent"
        );
        let summary = store
            .import(ODS, clinical_import(vec![("3", ClinicalRecord::default())]))
            .ctx("empty record")?;
        ensure_eq!(summary.written, 1, "an empty record removes a stored one");
        for view in every_view(&store, ODS, "3")? {
            ensure_eq!(view, ClinicalRecord::default(), "after an empty record");
        }
        let summary = store
            .import(ODS, clinical_import(vec![("3", ClinicalRecord::default())]))
            .ctx("empty record again")?;
        ensure_eq!(
            summary,
            ImportSummary {
                written: 0,
                unchanged: 1
            },
            "no record equals an empty record"
        );
        ensure_eq!(
            store
                .clinical_record(ODS, "6", Section::Summary)
                .ctx("clinical_record")?,
            expected_view(&other, Section::Summary),
            "another patient's record is untouched"
        );
        Ok(())
    })
}

/// Clinical records are partitioned by practice: the same patient id in two
/// practices has two records, and nothing of one is read, replaced or
/// removed through the other.
pub fn clinical_records_are_partitioned<S: PracticeStore>(new_store: impl Fn() -> S) -> Outcome {
    named("clinical_records_are_partitioned", || {
        let store = loaded(&new_store)?;
        let mine = full_record("Mine");
        let theirs = full_record("Theirs");
        store
            .import(
                ODS,
                clinical_import(vec![("2", mine.clone()), ("3", mine.clone())]),
            )
            .ctx("import into A")?;
        let mut other = clinical_import(vec![("2", theirs.clone())]);
        other.practice = Some(PracticeRecord {
            asid: "900000000002".to_owned(),
            ..testkit::practice_record()
        });
        store.import(OTHER_ODS, other).ctx("import into B")?;
        for section in Section::ALL {
            ensure_eq!(
                store.clinical_record(ODS, "2", section).ctx("A's record")?,
                expected_view(&mine, section),
                "A's patient 2, section {}",
                section.code()
            );
            ensure_eq!(
                store
                    .clinical_record(OTHER_ODS, "2", section)
                    .ctx("B's record")?,
                expected_view(&theirs, section),
                "B's patient 2, section {}",
                section.code()
            );
        }
        for view in every_view(&store, OTHER_ODS, "3")? {
            ensure_eq!(view, ClinicalRecord::default(), "A's patient 3 through B");
        }
        store
            .import(
                OTHER_ODS,
                clinical_import(vec![("2", ClinicalRecord::default())]),
            )
            .ctx("empty B's record")?;
        ensure_eq!(
            store
                .clinical_record(ODS, "2", Section::Summary)
                .ctx("A's record")?,
            expected_view(&mine, Section::Summary),
            "A's record after B's was removed"
        );
        Ok(())
    })
}

/// Run every check against stores from `new_store` (each check gets fresh
/// stores) and return the failures.
pub fn run_all<S: PracticeStore, F: Fn() -> S>(new_store: F) -> Vec<Failure> {
    crate::conformance_tests! { @list run new_store }
}

/// One `#[test]` per conformance check, against stores from a factory
/// expression (a closure returning a fresh, empty store). See the
/// [`conformance`](crate::conformance) module docs.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests! { @list tests $factory }
    };
    (@list $mode:ident $factory:expr) => {
        $crate::conformance_tests! { @$mode $factory;
            import_and_read,
            unknown_practice,
            reimport_is_idempotent,
            import_updates_lookups,
            slot_range_query,
            slot_range_query_free_only,
            book_marks_slots_busy,
            book_busy_slot,
            book_stale_slot_version,
            book_unknown_slot,
            book_limit_reached,
            failed_booking_changes_nothing,
            amend_checks_version,
            amend_rejects_cancelled,
            cancel_checks_version,
            cancel_frees_slots,
            cancel_frees_only_held_slots,
            cancel_releases_limits,
            register_new_patient,
            register_duplicate_patient,
            reactivate_patient,
            update_patient_flags,
            patient_appointments_range,
            practices_are_partitioned,
            versions_and_ids_are_fresh,
            clinical_record_sections,
            clinical_record_without_one_is_empty,
            clinical_record_reimport_replaces,
            clinical_records_are_partitioned,
        }
    };
    (@tests $factory:expr; $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                if let ::std::result::Result::Err(failure) = $crate::conformance::$check($factory) {
                    panic!("{failure}");
                }
            }
        )*
    };
    (@run $factory:expr; $($check:ident),* $(,)?) => {{
        let mut failures = ::std::vec::Vec::new();
        $(
            if let ::std::result::Result::Err(failure) = $crate::conformance::$check(&$factory) {
                failures.push(failure);
            }
        )*
        failures
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_all_passes_on_the_reference_store() {
        let failures = run_all(crate::MemoryStore::new);
        assert!(failures.is_empty(), "{failures:#?}");
    }

    /// A store that forgets to free slots on cancel fails the right checks.
    #[test]
    fn the_suite_catches_a_broken_store() {
        #[derive(Debug, Default)]
        struct NoFree(crate::MemoryStore);
        macro_rules! delegate {
            ($($name:ident($($arg:ident: $t:ty),*) -> $r:ty;)*) => {
                $(fn $name(&self, $($arg: $t),*) -> $r { self.0.$name($($arg),*) })*
            };
        }
        impl PracticeStore for NoFree {
            delegate! {
                practice(ods: &str) -> StoreResult<Option<PracticeRecord>>;
                practices() -> StoreResult<Vec<String>>;
                patient(ods: &str, id: &str) -> StoreResult<Option<PatientRecord>>;
                patients_by_nhs_number(ods: &str, n: &str) -> StoreResult<Vec<PatientRecord>>;
                practitioner(ods: &str, id: &str) -> StoreResult<Option<PractitionerRecord>>;
                practitioners_by_sds_user_id(ods: &str, s: &str) -> StoreResult<Vec<PractitionerRecord>>;
                organization(ods: &str, id: &str) -> StoreResult<Option<OrganizationRecord>>;
                organizations_by_ods_code(ods: &str, c: &str) -> StoreResult<Vec<OrganizationRecord>>;
                location(ods: &str, id: &str) -> StoreResult<Option<LocationRecord>>;
                schedule(ods: &str, id: &str) -> StoreResult<Option<ScheduleRecord>>;
                slot(ods: &str, id: &str) -> StoreResult<Option<SlotRecord>>;
                slots(ods: &str, q: &SlotQuery<'_>) -> StoreResult<Vec<SlotRecord>>;
                appointment(ods: &str, id: &str) -> StoreResult<Option<AppointmentRecord>>;
                patient_appointments(ods: &str, p: &str, f: Timestamp, t: Timestamp) -> StoreResult<Vec<AppointmentRecord>>;
                book(ods: &str, b: NewBooking) -> StoreResult<AppointmentRecord>;
                amend(ods: &str, c: AppointmentChange) -> StoreResult<AppointmentRecord>;
                register_patient(ods: &str, r: PatientRegistration) -> StoreResult<PatientRecord>;
                update_patient_flags(ods: &str, id: &str, v: u64, f: PatientFlags) -> StoreResult<PatientRecord>;
                clinical_record(ods: &str, p: &str, s: Section) -> StoreResult<ClinicalRecord>;
                import(ods: &str, i: PracticeImport) -> StoreResult<ImportSummary>;
            }
            fn cancel(&self, ods: &str, c: AppointmentChange) -> StoreResult<AppointmentRecord> {
                // Cancels by amending: the slots stay busy.
                let mut a = self.0.amend(ods, c)?;
                a.status = AppointmentStatus::Cancelled;
                Ok(a)
            }
        }
        let failures = run_all(NoFree::default);
        let names: Vec<_> = failures.iter().map(|f| f.check).collect();
        assert!(names.contains(&"cancel_frees_slots"), "{names:?}");
        assert!(names.contains(&"cancel_releases_limits"), "{names:?}");
        assert!(!names.contains(&"import_and_read"), "{names:?}");
    }

    /// A store that answers every section with the whole record, and never
    /// removes a record on an empty re-import, fails the clinical checks.
    #[test]
    fn the_suite_catches_a_sloppy_clinical_store() {
        #[derive(Debug, Default)]
        struct Sloppy(crate::MemoryStore);
        macro_rules! delegate {
            ($($name:ident($($arg:ident: $t:ty),*) -> $r:ty;)*) => {
                $(fn $name(&self, $($arg: $t),*) -> $r { self.0.$name($($arg),*) })*
            };
        }
        impl PracticeStore for Sloppy {
            delegate! {
                practice(ods: &str) -> StoreResult<Option<PracticeRecord>>;
                practices() -> StoreResult<Vec<String>>;
                patient(ods: &str, id: &str) -> StoreResult<Option<PatientRecord>>;
                patients_by_nhs_number(ods: &str, n: &str) -> StoreResult<Vec<PatientRecord>>;
                practitioner(ods: &str, id: &str) -> StoreResult<Option<PractitionerRecord>>;
                practitioners_by_sds_user_id(ods: &str, s: &str) -> StoreResult<Vec<PractitionerRecord>>;
                organization(ods: &str, id: &str) -> StoreResult<Option<OrganizationRecord>>;
                organizations_by_ods_code(ods: &str, c: &str) -> StoreResult<Vec<OrganizationRecord>>;
                location(ods: &str, id: &str) -> StoreResult<Option<LocationRecord>>;
                schedule(ods: &str, id: &str) -> StoreResult<Option<ScheduleRecord>>;
                slot(ods: &str, id: &str) -> StoreResult<Option<SlotRecord>>;
                slots(ods: &str, q: &SlotQuery<'_>) -> StoreResult<Vec<SlotRecord>>;
                appointment(ods: &str, id: &str) -> StoreResult<Option<AppointmentRecord>>;
                patient_appointments(ods: &str, p: &str, f: Timestamp, t: Timestamp) -> StoreResult<Vec<AppointmentRecord>>;
                book(ods: &str, b: NewBooking) -> StoreResult<AppointmentRecord>;
                amend(ods: &str, c: AppointmentChange) -> StoreResult<AppointmentRecord>;
                cancel(ods: &str, c: AppointmentChange) -> StoreResult<AppointmentRecord>;
                register_patient(ods: &str, r: PatientRegistration) -> StoreResult<PatientRecord>;
                update_patient_flags(ods: &str, id: &str, v: u64, f: PatientFlags) -> StoreResult<PatientRecord>;
            }
            fn clinical_record(
                &self,
                ods: &str,
                p: &str,
                _: Section,
            ) -> StoreResult<ClinicalRecord> {
                // Every list, whatever the section.
                let mut all = ClinicalRecord::default();
                for s in Section::ALL {
                    let view = self.0.clinical_record(ods, p, s)?;
                    for list in ClinicalList::ALL {
                        if !list.is_empty_in(&view) {
                            list.copy(&view, &mut all);
                        }
                    }
                }
                Ok(all)
            }
            fn import(&self, ods: &str, mut i: PracticeImport) -> StoreResult<ImportSummary> {
                i.clinical_records
                    .retain(|r| r.record != ClinicalRecord::default());
                self.0.import(ods, i)
            }
        }
        let failures = run_all(Sloppy::default);
        let names: Vec<_> = failures.iter().map(|f| f.check).collect();
        assert!(names.contains(&"clinical_record_sections"), "{names:?}");
        assert!(
            names.contains(&"clinical_record_reimport_replaces"),
            "{names:?}"
        );
        assert!(
            names.contains(&"clinical_records_are_partitioned"),
            "{names:?}"
        );
        assert!(!names.contains(&"book_marks_slots_busy"), "{names:?}");
    }
}
