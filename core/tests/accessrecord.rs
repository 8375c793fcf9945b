//! `$gpc.getcarerecord` end to end over the test practice
//! (`gpconnect_core::testkit`): every row of the accessrecord §4 error table
//! the operation owns, every §1.6 patient rule, the §1.5 / §5.2 bundle
//! assertions, and the bundle's JSON and XML encodings.
//!
//! Request bodies are written as wire JSON and decoded with the codec, as
//! the transport would hand them over.

use gpconnect_core::accessrecord::{DEVICE_ID, get_care_record};
use gpconnect_core::dstu2::{self, profiles as p};
use gpconnect_core::error::{IssueType, SpecEdition};
use gpconnect_core::fhir::{Limits, from_json, from_xml, to_json, to_xml};
use gpconnect_core::operation::Context;
use gpconnect_core::store::memory::MemoryStore;
use gpconnect_core::store::*;
use gpconnect_core::testkit;
use gpconnect_core::{Error, SpineCode};
use gpconnect_render::Section;
use jiff::Timestamp;
use serde_json::{Value, json};

/// Wednesday 25 November 2026, 10:00 UK (GMT).
fn now() -> Timestamp {
    "2026-11-25T10:00:00Z".parse().expect("timestamp")
}

fn store() -> MemoryStore {
    testkit::memory_store(now()).expect("the test practice loads")
}

fn practice() -> PracticeRecord {
    testkit::practice_record()
}

const NHS_SYSTEM: &str = "http://fhir.nhs.net/Id/nhs-number";
const SECTION_SYSTEM: &str = "http://fhir.nhs.net/ValueSet/gpconnect-record-section-1";

/// Patient 2: active, verified, usual GP Practitioner/2, the rich record.
const PATIENT_2: &str = "9000000009";
/// Patient 3: active, verified, no GP, no record.
const PATIENT_3: &str = "9476719931";

fn nhs(value: &str) -> Value {
    json!({"name": "patientNHSNumber", "valueIdentifier": {"system": NHS_SYSTEM, "value": value}})
}

fn section(code: &str) -> Value {
    json!({"name": "recordSection", "valueCodeableConcept": {"coding": [{"system": SECTION_SYSTEM, "code": code}]}})
}

fn period(start: Option<&str>, end: Option<&str>) -> Value {
    let mut v = serde_json::Map::new();
    if let Some(s) = start {
        v.insert("start".into(), json!(s));
    }
    if let Some(e) = end {
        v.insert("end".into(), json!(e));
    }
    json!({"name": "timePeriod", "valuePeriod": v})
}

/// A `Parameters` body decoded from wire JSON.
fn body(parameters: Vec<Value>) -> dstu2::Parameters {
    let v = json!({"resourceType": "Parameters", "parameter": parameters});
    from_json(&serde_json::to_vec(&v).expect("json"), Limits::REQUEST).expect("a Parameters")
}

fn call_with(
    store: &MemoryStore,
    practice: &PracticeRecord,
    parameters: Vec<Value>,
    requested: Option<&str>,
) -> Result<dstu2::Bundle, Error> {
    let ctx = Context {
        store,
        practice,
        now: now(),
        edition: SpecEdition::AccessRecordHtml07,
    };
    get_care_record(&ctx, &body(parameters), requested).map(|a| {
        assert_eq!(a.status, 200);
        a.body
    })
}

fn call(parameters: Vec<Value>) -> Result<dstu2::Bundle, Error> {
    call_with(&store(), &practice(), parameters, None)
}

fn ok(parameters: Vec<Value>) -> dstu2::Bundle {
    call(parameters).unwrap_or_else(|e| panic!("expected a bundle, got {e}"))
}

/// The status and code of a refused request.
fn refused(parameters: Vec<Value>) -> (u16, SpineCode) {
    let e = call(parameters).expect_err("refused");
    (e.status(), e.code())
}

fn composition(b: &dstu2::Bundle) -> &dstu2::Composition {
    match b.entry.first().and_then(|e| e.resource.as_ref()) {
        Some(dstu2::Resource::Composition(c)) => c,
        other => panic!("the first entry is not a Composition: {other:?}"),
    }
}

fn div(b: &dstu2::Bundle) -> String {
    composition(b).section[0]
        .text
        .as_ref()
        .expect("section text")
        .div
        .as_str()
        .to_owned()
}

fn patient(b: &dstu2::Bundle) -> &dstu2::Patient {
    b.resources()
        .find_map(|r| match r {
            dstu2::Resource::Patient(p) => Some(&**p),
            _ => None,
        })
        .expect("a Patient entry")
}

