//! The Appointment every appointment interaction returns (R18, R47–R49),
//! built from the stored record and the *current* slots, schedule and
//! practitioner, so a response always reflects the appointment book as it
//! is now (R49).
//!
//! What the provider populates (never taken from the consumer, R19):
//! - `id`, and `meta` with `versionId` and the GPConnect-Appointment-1
//!   profile (R47);
//! - `status` from the record;
//! - `serviceType[0].text` = the slot type (SHALL) and `serviceCategory.text`
//!   = the schedule type, where the schedule has one (R18);
//! - the `Extension-GPConnect-PractitionerRole-1` (from the schedule) and
//!   `Extension-GPConnect-DeliveryChannel-2` (from the slot) extensions,
//!   after the stored ones (booking organisation, cancellation reason), as
//!   in the spec's response examples;
//! - `slot` references, `start` and `end` from the record, and `created` in
//!   UK local time with its offset (R18);
//! - participants: the Patient and Location as stored (added from the
//!   record and schedule when the host stored none), and the Practitioner of
//!   the schedule *now* (R49); a consumer's Practitioner participant is
//!   never echoed;
//! - never `reason` or `specialty` (R18).
//!
//! Visit appointments (R48, 1.2.9) are returned like any other, with their
//! Location participant pointing at the practice's "unknown" visit Location
//! and the kind of visit in `comment`. The practice holds that Location as
//! `Location/`[`UNKNOWN_VISIT_LOCATION_ID`] (a readable resource, as in the
//! spec's `unknown_visit_location_example`); a practice that has not loaded
//! it gets the same Location contained in the Appointment instead, so the
//! response is still complete.
//!
//! Data that cannot make a valid GPConnect-Appointment-1 (no slot, a slot
//! or schedule that no longer exists, no description, an identifier without
//! system or value) is 500 INTERNAL_SERVER_ERROR with diagnostics (R46).

use crate::error::Error;
use crate::fhir::datatypes::{Address, CodeableConcept, Extension, ExtensionValue, Reference};
use crate::fhir::primitive::{Code, Id, is_valid_id};
use crate::operation::Context;
use crate::population::{self, reference};
use crate::store::{
    AppointmentRecord, AppointmentStatus, DELIVERY_CHANNEL_VISIT, ScheduleRecord, SlotRecord,
};
use crate::stu3::profiles::{extension, profile};
use crate::stu3::{self, AppointmentParticipant, Resource};

use super::rules::{actor_is, no_such_appointment, store_failure, uk_date_time, uk_instant};

/// Id of the practice's "unknown" visit Location (R48): the Location every
/// Visit appointment's Location participant references.
pub const UNKNOWN_VISIT_LOCATION_ID: &str = "unknown-visit-location";

/// `name` of the "unknown" visit Location (R48, the spec's example).
pub const UNKNOWN_VISIT_LOCATION_NAME: &str = "Contact practice for location of the visit";

/// Id of the contained stand-in when the practice has no
/// `Location/`[`UNKNOWN_VISIT_LOCATION_ID`].
pub const CONTAINED_VISIT_LOCATION_ID: &str = "visit-location";

/// `comment` of a Visit appointment the host stored without the kind of
/// visit (R48).
pub const VISIT_COMMENT_FALLBACK: &str = "Visit";

/// The slots an appointment holds (or held) and the schedule of the first,
/// as they are now.
#[derive(Debug, Clone, PartialEq)]
pub struct BookedSlots {
    /// The slots, in the record's (time) order; never empty.
    pub slots: Vec<SlotRecord>,
    /// The first slot's schedule.
    pub schedule: ScheduleRecord,
}

impl BookedSlots {
    /// Load the slots and schedule of `record`.
    ///
    /// # Errors
    /// 500 when the appointment holds no slot or one of them, or their
    /// schedule, no longer exists (R46).
    pub fn load(ctx: &Context<'_>, record: &AppointmentRecord) -> Result<BookedSlots, Error> {
        let incomplete = |why: String| {
            Error::internal(format!(
                "Appointment/{} cannot be returned as a GPConnect-Appointment-1: {why} (R46)",
                record.id
            ))
        };
        let mut slots = Vec::with_capacity(record.slot_ids.len());
        for id in &record.slot_ids {
            match ctx.store.slot(ctx.ods(), id).map_err(store_failure)? {
                Some(slot) => slots.push(slot),
                None => return Err(incomplete(format!("its Slot/{id} does not exist"))),
            }
        }
        let Some(first) = slots.first() else {
            return Err(incomplete(
                "it holds no slot, so it has no slot type".to_owned(),
            ));
        };
        let schedule = ctx
            .store
            .schedule(ctx.ods(), &first.schedule_id)
            .map_err(store_failure)?
            .ok_or_else(|| {
                incomplete(format!(
                    "Schedule/{} of Slot/{} does not exist",
                    first.schedule_id, first.id
                ))
            })?;
        Ok(BookedSlots { slots, schedule })
    }

