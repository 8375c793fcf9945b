//! The storage port: what a GP system's database has to answer for the
//! engine to serve GP Connect.
//!
//! [`PracticeStore`] is deliberately narrow and speaks the records of
//! [`records`], never a database's types, so a host system can implement it
//! over its own tables. Every method is scoped by the practice's ODS code;
//! nothing of one practice is visible through another's.
//!
//! Besides the appointment book, a store holds each patient's clinical
//! record for Access Record HTML ([`clinical`]): written by import, read one
//! section at a time ([`PracticeStore::clinical_record`]).
//!
//! Reads return what is committed. The commands ([`PracticeStore::book`],
//! [`PracticeStore::amend`], [`PracticeStore::cancel`],
//! [`PracticeStore::register_patient`]) are each one atomic unit: they
//! either apply completely or not at all, and check what they depend on
//! (slot versions, the appointment version, the NHS number index) inside
//! that unit, so two clients racing for a slot get one booking and one
//! [`StoreError::SlotUnavailable`] (R16). A store acknowledges a command
//! only once it is as durable as the store promises.
//!
//! [`memory::MemoryStore`] is the reference implementation; the `storage`
//! crate adds sled and host adapters, and runs one conformance suite against
//! all of them.

pub mod clinical;
pub mod memory;
pub mod records;

use gpconnect_render::{ClinicalRecord, Section};
use jiff::Timestamp;

pub use clinical::*;
pub use records::*;

use crate::error::{Error, SpineCode};
use crate::stu3;

/// Why a store could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// No practice with that ODS code is hosted.
    #[error("no practice with ODS code {0} is hosted here")]
    UnknownPractice(String),
    /// A record a command names does not exist.
    #[error("{kind}/{id} does not exist")]
    NotFound {
        /// Resource type, e.g. `Slot`.
        kind: &'static str,
        /// Logical id.
        id: String,
    },
    /// A slot to book is busy, or changed since the caller read it (R11).
    #[error("Slot/{slot_id} is no longer free")]
    SlotUnavailable {
        /// The slot.
        slot_id: String,
    },
    /// The record's version is not the one the caller expected (R30, R37).
    #[error("{kind}/{id} is at version {actual}, not {expected}")]
    VersionConflict {
        /// Resource type.
        kind: &'static str,
        /// Logical id.
        id: String,
        /// The version the caller expected.
        expected: u64,
        /// The stored version.
        actual: u64,
    },
    /// An active patient already has this NHS number (F4).
    #[error("a patient with this NHS number is already registered")]
    DuplicatePatient,
    /// A slot-count limit would be exceeded (R12).
    #[error("the slot-count limit {key} would be exceeded")]
    LimitReached {
        /// The limit's counter key.
        key: String,
    },
    /// The record cannot be changed this way (e.g. cancelling a cancelled
    /// appointment).
    #[error("{0}")]
    Rejected(String),
    /// The backend failed (I/O, corruption, a host database error).
    #[error("storage failure: {0}")]
    Backend(String),
}

/// `Result` with [`StoreError`].
pub type StoreResult<T> = Result<T, StoreError>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        let code = match &e {
            // The transport resolves the practice before any operation runs,
            // so an unknown practice here is an internal inconsistency.
            StoreError::UnknownPractice(_) => SpineCode::InternalServerError,
            StoreError::NotFound { .. } => SpineCode::NoRecordFound,
            StoreError::SlotUnavailable { .. } => SpineCode::DuplicateRejected,
            StoreError::VersionConflict { .. } => SpineCode::FhirConstraintViolation,
            StoreError::DuplicatePatient => SpineCode::DuplicateRejected,
            StoreError::LimitReached { .. } => SpineCode::InvalidResource,
            StoreError::Rejected(_) => SpineCode::InvalidResource,
            StoreError::Backend(_) => SpineCode::InternalServerError,
        };
        Error::new(code, e.to_string())
    }
}

