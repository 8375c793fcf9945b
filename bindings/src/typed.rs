//! Typed calls for hosts that are not HTTP-shaped: import a practice,
//! search free slots, book, cancel, get an Access Record section. FHIR JSON
//! in, FHIR JSON out, in the same `gpc_response` as `gpc_engine_handle`.
//!
//! They run the same operations, rules and store as the front door, but
//! none of its transport checks (SSP headers, interaction id, JWT): the host
//! calling them in-process vouches for who asks. The practice must exist
//! and have GP Connect and the call's capability (Appointment Management,
//! Access Record) switched on, as through the front door (R83). They
//! produce no audit record.

use std::ffi::c_char;

use gpconnect_core::engine::{
    CACHE_CONTROL, CONTENT_TYPE, ETAG, LAST_MODIFIED, LOCATION, NO_STORE, etag, http_date,
};
use gpconnect_core::error::{SpecEdition, SpineCode};
use gpconnect_core::fhir::{self, CodecError, Format, Limits};
use gpconnect_core::import::import_practice;
use gpconnect_core::operation::{Answer, Context};
use gpconnect_core::store::PracticeSettings;
use gpconnect_core::stu3::profiles::{code_system, identifier_system};
use gpconnect_core::stu3::{self, OutcomeOptions};
use gpconnect_core::{Error, accessrecord, appointments, dstu2};

use crate::engine::{EngineHandle, gpc_engine};
use crate::error::gpc_result;
use crate::ffi::{FfiResult, bytes, guard, optional_text, out_ptr, text};
use crate::response::{CText, Response, gpc_response};

fn header(name: &str, value: &str) -> (CText, CText) {
    (CText::new(name), CText::new(value))
}

/// Which GP Connect capability a typed call belongs to: it decides the
/// switch that must be on (R83), the FHIR version of the answer and its
/// OperationOutcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capability {
    /// Appointment Management 1.2.9 (STU3).
    Appointments,
    /// Access Record HTML 0.7.4 (DSTU2).
    AccessRecord,
}

impl Capability {
    fn content_type(self) -> &'static str {
        match self {
            Capability::Appointments => "application/fhir+json;charset=utf-8",
            Capability::AccessRecord => "application/json+fhir;charset=utf-8",
        }
    }

    fn edition(self, engine: &EngineHandle) -> SpecEdition {
        match self {
            Capability::Appointments => engine.engine.config().edition,
            Capability::AccessRecord => SpecEdition::AccessRecordHtml07,
        }
    }

    /// R83: GP Connect, then this capability, switched on for the practice.
    fn check_enabled(self, settings: &PracticeSettings) -> Result<(), Error> {
        let (on, name) = match self {
            Capability::Appointments => (
                settings.appointments_enabled,
                "GP Connect Appointment Management",
            ),
            Capability::AccessRecord => {
                (settings.access_record_enabled, "GP Connect Access Record")
            }
        };
        let what = match (settings.gp_connect_enabled, on) {
            (true, true) => return Ok(()),
            (false, _) => "GP Connect",
            (true, false) => name,
        };
        Err(Error::new(
            SpineCode::AccessDenied,
            format!("{what} is not enabled for this practice (R83)"),
        ))
    }
}

/// The OperationOutcome answer for `e`.
fn error_response(engine: &EngineHandle, capability: Capability, e: &Error) -> Response {
    let body = match capability {
        Capability::Appointments => {
            let config = engine.engine.config();
            fhir::to_json(&e.to_operation_outcome_stu3(&OutcomeOptions {
                system: config.error_code_system,
                edition: config.edition,
            }))
        }
        Capability::AccessRecord => fhir::to_json(&e.to_operation_outcome_dstu2()),
    };
    Response {
        status: e.status(),
        headers: vec![
            header(CONTENT_TYPE, capability.content_type()),
            header(CACHE_CONTROL, NO_STORE),
        ],
        body: CText::new(body),
        audit: None,
    }
}