    /// The first slot (always `Some` once [`BookedSlots::load`]ed).
    pub fn first(&self) -> Option<&SlotRecord> {
        self.slots.first()
    }

    /// Whether the appointment is a Visit: any of its slots has the `Visit`
    /// delivery channel (R31, R40, R48).
    pub fn is_visit(&self) -> bool {
        self.slots
            .iter()
            .any(|s| s.delivery_channel == DELIVERY_CHANNEL_VISIT)
    }
}

/// The appointment `id` as the API may show it. Unknown → 404
/// NO_RECORD_FOUND (R32, R45); an appointment of a PDS-sensitive patient
/// gets the same answer, so that neither it nor the patient is disclosed
/// (R25: S-flagged patients are not served).
///
/// # Errors
/// 404 NO_RECORD_FOUND, or 500 when the store fails.
pub fn visible_appointment(ctx: &Context<'_>, id: &str) -> Result<AppointmentRecord, Error> {
    if !is_valid_id(id) {
        return Err(no_such_appointment(id));
    }
    let record = ctx
        .store
        .appointment(ctx.ods(), id)
        .map_err(store_failure)?
        .ok_or_else(|| no_such_appointment(id))?;
    let sensitive = ctx
        .store
        .patient(ctx.ods(), &record.patient_id)
        .map_err(store_failure)?
        .is_some_and(|p| p.flags.sensitive);
    if sensitive {
        return Err(no_such_appointment(id));
    }
    Ok(record)
}

/// The Appointment to return for `record` (R18, R47–R49): see the module
/// docs.
///
/// # Errors
/// 500 INTERNAL_SERVER_ERROR when the stored data cannot make a valid
/// resource (R46), or the store fails.
pub fn appointment_resource(
    ctx: &Context<'_>,
    record: &AppointmentRecord,
) -> Result<stu3::Appointment, Error> {
    let booked = BookedSlots::load(ctx, record)?;
    populate(ctx, record, &booked)
}

