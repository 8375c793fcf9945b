//! End to end over HTTP: every interaction (F1–F9, A1–A6, the DSTU2
//! Conformance) against the real `gpconnect serve --demo`, in JSON and in
//! XML, with the response headers the digest requires (appointments §1.1,
//! §2.3: `Cache-Control: no-store` everywhere, `ETag` on read/create/update,
//! `Location` and `Last-Modified` on create), gzip both ways, and the audit
//! trail (R84).
//!
//! Tests are named after the rule they check.

mod support;

use gpconnect_core::checks::headers::Interaction;
use gpconnect_core::fhir::{Format, Limits, decode, to_json, to_xml};
use gpconnect_core::{dstu2, stu3};
use serde_json::{Value, json};
use support::*;

/// `v` re-encoded through the core's JSON encoder (for comparing an XML
/// answer with the JSON answer of the same resource).
fn as_json<T: gpconnect_core::fhir::FhirResource>(v: &T) -> Value {
    serde_json::from_slice(&to_json(v)).expect("json")
}

fn entry_types(bundle: &Value) -> Vec<String> {
    bundle["entry"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e["resource"]["resourceType"].as_str().map(str::to_owned))
        .collect()
}

#[track_caller]
fn assert_etag_is_version(r: &Resp, resource: &Value) {
    let version = resource["meta"]["versionId"].as_str().expect("versionId");
    assert_eq!(r.header("ETag"), Some(format!("W/\"{version}\"").as_str()));
}

// ---------------------------------------------------------------------------
// Foundations

#[test]
fn f1_metadata_is_the_capability_statement_in_json_and_xml() {
    let s = Server::demo();
    let r = s
        .stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .send();
    let v = ok_json(&r, 200);
    assert_eq!(v["resourceType"], "CapabilityStatement");
    assert_eq!(v["version"], "1.2.9");
    assert_eq!(v["fhirVersion"], "3.0.1");
    assert_eq!(v["kind"], "capability");
    assert_eq!(v["rest"][0]["security"]["cors"], true);
    let formats = v["format"].as_array().expect("format");
    assert!(formats.contains(&json!("application/fhir+json")), "{v}");
    assert!(formats.contains(&json!("application/fhir+xml")), "{v}");
    assert_eq!(r.header("ETag"), None);

    let r = s
        .stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .header("Accept", "application/fhir+xml")
        .send();
    let c: stu3::CapabilityStatement = ok_xml(&r, 200);
    assert_eq!(c.version.as_deref(), Some("1.2.9"));
    assert_eq!(as_json(&c)["software"], v["software"]);
}

#[test]
fn format_param_overrides_accept_and_content_type_drives_the_answer_without_them() {
    let s = Server::demo();
    let r = s
        .stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .header("Accept", "application/fhir+json")
        .query("_format=application%2Ffhir%2Bxml")
        .send();
    let _: stu3::CapabilityStatement = ok_xml(&r, 200);
    let r = s
        .stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .header("Accept", "application/fhir+xml;charset=utf-8")
        .query("_format=json")
        .send();
    ok_json(&r, 200);
    // No Accept, no _format: no header asks, so JSON (§2.2).
    let r = s
        .stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .send();
    ok_json(&r, 200);
}

#[test]
fn f2_find_patient_is_a_searchset_of_active_patients() {
    let s = Server::demo();
    let find = |nhs: &str| {
        s.stu3(Interaction::FindPatient, "GET", "/Patient")
            .query(&format!(
                "identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C{nhs}"
            ))
            .send()
    };
    let v = ok_json(&find("9000000009"), 200);
    assert_eq!(v["resourceType"], "Bundle");
    assert_eq!(v["type"], "searchset");
    let patient = &v["entry"][0]["resource"];
    assert_eq!(patient["id"], "2");
    assert_eq!(
        patient["managingOrganization"]["reference"],
        "Organization/23"
    );
    // R60: S-flag → empty; R63: unknown → empty; deceased and inactive
    // patients are not active → empty.
    for nhs in ["9658218873", "9000000033", "9000000041", "9000000017"] {
        let v = ok_json(&find(nhs), 200);
        assert_eq!(v["type"], "searchset");
        assert!(v.get("entry").is_none(), "{nhs}: {v}");
    }
    let r = s
        .stu3(Interaction::FindPatient, "GET", "/Patient")
        .query("identifier=https://fhir.nhs.uk/Id/nhs-number|9476719931")
        .header("Accept", "application/fhir+xml")
        .send();
    let b: stu3::Bundle = ok_xml(&r, 200);
    assert_eq!(b.entry.len(), 1);
}

