//! Schedules and Slots: the appointment book, converted into the typed
//! records the availability rules decide on (§4.2, §4.3).

use jiff::Timestamp;

use crate::checks::datetime::FhirDateTime;
use crate::error::{Echo, Error};
use crate::fhir::datatypes::Coding;
use crate::store::{
    DELIVERY_CHANNEL_VISIT, ScheduleRecord, SlotRecord, SlotRestrictions, SlotStatus,
};
use crate::stu3::{
    self,
    profiles::{code_system, extension as gpc},
};

use super::directory::{booking_window, is_ods_code};
use super::entries::{At, Entries};
use super::extension::{self as ext, Extensions};
use super::{invalid, stored};

/// The delivery channels of 1.2.9 (`GPConnect-DeliveryChannel-1` plus
/// `Visit`). The binding is extensible, but consumers (the NHS App among
/// them) display these; a misspelt channel would be served silently, so
/// anything else is refused.
pub(crate) const DELIVERY_CHANNELS: [&str; 4] =
    ["In-person", "Telephone", "Video", DELIVERY_CHANNEL_VISIT];

/// A FHIR `dateTime`/`instant` that is a full date-time with an offset, as
/// a timestamp. Partial dates are refused: a schedule horizon or slot time
/// is an instant, and guessing "midnight UK time" for `2030-03-04` would
/// put a bound somewhere the author may not have meant.
pub(crate) fn timestamp(at: At<'_>, element: &str, value: &str) -> Result<Timestamp, Error> {
    match FhirDateTime::parse(value) {
        Ok(FhirDateTime::DateTime { timestamp, .. }) => Ok(timestamp),
        _ => Err(at.err(
            element,
            format!(
                "{} must be a date-time with seconds and a zone offset",
                Echo(value)
            ),
        )),
    }
}

/// Convert a Schedule: its Location actor (mandatory: where the
/// appointments take place), its Practitioner actor (optional), the
/// schedule type (`serviceCategory.text`), the practitioner role extension
/// and the planning horizon.
pub(crate) fn schedule(
    at: At<'_>,
    schedule: &stu3::Schedule,
    entries: &Entries<'_>,
) -> Result<ScheduleRecord, Error> {
    let exts = Extensions::read(
        &at.to_string(),
        &schedule.extension,
        &schedule.modifier_extension,
        &[],
        &[gpc::PRACTITIONER_ROLE],
        "Schedule",
    )?;
    let mut location_id = None;
    let mut practitioner_id = None;
    for (i, actor) in schedule.actor.iter().enumerate() {
        let element = format!("actor[{i}]");
        let target =
            entries.resolve_required(actor, &["Location", "Practitioner"], &at.path(&element))?;
        let slot = if target.kind == "Location" {
            &mut location_id
        } else {
            &mut practitioner_id
        };
        if slot.is_some() {
            return Err(at.err(
                &element,
                format!(
                    "a second {} actor; a schedule belongs to one {}",
                    target.kind, target.kind
                ),
            ));
        }
        *slot = Some(target.id);
    }
    let location_id = location_id.ok_or_else(|| {
        at.err(
            "actor",
            "a Location actor (the surgery where the appointments take place) is required",
        )
    })?;
    let horizon = schedule.planning_horizon.as_ref();
    let start = horizon.and_then(|h| h.start.as_ref()).ok_or_else(|| {
        at.err(
            "planningHorizon.start",
            "is required (GPConnect-Schedule-1)",
        )
    })?;
    let planning_horizon_start = timestamp(at, "planningHorizon.start", start.as_str())?;
    let planning_horizon_end = horizon
        .and_then(|h| h.end.as_ref())
        .map(|end| timestamp(at, "planningHorizon.end", end.as_str()))
        .transpose()?;
    if planning_horizon_end.is_some_and(|end| end <= planning_horizon_start) {
        return Err(at.err("planningHorizon.end", "is not after planningHorizon.start"));
    }
    let practitioner_role = match exts.single(gpc::PRACTITIONER_ROLE)? {
        None => None,
        Some(e) => {
            let cc = e.codeable_concept()?;
            let coding = cc
                .coding
                .iter()
                .find(|c| {
                    c.system.as_deref() == Some(code_system::SDS_JOB_ROLE_NAME) && c.code.is_some()
                })
                .ok_or_else(|| {
                    invalid(
                        &e.path,
                        format!(
                            "the practitioner role needs a coding with system {} and a code",
                            code_system::SDS_JOB_ROLE_NAME
                        ),
                    )
                })?;
            Some(Coding {
                id: None,
                extension: Vec::new(),
                ..coding.clone()
            })
        }
    };
    stored::no_stray_extensions(schedule, at)?;
    let schedule_type = schedule
        .service_category
        .as_ref()
        .and_then(|c| c.text.clone())
        .filter(|t| !t.trim().is_empty());
    Ok(ScheduleRecord {
        id: at.id.to_owned(),
        version: 0,
        location_id,
        practitioner_id,
        practitioner_role,
        schedule_type,
        planning_horizon_start,
        planning_horizon_end,
    })
}

