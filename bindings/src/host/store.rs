//! [`HostStore`]: the storage port over a host's transactional key/value
//! table ([`super::gpc_host_storage`]), keyed as [`super::keys`] says.
//!
//! This is the one file that implements
//! [`PracticeStore`](gpconnect_core::store::PracticeStore) for host storage:
//! a new port method is added here (as new keys; the C table keeps its
//! shape). Each read runs in one read transaction; each command in one
//! write transaction that either commits whole or is rolled back, so a
//! failing host callback can never leave a booking half-written.

use gpconnect_core::store::*;
use gpconnect_render::{ClinicalRecord, Section};
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::keys;
use super::{Mode, Table, Txn, gpc_host_storage};

/// A record the store keeps under `r/{ods}/{KIND}/{id}`, with its index
/// entries.
trait Stored: Serialize + DeserializeOwned + Clone + PartialEq {
    const KIND: &'static str;
    fn id(&self) -> &str;
    fn version_mut(&mut self) -> &mut u64;
    /// The index entries that hold a copy of this record.
    fn indexes(&self, _ods: &str) -> Vec<Vec<u8>> {
        Vec::new()
    }
}

macro_rules! stored {
    ($t:ty, $kind:literal) => {
        stored!($t, $kind, |_r, _ods| Vec::new());
    };
    ($t:ty, $kind:literal, |$r:ident, $ods:ident| $indexes:expr) => {
        impl Stored for $t {
            const KIND: &'static str = $kind;
            fn id(&self) -> &str {
                &self.id
            }
            fn version_mut(&mut self) -> &mut u64 {
                &mut self.version
            }
            fn indexes(&self, ods: &str) -> Vec<Vec<u8>> {
                let ($r, $ods) = (self, ods);
                $indexes
            }
        }
    };
}

const ORGANIZATION_ODS: &str = "organization-ods";
const PRACTITIONER_SDS: &str = "practitioner-sds";
const PATIENT_NHS: &str = "patient-nhs";
const SLOT_START: &str = "slot-start";
const FREE_SLOT_START: &str = "free-slot-start";
const PATIENT_APPOINTMENT: &str = "patient-appointment";

stored!(OrganizationRecord, "organization", |r, ods| vec![
    keys::index_entry(ods, ORGANIZATION_ODS, &[&r.ods_code], &r.id)
]);
stored!(LocationRecord, "location");
stored!(PractitionerRecord, "practitioner", |r, ods| r
    .sds_user_ids
    .iter()
    .map(|sds| keys::index_entry(ods, PRACTITIONER_SDS, &[sds], &r.id))
    .collect());
stored!(PatientRecord, "patient", |r, ods| vec![keys::index_entry(
    ods,
    PATIENT_NHS,
    &[&r.nhs_number],
    &r.id
)]);
stored!(ScheduleRecord, "schedule");
stored!(SlotRecord, "slot", |r, ods| {
    let start = keys::instant(r.start);
    let mut entries = vec![keys::index_entry(ods, SLOT_START, &[&start], &r.id)];
    if r.status == SlotStatus::Free {
        entries.push(keys::index_entry(ods, FREE_SLOT_START, &[&start], &r.id));
    }
    entries
});
stored!(AppointmentRecord, "appointment", |r, ods| vec![
    keys::index_entry(
        ods,
        PATIENT_APPOINTMENT,
        &[&r.patient_id, &keys::instant(r.start)],
        &r.id
    )
]);

fn backend(message: String) -> StoreError {
    StoreError::Backend(message)
}

fn encode<T: Serialize>(kind: &str, value: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| backend(format!("cannot encode a {kind}: {e}")))
}

fn decode<T: DeserializeOwned>(key: &[u8], value: &[u8]) -> StoreResult<T> {
    serde_json::from_slice(value).map_err(|e| {
        backend(format!(
            "host storage holds an unreadable value at {:?}: {e}",
            String::from_utf8_lossy(key)
        ))
    })
}

/// A record by id.
fn read<T: Stored>(txn: &Txn<'_>, ods: &str, id: &str) -> StoreResult<Option<T>> {
    let key = keys::record(ods, T::KIND, id);
    txn.get(&key)?.map(|v| decode(&key, &v)).transpose()
}

/// The records of index entries in `[from, to)`.
fn scan_records<T: DeserializeOwned>(txn: &Txn<'_>, from: &[u8], to: &[u8]) -> StoreResult<Vec<T>> {
    txn.scan(from, to)?
        .iter()
        .map(|(k, v)| decode(k, v))
        .collect()
}

