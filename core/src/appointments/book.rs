//! A2 Book an appointment: `POST /Appointment` → 201 with the created
//! Appointment, `ETag`, `Last-Modified` and `Location` (R17).
//!
//! Checks run from the body alone to what needs the appointment book, so
//! the answer names the most specific problem the consumer can fix:
//!
//! 1. The body, as a pure function ([`validate_booking_request`]): R2
//!    profile; R3 mandatory elements; R4 booking organisation; R7 lengths;
//!    R8 `reason`/`specialty`; R9 no cancellation reason; identifiers with
//!    system and value (profile); R10 reference syntax; R1 a future start.
//!    All 422 INVALID_RESOURCE.
//! 2. The patient (R22, R25): it must be registered at the practice (active,
//!    not deceased) and not PDS-sensitive; otherwise 404 PATIENT_NOT_FOUND,
//!    the same answer for all, so a sensitive patient's existence is not
//!    disclosed.
//! 3. The other references (R10): an unknown Location or Practitioner is 422
//!    INVALID_RESOURCE; an unknown `Slot/{id}` is 422 REFERENCE_NOT_FOUND.
//! 4. The slots together (pure, [`slots_form_one_booking`]): R14 adjacent,
//!    one schedule, one delivery channel, one slot type; R13 `start`/`end`
//!    equal the first slot's start and the last slot's end; the Location
//!    participant is the schedule's Location. 422 INVALID_RESOURCE.
//! 5. Each slot's availability to the booking organisation, by
//!    [`availability`] in its order: busy → 409 DUPLICATE_REJECTED (R11);
//!    Visit (R15), not bookable, reserved, outside the window (R12), started
//!    (R1) → 422 INVALID_RESOURCE.
//! 6. The store books atomically with the slot versions read in step 3 and
//!    the slot-count limits ([`limit_checks`], R12, R16). A slot taken
//!    meanwhile is 409 DUPLICATE_REJECTED; a limit reached is 422.
//!
//! What is stored is the consumer's Appointment minus what the provider
//! populates on every response (R18, R19, R49): `id`, `meta`,
//! `serviceType`, `serviceCategory`, the practitioner-role and
//! delivery-channel extensions and any Practitioner participant.
//! `Prefer: return=minimal` is the transport's business; the representation
//! is always returned.

use jiff::Timestamp;

use super::availability::{Requester, Unavailable, availability, limit_checks};
use super::response::appointment_resource;
use super::rules::{
    LocalReference, claims_appointment_profile, extensions_with, has_description,
    instant_timestamp, is_past, local_id, parse_reference, store_failure, within_length_limits,
};
use crate::checks::datetime::format_uk_local;
use crate::error::{Echo, Error, SpineCode};
use crate::operation::{Answer, Context};
use crate::store::{
    NewBooking, PatientRecord, RegistrationStatus, ScheduleRecord, SlotRecord, StoreError,
};
use crate::stu3::profiles::{code_system, extension, identifier_system};
use crate::stu3::{self, ExtensionValue, Organization, Resource};

/// What a valid book request asks for (the result of
/// [`validate_booking_request`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    /// The Patient participant's id.
    pub patient_id: String,
    /// The Location participant's id.
    pub location_id: String,
    /// The Practitioner participant's id, when one was sent (R5).
    pub practitioner_id: Option<String>,
    /// The slot ids, as sent.
    pub slot_ids: Vec<String>,
    /// `start`.
    pub start: Timestamp,
    /// `end`.
    pub end: Timestamp,
    /// The booking organisation's ODS code (R4).
    pub booking_ods: String,
    /// The booking organisation's `GPConnect-OrganisationType-1` code, when
    /// sent (R4; used for slot restrictions and limits, R12).
    pub organisation_type: Option<String>,
}

impl BookingRequest {
    /// Who is booking, for the availability rules (R12).
    pub fn requester(&self) -> Requester<'_> {
        Requester {
            organisation_type: self.organisation_type.as_deref(),
            ods_code: Some(&self.booking_ods),
        }
    }
}

