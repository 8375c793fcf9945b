//! An example host adapter: the port over plain tables, written the way a GP
//! system's adapter over its own database would be.
//!
//! [`TableStore`] keeps one table per record type as a `Vec` of rows, each
//! row carrying its practice's ODS code as a column; lookups are `WHERE`
//! scans and sorts, sequences are columns of a one-row table, and a command
//! is a transaction: it works on a copy of the tables and commits by
//! swapping the copy in, so a failed command rolls back whatever it did,
//! however it failed. It is deliberately simple and slow (every command
//! copies the database), and shares no code with
//! [`MemoryStore`](crate::MemoryStore) or [`SledStore`](crate::SledStore):
//! it exists so the [conformance suite](crate::conformance) runs against a
//! third, independently written backend and tests the port's contract
//! rather than one implementation. Not for production use.

use std::sync::{Mutex, PoisonError};

use gpconnect_core::store::*;
use gpconnect_render::{ClinicalRecord, Section};
use jiff::Timestamp;

/// A row of a per-practice table.
#[derive(Debug, Clone)]
struct Row<T> {
    ods: String,
    record: T,
}

/// A slot-count limit counter row.
#[derive(Debug, Clone)]
struct CounterRow {
    ods: String,
    key: String,
    used: u32,
}

/// A row of the clinical-record table: one list of one patient's record,
/// as JSON text (no row for an empty list).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClinicalRow {
    ods: String,
    patient_id: String,
    /// The list's name (`encounters`, `clinicalItems`, ...).
    list: &'static str,
    json: Vec<u8>,
}

/// A record with a logical id and a store-assigned version.
trait Keyed: Clone + PartialEq {
    fn id(&self) -> &str;
    fn version_mut(&mut self) -> &mut u64;
}

macro_rules! keyed {
    ($($t:ty),*) => {$(
        impl Keyed for $t {
            fn id(&self) -> &str {
                &self.id
            }
            fn version_mut(&mut self) -> &mut u64 {
                &mut self.version
            }
        }
    )*};
}

keyed!(
    OrganizationRecord,
    LocationRecord,
    PractitionerRecord,
    PatientRecord,
    ScheduleRecord,
    SlotRecord,
    AppointmentRecord
);

/// The database: tables and sequences.
#[derive(Debug, Clone, Default)]
struct Tables {
    practices: Vec<PracticeRecord>,
    organizations: Vec<Row<OrganizationRecord>>,
    locations: Vec<Row<LocationRecord>>,
    practitioners: Vec<Row<PractitionerRecord>>,
    patients: Vec<Row<PatientRecord>>,
    schedules: Vec<Row<ScheduleRecord>>,
    slots: Vec<Row<SlotRecord>>,
    appointments: Vec<Row<AppointmentRecord>>,
    counters: Vec<CounterRow>,
    clinical: Vec<ClinicalRow>,
    version_seq: u64,
    appointment_seq: u64,
    patient_seq: u64,
}

impl Tables {
    fn next_version(&mut self) -> u64 {
        self.version_seq += 1;
        self.version_seq
    }

    fn has_practice(&self, ods: &str) -> bool {
        self.practices.iter().any(|p| p.ods_code == ods)
    }
}

/// `SELECT record FROM table WHERE ods = ? AND id = ?`.
fn find<'t, T: Keyed>(table: &'t [Row<T>], ods: &str, id: &str) -> Option<&'t T> {
    table
        .iter()
        .find(|r| r.ods == ods && r.record.id() == id)
        .map(|r| &r.record)
}

fn find_mut<'t, T: Keyed>(table: &'t mut [Row<T>], ods: &str, id: &str) -> Option<&'t mut T> {
    table
        .iter_mut()
        .find(|r| r.ods == ods && r.record.id() == id)
        .map(|r| &mut r.record)
}

/// `SELECT record FROM table WHERE ods = ? AND keep(record) ORDER BY id`.
fn select<T: Keyed>(table: &[Row<T>], ods: &str, keep: impl Fn(&T) -> bool) -> Vec<T> {
    let mut out: Vec<T> = table
        .iter()
        .filter(|r| r.ods == ods && keep(&r.record))
        .map(|r| r.record.clone())
        .collect();
    out.sort_by(|a, b| a.id().cmp(b.id()));
    out
}

