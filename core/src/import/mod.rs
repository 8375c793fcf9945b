//! Loading a practice from a FHIR Bundle: the import API.
//!
//! A GP system describes one practice as a `collection` Bundle (JSON or
//! XML) of the GP Connect resources it already has: the practice
//! Organization, its Locations, Practitioners, Patients, Schedules, Slots
//! and, optionally, existing Appointments, plus each patient's Access
//! Record clinical record as a `Binary` (`clinical`). What no GP Connect
//! profile can carry (the endpoint's ASID, the enablement switches, booking
//! windows, slot-count limits, the Access Record settings, slot bookability
//! and restrictions, patient flags) travels in extensions of our own
//! namespace ([`extension`]). The
//! reference is `docs/import.md`; `examples/practice.json` is a complete
//! practice.
//!
//! [`practice_from_bundle`] is pure: it validates the whole bundle and
//! builds the [`PracticeImport`] without a store, so every problem is found
//! before anything is written and a bundle is valid or invalid on its own.
//! [`import_practice`] decodes (bounded by [`Limits::IMPORT`]), converts and
//! hands the result to [`PracticeStore::import`], which upserts by id and
//! keeps a record's version when its content is unchanged: importing the
//! same file twice writes nothing the second time.
//!
//! Every validation failure is 422 INVALID_RESOURCE whose diagnostics name
//! the entry and element, e.g.
//! `Bundle.entry[12].resource(Slot/14-1-3).schedule: Schedule/99 is not in
//! the bundle`. The first problem in bundle order is reported.

pub mod extension;

mod appointment;
mod clinical;
mod directory;
mod entries;
mod patient;
mod schedule;
mod stored;

pub use clinical::CONTENT_TYPE as CLINICAL_RECORD_CONTENT_TYPE;

use std::collections::HashMap;
use std::fmt;

use crate::error::{Echo, Error};
use crate::fhir::{Format, Limits, decode};
use crate::store::{
    AppointmentStatus, ImportSummary, PatientRecord, PracticeImport, PracticeStore,
    RegistrationStatus, SlotRecord,
};
use crate::stu3::{self, Resource};

use entries::{At, Entries};

/// The `Bundle.type` a practice file has: a plain set of resources, with no
/// transaction semantics (every entry is an upsert by id anyway).
pub const BUNDLE_TYPE: &str = "collection";

/// 422 INVALID_RESOURCE at `path`: every import error has this shape.
pub(crate) fn invalid(path: impl fmt::Display, message: impl fmt::Display) -> Error {
    Error::invalid_resource(format!("{path}: {message}"))
}

/// How many records of each kind a bundle held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportCounts {
    /// Organizations (the practice's included).
    pub organizations: usize,
    /// Locations.
    pub locations: usize,
    /// Practitioners.
    pub practitioners: usize,
    /// Patients.
    pub patients: usize,
    /// Schedules.
    pub schedules: usize,
    /// Slots.
    pub slots: usize,
    /// Appointments.
    pub appointments: usize,
    /// Patients' clinical records (Binary entries).
    pub clinical_records: usize,
}

impl ImportCounts {
    fn of(import: &PracticeImport) -> Self {
        ImportCounts {
            organizations: import.organizations.len(),
            locations: import.locations.len(),
            practitioners: import.practitioners.len(),
            patients: import.patients.len(),
            schedules: import.schedules.len(),
            slots: import.slots.len(),
            appointments: import.appointments.len(),
            clinical_records: import.clinical_records.len(),
        }
    }
}

/// What [`import_practice`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// The practice's ODS code (the store key everything was written under).
    pub ods_code: String,
    /// What the bundle held.
    pub counts: ImportCounts,
    /// What the store wrote (`written`) and found identical (`unchanged`);
    /// the practice record counts as one.
    pub summary: ImportSummary,
}