/// Slots to list: those starting in `[from, to)`, optionally of one
/// schedule, optionally only the free ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotQuery<'a> {
    /// Earliest start (inclusive).
    pub from: Timestamp,
    /// Latest start (exclusive).
    pub to: Timestamp,
    /// Only this schedule's slots.
    pub schedule_id: Option<&'a str>,
    /// Only slots whose status is free. Slot search (A1) never shows a busy
    /// slot, and in a real appointment book most slots are busy, so a store
    /// should skip them without materialising them.
    pub free_only: bool,
}

/// A slot-count counter a booking must stay within (R12): at most `max`
/// slots may be held under `key` (the caller builds keys, e.g.
/// `ods:A81001:2026-12-01`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitCheck {
    /// Counter key.
    pub key: String,
    /// The limit.
    pub max: u32,
}

/// A booking to make (A2). The store assigns the appointment's id and
/// version, marks every slot busy and held by it, and bumps the limit
/// counters, or does none of it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBooking {
    /// Each slot with the version the caller validated it at.
    pub slots: Vec<(String, u64)>,
    /// The patient.
    pub patient_id: String,
    /// Start (first slot's start).
    pub start: Timestamp,
    /// End (last slot's end).
    pub end: Timestamp,
    /// Booking organisation's ODS code.
    pub booking_ods: Option<String>,
    /// Counters to stay within; each grows by the number of slots.
    pub limits: Vec<LimitCheck>,
    /// Commit time.
    pub now: Timestamp,
    /// The consumer's resource (see [`AppointmentRecord::resource`]).
    pub resource: stu3::Appointment,
}

/// A change to an appointment (A4 amend, A5 cancel), applied only if the
/// appointment is still at `expected_version`.
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentChange {
    /// The appointment.
    pub id: String,
    /// The version the consumer's `If-Match` named.
    pub expected_version: u64,
    /// The new resource.
    pub resource: stu3::Appointment,
    /// Commit time.
    pub now: Timestamp,
}

/// A patient registration (F4).
#[derive(Debug, Clone, PartialEq)]
pub enum PatientRegistration {
    /// A new patient: fails with [`StoreError::DuplicatePatient`] if any
    /// patient with this NHS number exists, checked atomically.
    New {
        /// NHS number.
        nhs_number: String,
        /// Demographics.
        resource: stu3::Patient,
        /// Flags.
        flags: PatientFlags,
    },
    /// Re-activate a known (inactive) patient at `expected_version`.
    Reactivate {
        /// The patient.
        id: String,
        /// The version read.
        expected_version: u64,
        /// Demographics.
        resource: stu3::Patient,
        /// Flags.
        flags: PatientFlags,
    },
}

/// A practice to load or refresh (the import API). Records are upserted by
/// id; `version` fields are ignored (the store assigns them, and keeps a
/// record's version when its content is unchanged, so re-import is
/// idempotent).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PracticeImport {
    /// The practice.
    pub practice: Option<PracticeRecord>,
    /// Organisations.
    pub organizations: Vec<OrganizationRecord>,
    /// Locations.
    pub locations: Vec<LocationRecord>,
    /// Practitioners.
    pub practitioners: Vec<PractitionerRecord>,
    /// Patients.
    pub patients: Vec<PatientRecord>,
    /// Schedules.
    pub schedules: Vec<ScheduleRecord>,
    /// Slots (a slot held by an imported appointment names it).
    pub slots: Vec<SlotRecord>,
    /// Existing appointments.
    pub appointments: Vec<AppointmentRecord>,
    /// Patients' clinical records (Access Record). Each replaces the
    /// patient's stored record and counts as one record in the
    /// [`ImportSummary`]: unchanged when equal to what is stored (no record
    /// stored equals an empty one). Records carry no version.
    pub clinical_records: Vec<PatientClinicalRecord>,
}

/// What the import wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Records written or changed.
    pub written: usize,
    /// Records already identical.
    pub unchanged: usize,
}

/// The storage port (see the module docs).
pub trait PracticeStore: Send + Sync {
    /// The practice hosted under `ods`.
    fn practice(&self, ods: &str) -> StoreResult<Option<PracticeRecord>>;
    /// Every hosted practice's ODS code.
    fn practices(&self) -> StoreResult<Vec<String>>;

