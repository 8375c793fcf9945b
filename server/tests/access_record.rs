//! End to end over HTTP: Access Record HTML `$gpc.getcarerecord` (DSTU2)
//! against the real `gpconnect serve --demo` — the §1.5 searchset Bundle
//! (Composition first, the section's HTML), every section, XML, gzip,
//! `Transfer-Encoding: chunked` on a plain Summary (§1.2), and the §4 error
//! rows that the operation itself decides. (What precedes the operation —
//! headers, JWT, body decoding — is in `errors.rs`.)
//!

mod support;

use gpconnect_core::checks::headers::Interaction;
use gpconnect_core::dstu2;
use gpconnect_core::engine::token::{TokenSpec, unsigned_jwt};
use gpconnect_core::fhir::{Format, Limits, decode};
use serde_json::{Value, json};
use support::*;

/// The body for `nhs` and `section` with extra parameters.
fn body_with(nhs: &str, section: &str, extra: &[Value]) -> Value {
    let mut body = care_record_body(nhs, section);
    if let Some(params) = body["parameter"].as_array_mut() {
        params.extend(extra.iter().cloned());
    }
    body
}

fn time_period(start: Option<&str>, end: Option<&str>) -> Value {
    let mut period = json!({});
    if let Some(s) = start {
        period["start"] = json!(s);
    }
    if let Some(e) = end {
        period["end"] = json!(e);
    }
    json!({"name": "timePeriod", "valuePeriod": period})
}

/// POST `body` for the record of `token_nhs` (the JWT's requested record).
fn get_care_record(s: &Server, token_nhs: &str, body: &Value) -> Req {
    s.dstu2(
        Interaction::GetCareRecord,
        "POST",
        "/Patient/$gpc.getcarerecord",
    )
    .token(&token_for(Interaction::GetCareRecord, Some(token_nhs)))
    .raw_body(
        "application/json+fhir",
        &serde_json::to_vec(body).expect("json"),
    )
}

/// A 200 DSTU2 JSON searchset with the Composition first; the Bundle.
#[track_caller]
fn ok_bundle(r: &Resp) -> Value {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_no_store(r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json+fhir;charset=utf-8")
    );
    let v = r.json();
    assert_eq!(v["resourceType"], "Bundle");
    assert_eq!(v["type"], "searchset");
    let entries = v["entry"].as_array().expect("entries");
    assert_eq!(entries[0]["resource"]["resourceType"], "Composition", "{v}");
    let count = |t: &str| {
        entries
            .iter()
            .filter(|e| e["resource"]["resourceType"] == t)
            .count()
    };
    assert_eq!(count("Composition"), 1);
    assert_eq!(count("Patient"), 1);
    // Every reference resolves to an entry's fullUrl (§1.5).
    let full_urls: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["fullUrl"].as_str())
        .collect();
    let mut references = Vec::new();
    collect_references(&v, &mut references);
    for reference in references {
        if reference.starts_with('#') {
            continue;
        }
        assert!(
            full_urls.contains(&reference.as_str()),
            "{reference} does not resolve: {full_urls:?}"
        );
    }
    v
}

fn collect_references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("reference", Value::String(s)) => out.push(s.clone()),
                    _ => collect_references(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_references(i, out)),
        _ => {}
    }
}

/// The Composition's one section.
fn section(bundle: &Value) -> &Value {
    &bundle["entry"][0]["resource"]["section"][0]
}

fn div(bundle: &Value) -> String {
    section(bundle)["text"]["div"]
        .as_str()
        .expect("section div")
        .to_owned()
}

#[test]
fn getcarerecord_summary_is_a_searchset_with_the_composition_first_streamed_chunked() {
    let s = Server::demo();
    let r = get_care_record(&s, "9000000009", &care_record_body("9000000009", "SUM")).send();
    let v = ok_bundle(&r);
    // §1.2: a plain (not gzipped) Summary is sent chunked.
    assert_eq!(
        r.header("Transfer-Encoding"),
        Some("chunked"),
        "{:?}",
        r.headers
    );
    assert_eq!(r.header("Content-Length"), None);
    let composition = &v["entry"][0]["resource"];
    assert_eq!(composition["title"], "Patient Care Record");
    assert_eq!(composition["status"], "final");
    let sec = section(&v);
    assert_eq!(sec["title"], "Summary");
    assert_eq!(sec["code"]["coding"][0]["code"], "SUM");
    assert_eq!(
        sec["code"]["coding"][0]["system"],
        "http://fhir.nhs.net/ValueSet/gpconnect-record-section-1"
    );
    assert_eq!(sec["text"]["status"], "generated");
    let html = div(&v);
    assert!(html.starts_with("<div"), "{html}");
    assert!(html.contains("<h1>Summary</h1>"), "{html}");
    assert!(!html.contains('\n') && !html.contains('\t'));
    for forbidden in [
        "<script", "<style", "<iframe", "<form", "<a ", "<head", "<body",
    ] {
        assert!(!html.contains(forbidden), "{forbidden} in {html}");
    }
    let patient = v["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Patient")
        .expect("the Patient");
    assert!(patient.to_string().contains("9000000009"), "{patient}");
}