/// [`appointment_resource`] with the slots already loaded.
///
/// # Errors
/// As [`appointment_resource`].
pub fn populate(
    ctx: &Context<'_>,
    record: &AppointmentRecord,
    booked: &BookedSlots,
) -> Result<stu3::Appointment, Error> {
    let incomplete = |why: &str| {
        Error::internal(format!(
            "Appointment/{} cannot be returned as a GPConnect-Appointment-1: {why} (R46)",
            record.id
        ))
    };
    let Some(first) = booked.first() else {
        return Err(incomplete("it holds no slot"));
    };
    let schedule = &booked.schedule;
    let mut a = record.resource.clone();

    a.id = Some(Id::new(record.id.clone()).map_err(|e| incomplete(&e))?);
    a.meta = Some(population::meta(profile::APPOINTMENT, record.version));
    a.status = Code::from_static(match record.status {
        AppointmentStatus::Booked => "booked",
        AppointmentStatus::Cancelled => "cancelled",
    });
    a.reason.clear();
    a.specialty.clear();
    if a.description.as_deref().is_none_or(|d| d.trim().is_empty()) {
        return Err(incomplete("it has no description"));
    }
    if a.identifier
        .iter()
        .any(|i| i.system.is_none() || i.value.is_none())
    {
        return Err(incomplete("an identifier lacks its system or value (R47)"));
    }

    a.service_type = vec![CodeableConcept {
        text: Some(first.service_type.clone()),
        ..Default::default()
    }];
    a.service_category = schedule.schedule_type.as_ref().map(|t| CodeableConcept {
        text: Some(t.clone()),
        ..Default::default()
    });

    a.extension
        .retain(|e| e.url != extension::PRACTITIONER_ROLE && e.url != extension::DELIVERY_CHANNEL);
    if let Some(role) = &schedule.practitioner_role {
        a.extension.push(Extension {
            url: extension::PRACTITIONER_ROLE.to_owned(),
            value: Some(ExtensionValue::CodeableConcept(CodeableConcept {
                coding: vec![role.clone()],
                ..Default::default()
            })),
            ..Default::default()
        });
    }
    let channel = Code::new(first.delivery_channel.clone()).map_err(|e| incomplete(&e))?;
    a.extension.push(Extension {
        url: extension::DELIVERY_CHANNEL.to_owned(),
        value: Some(ExtensionValue::Code(channel)),
        ..Default::default()
    });

    // The stored slot references are kept when they name the record's
    // slots (so what the consumer sent comes back), else rebuilt.
    let mut stored: Vec<&str> = a
        .slot
        .iter()
        .filter_map(|r| r.reference.as_deref())
        .collect();
    let mut held: Vec<String> = record
        .slot_ids
        .iter()
        .map(|s| format!("Slot/{s}"))
        .collect();
    stored.sort_unstable();
    held.sort_unstable();
    if a.slot.len() != record.slot_ids.len() || stored != held {
        a.slot = record
            .slot_ids
            .iter()
            .map(|id| reference("Slot", id))
            .collect();
    }

    a.start = Some(uk_instant(record.start)?);
    a.end = Some(uk_instant(record.end)?);
    a.created = a.created.as_ref().map(uk_date_time);

    let mut participants: Vec<AppointmentParticipant> = std::mem::take(&mut a.participant)
        .into_iter()
        .filter(|p| !actor_is(p, "Practitioner"))
        .collect();
    if !participants.iter().any(|p| actor_is(p, "Patient")) {
        participants.insert(0, participant(reference("Patient", &record.patient_id)));
    }
    if booked.is_visit() {
        let visit_location = visit_location(ctx, &mut a)?;
        let mut replaced = false;
        for p in participants.iter_mut().filter(|p| actor_is(p, "Location")) {
            p.actor = Some(visit_location.clone());
            replaced = true;
        }
        if !replaced {
            participants.push(participant(visit_location));
        }
        if a.comment.as_deref().is_none_or(|c| c.trim().is_empty()) {
            a.comment = Some(VISIT_COMMENT_FALLBACK.to_owned());
        }
    } else if !participants.iter().any(|p| actor_is(p, "Location")) {
        participants.push(participant(reference("Location", &schedule.location_id)));
    }
    if let Some(practitioner_id) = &schedule.practitioner_id {
        if ctx
            .store
            .practitioner(ctx.ods(), practitioner_id)
            .map_err(store_failure)?
            .is_none()
        {
            return Err(incomplete(&format!(
                "Practitioner/{practitioner_id} of Schedule/{} does not exist",
                schedule.id
            )));
        }
        participants.push(participant(reference("Practitioner", practitioner_id)));
    }
    a.participant = participants;
    Ok(a)
}

/// An accepted participant.
fn participant(actor: Reference) -> AppointmentParticipant {
    AppointmentParticipant {
        actor: Some(actor),
        status: Code::from_static("accepted"),
        ..Default::default()
    }
}

/// The reference to the "unknown" visit Location (R48): the practice's
/// `Location/`[`UNKNOWN_VISIT_LOCATION_ID`] when it has one, otherwise a
/// contained copy added to `a` (see the module docs).
fn visit_location(ctx: &Context<'_>, a: &mut stu3::Appointment) -> Result<Reference, Error> {
    if ctx
        .store
        .location(ctx.ods(), UNKNOWN_VISIT_LOCATION_ID)
        .map_err(store_failure)?
        .is_some()
    {
        return Ok(reference("Location", UNKNOWN_VISIT_LOCATION_ID));
    }
    let already = a.contained.iter().any(|r| {
        matches!(r, Resource::Location(l)
            if l.id.as_ref().is_some_and(|i| i == CONTAINED_VISIT_LOCATION_ID))
    });
    if !already {
        a.contained
            .push(unknown_visit_location(ctx, CONTAINED_VISIT_LOCATION_ID)?.into());
    }
    Ok(Reference {
        reference: Some(format!("#{CONTAINED_VISIT_LOCATION_ID}")),
        ..Default::default()
    })
}