/// Decode a practice bundle, convert it and load it into `store`.
///
/// # Errors
/// - 400 BAD_REQUEST: not well-formed JSON/XML (413 beyond
///   [`Limits::IMPORT`], 256 MiB).
/// - 422 INVALID_RESOURCE: a resource does not fit the STU3 model (the
///   codec's path), or the bundle is not a valid practice (see
///   [`practice_from_bundle`]).
/// - Whatever the store answers ([`crate::store::StoreError`] mapped into
///   [`Error`]); nothing was validated against the store, so a failure here
///   is the backend's.
pub fn import_practice(
    store: &dyn PracticeStore,
    bytes: &[u8],
    format: Format,
) -> Result<ImportReport, Error> {
    let bundle: stu3::Bundle = decode(bytes, format, Limits::IMPORT)?;
    let (ods_code, import) = practice_from_bundle(&bundle)?;
    let counts = ImportCounts::of(&import);
    let summary = store.import(&ods_code, import)?;
    Ok(ImportReport {
        ods_code,
        counts,
        summary,
    })
}

/// Convert a practice bundle into the practice's ODS code and the records
/// to upsert, validating the whole bundle first.
///
/// # Errors
/// 422 INVALID_RESOURCE naming the entry and element of the first problem:
/// a `Bundle.type` other than `collection`; an entry without a resource, of
/// a type a practice does not hold, without an id, or with the id of an
/// earlier entry of its type; a reference that is not a relative `Type/id`
/// or names no entry of the bundle; a missing required piece (ODS code, NHS
/// number, slot type, delivery channel, schedule Location actor, planning
/// horizon start, ...); an extension of our namespace that is unknown,
/// misplaced, repeated or has a bad value; a slot whose end is not after
/// its start; an appointment inconsistent with its slots; a slot held by
/// two booked appointments; not exactly one practice Organization; a
/// `Binary` that is not a clinical record of a Patient of the bundle, a
/// second one for a patient, or content that is not a clinical record.
pub fn practice_from_bundle(bundle: &stu3::Bundle) -> Result<(String, PracticeImport), Error> {
    if bundle.type_.as_str() != BUNDLE_TYPE {
        return Err(invalid(
            "Bundle.type",
            format!(
                "must be {BUNDLE_TYPE} (a practice is a collection of resources), not {}",
                Echo(bundle.type_.as_str())
            ),
        ));
    }
    let entries = Entries::index(bundle)?;
    let mut out = PracticeImport::default();
    let mut practice: Option<At<'_>> = None;
    let mut schedule_at: HashMap<String, At<'_>> = HashMap::new();
    let mut patient_at: Vec<At<'_>> = Vec::new();
    let mut appointments: Vec<(At<'_>, &stu3::Appointment)> = Vec::new();
    let mut clinical_at: HashMap<String, At<'_>> = HashMap::new();
    for entry in &entries.list {
        let at = entry.at;
        match entry.resource {
            Resource::Organization(o) => {
                let converted = directory::organization(at, o, &entries)?;
                if let Some(record) = converted.practice {
                    if let Some(first) = practice {
                        return Err(at.err(
                            "identifier",
                            format!(
                                "a second Organization whose ODS identifier carries {} (the first is {first}); a bundle describes one practice",
                                extension::ASID
                            ),
                        ));
                    }
                    practice = Some(at);
                    out.practice = Some(record);
                }
                out.organizations.push(converted.record);
            }
            Resource::Location(l) => out.locations.push(directory::location(at, l, &entries)?),
            Resource::Practitioner(p) => out.practitioners.push(directory::practitioner(at, p)?),
            Resource::Patient(p) => {
                out.patients.push(patient::patient(at, p, &entries)?);
                patient_at.push(at);
            }
            Resource::Schedule(s) => {
                out.schedules.push(schedule::schedule(at, s, &entries)?);
                schedule_at.insert(at.id.to_owned(), at);
            }
            Resource::Slot(s) => out.slots.push(schedule::slot(at, s, &entries)?),
            Resource::Appointment(a) => appointments.push((at, a)),
            Resource::Binary(b) => out.clinical_records.push(clinical::clinical_record(
                at,
                b,
                &entries,
                &mut clinical_at,
            )?),
            // `Entries::index` admits only the types above.
            other => {
                return Err(invalid(
                    at,
                    format!("{} is not imported", other.resource_type()),
                ));
            }
        }
    }
    let Some(practice_record) = &out.practice else {
        return Err(invalid(
            "Bundle",
            format!(
                "no Organization's ODS identifier carries {}; exactly one must, and that Organization is the practice",
                extension::ASID
            ),
        ));
    };
    let ods_code = practice_record.ods_code.clone();
    check_practitioner_roles(&out, &schedule_at)?;
    check_one_active_patient_per_nhs_number(&out.patients, &patient_at)?;
    out.appointments = convert_appointments(&appointments, &entries, &mut out.slots)?;
    Ok((ods_code, out))
}

/// Every bookable slot's schedule needs a practitioner role (§4.3 "slot
/// categorisation": mandatory for every bookable schedule or slot), since
/// consumers display it and the engine populates it on every appointment.
fn check_practitioner_roles(
    import: &PracticeImport,
    schedule_at: &HashMap<String, At<'_>>,
) -> Result<(), Error> {
    for schedule in &import.schedules {
        if schedule.practitioner_role.is_some() {
            continue;
        }
        if let Some(slot) = import
            .slots
            .iter()
            .find(|s| s.bookable && s.schedule_id == schedule.id)
        {
            let at = schedule_at.get(&schedule.id).map(ToString::to_string);
            return Err(invalid(
                format!("{}.extension", at.unwrap_or_default()),
                format!(
                    "the practitioner role ({}) is required because Slot/{} is bookable (§4.3)",
                    stu3::profiles::extension::PRACTITIONER_ROLE,
                    slot.id
                ),
            ));
        }
    }
    Ok(())
}

/// At most one *active* patient (registered and alive, F2) per NHS number:
/// find (F2) and register (F4) assume it. A patient who left and came back
/// may appear twice, once inactive.
fn check_one_active_patient_per_nhs_number(
    patients: &[PatientRecord],
    patient_at: &[At<'_>],
) -> Result<(), Error> {
    let mut active: HashMap<&str, usize> = HashMap::new();
    for (i, p) in patients.iter().enumerate() {
        if p.flags.registration != RegistrationStatus::Active || p.flags.deceased.is_some() {
            continue;
        }
        if let Some(first) = active.insert(p.nhs_number.as_str(), i) {
            let first_at = patient_at.get(first).map(ToString::to_string);
            let at = patient_at.get(i).map(ToString::to_string);
            return Err(invalid(
                format!("{}.identifier", at.unwrap_or_default()),
                format!(
                    "has the NHS number of {}; only one active patient may have it",
                    first_at.unwrap_or_default()
                ),
            ));
        }
    }
    Ok(())
}

/// Convert the appointments against the converted slots, and mark each
/// slot a booked appointment holds with its id. A slot can be held by one
/// booked appointment only (R16); cancelled ones keep naming the slots they
/// held without holding them.
fn convert_appointments(
    appointments: &[(At<'_>, &stu3::Appointment)],
    entries: &Entries<'_>,
    slots: &mut [SlotRecord],
) -> Result<Vec<crate::store::AppointmentRecord>, Error> {
    let mut records = Vec::with_capacity(appointments.len());
    let mut holder: HashMap<String, At<'_>> = HashMap::new();
    {
        let by_id: HashMap<&str, &SlotRecord> = slots.iter().map(|s| (s.id.as_str(), s)).collect();
        for (at, a) in appointments {
            let converted = appointment::appointment(*at, a, entries, &by_id)?;
            if converted.record.status == AppointmentStatus::Booked {
                for (i, slot_id) in &converted.slot_refs {
                    if let Some(first) = holder.insert(slot_id.clone(), *at) {
                        return Err(at.err(
                            &format!("slot[{i}]"),
                            format!(
                                "Slot/{slot_id} is already held by booked {}/{} ({first})",
                                first.kind, first.id
                            ),
                        ));
                    }
                }
            }
            records.push(converted.record);
        }
    }
    for slot in slots.iter_mut() {
        if let Some(at) = holder.get(&slot.id) {
            slot.appointment_id = Some(at.id.to_owned());
        }
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::arbitrary::{Gen, Rng};
    use crate::fhir::primitive::Code;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any bundle of any resources the model can hold is answered with
        /// a conversion or an error, never a panic.
        #[test]
        fn arbitrary_bundles_never_panic(seed in any::<u64>()) {
            let mut rng = Rng::new(seed);
            let n = rng.below(8);
            let bundle = stu3::Bundle {
                type_: Code::from_static(BUNDLE_TYPE),
                entry: (0..n)
                    .map(|_| stu3::BundleEntry {
                        resource: Some(Resource::gen_value(&mut rng, 1)),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            };
            if let Err(e) = practice_from_bundle(&bundle) {
                prop_assert_eq!(e.status(), 422);
            }
        }
    }
}
