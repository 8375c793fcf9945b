//! The in-memory store: the reference implementation of the port.
//!
//! One lock guards everything, so every command is trivially atomic; reads
//! take it shared. It lives in `core` (not `storage`) because it defines the
//! port's semantics and core's own operation tests need it; the `storage`
//! crate re-exports it and runs the conformance suite against it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{PoisonError, RwLock};

use jiff::Timestamp;

use super::*;

#[derive(Debug, Default)]
struct Practice {
    record: Option<PracticeRecord>,
    organizations: BTreeMap<String, OrganizationRecord>,
    locations: BTreeMap<String, LocationRecord>,
    practitioners: BTreeMap<String, PractitionerRecord>,
    patients: BTreeMap<String, PatientRecord>,
    schedules: BTreeMap<String, ScheduleRecord>,
    slots: SlotTable,
    appointments: BTreeMap<String, AppointmentRecord>,
    /// (patient id, start, appointment id).
    appointments_by_patient: BTreeSet<(String, Timestamp, String)>,
    /// Slot-count limit counters (R12).
    counters: HashMap<String, u32>,
    /// Clinical records by patient id (never an empty record: importing
    /// one removes the patient's).
    clinical_records: BTreeMap<String, gpconnect_render::ClinicalRecord>,
}

#[derive(Debug, Default)]
struct Inner {
    practices: HashMap<String, Practice>,
    last_version: u64,
    last_appointment_id: u64,
    last_patient_id: u64,
}

impl Inner {
    fn next_version(&mut self) -> u64 {
        self.last_version += 1;
        self.last_version
    }
}

/// Every record in memory (see the module docs).
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn read<T>(&self, ods: &str, f: impl FnOnce(&Practice) -> T) -> StoreResult<T> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        match inner.practices.get(ods) {
            Some(p) if p.record.is_some() => Ok(f(p)),
            _ => Err(StoreError::UnknownPractice(ods.to_owned())),
        }
    }

    fn write<T>(
        &self,
        ods: &str,
        f: impl FnOnce(&mut Practice, &mut Inner) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let mut guard = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let inner = &mut *guard;
        let mut practice = match inner.practices.remove(ods) {
            Some(p) if p.record.is_some() => p,
            Some(p) => {
                inner.practices.insert(ods.to_owned(), p);
                return Err(StoreError::UnknownPractice(ods.to_owned()));
            }
            None => return Err(StoreError::UnknownPractice(ods.to_owned())),
        };
        // `f` validates before it mutates, so an error leaves `practice` intact.
        let result = f(&mut practice, inner);
        inner.practices.insert(ods.to_owned(), practice);
        result
    }
}

fn appointment_not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        kind: "Appointment",
        id: id.to_owned(),
    }
}

fn check_version(kind: &'static str, id: &str, expected: u64, actual: u64) -> StoreResult<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(StoreError::VersionConflict {
            kind,
            id: id.to_owned(),
            expected,
            actual,
        })
    }
}

/// Upsert keeping the version when nothing but the version differs.
fn upsert<T: Clone + PartialEq>(
    map: &mut BTreeMap<String, T>,
    id: &str,
    mut incoming: T,
    version: impl Fn(&mut T) -> &mut u64,
    inner: &mut Inner,
    summary: &mut ImportSummary,
) {
    if let Some(existing) = map.get(id) {
        *version(&mut incoming) = *version(&mut existing.clone());
        if *existing == incoming {
            summary.unchanged += 1;
            return;
        }
    }
    *version(&mut incoming) = inner.next_version();
    map.insert(id.to_owned(), incoming);
    summary.written += 1;
}

impl Practice {
    fn index_appointment(&mut self, a: &AppointmentRecord) {
        self.appointments_by_patient
            .insert((a.patient_id.clone(), a.start, a.id.clone()));
    }

    fn unindex_appointment(&mut self, a: &AppointmentRecord) {
        self.appointments_by_patient
            .remove(&(a.patient_id.clone(), a.start, a.id.clone()));
    }