fn types(b: &dstu2::Bundle) -> Vec<&'static str> {
    b.resources().map(|r| r.resource_type()).collect()
}

// --- §4: the parameters ----------------------------------------------------

#[test]
fn a_valid_request_for_each_section_is_200() {
    for s in Section::ALL {
        let b = ok(vec![nhs(PATIENT_2), section(s.code())]);
        assert_eq!(composition(&b).section[0].title.as_deref(), Some(s.title()));
    }
}

#[test]
fn parameter_order_is_irrelevant() {
    let a = ok(vec![
        nhs(PATIENT_2),
        section("ENC"),
        period(Some("2015"), None),
    ]);
    let b = ok(vec![
        period(Some("2015"), None),
        section("ENC"),
        nhs(PATIENT_2),
    ]);
    assert_eq!(a, b);
}

#[test]
fn unknown_parameter_name_is_422_invalid_parameter() {
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            section("SUM"),
            json!({"name": "time", "valueString": "x"})
        ]),
        (422, SpineCode::InvalidParameter)
    );
}

#[test]
fn mis_cased_parameter_name_is_422_invalid_parameter() {
    let mut wrong = nhs(PATIENT_2);
    wrong["name"] = json!("patientnhsnumber");
    assert_eq!(
        refused(vec![wrong, section("SUM")]),
        (422, SpineCode::InvalidParameter),
        "even though patientNHSNumber is then missing"
    );
    let mut wrong = period(Some("2015"), None);
    wrong["name"] = json!("TimePeriod");
    assert_eq!(
        refused(vec![nhs(PATIENT_2), section("ENC"), wrong]),
        (422, SpineCode::InvalidParameter)
    );
}

#[test]
fn missing_nhs_number_is_400() {
    assert_eq!(refused(vec![section("SUM")]).0, 400);
}

#[test]
fn duplicate_nhs_number_is_400() {
    assert_eq!(
        refused(vec![nhs(PATIENT_2), nhs(PATIENT_2), section("SUM")]).0,
        400
    );
}

#[test]
fn nhs_number_as_value_string_is_400() {
    assert_eq!(
        refused(vec![
            json!({"name": "patientNHSNumber", "valueString": PATIENT_2}),
            section("SUM")
        ])
        .0,
        400
    );
}

#[test]
fn nhs_number_failing_the_check_digit_is_400_invalid_nhs_number() {
    for bad in ["1234567891", "900000000", "90000000091", "900000000X"] {
        assert_eq!(
            refused(vec![nhs(bad), section("SUM")]),
            (400, SpineCode::InvalidNhsNumber),
            "{bad}"
        );
    }
}

#[test]
fn empty_nhs_number_is_400_invalid_nhs_number() {
    assert_eq!(
        refused(vec![
            json!({"name": "patientNHSNumber", "valueIdentifier": {"system": NHS_SYSTEM}}),
            section("SUM")
        ]),
        (400, SpineCode::InvalidNhsNumber)
    );
}

#[test]
fn wrong_nhs_number_system_is_400_invalid_identifier_system() {
    for system in [
        "https://fhir.nhs.uk/Id/nhs-number",
        "http://fhir.nhs.net/Id/NHS-number",
    ] {
        assert_eq!(
            refused(vec![
                json!({"name": "patientNHSNumber", "valueIdentifier": {"system": system, "value": PATIENT_2}}),
                section("SUM")
            ]),
            (400, SpineCode::InvalidIdentifierSystem),
            "{system}"
        );
    }
}

#[test]
fn empty_nhs_number_system_is_400_invalid_identifier_system() {
    for identifier in [
        json!({"system": "", "value": PATIENT_2}),
        json!({"value": PATIENT_2}),
    ] {
        assert_eq!(
            refused(vec![
                json!({"name": "patientNHSNumber", "valueIdentifier": identifier}),
                section("SUM")
            ]),
            (400, SpineCode::InvalidIdentifierSystem)
        );
    }
}

#[test]
fn jwt_requested_record_for_another_patient_is_400_bad_request() {
    let e = call_with(
        &store(),
        &practice(),
        vec![nhs(PATIENT_2), section("SUM")],
        Some(PATIENT_3),
    )
    .expect_err("mismatch");
    assert_eq!((e.status(), e.code()), (400, SpineCode::BadRequest));
    assert!(!e.diagnostics().contains(PATIENT_3), "never echoed");
    assert!(
        call_with(
            &store(),
            &practice(),
            vec![nhs(PATIENT_2), section("SUM")],
            Some(PATIENT_2)
        )
        .is_ok()
    );
}