/// Book an appointment (A2): see the module docs for the order of checks.
///
/// # Errors
/// 422 INVALID_RESOURCE / REFERENCE_NOT_FOUND, 404 PATIENT_NOT_FOUND, 409
/// DUPLICATE_REJECTED, 500 on a store failure.
pub fn book_appointment(
    ctx: &Context<'_>,
    body: stu3::Appointment,
) -> Result<Answer<stu3::Appointment>, Error> {
    let request = validate_booking_request(&body, ctx.now)?;
    let ods = ctx.ods();

    let patient = ctx
        .store
        .patient(ods, &request.patient_id)
        .map_err(store_failure)?;
    if !patient.as_ref().is_some_and(can_book_for) {
        return Err(Error::new(
            SpineCode::PatientNotFound,
            format!(
                "Patient/{} is not a patient of this practice who can be booked through GP Connect (R22, R25)",
                request.patient_id
            ),
        ));
    }
    if ctx
        .store
        .location(ods, &request.location_id)
        .map_err(store_failure)?
        .is_none()
    {
        return Err(Error::invalid_resource(format!(
            "The Location participant references Location/{}, which does not exist (R10)",
            request.location_id
        )));
    }
    if let Some(id) = &request.practitioner_id {
        if ctx
            .store
            .practitioner(ods, id)
            .map_err(store_failure)?
            .is_none()
        {
            return Err(Error::invalid_resource(format!(
                "The Practitioner participant references Practitioner/{id}, which does not exist (R10)"
            )));
        }
    }
    let mut slots = Vec::with_capacity(request.slot_ids.len());
    for id in &request.slot_ids {
        match ctx.store.slot(ods, id).map_err(store_failure)? {
            Some(slot) => slots.push(slot),
            None => return Err(slot_not_found(id)),
        }
    }
    slots.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    let Some(first) = slots.first() else {
        return Err(Error::invalid_resource(
            "Appointment.slot must reference at least one Slot (R3)",
        ));
    };
    let schedule = ctx
        .store
        .schedule(ods, &first.schedule_id)
        .map_err(store_failure)?
        .ok_or_else(|| {
            Error::internal(format!(
                "Schedule/{} of Slot/{} does not exist",
                first.schedule_id, first.id
            ))
        })?;
    slots_form_one_booking(&request, &slots, &schedule)?;

    let who = request.requester();
    for slot in &slots {
        availability(slot, ctx.practice, &who, ctx.now).map_err(|why| unavailable(slot, why))?;
    }
    let limits = limit_checks(ctx.practice, &who, first.start);
    let record = ctx
        .store
        .book(
            ods,
            NewBooking {
                slots: slots.iter().map(|s| (s.id.clone(), s.version)).collect(),
                patient_id: request.patient_id.clone(),
                start: request.start,
                end: request.end,
                booking_ods: Some(request.booking_ods.clone()),
                limits,
                now: ctx.now,
                resource: stored_resource(body),
            },
        )
        .map_err(book_store_error)?;

    let resource = appointment_resource(ctx, &record)?;
    Ok(Answer {
        status: 201,
        body: resource,
        version: Some(record.version),
        last_modified: Some(record.last_modified),
        location: Some(format!(
            "Appointment/{}/_history/{}",
            record.id, record.version
        )),
    })
}

/// R22/R25: a booking is for a registered (active, living) patient who is
/// not PDS-sensitive. Anyone else must be registered first (F4), or is not
/// served through GP Connect.
fn can_book_for(p: &PatientRecord) -> bool {
    !p.flags.sensitive
        && p.flags.registration == RegistrationStatus::Active
        && p.flags.deceased.is_none()
}

/// R10: a well-formed `Slot/{id}` that does not exist (the dev/errors
/// example's diagnostics).
fn slot_not_found(id: &str) -> Error {
    Error::new(
        SpineCode::ReferenceNotFound,
        format!(
            "Reference to Slot/{} - no such slot exists at the server (R10)",
            Echo(id)
        ),
    )
}

/// R11, R12, R15, R1: why a slot cannot be taken.
fn unavailable(slot: &SlotRecord, why: Unavailable) -> Error {
    let rule = match why {
        Unavailable::NotFree => {
            return Error::new(
                SpineCode::DuplicateRejected,
                format!("Slot/{} is already booked (R11)", slot.id),
            );
        }
        Unavailable::Visit => "R15",
        Unavailable::Started => "R1",
        Unavailable::NotBookable | Unavailable::Restricted | Unavailable::OutsideWindow => "R12",
    };
    Error::invalid_resource(format!(
        "Slot/{} cannot be booked: {} ({rule})",
        slot.id,
        why.describe()
    ))
}

/// The store's refusal of a booking it was asked to make atomically (R16).
fn book_store_error(e: StoreError) -> Error {
    match e {
        StoreError::SlotUnavailable { slot_id } => Error::new(
            SpineCode::DuplicateRejected,
            format!("Slot/{slot_id} was booked by someone else meanwhile (R11, R16)"),
        ),
        StoreError::VersionConflict { kind, id, .. } => Error::new(
            SpineCode::DuplicateRejected,
            format!("{kind}/{id} changed meanwhile; search for free slots again (R16)"),
        ),
        StoreError::NotFound { kind: "Slot", id } => slot_not_found(&id),
        StoreError::NotFound { kind, id } => {
            Error::invalid_resource(format!("{kind}/{id} does not exist (R10)"))
        }
        StoreError::LimitReached { .. } => Error::invalid_resource(
            "The booking organisation has reached the practice's limit of slots it may book that day (R12)",
        ),
        StoreError::Rejected(why) => Error::invalid_resource(why),
        other @ (StoreError::UnknownPractice(_)
        | StoreError::DuplicatePatient
        | StoreError::Backend(_)) => store_failure(other),
    }
}

/// The consumer's Appointment as stored: without what the provider
/// populates on every response (R18, R19, R49; see
/// [`AppointmentRecord::resource`](crate::store::AppointmentRecord::resource)).
pub fn stored_resource(mut body: stu3::Appointment) -> stu3::Appointment {
    body.id = None;
    body.meta = None;
    body.service_type.clear();
    body.service_category = None;
    body.extension
        .retain(|e| e.url != extension::PRACTITIONER_ROLE && e.url != extension::DELIVERY_CHANNEL);
    body.participant
        .retain(|p| !super::rules::actor_is(p, "Practitioner"));
    body.status = stu3::Code::from_static("booked");
    body
}