/// The "unknown" visit Location of the spec's example (R48), with the STU3
/// 0..1 `address` (the example's array is a known defect, digest §9), managed
/// by the practice's Organization. A host can import it as
/// `Location/`[`UNKNOWN_VISIT_LOCATION_ID`].
///
/// # Errors
/// 500 if `id` is not a valid logical id.
pub fn unknown_visit_location(ctx: &Context<'_>, id: &str) -> Result<stu3::Location, Error> {
    Ok(stu3::Location {
        id: Some(Id::new(id).map_err(Error::internal)?),
        meta: Some(stu3::Meta {
            profile: vec![profile::LOCATION.to_owned()],
            ..Default::default()
        }),
        name: Some(UNKNOWN_VISIT_LOCATION_NAME.to_owned()),
        address: Some(Address {
            line: vec!["Unknown".to_owned()],
            city: Some("Unknown".to_owned()),
            ..Default::default()
        }),
        managing_organization: Some(reference("Organization", &ctx.practice.organization_id)),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointments::fixtures::*;
    use crate::error::SpineCode;
    use crate::fhir::{Limits, from_json};
    use crate::store::{AppointmentRecord, LocationRecord, PracticeImport, PracticeStore};
    use crate::testkit::ODS;

    fn ext<'a>(a: &'a stu3::Appointment, url: &str) -> Option<&'a ExtensionValue> {
        a.extension
            .iter()
            .find(|e| e.url == url)
            .and_then(|e| e.value.as_ref())
    }

    fn actors(a: &stu3::Appointment) -> Vec<String> {
        a.participant
            .iter()
            .filter_map(|p| p.actor.as_ref().and_then(|r| r.reference.clone()))
            .collect()
    }

    #[test]
    fn r18_response_is_populated_from_the_slot_schedule_and_practitioner() {
        let t = Practice::new(now());
        let booked = t.book(&["14-2-0"]);
        let a = appointment_resource(&t.ctx(), &booked).expect("populated");
        assert_eq!(a.id.as_ref().map(Id::as_str), Some(booked.id.as_str()));
        let meta = a.meta.as_ref().expect("meta");
        assert_eq!(meta.profile, vec![profile::APPOINTMENT.to_owned()]);
        assert_eq!(
            meta.version_id.as_ref().map(Id::as_str),
            Some(booked.version.to_string().as_str())
        );
        assert_eq!(a.status, "booked");
        assert_eq!(
            a.service_type[0].text.as_deref(),
            Some("General GP Appointment")
        );
        assert_eq!(
            a.service_category.as_ref().and_then(|c| c.text.as_deref()),
            Some("General GP Appointments")
        );
        match ext(&a, extension::PRACTITIONER_ROLE) {
            Some(ExtensionValue::CodeableConcept(c)) => {
                assert_eq!(c.coding[0].code.as_ref().map(Code::as_str), Some("R0260"));
            }
            other => panic!("practitioner role: {other:?}"),
        }
        assert_eq!(
            ext(&a, extension::DELIVERY_CHANNEL),
            Some(&ExtensionValue::Code(Code::from_static("In-person")))
        );
        assert_eq!(actors(&a), ["Patient/2", "Location/17", "Practitioner/2"]);
        assert!(a.reason.is_empty() && a.specialty.is_empty());
        // The extensions keep the spec examples' order: stored ones first.
        let urls: Vec<&str> = a.extension.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                extension::BOOKING_ORGANISATION,
                extension::PRACTITIONER_ROLE,
                extension::DELIVERY_CHANNEL
            ]
        );
    }

    #[test]
    fn r18_times_are_uk_local_with_their_offset() {
        let winter = Practice::new(now());
        let a = appointment_resource(&winter.ctx(), &winter.book(&["14-2-0"])).expect("ok");
        assert_eq!(
            a.start.as_ref().map(|s| s.as_str()),
            Some("2026-11-27T09:00:00+00:00")
        );
        let summer = Practice::new("2026-07-01T08:00:00Z".parse().expect("ts"));
        let a = appointment_resource(&summer.ctx(), &summer.book(&["14-2-0"])).expect("ok");
        assert_eq!(
            a.start.as_ref().map(|s| s.as_str()),
            Some("2026-07-03T09:00:00+01:00")
        );
        assert_eq!(
            a.end.as_ref().map(|s| s.as_str()),
            Some("2026-07-03T09:10:00+01:00")
        );
        // The example's `created` (+01:00) is kept as the same instant.
        assert_eq!(
            a.created.as_ref().map(|s| s.as_str()),
            Some("2017-05-25T13:48:41+01:00")
        );
    }

    #[test]
    fn r20_booking_organisation_is_returned_as_stored() {
        let t = Practice::new(now());
        let body = t.book_body(&["14-2-0"]);
        let booked = t.book(&["14-2-0"]);
        let a = appointment_resource(&t.ctx(), &booked).expect("ok");
        assert_eq!(a.contained, body.contained);
        assert_eq!(
            ext(&a, extension::BOOKING_ORGANISATION),
            ext(&body, extension::BOOKING_ORGANISATION)
        );
    }

    #[test]
    fn r49_practitioner_participant_follows_the_current_schedule() {
        let t = Practice::new(now());
        let booked = t.book(&["14-2-0"]);
        // A locum takes over schedule 14.
        let mut schedule = t
            .store
            .schedule(ODS, "14")
            .expect("read")
            .expect("schedule");
        schedule.practitioner_id = Some("3".to_owned());
        t.store
            .import(
                ODS,
                PracticeImport {
                    schedules: vec![schedule],
                    ..Default::default()
                },
            )
            .expect("import");
        let a = appointment_resource(&t.ctx(), &booked).expect("ok");
        assert_eq!(actors(&a), ["Patient/2", "Location/17", "Practitioner/3"]);
    }

    #[test]
    fn r46_an_appointment_whose_slot_is_gone_is_500() {
        let t = Practice::new(now());
        let mut record = t.book(&["14-2-0"]);
        record.id = "orphan".to_owned();
        record.slot_ids = vec!["no-such-slot".to_owned()];
        t.import_appointment(record.clone());
        let e = appointment_resource(&t.ctx(), &record).expect_err("incomplete");
        assert_eq!(
            (e.status(), e.code()),
            (500, SpineCode::InternalServerError)
        );
        assert!(e.diagnostics().contains("Slot/no-such-slot"), "{e}");
        record.slot_ids.clear();
        let e = appointment_resource(&t.ctx(), &record).expect_err("no slot");
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn r46_an_appointment_without_description_is_500() {
        let t = Practice::new(now());
        let mut record = t.book(&["14-2-0"]);
        record.resource.description = None;
        let e = appointment_resource(&t.ctx(), &record).expect_err("incomplete");
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn r48_visit_appointments_point_at_a_contained_unknown_location_by_default() {
        let t = Practice::new(now());
        let record = t.import_visit("v1", "14-1-2", Some("Home visit"));
        let a = appointment_resource(&t.ctx(), &record).expect("ok");
        assert_eq!(
            actors(&a),
            [
                "Patient/2".to_owned(),
                format!("#{CONTAINED_VISIT_LOCATION_ID}"),
                "Practitioner/2".to_owned()
            ]
        );
        assert_eq!(a.comment.as_deref(), Some("Home visit"));
        assert_eq!(
            ext(&a, extension::DELIVERY_CHANNEL),
            Some(&ExtensionValue::Code(Code::from_static("Visit")))
        );
        let location = a
            .contained
            .iter()
            .find_map(|r| match r {
                Resource::Location(l) => Some(l),
                _ => None,
            })
            .expect("contained location");
        assert_eq!(location.name.as_deref(), Some(UNKNOWN_VISIT_LOCATION_NAME));
        assert_eq!(
            location
                .managing_organization
                .as_ref()
                .and_then(|r| r.reference.as_deref()),
            Some("Organization/23")
        );
        // The spec example, with its address defect corrected, has the same
        // content (bar the ids).
        let example = include_str!("../../tests/data/stu3/unknown_visit_location_example.json")
            .replace("\"address\": [", "\"address\":")
            .replace(
                "}\n  ],\n  \"managingOrganization\"",
                "},\n  \"managingOrganization\"",
            );
        let example: stu3::Location =
            from_json(example.as_bytes(), Limits::REQUEST).expect("corrected example");
        assert_eq!(location.name, example.name);
        assert_eq!(location.address, example.address);
    }

    #[test]
    fn r48_visit_appointments_use_the_practices_unknown_location_when_loaded() {
        let t = Practice::new(now());
        let location = unknown_visit_location(&t.ctx(), UNKNOWN_VISIT_LOCATION_ID).expect("ok");
        t.store
            .import(
                ODS,
                PracticeImport {
                    locations: vec![LocationRecord {
                        id: UNKNOWN_VISIT_LOCATION_ID.to_owned(),
                        version: 0,
                        resource: location,
                    }],
                    ..Default::default()
                },
            )
            .expect("import");
        let record = t.import_visit("v1", "14-1-2", None);
        let a = appointment_resource(&t.ctx(), &record).expect("ok");
        assert_eq!(
            actors(&a),
            [
                "Patient/2".to_owned(),
                format!("Location/{UNKNOWN_VISIT_LOCATION_ID}"),
                "Practitioner/2".to_owned()
            ]
        );
        assert!(
            a.contained
                .iter()
                .all(|r| !matches!(r, Resource::Location(_)))
        );
        assert_eq!(a.comment.as_deref(), Some(VISIT_COMMENT_FALLBACK));
    }

    #[test]
    fn host_appointments_without_participants_get_them_from_the_record() {
        let t = Practice::new(now());
        let mut record: AppointmentRecord = t.book(&["14-2-0"]);
        record.resource.participant.clear();
        record.resource.slot.clear();
        let a = appointment_resource(&t.ctx(), &record).expect("ok");
        assert_eq!(actors(&a), ["Patient/2", "Location/17", "Practitioner/2"]);
        assert_eq!(a.slot[0].reference.as_deref(), Some("Slot/14-2-0"));
    }
}