#[test]
fn f3_read_patient_has_an_etag_and_the_same_resource_in_xml() {
    let s = Server::demo();
    let r = s.stu3(Interaction::ReadPatient, "GET", "/Patient/2").send();
    let v = ok_json(&r, 200);
    assert_eq!(v["resourceType"], "Patient");
    assert_eq!(v["id"], "2");
    assert_etag_is_version(&r, &v);
    let r_xml = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .query("_format=xml")
        .send();
    let p: stu3::Patient = ok_xml(&r_xml, 200);
    assert_eq!(as_json(&p), v);
    assert_eq!(r_xml.header("ETag"), r.header("ETag"));
    // R61: S-flag and unknown ids are 404 PATIENT_NOT_FOUND.
    for id in ["4", "999"] {
        let r = s
            .stu3(Interaction::ReadPatient, "GET", &format!("/Patient/{id}"))
            .send();
        assert_outcome(&r, 404, "PATIENT_NOT_FOUND");
    }
}

#[test]
fn f4_register_patient_is_200_with_a_searchset_then_409_duplicate_rejected() {
    let s = Server::demo();
    let register = |body: &Value| {
        s.stu3(
            Interaction::RegisterPatient,
            "POST",
            "/Patient/$gpc.registerpatient",
        )
        .json(body)
        .send()
    };
    let body = register_body("9000000106", "Okafor", "Grace", "1991-04-17");
    let r = register(&body);
    let v = ok_json(&r, 200);
    assert_eq!(v["type"], "searchset");
    assert_eq!(v["entry"].as_array().map(Vec::len), Some(1));
    let patient = &v["entry"][0]["resource"];
    assert_eq!(patient["resourceType"], "Patient");
    assert!(
        patient
            .to_string()
            .contains("CareConnect-RegistrationType-1"),
        "registrationType T: {patient}"
    );
    assert_eq!(r.header("Location"), None);
    // The new patient can be read (F3) and found (F2).
    let id = patient["id"].as_str().expect("id");
    let r = s
        .stu3(Interaction::ReadPatient, "GET", &format!("/Patient/{id}"))
        .send();
    assert_eq!(ok_json(&r, 200)["id"], id);
    let r = s
        .stu3(Interaction::FindPatient, "GET", "/Patient")
        .query("identifier=https://fhir.nhs.uk/Id/nhs-number|9000000106")
        .send();
    assert_eq!(ok_json(&r, 200)["entry"][0]["resource"]["id"], id);
    // Registering them again: they are active now.
    assert_outcome(&register(&body), 409, "DUPLICATE_REJECTED");
    // R62-ish: not on PDS at all.
    assert_outcome(
        &register(&register_body(
            "9000000017",
            "Jackson",
            "Jane",
            "1952-05-31",
        )),
        400,
        "INVALID_PATIENT_DEMOGRAPHICS",
    );
}

#[test]
fn f4_register_patient_in_xml_answers_in_xml() {
    let s = Server::demo();
    let params: stu3::Parameters = decode(
        &serde_json::to_vec(&register_body(
            "9000000114",
            "Lindqvist",
            "Erik",
            "1968-11-02",
        ))
        .expect("json"),
        Format::Json,
        Limits::REQUEST,
    )
    .expect("parameters");
    let r = s
        .stu3(
            Interaction::RegisterPatient,
            "POST",
            "/Patient/$gpc.registerpatient",
        )
        .raw_body("application/fhir+xml", to_xml(&params).as_bytes())
        .send();
    // No Accept and no _format: the answer follows the Content-Type (§2.2).
    let b: stu3::Bundle = ok_xml(&r, 200);
    assert_eq!(b.entry.len(), 1);
}