    /// The booked appointment a change names, at the version it expects
    /// (R30, R37); a cancelled one is refused (R29, R41).
    fn booked_appointment(
        &self,
        change: &AppointmentChange,
        if_cancelled: &str,
    ) -> StoreResult<&AppointmentRecord> {
        let current = self
            .appointments
            .get(&change.id)
            .ok_or_else(|| appointment_not_found(&change.id))?;
        check_version(
            "Appointment",
            &change.id,
            change.expected_version,
            current.version,
        )?;
        if current.status == AppointmentStatus::Cancelled {
            return Err(StoreError::Rejected(format!(
                "Appointment/{} {if_cancelled}",
                change.id
            )));
        }
        Ok(current)
    }

    fn slot(&self, id: &str) -> Option<&SlotRecord> {
        self.slots.get(id)
    }
}

/// A practice's slots, laid out for the range read of slot search, which
/// reads thousands of slots per query while commands touch one or two.
///
/// The records sit in one `Vec` sorted by (start, id), with their starts
/// and free flags in parallel `Vec`s: a range is two binary searches over
/// `starts`, and a free-only read walks the one-byte flags, touching only
/// the records it returns, in memory order. (A `BTreeMap` keyed by (start,
/// id) touched every record in the range, free or busy, and once the
/// practice outgrew the CPU cache each of those was a cache miss: the
/// 100,800-slot search cost 30 times the 21,000-slot one.)
///
/// Commands never change a slot's start or id, so they update a record in
/// place; only import can add slots or move one, and it re-sorts once at
/// the end ([`SlotTable::finish_import`]).
#[derive(Debug, Default)]
struct SlotTable {
    /// Every slot; sorted by (start, id) outside an import.
    records: Vec<SlotRecord>,
    /// `records[i].start`.
    starts: Vec<Timestamp>,
    /// `records[i].status == SlotStatus::Free`.
    free: Vec<bool>,
    /// Each slot's position in `records`.
    by_id: HashMap<String, usize>,
    /// An import added a slot or moved one: `records` needs sorting.
    unsorted: bool,
}

impl SlotTable {
    fn get(&self, id: &str) -> Option<&SlotRecord> {
        self.by_id.get(id).map(|&i| &self.records[i])
    }

    /// Change a slot's status, holder or version (never its start or id,
    /// which place it).
    fn update(&mut self, id: &str, f: impl FnOnce(&mut SlotRecord)) {
        let Some(&i) = self.by_id.get(id) else { return };
        let slot = &mut self.records[i];
        f(slot);
        debug_assert!(slot.id == id && slot.start == self.starts[i]);
        self.free[i] = slot.status == SlotStatus::Free;
    }

    /// Insert or replace a slot during an import; lookups by id keep
    /// working, range reads wait for [`Self::finish_import`].
    fn put(&mut self, slot: SlotRecord) {
        let free = slot.status == SlotStatus::Free;
        match self.by_id.get(&slot.id) {
            Some(&i) => {
                if self.starts[i] != slot.start {
                    self.starts[i] = slot.start;
                    self.unsorted = true;
                }
                self.free[i] = free;
                self.records[i] = slot;
            }
            None => {
                self.by_id.insert(slot.id.clone(), self.records.len());
                self.starts.push(slot.start);
                self.free.push(free);
                self.records.push(slot);
                self.unsorted = true;
            }
        }
    }

    /// Restore the (start, id) order after an import's [`Self::put`]s.
    fn finish_import(&mut self) {
        if !std::mem::take(&mut self.unsorted) {
            return;
        }
        self.records
            .sort_unstable_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
        self.starts = self.records.iter().map(|s| s.start).collect();
        self.free = self
            .records
            .iter()
            .map(|s| s.status == SlotStatus::Free)
            .collect();
        for (i, s) in self.records.iter().enumerate() {
            if let Some(at) = self.by_id.get_mut(&s.id) {
                *at = i;
            }
        }
    }