/// The records of index `index` whose components start with `components`.
fn lookup<T: Stored>(
    txn: &Txn<'_>,
    ods: &str,
    index: &str,
    components: &[&str],
) -> StoreResult<Vec<T>> {
    let (from, to) = keys::prefix_range(&keys::index_prefix(ods, index, components));
    let mut out: Vec<T> = scan_records(txn, &from, &to)?;
    out.sort_by(|a, b| a.id().cmp(b.id()));
    Ok(out)
}

/// Writes `new` (replacing `old`, the record stored under its id, if any)
/// and keeps its index entries in step.
fn write<T: Stored>(txn: &mut Txn<'_>, ods: &str, old: Option<&T>, new: &T) -> StoreResult<()> {
    let json = encode(T::KIND, new)?;
    let entries = new.indexes(ods);
    if let Some(old) = old {
        for stale in old.indexes(ods) {
            if !entries.contains(&stale) {
                txn.remove(stale);
            }
        }
    }
    for entry in entries {
        txn.put(entry, json.clone());
    }
    txn.put(keys::record(ods, T::KIND, new.id()), json);
    Ok(())
}

fn read_u64(txn: &Txn<'_>, key: &[u8]) -> StoreResult<u64> {
    match txn.get(key)? {
        None => Ok(0),
        Some(v) => std::str::from_utf8(&v)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                backend(format!(
                    "host storage holds a non-number at {:?}",
                    String::from_utf8_lossy(key)
                ))
            }),
    }
}

fn write_u64(txn: &mut Txn<'_>, key: Vec<u8>, value: u64) {
    txn.put(key, value.to_string().into_bytes());
}

/// A fresh version: greater than every version assigned before.
fn next_version(txn: &mut Txn<'_>) -> StoreResult<u64> {
    let key = keys::version_sequence();
    let v = read_u64(txn, &key)?
        .checked_add(1)
        .ok_or_else(|| backend("the version sequence is exhausted".to_owned()))?;
    write_u64(txn, key, v);
    Ok(v)
}

/// The next value of a practice's sequence `name`.
fn next_in(txn: &mut Txn<'_>, ods: &str, name: &str) -> StoreResult<u64> {
    let key = keys::sequence(ods, name);
    let v = read_u64(txn, &key)?
        .checked_add(1)
        .ok_or_else(|| backend(format!("the {name} sequence is exhausted")))?;
    write_u64(txn, key, v);
    Ok(v)
}

fn practice_record(txn: &Txn<'_>, ods: &str) -> StoreResult<Option<PracticeRecord>> {
    let key = keys::practice(ods);
    txn.get(&key)?.map(|v| decode(&key, &v)).transpose()
}

fn require_practice(txn: &Txn<'_>, ods: &str) -> StoreResult<()> {
    match practice_record(txn, ods)? {
        Some(_) => Ok(()),
        None => Err(StoreError::UnknownPractice(ods.to_owned())),
    }
}

/// Upserts `incoming` by id, keeping the stored version when nothing else
/// changed; whether it wrote.
fn merge<T: Stored>(txn: &mut Txn<'_>, ods: &str, mut incoming: T) -> StoreResult<bool> {
    let existing: Option<T> = read(txn, ods, incoming.id())?;
    if let Some(mut existing) = existing.clone() {
        *incoming.version_mut() = *existing.version_mut();
        if incoming == existing {
            return Ok(false);
        }
    }
    *incoming.version_mut() = next_version(txn)?;
    write(txn, ods, existing.as_ref(), &incoming)?;
    Ok(true)
}

/// The storage port over host storage: what `gpc_engine_open_host` runs
/// the engine on. Public so a Rust test (or a Rust host) can use a
/// `gpc_host_storage` table directly, e.g. to run the storage conformance
/// suite against it.
#[derive(Debug)]
pub struct HostStore {
    table: Table,
}

impl HostStore {
    /// The port over `table`, which it now owns (`destroy` runs on drop).
    pub(crate) fn new(table: gpc_host_storage) -> HostStore {
        HostStore {
            table: Table::new(table),
        }
    }

