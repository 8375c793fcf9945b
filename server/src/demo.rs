//! The demo practice `gpconnect serve --demo` loads: the Trevelyan Practice
//! of [`gpconnect_core::testkit`] (ODS `A00001`, ASID `900000000001`, its
//! patients, practitioners and locations) with a fuller diary relative to
//! the day it runs — four schedules of ten-minute slots, 08:00–18:00 UK
//! time, from today through today + 14 days — and a PDS that knows the
//! practice's patients plus a few people who are not yet registered, so
//! `$gpc.registerpatient` has someone to register.

use gpconnect_core::checks::datetime::{uk_start_of_day, uk_today};
use gpconnect_core::checks::headers::Interaction;
use gpconnect_core::engine::token::TokenSpec;
use gpconnect_core::foundations::{LocalPds, PdsRecord};
use gpconnect_core::store::{
    PracticeImport, ScheduleRecord, SlotRecord, SlotRestrictions, SlotStatus,
};
use gpconnect_core::testkit;
use jiff::{SignedDuration, Span, Timestamp};

/// The demo practice's ODS code.
pub const ODS: &str = testkit::ODS;
/// The demo practice's ASID (`Ssp-To`).
pub const ASID: &str = testkit::ASID;
/// Days of slots after today (today included, so 15 days in all).
pub const DAYS_AHEAD: i64 = 14;
/// Slots per schedule per day (08:00–18:00, ten minutes each).
pub const SLOTS_PER_DAY: i64 = 60;

/// People on the demo PDS who are not registered at the practice.
const UNREGISTERED: [(&str, &str, &str, &str); 3] = [
    ("9000000106", "Okafor", "Grace", "1991-04-17"),
    ("9000000114", "Lindqvist", "Erik", "1968-11-02"),
    ("9000000122", "Hughes", "Bethan", "2001-06-25"),
];

/// A getcarerecord request for patient 9000000009's Summary.
pub const CARE_RECORD_BODY: &str = r#"{"resourceType":"Parameters","parameter":[{"name":"patientNHSNumber","valueIdentifier":{"system":"http://fhir.nhs.net/Id/nhs-number","value":"9000000009"}},{"name":"recordSection","valueCodeableConcept":{"coding":[{"system":"http://fhir.nhs.net/ValueSet/gpconnect-record-section-1","code":"SUM"}]}}]}"#;

/// The demo practice as of `now`.
pub fn practice(now: Timestamp) -> PracticeImport {
    let mut import = testkit::practice(now);
    // testkit's two schedules, plus a telephone list and a health-check
    // clinic; a schedule's diary covers the whole demo horizon.
    let base = import.schedules.clone();
    let mut schedules: Vec<ScheduleRecord> = base.clone();
    if let [gp, nurse, ..] = base.as_slice() {
        schedules.push(ScheduleRecord {
            id: "16".to_owned(),
            location_id: nurse.location_id.clone(),
            schedule_type: Some("GP telephone consultations".to_owned()),
            ..gp.clone()
        });
        schedules.push(ScheduleRecord {
            id: "19".to_owned(),
            location_id: gp.location_id.clone(),
            schedule_type: Some("NHS Health Checks".to_owned()),
            ..nurse.clone()
        });
    }
    let today = uk_today(now);
    let horizon_start = uk_start_of_day(today).unwrap_or(now);
    for schedule in &mut schedules {
        schedule.planning_horizon_start = horizon_start;
        schedule.planning_horizon_end =
            Some(horizon_start + SignedDuration::from_hours(24 * (DAYS_AHEAD + 1)));
    }
    let mut slots = Vec::new();
    for day in 0..=DAYS_AHEAD {
        let Ok(date) = today.checked_add(Span::new().days(day)) else {
            continue;
        };
        let Ok(midnight) = uk_start_of_day(date) else {
            continue;
        };
        for schedule in &schedules {
            for n in 0..SLOTS_PER_DAY {
                let start = midnight + SignedDuration::from_mins(8 * 60 + 10 * n);
                slots.push(SlotRecord {
                    id: format!("{}-{day}-{n}", schedule.id),
                    version: 0,
                    schedule_id: schedule.id.clone(),
                    start,
                    end: start + SignedDuration::from_mins(10),
                    status: SlotStatus::Free,
                    appointment_id: None,
                    delivery_channel: if schedule.id == "16" {
                        "Telephone"
                    } else {
                        "In-person"
                    }
                    .to_owned(),
                    service_type: schedule
                        .schedule_type
                        .clone()
                        .unwrap_or_else(|| "General GP Appointment".to_owned()),
                    bookable: true,
                    restrictions: SlotRestrictions::default(),
                    booking_window: None,
                });
            }
        }
    }
    import.schedules = schedules;
    import.slots = slots;
    import
}