#[test]
fn jwt_requested_record_is_compared_after_the_body_is_valid() {
    // A bad body number is the body's fault (400 INVALID_NHS_NUMBER), not a
    // mismatch with the token.
    let e = call_with(
        &store(),
        &practice(),
        vec![nhs("1234567891"), section("SUM")],
        Some(PATIENT_2),
    )
    .expect_err("bad number");
    assert_eq!((e.status(), e.code()), (400, SpineCode::InvalidNhsNumber));
}

#[test]
fn missing_record_section_is_400() {
    assert_eq!(refused(vec![nhs(PATIENT_2)]).0, 400);
}

#[test]
fn duplicate_record_section_is_400() {
    assert_eq!(
        refused(vec![nhs(PATIENT_2), section("SUM"), section("ENC")]).0,
        400
    );
}

#[test]
fn record_section_as_string_is_400() {
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            json!({"name": "recordSection", "valueString": "SUM"})
        ])
        .0,
        400
    );
}

#[test]
fn two_codings_in_record_section_is_400() {
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            json!({"name": "recordSection", "valueCodeableConcept": {"coding": [
                {"system": SECTION_SYSTEM, "code": "SUM"},
                {"system": SECTION_SYSTEM, "code": "ENC"}
            ]}})
        ])
        .0,
        400
    );
}

#[test]
fn wrong_record_section_system_is_400() {
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            json!({"name": "recordSection", "valueCodeableConcept": {"coding": [
                {"system": "http://fhir.nhs.net/ValueSet/gpconnect-record-section", "code": "SUM"}
            ]}})
        ]),
        (400, SpineCode::BadRequest)
    );
}

#[test]
fn empty_record_section_system_is_422_invalid_parameter() {
    for coding in [json!({"system": "", "code": "SUM"}), json!({"code": "SUM"})] {
        assert_eq!(
            refused(vec![
                nhs(PATIENT_2),
                json!({"name": "recordSection", "valueCodeableConcept": {"coding": [coding]}})
            ]),
            (422, SpineCode::InvalidParameter)
        );
    }
}

#[test]
fn unknown_section_code_is_422_invalid_parameter() {
    for code in ["ZZZ", "INV", "PAT"] {
        assert_eq!(
            refused(vec![nhs(PATIENT_2), section(code)]),
            (422, SpineCode::InvalidParameter),
            "{code}"
        );
    }
}

#[test]
fn empty_section_code_is_422_invalid_parameter() {
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            json!({"name": "recordSection", "valueCodeableConcept": {"coding": [{"system": SECTION_SYSTEM}]}})
        ]),
        (422, SpineCode::InvalidParameter)
    );
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            json!({"name": "recordSection", "valueCodeableConcept": {"text": "Summary"}})
        ]),
        (422, SpineCode::InvalidParameter),
        "no coding at all"
    );
}

#[test]
fn mis_cased_section_code_is_422_invalid_parameter() {
    for code in ["sum", "Sum", "sUm", "adm", "Adm", "aDm", "enc"] {
        assert_eq!(
            refused(vec![nhs(PATIENT_2), section(code)]),
            (422, SpineCode::InvalidParameter),
            "{code}"
        );
    }
}

#[test]
fn time_period_on_summary_is_400() {
    let e = call(vec![
        nhs(PATIENT_2),
        section("SUM"),
        period(Some("2014-02-03"), Some("2016-01-24")),
    ])
    .expect_err("refused");
    assert_eq!(e.status(), 400);
    assert_eq!(e.issue_type(), IssueType::BusinessRule);
}

#[test]
fn time_period_on_allergies_is_400() {
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            section("ALL"),
            period(Some("2014"), None)
        ])
        .0,
        400
    );
}

#[test]
fn time_period_on_immunisations_is_400() {
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            section("IMM"),
            period(None, Some("2016"))
        ])
        .0,
        400
    );
}

#[test]
fn time_period_on_a_filterable_section_is_200() {
    for code in ["ADM", "CLI", "ENC", "MED", "OBS", "PRB", "REF"] {
        ok(vec![
            nhs(PATIENT_2),
            section(code),
            period(Some("2014-02-03"), Some("2016-01-24")),
        ]);
    }
}