/// Check a book request body without the appointment book (see the module
/// docs, step 1), at `now`.
///
/// # Errors
/// 422 INVALID_RESOURCE naming the rule.
pub fn validate_booking_request(
    body: &stu3::Appointment,
    now: Timestamp,
) -> Result<BookingRequest, Error> {
    // R2.
    claims_appointment_profile(body)?;

    // R3: mandatory elements.
    if body.status != "booked" {
        return Err(Error::invalid_resource(format!(
            "Appointment.status must be 'booked', not {} (R3)",
            Echo(body.status.as_str())
        )));
    }
    let start = body
        .start
        .as_ref()
        .ok_or_else(|| Error::invalid_resource("Appointment.start is mandatory (R3)"))?;
    let end = body
        .end
        .as_ref()
        .ok_or_else(|| Error::invalid_resource("Appointment.end is mandatory (R3)"))?;
    if body.slot.is_empty() {
        return Err(Error::invalid_resource(
            "Appointment.slot must reference at least one Slot (R3)",
        ));
    }
    let participants = participants(body)?;
    let booking = booking_organisation(body)?;
    if body.created.is_none() {
        return Err(Error::invalid_resource(
            "Appointment.created is mandatory (R3)",
        ));
    }
    has_description(body)?;

    // R4.
    let (booking_ods, organisation_type) = booking_organisation_details(booking)?;

    // R7, R8, R9.
    within_length_limits(body)?;
    if !body.reason.is_empty() {
        return Err(Error::invalid_resource(
            "Appointment.reason must not be sent (R8)",
        ));
    }
    if !body.specialty.is_empty() {
        return Err(Error::invalid_resource(
            "Appointment.specialty must not be sent (R8)",
        ));
    }
    if extensions_with(&body.extension, extension::APPOINTMENT_CANCELLATION_REASON)
        .next()
        .is_some()
    {
        return Err(Error::invalid_resource(
            "The appointment cancellation reason extension must not be sent when booking (R9)",
        ));
    }
    if body
        .identifier
        .iter()
        .any(|i| i.system.is_none() || i.value.as_deref().is_none_or(str::is_empty))
    {
        return Err(Error::invalid_resource(
            "Every Appointment.identifier needs a system and a value (GPConnect-Appointment-1)",
        ));
    }

    // R10: slot reference syntax.
    let mut slot_ids: Vec<String> = Vec::with_capacity(body.slot.len());
    for (i, slot) in body.slot.iter().enumerate() {
        let id = local_id(Some(slot), "Slot", &format!("Appointment.slot[{i}]"))?;
        if slot_ids.iter().any(|s| s == id) {
            return Err(Error::invalid_resource(format!(
                "Slot/{id} is referenced more than once"
            )));
        }
        slot_ids.push(id.to_owned());
    }

    // Times, then R1.
    let start = instant_timestamp(start)
        .ok_or_else(|| Error::invalid_resource("Appointment.start is not a valid instant"))?;
    let end = instant_timestamp(end)
        .ok_or_else(|| Error::invalid_resource("Appointment.end is not a valid instant"))?;
    if end <= start {
        return Err(Error::invalid_resource(
            "Appointment.end must be after Appointment.start",
        ));
    }
    if is_past(start, now) {
        return Err(Error::invalid_resource(format!(
            "Appointment.start {} is not in the future; only future appointments can be booked (R1)",
            format_uk_local(start)
        )));
    }

    Ok(BookingRequest {
        patient_id: participants.patient.to_owned(),
        location_id: participants.location.to_owned(),
        practitioner_id: participants.practitioner.map(str::to_owned),
        slot_ids,
        start,
        end,
        booking_ods,
        organisation_type,
    })
}

struct Participants<'a> {
    patient: &'a str,
    location: &'a str,
    practitioner: Option<&'a str>,
}

/// R3 (a Patient and a Location, each participant with an actor), R5 (an
/// optional Practitioner) and R10 (local references only).
fn participants(body: &stu3::Appointment) -> Result<Participants<'_>, Error> {
    let mut patient = None;
    let mut location = None;
    let mut practitioner = None;
    for (i, p) in body.participant.iter().enumerate() {
        let what = format!("Appointment.participant[{i}].actor");
        let Some(value) = p.actor.as_ref().and_then(|a| a.reference.as_deref()) else {
            return Err(Error::invalid_resource(format!(
                "{what} is mandatory and must reference a Patient, Location or Practitioner (R3)"
            )));
        };
        let (kind, id) = match parse_reference(value) {
            Ok(LocalReference::Resource { kind, id }) => (kind, id),
            Ok(LocalReference::Contained(_)) => {
                return Err(Error::invalid_resource(format!(
                    "{what} must reference a Patient, Location or Practitioner of the practice, not a contained resource (R10)"
                )));
            }
            Err(problem) => {
                return Err(Error::invalid_resource(format!(
                    "{what}: {} (R10)",
                    problem.describe(value)
                )));
            }
        };
        let slot = match kind {
            "Patient" => &mut patient,
            "Location" => &mut location,
            "Practitioner" => &mut practitioner,
            other => {
                return Err(Error::invalid_resource(format!(
                    "{what} references a {}; only Patient, Location and Practitioner participants are allowed",
                    Echo(other)
                )));
            }
        };
        if slot.replace(id).is_some() {
            return Err(Error::invalid_resource(format!(
                "More than one {kind} participant was sent"
            )));
        }
    }
    let patient = patient.ok_or_else(|| {
        Error::invalid_resource("A participant whose actor is the Patient is mandatory (R3)")
    })?;
    let location = location.ok_or_else(|| {
        Error::invalid_resource(
            "A participant whose actor is the Location of the appointment is mandatory (R3)",
        )
    })?;
    Ok(Participants {
        patient,
        location,
        practitioner,
    })
}