    /// The slots the query asks for, by start then id.
    fn query(&self, query: &SlotQuery<'_>) -> Vec<SlotRecord> {
        let lo = self.starts.partition_point(|s| *s < query.from);
        let hi = lo + self.starts[lo..].partition_point(|s| *s < query.to);
        let wanted = |i: usize| {
            (!query.free_only || self.free[i])
                && query
                    .schedule_id
                    .is_none_or(|sid| self.records[i].schedule_id == sid)
        };
        // Size the answer exactly when the flags alone decide it (the
        // common case: every free slot in a window), so collecting never
        // re-allocates and copies a multi-megabyte Vec.
        let capacity = match (query.schedule_id, query.free_only) {
            (Some(_), _) => 0,
            (None, true) => self.free[lo..hi].iter().filter(|f| **f).count(),
            (None, false) => hi - lo,
        };
        let mut out = Vec::with_capacity(capacity);
        out.extend(
            (lo..hi)
                .filter(|&i| wanted(i))
                .map(|i| self.records[i].clone()),
        );
        out
    }
}

impl PracticeStore for MemoryStore {
    fn practice(&self, ods: &str) -> StoreResult<Option<PracticeRecord>> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        Ok(inner.practices.get(ods).and_then(|p| p.record.clone()))
    }

    fn practices(&self) -> StoreResult<Vec<String>> {
        let inner = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<String> = inner
            .practices
            .iter()
            .filter(|(_, p)| p.record.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        out.sort();
        Ok(out)
    }

    fn patient(&self, ods: &str, id: &str) -> StoreResult<Option<PatientRecord>> {
        self.read(ods, |p| p.patients.get(id).cloned())
    }

    fn patients_by_nhs_number(
        &self,
        ods: &str,
        nhs_number: &str,
    ) -> StoreResult<Vec<PatientRecord>> {
        self.read(ods, |p| {
            p.patients
                .values()
                .filter(|r| r.nhs_number == nhs_number)
                .cloned()
                .collect()
        })
    }

    fn practitioner(&self, ods: &str, id: &str) -> StoreResult<Option<PractitionerRecord>> {
        self.read(ods, |p| p.practitioners.get(id).cloned())
    }

    fn practitioners_by_sds_user_id(
        &self,
        ods: &str,
        sds_user_id: &str,
    ) -> StoreResult<Vec<PractitionerRecord>> {
        self.read(ods, |p| {
            p.practitioners
                .values()
                .filter(|r| r.sds_user_ids.iter().any(|s| s == sds_user_id))
                .cloned()
                .collect()
        })
    }

    fn organization(&self, ods: &str, id: &str) -> StoreResult<Option<OrganizationRecord>> {
        self.read(ods, |p| p.organizations.get(id).cloned())
    }

    fn organizations_by_ods_code(
        &self,
        ods: &str,
        ods_code: &str,
    ) -> StoreResult<Vec<OrganizationRecord>> {
        self.read(ods, |p| {
            p.organizations
                .values()
                .filter(|r| r.ods_code == ods_code)
                .cloned()
                .collect()
        })
    }

    fn location(&self, ods: &str, id: &str) -> StoreResult<Option<LocationRecord>> {
        self.read(ods, |p| p.locations.get(id).cloned())
    }

    fn schedule(&self, ods: &str, id: &str) -> StoreResult<Option<ScheduleRecord>> {
        self.read(ods, |p| p.schedules.get(id).cloned())
    }

    fn slot(&self, ods: &str, id: &str) -> StoreResult<Option<SlotRecord>> {
        self.read(ods, |p| p.slot(id).cloned())
    }

    fn slots(&self, ods: &str, query: &SlotQuery<'_>) -> StoreResult<Vec<SlotRecord>> {
        if query.from >= query.to {
            return Ok(Vec::new());
        }
        self.read(ods, |p| p.slots.query(query))
    }

    fn appointment(&self, ods: &str, id: &str) -> StoreResult<Option<AppointmentRecord>> {
        self.read(ods, |p| p.appointments.get(id).cloned())
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
        self.read(ods, |p| {
            let lo = (patient_id.to_owned(), from, String::new());
            let hi = (patient_id.to_owned(), to, String::new());
            p.appointments_by_patient
                .range(lo..hi)
                .filter_map(|(_, _, id)| p.appointments.get(id))
                .cloned()
                .collect()
        })
    }

    fn clinical_record(
        &self,
        ods: &str,
        patient_id: &str,
        section: gpconnect_render::Section,
    ) -> StoreResult<gpconnect_render::ClinicalRecord> {
        self.read(ods, |p| {
            p.clinical_records
                .get(patient_id)
                .map(|r| section_view(r, section))
                .unwrap_or_default()
        })
    }

    fn book(&self, ods: &str, booking: NewBooking) -> StoreResult<AppointmentRecord> {
        self.write(ods, |p, inner| {
            // Validate everything first: a failed booking changes nothing.
            for (slot_id, version) in &booking.slots {
                let slot = p.slot(slot_id).ok_or_else(|| StoreError::NotFound {
                    kind: "Slot",
                    id: slot_id.clone(),
                })?;
                if slot.status != SlotStatus::Free || slot.version != *version {
                    return Err(StoreError::SlotUnavailable {
                        slot_id: slot_id.clone(),
                    });
                }
            }
            let held = booking.slots.len() as u32;
            for limit in &booking.limits {
                let used = p.counters.get(&limit.key).copied().unwrap_or(0);
                if used.saturating_add(held) > limit.max {
                    return Err(StoreError::LimitReached {
                        key: limit.key.clone(),
                    });
                }
            }
            inner.last_appointment_id += 1;
            let id = inner.last_appointment_id.to_string();
            let version = inner.next_version();
            for (slot_id, _) in &booking.slots {
                p.slots.update(slot_id, |slot| {
                    slot.status = SlotStatus::Busy;
                    slot.appointment_id = Some(id.clone());
                    slot.version = version;
                });
            }
            for limit in &booking.limits {
                *p.counters.entry(limit.key.clone()).or_insert(0) += held;
            }
            let record = AppointmentRecord {
                id: id.clone(),
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
            p.index_appointment(&record);
            p.appointments.insert(id, record.clone());
            Ok(record)
        })
    }

    fn amend(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord> {
        self.write(ods, |p, inner| {
            let mut record = p.booked_appointment(&change, "is cancelled")?.clone();
            record.resource = change.resource;
            record.last_modified = change.now;
            record.version = inner.next_version();
            p.appointments.insert(change.id, record.clone());
            Ok(record)
        })
    }

    fn cancel(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord> {
        self.write(ods, |p, inner| {
            let mut record = p
                .booked_appointment(&change, "is already cancelled")?
                .clone();
            let version = inner.next_version();
            for slot_id in &record.slot_ids {
                p.slots.update(slot_id, |slot| {
                    if slot.appointment_id.as_deref() == Some(record.id.as_str()) {
                        slot.status = SlotStatus::Free;
                        slot.appointment_id = None;
                        slot.version = version;
                    }
                });
            }
            let held = record.slot_ids.len() as u32;
            for key in &record.limit_keys {
                if let Some(n) = p.counters.get_mut(key) {
                    *n = n.saturating_sub(held);
                }
            }
            record.status = AppointmentStatus::Cancelled;
            record.resource = change.resource;
            record.last_modified = change.now;
            record.version = version;
            p.appointments.insert(change.id, record.clone());
            Ok(record)
        })
    }

    fn register_patient(
        &self,
        ods: &str,
        registration: PatientRegistration,
    ) -> StoreResult<PatientRecord> {
        self.write(ods, |p, inner| match registration {
            PatientRegistration::New {
                nhs_number,
                resource,
                flags,
            } => {
                if p.patients.values().any(|r| r.nhs_number == nhs_number) {
                    return Err(StoreError::DuplicatePatient);
                }
                inner.last_patient_id += 1;
                let mut id = format!("p{}", inner.last_patient_id);
                while p.patients.contains_key(&id) {
                    inner.last_patient_id += 1;
                    id = format!("p{}", inner.last_patient_id);
                }
                let record = PatientRecord {
                    id: id.clone(),
                    version: inner.next_version(),
                    nhs_number,
                    resource,
                    flags,
                };
                p.patients.insert(id, record.clone());
                Ok(record)
            }
            PatientRegistration::Reactivate {
                id,
                expected_version,
                resource,
                flags,
            } => {
                let current = p.patients.get(&id).ok_or_else(|| StoreError::NotFound {
                    kind: "Patient",
                    id: id.clone(),
                })?;
                check_version("Patient", &id, expected_version, current.version)?;
                let mut record = current.clone();
                record.resource = resource;
                record.flags = flags;
                record.version = inner.next_version();
                p.patients.insert(id, record.clone());
                Ok(record)
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
        self.write(ods, |p, inner| {
            let current = p.patients.get(id).ok_or_else(|| StoreError::NotFound {
                kind: "Patient",
                id: id.to_owned(),
            })?;
            check_version("Patient", id, expected_version, current.version)?;
            let mut record = current.clone();
            record.flags = flags;
            record.version = inner.next_version();
            p.patients.insert(id.to_owned(), record.clone());
            Ok(record)
        })
    }

    fn import(&self, ods: &str, import: PracticeImport) -> StoreResult<ImportSummary> {
        let mut guard = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let inner = &mut *guard;
        let mut practice = inner.practices.remove(ods).unwrap_or_default();
        let mut summary = ImportSummary::default();
        if let Some(mut record) = import.practice {
            record.ods_code = ods.to_owned();
            match &practice.record {
                Some(existing)
                    if PracticeRecord {
                        version: existing.version,
                        ..record.clone()
                    } == *existing =>
                {
                    summary.unchanged += 1;
                }
                _ => {
                    record.version = inner.next_version();
                    practice.record = Some(record);
                    summary.written += 1;
                }
            }
        }
        if practice.record.is_none() {
            inner.practices.insert(ods.to_owned(), practice);
            return Err(StoreError::UnknownPractice(ods.to_owned()));
        }
        macro_rules! upsert_all {
            ($($kind:ident),*) => {$(
                for r in import.$kind {
                    let id = r.id.clone();
                    upsert(&mut practice.$kind, &id, r, |r| &mut r.version, inner, &mut summary);
                }
            )*};
        }
        upsert_all!(organizations, locations, practitioners, patients, schedules);
        for r in import.slots {
            let id = r.id.clone();
            let before = practice.slot(&id).cloned();
            let mut staged = BTreeMap::new();
            if let Some(b) = before.clone() {
                staged.insert(id.clone(), b);
            }
            upsert(&mut staged, &id, r, |r| &mut r.version, inner, &mut summary);
            if let Some(slot) = staged.remove(&id) {
                if before.as_ref() != Some(&slot) {
                    practice.slots.put(slot);
                }
            }
        }
        practice.slots.finish_import();
        for r in import.appointments {
            let id = r.id.clone();
            if let Some(old) = practice.appointments.get(&id).cloned() {
                practice.unindex_appointment(&old);
            }
            upsert(
                &mut practice.appointments,
                &id,
                r,
                |r| &mut r.version,
                inner,
                &mut summary,
            );
            if let Some(new) = practice.appointments.get(&id).cloned() {
                practice.index_appointment(&new);
                if let Ok(n) = new.id.parse::<u64>() {
                    inner.last_appointment_id = inner.last_appointment_id.max(n);
                }
            }
        }
        for c in import.clinical_records {
            let stored = practice.clinical_records.get(&c.patient_id);
            if stored.map_or(c.record == Default::default(), |s| *s == c.record) {
                summary.unchanged += 1;
                continue;
            }
            if c.record == Default::default() {
                practice.clinical_records.remove(&c.patient_id);
            } else {
                practice.clinical_records.insert(c.patient_id, c.record);
            }
            summary.written += 1;
        }
        inner.practices.insert(ods.to_owned(), practice);
        Ok(summary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn store_with_slots(n: usize) -> MemoryStore {
        let store = MemoryStore::new();
        let slots = (0..n)
            .map(|i| SlotRecord {
                id: format!("s{i}"),
                version: 0,
                schedule_id: "sch".into(),
                start: ts("2026-12-01T09:00:00Z") + jiff::SignedDuration::from_mins(10 * i as i64),
                end: ts("2026-12-01T09:10:00Z") + jiff::SignedDuration::from_mins(10 * i as i64),
                status: SlotStatus::Free,
                appointment_id: None,
                delivery_channel: "In-person".into(),
                service_type: "General GP Appointment".into(),
                bookable: true,
                restrictions: SlotRestrictions::default(),
                booking_window: None,
            })
            .collect();
        store
            .import(
                "A00001",
                PracticeImport {
                    practice: Some(PracticeRecord {
                        ods_code: "A00001".into(),
                        asid: "900000000001".into(),
                        organization_id: "23".into(),
                        settings: PracticeSettings::default(),
                        version: 0,
                    }),
                    slots,
                    ..Default::default()
                },
            )
            .expect("import");
        store
    }

    /// Cancel `a` at its current version.
    fn cancel(store: &MemoryStore, a: &AppointmentRecord) -> AppointmentRecord {
        store
            .cancel(
                "A00001",
                AppointmentChange {
                    id: a.id.clone(),
                    expected_version: a.version,
                    resource: a.resource.clone(),
                    now: ts("2026-11-25T11:00:00Z"),
                },
            )
            .expect("cancel")
    }

    fn booking(store: &MemoryStore, slots: &[&str]) -> NewBooking {
        let slots = slots
            .iter()
            .map(|id| {
                let s = store.slot("A00001", id).expect("read").expect("slot");
                (s.id, s.version)
            })
            .collect();
        NewBooking {
            slots,
            patient_id: "2".into(),
            start: ts("2026-12-01T09:00:00Z"),
            end: ts("2026-12-01T09:10:00Z"),
            booking_ods: Some("B00002".into()),
            limits: vec![],
            now: ts("2026-11-25T10:00:00Z"),
            resource: stu3::Appointment::default(),
        }
    }

    #[test]
    fn r16_a_slot_is_booked_at_most_once() {
        let store = store_with_slots(2);
        let b = booking(&store, &["s0"]);
        let a = store.book("A00001", b.clone()).expect("first booking");
        assert_eq!(
            store.book("A00001", b),
            Err(StoreError::SlotUnavailable {
                slot_id: "s0".into()
            })
        );
        let slot = store.slot("A00001", "s0").expect("read").expect("slot");
        assert_eq!(slot.status, SlotStatus::Busy);
        assert_eq!(slot.appointment_id, Some(a.id));
    }

    #[test]
    fn a_failed_multi_slot_booking_changes_nothing() {
        let store = store_with_slots(2);
        store
            .book("A00001", booking(&store, &["s1"]))
            .expect("book s1");
        let before = store.slot("A00001", "s0").expect("read");
        let err = store.book("A00001", booking(&store, &["s0", "s1"]));
        assert!(matches!(err, Err(StoreError::SlotUnavailable { .. })));
        assert_eq!(store.slot("A00001", "s0").expect("read"), before);
    }

    #[test]
    fn r42_cancel_frees_the_slots_and_r37_checks_the_version() {
        let store = store_with_slots(1);
        let a = store
            .book("A00001", booking(&store, &["s0"]))
            .expect("book");
        let stale = AppointmentChange {
            id: a.id.clone(),
            expected_version: a.version + 1,
            resource: a.resource.clone(),
            now: ts("2026-11-25T11:00:00Z"),
        };
        assert!(matches!(
            store.cancel("A00001", stale),
            Err(StoreError::VersionConflict { .. })
        ));
        let c = cancel(&store, &a);
        assert_eq!(c.status, AppointmentStatus::Cancelled);
        assert!(c.version > a.version);
        let slot = store.slot("A00001", "s0").expect("read").expect("slot");
        assert_eq!((slot.status, slot.appointment_id), (SlotStatus::Free, None));
    }

    #[test]
    fn r12_slot_count_limit_is_enforced_and_released_on_cancel() {
        let store = store_with_slots(3);
        let limit = LimitCheck {
            key: "ods:B00002:2026-12-01".into(),
            max: 1,
        };
        let mut b = booking(&store, &["s0"]);
        b.limits = vec![limit.clone()];
        let a = store.book("A00001", b).expect("first within limit");
        let mut b = booking(&store, &["s1"]);
        b.limits = vec![limit.clone()];
        assert!(matches!(
            store.book("A00001", b.clone()),
            Err(StoreError::LimitReached { .. })
        ));
        cancel(&store, &a);
        store.book("A00001", b).expect("limit released");
    }

    #[test]
    fn practices_are_partitioned_by_ods_code() {
        let store = store_with_slots(1);
        assert_eq!(
            store.slot("B00002", "s0"),
            Err(StoreError::UnknownPractice("B00002".into()))
        );
    }

    #[test]
    fn re_import_is_idempotent() {
        let store = store_with_slots(2);
        let before = store.slot("A00001", "s1").expect("read");
        let slot = before.clone().expect("slot");
        let summary = store
            .import(
                "A00001",
                PracticeImport {
                    slots: vec![slot],
                    ..Default::default()
                },
            )
            .expect("re-import");
        assert_eq!(
            summary,
            ImportSummary {
                written: 0,
                unchanged: 1
            }
        );
        assert_eq!(store.slot("A00001", "s1").expect("read"), before);
    }

    fn free_ids(store: &MemoryStore) -> Vec<String> {
        store
            .slots(
                "A00001",
                &SlotQuery {
                    from: ts("2026-12-01T00:00:00Z"),
                    to: ts("2026-12-02T00:00:00Z"),
                    schedule_id: None,
                    free_only: true,
                },
            )
            .expect("slots")
            .into_iter()
            .map(|s| s.id)
            .collect()
    }

    #[test]
    fn a_re_imported_slot_that_moved_is_listed_at_its_new_start() {
        let store = store_with_slots(3);
        let mut moved = store.slot("A00001", "s0").expect("read").expect("slot");
        moved.start = ts("2026-12-01T11:00:00Z");
        moved.end = ts("2026-12-01T11:10:00Z");
        store
            .import(
                "A00001",
                PracticeImport {
                    slots: vec![moved],
                    ..Default::default()
                },
            )
            .expect("re-import");
        assert_eq!(free_ids(&store), ["s1", "s2", "s0"]);
        assert_eq!(
            store.slot("A00001", "s0").expect("read").map(|s| s.start),
            Some(ts("2026-12-01T11:00:00Z"))
        );
    }

    #[test]
    fn free_only_reads_follow_booking_and_cancelling() {
        let store = store_with_slots(3);
        let a = store
            .book("A00001", booking(&store, &["s1"]))
            .expect("book");
        assert_eq!(free_ids(&store), ["s0", "s2"]);
        cancel(&store, &a);
        assert_eq!(free_ids(&store), ["s0", "s1", "s2"]);
    }

    #[test]
    fn slots_are_listed_by_start_within_the_range() {
        let store = store_with_slots(5);
        let got = store
            .slots(
                "A00001",
                &SlotQuery {
                    from: ts("2026-12-01T09:10:00Z"),
                    to: ts("2026-12-01T09:30:00Z"),
                    schedule_id: None,
                    free_only: false,
                },
            )
            .expect("slots");
        let ids: Vec<_> = got.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["s1", "s2"]);
    }
}
