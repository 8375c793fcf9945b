//! End to end over HTTP: the digests' error tables against the real
//! `gpconnect serve --demo` — SSP headers (§2.1), R82, the JWT (§3.3),
//! negotiation (415), paths and verbs, unknown practices, bodies (413, 400,
//! 422, 415), If-Match (R30, R37), slot-search parameters (§4.1), booking
//! rules (R3–R14, R25), amend/cancel rules, A6 parameters (R50–R57), find
//! parameters (R64), and what precedes `$gpc.getcarerecord` (accessrecord
//! §1.2–§1.4, §4).
//!
//! Each test runs one server and walks its table. Tests are named after
//! the rule they check.

mod support;

use std::time::Duration;

use gpconnect_core::checks::headers::Interaction;
use gpconnect_core::engine::token::{TokenSpec, unsigned_jwt};
use serde_json::{Value, json};
use support::*;

const SSP_HEADERS: [&str; 5] = [
    "Ssp-TraceID",
    "Ssp-From",
    "Ssp-To",
    "Ssp-InteractionID",
    "Authorization",
];

// ---------------------------------------------------------------------------
// SSP headers, R82

#[test]
fn ssp_headers_missing_blank_or_repeated_are_400_bad_request() {
    let s = Server::demo();
    let base = s.stu3(Interaction::ReadPatient, "GET", "/Patient/2");
    ok_json(&base.send(), 200);
    for name in SSP_HEADERS {
        assert_outcome(&base.clone().without(name).send(), 400, "BAD_REQUEST");
        assert_outcome(&base.clone().header(name, " ").send(), 400, "BAD_REQUEST");
        let value = base
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .expect("header");
        assert_outcome(
            &base.clone().add_header(name, &value).send(),
            400,
            "BAD_REQUEST",
        );
    }
    // Extra headers are accepted, names are case-insensitive on the wire.
    let mut lower = base.clone();
    lower.headers = lower
        .headers
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    ok_json(&lower.add_header("AdditionalHeader", "x").send(), 200);
}

#[test]
fn r82_ssp_to_must_be_the_practice_asid() {
    let s = Server::demo();
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .header("Ssp-To", "200000000359")
        .send();
    let v = assert_outcome(&r, 400, "BAD_REQUEST");
    assert!(
        v["issue"][0]["diagnostics"]
            .as_str()
            .is_some_and(|d| d.contains("Ssp-To")),
        "{v}"
    );
}

