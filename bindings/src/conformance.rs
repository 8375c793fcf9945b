//! `gpc_host_storage_conformance`: the storage port's conformance suite
//! (the `gpconnect-storage` crate's, the one every backend passes) run from
//! C against a host's own `gpc_host_storage`, through its callbacks.

use std::ffi::{c_char, c_void};

use gpconnect_core::store::*;
use gpconnect_render::{ClinicalRecord, Section};
use gpconnect_storage::conformance::run_all;
use jiff::Timestamp;

use crate::error::gpc_result;
use crate::ffi::{FfiError, guard, write_out};
use crate::host::{HostStore, copy_table, gpc_host_storage};

/// Makes a fresh, empty host storage for one conformance check: sets
/// `*storage_out` to a `gpc_host_storage` (as for `gpc_engine_open_host`)
/// that stays readable until the factory returns again or the run ends,
/// and returns 0; or returns non-zero when it cannot (the check then
/// fails). The library copies the table and owns its `user_data` from then
/// on, calling its `destroy` when the check is over.
pub type gpc_host_storage_factory = Option<
    unsafe extern "C" fn(
        factory_data: *mut c_void,
        storage_out: *mut *const gpc_host_storage,
    ) -> i32,
>;

/// Told about one failed conformance check: its name and what went wrong
/// (borrowed for the call only).
pub type gpc_conformance_report_fn = Option<
    unsafe extern "C" fn(
        report_data: *mut c_void,
        check: *const c_char,
        check_len: usize,
        message: *const c_char,
        message_len: usize,
    ),
>;

/// A store under test: the host's, or why the factory could not make one.
#[derive(Debug)]
enum Candidate {
    Host(HostStore),
    Unusable(String),
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $t:ty),*) -> $r:ty;)*) => {
        impl PracticeStore for Candidate {
            $(fn $name(&self, $($arg: $t),*) -> $r {
                match self {
                    Candidate::Host(s) => s.$name($($arg),*),
                    Candidate::Unusable(why) => Err(StoreError::Backend(why.clone())),
                }
            })*
        }
    };
}

delegate! {
    practice(ods: &str) -> StoreResult<Option<PracticeRecord>>;
    practices() -> StoreResult<Vec<String>>;
    patient(ods: &str, id: &str) -> StoreResult<Option<PatientRecord>>;
    patients_by_nhs_number(ods: &str, nhs: &str) -> StoreResult<Vec<PatientRecord>>;
    practitioner(ods: &str, id: &str) -> StoreResult<Option<PractitionerRecord>>;
    practitioners_by_sds_user_id(ods: &str, sds: &str) -> StoreResult<Vec<PractitionerRecord>>;
    organization(ods: &str, id: &str) -> StoreResult<Option<OrganizationRecord>>;
    organizations_by_ods_code(ods: &str, code: &str) -> StoreResult<Vec<OrganizationRecord>>;
    location(ods: &str, id: &str) -> StoreResult<Option<LocationRecord>>;
    schedule(ods: &str, id: &str) -> StoreResult<Option<ScheduleRecord>>;
    slot(ods: &str, id: &str) -> StoreResult<Option<SlotRecord>>;
    slots(ods: &str, query: &SlotQuery<'_>) -> StoreResult<Vec<SlotRecord>>;
    appointment(ods: &str, id: &str) -> StoreResult<Option<AppointmentRecord>>;
    patient_appointments(ods: &str, patient: &str, from: Timestamp, to: Timestamp) -> StoreResult<Vec<AppointmentRecord>>;
    book(ods: &str, booking: NewBooking) -> StoreResult<AppointmentRecord>;
    amend(ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord>;
    cancel(ods: &str, change: AppointmentChange) -> StoreResult<AppointmentRecord>;
    register_patient(ods: &str, registration: PatientRegistration) -> StoreResult<PatientRecord>;
    update_patient_flags(ods: &str, id: &str, expected_version: u64, flags: PatientFlags) -> StoreResult<PatientRecord>;
    clinical_record(ods: &str, patient_id: &str, section: Section) -> StoreResult<ClinicalRecord>;
    import(ods: &str, import: PracticeImport) -> StoreResult<ImportSummary>;
}

/// One fresh store from the host's factory.
///
/// # Safety
/// `factory` must honour `gpc_host_storage_factory`.
unsafe fn make(
    factory: unsafe extern "C" fn(*mut c_void, *mut *const gpc_host_storage) -> i32,
    factory_data: *mut c_void,
) -> Candidate {
    let mut storage: *const gpc_host_storage = std::ptr::null();
    // SAFETY: the host's factory with its own data and our out-pointer.
    let rc = unsafe { factory(factory_data, &mut storage) };
    if rc != 0 {
        return Candidate::Unusable(format!("the storage factory failed (code {rc})"));
    }
    // SAFETY: the factory's contract: NULL, or a readable table of the
    // size it declares.
    match unsafe { copy_table(storage) } {
        Ok(table) => Candidate::Host(HostStore::new(table)),
        Err(e) => Candidate::Unusable(format!("the storage factory's table: {}", e.message)),
    }
}

/// Runs the storage port's conformance suite against host storage: for
/// each check, `factory` makes a fresh, empty storage, the check imports
/// the shared test practice through it and exercises one behaviour (reads
/// after import, idempotent re-import, slot ranges, booking and its
/// failures, atomicity, amend and cancel rules, limits, patient
/// registration, practice partitioning, fresh versions and ids), then the
/// storage is destroyed.
///
/// `factory` must not be NULL; `report` (may be NULL) is called once per failed check. `*failures_out`
/// gets the number of failed checks: 0 means the storage conforms. The
/// call itself returns `GPC_RESULT_OK` whether checks failed or not.
///
/// # Safety
///
/// `factory` and `report` must honour their types' contracts;
/// `failures_out` must be a valid pointer to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_host_storage_conformance(
    factory: gpc_host_storage_factory,
    factory_data: *mut c_void,
    report: gpc_conformance_report_fn,
    report_data: *mut c_void,
    failures_out: *mut usize,
) -> gpc_result {
    guard("gpc_host_storage_conformance", || {
        let factory = factory.ok_or_else(|| FfiError::null("factory"))?;
        crate::ffi::out_ptr(failures_out, "failures_out")?;
        // SAFETY: the caller's contract for `factory`.
        let failures = run_all(|| unsafe { make(factory, factory_data) });
        if let Some(report) = report {
            for f in &failures {
                // SAFETY: the caller's report callback, with borrowed text
                // of ours that outlives the call.
                unsafe {
                    report(
                        report_data,
                        f.check.as_ptr().cast::<c_char>(),
                        f.check.len(),
                        f.message.as_ptr().cast::<c_char>(),
                        f.message.len(),
                    );
                }
            }
        }
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { write_out(failures_out, failures.len(), "failures_out") }
    })
}