/// `INSERT … ON CONFLICT (ods, id) DO UPDATE`, keeping the version when the
/// row is otherwise identical. Returns whether it wrote.
fn merge<T: Keyed>(table: &mut Vec<Row<T>>, seq: &mut u64, ods: &str, mut incoming: T) -> bool {
    let position = table
        .iter()
        .position(|r| r.ods == ods && r.record.id() == incoming.id());
    match position {
        Some(i) => {
            let mut existing = table[i].record.clone();
            *incoming.version_mut() = *existing.version_mut();
            if incoming == existing {
                return false;
            }
            *seq += 1;
            *incoming.version_mut() = *seq;
            table[i].record = incoming;
            true
        }
        None => {
            *seq += 1;
            *incoming.version_mut() = *seq;
            table.push(Row {
                ods: ods.to_owned(),
                record: incoming,
            });
            true
        }
    }
}

/// The example table-shaped adapter (see the module docs).
#[derive(Debug, Default)]
pub struct TableStore {
    db: Mutex<Tables>,
}

impl TableStore {
    /// An empty database.
    pub fn new() -> Self {
        Self::default()
    }

    /// A read-only query on practice `ods`.
    fn query<T>(&self, ods: &str, f: impl FnOnce(&Tables) -> T) -> StoreResult<T> {
        let db = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        if !db.has_practice(ods) {
            return Err(StoreError::UnknownPractice(ods.to_owned()));
        }
        Ok(f(&db))
    }

    /// `BEGIN; f; COMMIT` on a copy; an error discards the copy (rollback).
    fn transaction<T>(&self, f: impl FnOnce(&mut Tables) -> StoreResult<T>) -> StoreResult<T> {
        let mut db = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        let mut work = db.clone();
        let out = f(&mut work)?;
        *db = work;
        Ok(out)
    }

    fn appointment_change(
        &self,
        ods: &str,
        change: AppointmentChange,
        cancel: bool,
    ) -> StoreResult<AppointmentRecord> {
        self.transaction(|db| {
            if !db.has_practice(ods) {
                return Err(StoreError::UnknownPractice(ods.to_owned()));
            }
            let version = db.version_seq + 1;
            let Some(row) = find_mut(&mut db.appointments, ods, &change.id) else {
                return Err(StoreError::NotFound {
                    kind: "Appointment",
                    id: change.id,
                });
            };
            if row.version != change.expected_version {
                return Err(StoreError::VersionConflict {
                    kind: "Appointment",
                    id: change.id,
                    expected: change.expected_version,
                    actual: row.version,
                });
            }
            if row.status == AppointmentStatus::Cancelled {
                let what = if cancel {
                    "is already cancelled"
                } else {
                    "is cancelled"
                };
                return Err(StoreError::Rejected(format!(
                    "Appointment/{} {what}",
                    change.id
                )));
            }
            row.resource = change.resource;
            row.last_modified = change.now;
            row.version = version;
            if cancel {
                row.status = AppointmentStatus::Cancelled;
            }
            let appointment = row.clone();
            db.version_seq = version;
            if cancel {
                // UPDATE slot SET status = free WHERE appointment_id = ?
                for slot in db.slots.iter_mut().filter(|r| {
                    r.ods == ods
                        && appointment.slot_ids.contains(&r.record.id)
                        && r.record.appointment_id.as_deref() == Some(appointment.id.as_str())
                }) {
                    slot.record.status = SlotStatus::Free;
                    slot.record.appointment_id = None;
                    slot.record.version = version;
                }
                let held = appointment.slot_ids.len() as u32;
                for key in &appointment.limit_keys {
                    if let Some(c) = db
                        .counters
                        .iter_mut()
                        .find(|c| c.ods == ods && &c.key == key)
                    {
                        c.used = c.used.saturating_sub(held);
                    }
                }
            }
            Ok(appointment)
        })
    }
}