/// The answer for a successful operation on practice `ods`.
fn answer_response<T: fhir::FhirResource>(
    engine: &EngineHandle,
    capability: Capability,
    ods: &str,
    answer: Answer<T>,
) -> Response {
    let mut headers = vec![
        header(CONTENT_TYPE, capability.content_type()),
        header(CACHE_CONTROL, NO_STORE),
    ];
    if let Some(version) = answer.version {
        headers.push(header(ETAG, &etag(version)));
    }
    if let Some(date) = answer.last_modified.and_then(http_date) {
        headers.push(header(LAST_MODIFIED, &date));
    }
    if let Some(location) = &answer.location {
        let config = engine.engine.config();
        let base = config.public_base_url.as_deref().unwrap_or("");
        let routing = if config.routing_segment.is_empty() {
            String::new()
        } else {
            format!("/{}", config.routing_segment)
        };
        headers.push(header(
            LOCATION,
            &format!("{base}/{ods}/STU3/1{routing}/{location}"),
        ));
    }
    Response {
        status: answer.status,
        headers,
        body: CText::new(fhir::to_json(&answer.body)),
        audit: None,
    }
}

/// Runs an operation of `capability` on practice `ods`.
fn run<T: fhir::FhirResource>(
    engine: &EngineHandle,
    capability: Capability,
    ods: &str,
    operation: impl FnOnce(&Context<'_>) -> Result<Answer<T>, Error>,
) -> Response {
    let practice = match engine.store.practice(ods) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return error_response(
                engine,
                capability,
                &Error::new(
                    SpineCode::OrganisationNotFound,
                    format!("no GP practice with ODS code {ods:?} is served here"),
                ),
            );
        }
        Err(e) => return error_response(engine, capability, &e.into()),
    };
    if let Err(e) = capability.check_enabled(&practice.settings) {
        return error_response(engine, capability, &e);
    }
    let ctx = Context {
        store: &*engine.store,
        practice: &practice,
        now: engine.clock.now(),
        edition: capability.edition(engine),
    };
    match operation(&ctx) {
        Ok(answer) => answer_response(engine, capability, ods, answer),
        Err(e) => error_response(engine, capability, &e),
    }
}

/// Decodes a JSON request body as resource `T` (400 / 422 as the front
/// door answers them).
fn json_body<T: fhir::FhirResource>(body: &[u8]) -> Result<T, Error> {
    Ok(fhir::decode(body, Format::Json, Limits::REQUEST)?)
}

/// The common prologue: the engine, the out-pointer, the ODS code.
///
/// # Safety
/// `ods` must be readable for `ods_len` bytes.
unsafe fn prologue<'a>(
    engine: *const gpc_engine,
    ods: *const c_char,
    ods_len: usize,
    response_out: *mut *mut gpc_response,
) -> FfiResult<(std::sync::Arc<EngineHandle>, &'a str)> {
    let handle = crate::engine::engine(engine)?;
    out_ptr(response_out, "response_out")?;
    // SAFETY: the caller's contract.
    let ods = unsafe { text(ods, ods_len, "ods") }?;
    Ok((handle, ods))
}

/// Loads or refreshes a practice from a FHIR `collection` Bundle (JSON, or
/// XML when its first non-blank byte is `<`; see docs/import.md). Answers
/// 200 with a JSON summary, `{"odsCode":"A00001","written":n,
/// "unchanged":n}`, or the import's error (400 not well-formed, 422 not a
/// valid practice bundle naming the entry and element, 500 a store
/// failure) as an OperationOutcome; nothing is written unless the whole
/// bundle is valid.
///
/// # Safety
///
/// `bundle` must be valid for reads of `bundle_len` bytes; `response_out`
/// must be a valid pointer to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_engine_import_practice(
    engine: *const gpc_engine,
    bundle: *const u8,
    bundle_len: usize,
    response_out: *mut *mut gpc_response,
) -> gpc_result {
    guard("gpc_engine_import_practice", || {
        let handle = crate::engine::engine(engine)?;
        out_ptr(response_out, "response_out")?;
        // SAFETY: the caller's contract.
        let bundle = unsafe { bytes(bundle, bundle_len, "bundle") }?;
        let format = match bundle.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'<') => Format::Xml,
            _ => Format::Json,
        };
        let response = match import_practice(&*handle.store, bundle, format) {
            Ok(report) => {
                let summary = serde_json::json!({
                    "odsCode": report.ods_code,
                    "written": report.summary.written,
                    "unchanged": report.summary.unchanged,
                });
                Response {
                    status: 200,
                    headers: vec![
                        header(CONTENT_TYPE, "application/json;charset=utf-8"),
                        header(CACHE_CONTROL, NO_STORE),
                    ],
                    body: CText::new(summary.to_string()),
                    audit: None,
                }
            }
            Err(e) => error_response(&handle, Capability::Appointments, &e),
        };
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { crate::response::give(response, response_out) }
    })
}

