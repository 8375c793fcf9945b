//! A small, fixed practice for tests, examples and benchmarks across the
//! workspace: one practice (ODS `A00001`, ASID `900000000001`), its
//! Organization `23`, Location `17` and branch `18`, Practitioners `2` and
//! `3`, patients covering the Foundations cases, and two schedules of slots
//! relative to a given "now" so tests never depend on the day they run.
//!
//! | patient id | NHS number | case |
//! |---|---|---|
//! | `2` | 9000000009 | active, verified |
//! | `3` | 9476719931 | active, verified |
//! | `4` | 9658218873 | PDS sensitive (S-flag) |
//! | `5` | 9000000033 | deceased |
//! | `6` | 9000000041 | left the practice (inactive) |
//! | `7` | 9000000068 | dissents from sharing their record (Access Record 403) |
//! | `8` | 9000000076 | temporary registration, NHS number not verified |
//! | `9` | 9000000084 | record in transit: registered here 7 days before `now`'s UK day |
//! | `10` | 9000000092 | died 14 days before `now`'s UK day (within the 28-day Access Record window) |
//!
//! Patient `2`'s usual GP (`generalPractitioner`) is Practitioner `2`, and
//! patient `2` has the render crate's rich sample record
//! ([`gpconnect_render::sample::rich_record`], data in every table, its
//! medications dated relative to `now`'s UK day); the others have none.
//!
//! Slots: schedule `14` (Practitioner 2 at Location 17, "General GP
//! Appointments") and schedule `15` (Practitioner 3 at branch 18,
//! "Nurse clinic"), ten-minute slots 09:00–12:00 UK time on each of the 14
//! days after `now`'s UK day. Slot ids are `{schedule}-{day}-{n}`. On day 1
//! of schedule 14, slot `n = 1` is not bookable, `n = 2` is Visit, `n = 3`
//! is reserved for `urgent-care`, `n = 4` is reserved for ODS `B82001`, and
//! `n = 5` is busy (booked by the practice itself); every slot of schedule
//! 15 is Telephone.

use jiff::{Timestamp, civil::Date};

use crate::checks::datetime::{uk_start_of_day, uk_today};
use crate::fhir::datatypes::{
    Address, Coding, ContactPoint, Extension, ExtensionValue, Identifier, Reference,
};
use crate::fhir::primitive::{Code, Date as FhirDate};
use crate::store::*;
use crate::stu3::{self, HumanName, profiles};

/// The practice's ODS code.
pub const ODS: &str = "A00001";
/// The practice's ASID.
pub const ASID: &str = "900000000001";

fn code(s: &'static str) -> Option<Code> {
    Some(Code::from_static(s))
}

fn name(family: &str, given: &str, prefix: Option<&str>) -> HumanName {
    HumanName {
        use_: code("official"),
        family: Some(family.to_owned()),
        given: vec![given.to_owned()],
        prefix: prefix.map(|p| vec![p.to_owned()]).unwrap_or_default(),
        ..Default::default()
    }
}

fn identifier(system: &str, value: &str) -> Identifier {
    Identifier {
        system: Some(system.to_owned()),
        value: Some(value.to_owned()),
        ..Default::default()
    }
}

fn phone(value: &str) -> ContactPoint {
    ContactPoint {
        system: code("phone"),
        value: Some(value.to_owned()),
        use_: code("work"),
        ..Default::default()
    }
}

fn address(lines: &[&str], city: &str, postcode: &str) -> Address {
    Address {
        use_: code("work"),
        line: lines.iter().map(|l| (*l).to_owned()).collect(),
        city: Some(city.to_owned()),
        postal_code: Some(postcode.to_owned()),
        ..Default::default()
    }
}