    /// A patient by id.
    fn patient(&self, ods: &str, id: &str) -> StoreResult<Option<PatientRecord>>;
    /// Patients with this NHS number (normally 0 or 1).
    fn patients_by_nhs_number(
        &self,
        ods: &str,
        nhs_number: &str,
    ) -> StoreResult<Vec<PatientRecord>>;
    /// A practitioner by id.
    fn practitioner(&self, ods: &str, id: &str) -> StoreResult<Option<PractitionerRecord>>;
    /// Practitioners with this SDS user id.
    fn practitioners_by_sds_user_id(
        &self,
        ods: &str,
        sds_user_id: &str,
    ) -> StoreResult<Vec<PractitionerRecord>>;
    /// An organisation by id.
    fn organization(&self, ods: &str, id: &str) -> StoreResult<Option<OrganizationRecord>>;
    /// Organisations with this ODS code.
    fn organizations_by_ods_code(
        &self,
        ods: &str,
        ods_code: &str,
    ) -> StoreResult<Vec<OrganizationRecord>>;
    /// A location by id.
    fn location(&self, ods: &str, id: &str) -> StoreResult<Option<LocationRecord>>;
    /// A schedule by id.
    fn schedule(&self, ods: &str, id: &str) -> StoreResult<Option<ScheduleRecord>>;
    /// A slot by id.
    fn slot(&self, ods: &str, id: &str) -> StoreResult<Option<SlotRecord>>;
    /// Slots starting in `[query.from, query.to)`, ordered by start then id.
    fn slots(&self, ods: &str, query: &SlotQuery<'_>) -> StoreResult<Vec<SlotRecord>>;
    /// An appointment by id.
    fn appointment(&self, ods: &str, id: &str) -> StoreResult<Option<AppointmentRecord>>;
    /// A patient's appointments starting in `[from, to)`, ordered by start
    /// then id, cancelled ones included (R54).
    fn patient_appointments(
        &self,
        ods: &str,
        patient_id: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<AppointmentRecord>>;

    /// Book atomically (see [`NewBooking`]). Errors: a slot missing
    /// ([`StoreError::NotFound`]), busy or at another version
    /// ([`StoreError::SlotUnavailable`]), a limit reached.
    fn book(&self, ods: &str, booking: NewBooking) -> StoreResult<AppointmentRecord>;
    /// Replace a booked appointment's resource (A4) if still at the version.
    fn amend(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord>;
    /// Cancel a booked appointment (A5) if still at the version: status
    /// cancelled, its slots freed, its limit counters released.
    fn cancel(&self, ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord>;
    /// Register a patient (F4) atomically.
    fn register_patient(
        &self,
        ods: &str,
        registration: PatientRegistration,
    ) -> StoreResult<PatientRecord>;
    /// Record what the provider learnt about a patient (e.g. a PDS
    /// verification during F2, §1.3 "mark the patient verified") if the
    /// patient is still at `expected_version`; demographics are untouched.
    fn update_patient_flags(
        &self,
        ods: &str,
        id: &str,
        expected_version: u64,
        flags: PatientFlags,
    ) -> StoreResult<PatientRecord>;
    /// The part of a patient's clinical record that `section`'s views need
    /// ([`ClinicalList::for_section`]): those lists as last imported, every
    /// other list empty, [`ClinicalRecord::unavailable`] always carried. A
    /// patient with no record (including an id no patient has: records are
    /// keyed by patient id only, and the operation reads the patient first)
    /// gets [`ClinicalRecord::default()`].
    ///
    /// The consumer's `timePeriod` is not a parameter: which items a period
    /// keeps is view logic (MED applies it to All Medication and its issues
    /// only, PRB to the inactive problems only, Acute Medication always
    /// looks back 365 days from today), so the render crate applies it, once
    /// and tested once, rather than every backend re-implementing those
    /// rules. A patient's record is small (tens to hundreds of items), so
    /// reading a whole list costs little.
    fn clinical_record(
        &self,
        ods: &str,
        patient_id: &str,
        section: Section,
    ) -> StoreResult<ClinicalRecord>;
    /// Load or refresh a practice (upsert by id). A practice must exist, or
    /// be part of the import, before its other records.
    fn import(&self, ods: &str, import: PracticeImport) -> StoreResult<ImportSummary>;
}