/// Searches practice `ods` for free slots (A1) starting at or after
/// `start` and ending at or before `end`: FHIR dates (`2030-03-04`) or UK
/// local date-times with an offset (`2030-03-04T09:00:00+00:00`), without
/// the `ge`/`le` prefixes; at most 14 days. Answers 200 with the searchset
/// Bundle (slots, schedules, practitioners, locations, the practice
/// Organization), or an OperationOutcome (422 for a bad range).
///
/// `requester_org_type` (e.g. `urgent-care`) and `requester_ods` name who
/// is asking, as A1's `searchFilter`s do: slots reserved for others are
/// left out. Either may be NULL.
///
/// # Safety
///
/// Each (pointer, length) pair must be readable for its length;
/// `response_out` must be a valid pointer to write to.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gpc_engine_search_free_slots(
    engine: *const gpc_engine,
    ods: *const c_char,
    ods_len: usize,
    start: *const c_char,
    start_len: usize,
    end: *const c_char,
    end_len: usize,
    requester_org_type: *const c_char,
    requester_org_type_len: usize,
    requester_ods: *const c_char,
    requester_ods_len: usize,
    response_out: *mut *mut gpc_response,
) -> gpc_result {
    guard("gpc_engine_search_free_slots", || {
        // SAFETY: the caller's contract, for each pair.
        let (handle, ods) = unsafe { prologue(engine, ods, ods_len, response_out) }?;
        // SAFETY: as above.
        let (start, end, org_type, requester_ods) = unsafe {
            (
                text(start, start_len, "start")?,
                text(end, end_len, "end")?,
                optional_text(
                    requester_org_type,
                    requester_org_type_len,
                    "requester_org_type",
                )?,
                optional_text(requester_ods, requester_ods_len, "requester_ods")?,
            )
        };
        let start = format!("ge{start}");
        let end = format!("le{end}");
        let mut filters = Vec::new();
        if let Some(t) = org_type {
            filters.push(format!("{}|{t}", code_system::ORGANISATION_TYPE));
        }
        if let Some(o) = requester_ods {
            filters.push(format!("{}|{o}", identifier_system::ODS_ORGANIZATION_CODE));
        }
        use appointments::search::param;
        let mut query: Vec<(&str, &str)> = vec![
            (param::START, &start),
            (param::END, &end),
            (param::STATUS, param::STATUS_FREE),
            (param::INCLUDE, param::SLOT_SCHEDULE),
            (param::INCLUDE_RECURSE, param::SCHEDULE_ACTOR_PRACTITIONER),
            (param::INCLUDE_RECURSE, param::SCHEDULE_ACTOR_LOCATION),
        ];
        query.extend(filters.iter().map(|f| (param::SEARCH_FILTER, f.as_str())));
        let response = run(&handle, Capability::Appointments, ods, |ctx| {
            let search = appointments::search::parse_slot_search(&query)?;
            appointments::search::search_free_slots(ctx, &search)
        });
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { crate::response::give(response, response_out) }
    })
}

/// Books an appointment (A2) at practice `ods`: `appointment` is the
/// GPConnect-Appointment-1 JSON a consumer would POST. Answers 201 with the
/// booked Appointment (and `ETag`, `Last-Modified`, `Location`), or an
/// OperationOutcome: 409 DUPLICATE_REJECTED when a slot is no longer free,
/// 422 for an invalid appointment, 404 for an unknown patient, ...
///
/// # Safety
///
/// Each (pointer, length) pair must be readable for its length;
/// `response_out` must be a valid pointer to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_engine_book(
    engine: *const gpc_engine,
    ods: *const c_char,
    ods_len: usize,
    appointment: *const u8,
    appointment_len: usize,
    response_out: *mut *mut gpc_response,
) -> gpc_result {
    guard("gpc_engine_book", || {
        // SAFETY: the caller's contract, for each pair.
        let (handle, ods) = unsafe { prologue(engine, ods, ods_len, response_out) }?;
        // SAFETY: as above.
        let body = unsafe { bytes(appointment, appointment_len, "appointment") }?;
        let response = run(&handle, Capability::Appointments, ods, |ctx| {
            let body: stu3::Appointment = json_body(body)?;
            appointments::book::book_appointment(ctx, body)
        });
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { crate::response::give(response, response_out) }
    })
}