/// R3: exactly one BookingOrganisation extension whose `valueReference` is
/// `#id` of a contained Organization, and no other contained resource (a
/// contained resource must be referenced, FHIR dom-3).
fn booking_organisation(body: &stu3::Appointment) -> Result<&Organization, Error> {
    let mut found = extensions_with(&body.extension, extension::BOOKING_ORGANISATION);
    let (Some(ext), None) = (found.next(), found.next()) else {
        return Err(Error::invalid_resource(format!(
            "Exactly one {} extension is mandatory (R3)",
            extension::BOOKING_ORGANISATION
        )));
    };
    let Some(ExtensionValue::Reference(reference)) = &ext.value else {
        return Err(Error::invalid_resource(
            "The booking organisation extension must carry a valueReference (R3)",
        ));
    };
    let value = reference.reference.as_deref().unwrap_or_default();
    let id = match parse_reference(value) {
        Ok(LocalReference::Contained(id)) => id,
        Ok(LocalReference::Resource { .. }) => {
            return Err(Error::invalid_resource(format!(
                "The booking organisation reference {} must be to a contained Organization (#id) (R3)",
                Echo(value)
            )));
        }
        Err(problem) => {
            return Err(Error::invalid_resource(format!(
                "The booking organisation {} (R3)",
                problem.describe(value)
            )));
        }
    };
    let mut organization = None;
    for r in &body.contained {
        match r {
            Resource::Organization(o) if o.id.as_ref().is_some_and(|i| i == id) => {
                organization = Some(&**o);
            }
            other => {
                return Err(Error::invalid_resource(format!(
                    "Contained {} is not the booking organisation; only the booking Organization may be contained (R3)",
                    other.resource_type()
                )));
            }
        }
    }
    organization.ok_or_else(|| {
        Error::invalid_resource(format!(
            "The booking organisation reference #{id} names no contained Organization (R3)"
        ))
    })
}

/// R4: the booking organisation has an ODS code, a name and a telecom; its
/// `type` (optional) is the organisation type for R12.
fn booking_organisation_details(org: &Organization) -> Result<(String, Option<String>), Error> {
    let ods = org
        .identifier
        .iter()
        .find(|i| i.system.as_deref() == Some(identifier_system::ODS_ORGANIZATION_CODE))
        .and_then(|i| i.value.as_deref())
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| {
            Error::invalid_resource(format!(
                "The booking organisation needs an identifier with system {} (R4)",
                identifier_system::ODS_ORGANIZATION_CODE
            ))
        })?;
    if org.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        return Err(Error::invalid_resource(
            "The booking organisation needs a name (R4)",
        ));
    }
    if !org
        .telecom
        .iter()
        .any(|t| t.value.as_deref().is_some_and(|v| !v.trim().is_empty()))
    {
        return Err(Error::invalid_resource(
            "The booking organisation needs a telecom (R4)",
        ));
    }
    let organisation_type = org
        .type_
        .iter()
        .flat_map(|t| &t.coding)
        .find(|c| c.system.as_deref() == Some(code_system::ORGANISATION_TYPE))
        .and_then(|c| c.code.as_ref())
        .map(|c| c.as_str().to_owned());
    Ok((ods.to_owned(), organisation_type))
}

