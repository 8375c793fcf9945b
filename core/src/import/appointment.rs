//! Existing appointments: bookings made before the practice joined, or
//! through the practice's own system, so the engine can read, retrieve,
//! amend and cancel them like its own (R35, R54).
//!
//! An appointment must be consistent with the slots it names, the same way
//! a booking through GP Connect is (R13, R14): the engine populates every
//! response from those slots (R18), and cancel frees them (R42).

use std::collections::HashMap;

use jiff::Timestamp;

use crate::error::{Echo, Error};
use crate::fhir::primitive::Instant;
use crate::store::{AppointmentRecord, AppointmentStatus, SlotRecord, SlotStatus};
use crate::stu3::{
    self, Resource,
    profiles::{extension as gpc, identifier_system},
};

use super::directory::is_ods_code;
use super::entries::{At, Entries};
use super::extension::{Ext, Extensions};
use super::schedule::timestamp;
use super::{invalid, stored};

/// A converted appointment.
#[derive(Debug)]
pub(crate) struct ConvertedAppointment {
    pub record: AppointmentRecord,
    /// For each slot it names: the index in `Appointment.slot` (for error
    /// paths) and the slot id.
    pub slot_refs: Vec<(usize, String)>,
}

/// Convert an Appointment, checking it against the slots of the bundle.
pub(crate) fn appointment(
    at: At<'_>,
    appointment: &stu3::Appointment,
    entries: &Entries<'_>,
    slots: &HashMap<&str, &SlotRecord>,
) -> Result<ConvertedAppointment, Error> {
    let exts = Extensions::read(
        &at.to_string(),
        &appointment.extension,
        &appointment.modifier_extension,
        &[],
        &[gpc::BOOKING_ORGANISATION],
        "Appointment",
    )?;
    let status = match appointment.status.as_str() {
        "booked" => AppointmentStatus::Booked,
        "cancelled" => AppointmentStatus::Cancelled,
        other => {
            return Err(at.err(
                "status",
                format!("must be booked or cancelled, not {}", Echo(other)),
            ));
        }
    };
    let held = held_slots(at, appointment, entries, slots, status)?;
    let (first, last) = match (held.first(), held.last()) {
        (Some((_, f)), Some((_, l))) => (*f, *l),
        _ => return Err(at.err("slot", "at least one slot is required")),
    };
    let start = required_instant(at, "start", appointment.start.as_ref())?;
    let end = required_instant(at, "end", appointment.end.as_ref())?;
    if start != first.start {
        return Err(at.err(
            "start",
            format!(
                "must equal the start of its earliest slot, Slot/{} (R13)",
                first.id
            ),
        ));
    }
    if end != last.end {
        return Err(at.err(
            "end",
            format!(
                "must equal the end of its latest slot, Slot/{} (R13)",
                last.id
            ),
        ));
    }
    let patient_id = patient(at, appointment, entries)?;
    let booking_ods = exts
        .single(gpc::BOOKING_ORGANISATION)?
        .map(|e| booking_ods(e, appointment))
        .transpose()?;
    let last_modified = last_modified(at, appointment)?;
    let mut resource = appointment.clone();
    stored::clear_identity(&mut resource.id, &mut resource.meta);
    // What the provider populates on every response (R18, R49): kept out of
    // the record so responses reflect the current schedule.
    resource.service_type.clear();
    resource.service_category = None;
    resource
        .extension
        .retain(|e| e.url != gpc::PRACTITIONER_ROLE && e.url != gpc::DELIVERY_CHANNEL);
    stored::no_stray_extensions(&resource, at)?;
    let slot_refs = held
        .iter()
        .map(|(i, s)| (*i, s.id.clone()))
        .collect::<Vec<_>>();
    Ok(ConvertedAppointment {
        record: AppointmentRecord {
            id: at.id.to_owned(),
            version: 0,
            status,
            patient_id,
            slot_ids: held.iter().map(|(_, s)| s.id.clone()).collect(),
            start,
            end,
            booking_ods,
            // Imported bookings were never counted against a slot-count
            // limit (the store's counters only grow through `book`), so
            // they name none: a later cancel must not release what was
            // never taken.
            limit_keys: Vec::new(),
            last_modified,
            resource,
        },
        slot_refs,
    })
}