/// Cancels appointment `id` (A5) at practice `ods`: `appointment` is the
/// cancelled Appointment JSON a consumer would PUT (the stored one with
/// `status` `cancelled` and a cancellation reason extension). `version`
/// is the version the caller read (its ETag is `W/"version"`), sent as
/// A5's required `If-Match`: the cancel fails with 409 if the appointment
/// has changed since. Answers 200 with the cancelled Appointment or an
/// OperationOutcome (409, 422 for an appointment already cancelled, ...).
///
/// # Safety
///
/// Each (pointer, length) pair must be readable for its length;
/// `response_out` must be a valid pointer to write to.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gpc_engine_cancel(
    engine: *const gpc_engine,
    ods: *const c_char,
    ods_len: usize,
    id: *const c_char,
    id_len: usize,
    version: u64,
    appointment: *const u8,
    appointment_len: usize,
    response_out: *mut *mut gpc_response,
) -> gpc_result {
    guard("gpc_engine_cancel", || {
        // SAFETY: the caller's contract, for each pair.
        let (handle, ods) = unsafe { prologue(engine, ods, ods_len, response_out) }?;
        // SAFETY: as above.
        let (id, body) = unsafe {
            (
                text(id, id_len, "id")?,
                bytes(appointment, appointment_len, "appointment")?,
            )
        };
        let if_match = etag(version);
        let response = run(&handle, Capability::Appointments, ods, |ctx| {
            let body: stu3::Appointment = json_body(body)?;
            appointments::cancel::cancel_appointment(ctx, id, Some(&if_match), body)
        });
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { crate::response::give(response, response_out) }
    })
}

/// Retrieves a section of a patient's Access Record (getcarerecord) at
/// practice `ods`: `parameters` is the DSTU2 `Parameters` JSON a consumer
/// would POST (`patientNHSNumber`, `recordSection`, optional
/// `timePeriod`). Answers 200 with the searchset Bundle (Patient,
/// Organization, usual GP, and the Composition whose section holds the
/// rendered HTML), or a DSTU2 OperationOutcome (400/422 for the request,
/// 404 for a patient whose record may not be shared, ...). The practice
/// must have GP Connect and Access Record switched on.
///
/// # Safety
///
/// Each (pointer, length) pair must be readable for its length;
/// `response_out` must be a valid pointer to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_engine_get_care_record(
    engine: *const gpc_engine,
    ods: *const c_char,
    ods_len: usize,
    parameters: *const u8,
    parameters_len: usize,
    response_out: *mut *mut gpc_response,
) -> gpc_result {
    guard("gpc_engine_get_care_record", || {
        // SAFETY: the caller's contract, for each pair.
        let (handle, ods) = unsafe { prologue(engine, ods, ods_len, response_out) }?;
        // SAFETY: as above.
        let body = unsafe { bytes(parameters, parameters_len, "parameters") }?;
        let response = run(&handle, Capability::AccessRecord, ods, |ctx| {
            // As the front door: a value the codec refuses inside a
            // parameter is an invalid parameter (accessrecord §4).
            let body: dstu2::Parameters = fhir::decode(body, Format::Json, Limits::REQUEST)
                .map_err(|e| match &e {
                    CodecError::Invalid { path, .. }
                        if path.starts_with("Parameters.parameter") =>
                    {
                        Error::invalid_parameter(e.to_string())
                    }
                    _ => Error::from(e),
                })?;
            // No token to compare: the host vouches for the caller.
            accessrecord::get_care_record(ctx, &body, None)
        });
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { crate::response::give(response, response_out) }
    })
}
