//! The GP Connect 1.2.9 example fixtures (appointments and foundations,
//! copied into `tests/data/stu3/`) through the STU3 model.
//!
//! Valid examples: JSON → `stu3::Resource` → XML → `stu3::Resource` → JSON;
//! both models must be equal and the final JSON must equal the original (as
//! `serde_json::Value`). Each test also checks a few facts the example
//! carries, so it proves the model read the content rather than just
//! echoing it.
//!
//! Invalid examples (digest §9, §11.13) are rejected with
//! `CodecError::Invalid` at the exact element path; no leniency. The same
//! documents with the defect corrected are then round-tripped, so their
//! content is still covered:
//! - `read_location_response_example`, `unknown_visit_location_example`:
//!   `Location.address` is an array (0..1 in STU3).
//! - `search_for_free_slots_response_example`: `Location.telecom`,
//!   `Organization.address` and `Organization.telecom` are objects (0..* in
//!   STU3). The digest lists the telecoms; the Organization address is a
//!   third defect of the same kind.
//! - `get_capability_statement_response_example`: a template whose
//!   `software.releaseDate` placeholder is not a `dateTime`.

use std::collections::BTreeSet;

use gpconnect_core::fhir::{
    CodecError, FhirResource, Limits, from_json, from_xml, to_json, to_xml,
};
use gpconnect_core::stu3::profiles::{code_system, extension, identifier_system, profile};
use gpconnect_core::stu3::{
    Appointment, Bundle, CapabilityStatement, DateTime, Extension, ExtensionValue, Location,
    Organization, Parameters, ParametersParameterValue, Patient, PatientDeceased, Practitioner,
    Resource, Schedule, Slot,
};
use serde_json::{Value, json};

macro_rules! example {
    ($name:literal) => {
        include_str!(concat!("data/stu3/", $name, ".json"))
    };
}

/// Every fixture, by file stem: (name, JSON, valid STU3 as published?).
const FIXTURES: &[(&str, &str, bool)] = &[
    (
        "amend_appt_request_example",
        example!("amend_appt_request_example"),
        true,
    ),
    (
        "amend_appt_response_example",
        example!("amend_appt_response_example"),
        true,
    ),
    (
        "book_appt_request_example",
        example!("book_appt_request_example"),
        true,
    ),
    (
        "book_appt_response_example",
        example!("book_appt_response_example"),
        true,
    ),
    (
        "cancel_appt_request_example",
        example!("cancel_appt_request_example"),
        true,
    ),
    (
        "cancel_appt_response_example",
        example!("cancel_appt_response_example"),
        true,
    ),
    (
        "read_appt_response_example",
        example!("read_appt_response_example"),
        true,
    ),
    (
        "retrieve_patients_appts_response_example",
        example!("retrieve_patients_appts_response_example"),
        true,
    ),
    (
        "search_for_free_slots_response_example",
        example!("search_for_free_slots_response_example"),
        false,
    ),
    (
        "unknown_visit_location_example",
        example!("unknown_visit_location_example"),
        false,
    ),
    (
        "find_organization_response_example",
        example!("find_organization_response_example"),
        true,
    ),
    (
        "find_patient_response_example",
        example!("find_patient_response_example"),
        true,
    ),
    (
        "find_practitioner_response_example",
        example!("find_practitioner_response_example"),
        true,
    ),
    (
        "get_capability_statement_response_example",
        example!("get_capability_statement_response_example"),
        false,
    ),
    (
        "read_location_response_example",
        example!("read_location_response_example"),
        false,
    ),
    (
        "read_organization_response_example",
        example!("read_organization_response_example"),
        true,
    ),
    (
        "read_patient_response_example",
        example!("read_patient_response_example"),
        true,
    ),
    (
        "read_practitioner_response_example",
        example!("read_practitioner_response_example"),
        true,
    ),
    (
        "register_patient_request_example",
        example!("register_patient_request_example"),
        true,
    ),
    (
        "register_patient_response_example",
        example!("register_patient_response_example"),
        true,
    ),
];

// ---------------------------------------------------------------------------
// Helpers

/// JSON → model → XML → model → JSON. Asserts model equality and JSON
/// equality with the input, and that writing XML is deterministic.
fn round_trip(name: &str, json: &str) -> Resource {
    let model = from_json::<Resource>(json.as_bytes(), Limits::REQUEST)
        .unwrap_or_else(|e| panic!("{name}: JSON decode failed: {e}"));
    let xml = to_xml(&model);
    let back = from_xml::<Resource>(xml.as_bytes(), Limits::REQUEST)
        .unwrap_or_else(|e| panic!("{name}: XML decode failed: {e}\n{xml}"));
    assert_eq!(
        back, model,
        "{name}: XML round trip changed the model\n{xml}"
    );
    assert_eq!(to_xml(&back), xml, "{name}: XML output is not stable");
    let written: Value = serde_json::from_slice(&to_json(&back)).expect("our JSON parses");
    let original: Value = serde_json::from_str(json).expect("fixture JSON parses");
    assert_eq!(
        written, original,
        "{name}: JSON changed on the way through XML"
    );
    model
}

fn fixture(name: &str) -> &'static str {
    FIXTURES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, j, _)| *j)
        .unwrap_or_else(|| panic!("no fixture {name}"))
}

/// Decode `json` as `T` and expect `CodecError::Invalid` at `path` whose
/// message contains `message`.
fn assert_invalid<T: FhirResource + std::fmt::Debug>(json: &str, path: &str, message: &str) {
    match from_json::<T>(json.as_bytes(), Limits::REQUEST) {
        Err(CodecError::Invalid {
            path: p,
            message: m,
        }) => {
            assert_eq!(p, path, "message: {m}");
            assert!(m.contains(message), "{path}: '{m}' lacks '{message}'");
        }
        other => panic!("{path}: expected Invalid, got {other:?}"),
    }
}