impl PracticeStore for TableStore {
    fn clinical_record(
        &self,
        ods: &str,
        patient_id: &str,
        section: Section,
    ) -> StoreResult<ClinicalRecord> {
        let wanted = ClinicalList::for_section(section);
        // SELECT list, json FROM clinical
        //   WHERE ods = ? AND patient_id = ? AND list IN (...)
        let rows: Vec<ClinicalRow> = self.query(ods, |db| {
            db.clinical
                .iter()
                .filter(|r| {
                    r.ods == ods
                        && r.patient_id == patient_id
                        && wanted.iter().any(|l| l.name() == r.list)
                })
                .cloned()
                .collect()
        })?;
        let mut record = ClinicalRecord::default();
        for row in rows {
            let Some(list) = wanted.iter().find(|l| l.name() == row.list) else {
                continue;
            };
            list.set_from_json(&mut record, &row.json).map_err(|e| {
                StoreError::Backend(format!("clinical row {} is corrupt: {e}", row.list))
            })?;
        }
        Ok(record)
    }

    fn practice(&self, ods: &str) -> StoreResult<Option<PracticeRecord>> {
        let db = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(db.practices.iter().find(|p| p.ods_code == ods).cloned())
    }

    fn practices(&self) -> StoreResult<Vec<String>> {
        let db = self.db.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<String> = db.practices.iter().map(|p| p.ods_code.clone()).collect();
        out.sort();
        Ok(out)
    }

    fn patient(&self, ods: &str, id: &str) -> StoreResult<Option<PatientRecord>> {
        self.query(ods, |db| find(&db.patients, ods, id).cloned())
    }

    fn patients_by_nhs_number(
        &self,
        ods: &str,
        nhs_number: &str,
    ) -> StoreResult<Vec<PatientRecord>> {
        self.query(ods, |db| {
            select(&db.patients, ods, |p| p.nhs_number == nhs_number)
        })
    }

    fn practitioner(&self, ods: &str, id: &str) -> StoreResult<Option<PractitionerRecord>> {
        self.query(ods, |db| find(&db.practitioners, ods, id).cloned())
    }

    fn practitioners_by_sds_user_id(
        &self,
        ods: &str,
        sds_user_id: &str,
    ) -> StoreResult<Vec<PractitionerRecord>> {
        self.query(ods, |db| {
            select(&db.practitioners, ods, |p| {
                p.sds_user_ids.iter().any(|s| s == sds_user_id)
            })
        })
    }

    fn organization(&self, ods: &str, id: &str) -> StoreResult<Option<OrganizationRecord>> {
        self.query(ods, |db| find(&db.organizations, ods, id).cloned())
    }

    fn organizations_by_ods_code(
        &self,
        ods: &str,
        ods_code: &str,
    ) -> StoreResult<Vec<OrganizationRecord>> {
        self.query(ods, |db| {
            select(&db.organizations, ods, |o| o.ods_code == ods_code)
        })
    }

    fn location(&self, ods: &str, id: &str) -> StoreResult<Option<LocationRecord>> {
        self.query(ods, |db| find(&db.locations, ods, id).cloned())
    }

    fn schedule(&self, ods: &str, id: &str) -> StoreResult<Option<ScheduleRecord>> {
        self.query(ods, |db| find(&db.schedules, ods, id).cloned())
    }

    fn slot(&self, ods: &str, id: &str) -> StoreResult<Option<SlotRecord>> {
        self.query(ods, |db| find(&db.slots, ods, id).cloned())
    }

    fn slots(&self, ods: &str, query: &SlotQuery<'_>) -> StoreResult<Vec<SlotRecord>> {
        if query.from >= query.to {
            return Ok(Vec::new());
        }
        self.query(ods, |db| {
            let mut out = select(&db.slots, ods, |s| {
                s.start >= query.from
                    && s.start < query.to
                    && query.schedule_id.is_none_or(|id| s.schedule_id == id)
                    && (!query.free_only || s.status == SlotStatus::Free)
            });
            out.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
            out
        })
    }

    fn appointment(&self, ods: &str, id: &str) -> StoreResult<Option<AppointmentRecord>> {
        self.query(ods, |db| find(&db.appointments, ods, id).cloned())
    }