#[test]
fn f5_f6_practitioner_find_and_read_in_json_and_xml() {
    let s = Server::demo();
    let r = s
        .stu3(Interaction::FindPractitioner, "GET", "/Practitioner")
        .query("identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fsds-user-id%7C111122223333")
        .send();
    let v = ok_json(&r, 200);
    assert_eq!(v["entry"][0]["resource"]["id"], "2");
    let r = s
        .stu3(Interaction::FindPractitioner, "GET", "/Practitioner")
        .query("identifier=https://fhir.nhs.uk/Id/sds-user-id|000000000000")
        .send();
    assert!(ok_json(&r, 200).get("entry").is_none());
    let r = s
        .stu3(Interaction::ReadPractitioner, "GET", "/Practitioner/2")
        .send();
    let v = ok_json(&r, 200);
    assert_eq!(v["resourceType"], "Practitioner");
    assert_etag_is_version(&r, &v);
    for field in ["telecom", "address", "birthDate", "photo", "qualification"] {
        assert!(v.get(field).is_none(), "{field} must not be populated");
    }
    let r = s
        .stu3(Interaction::ReadPractitioner, "GET", "/Practitioner/3")
        .header("Accept", "application/fhir+xml")
        .send();
    let p: stu3::Practitioner = ok_xml(&r, 200);
    assert_eq!(p.id.as_ref().map(|i| i.as_str()), Some("3"));
    let r = s
        .stu3(Interaction::ReadPractitioner, "GET", "/Practitioner/99")
        .send();
    assert_eq!(r.status, 404);
    assert_outcome(&r, 404, "PRACTITIONER_NOT_FOUND");
}

#[test]
fn f7_f8_organization_find_and_read_in_json_and_xml() {
    let s = Server::demo();
    let r = s
        .stu3(Interaction::FindOrganization, "GET", "/Organization")
        .query("identifier=https://fhir.nhs.uk/Id/ods-organization-code|A00001")
        .send();
    let v = ok_json(&r, 200);
    assert_eq!(v["entry"][0]["resource"]["id"], "23");
    let r = s
        .stu3(Interaction::ReadOrganization, "GET", "/Organization/23")
        .send();
    let json_org = ok_json(&r, 200);
    assert_etag_is_version(&r, &json_org);
    assert_eq!(json_org["name"], "The Trevelyan Practice");
    let r = s
        .stu3(Interaction::ReadOrganization, "GET", "/Organization/23")
        .header("Accept", "application/fhir+xml")
        .send();
    let o: stu3::Organization = ok_xml(&r, 200);
    assert_eq!(as_json(&o), json_org);
    let r = s
        .stu3(Interaction::ReadOrganization, "GET", "/Organization/99")
        .send();
    assert_outcome(&r, 404, "ORGANISATION_NOT_FOUND");
}

#[test]
fn f9_location_read_in_json_and_xml() {
    let s = Server::demo();
    let r = s
        .stu3(Interaction::ReadLocation, "GET", "/Location/17")
        .send();
    let v = ok_json(&r, 200);
    assert_eq!(v["resourceType"], "Location");
    assert_eq!(v["managingOrganization"]["reference"], "Organization/23");
    assert_etag_is_version(&r, &v);
    let r = s
        .stu3(Interaction::ReadLocation, "GET", "/Location/18")
        .query("_format=application/fhir+xml")
        .send();
    let l: stu3::Location = ok_xml(&r, 200);
    assert_eq!(l.id.as_ref().map(|i| i.as_str()), Some("18"));
    let r = s
        .stu3(Interaction::ReadLocation, "GET", "/Location/99")
        .send();
    assert_outcome(&r, 404, "NO_RECORD_FOUND");
}

// ---------------------------------------------------------------------------
// Appointments