/// Parse, change, and write back with `resourceType` first in every object
/// (as the fixtures have it); `serde_json::Value` sorts keys.
fn edit(json: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut v: Value = serde_json::from_str(json).expect("fixture JSON parses");
    f(&mut v);
    let mut out = String::new();
    write_resource_type_first(&v, &mut out);
    out
}

fn write_resource_type_first(v: &Value, out: &mut String) {
    match v {
        Value::Object(map) => {
            out.push('{');
            let first = map.get_key_value("resourceType");
            let rest = map.iter().filter(|(k, _)| k.as_str() != "resourceType");
            for (i, (k, v)) in first.into_iter().chain(rest).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_resource_type_first(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_resource_type_first(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

fn appointment(r: Resource) -> Appointment {
    match r {
        Resource::Appointment(a) => *a,
        other => panic!("expected an Appointment, got {}", other.resource_type()),
    }
}

fn bundle(r: Resource) -> Bundle {
    match r {
        Resource::Bundle(b) => *b,
        other => panic!("expected a Bundle, got {}", other.resource_type()),
    }
}

fn patient(r: &Resource) -> &Patient {
    match r {
        Resource::Patient(p) => p,
        other => panic!("expected a Patient, got {}", other.resource_type()),
    }
}

fn organization(r: &Resource) -> &Organization {
    match r {
        Resource::Organization(o) => o,
        other => panic!("expected an Organization, got {}", other.resource_type()),
    }
}

fn practitioner(r: &Resource) -> &Practitioner {
    match r {
        Resource::Practitioner(p) => p,
        other => panic!("expected a Practitioner, got {}", other.resource_type()),
    }
}

fn location(r: &Resource) -> &Location {
    match r {
        Resource::Location(l) => l,
        other => panic!("expected a Location, got {}", other.resource_type()),
    }
}

fn entries(b: &Bundle) -> Vec<&Resource> {
    b.entry
        .iter()
        .map(|e| e.resource.as_ref().expect("entry has a resource"))
        .collect()
}

fn ext<'a>(exts: &'a [Extension], url: &str) -> &'a Extension {
    let found: Vec<&Extension> = exts.iter().filter(|e| e.url == url).collect();
    assert_eq!(found.len(), 1, "extension {url}");
    found[0]
}

fn reference(v: &Option<ExtensionValue>) -> &str {
    match v {
        Some(ExtensionValue::Reference(r)) => r.reference.as_deref().expect("reference"),
        other => panic!("expected valueReference, got {other:?}"),
    }
}

fn value_code(v: &Option<ExtensionValue>) -> &str {
    match v {
        Some(ExtensionValue::Code(c)) => c.as_str(),
        other => panic!("expected valueCode, got {other:?}"),
    }
}

fn value_string(v: &Option<ExtensionValue>) -> &str {
    match v {
        Some(ExtensionValue::String(s)) => s,
        other => panic!("expected valueString, got {other:?}"),
    }
}

fn coding_code(v: &Option<ExtensionValue>) -> (&str, &str) {
    match v {
        Some(ExtensionValue::CodeableConcept(cc)) => {
            let c = &cc.coding[0];
            (
                c.system.as_deref().expect("system"),
                c.code.as_ref().expect("code").as_str(),
            )
        }
        other => panic!("expected valueCodeableConcept, got {other:?}"),
    }
}

fn refs(list: &[gpconnect_core::stu3::Reference]) -> Vec<&str> {
    list.iter()
        .map(|r| r.reference.as_deref().unwrap_or(""))
        .collect()
}

fn profiles_of(meta: &Option<gpconnect_core::stu3::Meta>) -> Vec<&str> {
    meta.as_ref()
        .map(|m| m.profile.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// Facts every appointment example shares: profile, contained booking
/// organisation `#1` with ODS `A00001`, the booking-organisation extension.
fn check_booking_organisation(a: &Appointment, org_name: &str) {
    assert_eq!(profiles_of(&a.meta), [profile::APPOINTMENT]);
    assert_eq!(a.contained.len(), 1);
    let org = organization(&a.contained[0]);
    assert_eq!(org.id.as_ref().map(|i| i.as_str()), Some("1"));
    assert_eq!(profiles_of(&org.meta), [profile::ORGANIZATION]);
    assert_eq!(
        org.identifier[0].system.as_deref(),
        Some(identifier_system::ODS_ORGANIZATION_CODE)
    );
    assert_eq!(org.identifier[0].value.as_deref(), Some("A00001"));
    assert_eq!(org.name.as_deref(), Some(org_name));
    assert_eq!(
        org.telecom[0].system.as_ref().map(|c| c.as_str()),
        Some("phone")
    );
    assert_eq!(
        reference(&ext(&a.extension, extension::BOOKING_ORGANISATION).value),
        "#1"
    );
}

fn check_practitioner_role_and_channel(exts: &[Extension]) {
    assert_eq!(
        coding_code(&ext(exts, extension::PRACTITIONER_ROLE).value),
        (code_system::SDS_JOB_ROLE_NAME, "R0260")
    );
    assert_eq!(
        value_code(&ext(exts, extension::DELIVERY_CHANNEL).value),
        "In-person"
    );
}

// ---------------------------------------------------------------------------
// Coverage of the fixture directory

#[test]
fn every_fixture_file_is_covered() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/stu3");
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
        .expect("fixture directory")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let listed: BTreeSet<String> = FIXTURES
        .iter()
        .map(|(n, _, _)| format!("{n}.json"))
        .collect();
    assert_eq!(on_disk, listed);
}

#[test]
fn every_valid_fixture_round_trips_and_every_invalid_one_is_rejected() {
    for (name, json, valid) in FIXTURES {
        let r = from_json::<Resource>(json.as_bytes(), Limits::REQUEST);
        if *valid {
            round_trip(name, json);
        } else if *name != "get_capability_statement_response_example" {
            // The template's only defect is a dateTime; see its own test.
            assert!(
                matches!(r, Err(CodecError::Invalid { .. })),
                "{name}: {r:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Appointments

#[test]
fn book_appt_request() {
    let a = appointment(round_trip("book", fixture("book_appt_request_example")));
    assert!(a.id.is_none(), "a create carries no id");
    check_booking_organisation(&a, "Test Organization Name");
    let org = organization(&a.contained[0]);
    let org_type = &org.type_[0].coding[0];
    assert_eq!(
        org_type.system.as_deref(),
        Some(code_system::ORGANISATION_TYPE)
    );
    assert_eq!(
        org_type.code.as_ref().map(|c| c.as_str()),
        Some("gp-practice")
    );
    assert_eq!(a.extension.len(), 1);
    assert_eq!(a.status.as_str(), "booked");
    assert_eq!(a.description.as_deref(), Some("Free text description."));
    assert_eq!(a.comment.as_deref(), Some("Free text comment."));
    assert_eq!(
        a.start.as_ref().map(|s| s.as_str()),
        Some("2017-05-30T10:00:00+01:00")
    );
    assert_eq!(
        a.end.as_ref().map(|s| s.as_str()),
        Some("2017-05-30T10:25:00+01:00")
    );
    assert_eq!(
        a.created.as_ref().map(|s| s.as_str()),
        Some("2017-05-25T13:48:41+01:00")
    );
    assert_eq!(refs(&a.slot), ["Slot/1"]);
    let actors: Vec<&str> = a
        .participant
        .iter()
        .map(|p| {
            p.actor
                .as_ref()
                .and_then(|r| r.reference.as_deref())
                .unwrap_or("")
        })
        .collect();
    assert_eq!(actors, ["Patient/1", "Location/32"]);
    assert!(
        a.participant
            .iter()
            .all(|p| p.status.as_str() == "accepted")
    );
    assert!(a.reason.is_empty() && a.specialty.is_empty() && a.service_type.is_empty());
}

#[test]
fn appointment_xml_is_in_schema_order() {
    let r = from_json::<Resource>(
        fixture("book_appt_request_example").as_bytes(),
        Limits::REQUEST,
    )
    .expect("valid");
    let xml = to_xml(&r);
    assert!(
        xml.starts_with(r#"<Appointment xmlns="http://hl7.org/fhir"><meta><profile value="https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1"/></meta><contained><Organization><id value="1"/>"#),
        "{xml}"
    );
    let order = [
        "<contained>",
        r##"<extension url="https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1"><valueReference><reference value="#1"/></valueReference></extension>"##,
        r#"<status value="booked"/>"#,
        "<description ",
        "<start ",
        "<end ",
        "<slot>",
        "<created ",
        "<comment ",
        "<participant><actor><reference value=\"Patient/1\"/></actor><status value=\"accepted\"/></participant>",
    ];
    let mut at = 0;
    for piece in order {
        let i = xml[at..]
            .find(piece)
            .unwrap_or_else(|| panic!("{piece} out of order in {xml}"));
        at += i + piece.len();
    }
}

#[test]
fn book_appt_response() {
    let a = appointment(round_trip(
        "book response",
        fixture("book_appt_response_example"),
    ));
    assert_eq!(a.id.as_ref().map(|i| i.as_str()), Some("9"));
    assert_eq!(
        a.meta
            .as_ref()
            .and_then(|m| m.version_id.as_ref())
            .map(|v| v.as_str()),
        Some("636068818095315079")
    );
    check_booking_organisation(&a, "Test Organization Name");
    assert!(
        organization(&a.contained[0]).type_.is_empty(),
        "the response's org has no type"
    );
    check_practitioner_role_and_channel(&a.extension);
    assert_eq!(
        a.service_category.as_ref().and_then(|c| c.text.as_deref()),
        Some("General GP Appointments")
    );
    assert_eq!(
        a.service_type[0].text.as_deref(),
        Some("General GP Appointment")
    );
}

#[test]
fn amend_appt_request_and_response() {
    let req = appointment(round_trip("amend", fixture("amend_appt_request_example")));
    assert_eq!(req.id.as_ref().map(|i| i.as_str()), Some("9"));
    assert_eq!(
        req.description.as_deref(),
        Some("Free text description updated.")
    );
    check_booking_organisation(&req, "Test Organization Name");
    let resp = appointment(round_trip(
        "amend response",
        fixture("amend_appt_response_example"),
    ));
    assert_eq!(
        resp.meta
            .as_ref()
            .and_then(|m| m.version_id.as_ref())
            .map(|v| v.as_str()),
        Some("6360688180953112345")
    );
    assert_eq!(resp.description, req.description);
    check_practitioner_role_and_channel(&resp.extension);
}

#[test]
fn cancel_appt_request_and_response() {
    let req = appointment(round_trip("cancel", fixture("cancel_appt_request_example")));
    assert_eq!(req.status.as_str(), "cancelled");
    let reason = ext(&req.extension, extension::APPOINTMENT_CANCELLATION_REASON);
    assert_eq!(
        value_string(&reason.value),
        "Free text cancellation reason."
    );
    let resp = appointment(round_trip(
        "cancel response",
        fixture("cancel_appt_response_example"),
    ));
    assert_eq!(resp.status.as_str(), "cancelled");
    let echoed = ext(&resp.extension, extension::APPOINTMENT_CANCELLATION_REASON);
    assert_eq!(echoed.value, reason.value, "R38: the reason is echoed");
    check_practitioner_role_and_channel(&resp.extension);
    // Example quirk (digest §9): the versionId does not change on cancel.
    assert_eq!(
        resp.meta.as_ref().and_then(|m| m.version_id.clone()),
        req.meta.as_ref().and_then(|m| m.version_id.clone())
    );
}

#[test]
fn read_appt_response() {
    let a = appointment(round_trip("read", fixture("read_appt_response_example")));
    assert_eq!(a.id.as_ref().map(|i| i.as_str()), Some("148"));
    assert_eq!(refs(&a.slot), ["Slot/544", "Slot/545", "Slot/546"]);
    let practitioner = a.participant[2]
        .actor
        .as_ref()
        .and_then(|r| r.reference.as_deref());
    assert_eq!(practitioner, Some("Practitioner/2"));
    check_booking_organisation(&a, "Test Organization Name");
    check_practitioner_role_and_channel(&a.extension);
}

#[test]
fn retrieve_patients_appts_response() {
    let b = bundle(round_trip(
        "retrieve",
        fixture("retrieve_patients_appts_response_example"),
    ));
    assert_eq!(b.type_.as_str(), "searchset");
    let appts: Vec<Appointment> = b
        .entry
        .into_iter()
        .map(|e| appointment(e.resource.expect("resource")))
        .collect();
    assert_eq!(appts.len(), 2);
    assert_eq!(refs(&appts[0].slot), ["Slot/544", "Slot/545", "Slot/546"]);
    check_booking_organisation(&appts[0], "Test Organization Name");
    check_booking_organisation(&appts[1], "Test Organization Name 2");
    assert_eq!(appts[1].id.as_ref().map(|i| i.as_str()), Some("149"));
    assert_eq!(refs(&appts[1].slot), ["Slot/303"]);
    assert!(appts[1].comment.is_none());
    assert_eq!(appts[1].participant.len(), 2, "149 has no practitioner");
}

#[test]
fn search_for_free_slots_response_is_rejected_then_corrected() {
    let original = fixture("search_for_free_slots_response_example");
    // Three defects of one kind; the codec reports the first, in order.
    assert_invalid::<Bundle>(
        original,
        "Bundle.entry[4].resource.telecom",
        "expected an array",
    );
    let step1 = edit(original, |v| {
        let t = v["entry"][4]["resource"]["telecom"].take();
        v["entry"][4]["resource"]["telecom"] = json!([t]);
    });
    assert_invalid::<Bundle>(
        &step1,
        "Bundle.entry[5].resource.address",
        "expected an array",
    );
    let step2 = edit(&step1, |v| {
        let a = v["entry"][5]["resource"]["address"].take();
        v["entry"][5]["resource"]["address"] = json!([a]);
    });
    assert_invalid::<Bundle>(
        &step2,
        "Bundle.entry[5].resource.telecom",
        "expected an array",
    );
    let fixed = edit(&step2, |v| {
        let t = v["entry"][5]["resource"]["telecom"].take();
        v["entry"][5]["resource"]["telecom"] = json!([t]);
    });

    let b = bundle(round_trip("free slots (corrected)", &fixed));
    assert_eq!(b.type_.as_str(), "searchset");
    let rs = entries(&b);
    let types: Vec<&str> = rs.iter().map(|r| r.resource_type()).collect();
    assert_eq!(
        types,
        [
            "Slot",
            "Slot",
            "Schedule",
            "Practitioner",
            "Location",
            "Organization"
        ]
    );
    let slots: Vec<&Slot> = rs
        .iter()
        .filter_map(|r| match r {
            Resource::Slot(s) => Some(&**s),
            _ => None,
        })
        .collect();
    assert_eq!(slots[0].id.as_ref().map(|i| i.as_str()), Some("1584"));
    for s in &slots {
        assert_eq!(profiles_of(&s.meta), [profile::SLOT]);
        assert_eq!(s.schedule.reference.as_deref(), Some("Schedule/14"));
        assert_eq!(s.status.as_str(), "free");
        assert_eq!(
            value_code(&ext(&s.extension, extension::DELIVERY_CHANNEL).value),
            "In-person"
        );
    }
    assert_eq!(
        slots[1].service_type[0].text.as_deref(),
        Some("NHS Health Check")
    );
    assert_eq!(slots[1].start.as_str(), "2016-08-15T11:40:00+01:00");
    assert_eq!(slots[1].end.as_str(), "2016-08-15T11:50:00+01:00");

    let schedule: &Schedule = match rs[2] {
        Resource::Schedule(s) => s,
        other => panic!("{}", other.resource_type()),
    };
    assert_eq!(refs(&schedule.actor), ["Location/17", "Practitioner/2"]);
    assert_eq!(
        schedule
            .planning_horizon
            .as_ref()
            .and_then(|p| p.start.as_ref())
            .map(|d| d.as_str()),
        Some("2016-08-15T09:00:00+01:00")
    );
    assert_eq!(
        coding_code(&ext(&schedule.extension, extension::PRACTITIONER_ROLE).value),
        (code_system::SDS_JOB_ROLE_NAME, "R0260")
    );
    assert_eq!(
        schedule
            .service_category
            .as_ref()
            .and_then(|c| c.text.as_deref()),
        Some("General GP Appointments")
    );

    let pr = practitioner(rs[3]);
    assert_eq!(pr.name[0].family.as_deref(), Some("Black"));
    let loc = location(rs[4]);
    let addr = loc.address.as_ref().expect("address");
    assert_eq!(addr.line, ["Trevelyan Square", "Boar Ln", "Leeds"]);
    assert_eq!(addr.postal_code.as_deref(), Some("LS1 6AE"));
    assert_eq!(loc.telecom[0].value.as_deref(), Some("03003035678"));
    assert_eq!(
        loc.managing_organization
            .as_ref()
            .and_then(|r| r.reference.as_deref()),
        Some("Organization/23")
    );
    let org = organization(rs[5]);
    assert_eq!(org.id.as_ref().map(|i| i.as_str()), Some("23"));
    assert_eq!(org.address[0].district.as_deref(), Some("West Yorkshire"));
}

#[test]
fn unknown_visit_location_is_rejected_then_corrected() {
    let original = fixture("unknown_visit_location_example");
    assert_invalid::<Location>(
        original,
        "Location.address",
        "expected a FHIR Address object",
    );
    let fixed = edit(original, |v| {
        let a = v["address"][0].take();
        v["address"] = a;
    });
    let r = round_trip("unknown visit location (corrected)", &fixed);
    let loc = location(&r);
    assert_eq!(
        loc.name.as_deref(),
        Some("Contact practice for location of the visit")
    );
    let addr = loc.address.as_ref().expect("address");
    assert_eq!(addr.line, ["Unknown"]);
    assert_eq!(addr.city.as_deref(), Some("Unknown"));
    assert_eq!(
        loc.managing_organization
            .as_ref()
            .and_then(|r| r.reference.as_deref()),
        Some("Organization/14")
    );
}

// ---------------------------------------------------------------------------
// Foundations

#[test]
fn read_location_response_is_rejected_then_corrected() {
    let original = fixture("read_location_response_example");
    assert_invalid::<Location>(
        original,
        "Location.address",
        "expected a FHIR Address object",
    );
    let fixed = edit(original, |v| {
        let a = v["address"][0].take();
        v["address"] = a;
    });
    let r = round_trip("read location (corrected)", &fixed);
    let loc = location(&r);
    assert_eq!(loc.id.as_ref().map(|i| i.as_str()), Some("17"));
    assert_eq!(profiles_of(&loc.meta), [profile::LOCATION]);
    assert_eq!(loc.name.as_deref(), Some("Trevelyan Surgery"));
    assert_eq!(
        loc.address.as_ref().and_then(|a| a.city.as_deref()),
        Some("Leeds")
    );
    assert_eq!(
        loc.telecom[0].use_.as_ref().map(|c| c.as_str()),
        Some("work")
    );
}

#[test]
fn find_and_read_organization() {
    let b = bundle(round_trip(
        "find org",
        fixture("find_organization_response_example"),
    ));
    let found = organization(entries(&b)[0]).clone();
    let read = round_trip("read org", fixture("read_organization_response_example"));
    let org = organization(&read);
    assert_eq!(*org, found, "find and read return the same Organization");
    assert_eq!(org.id.as_ref().map(|i| i.as_str()), Some("23"));
    assert_eq!(profiles_of(&org.meta), [profile::ORGANIZATION]);
    assert_eq!(
        org.identifier[0].system.as_deref(),
        Some(identifier_system::ODS_ORGANIZATION_CODE)
    );
    assert_eq!(org.identifier[0].value.as_deref(), Some("A00001"));
    assert_eq!(org.name.as_deref(), Some("The Trevelyan Practice"));
    assert_eq!(org.address[0].line, ["Trevelyan Square", "Boar Ln"]);
    assert_eq!(org.telecom[0].value.as_deref(), Some("03003035678"));
}

fn check_jane_jackson(p: &Patient) {
    assert_eq!(profiles_of(&p.meta), [profile::PATIENT]);
    let nhs = &p.identifier[0];
    assert_eq!(nhs.system.as_deref(), Some(identifier_system::NHS_NUMBER));
    assert_eq!(nhs.value.as_deref(), Some("9476719931"));
    assert_eq!(
        coding_code(&ext(&nhs.extension, extension::NHS_NUMBER_VERIFICATION_STATUS).value),
        (code_system::NHS_NUMBER_VERIFICATION_STATUS, "01")
    );
    let name = &p.name[0];
    assert_eq!(name.use_.as_ref().map(|c| c.as_str()), Some("official"));
    assert_eq!(name.family.as_deref(), Some("Jackson"));
    assert_eq!(name.given, ["Jane"]);
    assert_eq!(name.prefix, ["Miss"]);
    assert_eq!(p.gender.as_ref().map(|c| c.as_str()), Some("female"));
    assert_eq!(
        p.birth_date.as_ref().map(|d| d.as_str()),
        Some("1952-05-31")
    );
    assert_eq!(p.address[0].use_.as_ref().map(|c| c.as_str()), Some("home"));
    assert_eq!(p.telecom[0].use_.as_ref().map(|c| c.as_str()), Some("home"));
}

#[test]
fn find_and_read_patient() {
    let b = bundle(round_trip(
        "find patient",
        fixture("find_patient_response_example"),
    ));
    let found = patient(entries(&b)[0]).clone();
    let read = round_trip("read patient", fixture("read_patient_response_example"));
    let p = patient(&read);
    assert_eq!(*p, found, "find and read return the same Patient");
    check_jane_jackson(p);
    assert_eq!(p.id.as_ref().map(|i| i.as_str()), Some("2"));
    assert_eq!(p.active, Some(true));
    assert_eq!(
        p.managing_organization
            .as_ref()
            .and_then(|r| r.reference.as_deref()),
        Some("Organization/14")
    );
    let reg = ext(&p.extension, extension::REGISTRATION_DETAILS);
    assert!(reg.value.is_none());
    let branch = ext(&reg.extension, extension::PREFERRED_BRANCH_SURGERY);
    assert_eq!(
        reference(&branch.value),
        "Location/785b4ff5-aced-4bdf-b7ed-34f92131ce97"
    );
    let comm = ext(&p.extension, extension::NHS_COMMUNICATION);
    assert_eq!(
        coding_code(&ext(&comm.extension, extension::NHS_COMMUNICATION_LANGUAGE).value),
        (code_system::HUMAN_LANGUAGE, "bn")
    );
    assert_eq!(
        ext(
            &comm.extension,
            extension::NHS_COMMUNICATION_INTERPRETER_REQUIRED
        )
        .value,
        Some(ExtensionValue::Boolean(false))
    );
}

#[test]
fn find_and_read_practitioner() {
    let b = bundle(round_trip(
        "find practitioner",
        fixture("find_practitioner_response_example"),
    ));
    let found = practitioner(entries(&b)[0]).clone();
    let read = round_trip(
        "read practitioner",
        fixture("read_practitioner_response_example"),
    );
    let p = practitioner(&read);
    assert_eq!(*p, found, "find and read return the same Practitioner");
    assert_eq!(p.id.as_ref().map(|i| i.as_str()), Some("15"));
    assert_eq!(profiles_of(&p.meta), [profile::PRACTITIONER]);
    assert_eq!(
        p.identifier[0].system.as_deref(),
        Some(identifier_system::SDS_USER_ID)
    );
    assert_eq!(p.identifier[0].value.as_deref(), Some("111122223333"));
    assert_eq!(p.name[0].family.as_deref(), Some("Black"));
    assert_eq!(p.name[0].given, ["Sarah"]);
    assert_eq!(p.name[0].prefix, ["Mrs"]);
    assert_eq!(p.gender.as_ref().map(|c| c.as_str()), Some("female"));
    assert!(p.telecom.is_empty() && p.photo.is_empty() && p.qualification.is_empty());
}

#[test]
fn register_patient_request() {
    let r = round_trip("register", fixture("register_patient_request_example"));
    let params = match r {
        Resource::Parameters(p) => *p,
        other => panic!("{}", other.resource_type()),
    };
    assert_eq!(params.parameter.len(), 1);
    let param = &params.parameter[0];
    assert_eq!(param.name, profile::REGISTER_PATIENT_PARAMETER);
    assert!(param.value.is_none() && param.part.is_empty());
    let p = patient(param.resource.as_ref().expect("resource"));
    assert!(p.id.is_none() && p.meta.as_ref().is_some_and(|m| m.version_id.is_none()));
    check_jane_jackson(p);
    assert_eq!(
        p.name[0].text.as_deref(),
        Some("Minnie DAWES"),
        "example quirk kept as sent"
    );
    let uses: Vec<&str> = p
        .telecom
        .iter()
        .map(|t| t.use_.as_ref().map(|c| c.as_str()).unwrap_or(""))
        .collect();
    assert_eq!(uses, ["home", "mobile"]);
    assert_eq!(p.address[0].postal_code.as_deref(), Some("LS18 1AE"));
    assert!(p.active.is_none() && p.managing_organization.is_none());
}

#[test]
fn register_patient_response() {
    let b = bundle(round_trip(
        "register response",
        fixture("register_patient_response_example"),
    ));
    assert_eq!(profiles_of(&b.meta), [profile::SEARCHSET_BUNDLE]);
    assert_eq!(b.entry.len(), 1);
    let p = patient(entries(&b)[0]);
    check_jane_jackson(p);
    let reg = ext(&p.extension, extension::REGISTRATION_DETAILS);
    match &ext(&reg.extension, extension::REGISTRATION_PERIOD).value {
        Some(ExtensionValue::Period(period)) => assert_eq!(
            period.start.as_ref().map(|d| d.as_str()),
            Some("2017-09-07T14:17:44+01:00")
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        coding_code(&ext(&reg.extension, extension::REGISTRATION_TYPE).value),
        (code_system::REGISTRATION_TYPE, "T")
    );
}

#[test]
fn capability_statement_template() {
    let template = fixture("get_capability_statement_response_example");
    // The template's `software.releaseDate` is a placeholder, not a dateTime.
    // Whether the codec sees that depends only on the `dateTime` lexical
    // check (`checks::datetime`); whenever that check rejects the
    // placeholder, the template must fail at exactly this path.
    if DateTime::new("[Provider Software Release Date]").is_err() {
        assert_invalid::<CapabilityStatement>(
            template,
            "CapabilityStatement.software.releaseDate",
            "dateTime",
        );
    }
    let filled = edit(template, |v| {
        v["version"] = json!("1.2.9");
        v["software"]["releaseDate"] = json!("2024-01-15");
    });
    let r = round_trip("capability statement (filled)", &filled);
    let cs = match r {
        Resource::CapabilityStatement(c) => *c,
        other => panic!("{}", other.resource_type()),
    };
    assert_eq!(cs.fhir_version.as_str(), "3.0.1");
    assert_eq!(cs.accept_unknown.as_str(), "both");
    assert_eq!(cs.kind.as_str(), "capability");
    let formats: Vec<&str> = cs.format.iter().map(|f| f.as_str()).collect();
    assert_eq!(formats, ["application/fhir+json", "application/fhir+xml"]);
    assert_eq!(
        cs.software.as_ref().map(|s| s.name.as_str()),
        Some("[Provider Software Name]")
    );
    let profiles: Vec<&str> = refs(&cs.profile);
    for p in [
        profile::PATIENT,
        profile::ORGANIZATION,
        profile::PRACTITIONER,
        profile::PRACTITIONER_ROLE,
        profile::LOCATION,
        profile::OPERATION_OUTCOME,
        profile::APPOINTMENT,
        profile::SCHEDULE,
        profile::SLOT,
    ] {
        assert!(profiles.contains(&p), "{p}");
    }
    let rest = &cs.rest[0];
    assert_eq!(rest.mode.as_str(), "server");
    assert_eq!(rest.security.as_ref().and_then(|s| s.cors), Some(true));
    let appt = rest
        .resource
        .iter()
        .find(|r| r.type_.as_str() == "Appointment")
        .expect("Appointment");
    assert_eq!(appt.update_create, Some(false));
    let slot = rest
        .resource
        .iter()
        .find(|r| r.type_.as_str() == "Slot")
        .expect("Slot");
    assert_eq!(
        slot.search_include,
        [
            "Schedule:actor:Location",
            "Schedule:actor:Practitioner",
            "Slot:schedule",
            "Location:managingOrganization"
        ]
    );
    let params: Vec<&str> = slot.search_param.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(params, ["start", "end", "status", "searchFilter"]);
    assert_eq!(
        rest.operation[0].name,
        profile::REGISTER_PATIENT_OPERATION_NAME
    );
    assert_eq!(
        rest.operation[0].definition.reference.as_deref(),
        Some(profile::REGISTER_PATIENT_OPERATION)
    );
}

#[test]
fn parameters_values_parts_and_primitive_extensions_round_trip() {
    let doc = json!({
        "resourceType": "Parameters",
        "parameter": [
            {"name": "identifier", "valueIdentifier": {"system": identifier_system::NHS_NUMBER, "value": "9476719931"}},
            {"name": "concept", "valueCodeableConcept": {"coding": [{"system": code_system::REGISTRATION_TYPE, "code": "T"}], "text": "Temporary"}},
            {"name": "period", "valuePeriod": {"start": "2024-01-15", "end": "2024-04-15T09:00:00+01:00"}},
            {"name": "string", "valueString": "a <b> & \"c\"\nd", "_valueString": {"id": "s1", "extension": [{"url": "http://example.org/x", "valueBoolean": true}]}},
            {"name": "code", "valueCode": "booked"},
            {"name": "boolean", "valueBoolean": false},
            {"name": "dateTime", "valueDateTime": "2024-01-15T10:20:00+00:00"},
            {"name": "date", "valueDate": "2024-01"},
            {"name": "reference", "valueReference": {"reference": "Slot/1"}},
            {"name": "coding", "valueCoding": {"system": code_system::DELIVERY_CHANNEL, "code": "In-person"}},
            {"name": "uri", "valueUri": "https://fhir.nhs.uk/Id/nhs-number"},
            {"name": "bytes", "valueBase64Binary": "aGVsbG8="},
            {"name": "unsigned", "valueUnsignedInt": 7},
            {"name": "outer", "part": [
                {"name": "inner", "valueInteger": -3},
                {"name": "deeper", "part": [{"name": "leaf", "valueTime": "09:30:00"}]}
            ]}
        ]
    });
    let text = edit(&doc.to_string(), |_| {});
    let r = round_trip("parameters", &text);
    let Resource::Parameters(params) = r else {
        panic!("Parameters")
    };
    let values: Vec<&Option<ParametersParameterValue>> =
        params.parameter.iter().map(|p| &p.value).collect();
    assert!(
        matches!(values[0], Some(ParametersParameterValue::Identifier(i)) if i.value.as_deref() == Some("9476719931"))
    );
    assert!(
        matches!(values[3], Some(ParametersParameterValue::String(s)) if s == "a <b> & \"c\"\nd")
    );
    assert_eq!(
        params.parameter[3]
            .primitive_extensions
            .get("valueString", None)
            .and_then(|e| e.id.as_deref()),
        Some("s1")
    );
    assert!(
        matches!(values[10], Some(ParametersParameterValue::Uri(u)) if u == identifier_system::NHS_NUMBER)
    );
    assert!(
        matches!(values[11], Some(ParametersParameterValue::Base64Binary(b)) if b.decode().as_deref() == Ok(b"hello".as_slice()))
    );
    let outer = &params.parameter[13];
    assert!(outer.value.is_none());
    assert!(matches!(
        outer.part[0].value,
        Some(ParametersParameterValue::Integer(-3))
    ));
    assert_eq!(outer.part[1].part[0].name, "leaf");
    // A value type outside the choice is an unknown element (R8).
    let bad =
        json!({"resourceType": "Parameters", "parameter": [{"name": "n", "valueDecimal": 1.5}]});
    assert_invalid::<Parameters>(
        &bad.to_string(),
        "Parameters.parameter[0]",
        "unknown element 'valueDecimal'",
    );
    let bad = json!({"resourceType": "Parameters", "parameter": [{"name": "n", "valueBase64Binary": "not base64!"}]});
    assert_invalid::<Parameters>(
        &bad.to_string(),
        "Parameters.parameter[0].valueBase64Binary",
        "base64",
    );
}

// ---------------------------------------------------------------------------
// What the model keeps for the rules, and what it leaves to the codec (R8)

#[test]
fn forbidden_but_profiled_elements_are_modelled_for_the_rules() {
    // R8: reason and specialty are allowed by GPConnect-Appointment-1, so the
    // model reads them and the book rule rejects them.
    let with_reason = edit(fixture("book_appt_request_example"), |v| {
        v["reason"] = json!([{"coding": [{"system": "http://snomed.info/sct", "code": "17436001", "display": "Medical consultation with outpatient"}]}]);
        v["specialty"] = json!([{"text": "General practice"}]);
    });
    let a = appointment(round_trip("book with reason", &with_reason));
    assert_eq!(a.reason.len(), 1);
    assert_eq!(a.specialty[0].text.as_deref(), Some("General practice"));

    // R65: elements register must reject are read, so the rule can name them.
    let with_extras = edit(fixture("register_patient_request_example"), |v| {
        let p = &mut v["parameter"][0]["resource"];
        p["active"] = json!(true);
        p["deceasedDateTime"] = json!("2020-01-01T10:00:00+00:00");
        p["maritalStatus"] = json!({"coding": [{"system": "http://hl7.org/fhir/v3/MaritalStatus", "code": "M", "display": "Married"}]});
        p["multipleBirthBoolean"] = json!(false);
        p["contact"] =
            json!([{"relationship": [{"text": "Next of kin"}], "name": {"family": "Jackson"}}]);
        p["generalPractitioner"] = json!([{"reference": "Practitioner/1"}]);
        p["managingOrganization"] = json!({"reference": "Organization/1"});
    });
    let r = round_trip("register with extras", &with_extras);
    let Resource::Parameters(params) = r else {
        panic!("Parameters")
    };
    let p = patient(params.parameter[0].resource.as_ref().expect("resource"));
    assert_eq!(p.active, Some(true));
    assert!(matches!(p.deceased, Some(PatientDeceased::DateTime(_))));
    assert_eq!(
        p.contact[0].relationship[0].text.as_deref(),
        Some("Next of kin")
    );
    assert_eq!(refs(&p.general_practitioner), ["Practitioner/1"]);
    assert!(p.marital_status.is_some() && p.multiple_birth.is_some());
}

#[test]
fn max_zero_elements_are_unknown_elements() {
    let register = fixture("register_patient_request_example");
    for element in ["photo", "animal", "communication"] {
        let bad = edit(register, |v| {
            v["parameter"][0]["resource"][element] = json!([{}]);
        });
        assert_invalid::<Parameters>(
            &bad,
            "Parameters.parameter[0].resource",
            &format!("unknown element '{element}'"),
        );
    }
    let book = fixture("book_appt_request_example");
    for element in [
        "appointmentType",
        "indication",
        "supportingInformation",
        "incomingReferral",
        "requestedPeriod",
    ] {
        let bad = edit(book, |v| v[element] = json!([{}]));
        assert_invalid::<Appointment>(&bad, "Appointment", &format!("unknown element '{element}'"));
    }
    let slot = json!({"resourceType": "Slot", "schedule": {"reference": "Schedule/1"}, "status": "free",
        "start": "2016-08-15T11:30:00+01:00", "end": "2016-08-15T11:40:00+01:00"});
    for (element, value) in [
        ("serviceCategory", json!({"text": "x"})),
        ("appointmentType", json!({"text": "x"})),
    ] {
        let mut bad = slot.clone();
        bad[element] = value;
        assert_invalid::<Slot>(
            &bad.to_string(),
            "Slot",
            &format!("unknown element '{element}'"),
        );
    }
    for (element, value) in [
        ("active", json!(true)),
        ("serviceType", json!([{"text": "x"}])),
    ] {
        let bad = json!({"resourceType": "Schedule", element: value});
        assert_invalid::<Schedule>(
            &bad.to_string(),
            "Schedule",
            &format!("unknown element '{element}'"),
        );
    }
    for (element, value) in [
        ("mode", json!("instance")),
        ("position", json!({"longitude": 1.5, "latitude": 53.8})),
    ] {
        let bad = json!({"resourceType": "Location", element: value});
        assert_invalid::<Location>(
            &bad.to_string(),
            "Location",
            &format!("unknown element '{element}'"),
        );
    }
    let bad = json!({"resourceType": "Practitioner", "communication": [{"text": "English"}]});
    assert_invalid::<Practitioner>(
        &bad.to_string(),
        "Practitioner",
        "unknown element 'communication'",
    );
    for (element, value) in [
        ("total", json!(1)),
        ("link", json!([{"relation": "self", "url": "x"}])),
    ] {
        let bad = json!({"resourceType": "Bundle", "type": "searchset", element: value});
        assert_invalid::<Bundle>(
            &bad.to_string(),
            "Bundle",
            &format!("unknown element '{element}'"),
        );
    }
    let bad = json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"search": {"mode": "match"}}]});
    assert_invalid::<Bundle>(
        &bad.to_string(),
        "Bundle.entry[0]",
        "unknown element 'search'",
    );
}

#[test]
fn required_stu3_elements_are_enforced_but_profile_minimums_are_left_to_rules() {
    // STU3 1..1: Appointment.status, participant.status (R3 → 422).
    let no_status = edit(fixture("book_appt_request_example"), |v| {
        v.as_object_mut().expect("object").remove("status");
    });
    assert_invalid::<Appointment>(
        &no_status,
        "Appointment",
        "missing required element 'status'",
    );
    let no_participant_status = edit(fixture("book_appt_request_example"), |v| {
        v["participant"][0]
            .as_object_mut()
            .expect("object")
            .remove("status");
    });
    assert_invalid::<Appointment>(
        &no_participant_status,
        "Appointment.participant[0]",
        "missing required element 'status'",
    );
    // Profile-only minimums (start, description) decode; the rules answer.
    let no_start = edit(fixture("book_appt_request_example"), |v| {
        let o = v.as_object_mut().expect("object");
        o.remove("start");
        o.remove("description");
    });
    let a = appointment(round_trip("book without start", &no_start));
    assert!(a.start.is_none() && a.description.is_none());
}

#[test]
fn a_wrong_resource_type_is_invalid() {
    let r = from_json::<Appointment>(
        fixture("read_patient_response_example").as_bytes(),
        Limits::REQUEST,
    );
    assert!(matches!(r, Err(CodecError::Invalid { .. })), "{r:?}");
    let r = from_json::<Resource>(br#"{"resourceType": "Basic"}"#, Limits::REQUEST);
    assert!(matches!(r, Err(CodecError::Invalid { .. })), "{r:?}");
}

#[test]
fn resource_type_need_not_come_first() {
    // serde_json::Value writes keys sorted, so every resource below has
    // `resourceType` in the middle: the codec's buffered path.
    for name in [
        "retrieve_patients_appts_response_example",
        "register_patient_request_example",
    ] {
        let json = fixture(name);
        let sorted = serde_json::from_str::<Value>(json)
            .expect("JSON")
            .to_string();
        assert!(!sorted.starts_with(r#"{"resourceType""#));
        let a = from_json::<Resource>(sorted.as_bytes(), Limits::REQUEST).expect("sorted decodes");
        let b = from_json::<Resource>(json.as_bytes(), Limits::REQUEST).expect("decodes");
        assert_eq!(a, b, "{name}");
    }
}

/// An error inside a resource is reported at its element path whatever the
/// route: through the `Resource` enum (JSON and XML), and inside a nested
/// resource whose `resourceType` is not its first key (the buffered path).
#[test]
fn resource_enum_errors_carry_the_concrete_path() {
    let loc = fixture("read_location_response_example");
    match from_json::<Resource>(loc.as_bytes(), Limits::REQUEST) {
        Err(CodecError::Invalid { path, .. }) => assert_eq!(path, "Location.address"),
        other => panic!("{other:?}"),
    }
    let xml = r#"<Location xmlns="http://hl7.org/fhir"><name value="x"/><mode value="instance"/></Location>"#;
    match from_xml::<Resource>(xml.as_bytes(), Limits::REQUEST) {
        Err(CodecError::Invalid { path, .. }) => assert_eq!(path, "Location"),
        other => panic!("{other:?}"),
    }
    let sorted = serde_json::from_str::<Value>(fixture("search_for_free_slots_response_example"))
        .expect("JSON")
        .to_string();
    assert_invalid::<Bundle>(
        &sorted,
        "Bundle.entry[4].resource.telecom",
        "expected an array",
    );
}