    fn patient_appointments(
        &self,
        ods: &str,
        patient_id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<AppointmentRecord>> {
        if from >= to {
            return Ok(Vec::new());
        }
        self.query(ods, |db| {
            let mut out = select(&db.appointments, ods, |a| {
                a.patient_id == patient_id && a.start >= from && a.start < to
            });
            out.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
            out
        })
    }

    fn book(&self, ods: &str, booking: NewBooking) -> StoreResult<AppointmentRecord> {
        self.transaction(|db| {
            if !db.has_practice(ods) {
                return Err(StoreError::UnknownPractice(ods.to_owned()));
            }
            for (slot_id, version) in &booking.slots {
                match find(&db.slots, ods, slot_id) {
                    None => {
                        return Err(StoreError::NotFound {
                            kind: "Slot",
                            id: slot_id.clone(),
                        });
                    }
                    Some(s) if s.status != SlotStatus::Free || s.version != *version => {
                        return Err(StoreError::SlotUnavailable {
                            slot_id: slot_id.clone(),
                        });
                    }
                    Some(_) => {}
                }
            }
            let held = booking.slots.len() as u32;
            for limit in &booking.limits {
                let used = db
                    .counters
                    .iter()
                    .find(|c| c.ods == ods && c.key == limit.key)
                    .map_or(0, |c| c.used);
                if used.saturating_add(held) > limit.max {
                    return Err(StoreError::LimitReached {
                        key: limit.key.clone(),
                    });
                }
            }
            db.appointment_seq += 1;
            let id = db.appointment_seq.to_string();
            let version = db.next_version();
            for (slot_id, _) in &booking.slots {
                if let Some(slot) = find_mut(&mut db.slots, ods, slot_id) {
                    slot.status = SlotStatus::Busy;
                    slot.appointment_id = Some(id.clone());
                    slot.version = version;
                }
            }
            for limit in &booking.limits {
                match db
                    .counters
                    .iter_mut()
                    .find(|c| c.ods == ods && c.key == limit.key)
                {
                    Some(c) => c.used = c.used.saturating_add(held),
                    None => db.counters.push(CounterRow {
                        ods: ods.to_owned(),
                        key: limit.key.clone(),
                        used: held,
                    }),
                }
            }
            let record = AppointmentRecord {
                id,
                version,
                status: AppointmentStatus::Booked,
                patient_id: booking.patient_id,
                slot_ids: booking.slots.into_iter().map(|(s, _)| s).collect(),
                start: booking.start,
                end: booking.end,
                booking_ods: booking.booking_ods,
                limit_keys: booking.limits.into_iter().map(|l| l.key).collect(),
                last_modified: booking.now,
                resource: booking.resource,
            };
            db.appointments.push(Row {
                ods: ods.to_owned(),
                record: record.clone(),
            });
            Ok(record)
        })
    }

    fn amend(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord> {
        self.appointment_change(ods, change, false)
    }

    fn cancel(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord> {
        self.appointment_change(ods, change, true)
    }

    fn register_patient(
        &self,
        ods: &str,
        registration: PatientRegistration,
    ) -> StoreResult<PatientRecord> {
        self.transaction(|db| {
            if !db.has_practice(ods) {
                return Err(StoreError::UnknownPractice(ods.to_owned()));
            }
            match registration {
                PatientRegistration::New {
                    nhs_number,
                    resource,
                    flags,
                } => {
                    if db
                        .patients
                        .iter()
                        .any(|r| r.ods == ods && r.record.nhs_number == nhs_number)
                    {
                        return Err(StoreError::DuplicatePatient);
                    }
                    let id = loop {
                        db.patient_seq += 1;
                        let id = format!("p{}", db.patient_seq);
                        if find(&db.patients, ods, &id).is_none() {
                            break id;
                        }
                    };
                    let record = PatientRecord {
                        id,
                        version: db.next_version(),
                        nhs_number,
                        resource,
                        flags,
                    };
                    db.patients.push(Row {
                        ods: ods.to_owned(),
                        record: record.clone(),
                    });
                    Ok(record)
                }
                PatientRegistration::Reactivate {
                    id,
                    expected_version,
                    resource,
                    flags,
                } => {
                    let version = db.version_seq + 1;
                    let Some(row) = find_mut(&mut db.patients, ods, &id) else {
                        return Err(StoreError::NotFound {
                            kind: "Patient",
                            id,
                        });
                    };
                    if row.version != expected_version {
                        return Err(StoreError::VersionConflict {
                            kind: "Patient",
                            id,
                            expected: expected_version,
                            actual: row.version,
                        });
                    }
                    row.resource = resource;
                    row.flags = flags;
                    row.version = version;
                    let record = row.clone();
                    db.version_seq = version;
                    Ok(record)
                }
            }
        })
    }

    fn update_patient_flags(
        &self,
        ods: &str,
        id: &str,
        expected_version: u64,
        flags: PatientFlags,
    ) -> StoreResult<PatientRecord> {
        self.transaction(|db| {
            if !db.has_practice(ods) {
                return Err(StoreError::UnknownPractice(ods.to_owned()));
            }
            let version = db.version_seq + 1;
            let Some(row) = find_mut(&mut db.patients, ods, id) else {
                return Err(StoreError::NotFound {
                    kind: "Patient",
                    id: id.to_owned(),
                });
            };
            if row.version != expected_version {
                return Err(StoreError::VersionConflict {
                    kind: "Patient",
                    id: id.to_owned(),
                    expected: expected_version,
                    actual: row.version,
                });
            }
            row.flags = flags;
            row.version = version;
            let record = row.clone();
            db.version_seq = version;
            Ok(record)
        })
    }

    fn import(&self, ods: &str, import: PracticeImport) -> StoreResult<ImportSummary> {
        self.transaction(|db| {
            let mut summary = ImportSummary::default();
            let mut count = |wrote: bool| {
                if wrote {
                    summary.written += 1;
                } else {
                    summary.unchanged += 1;
                }
            };
            if let Some(mut incoming) = import.practice {
                incoming.ods_code = ods.to_owned();
                match db.practices.iter_mut().find(|p| p.ods_code == ods) {
                    Some(existing) => {
                        incoming.version = existing.version;
                        if *existing == incoming {
                            count(false);
                        } else {
                            db.version_seq += 1;
                            incoming.version = db.version_seq;
                            *existing = incoming;
                            count(true);
                        }
                    }
                    None => {
                        db.version_seq += 1;
                        incoming.version = db.version_seq;
                        db.practices.push(incoming);
                        count(true);
                    }
                }
            }
            if !db.has_practice(ods) {
                return Err(StoreError::UnknownPractice(ods.to_owned()));
            }
            let seq = &mut db.version_seq;
            for r in import.organizations {
                count(merge(&mut db.organizations, seq, ods, r));
            }
            for r in import.locations {
                count(merge(&mut db.locations, seq, ods, r));
            }
            for r in import.practitioners {
                count(merge(&mut db.practitioners, seq, ods, r));
            }
            for r in import.patients {
                count(merge(&mut db.patients, seq, ods, r));
            }
            for r in import.schedules {
                count(merge(&mut db.schedules, seq, ods, r));
            }
            for r in import.slots {
                count(merge(&mut db.slots, seq, ods, r));
            }
            for r in import.appointments {
                if let Ok(n) = r.id.parse::<u64>() {
                    db.appointment_seq = db.appointment_seq.max(n);
                }
                count(merge(&mut db.appointments, seq, ods, r));
            }
            for r in import.clinical_records {
                // DELETE the patient's rows, INSERT the new ones; the
                // record changed if the rows did.
                let mut rows = Vec::new();
                for list in ClinicalList::ALL {
                    let json = list.to_json(&r.record).map_err(|e| {
                        StoreError::Backend(format!("encoding clinical list {}: {e}", list.name()))
                    })?;
                    if let Some(json) = json {
                        rows.push(ClinicalRow {
                            ods: ods.to_owned(),
                            patient_id: r.patient_id.clone(),
                            list: list.name(),
                            json,
                        });
                    }
                }
                let mine = |row: &ClinicalRow| row.ods == ods && row.patient_id == r.patient_id;
                let mut old: Vec<ClinicalRow> = db
                    .clinical
                    .iter()
                    .filter(|row| mine(row))
                    .cloned()
                    .collect();
                old.sort_by_key(|row| row.list);
                let mut new = rows.clone();
                new.sort_by_key(|row| row.list);
                count(old != new);
                db.clinical.retain(|row| !mine(row));
                db.clinical.extend(rows);
            }
            Ok(summary)
        })
    }
}