/// R14 (adjacent, one schedule, one delivery channel, one slot type), R13
/// (`start`/`end` are the first slot's start and the last slot's end) and
/// the Location participant being the schedule's Location (R3: "where the
/// appointment takes place"). `slots` are in time order.
///
/// # Errors
/// 422 INVALID_RESOURCE naming the rule.
pub fn slots_form_one_booking(
    request: &BookingRequest,
    slots: &[SlotRecord],
    schedule: &ScheduleRecord,
) -> Result<(), Error> {
    let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
        return Err(Error::invalid_resource(
            "Appointment.slot must reference at least one Slot (R3)",
        ));
    };
    for pair in slots.windows(2) {
        let [a, b] = pair else { continue };
        let problem = if a.schedule_id != b.schedule_id {
            "belong to different schedules (R14b)"
        } else if b.start != a.end {
            "are not adjacent (R14a)"
        } else if a.delivery_channel != b.delivery_channel {
            "have different delivery channels (R14c)"
        } else if a.service_type != b.service_type {
            "have different slot types (R14d)"
        } else {
            continue;
        };
        return Err(Error::invalid_resource(format!(
            "Slot/{} and Slot/{} cannot be booked together: they {problem}",
            a.id, b.id
        )));
    }
    if request.start != first.start || request.end != last.end {
        return Err(Error::invalid_resource(format!(
            "Appointment start and end must be the first slot's start ({}) and the last slot's end ({}) (R13)",
            format_uk_local(first.start),
            format_uk_local(last.end)
        )));
    }
    if request.location_id != schedule.location_id {
        return Err(Error::invalid_resource(format!(
            "The Location participant must be Location/{}, where the slots' schedule is held (R3)",
            schedule.location_id
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::fixtures::*;
    use crate::fhir::{Limits, from_json};
    use crate::population::reference;
    use crate::store::{
        BookingWindow, OrganisationMatch, PracticeImport, PracticeStore, SlotCountLimit, SlotStatus,
    };
    use crate::stu3::{CodeableConcept, Extension, Instant, Meta};
    use crate::testkit::ODS;

    fn book(t: &Practice, body: stu3::Appointment) -> Result<Answer<stu3::Appointment>, Error> {
        book_appointment(&t.ctx(), body)
    }

    fn invalid(t: &Practice, body: stu3::Appointment) -> Error {
        assert_error(book(t, body), 422, SpineCode::InvalidResource)
    }

    fn organisation(a: &mut stu3::Appointment) -> &mut Organization {
        match a.contained.first_mut() {
            Some(Resource::Organization(o)) => o,
            other => panic!("contained: {other:?}"),
        }
    }

    #[test]
    fn r17_book_returns_201_with_location_etag_and_last_modified() {
        let t = Practice::new(now());
        let answer = ok(book(&t, t.book_body(&["14-2-0"])));
        assert_eq!(answer.status, 201);
        let id = answer.body.id.clone().expect("id");
        let version = answer.version.expect("version");
        assert_eq!(
            answer.location.as_deref(),
            Some(format!("Appointment/{id}/_history/{version}").as_str())
        );
        assert_eq!(answer.last_modified, Some(now()));
        assert_eq!(
            answer
                .body
                .meta
                .as_ref()
                .and_then(|m| m.version_id.as_ref())
                .map(|v| v.as_str().to_owned()),
            Some(version.to_string())
        );
        let slot = t.slot("14-2-0");
        assert_eq!(slot.status, SlotStatus::Busy);
        assert_eq!(slot.appointment_id.as_deref(), Some(id.as_str()));
        let record = t.appointment(id.as_str());
        assert_eq!(record.booking_ods.as_deref(), Some("A00001"));
        assert_eq!(record.patient_id, "2");
    }

    #[test]
    fn r17_response_has_the_shape_of_the_spec_example() {
        let t = Practice::new(now());
        let answer = ok(book(&t, t.book_body(&["14-2-0"])));
        let example: stu3::Appointment = from_json(
            include_str!("../../tests/data/stu3/book_appt_response_example.json").as_bytes(),
            Limits::REQUEST,
        )
        .expect("example");
        let mut got = answer.body;
        // What differs by construction: ids, versions, times, the slot,
        // the participants' ids, and the contained org (stored as sent, R20,
        // while the example's response dropped the request's `type`).
        got.id = example.id.clone();
        got.meta = example.meta.clone();
        got.start = example.start.clone();
        got.end = example.end.clone();
        got.slot = example.slot.clone();
        got.participant = example.participant.clone();
        got.contained = example.contained.clone();
        assert_eq!(got, example);
    }

    #[test]
    fn stored_resource_leaves_out_what_the_provider_populates() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.participant.push(stu3::AppointmentParticipant {
            actor: Some(reference("Practitioner", "3")),
            status: stu3::Code::from_static("accepted"),
            ..Default::default()
        });
        body.service_type = vec![CodeableConcept {
            text: Some("Mine".into()),
            ..Default::default()
        }];
        let answer = ok(book(&t, body));
        let record = t.appointment(answer.body.id.as_ref().expect("id").as_str());
        let r = &record.resource;
        assert!(r.id.is_none() && r.meta.is_none());
        assert!(r.service_type.is_empty() && r.service_category.is_none());
        assert_eq!(r.extension.len(), 1);
        assert_eq!(r.participant.len(), 2);
    }

    #[test]
    fn r2_profile_is_required() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.meta = None;
        let e = invalid(&t, body);
        assert!(e.diagnostics().contains("R2"), "{e}");
        let mut body = t.book_body(&["14-2-0"]);
        body.meta = Some(Meta {
            profile: vec!["https://example.org/Other".into()],
            ..Default::default()
        });
        invalid(&t, body);
    }

    #[test]
    fn r3_mandatory_elements_are_422() {
        let t = Practice::new(now());
        let cases: Vec<(&str, Edit)> = vec![
            ("start", |a| a.start = None),
            ("end", |a| a.end = None),
            ("status", |a| a.status = stu3::Code::from_static("proposed")),
            ("slot", |a| a.slot.clear()),
            ("participants", |a| a.participant.clear()),
            ("patient", |a| {
                a.participant.remove(0);
            }),
            ("location", |a| {
                a.participant.remove(1);
            }),
            ("actor", |a| a.participant[0].actor = None),
            ("actor reference", |a| {
                a.participant[1].actor = Some(stu3::Reference {
                    display: Some("Surgery".into()),
                    ..Default::default()
                })
            }),
            ("booking organisation", |a| a.extension.clear()),
            ("booking organisation twice", |a| {
                let e = a.extension[0].clone();
                a.extension.push(e);
            }),
            ("booking organisation not contained", |a| {
                a.extension[0].value =
                    Some(ExtensionValue::Reference(reference("Organization", "1")))
            }),
            ("booking organisation unknown", |a| {
                a.extension[0].value = Some(ExtensionValue::Reference(stu3::Reference {
                    reference: Some("#2".into()),
                    ..Default::default()
                }))
            }),
            ("booking organisation value", |a| {
                a.extension[0].value = Some(ExtensionValue::String("#1".into()))
            }),
            ("created", |a| a.created = None),
            ("description", |a| a.description = None),
            ("blank description", |a| a.description = Some("  ".into())),
        ];
        for (what, change) in cases {
            let mut body = t.book_body(&["14-2-0"]);
            change(&mut body);
            let e = assert_error(book(&t, body), 422, SpineCode::InvalidResource);
            assert!(e.diagnostics().contains("R3"), "{what}: {e}");
        }
        assert_eq!(t.slot("14-2-0").status, SlotStatus::Free);
    }

    #[test]
    fn r3_participant_status_is_required_by_the_codec() {
        let json =
            BOOK_EXAMPLE.replacen("\"status\": \"accepted\"", "\"required\": \"required\"", 1);
        let e: Error = from_json::<stu3::Appointment>(json.as_bytes(), Limits::REQUEST)
            .expect_err("participant.status is 1..1")
            .into();
        assert_eq!((e.status(), e.code()), (422, SpineCode::InvalidResource));
    }

    #[test]
    fn r4_booking_organisation_needs_ods_code_name_and_telecom() {
        let t = Practice::new(now());
        let cases: Vec<fn(&mut Organization)> = vec![
            |o| o.identifier.clear(),
            |o| {
                o.identifier[0].system =
                    Some("https://fhir.nhs.uk/Id/local-organization-code".into())
            },
            |o| o.identifier[0].value = Some(" ".into()),
            |o| o.name = None,
            |o| o.telecom.clear(),
        ];
        for change in cases {
            let mut body = t.book_body(&["14-2-0"]);
            change(organisation(&mut body));
            let e = invalid(&t, body);
            assert!(e.diagnostics().contains("R4"), "{e}");
        }
    }

    #[test]
    fn r4_booking_organisation_type_is_optional() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        organisation(&mut body).type_.clear();
        assert_eq!(ok(book(&t, body)).status, 201);
    }

    #[test]
    fn r5_practitioner_participant_is_optional_but_must_exist() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.participant.push(stu3::AppointmentParticipant {
            actor: Some(reference("Practitioner", "99")),
            status: stu3::Code::from_static("accepted"),
            ..Default::default()
        });
        let e = invalid(&t, body.clone());
        assert!(e.diagnostics().contains("Practitioner/99"), "{e}");
        body.participant[2].actor = Some(reference("Practitioner", "2"));
        assert_eq!(ok(book(&t, body)).status, 201);
    }

    #[test]
    fn r7_description_and_comment_lengths() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.description = Some("d".repeat(101));
        assert!(invalid(&t, body).diagnostics().contains("R7"));
        let mut body = t.book_body(&["14-2-0"]);
        body.comment = Some("c".repeat(501));
        assert!(invalid(&t, body).diagnostics().contains("R7"));
        let mut body = t.book_body(&["14-2-0"]);
        body.description = Some("d".repeat(100));
        body.comment = Some("c".repeat(500));
        let answer = ok(book(&t, body));
        assert_eq!(answer.body.description.map(|d| d.len()), Some(100));
        assert_eq!(answer.body.comment.map(|c| c.len()), Some(500));
    }

    #[test]
    fn r8_reason_and_specialty_are_422() {
        let t = Practice::new(now());
        let concept = CodeableConcept {
            text: Some("x".into()),
            ..Default::default()
        };
        let mut body = t.book_body(&["14-2-0"]);
        body.reason = vec![concept.clone()];
        assert!(invalid(&t, body).diagnostics().contains("R8"));
        let mut body = t.book_body(&["14-2-0"]);
        body.specialty = vec![concept];
        assert!(invalid(&t, body).diagnostics().contains("R8"));
    }

    #[test]
    fn r8_unknown_elements_and_profile_zero_elements_fail_to_decode() {
        for (from, to) in [
            (
                "\"status\": \"booked\"",
                "\"status\": \"booked\", \"foo\": 1",
            ),
            (
                "\"status\": \"booked\"",
                "\"status\": \"booked\", \"appointmentType\": {\"text\": \"x\"}",
            ),
        ] {
            let json = BOOK_EXAMPLE.replacen(from, to, 1);
            let e: Error = from_json::<stu3::Appointment>(json.as_bytes(), Limits::REQUEST)
                .expect_err("unknown element")
                .into();
            assert_eq!((e.status(), e.code()), (422, SpineCode::InvalidResource));
        }
    }

    #[test]
    fn r9_cancellation_reason_on_book_is_422() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.extension.push(Extension {
            url: extension::APPOINTMENT_CANCELLATION_REASON.into(),
            value: Some(ExtensionValue::String("no".into())),
            ..Default::default()
        });
        assert!(invalid(&t, body).diagnostics().contains("R9"));
    }

    #[test]
    fn identifiers_need_system_and_value() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.identifier = vec![stu3::Identifier {
            system: Some("https://fhir.nhs.uk/Id/gpconnect-appointment-identifier".into()),
            value: None,
            ..Default::default()
        }];
        invalid(&t, body.clone());
        body.identifier[0].value = Some("898976578".into());
        let answer = ok(book(&t, body.clone()));
        // R47: business identifiers are returned.
        assert_eq!(answer.body.identifier, body.identifier);
    }

    #[test]
    fn r6_comment_is_optional() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.comment = None;
        let answer = ok(book(&t, body));
        assert_eq!(answer.body.comment, None);
    }

    #[test]
    fn r24_dissent_to_share_does_not_apply_to_appointments() {
        let t = Practice::new(now());
        let mut patient = t.store.patient(ODS, "3").expect("read").expect("patient");
        patient.flags.dissent = true;
        t.store
            .import(
                ODS,
                PracticeImport {
                    patients: vec![patient],
                    ..Default::default()
                },
            )
            .expect("import");
        let mut body = t.book_body(&["14-2-0"]);
        body.participant[0].actor = Some(reference("Patient", "3"));
        assert_eq!(ok(book(&t, body)).status, 201);
    }

    #[test]
    fn r10_malformed_or_absolute_slot_references_are_invalid_resource() {
        let t = Practice::new(now());
        for bad in [
            "Slot/45555555##",
            "https://test1.supplier.thirdparty.nhs.uk/A11111/STU3/1/GPConnect/Slot/#12345",
            "Schedule/14",
        ] {
            let mut body = t.book_body(&["14-2-0"]);
            body.slot[0].reference = Some(bad.into());
            let e = invalid(&t, body);
            assert!(e.diagnostics().contains("R10"), "{bad}: {e}");
        }
    }

    #[test]
    fn r10_unknown_slot_is_reference_not_found() {
        let t = Practice::new(now());
        for unknown in ["Slot/hello", "Slot/45555g55555"] {
            let mut body = t.book_body(&["14-2-0"]);
            body.slot[0].reference = Some(unknown.into());
            let e = assert_error(book(&t, body), 422, SpineCode::ReferenceNotFound);
            assert!(e.diagnostics().contains("no such slot"), "{e}");
        }
    }

    #[test]
    fn r10_unknown_or_absolute_participants_are_invalid_resource() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.participant[1].actor = Some(reference("Location", "404"));
        invalid(&t, body);
        let mut body = t.book_body(&["14-2-0"]);
        body.participant[0].actor = Some(stu3::Reference {
            reference: Some("https://example.org/Patient/2".into()),
            ..Default::default()
        });
        invalid(&t, body);
        let mut body = t.book_body(&["14-2-0"]);
        body.participant[0].actor = Some(reference("Device", "2"));
        invalid(&t, body);
    }

    #[test]
    fn r10_absolute_booking_organisation_reference_is_422() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.extension[0].value = Some(ExtensionValue::Reference(stu3::Reference {
            reference: Some("https://example.org/Organization/1".into()),
            ..Default::default()
        }));
        invalid(&t, body);
    }

    #[test]
    fn r22_r25_patient_must_be_registered_and_not_sensitive() {
        let t = Practice::new(now());
        // 404: unknown; 4 sensitive; 5 deceased; 6 left the practice.
        for id in ["404", "4", "5", "6"] {
            let mut body = t.book_body(&["14-2-0"]);
            body.participant[0].actor = Some(reference("Patient", id));
            let e = assert_error(book(&t, body), 404, SpineCode::PatientNotFound);
            assert!(!e.diagnostics().contains("sensitive"), "{e}");
        }
        assert_eq!(t.slot("14-2-0").status, SlotStatus::Free);
    }

    #[test]
    fn r11_second_booking_of_a_slot_is_409() {
        let t = Practice::new(now());
        t.book(&["14-2-0"]);
        let mut body = t.book_body(&["14-2-0"]);
        body.participant[0].actor = Some(reference("Patient", "3"));
        assert_error(book(&t, body), 409, SpineCode::DuplicateRejected);
        // A slot the practice booked itself.
        assert_error(
            book(&t, t.book_body(&["14-1-5"])),
            409,
            SpineCode::DuplicateRejected,
        );
    }

    #[test]
    fn r12_unbookable_and_restricted_slots_are_422() {
        let t = Practice::new(now());
        for slot in ["14-1-1", "14-1-3", "14-1-4"] {
            let e = invalid(&t, t.book_body(&[slot]));
            assert!(e.diagnostics().contains("R12"), "{slot}: {e}");
        }
        // The urgent-care slot is bookable by an urgent-care organisation…
        let mut body = t.book_body(&["14-1-3"]);
        organisation(&mut body).type_[0].coding[0].code =
            Some(stu3::Code::from_static("urgent-care"));
        assert_eq!(ok(book(&t, body)).status, 201);
        // …and the ODS-reserved one by that organisation.
        let mut body = t.book_body(&["14-1-4"]);
        organisation(&mut body).identifier[0].value = Some("B82001".into());
        assert_eq!(ok(book(&t, body)).status, 201);
    }

    #[test]
    fn r12_booking_window_is_enforced() {
        let t = Practice::with_settings(now(), |p| {
            p.settings.booking_window = BookingWindow {
                max_days_ahead: Some(1),
                min_notice_minutes: None,
            }
        });
        let e = invalid(&t, t.book_body(&["14-2-0"]));
        assert!(e.diagnostics().contains("booking window"), "{e}");
        assert_eq!(ok(book(&t, t.book_body(&["14-1-0"]))).status, 201);
    }

    #[test]
    fn r12_slot_count_limit_is_enforced() {
        let t = Practice::with_settings(now(), |p| {
            p.settings.slot_limits = vec![SlotCountLimit {
                applies_to: OrganisationMatch::OdsCode("A00001".into()),
                max_slots_per_day: 1,
            }]
        });
        t.book(&["14-2-0"]);
        let e = invalid(&t, t.book_body(&["14-2-2"]));
        assert!(e.diagnostics().contains("limit"), "{e}");
        assert_eq!(t.slot("14-2-2").status, SlotStatus::Free);
        // Another day has its own count.
        assert_eq!(ok(book(&t, t.book_body(&["14-3-0"]))).status, 201);
    }

    #[test]
    fn r13_start_and_end_must_match_the_slots() {
        let t = Practice::new(now());
        let slot = t.slot("14-2-0");
        let mut body = t.book_body(&["14-2-0"]);
        body.start = Instant::new(format_uk_local(
            slot.start + jiff::SignedDuration::from_mins(1),
        ))
        .ok();
        assert!(invalid(&t, body).diagnostics().contains("R13"));
        let mut body = t.book_body(&["14-2-0"]);
        body.end = Instant::new(format_uk_local(
            slot.end + jiff::SignedDuration::from_mins(5),
        ))
        .ok();
        assert!(invalid(&t, body).diagnostics().contains("R13"));
        // The same instants in another offset are the same times.
        let mut body = t.book_body(&["14-2-0"]);
        body.start = Instant::new(slot.start.to_string()).ok();
        assert_eq!(ok(book(&t, body)).status, 201);
    }

    /// Slot 14-2-1 with the slot type of 14-2-0 (the testkit alternates
    /// types), so the two can be booked together.
    fn same_type_neighbours(t: &Practice) {
        let mut slot = t.slot("14-2-1");
        slot.service_type = t.slot("14-2-0").service_type;
        t.store
            .import(
                ODS,
                PracticeImport {
                    slots: vec![slot],
                    ..Default::default()
                },
            )
            .expect("import");
    }

    #[test]
    fn r14_adjacent_slots_of_one_schedule_are_booked_together() {
        let t = Practice::new(now());
        same_type_neighbours(&t);
        let answer = ok(book(&t, t.book_body(&["14-2-1", "14-2-0"])));
        assert_eq!(answer.body.slot.len(), 2);
        let record = t.appointment(answer.body.id.as_ref().expect("id").as_str());
        assert_eq!(record.slot_ids, ["14-2-0", "14-2-1"]);
        assert_eq!(
            (record.start, record.end),
            (t.slot("14-2-0").start, t.slot("14-2-1").end)
        );
        assert_eq!(t.slot("14-2-1").status, SlotStatus::Busy);
    }

    #[test]
    fn r14_slots_must_be_adjacent() {
        let t = Practice::new(now());
        let e = invalid(&t, t.book_body(&["14-2-0", "14-2-2"]));
        assert!(e.diagnostics().contains("R14a"), "{e}");
    }

    #[test]
    fn r14_slots_must_share_a_schedule() {
        let t = Practice::new(now());
        // 14-2-0 ends when 15-2-1 starts.
        let e = invalid(&t, t.book_body(&["14-2-0", "15-2-1"]));
        assert!(e.diagnostics().contains("R14b"), "{e}");
    }

    #[test]
    fn r14_slots_must_share_a_delivery_channel() {
        let t = Practice::new(now());
        let mut slot = t.slot("14-2-1");
        slot.delivery_channel = "Telephone".into();
        slot.service_type = t.slot("14-2-0").service_type;
        t.store
            .import(
                ODS,
                PracticeImport {
                    slots: vec![slot],
                    ..Default::default()
                },
            )
            .expect("import");
        let e = invalid(&t, t.book_body(&["14-2-0", "14-2-1"]));
        assert!(e.diagnostics().contains("R14c"), "{e}");
    }

    #[test]
    fn r14_slots_must_share_a_slot_type() {
        let t = Practice::new(now());
        let e = invalid(&t, t.book_body(&["14-2-0", "14-2-1"]));
        assert!(e.diagnostics().contains("R14d"), "{e}");
    }

    #[test]
    fn location_participant_must_be_the_schedules_location() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.participant[1].actor = Some(reference("Location", "18"));
        let e = invalid(&t, body);
        assert!(e.diagnostics().contains("Location/17"), "{e}");
    }

    #[test]
    fn r15_visit_slots_are_422() {
        let t = Practice::new(now());
        let e = invalid(&t, t.book_body(&["14-1-2"]));
        assert!(e.diagnostics().contains("R15"), "{e}");
    }

    #[test]
    fn r1_past_start_is_422() {
        let t = Practice::new(now());
        let body = t.book_body(&["14-1-0"]);
        let late = t.slot("14-1-0").start + jiff::SignedDuration::from_mins(1);
        let e = assert_error(
            book_appointment(&t.ctx_at(late), body),
            422,
            SpineCode::InvalidResource,
        );
        assert!(e.diagnostics().contains("R1"), "{e}");
    }

    #[test]
    fn r19_consumer_service_type_and_category_are_ignored() {
        let t = Practice::new(now());
        let mut body = t.book_body(&["14-2-0"]);
        body.service_type = vec![CodeableConcept {
            text: Some("RANDOM TYPE TEXT".into()),
            ..Default::default()
        }];
        body.service_category = Some(CodeableConcept {
            text: Some("RANDOM".into()),
            ..Default::default()
        });
        let answer = ok(book(&t, body));
        assert_eq!(
            answer.body.service_type[0].text.as_deref(),
            Some("General GP Appointment")
        );
        assert_eq!(
            answer.body.service_category.and_then(|c| c.text),
            Some("General GP Appointments".into())
        );
    }

    #[test]
    fn telephone_slots_of_the_branch_can_be_booked() {
        let t = Practice::new(now());
        let answer = ok(book(&t, t.book_body(&["15-3-4"])));
        assert_eq!(
            answer
                .body
                .extension
                .iter()
                .find(|e| e.url == extension::DELIVERY_CHANNEL)
                .and_then(|e| e.value.clone()),
            Some(ExtensionValue::Code(stu3::Code::from_static("Telephone")))
        );
    }

    #[test]
    fn r16_store_refusals_of_a_booking_keep_their_meaning() {
        let cases = [
            (
                StoreError::SlotUnavailable {
                    slot_id: "14-2-0".into(),
                },
                409,
                SpineCode::DuplicateRejected,
            ),
            (
                StoreError::VersionConflict {
                    kind: "Slot",
                    id: "14-2-0".into(),
                    expected: 1,
                    actual: 2,
                },
                409,
                SpineCode::DuplicateRejected,
            ),
            (
                StoreError::NotFound {
                    kind: "Slot",
                    id: "14-2-0".into(),
                },
                422,
                SpineCode::ReferenceNotFound,
            ),
            (
                StoreError::LimitReached {
                    key: "ods:A00001:2026-11-27".into(),
                },
                422,
                SpineCode::InvalidResource,
            ),
            (
                StoreError::Rejected("no".into()),
                422,
                SpineCode::InvalidResource,
            ),
            (
                StoreError::DuplicatePatient,
                500,
                SpineCode::InternalServerError,
            ),
            (
                StoreError::Backend("disk".into()),
                500,
                SpineCode::InternalServerError,
            ),
        ];
        for (e, status, code) in cases {
            let mapped = book_store_error(e);
            assert_eq!((mapped.status(), mapped.code()), (status, code), "{mapped}");
        }
    }

    #[test]
    fn validation_is_pure_and_reports_the_request() {
        let t = Practice::new(now());
        let request = validate_booking_request(&t.book_body(&["14-2-0"]), now()).expect("valid");
        assert_eq!(request.slot_ids, ["14-2-0"]);
        assert_eq!(request.patient_id, "2");
        assert_eq!(request.location_id, "17");
        assert_eq!(request.booking_ods, "A00001");
        assert_eq!(request.organisation_type.as_deref(), Some("gp-practice"));
    }
}