/// The slots the appointment names, in time order, checked to form one
/// booking (R14: adjacent, one schedule, one delivery channel, one slot
/// type); a booked appointment's slots must all be busy.
fn held_slots<'s>(
    at: At<'_>,
    appointment: &stu3::Appointment,
    entries: &Entries<'_>,
    slots: &HashMap<&str, &'s SlotRecord>,
    status: AppointmentStatus,
) -> Result<Vec<(usize, &'s SlotRecord)>, Error> {
    let mut held: Vec<(usize, &SlotRecord)> = Vec::with_capacity(appointment.slot.len());
    for (i, r) in appointment.slot.iter().enumerate() {
        let element = format!("slot[{i}]");
        let target = entries.resolve_required(r, &["Slot"], &at.path(&element))?;
        let Some(slot) = slots.get(target.id.as_str()).copied() else {
            // The index says the Slot entry exists; it converted earlier or
            // the import already failed, so this is unreachable in practice.
            return Err(at.err(&element, format!("Slot/{} was not imported", target.id)));
        };
        if let Some((j, _)) = held.iter().find(|(_, s)| s.id == slot.id) {
            return Err(at.err(&element, format!("Slot/{} is already slot[{j}]", slot.id)));
        }
        if status == AppointmentStatus::Booked && slot.status != SlotStatus::Busy {
            return Err(at.err(
                &element,
                format!(
                    "Slot/{} is free, but a booked appointment holds it; its status must be busy",
                    slot.id
                ),
            ));
        }
        held.push((i, slot));
    }
    held.sort_by(|a, b| (a.1.start, &a.1.id).cmp(&(b.1.start, &b.1.id)));
    for pair in held.windows(2) {
        let [(_, a), (i, b)] = pair else { continue };
        let element = format!("slot[{i}]");
        let problem = if b.start != a.end {
            Some(format!(
                "Slot/{} does not start when Slot/{} ends; an appointment's slots are adjacent (R14)",
                b.id, a.id
            ))
        } else if b.schedule_id != a.schedule_id {
            Some(format!(
                "Slot/{} is in Schedule/{}, Slot/{} in Schedule/{}; an appointment's slots share one schedule (R14)",
                b.id, b.schedule_id, a.id, a.schedule_id
            ))
        } else if b.delivery_channel != a.delivery_channel {
            Some(format!(
                "Slot/{} and Slot/{} have different delivery channels (R14)",
                b.id, a.id
            ))
        } else if b.service_type != a.service_type {
            Some(format!(
                "Slot/{} and Slot/{} have different slot types (R14)",
                b.id, a.id
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            return Err(at.err(&element, message));
        }
    }
    Ok(held)
}

fn required_instant(
    at: At<'_>,
    element: &str,
    value: Option<&Instant>,
) -> Result<Timestamp, Error> {
    let value = value.ok_or_else(|| at.err(element, "is required"))?;
    timestamp(at, element, value.as_str())
}

/// The one Patient participant; every participant names a Patient,
/// Location or Practitioner of the bundle.
fn patient(
    at: At<'_>,
    appointment: &stu3::Appointment,
    entries: &Entries<'_>,
) -> Result<String, Error> {
    let mut patient: Option<(usize, String)> = None;
    for (i, p) in appointment.participant.iter().enumerate() {
        let element = format!("participant[{i}].actor");
        let actor = p
            .actor
            .as_ref()
            .ok_or_else(|| at.err(&element, "is required (R3)"))?;
        let target = entries.resolve_required(
            actor,
            &["Patient", "Location", "Practitioner"],
            &at.path(&element),
        )?;
        if target.kind == "Patient" {
            if let Some((first, _)) = &patient {
                return Err(at.err(
                    &element,
                    format!("a second Patient participant (the first is participant[{first}])"),
                ));
            }
            patient = Some((i, target.id));
        }
    }
    patient
        .map(|(_, id)| id)
        .ok_or_else(|| at.err("participant", "a Patient participant is required (R3)"))
}

/// The booking organisation's ODS code: the extension references a
/// contained Organization (`#id`, R3/R4), which carries the code.
fn booking_ods(e: &Ext<'_>, appointment: &stu3::Appointment) -> Result<String, Error> {
    let reference = e.reference()?.reference.as_deref().unwrap_or_default();
    let contained = reference.strip_prefix('#').and_then(|id| {
        appointment.contained.iter().find_map(|r| match r {
            Resource::Organization(o) if o.id.as_ref().is_some_and(|x| x == id) => Some(o),
            _ => None,
        })
    });
    let Some(org) = contained else {
        return Err(invalid(
            format!("{}.valueReference.reference", e.path),
            format!(
                "{} does not name a contained Organization (#id)",
                Echo(reference)
            ),
        ));
    };
    org.identifier
        .iter()
        .find(|i| i.system.as_deref() == Some(identifier_system::ODS_ORGANIZATION_CODE))
        .and_then(|i| i.value.as_deref())
        .filter(|v| is_ods_code(v))
        .map(str::to_owned)
        .ok_or_else(|| {
            invalid(
                &e.path,
                format!(
                    "the contained booking Organization {} needs an ODS code identifier (R4)",
                    Echo(reference)
                ),
            )
        })
}

/// `Last-Modified`: `meta.lastUpdated`, else `created`. It must come from
/// the file (never "now") so importing the same file twice writes nothing.
fn last_modified(at: At<'_>, appointment: &stu3::Appointment) -> Result<Timestamp, Error> {
    if let Some(updated) = appointment
        .meta
        .as_ref()
        .and_then(|m| m.last_updated.as_ref())
    {
        return timestamp(at, "meta.lastUpdated", updated.as_str());
    }
    if let Some(created) = &appointment.created {
        return timestamp(at, "created", created.as_str());
    }
    Err(at.err(
        "created",
        "is required (or meta.lastUpdated): it becomes the appointment's Last-Modified",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::datatypes::{
        CodeableConcept, Extension, ExtensionValue, Identifier, Reference,
    };
    use crate::fhir::primitive::{Code, DateTime, Id};
    use crate::store::SlotRestrictions;
    use crate::stu3::AppointmentParticipant;

    const AT: At<'static> = At {
        index: 9,
        kind: "Appointment",
        id: "1",
    };

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    fn slot_record(id: &str, start: &str, end: &str) -> SlotRecord {
        SlotRecord {
            id: id.to_owned(),
            version: 0,
            schedule_id: "14".into(),
            start: ts(start),
            end: ts(end),
            status: SlotStatus::Busy,
            appointment_id: None,
            delivery_channel: "In-person".into(),
            service_type: "General GP Appointment".into(),
            bookable: true,
            restrictions: SlotRestrictions::default(),
            booking_window: None,
        }
    }

    fn reference(s: &str) -> Reference {
        Reference {
            reference: Some(s.to_owned()),
            ..Default::default()
        }
    }

    fn bundle() -> stu3::Bundle {
        let ids = [
            ("Slot", "a"),
            ("Slot", "b"),
            ("Patient", "2"),
            ("Location", "17"),
        ];
        stu3::Bundle {
            type_: Code::from_static("collection"),
            entry: ids
                .iter()
                .map(|(kind, id)| {
                    let id = Id::new(*id).ok();
                    let resource: Resource = match *kind {
                        "Slot" => stu3::Slot {
                            id,
                            ..Default::default()
                        }
                        .into(),
                        "Patient" => stu3::Patient {
                            id,
                            ..Default::default()
                        }
                        .into(),
                        _ => stu3::Location {
                            id,
                            ..Default::default()
                        }
                        .into(),
                    };
                    stu3::BundleEntry {
                        resource: Some(resource),
                        ..Default::default()
                    }
                })
                .collect(),
            ..Default::default()
        }
    }

    fn an_appointment() -> stu3::Appointment {
        stu3::Appointment {
            id: Id::new("1").ok(),
            contained: vec![
                stu3::Organization {
                    id: Id::new("1").ok(),
                    identifier: vec![Identifier {
                        system: Some(identifier_system::ODS_ORGANIZATION_CODE.to_owned()),
                        value: Some("B82001".to_owned()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }
                .into(),
            ],
            extension: vec![
                Extension {
                    url: gpc::BOOKING_ORGANISATION.to_owned(),
                    value: Some(ExtensionValue::Reference(reference("#1"))),
                    ..Default::default()
                },
                Extension {
                    url: gpc::DELIVERY_CHANNEL.to_owned(),
                    value: Some(ExtensionValue::Code(Code::from_static("In-person"))),
                    ..Default::default()
                },
            ],
            status: Code::from_static("booked"),
            service_type: vec![CodeableConcept {
                text: Some("General GP Appointment".into()),
                ..Default::default()
            }],
            start: Instant::new("2030-07-01T09:00:00+01:00").ok(),
            end: Instant::new("2030-07-01T09:20:00+01:00").ok(),
            // Out of time order on purpose: the record orders them.
            slot: vec![reference("Slot/b"), reference("Slot/a")],
            created: DateTime::new("2029-12-01T10:00:00+00:00").ok(),
            participant: vec![
                AppointmentParticipant {
                    actor: Some(reference("Patient/2")),
                    status: Code::from_static("accepted"),
                    ..Default::default()
                },
                AppointmentParticipant {
                    actor: Some(reference("Location/17")),
                    status: Code::from_static("accepted"),
                    ..Default::default()
                },
            ],
            ..Default::default()
        }
    }

    fn convert(a: &stu3::Appointment, slots: &[SlotRecord]) -> Result<ConvertedAppointment, Error> {
        let b = bundle();
        let entries = Entries::index(&b)?;
        let map = slots.iter().map(|s| (s.id.as_str(), s)).collect();
        appointment(AT, a, &entries, &map)
    }

    fn two_slots() -> Vec<SlotRecord> {
        vec![
            slot_record("a", "2030-07-01T08:00:00Z", "2030-07-01T08:10:00Z"),
            slot_record("b", "2030-07-01T08:10:00Z", "2030-07-01T08:20:00Z"),
        ]
    }

    #[test]
    fn a_booked_appointment_maps_and_drops_provider_populated_elements() {
        let c = convert(&an_appointment(), &two_slots()).expect("converts");
        let r = c.record;
        assert_eq!(r.status, AppointmentStatus::Booked);
        assert_eq!(r.patient_id, "2");
        assert_eq!(r.slot_ids, ["a", "b"]);
        assert_eq!(r.booking_ods.as_deref(), Some("B82001"));
        assert_eq!(r.last_modified, ts("2029-12-01T10:00:00Z"));
        assert!(r.limit_keys.is_empty());
        assert!(r.resource.id.is_none() && r.resource.service_type.is_empty());
        assert_eq!(r.resource.extension.len(), 1, "booking organisation kept");
        assert_eq!(c.slot_refs, [(1, "a".to_owned()), (0, "b".to_owned())]);
    }

    #[test]
    fn start_and_end_must_match_the_slots() {
        let mut a = an_appointment();
        a.end = Instant::new("2030-07-01T09:30:00+01:00").ok();
        assert_eq!(
            convert(&a, &two_slots()).expect_err("end").diagnostics(),
            "Bundle.entry[9].resource(Appointment/1).end: must equal the end of its latest slot, Slot/b (R13)"
        );
    }

    #[test]
    fn slots_must_be_adjacent() {
        let slots = vec![
            slot_record("a", "2030-07-01T08:00:00Z", "2030-07-01T08:10:00Z"),
            slot_record("b", "2030-07-01T08:15:00Z", "2030-07-01T08:25:00Z"),
        ];
        assert_eq!(
            convert(&an_appointment(), &slots)
                .expect_err("gap")
                .diagnostics(),
            "Bundle.entry[9].resource(Appointment/1).slot[0]: Slot/b does not start when Slot/a ends; an appointment's slots are adjacent (R14)"
        );
    }

    #[test]
    fn a_booked_appointment_holds_busy_slots_only() {
        let mut slots = two_slots();
        slots[1].status = SlotStatus::Free;
        assert_eq!(
            convert(&an_appointment(), &slots)
                .expect_err("free")
                .diagnostics(),
            "Bundle.entry[9].resource(Appointment/1).slot[0]: Slot/b is free, but a booked appointment holds it; its status must be busy"
        );
        let mut a = an_appointment();
        a.status = Code::from_static("cancelled");
        assert!(
            convert(&a, &slots).is_ok(),
            "a cancelled one may name free slots"
        );
    }

    #[test]
    fn status_is_booked_or_cancelled() {
        let mut a = an_appointment();
        a.status = Code::from_static("noshow");
        assert_eq!(
            convert(&a, &two_slots()).expect_err("status").diagnostics(),
            "Bundle.entry[9].resource(Appointment/1).status: must be booked or cancelled, not \"noshow\""
        );
    }

    #[test]
    fn the_patient_participant_is_required() {
        let mut a = an_appointment();
        a.participant.remove(0);
        assert_eq!(
            convert(&a, &two_slots())
                .expect_err("patient")
                .diagnostics(),
            "Bundle.entry[9].resource(Appointment/1).participant: a Patient participant is required (R3)"
        );
    }

    #[test]
    fn the_booking_organisation_must_be_contained() {
        let mut a = an_appointment();
        a.contained.clear();
        assert_eq!(
            convert(&a, &two_slots())
                .expect_err("contained")
                .diagnostics(),
            "Bundle.entry[9].resource(Appointment/1).extension[0].valueReference.reference: \"#1\" does not name a contained Organization (#id)"
        );
    }

    #[test]
    fn last_modified_prefers_meta_last_updated_and_needs_one() {
        let mut a = an_appointment();
        a.meta = Some(crate::fhir::datatypes::Meta {
            last_updated: Instant::new("2029-12-02T10:00:00+00:00").ok(),
            ..Default::default()
        });
        let r = convert(&a, &two_slots()).expect("converts").record;
        assert_eq!(r.last_modified, ts("2029-12-02T10:00:00Z"));
        assert!(r.resource.meta.is_none());
        a.meta = None;
        a.created = None;
        assert!(
            convert(&a, &two_slots())
                .expect_err("no time")
                .diagnostics()
                .starts_with("Bundle.entry[9].resource(Appointment/1).created: is required")
        );
    }
}