#[test]
fn accepted_time_period_forms_are_200() {
    let forms = ["2014", "2014-02", "2014-10-05", "2015-10-23T11:08:32+00:00"];
    for start in forms {
        for end in forms {
            let r = call(vec![
                nhs(PATIENT_2),
                section("ENC"),
                period(Some(start), Some(end)),
            ]);
            // Start after end is the only refusal among these.
            match r {
                Ok(_) => {}
                Err(e) => assert_eq!(
                    (e.status(), e.code()),
                    (422, SpineCode::InvalidParameter),
                    "{start}..{end}"
                ),
            }
        }
    }
}

#[test]
fn time_period_start_after_end_is_422_invalid_parameter() {
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            section("ENC"),
            period(Some("2016-01-24"), Some("2014-02-03"))
        ]),
        (422, SpineCode::InvalidParameter)
    );
}

#[test]
fn time_period_with_neither_bound_is_422_invalid_parameter() {
    assert_eq!(
        refused(vec![nhs(PATIENT_2), section("ENC"), period(None, None)]),
        (422, SpineCode::InvalidParameter)
    );
}

#[test]
fn time_period_not_a_value_period_is_422_invalid_parameter() {
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            section("ENC"),
            json!({"name": "timePeriod", "valueString": "2014"})
        ]),
        (422, SpineCode::InvalidParameter)
    );
}

#[test]
fn duplicate_time_period_is_400() {
    assert_eq!(
        refused(vec![
            nhs(PATIENT_2),
            section("ENC"),
            period(Some("2014"), None),
            period(Some("2015"), None)
        ])
        .0,
        400
    );
}

#[test]
fn time_period_without_an_offset_or_garbage_never_reaches_the_operation() {
    // FHIR dateTime grammar: the codec refuses these before the operation
    // runs (422 INVALID_RESOURCE from the transport's decode); the operation's
    // own parse (checks::datetime::parse_time_period) answers 422
    // INVALID_PARAMETER for the same values (its unit tests).
    for bad in ["2015-10-23T11:08:32", "abcd"] {
        let v = json!({"resourceType": "Parameters", "parameter": [
            nhs(PATIENT_2), section("ENC"), period(Some(bad), None)
        ]});
        assert!(
            from_json::<dstu2::Parameters>(&serde_json::to_vec(&v).expect("json"), Limits::REQUEST)
                .is_err(),
            "{bad}"
        );
        assert_eq!(
            gpconnect_core::checks::datetime::parse_time_period(Some(bad), None)
                .map_err(|e| (e.status(), e.code())),
            Err((422, SpineCode::InvalidParameter))
        );
    }
}

// --- §1.6: whose record ----------------------------------------------------

fn patient_refused(nhs_number: &str) -> (u16, SpineCode) {
    refused(vec![nhs(nhs_number), section("SUM")])
}

#[test]
fn unknown_patient_is_404_patient_not_found() {
    assert_eq!(
        patient_refused("9000000017"),
        (404, SpineCode::PatientNotFound)
    );
}

#[test]
fn sensitive_patient_is_404_patient_not_found() {
    assert_eq!(
        patient_refused("9658218873"),
        (404, SpineCode::PatientNotFound)
    );
}

#[test]
fn patient_who_left_is_404_patient_not_found() {
    assert_eq!(
        patient_refused("9000000041"),
        (404, SpineCode::PatientNotFound)
    );
}

#[test]
fn patient_at_another_practice_is_404_patient_not_found() {
    let store = store();
    let mut other = testkit::practice(now());
    other.practice = Some(PracticeRecord {
        ods_code: "B00002".into(),
        asid: "900000000002".into(),
        ..practice()
    });
    other.patients.retain(|p| p.id == "3");
    store.import("B00002", other).expect("second practice");
    let b = store.practice("B00002").expect("read").expect("practice");
    let e = call_with(&store, &b, vec![nhs(PATIENT_2), section("SUM")], None)
        .expect_err("not registered there");
    assert_eq!((e.status(), e.code()), (404, SpineCode::PatientNotFound));
}

#[test]
fn unverified_nhs_number_is_404_patient_not_found() {
    let store = store();
    let p3 = store.patient(testkit::ODS, "3").expect("read").expect("p3");
    store
        .update_patient_flags(
            testkit::ODS,
            "3",
            p3.version,
            PatientFlags {
                nhs_number_verified: false,
                ..p3.flags
            },
        )
        .expect("unverify");
    let e = call_with(
        &store,
        &practice(),
        vec![nhs(PATIENT_3), section("SUM")],
        None,
    )
    .expect_err("not on PDS");
    assert_eq!((e.status(), e.code()), (404, SpineCode::PatientNotFound));
}