#[test]
fn a1_slot_search_with_includes_returns_slots_schedules_practitioners_locations_and_the_organization()
 {
    let s = Server::demo();
    let day = uk_date(3);
    let r = s
        .stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
        .query(&format!(
            "start=ge{day}&end=le{day}&status=free&_include=Slot%3Aschedule\
             &_include%3Arecurse=Schedule%3Aactor%3APractitioner\
             &_include%3Arecurse=Schedule%3Aactor%3ALocation\
             &_include%3Arecurse=Location%3AmanagingOrganization\
             &searchFilter=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fods-organization-code%7CB82001\
             &searchFilter=https%3A%2F%2Ffhir.nhs.uk%2FSTU3%2FCodeSystem%2FGPConnect-OrganisationType-1%7Cgp-practice"
        ))
        .send();
    let v = ok_json(&r, 200);
    assert_eq!(v["type"], "searchset");
    let types = entry_types(&v);
    // The demo: 4 schedules × 60 ten-minute slots a day, all free.
    assert_eq!(types.iter().filter(|t| *t == "Slot").count(), 240);
    assert_eq!(types.iter().filter(|t| *t == "Schedule").count(), 4);
    assert_eq!(types.iter().filter(|t| *t == "Practitioner").count(), 2);
    assert_eq!(types.iter().filter(|t| *t == "Location").count(), 2);
    assert_eq!(types.iter().filter(|t| *t == "Organization").count(), 1);
    // Without the recurse includes: no Practitioner or Location, but the
    // Organization regardless (§4.3 known issue); the same slots in XML.
    let r = s
        .stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
        .query(&slot_query(3))
        .header("Accept", "application/fhir+xml")
        .send();
    let b: stu3::Bundle = ok_xml(&r, 200);
    let b = as_json(&b);
    let types = entry_types(&b);
    assert_eq!(types.iter().filter(|t| *t == "Slot").count(), 240);
    assert!(!types.iter().any(|t| t == "Practitioner" || t == "Location"));
    assert_eq!(types.iter().filter(|t| *t == "Organization").count(), 1);
}