#[test]
fn getcarerecord_every_section_answers_200_with_its_h1() {
    let s = Server::demo();
    for (code, title) in [
        ("SUM", "Summary"),
        ("ENC", "Encounters"),
        ("CLI", "Clinical Items"),
        ("PRB", "Problems and Issues"),
        ("ALL", "Allergies and Adverse Reactions"),
        ("MED", "Medications"),
        ("REF", "Referrals"),
        ("OBS", "Observations"),
        ("IMM", "Immunisations"),
        ("ADM", "Administrative Items"),
    ] {
        let r = get_care_record(&s, "9000000009", &care_record_body("9000000009", code)).send();
        let v = ok_bundle(&r);
        assert_eq!(section(&v)["title"], title, "{code}");
        assert!(div(&v).contains(&format!("<h1>{title}</h1>")), "{code}");
    }
    // A date filter on a section that takes one: the date banner.
    let r = get_care_record(
        &s,
        "9000000009",
        &body_with(
            "9000000009",
            "ENC",
            &[time_period(Some("2014-02-03"), Some("2016-01-24"))],
        ),
    )
    .send();
    let v = ok_bundle(&r);
    assert!(
        div(&v).contains("For the period '03-Feb-2014' to '24-Jan-2016'"),
        "{}",
        div(&v)
    );
    // A patient with no clinical data: the placeholders, still 200.
    let r = get_care_record(&s, "9476719931", &care_record_body("9476719931", "ENC")).send();
    let v = ok_bundle(&r);
    assert!(div(&v).contains("No 'Encounters' data is recorded for this patient."));
}

#[test]
fn getcarerecord_in_xml_and_gzipped() {
    let s = Server::demo();
    let r = get_care_record(&s, "9000000009", &care_record_body("9000000009", "ALL"))
        .header("Accept", "application/xml+fhir")
        .send();
    assert_eq!(r.status, 200, "{}", r.text());
    assert_no_store(&r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/xml+fhir;charset=utf-8")
    );
    let b: dstu2::Bundle = decode(&r.body, Format::Xml, Limits::REQUEST).expect("XML Bundle");
    assert!(b.entry.len() >= 2);

    let plain = get_care_record(&s, "9000000009", &care_record_body("9000000009", "SUM")).send();
    let zipped = get_care_record(&s, "9000000009", &care_record_body("9000000009", "SUM"))
        .header("Accept-Encoding", "gzip")
        .send();
    assert_eq!(zipped.status, 200);
    assert_no_store(&zipped);
    assert_eq!(zipped.header("Content-Encoding"), Some("gzip"));
    let unzipped: Value = serde_json::from_slice(&zipped.gunzipped()).expect("gzipped JSON");
    // The same record (the Composition's date is the moment of the answer).
    assert_eq!(div(&unzipped), div(&ok_bundle(&plain)));
    assert_eq!(
        unzipped["entry"].as_array().map(Vec::len),
        plain.json()["entry"].as_array().map(Vec::len)
    );
}

#[test]
fn getcarerecord_section_4_parameter_errors() {
    let s = Server::demo();
    let nhs = "9000000009";
    let send = |body: &Value| get_care_record(&s, nhs, body).send();
    // timePeriod on SUM, ALL, IMM → 400.
    for code in ["SUM", "ALL", "IMM"] {
        let r = send(&body_with(
            nhs,
            code,
            &[time_period(Some("2014-02-03"), Some("2016-01-24"))],
        ));
        assert_eq!(r.status, 400, "{code}: {}", r.text());
        assert_no_store(&r);
    }
    // Section code unknown or not upper case → 422 INVALID_PARAMETER
    // (empty: see getcarerecord_empty_section_code_is_422_invalid_parameter).
    for code in ["ZZZ", "sum", "Sum", "sUm", "INV"] {
        assert_dstu2_outcome(
            &send(&care_record_body(nhs, code)),
            422,
            "INVALID_PARAMETER",
        );
    }
    // Unknown or mis-cased parameter names → 422 INVALID_PARAMETER.
    for name in ["patientnhsnumber", "TimePeriod", "time"] {
        let body = body_with(nhs, "ENC", &[json!({"name": name, "valueString": "x"})]);
        assert_dstu2_outcome(&send(&body), 422, "INVALID_PARAMETER");
    }
    // timePeriod start after end, or empty → 422 (unparseable values: see
    // getcarerecord_values_that_are_not_fhir_are_422_invalid_parameter).
    for period in [
        time_period(Some("2016-01-24"), Some("2014-02-03")),
        time_period(None, None),
    ] {
        assert_dstu2_outcome(
            &send(&body_with(nhs, "ENC", &[period])),
            422,
            "INVALID_PARAMETER",
        );
    }
    // patientNHSNumber missing → 400; recordSection missing → 400.
    let mut body = care_record_body(nhs, "SUM");
    body["parameter"].as_array_mut().expect("params").remove(0);
    let r = send(&body);
    assert_eq!(r.status, 400, "{}", r.text());
    let mut body = care_record_body(nhs, "SUM");
    body["parameter"].as_array_mut().expect("params").remove(1);
    let r = send(&body);
    assert_eq!(r.status, 400, "{}", r.text());
    // Invalid NHS number → 400 INVALID_NHS_NUMBER; wrong system → 400
    // INVALID_IDENTIFIER_SYSTEM.
    let r = get_care_record(&s, "1234567891", &care_record_body("1234567891", "SUM")).send();
    assert_dstu2_outcome(&r, 400, "INVALID_NHS_NUMBER");
    let mut body = care_record_body(nhs, "SUM");
    body["parameter"][0]["valueIdentifier"]["system"] = json!("https://fhir.nhs.uk/Id/nhs-number");
    assert_dstu2_outcome(&send(&body), 400, "INVALID_IDENTIFIER_SYSTEM");
    // The JWT's requested record is someone else → 400.
    let r = get_care_record(&s, "9476719931", &care_record_body(nhs, "SUM")).send();
    assert_dstu2_outcome(&r, 400, "BAD_REQUEST");
}