#[test]
fn temporary_registration_is_404_patient_not_found() {
    // Patient 8: temporary and unverified.
    assert_eq!(
        patient_refused("9000000076"),
        (404, SpineCode::PatientNotFound)
    );
    let store = store();
    let p3 = store.patient(testkit::ODS, "3").expect("read").expect("p3");
    store
        .update_patient_flags(
            testkit::ODS,
            "3",
            p3.version,
            PatientFlags {
                registration_type: RegistrationType::Temporary,
                ..p3.flags
            },
        )
        .expect("temporary");
    let e = call_with(
        &store,
        &practice(),
        vec![nhs(PATIENT_3), section("SUM")],
        None,
    )
    .expect_err("not the nominated provider");
    assert_eq!((e.status(), e.code()), (404, SpineCode::PatientNotFound));
}

#[test]
fn dissenting_patient_is_403_no_patient_consent() {
    assert_eq!(
        patient_refused("9000000068"),
        (403, SpineCode::NoPatientConsent)
    );
}

#[test]
fn deceased_beyond_the_window_is_404_patient_not_found() {
    // Patient 5 died on 1 January 2026, 328 days before now.
    assert_eq!(
        patient_refused("9000000033"),
        (404, SpineCode::PatientNotFound)
    );
}

#[test]
fn recently_deceased_patient_is_200_with_deceased_date_time() {
    // Patient 10 died 14 days before now (11 November 2026).
    let b = ok(vec![nhs("9000000092"), section("SUM")]);
    assert_eq!(
        patient(&b).deceased,
        Some(dstu2::PatientDeceased::DateTime(
            gpconnect_core::fhir::primitive::DateTime::new("2026-11-11").expect("dt")
        ))
    );
}

#[test]
fn the_deceased_window_is_configurable_and_includes_its_last_day() {
    let store = store();
    let with_days = |days: u32| {
        let mut practice = practice();
        practice.settings.access_record.deceased_access_days = days;
        call_with(
            &store,
            &practice,
            vec![nhs("9000000092"), section("SUM")],
            None,
        )
    };
    assert!(with_days(14).is_ok(), "day 14 of a 14-day window");
    let e = with_days(13).expect_err("one day past a 13-day window");
    assert_eq!((e.status(), e.code()), (404, SpineCode::PatientNotFound));
}

#[test]
fn record_in_transit_shows_the_gp_transfer_banner_with_the_registration_date() {
    // Patient 9 registered here on 18 November 2026.
    for s in Section::ALL {
        let b = ok(vec![nhs("9000000084"), section(s.code())]);
        let html = div(&b);
        assert!(
            html.contains(r#"<div class="gptransfer-banner"><p>Patient record transfer from previous GP practice not yet complete; information recorded before 18-Nov-2026 may be missing</p></div>"#),
            "{}: {html}",
            s.code()
        );
    }
    let b = ok(vec![nhs(PATIENT_2), section("SUM")]);
    assert!(!div(&b).contains("gptransfer-banner"));
}

// --- §1.5 / §5.2: the bundle ------------------------------------------------

/// Every `reference` string anywhere in `v`.
fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "reference" {
                    if let Some(s) = x.as_str() {
                        out.push(s.to_owned());
                    }
                }
                references(x, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        _ => {}
    }
}

fn as_json(b: &dstu2::Bundle) -> Value {
    serde_json::from_slice(&to_json(b)).expect("bundle JSON")
}

#[test]
fn the_bundle_is_a_searchset_with_the_composition_first() {
    for s in Section::ALL {
        let b = ok(vec![nhs(PATIENT_2), section(s.code())]);
        assert_eq!(b.type_.as_str(), "searchset");
        assert_eq!(
            b.meta.as_ref().map(|m| m.profile.clone()),
            Some(vec![p::SEARCHSET_BUNDLE_PROFILE.to_owned()])
        );
        assert_eq!(
            types(&b),
            [
                "Composition",
                "Patient",
                "Organization",
                "Practitioner",
                "Device"
            ]
        );
    }
}

#[test]
fn every_reference_resolves_to_an_entry_full_url() {
    for (nhs_number, expected) in [(PATIENT_2, 5), (PATIENT_3, 4)] {
        let b = ok(vec![nhs(nhs_number), section("SUM")]);
        let json = as_json(&b);
        let mut refs = Vec::new();
        references(&json, &mut refs);
        assert_eq!(refs.len(), expected, "{refs:?}");
        for r in &refs {
            let hits = json["entry"]
                .as_array()
                .expect("entries")
                .iter()
                .filter(|e| e["fullUrl"].as_str() == Some(r.as_str()))
                .count();
            assert_eq!(hits, 1, "{r} resolves to exactly one entry");
        }
    }
}