#[test]
fn a2_to_a6_book_read_amend_cancel_and_retrieve_one_appointment() {
    let s = Server::demo();
    let slots = free_slots(&s, 2);
    let slot = &slots[5];

    // A2: 201, Location, ETag, Last-Modified.
    let r = book(&s, &[slot]);
    let created = ok_json(&r, 201);
    assert_eq!(created["resourceType"], "Appointment");
    assert_eq!(created["status"], "booked");
    assert_eq!(created["start"], slot.start);
    let id = created["id"].as_str().expect("id").to_owned();
    let version = created["meta"]["versionId"].as_str().expect("versionId");
    assert_eq!(
        created["meta"]["profile"][0],
        "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1"
    );
    assert_etag_is_version(&r, &created);
    assert_eq!(
        r.header("Location"),
        Some(format!("{STU3_ROOT}/Appointment/{id}/_history/{version}").as_str())
    );
    let last_modified = r.header("Last-Modified").expect("Last-Modified");
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(last_modified)
        .unwrap_or_else(|e| panic!("{last_modified}: {e}"));
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    let booked_etag = r.header("ETag").expect("ETag").to_owned();
    // The slot is no longer offered.
    assert!(!free_slots(&s, 2).iter().any(|f| f.id == slot.id));

    // A3: read, same version, in JSON and XML.
    let r = s
        .stu3(
            Interaction::ReadAppointment,
            "GET",
            &format!("/Appointment/{id}"),
        )
        .send();
    let read = ok_json(&r, 200);
    assert_eq!(read["id"], id.as_str());
    assert_eq!(r.header("ETag"), Some(booked_etag.as_str()));
    let r = s
        .stu3(
            Interaction::ReadAppointment,
            "GET",
            &format!("/Appointment/{id}"),
        )
        .header("Accept", "application/fhir+xml")
        .send();
    let a: stu3::Appointment = ok_xml(&r, 200);
    assert_eq!(as_json(&a), read);

    // A4: amend the description; a new version.
    let mut amended = read.clone();
    amended["description"] = json!("Amended description.");
    let r = s
        .stu3(
            Interaction::AmendAppointment,
            "PUT",
            &format!("/Appointment/{id}"),
        )
        .json(&amended)
        .header("If-Match", &booked_etag)
        .send();
    let after_amend = ok_json(&r, 200);
    assert_eq!(after_amend["description"], "Amended description.");
    let amend_etag = r.header("ETag").expect("ETag").to_owned();
    assert_ne!(amend_etag, booked_etag);
    assert_etag_is_version(&r, &after_amend);
    assert_eq!(r.header("Location"), None);

    // A6: the patient's appointments include it.
    let retrieve = || {
        s.stu3(
            Interaction::RetrievePatientAppointments,
            "GET",
            "/Patient/2/Appointment",
        )
        .query(&format!("start=ge{}&start=le{}", uk_date(0), uk_date(14)))
        .send()
    };
    let v = ok_json(&retrieve(), 200);
    assert_eq!(v["type"], "searchset");
    let found: Vec<&Value> = v["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["resource"])
        .filter(|a| a["id"] == id.as_str())
        .collect();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["description"], "Amended description.");

    // A5: cancel; a new version; the slot is free again (R42).
    let r = s
        .stu3(
            Interaction::CancelAppointment,
            "PUT",
            &format!("/Appointment/{id}"),
        )
        .json(&cancelled(after_amend))
        .header("If-Match", &amend_etag)
        .send();
    let after_cancel = ok_json(&r, 200);
    assert_eq!(after_cancel["status"], "cancelled");
    assert!(
        after_cancel
            .to_string()
            .contains("Patient no longer needs it")
    );
    assert_ne!(r.header("ETag"), Some(amend_etag.as_str()));
    assert!(free_slots(&s, 2).iter().any(|f| f.id == slot.id));
    // R54: retrieve still returns the cancelled appointment.
    let v = ok_json(&retrieve(), 200);
    assert!(
        v["entry"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["resource"]["id"] == id.as_str() && e["resource"]["status"] == "cancelled"),
        "{v}"
    );
}

#[test]
fn a2_book_in_xml_answers_201_in_xml() {
    let s = Server::demo();
    let slots = free_slots(&s, 4);
    let body: stu3::Appointment = decode(
        &serde_json::to_vec(&book_body(&[&slots[0]])).expect("json"),
        Format::Json,
        Limits::REQUEST,
    )
    .expect("appointment");
    let r = s
        .stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .raw_body(
            "application/fhir+xml;charset=utf-8",
            to_xml(&body).as_bytes(),
        )
        .header("Accept", "application/fhir+xml")
        .send();
    let a: stu3::Appointment = ok_xml(&r, 201);
    assert_eq!(a.status.as_str(), "booked");
    assert!(r.header("Location").is_some());
    assert!(r.header("Last-Modified").is_some());
}

#[test]
fn r14_book_two_adjacent_slots_of_one_schedule_in_one_appointment() {
    let s = Server::demo();
    let slots = free_slots(&s, 5);
    let first = slots
        .iter()
        .find(|x| x.schedule == "Schedule/14")
        .expect("a slot of schedule 14");
    let second = slots
        .iter()
        .find(|x| x.schedule == first.schedule && x.start == first.end)
        .expect("the next slot");
    let (v, _) = booked(&s, &[first, second]);
    assert_eq!(v["slot"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["start"], first.start);
    assert_eq!(v["end"], second.end);
}

#[test]
fn r17_book_prefer_return_minimal_gives_201_headers_without_a_body() {
    let s = Server::demo();
    let slots = free_slots(&s, 6);
    let r = s
        .stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .json(&book_body(&[&slots[0]]))
        .header("Prefer", "return=minimal")
        .send();
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.body.is_empty());
    assert_eq!(r.header("Content-Type"), None);
    assert_no_store(&r);
    let location = r.header("Location").expect("Location");
    assert!(r.header("ETag").is_some());
    assert!(r.header("Last-Modified").is_some());
    // The Location names the appointment: read it.
    let id = location
        .strip_prefix(&format!("{STU3_ROOT}/Appointment/"))
        .and_then(|rest| rest.split('/').next())
        .expect("an appointment Location");
    let r = s
        .stu3(
            Interaction::ReadAppointment,
            "GET",
            &format!("/Appointment/{id}"),
        )
        .send();
    assert_eq!(
        ok_json(&r, 200)["slot"][0]["reference"],
        format!("Slot/{}", slots[0].id)
    );
}