    /// The port over the table `table` points to (copied), checked as
    /// `gpc_engine_open_host` checks it. On success the store owns
    /// `user_data` and calls `destroy` when dropped; on error nothing was
    /// called.
    ///
    /// # Errors
    /// Why the table cannot be used: NULL, a `struct_size` smaller than any
    /// layout, or a missing required callback.
    ///
    /// # Safety
    /// `table` must be NULL or point to a readable `gpc_host_storage` of
    /// the `struct_size` it declares, whose callbacks honour the contract
    /// of [`gpc_host_storage`].
    pub unsafe fn from_table(table: *const gpc_host_storage) -> Result<HostStore, String> {
        // SAFETY: the caller's contract.
        let table = unsafe { super::copy_table(table) }.map_err(|e| e.message)?;
        Ok(HostStore::new(table))
    }

    /// A read of practice `ods`, in one read transaction.
    fn query<T>(&self, ods: &str, f: impl FnOnce(&Txn<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let txn = self.table.begin(Mode::Read)?;
        require_practice(&txn, ods)?;
        f(&txn)
    }

    /// A command in one write transaction: committed if `f` succeeds,
    /// rolled back otherwise.
    fn command<T>(&self, f: impl FnOnce(&mut Txn<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut txn = self.table.begin(Mode::Write)?;
        let out = f(&mut txn)?;
        txn.commit()?;
        Ok(out)
    }

    fn appointment_change(
        &self,
        ods: &str,
        change: AppointmentChange,
        cancel: bool,
    ) -> StoreResult<AppointmentRecord> {
        self.command(|txn| {
            require_practice(txn, ods)?;
            let Some(current) = read::<AppointmentRecord>(txn, ods, &change.id)? else {
                return Err(StoreError::NotFound {
                    kind: "Appointment",
                    id: change.id,
                });
            };
            if current.version != change.expected_version {
                return Err(StoreError::VersionConflict {
                    kind: "Appointment",
                    id: change.id,
                    expected: change.expected_version,
                    actual: current.version,
                });
            }
            if current.status == AppointmentStatus::Cancelled {
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
            let version = next_version(txn)?;
            let mut updated = current.clone();
            updated.resource = change.resource;
            updated.last_modified = change.now;
            updated.version = version;
            if cancel {
                updated.status = AppointmentStatus::Cancelled;
                for slot_id in &updated.slot_ids {
                    let Some(slot) = read::<SlotRecord>(txn, ods, slot_id)? else {
                        continue;
                    };
                    if slot.appointment_id.as_deref() != Some(updated.id.as_str()) {
                        continue;
                    }
                    let freed = SlotRecord {
                        status: SlotStatus::Free,
                        appointment_id: None,
                        version,
                        ..slot.clone()
                    };
                    write(txn, ods, Some(&slot), &freed)?;
                }
                let held = u64::try_from(updated.slot_ids.len()).unwrap_or(u64::MAX);
                for key in &updated.limit_keys {
                    let counter = keys::counter(ods, key);
                    let used = read_u64(txn, &counter)?;
                    write_u64(txn, counter, used.saturating_sub(held));
                }
            }
            write(txn, ods, Some(&current), &updated)?;
            Ok(updated)
        })
    }
}

impl PracticeStore for HostStore {
    fn practice(&self, ods: &str) -> StoreResult<Option<PracticeRecord>> {
        let txn = self.table.begin(Mode::Read)?;
        practice_record(&txn, ods)
    }

    fn practices(&self) -> StoreResult<Vec<String>> {
        let txn = self.table.begin(Mode::Read)?;
        let (from, to) = keys::practices();
        let records: Vec<PracticeRecord> = scan_records(&txn, &from, &to)?;
        let mut out: Vec<String> = records.into_iter().map(|p| p.ods_code).collect();
        out.sort();
        Ok(out)
    }

    fn patient(&self, ods: &str, id: &str) -> StoreResult<Option<PatientRecord>> {
        self.query(ods, |txn| read(txn, ods, id))
    }

    fn patients_by_nhs_number(
        &self,
        ods: &str,
        nhs_number: &str,
    ) -> StoreResult<Vec<PatientRecord>> {
        self.query(ods, |txn| lookup(txn, ods, PATIENT_NHS, &[nhs_number]))
    }

    fn practitioner(&self, ods: &str, id: &str) -> StoreResult<Option<PractitionerRecord>> {
        self.query(ods, |txn| read(txn, ods, id))
    }

    fn practitioners_by_sds_user_id(
        &self,
        ods: &str,
        sds_user_id: &str,
    ) -> StoreResult<Vec<PractitionerRecord>> {
        self.query(ods, |txn| {
            let mut found: Vec<PractitionerRecord> =
                lookup(txn, ods, PRACTITIONER_SDS, &[sds_user_id])?;
            found.dedup_by(|a, b| a.id == b.id);
            Ok(found)
        })
    }

    fn organization(&self, ods: &str, id: &str) -> StoreResult<Option<OrganizationRecord>> {
        self.query(ods, |txn| read(txn, ods, id))
    }

    fn organizations_by_ods_code(
        &self,
        ods: &str,
        ods_code: &str,
    ) -> StoreResult<Vec<OrganizationRecord>> {
        self.query(ods, |txn| lookup(txn, ods, ORGANIZATION_ODS, &[ods_code]))
    }

    fn location(&self, ods: &str, id: &str) -> StoreResult<Option<LocationRecord>> {
        self.query(ods, |txn| read(txn, ods, id))
    }

    fn schedule(&self, ods: &str, id: &str) -> StoreResult<Option<ScheduleRecord>> {
        self.query(ods, |txn| read(txn, ods, id))
    }

    fn slot(&self, ods: &str, id: &str) -> StoreResult<Option<SlotRecord>> {
        self.query(ods, |txn| read(txn, ods, id))
    }

    fn slots(&self, ods: &str, query: &SlotQuery<'_>) -> StoreResult<Vec<SlotRecord>> {
        if query.from >= query.to {
            return Ok(Vec::new());
        }
        self.query(ods, |txn| {
            let index = if query.free_only {
                FREE_SLOT_START
            } else {
                SLOT_START
            };
            let from = keys::index_prefix(ods, index, &[]) + &keys::instant(query.from);
            let to = keys::index_prefix(ods, index, &[]) + &keys::instant(query.to);
            let mut out: Vec<SlotRecord> = scan_records(txn, from.as_bytes(), to.as_bytes())?;
            out.retain(|s| {
                query.schedule_id.is_none_or(|id| s.schedule_id == id)
                    && (!query.free_only || s.status == SlotStatus::Free)
            });
            out.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
            Ok(out)
        })
    }

    fn appointment(&self, ods: &str, id: &str) -> StoreResult<Option<AppointmentRecord>> {
        self.query(ods, |txn| read(txn, ods, id))
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
        self.query(ods, |txn| {
            let prefix = keys::index_prefix(ods, PATIENT_APPOINTMENT, &[patient_id]);
            let (start, end) = (
                prefix.clone() + &keys::instant(from),
                prefix + &keys::instant(to),
            );
            let mut out: Vec<AppointmentRecord> =
                scan_records(txn, start.as_bytes(), end.as_bytes())?;
            out.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
            Ok(out)
        })
    }

    fn book(&self, ods: &str, booking: NewBooking) -> StoreResult<AppointmentRecord> {
        self.command(|txn| {
            require_practice(txn, ods)?;
            let mut slots = Vec::with_capacity(booking.slots.len());
            for (slot_id, version) in &booking.slots {
                match read::<SlotRecord>(txn, ods, slot_id)? {
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
                    Some(s) => slots.push(s),
                }
            }
            let held = u64::try_from(booking.slots.len()).unwrap_or(u64::MAX);
            let mut counters = Vec::with_capacity(booking.limits.len());
            for limit in &booking.limits {
                let key = keys::counter(ods, &limit.key);
                let used = read_u64(txn, &key)?;
                if used.saturating_add(held) > u64::from(limit.max) {
                    return Err(StoreError::LimitReached {
                        key: limit.key.clone(),
                    });
                }
                counters.push((key, used.saturating_add(held)));
            }
            let id = loop {
                let candidate = next_in(txn, ods, "appointment")?.to_string();
                if read::<AppointmentRecord>(txn, ods, &candidate)?.is_none() {
                    break candidate;
                }
            };
            let version = next_version(txn)?;
            for slot in &slots {
                let busy = SlotRecord {
                    status: SlotStatus::Busy,
                    appointment_id: Some(id.clone()),
                    version,
                    ..slot.clone()
                };
                write(txn, ods, Some(slot), &busy)?;
            }
            for (key, used) in counters {
                write_u64(txn, key, used);
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
            write(txn, ods, None, &record)?;
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
        self.command(|txn| {
            require_practice(txn, ods)?;
            match registration {
                PatientRegistration::New {
                    nhs_number,
                    resource,
                    flags,
                } => {
                    let same: Vec<PatientRecord> = lookup(txn, ods, PATIENT_NHS, &[&nhs_number])?;
                    if !same.is_empty() {
                        return Err(StoreError::DuplicatePatient);
                    }
                    let id = loop {
                        let candidate = format!("p{}", next_in(txn, ods, "patient")?);
                        if read::<PatientRecord>(txn, ods, &candidate)?.is_none() {
                            break candidate;
                        }
                    };
                    let record = PatientRecord {
                        id,
                        version: next_version(txn)?,
                        nhs_number,
                        resource,
                        flags,
                    };
                    write(txn, ods, None, &record)?;
                    Ok(record)
                }
                PatientRegistration::Reactivate {
                    id,
                    expected_version,
                    resource,
                    flags,
                } => {
                    let Some(current) = read::<PatientRecord>(txn, ods, &id)? else {
                        return Err(StoreError::NotFound {
                            kind: "Patient",
                            id,
                        });
                    };
                    if current.version != expected_version {
                        return Err(StoreError::VersionConflict {
                            kind: "Patient",
                            id,
                            expected: expected_version,
                            actual: current.version,
                        });
                    }
                    let record = PatientRecord {
                        resource,
                        flags,
                        version: next_version(txn)?,
                        ..current.clone()
                    };
                    write(txn, ods, Some(&current), &record)?;
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
        self.command(|txn| {
            require_practice(txn, ods)?;
            let Some(current) = read::<PatientRecord>(txn, ods, id)? else {
                return Err(StoreError::NotFound {
                    kind: "Patient",
                    id: id.to_owned(),
                });
            };
            if current.version != expected_version {
                return Err(StoreError::VersionConflict {
                    kind: "Patient",
                    id: id.to_owned(),
                    expected: expected_version,
                    actual: current.version,
                });
            }
            let record = PatientRecord {
                flags,
                version: next_version(txn)?,
                ..current.clone()
            };
            write(txn, ods, Some(&current), &record)?;
            Ok(record)
        })
    }

    fn clinical_record(
        &self,
        ods: &str,
        patient_id: &str,
        section: Section,
    ) -> StoreResult<ClinicalRecord> {
        self.query(ods, |txn| {
            let mut record = ClinicalRecord::default();
            for list in ClinicalList::for_section(section) {
                let key = keys::clinical(ods, patient_id, list.name());
                if let Some(json) = txn.get(&key)? {
                    list.set_from_json(&mut record, &json).map_err(|e| {
                        backend(format!(
                            "host storage holds an unreadable clinical list at {:?}: {e}",
                            String::from_utf8_lossy(&key)
                        ))
                    })?;
                }
            }
            Ok(record)
        })
    }

    fn import(&self, ods: &str, import: PracticeImport) -> StoreResult<ImportSummary> {
        self.command(|txn| {
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
                let existing = practice_record(txn, ods)?;
                if let Some(existing) = &existing {
                    incoming.version = existing.version;
                }
                if existing.as_ref() == Some(&incoming) {
                    count(false);
                } else {
                    incoming.version = next_version(txn)?;
                    txn.put(keys::practice(ods), encode("practice", &incoming)?);
                    count(true);
                }
            }
            require_practice(txn, ods)?;
            for r in import.organizations {
                count(merge(txn, ods, r)?);
            }
            for r in import.locations {
                count(merge(txn, ods, r)?);
            }
            for r in import.practitioners {
                count(merge(txn, ods, r)?);
            }
            for r in import.patients {
                count(merge(txn, ods, r)?);
            }
            for r in import.schedules {
                count(merge(txn, ods, r)?);
            }
            for r in import.slots {
                count(merge(txn, ods, r)?);
            }
            for r in import.appointments {
                if let Ok(n) = r.id.parse::<u64>() {
                    let key = keys::sequence(ods, "appointment");
                    let seq = read_u64(txn, &key)?;
                    if n > seq {
                        write_u64(txn, key, n);
                    }
                }
                count(merge(txn, ods, r)?);
            }
            for r in import.clinical_records {
                // Each list replaces the stored one; an empty list has no
                // key. The record counts as written if any list changed.
                let mut changed = false;
                for list in ClinicalList::ALL {
                    let key = keys::clinical(ods, &r.patient_id, list.name());
                    let json = list.to_json(&r.record).map_err(|e| {
                        backend(format!("cannot encode clinical list {}: {e}", list.name()))
                    })?;
                    let stored = txn.get(&key)?;
                    if stored == json {
                        continue;
                    }
                    changed = true;
                    match json {
                        Some(json) => txn.put(key, json),
                        None => txn.remove(key),
                    }
                }
                count(changed);
            }
            Ok(summary)
        })
    }
}