/// The demo PDS: every demo patient with a name and date of birth, and
/// a few people who are not registered at the practice.
pub fn pds(import: &PracticeImport) -> LocalPds {
    let registered = import.patients.iter().filter_map(PdsRecord::from_patient);
    let others = UNREGISTERED.iter().filter_map(|(nhs, family, given, dob)| {
        Some(PdsRecord::new(*nhs, *family, [*given], dob.parse().ok()?))
    });
    LocalPds::from_records(registered.chain(others))
}

/// Example requests against the demo practice on `base_url`
/// (`http://127.0.0.1:8080`), with tokens valid for five minutes from
/// `now`, for the operator to paste.
pub fn example_requests(base_url: &str, now: Timestamp) -> String {
    let token = |interaction: Interaction| {
        TokenSpec::for_interaction(interaction, "B82001", now)
            .bearer()
            .unwrap_or_default()
    };
    let root = format!("{base_url}/{ODS}/STU3/1/gpconnect");
    let headers = |interaction: Interaction| {
        format!(
            "-H 'Ssp-TraceID: 09a01679-2564-0fb4-5129-aecc81ea2706' -H 'Ssp-From: 200000000359' -H 'Ssp-To: {ASID}' -H 'Ssp-InteractionID: {}' -H 'Authorization: {}'",
            interaction.interaction_id(),
            token(interaction)
        )
    };
    let record_token = TokenSpec::for_interaction(Interaction::GetCareRecord, "B82001", now)
        .with_requested_patient("9000000009")
        .bearer()
        .unwrap_or_default();
    let record_headers = format!(
        "-H 'Ssp-TraceID: 09a01679-2564-0fb4-5129-aecc81ea2706' -H 'Ssp-From: 200000000359' -H 'Ssp-To: {ASID}' -H 'Ssp-InteractionID: {}' -H 'Authorization: {record_token}'",
        Interaction::GetCareRecord.interaction_id()
    );
    let today = uk_today(now);
    let end = today.checked_add(Span::new().days(7)).unwrap_or(today);
    format!(
        "# Tokens expire five minutes after start-up; `gpconnect token` prints fresh ones.\n\
         # The practice's capability statement:\n\
         curl -s {h_meta} '{root}/metadata'\n\
         # Free slots this week, with the practitioners, locations and organisation:\n\
         curl -s {h_slot} '{root}/Slot?start=ge{today}&end=le{end}&status=free&_include=Slot:schedule&_include:recurse=Schedule:actor:Practitioner&_include:recurse=Schedule:actor:Location&searchFilter=https://fhir.nhs.uk/Id/ODSOrganisationCode|B82001&searchFilter=https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|gp-practice'\n\
         # A patient by NHS number:\n\
         curl -s {h_patient} '{root}/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009'\n\
         # Patient 9000000009's Summary as Access Record HTML (DSTU2):\n\
         curl -s {h_record} -H 'Content-Type: application/json+fhir' -d '{record_body}' '{base_url}/{ODS}/DSTU2/0/gpconnect/Patient/$gpc.getcarerecord'\n",
        h_record = record_headers,
        record_body = CARE_RECORD_BODY,
        h_meta = headers(Interaction::GetCapabilityStatement),
        h_slot = headers(Interaction::SearchFreeSlots),
        h_patient = headers(Interaction::FindPatient),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpconnect_core::foundations::Pds;

    fn now() -> Timestamp {
        "2026-11-26T10:00:00Z".parse().expect("time")
    }

    #[test]
    fn slots_cover_today_through_fourteen_days_ahead() {
        let import = practice(now());
        let days: std::collections::BTreeSet<_> = import
            .slots
            .iter()
            .map(|s| gpconnect_core::checks::datetime::uk_today(s.start))
            .collect();
        let today = uk_today(now());
        assert_eq!(days.first(), Some(&today));
        assert_eq!(days.len() as i64, DAYS_AHEAD + 1);
        assert_eq!(
            import.slots.len() as i64,
            import.schedules.len() as i64 * SLOTS_PER_DAY * (DAYS_AHEAD + 1)
        );
        let schedules: std::collections::BTreeSet<_> =
            import.slots.iter().map(|s| s.schedule_id.clone()).collect();
        assert_eq!(schedules.len(), import.schedules.len());
    }

    #[test]
    fn the_pds_knows_the_unregistered_people() {
        let import = practice(now());
        let pds = pds(&import);
        for (nhs, family, ..) in UNREGISTERED {
            let found = pds.retrieve(nhs).expect("trace").expect("on PDS");
            assert_eq!(found.family, family);
        }
    }

    #[test]
    fn example_requests_name_the_demo_practice() {
        let text = example_requests("http://127.0.0.1:8080", now());
        assert!(text.contains("/A00001/STU3/1/gpconnect/Slot?"));
        assert!(text.contains("Ssp-To: 900000000001"));
        assert!(text.contains("Authorization: Bearer "));
    }
}