#[test]
fn r17_book_location_is_absolute_with_public_base_url() {
    let s = Server::start_with(&["--demo", "--public-base-url", "https://gp.example.nhs.uk"]);
    let slots = free_slots(&s, 13);
    let r = book(&s, &[&slots[0]]);
    let v = ok_json(&r, 201);
    let id = v["id"].as_str().expect("id");
    let version = v["meta"]["versionId"].as_str().expect("versionId");
    assert_eq!(
        r.header("Location"),
        Some(
            format!("https://gp.example.nhs.uk{STU3_ROOT}/Appointment/{id}/_history/{version}")
                .as_str()
        )
    );
}

// ---------------------------------------------------------------------------
// DSTU2

#[test]
fn dstu2_metadata_is_the_conformance_statement_in_json_and_xml() {
    let s = Server::demo();
    let r = s
        .dstu2(Interaction::GetConformance, "GET", "/metadata")
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_no_store(&r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json+fhir;charset=utf-8")
    );
    let v = r.json();
    assert_eq!(v["resourceType"], "Conformance");
    assert_eq!(v["fhirVersion"], "1.0.2");
    assert_eq!(v["version"], "0.7.4");
    assert_eq!(
        v["rest"][0]["operation"][0]["definition"]["reference"],
        "OperationDefinition/gpc.getcarerecord"
    );
    let r = s
        .dstu2(Interaction::GetConformance, "GET", "/metadata")
        .header("Accept", "application/xml+fhir")
        .send();
    assert_eq!(r.status, 200);
    assert_no_store(&r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/xml+fhir;charset=utf-8")
    );
    let c: dstu2::Conformance = decode(&r.body, Format::Xml, Limits::REQUEST).expect("XML");
    assert_eq!(c.version.as_deref(), Some("0.7.4"));
}

// ---------------------------------------------------------------------------
// gzip (§2.1 SHALL; accessrecord §1.2)

#[test]
fn gzip_accept_encoding_gives_content_encoding_gzip_of_the_same_resource() {
    let s = Server::demo();
    let plain = s.stu3(Interaction::ReadPatient, "GET", "/Patient/2").send();
    let zipped = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .header("Accept-Encoding", "gzip")
        .send();
    assert_eq!(zipped.status, 200);
    assert_no_store(&zipped);
    assert_eq!(zipped.header("Content-Encoding"), Some("gzip"));
    assert_eq!(zipped.header("ETag"), plain.header("ETag"));
    assert_eq!(
        zipped.header("Content-Type"),
        Some("application/fhir+json;charset=utf-8")
    );
    assert_ne!(zipped.body, plain.body);
    assert_eq!(zipped.gunzipped(), plain.body);

    // A big searchset, in XML, and an error.
    let r = s
        .stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
        .query(&slot_query(7))
        .header("Accept", "application/fhir+xml")
        .header("Accept-Encoding", "gzip, deflate")
        .send();
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    assert_no_store(&r);
    let b: stu3::Bundle =
        decode(&r.gunzipped(), Format::Xml, Limits::REQUEST).expect("gzipped XML Bundle");
    assert!(b.entry.len() > 200);
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/999")
        .header("Accept-Encoding", "gzip")
        .send();
    assert_eq!(r.status, 404);
    assert_no_store(&r);
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    let oo: Value = serde_json::from_slice(&r.gunzipped()).expect("json");
    assert_eq!(
        oo["issue"][0]["details"]["coding"][0]["code"],
        "PATIENT_NOT_FOUND"
    );
    // Without Accept-Encoding, never gzip.
    assert_eq!(plain.header("Content-Encoding"), None);
    // The DSTU2 Conformance too (accessrecord §1.2).
    let r = s
        .dstu2(Interaction::GetConformance, "GET", "/metadata")
        .header("Accept-Encoding", "gzip")
        .send();
    assert_eq!(r.status, 200);
    assert_no_store(&r);
    assert_eq!(r.header("Content-Encoding"), Some("gzip"));
    let v: Value = serde_json::from_slice(&r.gunzipped()).expect("json");
    assert_eq!(v["resourceType"], "Conformance");
}