#[test]
fn r82_interaction_id_must_match_the_method_and_path() {
    let s = Server::demo();
    for (interaction, method, path) in [
        (Interaction::ReadPatient, "GET", "/Appointment/1"),
        (Interaction::ReadAppointment, "GET", "/Patient/2"),
        (Interaction::AmendAppointment, "POST", "/Appointment"),
        (Interaction::GetConformance, "GET", "/metadata"),
        (Interaction::FindPatient, "GET", "/Patient/2"),
        (Interaction::SearchFreeSlots, "GET", "/metadata"),
    ] {
        let r = s
            .stu3(Interaction::ReadPatient, method, path)
            .header("Ssp-InteractionID", interaction.interaction_id())
            .send();
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .header(
            "Ssp-InteractionID",
            "urn:nhs:names:services:gpconnect:fhir:rest:read:patient",
        )
        .send();
    assert_outcome(&r, 400, "BAD_REQUEST");
    // The STU3 metadata interaction on the DSTU2 root.
    let r = s
        .dstu2(Interaction::GetConformance, "GET", "/metadata")
        .header(
            "Ssp-InteractionID",
            Interaction::GetCapabilityStatement.interaction_id(),
        )
        .send();
    assert_dstu2_outcome(&r, 400, "BAD_REQUEST");
}

// ---------------------------------------------------------------------------
// JWT (§3.3)

#[test]
fn jwt_malformed_missing_claims_bad_lifetime_expired_or_wrong_scope_is_400() {
    let s = Server::demo();
    let metadata = || s.stu3(Interaction::GetCapabilityStatement, "GET", "/metadata");
    for value in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-jwt",
        "Bearer aGVsbG8.d29ybGQ.",
        "Bearer a.b.c.d",
    ] {
        let r = metadata().header("Authorization", value).send();
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
    for lifetime in [299, 301, -1] {
        let mut claims = claims_for(Interaction::GetCapabilityStatement);
        let iat = claims["iat"].as_i64().expect("iat");
        claims["exp"] = json!(iat + lifetime);
        let r = metadata().token(&unsigned_jwt(&claims)).send();
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
    for claim in [
        "iss",
        "aud",
        "exp",
        "iat",
        "reason_for_request",
        "requested_scope",
        "requesting_device",
        "requesting_practitioner",
    ] {
        let mut claims = claims_for(Interaction::GetCapabilityStatement);
        claims[claim] = Value::Null;
        let r = metadata().token(&unsigned_jwt(&claims)).send();
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
    let mut claims = claims_for(Interaction::GetCapabilityStatement);
    claims["reason_for_request"] = json!("secondarycare");
    assert_outcome(
        &metadata().token(&unsigned_jwt(&claims)).send(),
        400,
        "BAD_REQUEST",
    );
    // Expired: issued 600 s ago.
    let past = TokenSpec::for_interaction(
        Interaction::GetCapabilityStatement,
        CONSUMER_ODS,
        jiff::Timestamp::now() - jiff::SignedDuration::from_secs(600),
    );
    let r = metadata().token(&unsigned_jwt(&past.claims())).send();
    assert_outcome(&r, 400, "BAD_REQUEST");
    // Issued 200 s in the future: accepted (release note 1.2.3).
    let future = TokenSpec::for_interaction(
        Interaction::GetCapabilityStatement,
        CONSUMER_ODS,
        jiff::Timestamp::now() + jiff::SignedDuration::from_secs(200),
    );
    ok_json(
        &metadata().token(&unsigned_jwt(&future.claims())).send(),
        200,
    );
    // Scope: patient/*.read on register; patient/*.write on A6; badScope.
    let mut claims = claims_for(Interaction::RegisterPatient);
    claims["requested_scope"] = json!("patient/*.read");
    let r = s
        .stu3(
            Interaction::RegisterPatient,
            "POST",
            "/Patient/$gpc.registerpatient",
        )
        .json(&register_body(
            "9000000106",
            "Okafor",
            "Grace",
            "1991-04-17",
        ))
        .token(&unsigned_jwt(&claims))
        .send();
    assert_outcome(&r, 400, "BAD_REQUEST");
    let mut claims = claims_for(Interaction::RetrievePatientAppointments);
    claims["requested_scope"] = json!("patient/*.write");
    let r = s
        .stu3(
            Interaction::RetrievePatientAppointments,
            "GET",
            "/Patient/2/Appointment",
        )
        .query(&format!("start=ge{}&start=le{}", uk_date(1), uk_date(5)))
        .token(&unsigned_jwt(&claims))
        .send();
    assert_outcome(&r, 400, "BAD_REQUEST");
    let mut claims = claims_for(Interaction::ReadPatient);
    claims["requested_scope"] = json!("badScope");
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&unsigned_jwt(&claims))
        .send();
    assert_outcome(&r, 400, "BAD_REQUEST");
    // sub must equal requesting_practitioner.id (strict by default).
    let mut claims = claims_for(Interaction::ReadPatient);
    claims["sub"] = json!("someone-else");
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&unsigned_jwt(&claims))
        .send();
    assert_outcome(&r, 400, "BAD_REQUEST");
}

#[test]
fn jwt_invalid_embedded_resource_is_422_invalid_resource() {
    let s = Server::demo();
    let mut claims = claims_for(Interaction::ReadPatient);
    claims["requesting_device"]["invalidField"] = json!("x");
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&unsigned_jwt(&claims))
        .send();
    assert_outcome(&r, 422, "INVALID_RESOURCE");
    let mut claims = claims_for(Interaction::ReadPatient);
    claims["requesting_practitioner"]["resourceType"] = json!("Patient");
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&unsigned_jwt(&claims))
        .send();
    assert_outcome(&r, 422, "INVALID_RESOURCE");
}

// ---------------------------------------------------------------------------
// Negotiation, paths, verbs, practices