/// The slot settings a Slot may carry.
const SLOT_SETTINGS: [&str; 4] = [
    ext::BOOKABLE,
    ext::ORGANISATION_TYPE_RESTRICTION,
    ext::ODS_CODE_RESTRICTION,
    ext::BOOKING_WINDOW,
];

/// Convert a Slot. Which appointment holds it is decided later, from the
/// Appointments of the bundle (a FHIR Slot does not name its appointment).
pub(crate) fn slot(
    at: At<'_>,
    slot: &stu3::Slot,
    entries: &Entries<'_>,
) -> Result<SlotRecord, Error> {
    let exts = Extensions::read(
        &at.to_string(),
        &slot.extension,
        &slot.modifier_extension,
        &SLOT_SETTINGS,
        &[gpc::DELIVERY_CHANNEL],
        "Slot",
    )?;
    let schedule = entries.resolve_required(&slot.schedule, &["Schedule"], &at.path("schedule"))?;
    let status = match slot.status.as_str() {
        "free" => SlotStatus::Free,
        "busy" => SlotStatus::Busy,
        other => {
            return Err(at.err(
                "status",
                format!(
                    "must be free or busy, not {} (a slot the practice cannot offer is busy, or left out)",
                    Echo(other)
                ),
            ));
        }
    };
    let start = timestamp(at, "start", slot.start.as_str())?;
    let end = timestamp(at, "end", slot.end.as_str())?;
    if end <= start {
        return Err(at.err(
            "end",
            format!(
                "{} is not after start {}",
                slot.end.as_str(),
                slot.start.as_str()
            ),
        ));
    }
    let service_type = slot
        .service_type
        .first()
        .and_then(|s| s.text.as_deref())
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| {
            at.err(
                "serviceType[0].text",
                "the slot type is required (SHALL, §4.3)",
            )
        })?
        .to_owned();
    let channel = exts.single(gpc::DELIVERY_CHANNEL)?.ok_or_else(|| {
        at.err(
            "extension",
            format!(
                "the delivery channel ({}) is required",
                gpc::DELIVERY_CHANNEL
            ),
        )
    })?;
    let delivery_channel = channel.code()?;
    if !DELIVERY_CHANNELS.contains(&delivery_channel) {
        return Err(invalid(
            &channel.path,
            format!(
                "{} is not a delivery channel; expected one of: {}",
                Echo(delivery_channel),
                DELIVERY_CHANNELS.join(", ")
            ),
        ));
    }
    let bookable = exts.boolean_or(ext::BOOKABLE, false)?;
    if bookable && delivery_channel == DELIVERY_CHANNEL_VISIT {
        let path = exts
            .single(ext::BOOKABLE)?
            .map(|e| e.path.clone())
            .unwrap_or_else(|| at.to_string());
        return Err(invalid(
            path,
            "a Visit slot can never be GP Connect bookable (§4.2 item 6)",
        ));
    }
    let mut restrictions = SlotRestrictions::default();
    for e in exts.all(ext::ORGANISATION_TYPE_RESTRICTION) {
        restrictions.organisation_types.push(e.code()?.to_owned());
    }
    for e in exts.all(ext::ODS_CODE_RESTRICTION) {
        let code = e.code()?;
        if !is_ods_code(code) {
            return Err(invalid(
                &e.path,
                format!(
                    "{} is not an ODS code (1-10 letters and digits)",
                    Echo(code)
                ),
            ));
        }
        restrictions.ods_codes.push(code.to_owned());
    }
    let booking_window = exts
        .single(ext::BOOKING_WINDOW)?
        .map(booking_window)
        .transpose()?;
    // Slots and Schedules are not stored as resources, but one of our
    // settings misplaced inside them (say `bookable` on `serviceType`) would
    // be silently ignored; refuse it like everywhere else.
    if slot.extension.iter().any(|e| ext::is_ours(&e.url)) {
        let mut rest = slot.clone();
        ext::strip_ours(&mut rest.extension);
        stored::no_stray_extensions(&rest, at)?;
    } else {
        stored::no_stray_extensions(slot, at)?;
    }
    Ok(SlotRecord {
        id: at.id.to_owned(),
        version: 0,
        schedule_id: schedule.id,
        start,
        end,
        status,
        appointment_id: None,
        delivery_channel: delivery_channel.to_owned(),
        service_type,
        bookable,
        restrictions,
        booking_window,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::datatypes::{CodeableConcept, Extension, ExtensionValue, Period, Reference};
    use crate::fhir::primitive::{Code, DateTime, Id, Instant};
    use crate::store::BookingWindow;
    use crate::stu3::Resource;

    const SLOT_AT: At<'static> = At {
        index: 5,
        kind: "Slot",
        id: "14-1-3",
    };
    const SCHEDULE_AT: At<'static> = At {
        index: 4,
        kind: "Schedule",
        id: "14",
    };

    fn value_ext(url: &str, value: ExtensionValue) -> Extension {
        Extension {
            url: url.to_owned(),
            value: Some(value),
            ..Default::default()
        }
    }

    fn reference(s: &str) -> Reference {
        Reference {
            reference: Some(s.to_owned()),
            ..Default::default()
        }
    }

    fn bundle() -> stu3::Bundle {
        let resources: Vec<Resource> = vec![
            stu3::Location {
                id: Id::new("17").ok(),
                ..Default::default()
            }
            .into(),
            stu3::Practitioner {
                id: Id::new("2").ok(),
                ..Default::default()
            }
            .into(),
            stu3::Schedule {
                id: Id::new("14").ok(),
                ..Default::default()
            }
            .into(),
        ];
        stu3::Bundle {
            type_: Code::from_static("collection"),
            entry: resources
                .into_iter()
                .map(|r| stu3::BundleEntry {
                    resource: Some(r),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    fn a_slot() -> stu3::Slot {
        stu3::Slot {
            id: Id::new("14-1-3").ok(),
            extension: vec![
                value_ext(
                    gpc::DELIVERY_CHANNEL,
                    ExtensionValue::Code(Code::from_static("In-person")),
                ),
                value_ext(ext::BOOKABLE, ExtensionValue::Boolean(true)),
            ],
            service_type: vec![CodeableConcept {
                text: Some("General GP Appointment".to_owned()),
                ..Default::default()
            }],
            schedule: reference("Schedule/14"),
            status: Code::from_static("free"),
            start: Instant::new("2030-07-01T09:00:00+01:00").expect("instant"),
            end: Instant::new("2030-07-01T09:10:00+01:00").expect("instant"),
            ..Default::default()
        }
    }

    fn convert_slot(s: &stu3::Slot) -> Result<SlotRecord, Error> {
        let b = bundle();
        let entries = Entries::index(&b)?;
        slot(SLOT_AT, s, &entries)
    }

    #[test]
    fn a_plain_slot_converts() {
        let r = convert_slot(&a_slot()).expect("converts");
        assert_eq!(r.schedule_id, "14");
        assert_eq!(r.start.to_string(), "2030-07-01T08:00:00Z");
        assert_eq!(r.status, SlotStatus::Free);
        assert_eq!(r.delivery_channel, "In-person");
        assert_eq!(r.service_type, "General GP Appointment");
        assert!(r.bookable);
        assert_eq!(r.restrictions, SlotRestrictions::default());
        assert_eq!(r.booking_window, None);
        assert_eq!(r.appointment_id, None);
    }

    #[test]
    fn bookable_defaults_to_false() {
        let mut s = a_slot();
        s.extension.truncate(1);
        assert!(!convert_slot(&s).expect("converts").bookable);
    }

    #[test]
    fn restrictions_and_window_map_from_their_extensions() {
        let mut s = a_slot();
        s.extension.extend([
            value_ext(
                ext::ORGANISATION_TYPE_RESTRICTION,
                ExtensionValue::Code(Code::from_static("urgent-care")),
            ),
            value_ext(
                ext::ODS_CODE_RESTRICTION,
                ExtensionValue::Code(Code::from_static("B82001")),
            ),
            value_ext(
                ext::ODS_CODE_RESTRICTION,
                ExtensionValue::Code(Code::from_static("B82002")),
            ),
            Extension {
                url: ext::BOOKING_WINDOW.to_owned(),
                extension: vec![value_ext(ext::MAX_DAYS_AHEAD, ExtensionValue::Integer(14))],
                ..Default::default()
            },
        ]);
        let r = convert_slot(&s).expect("converts");
        assert_eq!(
            r.restrictions,
            SlotRestrictions {
                organisation_types: vec!["urgent-care".into()],
                ods_codes: vec!["B82001".into(), "B82002".into()],
            }
        );
        assert_eq!(
            r.booking_window,
            Some(BookingWindow {
                max_days_ahead: Some(14),
                min_notice_minutes: None
            })
        );
    }

    #[test]
    fn an_ods_restriction_must_be_an_ods_code() {
        let mut s = a_slot();
        s.extension.push(value_ext(
            ext::ODS_CODE_RESTRICTION,
            ExtensionValue::Code(Code::from_static("B8 2001")),
        ));
        assert_eq!(
            convert_slot(&s).expect_err("bad").diagnostics(),
            "Bundle.entry[5].resource(Slot/14-1-3).extension[2]: \"B8 2001\" is not an ODS code (1-10 letters and digits)"
        );
    }

    #[test]
    fn visit_slots_cannot_be_bookable() {
        let mut s = a_slot();
        s.extension[0].value = Some(ExtensionValue::Code(Code::from_static("Visit")));
        assert_eq!(
            convert_slot(&s).expect_err("visit").diagnostics(),
            "Bundle.entry[5].resource(Slot/14-1-3).extension[1]: a Visit slot can never be GP Connect bookable (§4.2 item 6)"
        );
        s.extension.truncate(1);
        assert_eq!(
            convert_slot(&s).expect("unbookable visit").delivery_channel,
            "Visit"
        );
    }

    #[test]
    fn unknown_delivery_channels_are_refused() {
        let mut s = a_slot();
        s.extension[0].value = Some(ExtensionValue::Code(Code::from_static("In-Person")));
        assert_eq!(
            convert_slot(&s).expect_err("case").diagnostics(),
            "Bundle.entry[5].resource(Slot/14-1-3).extension[0]: \"In-Person\" is not a delivery channel; expected one of: In-person, Telephone, Video, Visit"
        );
    }

    #[test]
    fn a_setting_misplaced_inside_a_slot_is_refused() {
        let mut s = a_slot();
        s.extension.truncate(1);
        s.service_type[0].extension = vec![value_ext(ext::BOOKABLE, ExtensionValue::Boolean(true))];
        assert!(
            convert_slot(&s)
                .expect_err("misplaced")
                .diagnostics()
                .starts_with("Bundle.entry[5].resource(Slot/14-1-3): carries an extension of urn:gpconnect:fhir:extension:")
        );
    }

    #[test]
    fn slot_status_is_free_or_busy() {
        let mut s = a_slot();
        s.status = Code::from_static("busy-tentative");
        assert!(
            convert_slot(&s)
                .expect_err("status")
                .diagnostics()
                .starts_with("Bundle.entry[5].resource(Slot/14-1-3).status: must be free or busy")
        );
    }

    fn a_schedule() -> stu3::Schedule {
        stu3::Schedule {
            id: Id::new("14").ok(),
            extension: vec![value_ext(
                gpc::PRACTITIONER_ROLE,
                ExtensionValue::CodeableConcept(CodeableConcept {
                    coding: vec![Coding {
                        system: Some(code_system::SDS_JOB_ROLE_NAME.to_owned()),
                        code: Some(Code::from_static("R0260")),
                        display: Some("General Medical Practitioner".to_owned()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
            )],
            service_category: Some(CodeableConcept {
                text: Some("General GP Appointments".to_owned()),
                ..Default::default()
            }),
            actor: vec![reference("Practitioner/2"), reference("Location/17")],
            planning_horizon: Some(Period {
                start: DateTime::new("2030-03-01T00:00:00+00:00").ok(),
                end: DateTime::new("2030-07-31T00:00:00+01:00").ok(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn convert_schedule(s: &stu3::Schedule) -> Result<ScheduleRecord, Error> {
        let b = bundle();
        let entries = Entries::index(&b)?;
        schedule(SCHEDULE_AT, s, &entries)
    }

    #[test]
    fn a_schedule_maps_actors_role_type_and_horizon() {
        let r = convert_schedule(&a_schedule()).expect("converts");
        assert_eq!(r.location_id, "17");
        assert_eq!(r.practitioner_id.as_deref(), Some("2"));
        assert_eq!(
            r.practitioner_role
                .and_then(|c| c.code)
                .map(|c| c.into_string()),
            Some("R0260".to_owned())
        );
        assert_eq!(r.schedule_type.as_deref(), Some("General GP Appointments"));
        assert_eq!(r.planning_horizon_start.to_string(), "2030-03-01T00:00:00Z");
        assert_eq!(
            r.planning_horizon_end.map(|t| t.to_string()).as_deref(),
            Some("2030-07-30T23:00:00Z")
        );
    }

    #[test]
    fn a_schedule_needs_one_location_actor() {
        let mut s = a_schedule();
        s.actor.remove(1);
        assert_eq!(
            convert_schedule(&s).expect_err("no location").diagnostics(),
            "Bundle.entry[4].resource(Schedule/14).actor: a Location actor (the surgery where the appointments take place) is required"
        );
        let mut s = a_schedule();
        s.actor.push(reference("Location/17"));
        assert_eq!(
            convert_schedule(&s).expect_err("two").diagnostics(),
            "Bundle.entry[4].resource(Schedule/14).actor[2]: a second Location actor; a schedule belongs to one Location"
        );
    }

    #[test]
    fn a_partial_horizon_is_refused() {
        let mut s = a_schedule();
        if let Some(h) = s.planning_horizon.as_mut() {
            h.start = DateTime::new("2030-03-01").ok();
        }
        assert_eq!(
            convert_schedule(&s).expect_err("partial").diagnostics(),
            "Bundle.entry[4].resource(Schedule/14).planningHorizon.start: \"2030-03-01\" must be a date-time with seconds and a zone offset"
        );
    }

    #[test]
    fn a_practitioner_role_needs_an_sds_coding() {
        let mut s = a_schedule();
        s.extension[0].value = Some(ExtensionValue::CodeableConcept(CodeableConcept {
            text: Some("GP".to_owned()),
            ..Default::default()
        }));
        assert!(
            convert_schedule(&s)
                .expect_err("no coding")
                .diagnostics()
                .starts_with("Bundle.entry[4].resource(Schedule/14).extension[0]: the practitioner role needs a coding")
        );
    }
}