/// §4: an empty section code, and a timePeriod that is unparseable or a
/// dateTime without a zone, are 422 **INVALID_PARAMETER** (suite,
/// spreadsheet), although FHIR's primitive rules already refuse them when
/// the body is decoded (`""` is not a valid `code`, `2015-10-23T11:08:32`
/// not a valid `dateTime`).
#[test]
fn getcarerecord_values_that_are_not_fhir_are_422_invalid_parameter() {
    let s = Server::demo();
    let nhs = "9000000009";
    let r = get_care_record(&s, nhs, &care_record_body(nhs, "")).send();
    assert_dstu2_outcome(&r, 422, "INVALID_PARAMETER");
    for period in [
        time_period(Some("2015-10-23T11:08:32"), None),
        time_period(Some("abcd"), None),
    ] {
        let r = get_care_record(&s, nhs, &body_with(nhs, "ENC", &[period])).send();
        assert_dstu2_outcome(&r, 422, "INVALID_PARAMETER");
    }
}

#[test]
fn getcarerecord_section_1_6_patient_rules() {
    let s = Server::demo();
    let send = |nhs: &str| get_care_record(&s, nhs, &care_record_body(nhs, "SUM")).send();
    // S-flag, unknown, deceased long ago, inactive, unverified temporary → 404.
    for nhs in [
        "9658218873",
        "9000000017",
        "9000000033",
        "9000000041",
        "9000000076",
    ] {
        assert_dstu2_outcome(&send(nhs), 404, "PATIENT_NOT_FOUND");
    }
    // Dissent → 403 NO_PATIENT_CONSENT.
    assert_dstu2_outcome(&send("9000000068"), 403, "NO_PATIENT_CONSENT");
    // Died 14 days ago: within the 28-day window, with deceasedDateTime.
    let v = ok_bundle(&send("9000000092"));
    let patient = v["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["resourceType"] == "Patient")
        .expect("Patient");
    assert!(patient.get("deceasedDateTime").is_some(), "{patient}");
    // Record in transit: the GP transfer banner.
    let v = ok_bundle(&send("9000000084"));
    assert!(div(&v).contains("gptransfer-banner"), "{}", div(&v));
}

#[test]
fn getcarerecord_token_from_gpconnect_token_reads_the_record() {
    let s = Server::demo();
    let out = std::process::Command::new(binary())
        .args(["token", "--nhs-number", "9000000009"])
        .output()
        .expect("gpconnect token");
    assert!(out.status.success());
    let token = String::from_utf8(out.stdout).expect("utf-8");
    let r = s
        .dstu2(
            Interaction::GetCareRecord,
            "POST",
            "/Patient/$gpc.getcarerecord",
        )
        .token(token.trim())
        .raw_body(
            "application/json+fhir",
            &serde_json::to_vec(&care_record_body("9000000009", "MED")).expect("json"),
        )
        .send();
    let v = ok_bundle(&r);
    assert_eq!(section(&v)["code"]["coding"][0]["code"], "MED");
    // The same token for another patient's record → 400.
    let mut claims = TokenSpec::for_interaction(
        Interaction::GetCareRecord,
        CONSUMER_ODS,
        jiff::Timestamp::now(),
    )
    .with_requested_patient("9000000009")
    .claims();
    claims["requested_record"]["identifier"][0]["value"] = json!("9476719931");
    let r = s
        .dstu2(
            Interaction::GetCareRecord,
            "POST",
            "/Patient/$gpc.getcarerecord",
        )
        .token(&unsigned_jwt(&claims))
        .raw_body(
            "application/json+fhir",
            &serde_json::to_vec(&care_record_body("9000000009", "MED")).expect("json"),
        )
        .send();
    assert_dstu2_outcome(&r, 400, "BAD_REQUEST");
}