#[test]
fn unsupported_accept_or_format_is_415_in_json() {
    let s = Server::demo();
    let base = s.stu3(Interaction::GetCapabilityStatement, "GET", "/metadata");
    for r in [
        base.clone().header("Accept", "text/xml").send(),
        base.clone().header("Accept", "text/html").send(),
        base.clone().query("_format=text%2Fhtml").send(),
        base.clone().query("_format=foo").send(),
        base.clone()
            .header("Accept", "application/fhir+xml")
            .query("_format=foo")
            .send(),
    ] {
        assert_outcome(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
    let r = s
        .dstu2(Interaction::GetConformance, "GET", "/metadata")
        .header("Accept", "text/xml")
        .send();
    assert_dstu2_outcome(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
}

#[test]
fn errors_are_rendered_in_the_negotiated_format() {
    let s = Server::demo();
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/Patient/999")
        .header("Accept", "application/fhir+xml")
        .send();
    assert_xml_outcome(&r, 404, "PATIENT_NOT_FOUND");
    let r = s
        .stu3(Interaction::ReadPatient, "GET", "/patient/2")
        .query("_format=xml")
        .send();
    assert_xml_outcome(&r, 400, "BAD_REQUEST");
}

#[test]
fn unknown_or_wrongly_cased_paths_and_wrong_verbs_are_400_bad_request() {
    let s = Server::demo();
    for (method, path) in [
        ("GET", "/Metadata"),
        ("GET", "/patient/2"),
        ("GET", "/Patient/2/"),
        ("GET", "/Patient/2/_history/1"),
        ("GET", "/HealthcareService/1"),
        ("POST", "/Patient/$gpc.getCareRecord"),
        ("GET", "/"),
        ("PATCH", "/metadata"),
        ("DELETE", "/metadata"),
        ("OPTIONS", "/metadata"),
        ("POST", "/Patient/2"),
        ("PUT", "/Appointment"),
        ("DELETE", "/Appointment/1"),
    ] {
        let r = s.stu3(Interaction::ReadPatient, method, path).send();
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
    // HEAD: the status and headers, no body (HTTP).
    let r = s
        .stu3(Interaction::GetCapabilityStatement, "HEAD", "/metadata")
        .send();
    assert_eq!(r.status, 400);
    assert_no_store(&r);
    assert!(r.body.is_empty());
    // A lower-case verb is a different (unknown) method in HTTP.
    let raw = raw_exchange(
        s.addr,
        format!(
            "{}Connection: close\r\n\r\n",
            raw_headers(
                "get",
                &format!("{STU3_ROOT}/metadata"),
                Interaction::GetCapabilityStatement,
                s.addr
            )
        )
        .as_bytes(),
        Duration::from_secs(10),
    );
    assert_eq!(
        raw_status(&raw),
        Some(400),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    assert!(
        String::from_utf8_lossy(&raw)
            .to_ascii_lowercase()
            .contains("cache-control: no-store")
    );
}

#[test]
fn unknown_service_root_is_400_and_unknown_practice_is_404_organisation_not_found() {
    let s = Server::demo();
    for path in [
        "/metadata",
        "/A00001/stu3/1/gpconnect/metadata",
        "/A00001/STU3/2/gpconnect/metadata",
        "/A00001/STU3/1/GPConnect/metadata",
        "/A00001/R4/1/gpconnect/metadata",
    ] {
        let r = s
            .path(Interaction::GetCapabilityStatement, "GET", path)
            .send();
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
    for path in [
        "/B99999/STU3/1/gpconnect/metadata",
        "/a00001/STU3/1/gpconnect/metadata",
    ] {
        let r = s
            .path(Interaction::GetCapabilityStatement, "GET", path)
            .send();
        assert_outcome(&r, 404, "ORGANISATION_NOT_FOUND");
    }
    let r = s
        .path(
            Interaction::GetConformance,
            "GET",
            "/B99999/DSTU2/0/gpconnect/metadata",
        )
        .send();
    assert_dstu2_outcome(&r, 404, "ORGANISATION_NOT_FOUND");
    let r = s
        .stu3(Interaction::FindPatient, "GET", "/Patient")
        .query("identifier=%zz")
        .send();
    assert_outcome(&r, 400, "BAD_REQUEST");
}

// ---------------------------------------------------------------------------
// Bodies

/// Sends `head` and then `body_len` bytes of `{` while reading the
/// answer on another thread, so the server may answer (and stop reading)
/// before the body is all sent. The raw answer.
fn send_big_body(addr: std::net::SocketAddr, head: &str, body_len: usize) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut reader = stream.try_clone().expect("clone");
    let read = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = reader.read_to_end(&mut out);
        out
    });
    let head = format!("{head}Content-Length: {body_len}\r\n\r\n");
    let _ = stream.write_all(head.as_bytes());
    let chunk = vec![b' '; 64 * 1024];
    let mut sent = 0;
    while sent < body_len {
        let n = chunk.len().min(body_len - sent);
        if stream.write_all(&chunk[..n]).is_err() {
            break;
        }
        sent += n;
    }
    read.join().expect("reader")
}

#[test]
fn oversized_body_over_8_mib_is_413_and_the_server_carries_on() {
    let s = Server::demo();
    let head = format!(
        "{}Content-Type: application/fhir+json\r\nConnection: close\r\n",
        raw_headers(
            "POST",
            &format!("{STU3_ROOT}/Appointment"),
            Interaction::BookAppointment,
            s.addr
        )
    );
    let raw = send_big_body(s.addr, &head, 9 * 1024 * 1024);
    let text = String::from_utf8_lossy(&raw);
    assert_eq!(raw_status(&raw), Some(413), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("cache-control: no-store"),
        "{text}"
    );
    assert!(text.contains("OperationOutcome"), "{text}");
    // Exactly at the limit is not too large (it is a malformed body: 400).
    let raw = send_big_body(s.addr, &head, 8 * 1024 * 1024);
    assert_eq!(
        raw_status(&raw),
        Some(400),
        "{}",
        String::from_utf8_lossy(&raw)
    );
    ok_json(
        &s.stu3(Interaction::ReadPatient, "GET", "/Patient/2").send(),
        200,
    );
}

#[test]
fn malformed_json_or_xml_is_400_invalid_resource_is_422_and_a_non_fhir_body_is_415() {
    let s = Server::demo();
    let slots = free_slots(&s, 2);
    let post = || s.stu3(Interaction::BookAppointment, "POST", "/Appointment");
    for body in [
        &b"{\"resourceType\": \"Appointment\","[..],
        b"",
        b"{\"resourceType\" \"Appointment\"}",
        b"\xff\xfe\x00garbage",
    ] {
        let r = post().raw_body("application/fhir+json", body).send();
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
    for body in [
        &b"<Appointment xmlns=\"http://hl7.org/fhir\">"[..],
        b"<!DOCTYPE x [<!ENTITY a \"b\">]><Appointment xmlns=\"http://hl7.org/fhir\"/>",
    ] {
        let r = post().raw_body("application/fhir+xml", body).send();
        assert_xml_outcome(&r, 400, "BAD_REQUEST");
    }
    let good = book_body(&[&slots[0]]);
    let mut unknown_element = good.clone();
    unknown_element["unknownElement"] = json!("x");
    let mut reason = good.clone();
    reason["reason"] = json!([{"text": "not allowed"}]);
    for body in [
        unknown_element,
        json!({"resourceType": "Patient", "id": "1"}),
        reason,
    ] {
        assert_outcome(&post().json(&body).send(), 422, "INVALID_RESOURCE");
    }
    let bytes = serde_json::to_vec(&good).expect("json");
    assert_outcome(
        &post().raw_body("application/json", &bytes).send(),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    );
    let mut no_type = post().raw_body("application/fhir+json", &bytes);
    no_type = no_type.without("Content-Type");
    assert_outcome(&no_type.send(), 415, "UNSUPPORTED_MEDIA_TYPE");
    // None of that booked anything.
    ok_json(&post().json(&good).send(), 201);
}

// ---------------------------------------------------------------------------
// Find parameters (R64), A6 parameters (R50–R57)

#[test]
fn r64_find_patient_parameter_errors_keep_their_codes() {
    let s = Server::demo();
    let find = |q: &str| {
        s.stu3(Interaction::FindPatient, "GET", "/Patient")
            .query(q)
            .send()
    };
    assert_outcome(&find(""), 400, "BAD_REQUEST");
    assert_outcome(
        &find("Identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"),
        400,
        "BAD_REQUEST",
    );
    assert_outcome(
        &find(
            "identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009&identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009",
        ),
        400,
        "BAD_REQUEST",
    );
    assert_outcome(&find("identifier=|9000000009"), 422, "INVALID_PARAMETER");
    assert_outcome(
        &find("identifier=https://fhir.nhs.uk/Id/nhs-number|"),
        422,
        "INVALID_PARAMETER",
    );
    for bad in ["9000000008", "999999999", "90000000090", "hello"] {
        assert_outcome(
            &find(&format!(
                "identifier=https://fhir.nhs.uk/Id/nhs-number|{bad}"
            )),
            400,
            "INVALID_NHS_NUMBER",
        );
    }
    // _count and _sort are ignored.
    ok_json(
        &find("identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009&_count=1&_sort=x"),
        200,
    );
}

#[test]
fn r50_to_r57_retrieve_patient_appointments_parameter_errors() {
    let s = Server::demo();
    let retrieve = |patient: &str, q: &str| {
        s.stu3(
            Interaction::RetrievePatientAppointments,
            "GET",
            &format!("/Patient/{patient}/Appointment"),
        )
        .query(q)
        .send()
    };
    let (d1, d5) = (uk_date(1), uk_date(5));
    for q in [
        format!("start=ge{d1}"),
        String::new(),
        format!("start=ge{d1}&start=lt{d5}"),
        format!("start=ge{d1}&start=ge{d5}"),
        format!("start=gt{d1}&start=le{d5}"),
        format!("start=ge{d1}T10:00:00+00:00&start=le{d5}"),
        format!("start=ge{}&start=le{d5}", &d1[..7]),
        format!("start=ge{d5}&start=le{d1}"),
        "start=ge2010-02-03&start=le2010-03-03".to_owned(),
    ] {
        assert_outcome(&retrieve("2", &q), 422, "INVALID_PARAMETER");
    }
    assert_outcome(
        &retrieve("999", &format!("start=ge{d1}&start=le{d5}")),
        404,
        "PATIENT_NOT_FOUND",
    );
    // R58: extra valid parameters are ignored.
    ok_json(
        &retrieve("2", &format!("start=ge{d1}&start=le{d5}&_count=3")),
        200,
    );
}

// ---------------------------------------------------------------------------
// Slot search (§4.1)

#[test]
fn a1_slot_search_parameter_errors_are_400_or_422_invalid_parameter() {
    let s = Server::demo();
    let search = |q: &str| {
        s.stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
            .query(q)
            .send()
    };
    let (d1, d2) = (uk_date(1), uk_date(2));
    let inc = "_include=Slot%3Aschedule";
    for q in [
        format!("end=le{d2}&status=free&{inc}"),
        format!("start=ge{d1}&status=free&{inc}"),
        format!("status=free&{inc}"),
        format!("start=ge{d1}&end=le{d2}&{inc}"),
        format!("start=ge{d1}&end=le{d2}&status=free"),
    ] {
        assert_outcome(&search(&q), 400, "BAD_REQUEST");
    }
    for q in [
        // Range over 14 days, and end before start.
        format!("start=ge{d1}&end=le{}&status=free&{inc}", uk_date(16)),
        format!("start=ge{d2}&end=le{d1}&status=free&{inc}"),
        // status not free.
        format!("start=ge{d1}&end=le{d2}&status=busy&{inc}"),
        // Invalid, empty and partial dates.
        format!("start=gehello&end=le{d2}&status=free&{inc}"),
        format!("start=ge&end=le{d2}&status=free&{inc}"),
        format!("start=ge{}&end=le{d2}&status=free&{inc}", &d1[..4]),
        format!("start=ge{}&end=le{d2}&status=free&{inc}", &d1[..7]),
        // dateTime without an offset, or with Z.
        format!("start=ge{d1}T09:00:00&end=le{d2}&status=free&{inc}"),
        format!("start=ge{d1}T09:00:00Z&end=le{d2}&status=free&{inc}"),
        // Wrong prefixes.
        format!("start=lt{d1}&end=gt{d2}&status=free&{inc}"),
        format!("start=gt{d1}&end=gt{d2}&status=free&{inc}"),
        format!("start=le{d1}&end=ge{d2}&status=free&{inc}"),
        format!("start=eq{d1}&end=eq{d2}&status=free&{inc}"),
        format!("start=ne{d1}&end=le{d2}&status=free&{inc}"),
    ] {
        assert_outcome(&search(&q), 422, "INVALID_PARAMETER");
    }
    // 0, 8 and 14 days are fine; so are unknown searchFilter systems and
    // an unknown organisation type.
    for q in [
        format!("start=ge{d1}&end=le{d1}&status=free&{inc}"),
        format!("start=ge{d1}&end=le{}&status=free&{inc}", uk_date(9)),
        format!("start=ge{d1}&end=le{}&status=free&{inc}", uk_date(15)),
        format!(
            "start=ge{d1}&end=le{d2}&status=free&{inc}&searchFilter=https://example.org/uc-disposition|Dx01"
        ),
        format!(
            "start=ge{d1}&end=le{d2}&status=free&{inc}&searchFilter=https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1|oncology"
        ),
    ] {
        ok_json(&search(&q), 200);
    }
}

// ---------------------------------------------------------------------------
// Booking rules

#[test]
fn r11_booking_a_busy_slot_is_409_duplicate_rejected() {
    let s = Server::demo();
    let slots = free_slots(&s, 3);
    let (_, _) = booked(&s, &[&slots[0]]);
    assert_outcome(&book(&s, &[&slots[0]]), 409, "DUPLICATE_REJECTED");
    // Also when only one of two slots is taken, and nothing is booked.
    let next = slots
        .iter()
        .find(|x| x.schedule == slots[0].schedule && x.start == slots[0].end)
        .expect("the next slot");
    assert_outcome(&book(&s, &[&slots[0], next]), 409, "DUPLICATE_REJECTED");
    booked(&s, &[next]);
}

#[test]
fn r13_r14_multi_slot_bookings_must_be_adjacent_same_schedule_and_match_start_end() {
    let s = Server::demo();
    let slots = free_slots(&s, 4);
    let of = |schedule: &str| -> Vec<&FreeSlot> {
        slots.iter().filter(|x| x.schedule == schedule).collect()
    };
    let gp = of("Schedule/14");
    let other = of("Schedule/19");
    // Not adjacent (a gap of one slot).
    assert_outcome(&book(&s, &[gp[0], gp[2]]), 422, "INVALID_RESOURCE");
    // Adjacent in time but different schedules.
    let beside = other
        .iter()
        .find(|x| x.start == gp[0].end)
        .expect("a slot of 19 after the first of 14");
    assert_outcome(&book(&s, &[gp[0], beside]), 422, "INVALID_RESOURCE");
    // R13: start/end not the slots' start/end.
    let mut body = book_body(&[gp[0]]);
    body["start"] = json!(gp[1].start);
    body["end"] = json!(gp[1].end);
    let r = s
        .stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .json(&body)
        .send();
    assert_outcome(&r, 422, "INVALID_RESOURCE");
    // None of those took a slot.
    booked(&s, &[gp[0], gp[1], gp[2]]);
}

#[test]
fn r3_r4_r8_r9_r10_r25_book_request_errors() {
    let s = Server::demo();
    let slots = free_slots(&s, 5);
    let good = book_body(&[&slots[0]]);
    let post = |body: &Value| {
        s.stu3(Interaction::BookAppointment, "POST", "/Appointment")
            .json(body)
            .send()
    };
    let without = |field: &str| {
        let mut b = good.clone();
        b.as_object_mut().expect("object").remove(field);
        b
    };
    // R3: mandatory elements.
    for field in [
        "start",
        "end",
        "status",
        "slot",
        "participant",
        "description",
    ] {
        assert_outcome(&post(&without(field)), 422, "INVALID_RESOURCE");
    }
    let mut no_participant_status = good.clone();
    no_participant_status["participant"][0]
        .as_object_mut()
        .expect("participant")
        .remove("status");
    assert_outcome(&post(&no_participant_status), 422, "INVALID_RESOURCE");
    // R4: contained booking organisation without telecom or name.
    for field in ["telecom", "name"] {
        let mut b = good.clone();
        b["contained"][0]
            .as_object_mut()
            .expect("org")
            .remove(field);
        assert_outcome(&post(&b), 422, "INVALID_RESOURCE");
    }
    // R9: no cancellation reason on a booking.
    let mut b = good.clone();
    b["extension"].as_array_mut().expect("extensions").push(json!({
        "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1",
        "valueString": "no"
    }));
    assert_outcome(&post(&b), 422, "INVALID_RESOURCE");
    // R10: a well-formed unknown slot, a malformed one, an absolute one.
    let mut b = good.clone();
    b["slot"] = json!([{"reference": "Slot/14-99-0"}]);
    assert_outcome(&post(&b), 422, "REFERENCE_NOT_FOUND");
    for reference in ["Slot/45555g55555_", "https://example.org/Slot/14-5-0"] {
        let mut b = good.clone();
        b["slot"] = json!([{ "reference": reference }]);
        assert_outcome(&post(&b), 422, "INVALID_RESOURCE");
    }
    // Unknown patient.
    let mut b = good.clone();
    b["participant"][0]["actor"]["reference"] = json!("Patient/999");
    let r = post(&b);
    assert!(
        [404, 422].contains(&r.status),
        "unknown patient: {} {}",
        r.status,
        r.text()
    );
    // R25: an S-flagged patient is 'not found'.
    let r = s
        .stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .json(&book_body_for("4", &[&slots[0]]))
        .send();
    assert_outcome(&r, 404, "PATIENT_NOT_FOUND");
    // After all that, the slot is still free.
    ok_json(&post(&good), 201);
}

// ---------------------------------------------------------------------------
// Amend and cancel

#[test]
fn r30_r37_if_match_missing_or_stale_on_amend_and_cancel() {
    let s = Server::demo();
    let slots = free_slots(&s, 6);
    let (mut appointment, etag) = booked(&s, &[&slots[0]]);
    let id = appointment["id"].as_str().expect("id").to_owned();
    appointment["description"] = json!("Amended description.");
    let put = |interaction: Interaction, body: &Value| {
        s.stu3(interaction, "PUT", &format!("/Appointment/{id}"))
            .json(body)
    };
    assert_outcome(
        &put(Interaction::AmendAppointment, &appointment)
            .header("If-Match", "W/\"99999\"")
            .send(),
        409,
        "FHIR_CONSTRAINT_VIOLATION",
    );
    assert_outcome(
        &put(Interaction::AmendAppointment, &appointment).send(),
        400,
        "BAD_REQUEST",
    );
    assert_outcome(
        &put(
            Interaction::CancelAppointment,
            &cancelled(appointment.clone()),
        )
        .header("If-Match", "invalidEtag")
        .send(),
        409,
        "FHIR_CONSTRAINT_VIOLATION",
    );
    // With the right version both work, and the old one is stale after.
    let r = put(Interaction::AmendAppointment, &appointment)
        .header("If-Match", &etag)
        .send();
    let amended = ok_json(&r, 200);
    assert_outcome(
        &put(Interaction::CancelAppointment, &cancelled(amended.clone()))
            .header("If-Match", &etag)
            .send(),
        409,
        "FHIR_CONSTRAINT_VIOLATION",
    );
    let new_etag = r.header("ETag").expect("ETag");
    ok_json(
        &put(Interaction::CancelAppointment, &cancelled(amended))
            .header("If-Match", new_etag)
            .send(),
        200,
    );
    // Unknown appointment: 404.
    let mut unknown = appointment.clone();
    unknown["id"] = json!("424242");
    let r = s
        .stu3(Interaction::AmendAppointment, "PUT", "/Appointment/424242")
        .json(&unknown)
        .header("If-Match", &etag)
        .send();
    assert_eq!(r.status, 404, "{}", r.text());
    assert_no_store(&r);
}

#[test]
fn r26_r29_r36_r38_r41_amend_and_cancel_content_rules() {
    let s = Server::demo();
    let slots = free_slots(&s, 7);
    let (appointment, etag) = booked(&s, &[&slots[0]]);
    let id = appointment["id"].as_str().expect("id").to_owned();
    let put = |interaction: Interaction, body: &Value, etag: &str| {
        s.stu3(interaction, "PUT", &format!("/Appointment/{id}"))
            .json(body)
            .header("If-Match", etag)
            .send()
    };
    // R26: only description and comment may change on amend.
    let later = slots
        .iter()
        .find(|x| x.start != slots[0].start)
        .expect("a later slot");
    let mut moved = appointment.clone();
    moved["start"] = json!(later.start);
    moved["end"] = json!(later.end);
    let r = put(Interaction::AmendAppointment, &moved, &etag);
    assert_outcome(&r, 422, "INVALID_RESOURCE");
    // A cancel body under the amend interaction changes the status.
    assert_outcome(
        &put(
            Interaction::AmendAppointment,
            &cancelled(appointment.clone()),
            &etag,
        ),
        422,
        "INVALID_RESOURCE",
    );
    // R27: no cancellation reason on amend.
    let mut with_reason = cancelled(appointment.clone());
    with_reason["status"] = json!("booked");
    assert_outcome(
        &put(Interaction::AmendAppointment, &with_reason, &etag),
        422,
        "INVALID_RESOURCE",
    );
    // R36: cancel may change nothing but status and reason.
    let mut changed = cancelled(appointment.clone());
    changed["description"] = json!("Changed while cancelling");
    assert_outcome(
        &put(Interaction::CancelAppointment, &changed, &etag),
        422,
        "INVALID_RESOURCE",
    );
    // R38: an empty reason.
    let mut empty = appointment.clone();
    empty["status"] = json!("cancelled");
    empty["extension"].as_array_mut().expect("extensions").push(json!({
        "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1",
        "valueString": ""
    }));
    let r = put(Interaction::CancelAppointment, &empty, &etag);
    assert_eq!(r.status, 422, "{}", r.text());
    // Cancel, then R41 (cancel again) and R29 (amend a cancelled one).
    let r = put(
        Interaction::CancelAppointment,
        &cancelled(appointment.clone()),
        &etag,
    );
    let gone = ok_json(&r, 200);
    let etag = r.header("ETag").expect("ETag").to_owned();
    assert_outcome(
        &put(Interaction::CancelAppointment, &gone, &etag),
        422,
        "INVALID_RESOURCE",
    );
    let mut amend_gone = gone.clone();
    amend_gone["description"] = json!("too late");
    assert_outcome(
        &put(Interaction::AmendAppointment, &amend_gone, &etag),
        422,
        "INVALID_RESOURCE",
    );
}

// ---------------------------------------------------------------------------
// $gpc.getcarerecord: what precedes the operation (accessrecord §1.2–§1.4, §4)

fn care_record(s: &Server) -> Req {
    s.dstu2(
        Interaction::GetCareRecord,
        "POST",
        "/Patient/$gpc.getcarerecord",
    )
    .token(&token_for(Interaction::GetCareRecord, Some("9000000009")))
}

#[test]
fn getcarerecord_headers_jwt_and_negotiation_errors_are_dstu2_outcomes() {
    let s = Server::demo();
    let body = serde_json::to_vec(&care_record_body("9000000009", "SUM")).expect("json");
    let base = care_record(&s).raw_body("application/json+fhir", &body);
    for name in SSP_HEADERS {
        assert_dstu2_outcome(&base.clone().without(name).send(), 400, "BAD_REQUEST");
    }
    assert_dstu2_outcome(
        &base.clone().header("Ssp-To", "200000000359").send(),
        400,
        "BAD_REQUEST",
    );
    // An STU3 token, an expired token, a token of the wrong scope.
    let stu3_token = token_for(Interaction::ReadPatient, None);
    assert_dstu2_outcome(&base.clone().token(&stu3_token).send(), 400, "BAD_REQUEST");
    let mut claims = TokenSpec::for_interaction(
        Interaction::GetCareRecord,
        CONSUMER_ODS,
        jiff::Timestamp::now() - jiff::SignedDuration::from_secs(600),
    )
    .with_requested_patient("9000000009")
    .claims();
    assert_dstu2_outcome(
        &base.clone().token(&unsigned_jwt(&claims)).send(),
        400,
        "BAD_REQUEST",
    );
    claims = TokenSpec::for_interaction(
        Interaction::GetCareRecord,
        CONSUMER_ODS,
        jiff::Timestamp::now(),
    )
    .with_requested_patient("9000000009")
    .claims();
    claims["requested_scope"] = json!("organization/*.read");
    assert_dstu2_outcome(
        &base.clone().token(&unsigned_jwt(&claims)).send(),
        400,
        "BAD_REQUEST",
    );
    // Unsupported Accept → 415; GET instead of POST and a wrong-cased
    // operation → 400.
    assert_dstu2_outcome(
        &base.clone().header("Accept", "text/xml").send(),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    );
    let r = s
        .dstu2(
            Interaction::GetCareRecord,
            "GET",
            "/Patient/$gpc.getcarerecord",
        )
        .send();
    assert_dstu2_outcome(&r, 400, "BAD_REQUEST");
    let r = s
        .dstu2(
            Interaction::GetCareRecord,
            "POST",
            "/Patient/$gpc.getCareRecord",
        )
        .raw_body("application/json+fhir", &body)
        .send();
    assert_dstu2_outcome(&r, 400, "BAD_REQUEST");
}

#[test]
fn getcarerecord_body_errors_are_400_and_422_in_dstu2() {
    let s = Server::demo();
    let send =
        |content_type: &str, body: &[u8]| care_record(&s).raw_body(content_type, body).send();
    assert_dstu2_outcome(&send("application/json+fhir", b""), 400, "BAD_REQUEST");
    assert_dstu2_outcome(
        &send("application/json+fhir", b"{\"resourceType\":"),
        400,
        "BAD_REQUEST",
    );
    assert_dstu2_outcome(
        &send(
            "application/json+fhir",
            br#"{"resourceType":"Patient","id":"1"}"#,
        ),
        422,
        "INVALID_RESOURCE",
    );
    let body = serde_json::to_vec(&care_record_body("9000000009", "SUM")).expect("json");
    assert_dstu2_outcome(
        &send("application/json", &body),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    );
}