#[test]
fn transfer_encoding_chunked_request_body_is_accepted() {
    use std::io::{Read, Write};
    let s = Server::demo();
    let slots = free_slots(&s, 12);
    let body = serde_json::to_vec(&book_body(&[&slots[0]])).expect("json");
    let mut request = format!(
        "{}Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        raw_headers(
            "POST",
            &format!("{STU3_ROOT}/Appointment"),
            Interaction::BookAppointment,
            s.addr
        )
    )
    .into_bytes();
    for chunk in body.chunks(100) {
        request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        request.extend_from_slice(chunk);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"0\r\n\r\n");
    let mut stream = std::net::TcpStream::connect(s.addr).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(&request).expect("write");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    assert_eq!(raw_status(&answer), Some(201), "{text}");
    assert!(text.contains(&format!("Slot/{}", slots[0].id)), "{text}");
}

#[test]
fn gzip_request_body_is_decoded_before_the_engine_sees_it() {
    let s = Server::demo();
    let slots = free_slots(&s, 8);
    let body = serde_json::to_vec(&book_body(&[&slots[0]])).expect("json");
    let r = s
        .stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .raw_body("application/fhir+json", &gzip(&body))
        .header("Content-Encoding", "gzip")
        .send();
    let v = ok_json(&r, 201);
    assert_eq!(v["slot"][0]["reference"], format!("Slot/{}", slots[0].id));
    // A body that says gzip but is not: 400, answered as an OperationOutcome.
    let r = s
        .stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .raw_body("application/fhir+json", &body)
        .header("Content-Encoding", "gzip")
        .send();
    assert_outcome(&r, 400, "BAD_REQUEST");
}

// ---------------------------------------------------------------------------
// Audit (R84)

#[test]
fn r84_every_call_over_http_is_in_the_audit_log_failures_included() {
    let s = Server::demo();
    let ok = s.stu3(Interaction::ReadPatient, "GET", "/Patient/2").send();
    assert_eq!(ok.status, 200);
    let denied = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .without("Authorization")
        .send();
    assert_eq!(denied.status, 400);
    let unknown = s.path(Interaction::ReadPatient, "GET", "/nowhere").send();
    assert_eq!(unknown.status, 400);
    // The log line is written when the answer is; allow the write a moment.
    let path = s.data.join("audit.jsonl");
    let mut lines: Vec<Value> = Vec::new();
    for _ in 0..50 {
        lines = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        if lines.len() >= 3 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(lines.len(), 3, "{lines:?}");
    let statuses: Vec<i64> = lines.iter().filter_map(|l| l["status"].as_i64()).collect();
    assert_eq!(statuses, vec![200, 400, 400]);
    assert_eq!(lines[0]["trace_id"], TRACE_ID);
    assert_eq!(lines[0]["requesting_organisation_ods"], CONSUMER_ODS);
    assert_eq!(lines[1]["spine_code"], "BAD_REQUEST");
    let seq: Vec<i64> = lines
        .iter()
        .filter_map(|l| l["sequence"].as_i64())
        .collect();
    assert!(seq.windows(2).all(|w| w[1] > w[0]), "{seq:?}");
    let text = std::fs::read_to_string(&path).expect("audit");
    assert!(!text.contains("Bearer"), "the token is never logged");
}