#[test]
fn entry_full_urls_match_their_resources() {
    let b = ok(vec![nhs(PATIENT_2), section("SUM")]);
    for e in &b.entry[1..] {
        let r = e.resource.as_ref().expect("resource");
        let id = match r {
            dstu2::Resource::Patient(x) => x.id.clone(),
            dstu2::Resource::Organization(x) => x.id.clone(),
            dstu2::Resource::Practitioner(x) => x.id.clone(),
            dstu2::Resource::Device(x) => x.id.clone(),
            other => panic!("unexpected {}", other.resource_type()),
        };
        assert_eq!(
            e.full_url.as_deref(),
            Some(format!("{}/{}", r.resource_type(), id.expect("id")).as_str())
        );
    }
    assert_eq!(
        b.entry[0].full_url, None,
        "the Composition is not addressable"
    );
}

#[test]
fn the_composition_has_the_fixed_codes_and_references() {
    let b = ok(vec![nhs(PATIENT_2), section("ENC")]);
    let c = composition(&b);
    assert_eq!(
        c.meta.as_ref().map(|m| m.profile.clone()),
        Some(vec![p::COMPOSITION_PROFILE.to_owned()])
    );
    assert_eq!(c.title, "Patient Care Record");
    assert_eq!(c.status.as_str(), "final");
    assert_eq!(
        c.date.as_str(),
        "2026-11-25T10:00:00+00:00",
        "now, UK local"
    );
    let coding = |cc: &Option<gpconnect_core::fhir::datatypes::CodeableConcept>| {
        let cc = cc.as_ref().expect("concept");
        let c = &cc.coding[0];
        (
            c.system.clone(),
            c.code.as_ref().map(|x| x.as_str().to_owned()),
            c.display.clone(),
            cc.text.clone(),
        )
    };
    let t = "record extract (record artifact)".to_owned();
    assert_eq!(
        coding(&c.type_),
        (
            Some("http://snomed.info/sct".into()),
            Some("425173008".into()),
            Some(t.clone()),
            Some(t)
        )
    );
    let k = "general medical service (qualifier value)".to_owned();
    assert_eq!(
        coding(&c.class_),
        (
            Some("http://snomed.info/sct".into()),
            Some("700232004".into()),
            Some(k.clone()),
            Some(k)
        )
    );
    assert_eq!(c.subject.reference.as_deref(), Some("Patient/2"));
    assert_eq!(
        c.author
            .iter()
            .map(|a| a.reference.clone())
            .collect::<Vec<_>>(),
        vec![Some(format!("Device/{DEVICE_ID}"))]
    );
    assert_eq!(
        c.custodian.as_ref().and_then(|r| r.reference.as_deref()),
        Some("Organization/23")
    );
}

#[test]
fn the_section_carries_title_code_display_text_and_the_html() {
    for s in Section::ALL {
        let b = ok(vec![nhs(PATIENT_2), section(s.code())]);
        let c = composition(&b);
        assert_eq!(c.section.len(), 1);
        let sec = &c.section[0];
        assert_eq!(sec.title.as_deref(), Some(s.title()));
        let code = sec.code.as_ref().expect("code");
        assert_eq!(code.coding.len(), 1);
        assert_eq!(code.coding[0].system.as_deref(), Some(SECTION_SYSTEM));
        assert_eq!(
            code.coding[0].code.as_ref().map(|c| c.as_str()),
            Some(s.code())
        );
        assert_eq!(code.coding[0].display.as_deref(), Some(s.title()));
        assert_eq!(code.text.as_deref(), Some(s.title()));
        let text = sec.text.as_ref().expect("text");
        assert_eq!(text.status.as_str(), "generated");
        let html = text.div.as_str();
        assert!(html.contains(&format!("<h1>{}</h1>", s.title())), "{html}");
        assert!(
            !html.contains('\n') && !html.contains('\r') && !html.contains('\t'),
            "{}",
            s.code()
        );
    }
}