fn patient(
    id: &str,
    nhs: &str,
    family: &str,
    given: &str,
    birth: &str,
    flags: PatientFlags,
) -> PatientRecord {
    let verified = Extension {
        url: profiles::extension::NHS_NUMBER_VERIFICATION_STATUS.to_owned(),
        value: Some(ExtensionValue::CodeableConcept(
            crate::fhir::datatypes::CodeableConcept {
                coding: vec![Coding {
                    system: Some(profiles::code_system::NHS_NUMBER_VERIFICATION_STATUS.to_owned()),
                    code: code("01"),
                    display: Some("Number present and verified".to_owned()),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )),
        ..Default::default()
    };
    let mut nhs_identifier = identifier(profiles::identifier_system::NHS_NUMBER, nhs);
    nhs_identifier.extension.push(verified);
    PatientRecord {
        id: id.to_owned(),
        version: 0,
        nhs_number: nhs.to_owned(),
        resource: stu3::Patient {
            identifier: vec![nhs_identifier],
            name: vec![name(family, given, None)],
            gender: code("female"),
            birth_date: FhirDate::new(birth).ok(),
            telecom: vec![ContactPoint {
                system: code("phone"),
                value: Some("01454587554".to_owned()),
                use_: code("home"),
                ..Default::default()
            }],
            address: vec![Address {
                use_: code("home"),
                line: vec!["24 Trevelyan Place".to_owned()],
                city: Some("Leeds".to_owned()),
                postal_code: Some("LS1 6AE".to_owned()),
                ..Default::default()
            }],
            ..Default::default()
        },
        flags: PatientFlags {
            nhs_number_verified: true,
            ..flags
        },
    }
}

/// `record` with its NHS number unverified (no verification extension).
fn unverified(mut record: PatientRecord) -> PatientRecord {
    for i in &mut record.resource.identifier {
        i.extension.clear();
    }
    record.flags.nhs_number_verified = false;
    record
}

/// `days` days before `day`.
fn days_before(day: Date, days: i64) -> Option<Date> {
    day.checked_sub(jiff::Span::new().days(days)).ok()
}

/// The practice record (GP Connect and Appointment Management switched on).
pub fn practice_record() -> PracticeRecord {
    PracticeRecord {
        ods_code: ODS.to_owned(),
        asid: ASID.to_owned(),
        organization_id: "23".to_owned(),
        settings: PracticeSettings {
            gp_connect_enabled: true,
            appointments_enabled: true,
            access_record_enabled: true,
            booking_window: BookingWindow::default(),
            slot_limits: Vec::new(),
            access_record: AccessRecordSettings::default(),
        },
        version: 0,
    }
}

fn slot_time(day: Date, n: usize) -> Result<(Timestamp, Timestamp), crate::Error> {
    let start = uk_start_of_day(day)? + jiff::SignedDuration::from_mins(9 * 60 + 10 * n as i64);
    Ok((start, start + jiff::SignedDuration::from_mins(10)))
}

/// Ten-minute slots 09:00–12:00 UK time for `days` days after `now`'s UK
/// day, for both schedules (see the module docs for the special slots).
pub fn slots(now: Timestamp, days: usize) -> Vec<SlotRecord> {
    let today = uk_today(now);
    let mut out = Vec::new();
    for d in 1..=days {
        let Ok(day) = today.checked_add(jiff::Span::new().days(d as i64)) else {
            continue;
        };
        for schedule in ["14", "15"] {
            for n in 0..18 {
                let Ok((start, end)) = slot_time(day, n) else {
                    continue;
                };
                let mut slot = SlotRecord {
                    id: format!("{schedule}-{d}-{n}"),
                    version: 0,
                    schedule_id: schedule.to_owned(),
                    start,
                    end,
                    status: SlotStatus::Free,
                    appointment_id: None,
                    delivery_channel: if schedule == "15" {
                        "Telephone"
                    } else {
                        "In-person"
                    }
                    .to_owned(),
                    service_type: if n % 2 == 0 {
                        "General GP Appointment"
                    } else {
                        "NHS Health Check"
                    }
                    .to_owned(),
                    bookable: true,
                    restrictions: SlotRestrictions::default(),
                    booking_window: None,
                };
                if schedule == "14" && d == 1 {
                    match n {
                        1 => slot.bookable = false,
                        2 => slot.delivery_channel = DELIVERY_CHANNEL_VISIT.to_owned(),
                        3 => slot.restrictions.organisation_types = vec!["urgent-care".to_owned()],
                        4 => slot.restrictions.ods_codes = vec!["B82001".to_owned()],
                        5 => slot.status = SlotStatus::Busy,
                        _ => {}
                    }
                }
                out.push(slot);
            }
        }
    }
    out
}

/// The whole practice, with 14 days of slots after `now`.
pub fn practice(now: Timestamp) -> PracticeImport {
    let org = OrganizationRecord {
        id: "23".to_owned(),
        version: 0,
        ods_code: ODS.to_owned(),
        resource: stu3::Organization {
            identifier: vec![identifier(
                profiles::identifier_system::ODS_ORGANIZATION_CODE,
                ODS,
            )],
            name: Some("The Trevelyan Practice".to_owned()),
            telecom: vec![phone("03003035678")],
            address: vec![address(
                &["Trevelyan Square", "Boar Ln"],
                "Leeds",
                "LS1 6AE",
            )],
            ..Default::default()
        },
    };
    let location = |id: &str, name: &str, line: &str| LocationRecord {
        id: id.to_owned(),
        version: 0,
        resource: stu3::Location {
            name: Some(name.to_owned()),
            address: Some(address(&[line], "Leeds", "LS1 6AE")),
            telecom: vec![phone("03003035678")],
            managing_organization: Some(Reference {
                reference: Some("Organization/23".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        },
    };
    let practitioner = |id: &str, sds: &str, family: &str, given: &str| PractitionerRecord {
        id: id.to_owned(),
        version: 0,
        sds_user_ids: vec![sds.to_owned()],
        resource: stu3::Practitioner {
            identifier: vec![identifier(profiles::identifier_system::SDS_USER_ID, sds)],
            name: vec![name(family, given, Some("Dr"))],
            gender: code("female"),
            ..Default::default()
        },
    };
    let role = |code: &'static str, display: &str| Coding {
        system: Some(profiles::code_system::SDS_JOB_ROLE_NAME.to_owned()),
        code: Some(Code::from_static(code)),
        display: Some(display.to_owned()),
        ..Default::default()
    };
    let today = uk_today(now);
    let horizon = today;
    let base = patient(
        "2",
        "9000000009",
        "Dawes",
        "Minnie",
        "1952-05-31",
        PatientFlags::default(),
    );
    let horizon_start = uk_start_of_day(horizon).unwrap_or(now);
    let schedule =
        |id: &str, location: &str, practitioner: &str, kind: &str, role: Coding| ScheduleRecord {
            id: id.to_owned(),
            version: 0,
            location_id: location.to_owned(),
            practitioner_id: Some(practitioner.to_owned()),
            practitioner_role: Some(role),
            schedule_type: Some(kind.to_owned()),
            planning_horizon_start: horizon_start,
            planning_horizon_end: Some(horizon_start + jiff::SignedDuration::from_hours(24 * 15)),
        };
    PracticeImport {
        practice: Some(practice_record()),
        organizations: vec![org],
        locations: vec![
            location("17", "The Trevelyan Practice", "Trevelyan Square"),
            location("18", "Boar Lane Branch Surgery", "12 Boar Lane"),
        ],
        practitioners: vec![
            practitioner("2", "111122223333", "Black", "Sarah"),
            practitioner("3", "444455556666", "Patel", "Anita"),
        ],
        patients: vec![
            PatientRecord {
                resource: stu3::Patient {
                    general_practitioner: vec![Reference {
                        reference: Some("Practitioner/2".to_owned()),
                        ..Default::default()
                    }],
                    ..base.resource
                },
                ..base
            },
            patient(
                "3",
                "9476719931",
                "Keys",
                "Peter",
                "1978-01-12",
                PatientFlags::default(),
            ),
            patient(
                "4",
                "9658218873",
                "Hidden",
                "Sam",
                "1990-03-03",
                PatientFlags {
                    sensitive: true,
                    ..Default::default()
                },
            ),
            patient(
                "5",
                "9000000033",
                "Late",
                "Arthur",
                "1930-07-07",
                PatientFlags {
                    deceased: Date::new(2026, 1, 1).ok(),
                    ..Default::default()
                },
            ),
            patient(
                "6",
                "9000000041",
                "Moved",
                "Alice",
                "1985-09-09",
                PatientFlags {
                    registration: RegistrationStatus::Inactive,
                    ..Default::default()
                },
            ),
            patient(
                "7",
                "9000000068",
                "Private",
                "Dennis",
                "1969-11-23",
                PatientFlags {
                    dissent: true,
                    ..Default::default()
                },
            ),
            PatientRecord {
                flags: PatientFlags {
                    registration_type: RegistrationType::Temporary,
                    ..Default::default()
                },
                ..unverified(patient(
                    "8",
                    "9000000076",
                    "Visitor",
                    "Vera",
                    "1999-04-04",
                    PatientFlags::default(),
                ))
            },
            patient(
                "9",
                "9000000084",
                "Newcomer",
                "Nora",
                "1961-02-14",
                PatientFlags {
                    record_in_transit: days_before(today, 7),
                    ..Default::default()
                },
            ),
            patient(
                "10",
                "9000000092",
                "Recent",
                "Ronald",
                "1940-10-10",
                PatientFlags {
                    deceased: days_before(today, 14),
                    ..Default::default()
                },
            ),
        ],
        schedules: vec![
            schedule(
                "14",
                "17",
                "2",
                "General GP Appointments",
                role("R0260", "General Medical Practitioner"),
            ),
            schedule(
                "15",
                "18",
                "3",
                "Nurse clinic",
                role("R0690", "Practice Nurse"),
            ),
        ],
        slots: slots(now, 14),
        appointments: Vec::new(),
        clinical_records: vec![PatientClinicalRecord {
            patient_id: "2".to_owned(),
            record: gpconnect_render::sample::rich_record(today),
        }],
    }
}

/// A [`MemoryStore`](crate::store::memory::MemoryStore) holding [`practice`].
pub fn memory_store(now: Timestamp) -> Result<crate::store::memory::MemoryStore, StoreError> {
    let store = crate::store::memory::MemoryStore::new();
    store.import(ODS, practice(now))?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_practice_loads_and_has_its_special_slots() {
        let now: Timestamp = "2026-11-25T10:00:00Z".parse().expect("ts");
        let store = memory_store(now).expect("loads");
        let s = store.slot(ODS, "14-1-2").expect("read").expect("slot");
        assert_eq!(s.delivery_channel, "Visit");
        // 2026-11-26 09:20 UK (GMT).
        assert_eq!(s.start.to_string(), "2026-11-26T09:20:00Z");
        assert_eq!(
            store
                .patients_by_nhs_number(ODS, "9000000009")
                .expect("read")
                .len(),
            1
        );
        assert!(crate::checks::nhs_number::is_valid_nhs_number("9000000033"));
        assert!(crate::checks::nhs_number::is_valid_nhs_number("9000000041"));
    }
}