#[test]
fn the_html_is_the_views_of_the_patients_record() {
    // Patient 2's rich record fills Summary's tables; patient 3 has none.
    let rich = div(&ok(vec![nhs(PATIENT_2), section("SUM")]));
    assert!(rich.contains(r#"<table id="cli-tab">"#), "emergency codes");
    assert!(rich.contains(r#"<table id="med-tab-curr-rep">"#));
    let empty = div(&ok(vec![nhs(PATIENT_3), section("ENC")]));
    assert!(
        empty.contains("<p>No 'Encounters' data is recorded for this patient.</p>"),
        "{empty}"
    );
}

#[test]
fn the_period_reaches_the_views_as_whole_days() {
    let html = div(&ok(vec![
        nhs(PATIENT_2),
        section("ENC"),
        period(Some("2014-05"), Some("2016-02")),
    ]));
    assert!(
        html.contains(
            r#"<div class="date-banner"><p>For the period '01-May-2014' to '29-Feb-2016'</p></div>"#
        ),
        "{html}"
    );
    let html = div(&ok(vec![
        nhs(PATIENT_2),
        section("ENC"),
        period(None, Some("2016")),
    ]));
    assert!(
        html.contains(r#"<div class="date-banner"><p>Data items until '31-Dec-2016'</p></div>"#),
        "{html}"
    );
}

#[test]
fn the_practices_view_settings_reach_the_views() {
    let mut practice = practice();
    practice.settings.access_record.render.emergency_codes = false;
    let html = div(&call_with(
        &store(),
        &practice,
        vec![nhs(PATIENT_2), section("SUM")],
        None,
    )
    .expect("bundle"));
    assert!(!html.contains("Emergency Codes"), "{html}");
    let mut with_banner = self::practice();
    with_banner.settings.access_record.render.content_banners =
        vec![gpconnect_render::ContentBanner {
            place: gpconnect_render::BannerPlace::Section(Section::Encounters),
            text: "Encounters from 2010 onwards".into(),
        }];
    let html = div(&call_with(
        &store(),
        &with_banner,
        vec![nhs(PATIENT_2), section("ENC")],
        None,
    )
    .expect("bundle"));
    assert!(
        html.contains(r#"<div class="content-banner"><p>Encounters from 2010 onwards</p></div>"#),
        "{html}"
    );
    assert!(div(&ok(vec![nhs(PATIENT_2), section("SUM")])).contains("<h2>Emergency Codes</h2>"));
}

#[test]
fn the_patient_entry_meets_gpconnect_patient_1() {
    let store = store();
    let stored = store.patient(testkit::ODS, "2").expect("read").expect("p2");
    let b = call_with(
        &store,
        &practice(),
        vec![nhs(PATIENT_2), section("SUM")],
        None,
    )
    .expect("bundle");
    let pt = patient(&b);
    let meta = pt.meta.as_ref().expect("meta");
    assert_eq!(meta.profile, vec![p::PATIENT_PROFILE.to_owned()]);
    assert_eq!(
        meta.version_id.as_ref().map(|v| v.as_str().to_owned()),
        Some(stored.version.to_string())
    );
    assert_eq!(pt.identifier.len(), 1);
    assert_eq!(pt.identifier[0].system.as_deref(), Some(NHS_SYSTEM));
    assert_eq!(pt.identifier[0].value.as_deref(), Some(PATIENT_2));
    assert_eq!(pt.name.len(), 1);
    assert_eq!(pt.name[0].family, vec!["Dawes".to_owned()]);
    assert_eq!(pt.name[0].given, vec!["Minnie".to_owned()]);
    assert_eq!(pt.gender.as_ref().map(|g| g.as_str()), Some("female"));
    assert_eq!(
        pt.birth_date.as_ref().map(|d| d.as_str()),
        Some("1952-05-31")
    );
    assert!(pt.deceased.is_none());
    assert!(
        pt.telecom
            .iter()
            .all(|t| t.system.is_some() && t.value.is_some())
    );
    assert_eq!(
        pt.care_provider
            .iter()
            .map(|r| r.reference.as_deref())
            .collect::<Vec<_>>(),
        vec![Some("Practitioner/2")]
    );
    assert_eq!(
        pt.managing_organization
            .as_ref()
            .and_then(|r| r.reference.as_deref()),
        Some("Organization/23")
    );
}

#[test]
fn without_a_usual_gp_there_is_no_practitioner_and_no_care_provider() {
    let b = ok(vec![nhs(PATIENT_3), section("SUM")]);
    assert_eq!(
        types(&b),
        ["Composition", "Patient", "Organization", "Device"]
    );
    assert!(patient(&b).care_provider.is_empty());
}

#[test]
fn a_usual_gp_missing_from_the_store_is_left_out() {
    let store = store();
    let mut p3 = store.patient(testkit::ODS, "3").expect("read").expect("p3");
    p3.resource.general_practitioner = vec![gpconnect_core::fhir::datatypes::Reference {
        reference: Some("Practitioner/99".into()),
        ..Default::default()
    }];
    store
        .import(
            testkit::ODS,
            PracticeImport {
                patients: vec![p3],
                ..Default::default()
            },
        )
        .expect("re-import patient 3");
    let b = call_with(
        &store,
        &practice(),
        vec![nhs(PATIENT_3), section("SUM")],
        None,
    )
    .expect("bundle");
    assert_eq!(
        types(&b),
        ["Composition", "Patient", "Organization", "Device"]
    );
    assert!(
        patient(&b).care_provider.is_empty(),
        "no dangling reference"
    );
}

#[test]
fn practitioner_organization_and_device_carry_profiles_versions_and_codes() {
    let b = ok(vec![nhs(PATIENT_2), section("SUM")]);
    for r in b.resources().skip(1) {
        let (meta, profile) = match r {
            dstu2::Resource::Patient(x) => (&x.meta, p::PATIENT_PROFILE),
            dstu2::Resource::Organization(x) => (&x.meta, p::ORGANIZATION_PROFILE),
            dstu2::Resource::Practitioner(x) => (&x.meta, p::PRACTITIONER_PROFILE),
            dstu2::Resource::Device(x) => (&x.meta, p::DEVICE_PROFILE),
            other => panic!("unexpected {}", other.resource_type()),
        };
        let meta = meta.as_ref().expect("meta");
        assert_eq!(
            meta.profile,
            vec![profile.to_owned()],
            "{}",
            r.resource_type()
        );
        assert!(meta.version_id.is_some(), "{} versionId", r.resource_type());
        match r {
            dstu2::Resource::Organization(o) => {
                let ods: Vec<_> = o
                    .identifier
                    .iter()
                    .filter(|i| i.system.as_deref() == Some(p::ODS_ORGANIZATION_CODE_SYSTEM))
                    .collect();
                assert_eq!(ods.len(), 1);
                assert_eq!(ods[0].value.as_deref(), Some(testkit::ODS));
                assert_eq!(o.name.as_deref(), Some("The Trevelyan Practice"));
            }
            dstu2::Resource::Practitioner(pr) => {
                let sds: Vec<_> = pr
                    .identifier
                    .iter()
                    .filter(|i| i.system.as_deref() == Some(p::SDS_USER_ID_SYSTEM))
                    .collect();
                assert_eq!(sds.len(), 1);
                assert_eq!(sds[0].value.as_deref(), Some("111122223333"));
                assert_eq!(
                    pr.name.as_ref().map(|n| n.family.clone()),
                    Some(vec!["Black".to_owned()])
                );
            }
            dstu2::Resource::Device(d) => {
                let c = &d.type_.coding[0];
                assert_eq!(c.system.as_deref(), Some("http://snomed.info/sct"));
                assert_eq!(c.code.as_ref().map(|x| x.as_str()), Some("462240000"));
                assert_eq!(
                    c.display.as_deref(),
                    Some("Patient health record information system (physical object)")
                );
                assert!(d.type_.text.is_none(), "the profile forbids type.text");
            }
            _ => {}
        }
    }
}

#[test]
fn the_bundle_round_trips_through_json_and_xml() {
    for s in Section::ALL {
        for nhs_number in [PATIENT_2, "9000000084", "9000000092"] {
            let b = ok(vec![nhs(nhs_number), section(s.code())]);
            let json = to_json(&b);
            let from_j: dstu2::Bundle = from_json(&json, Limits::REQUEST).expect("JSON decodes");
            assert_eq!(from_j, b, "{} JSON", s.code());
            let xml = to_xml(&b);
            let from_x: dstu2::Bundle =
                from_xml(xml.as_bytes(), Limits::REQUEST).expect("XML decodes");
            assert_eq!(from_x, b, "{} XML", s.code());
            assert_eq!(to_json(&from_x), json);
        }
    }
}

#[test]
fn errors_become_dstu2_operation_outcomes_with_display() {
    let e = call(vec![nhs(PATIENT_2), section("sum")]).expect_err("refused");
    let oo = e.to_operation_outcome_dstu2();
    let json: Value = serde_json::from_slice(&to_json(&oo)).expect("json");
    assert_eq!(
        json["issue"][0]["details"]["coding"][0]["code"],
        "INVALID_PARAMETER"
    );
    assert!(json["issue"][0]["details"]["coding"][0]["display"].is_string());
}
