//! `Engine::handle` end to end: every interaction driven as HTTP data
//! against the testkit practice (ODS A00001, ASID 900000000001) in a
//! `MemoryStore` at a fixed clock, in JSON and XML, and the error tables of
//! the digests (appointments §2, §3, §6; accessrecord §1.2, §1.3, §4).
//!
//! Tests are named after the rule they check.

use std::sync::Arc;

use gpconnect_core::checks::headers::Interaction;
use gpconnect_core::clock::FixedClock;
use gpconnect_core::engine::token::{TokenSpec, unsigned_jwt};
use gpconnect_core::engine::{Engine, EngineConfig, HttpRequest, HttpResponse};
use gpconnect_core::fhir::{Format, Limits, decode};
use gpconnect_core::foundations::{LocalPds, Pds, PdsError, PdsRecord, SoftwareInfo};
use gpconnect_core::store::memory::MemoryStore;
use gpconnect_core::store::{PracticeImport, PracticeStore};
use gpconnect_core::testkit::{self, ASID, ODS};
use gpconnect_core::{dstu2, stu3};
use jiff::Timestamp;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Harness

/// Wednesday 25 November 2026, 10:00 GMT: testkit day 1 is the 26th.
fn now() -> Timestamp {
    "2026-11-25T10:00:00Z".parse().expect("timestamp")
}

const STU3_ROOT: &str = "/A00001/STU3/1/gpconnect";
const DSTU2_ROOT: &str = "/A00001/DSTU2/0/gpconnect";
const CONSUMER_ODS: &str = "B82001";

fn software() -> SoftwareInfo {
    SoftwareInfo {
        name: "gpconnect".to_owned(),
        version: "0.1.0".to_owned(),
        release_date: jiff::civil::date(2026, 3, 1),
        publisher: "Example Supplier".to_owned(),
        contact_name: None,
    }
}

struct Harness {
    engine: Engine,
    store: Arc<MemoryStore>,
    pds: Arc<LocalPds>,
}

fn harness_with(config: EngineConfig) -> Harness {
    let store = Arc::new(testkit::memory_store(now()).expect("test practice"));
    let patients: Vec<_> = ["2", "3", "4", "5", "6"]
        .iter()
        .filter_map(|id| store.patient(ODS, id).ok().flatten())
        .collect();
    let pds = Arc::new(LocalPds::from_patients(&patients));
    pds.insert(PdsRecord::new(
        "9000000017",
        "Jackson",
        ["Jane"],
        jiff::civil::date(1952, 5, 31),
    ));
    let engine = Engine::new(
        store.clone(),
        Arc::new(FixedClock::new(now())),
        pds.clone(),
        config,
    )
    .expect("valid config");
    Harness { engine, store, pds }
}

fn harness() -> Harness {
    harness_with(EngineConfig::new(software()))
}

/// A request as owned data; `send` lends it to the engine.
#[derive(Debug, Clone)]
struct Req {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Req {
    /// A request for `interaction` on `root`+`rel` with every header valid
    /// and a token minted for the interaction.
    fn new(interaction: Interaction, method: &str, path: &str) -> Req {
        let mut spec = TokenSpec::for_interaction(interaction, CONSUMER_ODS, now());
        if interaction == Interaction::GetCareRecord {
            spec = spec.with_requested_patient("9658218873");
        } else if interaction == Interaction::GetConformance {
            spec = spec.with_requested_organization(ODS);
        }
        let token = spec.encode().expect("token");
        Req {
            method: method.to_owned(),
            path: path.to_owned(),
            query: String::new(),
            headers: vec![
                (
                    "Ssp-TraceID".to_owned(),
                    "09a01679-2564-0fb4-5129-aecc81ea2706".to_owned(),
                ),
                ("Ssp-From".to_owned(), "200000000359".to_owned()),
                ("Ssp-To".to_owned(), ASID.to_owned()),
                (
                    "Ssp-InteractionID".to_owned(),
                    interaction.interaction_id().to_owned(),
                ),
                ("Authorization".to_owned(), format!("Bearer {token}")),
            ],
            body: Vec::new(),
        }
    }

    fn stu3(interaction: Interaction, method: &str, rel: &str) -> Req {
        Req::new(interaction, method, &format!("{STU3_ROOT}{rel}"))
    }

    fn dstu2(interaction: Interaction, method: &str, rel: &str) -> Req {
        Req::new(interaction, method, &format!("{DSTU2_ROOT}{rel}"))
    }

    /// Sets `name` (replacing every value of it).
    fn header(mut self, name: &str, value: &str) -> Req {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds one more `name` line.
    fn add_header(mut self, name: &str, value: &str) -> Req {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn without(mut self, name: &str) -> Req {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    fn query(mut self, q: &str) -> Req {
        self.query = q.to_owned();
        self
    }

    fn token(self, token: &str) -> Req {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    fn json(mut self, body: &Value) -> Req {
        self.body = serde_json::to_vec(body).expect("json");
        self.header("Content-Type", "application/fhir+json")
    }

    fn xml<T: gpconnect_core::fhir::FhirResource>(mut self, body: &T) -> Req {
        self.body = gpconnect_core::fhir::to_xml(body).into_bytes();
        self.header("Content-Type", "application/fhir+xml")
    }

    fn raw_body(mut self, content_type: &str, body: &[u8]) -> Req {
        self.body = body.to_vec();
        self.header("Content-Type", content_type)
    }

    fn send(&self, h: &Harness) -> HttpResponse {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        h.engine.handle(&HttpRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        })
    }
}

fn body_json(r: &HttpResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {}",
            String::from_utf8_lossy(&r.body)
        )
    })
}

/// Every response, success or error, must say `Cache-Control: no-store`.
#[track_caller]
fn assert_no_store(r: &HttpResponse) {
    assert_eq!(r.header("Cache-Control"), Some("no-store"), "{r:?}");
}

/// An STU3 JSON success with `status`.
#[track_caller]
fn ok_json(r: &HttpResponse, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    assert_no_store(r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+json;charset=utf-8")
    );
    assert_eq!(r.audit.status, status);
    assert_eq!(r.audit.spine_code, None);
    body_json(r)
}

/// An STU3 JSON OperationOutcome with `status` and Spine `code`.
#[track_caller]
fn assert_outcome(r: &HttpResponse, status: u16, code: &str) -> Value {
    assert_eq!(
        (r.status, r.audit.spine_code.as_deref()),
        (status, Some(code)),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_no_store(r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+json;charset=utf-8")
    );
    let v = body_json(r);
    assert_eq!(v["resourceType"], "OperationOutcome");
    assert_eq!(
        v["meta"]["profile"][0],
        "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"
    );
    let coding = &v["issue"][0]["details"]["coding"];
    assert_eq!(coding.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(coding[0]["code"], code, "{v}");
    assert_eq!(
        coding[0]["system"],
        "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1"
    );
    assert!(coding[0]["display"].is_string(), "{v}");
    assert_eq!(v["issue"][0]["severity"], "error");
    assert_eq!(r.audit.status, status);
    v
}

/// An STU3 XML OperationOutcome with `status` and Spine `code`.
#[track_caller]
fn assert_xml_outcome(r: &HttpResponse, status: u16, code: &str) {
    assert_eq!(
        (r.status, r.audit.spine_code.as_deref()),
        (status, Some(code)),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_no_store(r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+xml;charset=utf-8")
    );
    let oo: stu3::OperationOutcome =
        decode(&r.body, Format::Xml, Limits::REQUEST).expect("XML OperationOutcome");
    let sent = oo
        .issue
        .first()
        .and_then(|i| i.details.as_ref())
        .and_then(|d| d.coding.first())
        .and_then(|c| c.code.as_ref())
        .map(|c| c.as_str().to_owned());
    assert_eq!(sent.as_deref(), Some(code));
}

/// A DSTU2 JSON OperationOutcome with `status` and Spine `code`.
#[track_caller]
fn assert_dstu2_outcome(r: &HttpResponse, status: u16, code: &str) -> Value {
    assert_eq!(
        (r.status, r.audit.spine_code.as_deref()),
        (status, Some(code)),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_no_store(r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json+fhir;charset=utf-8")
    );
    let v = body_json(r);
    assert_eq!(v["resourceType"], "OperationOutcome");
    assert_eq!(
        v["meta"]["profile"][0],
        "http://fhir.nhs.net/StructureDefinition/gpconnect-operationoutcome-1"
    );
    let coding = &v["issue"][0]["details"]["coding"][0];
    assert_eq!(coding["code"], code, "{v}");
    assert_eq!(
        coding["system"],
        "http://fhir.nhs.net/ValueSet/gpconnect-error-or-warning-code-1"
    );
    assert!(coding["display"].is_string());
    v
}

fn slot_search_query() -> &'static str {
    "start=ge2026-11-26&end=le2026-11-27&status=free&_include=Slot%3Aschedule\
     &_include%3Arecurse=Schedule%3Aactor%3APractitioner&_include%3Arecurse=Schedule%3Aactor%3ALocation"
}

/// The spec's book request, for patient 2 at Location 17 in slot 14-1-0
/// (26 Nov 2026 09:00–09:10 GMT).
fn book_body(slot: &str, start: &str, end: &str) -> Value {
    json!({
        "resourceType": "Appointment",
        "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1"]},
        "contained": [{
            "resourceType": "Organization",
            "id": "1",
            "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1"]},
            "identifier": [{"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": CONSUMER_ODS}],
            "name": "Consumer Surgery",
            "telecom": [{"system": "phone", "value": "0300 303 5678"}]
        }],
        "extension": [{
            "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1",
            "valueReference": {"reference": "#1"}
        }],
        "status": "booked",
        "description": "Free text description.",
        "start": start,
        "end": end,
        "slot": [{"reference": format!("Slot/{slot}")}],
        "created": "2026-11-25T09:00:00+00:00",
        "comment": "Free text comment.",
        "participant": [
            {"actor": {"reference": "Patient/2"}, "status": "accepted"},
            {"actor": {"reference": "Location/17"}, "status": "accepted"}
        ]
    })
}

fn default_book_body() -> Value {
    book_body(
        "14-1-0",
        "2026-11-26T09:00:00+00:00",
        "2026-11-26T09:10:00+00:00",
    )
}

/// Books slot 14-1-0; the 201 response.
fn book(h: &Harness) -> HttpResponse {
    Req::stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .json(&default_book_body())
        .send(h)
}

/// Books slot 14-1-0; the created appointment as returned, and its ETag.
fn booked(h: &Harness) -> (Value, String) {
    let r = book(h);
    let body = ok_json(&r, 201);
    let etag = r.header("ETag").expect("ETag").to_owned();
    (body, etag)
}

fn register_body(nhs: &str) -> Value {
    register_body_for(nhs, "Jackson", "Jane", "1952-05-31")
}

fn register_body_for(nhs: &str, family: &str, given: &str, birth_date: &str) -> Value {
    json!({
        "resourceType": "Parameters",
        "parameter": [{
            "name": "registerPatient",
            "resource": {
                "resourceType": "Patient",
                "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1"]},
                "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs}],
                "name": [{"use": "official", "family": family, "given": [given], "prefix": ["Miss"]}],
                "gender": "female",
                "birthDate": birth_date
            }
        }]
    })
}

fn care_record_body() -> Vec<u8> {
    include_bytes!("data/dstu2/parameters_getcarerecord.json").to_vec()
}

// ---------------------------------------------------------------------------
// Happy paths: every interaction, JSON and XML

#[test]
fn f1_metadata_answers_the_capability_statement_in_json() {
    let h = harness();
    let r = Req::stu3(Interaction::GetCapabilityStatement, "GET", "/metadata").send(&h);
    let v = ok_json(&r, 200);
    assert_eq!(v["resourceType"], "CapabilityStatement");
    assert_eq!(v["version"], "1.2.9");
    assert_eq!(v["fhirVersion"], "3.0.1");
    assert_eq!(r.header("ETag"), None);
    assert_eq!(
        r.audit.interaction.as_deref(),
        Some("urn:nhs:names:services:gpconnect:fhir:rest:read:metadata-1")
    );
}

#[test]
fn f1_metadata_answers_in_xml_when_accept_asks_for_it() {
    let h = harness();
    let r = Req::stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .header("Accept", "application/fhir+xml")
        .send(&h);
    assert_eq!(r.status, 200);
    assert_no_store(&r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+xml;charset=utf-8")
    );
    let c: stu3::CapabilityStatement =
        decode(&r.body, Format::Xml, Limits::REQUEST).expect("XML CapabilityStatement");
    assert_eq!(c.version.as_deref(), Some("1.2.9"));
}

#[test]
fn format_param_overrides_accept() {
    let h = harness();
    let r = Req::stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .header("Accept", "application/fhir+json")
        .query("_format=application%2Ffhir%2Bxml")
        .send(&h);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+xml;charset=utf-8")
    );
    // An unencoded `+` arrives as a space and still means fhir+xml.
    let r = Req::stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .query("_format=application/fhir+xml")
        .send(&h);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+xml;charset=utf-8")
    );
}

#[test]
fn f2_find_patient_by_nhs_number_returns_a_searchset() {
    let h = harness();
    let r = Req::stu3(Interaction::FindPatient, "GET", "/Patient")
        .query("identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9000000009")
        .send(&h);
    let v = ok_json(&r, 200);
    assert_eq!(v["resourceType"], "Bundle");
    assert_eq!(v["type"], "searchset");
    assert_eq!(v["entry"][0]["resource"]["id"], "2");
    assert_eq!(r.audit.nhs_number.as_deref(), Some("9000000009"));
    assert_eq!(r.audit.patient_id.as_deref(), Some("2"));
}

#[test]
fn r60_find_patient_sensitive_or_unknown_is_an_empty_bundle() {
    let h = harness();
    for nhs in ["9658218873", "9000000017"] {
        let r = Req::stu3(Interaction::FindPatient, "GET", "/Patient")
            .query(&format!(
                "identifier=https://fhir.nhs.uk/Id/nhs-number|{nhs}"
            ))
            .send(&h);
        let v = ok_json(&r, 200);
        assert!(v.get("entry").is_none(), "{nhs}: {v}");
    }
}

#[test]
fn r64_find_patient_parameter_errors_keep_their_codes() {
    let h = harness();
    let find = |q: &str| {
        Req::stu3(Interaction::FindPatient, "GET", "/Patient")
            .query(q)
            .send(&h)
    };
    assert_outcome(&find(""), 400, "BAD_REQUEST");
    assert_outcome(
        &find("Identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009"),
        400,
        "BAD_REQUEST",
    );
    assert_outcome(&find("identifier=|9000000009"), 422, "INVALID_PARAMETER");
    assert_outcome(
        &find("identifier=https://fhir.nhs.uk/Id/nhs-number|9000000008"),
        400,
        "INVALID_NHS_NUMBER",
    );
}

#[test]
fn f3_read_patient_has_an_etag() {
    let h = harness();
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2").send(&h);
    let v = ok_json(&r, 200);
    assert_eq!(v["resourceType"], "Patient");
    assert_eq!(v["id"], "2");
    let version = v["meta"]["versionId"].as_str().expect("versionId");
    assert_eq!(r.header("ETag"), Some(format!("W/\"{version}\"").as_str()));
    assert_eq!(r.audit.patient_id.as_deref(), Some("2"));
    assert_eq!(r.audit.resource_id.as_deref(), Some("2"));
    assert_eq!(r.audit.nhs_number.as_deref(), Some("9000000009"));
}

#[test]
fn f3_read_patient_in_xml() {
    let h = harness();
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/3")
        .query("_format=xml")
        .send(&h);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+xml;charset=utf-8")
    );
    let p: stu3::Patient = decode(&r.body, Format::Xml, Limits::REQUEST).expect("XML Patient");
    assert_eq!(p.id.as_ref().map(|i| i.as_str()), Some("3"));
}

#[test]
fn r61_read_unknown_or_sensitive_patient_is_404_patient_not_found() {
    let h = harness();
    for id in ["4", "999"] {
        let r = Req::stu3(Interaction::ReadPatient, "GET", &format!("/Patient/{id}")).send(&h);
        assert_outcome(&r, 404, "PATIENT_NOT_FOUND");
    }
}

#[test]
fn f4_register_patient_answers_200_with_a_searchset() {
    let h = harness();
    let r = Req::stu3(
        Interaction::RegisterPatient,
        "POST",
        "/Patient/$gpc.registerpatient",
    )
    .json(&register_body("9000000017"))
    .send(&h);
    let v = ok_json(&r, 200);
    assert_eq!(v["type"], "searchset");
    let patient = &v["entry"][0]["resource"];
    assert_eq!(patient["resourceType"], "Patient");
    assert_eq!(r.audit.nhs_number.as_deref(), Some("9000000017"));
    assert_eq!(r.audit.patient_id.as_deref(), patient["id"].as_str());
    assert_eq!(r.header("Location"), None);
}

#[test]
fn f4_register_patient_in_xml() {
    let h = harness();
    let body: stu3::Parameters = decode(
        &serde_json::to_vec(&register_body("9000000017")).expect("json"),
        Format::Json,
        Limits::REQUEST,
    )
    .expect("parameters");
    let r = Req::stu3(
        Interaction::RegisterPatient,
        "POST",
        "/Patient/$gpc.registerpatient",
    )
    .xml(&body)
    .send(&h);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    // No Accept and no _format: the answer follows the Content-Type (§2.2).
    assert_eq!(
        r.header("Content-Type"),
        Some("application/fhir+xml;charset=utf-8")
    );
    let b: stu3::Bundle = decode(&r.body, Format::Xml, Limits::REQUEST).expect("XML Bundle");
    assert_eq!(b.entry.len(), 1);
}

#[test]
fn f4_register_an_active_patient_is_409_duplicate_rejected() {
    let h = harness();
    let r = Req::stu3(
        Interaction::RegisterPatient,
        "POST",
        "/Patient/$gpc.registerpatient",
    )
    .json(&register_body_for(
        "9000000009",
        "Dawes",
        "Minnie",
        "1952-05-31",
    ))
    .send(&h);
    assert_outcome(&r, 409, "DUPLICATE_REJECTED");
    assert_eq!(r.audit.nhs_number.as_deref(), Some("9000000009"));
}

#[test]
fn f4_register_pds_unavailable_is_500() {
    let h = harness();
    h.pds.set_unavailable(true);
    let r = Req::stu3(
        Interaction::RegisterPatient,
        "POST",
        "/Patient/$gpc.registerpatient",
    )
    .json(&register_body("9000000017"))
    .send(&h);
    assert_outcome(&r, 500, "INTERNAL_SERVER_ERROR");
}

#[test]
fn f5_f6_practitioner_find_and_read() {
    let h = harness();
    let r = Req::stu3(Interaction::FindPractitioner, "GET", "/Practitioner")
        .query("identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fsds-user-id%7C111122223333")
        .send(&h);
    assert_eq!(ok_json(&r, 200)["entry"][0]["resource"]["id"], "2");
    let r = Req::stu3(Interaction::ReadPractitioner, "GET", "/Practitioner/2").send(&h);
    assert_eq!(ok_json(&r, 200)["resourceType"], "Practitioner");
    assert!(r.header("ETag").is_some_and(|e| e.starts_with("W/\"")));
    let r = Req::stu3(Interaction::ReadPractitioner, "GET", "/Practitioner/99").send(&h);
    assert_outcome(&r, 404, "PRACTITIONER_NOT_FOUND");
}

#[test]
fn f7_f8_organization_find_and_read() {
    let h = harness();
    let r = Req::stu3(Interaction::FindOrganization, "GET", "/Organization")
        .query("identifier=https://fhir.nhs.uk/Id/ods-organization-code|A00001")
        .send(&h);
    assert_eq!(ok_json(&r, 200)["entry"][0]["resource"]["id"], "23");
    let r = Req::stu3(Interaction::ReadOrganization, "GET", "/Organization/23")
        .header("Accept", "application/fhir+xml")
        .send(&h);
    assert_eq!(r.status, 200);
    let o: stu3::Organization =
        decode(&r.body, Format::Xml, Limits::REQUEST).expect("XML Organization");
    assert_eq!(o.name.as_deref(), Some("The Trevelyan Practice"));
    assert!(r.header("ETag").is_some());
    let r = Req::stu3(Interaction::ReadOrganization, "GET", "/Organization/99").send(&h);
    assert_outcome(&r, 404, "ORGANISATION_NOT_FOUND");
}

#[test]
fn f9_location_read() {
    let h = harness();
    let r = Req::stu3(Interaction::ReadLocation, "GET", "/Location/17").send(&h);
    let v = ok_json(&r, 200);
    assert_eq!(v["resourceType"], "Location");
    assert!(r.header("ETag").is_some());
    let r = Req::stu3(Interaction::ReadLocation, "GET", "/Location/99").send(&h);
    assert_outcome(&r, 404, "NO_RECORD_FOUND");
}

#[test]
fn a1_search_free_slots_returns_slots_schedules_and_the_organization() {
    let h = harness();
    let r = Req::stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
        .query(slot_search_query())
        .send(&h);
    let v = ok_json(&r, 200);
    let types: Vec<&str> = v["entry"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["resource"]["resourceType"].as_str())
        .collect();
    for t in [
        "Slot",
        "Schedule",
        "Practitioner",
        "Location",
        "Organization",
    ] {
        assert!(types.contains(&t), "{t} missing: {types:?}");
    }
}

#[test]
fn a1_search_free_slots_in_xml_with_unencoded_offset_plus() {
    let h = harness();
    let r = Req::stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
        .query(
            "start=ge2026-11-26T00:00:00+00:00&end=le2026-11-27T23:59:59+00:00&status=free&_include=Slot:schedule",
        )
        .header("Accept", "application/fhir+xml")
        .send(&h);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let b: stu3::Bundle = decode(&r.body, Format::Xml, Limits::REQUEST).expect("XML Bundle");
    assert!(!b.entry.is_empty());
}

#[test]
fn a1_search_parameter_errors_keep_their_codes() {
    let h = harness();
    let search = |q: &str| {
        Req::stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
            .query(q)
            .send(&h)
    };
    assert_outcome(
        &search("end=le2026-11-27&status=free&_include=Slot:schedule"),
        400,
        "BAD_REQUEST",
    );
    assert_outcome(
        &search("start=ge2026-11-26&end=le2026-12-31&status=free&_include=Slot:schedule"),
        422,
        "INVALID_PARAMETER",
    );
}

#[test]
fn a2_book_answers_201_with_location_etag_and_last_modified() {
    let h = harness();
    let r = book(&h);
    let v = ok_json(&r, 201);
    assert_eq!(v["resourceType"], "Appointment");
    let id = v["id"].as_str().expect("id");
    let version = v["meta"]["versionId"].as_str().expect("versionId");
    assert_eq!(r.header("ETag"), Some(format!("W/\"{version}\"").as_str()));
    assert_eq!(
        r.header("Location"),
        Some(format!("{STU3_ROOT}/Appointment/{id}/_history/{version}").as_str())
    );
    let last_modified = r.header("Last-Modified").expect("Last-Modified");
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(last_modified)
        .expect("an HTTP-date");
    assert_eq!(r.audit.resource_id.as_deref(), Some(id));
    assert_eq!(r.audit.patient_id.as_deref(), Some("2"));
    // The slot is now taken (R11).
    let again = book(&h);
    assert_outcome(&again, 409, "DUPLICATE_REJECTED");
}

#[test]
fn a2_book_location_is_absolute_when_the_public_base_url_is_configured() {
    let h = harness_with(EngineConfig {
        public_base_url: Some("https://gpconnect.example.nhs.uk".to_owned()),
        ..EngineConfig::new(software())
    });
    let r = book(&h);
    let location = r.header("Location").expect("Location");
    assert!(
        location
            .starts_with("https://gpconnect.example.nhs.uk/A00001/STU3/1/gpconnect/Appointment/"),
        "{location}"
    );
    assert!(location.contains("/_history/"), "{location}");
}

#[test]
fn a2_book_prefer_return_minimal_gives_headers_without_a_body() {
    let h = harness();
    let r = Req::stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .json(&default_book_body())
        .header("Prefer", "return=minimal")
        .send(&h);
    assert_eq!(r.status, 201);
    assert!(r.body.is_empty());
    assert_eq!(r.header("Content-Type"), None);
    assert_no_store(&r);
    assert!(r.header("Location").is_some());
    assert!(r.header("ETag").is_some());
    assert!(r.header("Last-Modified").is_some());
}

#[test]
fn a2_book_prefer_return_representation_is_the_default() {
    let h = harness();
    let r = Req::stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .json(&default_book_body())
        .header("Prefer", "return=representation")
        .send(&h);
    assert_eq!(ok_json(&r, 201)["resourceType"], "Appointment");
}

#[test]
fn a2_book_in_xml() {
    let h = harness();
    let body: stu3::Appointment = decode(
        &serde_json::to_vec(&default_book_body()).expect("json"),
        Format::Json,
        Limits::REQUEST,
    )
    .expect("appointment");
    let r = Req::stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .xml(&body)
        .header("Accept", "application/fhir+xml")
        .send(&h);
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let a: stu3::Appointment =
        decode(&r.body, Format::Xml, Limits::REQUEST).expect("XML Appointment");
    assert_eq!(a.status.as_str(), "booked");
}

#[test]
fn a3_read_appointment_has_an_etag() {
    let h = harness();
    let (booked, etag) = booked(&h);
    let id = booked["id"].as_str().expect("id");
    let r = Req::stu3(
        Interaction::ReadAppointment,
        "GET",
        &format!("/Appointment/{id}"),
    )
    .send(&h);
    let v = ok_json(&r, 200);
    assert_eq!(v["id"], id);
    assert_eq!(r.header("ETag"), Some(etag.as_str()));
    assert_eq!(r.audit.patient_id.as_deref(), Some("2"));
    let r = Req::stu3(Interaction::ReadAppointment, "GET", "/Appointment/424242").send(&h);
    assert_outcome(&r, 404, "NO_RECORD_FOUND");
}

#[test]
fn a4_amend_with_if_match_answers_200_with_a_new_etag() {
    let h = harness();
    let (mut appointment, etag) = booked(&h);
    let id = appointment["id"].as_str().expect("id").to_owned();
    appointment["description"] = json!("Amended description.");
    let r = Req::stu3(
        Interaction::AmendAppointment,
        "PUT",
        &format!("/Appointment/{id}"),
    )
    .json(&appointment)
    .header("If-Match", &etag)
    .send(&h);
    let v = ok_json(&r, 200);
    assert_eq!(v["description"], "Amended description.");
    let new_etag = r.header("ETag").expect("ETag");
    assert_ne!(new_etag, etag);
    assert_eq!(r.header("Location"), None);
}

#[test]
fn a4_amend_prefer_return_minimal_gives_headers_without_a_body() {
    let h = harness();
    let (mut appointment, etag) = booked(&h);
    let id = appointment["id"].as_str().expect("id").to_owned();
    appointment["comment"] = json!("New comment.");
    let r = Req::stu3(
        Interaction::AmendAppointment,
        "PUT",
        &format!("/Appointment/{id}"),
    )
    .json(&appointment)
    .header("If-Match", &etag)
    .header("Prefer", "return=minimal")
    .send(&h);
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert!(r.header("ETag").is_some());
    assert_no_store(&r);
}

#[test]
fn r30_amend_if_match_mismatch_is_409_fhir_constraint_violation() {
    let h = harness();
    let (mut appointment, _) = booked(&h);
    let id = appointment["id"].as_str().expect("id").to_owned();
    appointment["description"] = json!("Amended description.");
    let r = Req::stu3(
        Interaction::AmendAppointment,
        "PUT",
        &format!("/Appointment/{id}"),
    )
    .json(&appointment)
    .header("If-Match", "W/\"99999\"")
    .send(&h);
    assert_outcome(&r, 409, "FHIR_CONSTRAINT_VIOLATION");
}

#[test]
fn r30_amend_without_if_match_is_400() {
    let h = harness();
    let (appointment, _) = booked(&h);
    let id = appointment["id"].as_str().expect("id").to_owned();
    let r = Req::stu3(
        Interaction::AmendAppointment,
        "PUT",
        &format!("/Appointment/{id}"),
    )
    .json(&appointment)
    .send(&h);
    assert_outcome(&r, 400, "BAD_REQUEST");
}

#[test]
fn r30_if_match_sent_twice_is_400() {
    let h = harness();
    let (appointment, etag) = booked(&h);
    let id = appointment["id"].as_str().expect("id").to_owned();
    let r = Req::stu3(
        Interaction::AmendAppointment,
        "PUT",
        &format!("/Appointment/{id}"),
    )
    .json(&appointment)
    .header("If-Match", &etag)
    .add_header("If-Match", &etag)
    .send(&h);
    assert_outcome(&r, 400, "BAD_REQUEST");
}

fn cancelled(mut appointment: Value) -> Value {
    appointment["status"] = json!("cancelled");
    if let Some(ext) = appointment["extension"].as_array_mut() {
        ext.push(json!({
            "url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1",
            "valueString": "Patient no longer needs it"
        }));
    }
    appointment
}

#[test]
fn a5_cancel_answers_200_with_status_cancelled() {
    let h = harness();
    let (appointment, etag) = booked(&h);
    let id = appointment["id"].as_str().expect("id").to_owned();
    let r = Req::stu3(
        Interaction::CancelAppointment,
        "PUT",
        &format!("/Appointment/{id}"),
    )
    .json(&cancelled(appointment))
    .header("If-Match", &etag)
    .send(&h);
    let v = ok_json(&r, 200);
    assert_eq!(v["status"], "cancelled");
    assert_ne!(r.header("ETag"), Some(etag.as_str()));
}

#[test]
fn r37_cancel_if_match_mismatch_is_409_fhir_constraint_violation() {
    let h = harness();
    let (appointment, _) = booked(&h);
    let id = appointment["id"].as_str().expect("id").to_owned();
    let r = Req::stu3(
        Interaction::CancelAppointment,
        "PUT",
        &format!("/Appointment/{id}"),
    )
    .json(&cancelled(appointment))
    .header("If-Match", "invalidEtag")
    .send(&h);
    assert_outcome(&r, 409, "FHIR_CONSTRAINT_VIOLATION");
}

#[test]
fn amend_and_cancel_are_told_apart_by_the_interaction_id() {
    let h = harness();
    let (appointment, etag) = booked(&h);
    let id = appointment["id"].as_str().expect("id").to_owned();
    // A cancel body under the amend interaction changes the status: R26.
    let r = Req::stu3(
        Interaction::AmendAppointment,
        "PUT",
        &format!("/Appointment/{id}"),
    )
    .json(&cancelled(appointment))
    .header("If-Match", &etag)
    .send(&h);
    assert_outcome(&r, 422, "INVALID_RESOURCE");
    assert_eq!(
        r.audit.interaction.as_deref(),
        Some("urn:nhs:names:services:gpconnect:fhir:rest:update:appointment-1")
    );
}

#[test]
fn a6_retrieve_patient_appointments_returns_the_booked_one() {
    let h = harness();
    let (appointment, _) = booked(&h);
    let r = Req::stu3(
        Interaction::RetrievePatientAppointments,
        "GET",
        "/Patient/2/Appointment",
    )
    .query("start=ge2026-11-25&start=le2026-12-05")
    .send(&h);
    let v = ok_json(&r, 200);
    assert_eq!(v["type"], "searchset");
    assert_eq!(v["entry"][0]["resource"]["id"], appointment["id"]);
    assert_eq!(r.audit.patient_id.as_deref(), Some("2"));
    let r = Req::stu3(
        Interaction::RetrievePatientAppointments,
        "GET",
        "/Patient/2/Appointment",
    )
    .query("start=ge2026-11-25")
    .send(&h);
    assert_outcome(&r, 422, "INVALID_PARAMETER");
}

#[test]
fn dstu2_metadata_answers_the_conformance_statement() {
    let h = harness();
    let r = Req::dstu2(Interaction::GetConformance, "GET", "/metadata").send(&h);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_no_store(&r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/json+fhir;charset=utf-8")
    );
    let v = body_json(&r);
    assert_eq!(v["resourceType"], "Conformance");
    assert_eq!(v["version"], "0.7.4");
    assert_eq!(v["fhirVersion"], "1.0.2");
    assert_eq!(
        v["rest"][0]["operation"][0]["definition"]["reference"],
        "OperationDefinition/gpc.getcarerecord"
    );
    assert_eq!(
        v["format"],
        json!(["application/xml+fhir", "application/json+fhir"])
    );

    let r = Req::dstu2(Interaction::GetConformance, "GET", "/metadata")
        .header("Accept", "application/xml+fhir")
        .send(&h);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/xml+fhir;charset=utf-8")
    );
    let c: dstu2::Conformance =
        decode(&r.body, Format::Xml, Limits::REQUEST).expect("XML Conformance");
    assert_eq!(c.version.as_deref(), Some("0.7.4"));
}

#[test]
fn dstu2_conformance_version_is_configurable() {
    let h = harness_with(EngineConfig {
        access_record_version: "0.7.3".to_owned(),
        ..EngineConfig::new(software())
    });
    let r = Req::dstu2(Interaction::GetConformance, "GET", "/metadata").send(&h);
    assert_eq!(body_json(&r)["version"], "0.7.3");
}

/// The request names 9658218873, the testkit's S-flagged patient 4.
#[test]
fn getcarerecord_reaches_the_operation_and_an_s_flagged_patient_is_404() {
    let h = harness();
    let r = Req::dstu2(
        Interaction::GetCareRecord,
        "POST",
        "/Patient/$gpc.getcarerecord",
    )
    .raw_body("application/json+fhir", &care_record_body())
    .send(&h);
    assert_dstu2_outcome(&r, 404, "PATIENT_NOT_FOUND");
    assert_eq!(
        r.audit.interaction.as_deref(),
        Some("urn:nhs:names:services:gpconnect:fhir:operation:gpc.getcarerecord")
    );
    assert_eq!(r.audit.nhs_number.as_deref(), Some("9658218873"));
    assert_eq!(
        r.audit.requesting_organisation_ods.as_deref(),
        Some(CONSUMER_ODS)
    );
}

#[test]
fn getcarerecord_in_xml_is_answered_with_a_dstu2_xml_outcome() {
    let h = harness();
    let r = Req::dstu2(
        Interaction::GetCareRecord,
        "POST",
        "/Patient/$gpc.getcarerecord",
    )
    .raw_body(
        "application/xml+fhir;charset=utf-8",
        include_bytes!("data/dstu2/parameters_summary.xml"),
    )
    .send(&h);
    assert_eq!(r.status, 404, "{}", String::from_utf8_lossy(&r.body));
    assert_no_store(&r);
    assert_eq!(
        r.header("Content-Type"),
        Some("application/xml+fhir;charset=utf-8")
    );
    let oo: dstu2::OperationOutcome =
        decode(&r.body, Format::Xml, Limits::REQUEST).expect("DSTU2 XML OperationOutcome");
    let code = oo
        .issue
        .first()
        .and_then(|i| i.details.as_ref())
        .and_then(|d| d.coding.first())
        .and_then(|c| c.code.as_ref())
        .map(|c| c.as_str().to_owned());
    assert_eq!(code.as_deref(), Some("PATIENT_NOT_FOUND"));
}

/// accessrecord §4: a timePeriod the codec refuses (a time without an
/// offset, garbage) is 422 INVALID_PARAMETER, not INVALID_RESOURCE.
#[test]
fn getcarerecord_unparseable_time_period_is_422_invalid_parameter() {
    let h = harness();
    for bad in ["2015-10-23T11:08:32", "abcd"] {
        let body = String::from_utf8(care_record_body())
            .expect("utf-8")
            .replace("\"2014-02-03\"", &format!("\"{bad}\""));
        let r = Req::dstu2(
            Interaction::GetCareRecord,
            "POST",
            "/Patient/$gpc.getcarerecord",
        )
        .raw_body("application/json+fhir", body.as_bytes())
        .send(&h);
        assert_dstu2_outcome(&r, 422, "INVALID_PARAMETER");
    }
}

#[test]
fn getcarerecord_answers_patient_2s_summary_with_the_composition_first() {
    let h = harness();
    let token = TokenSpec::for_interaction(Interaction::GetCareRecord, CONSUMER_ODS, now())
        .with_requested_patient("9000000009")
        .encode()
        .expect("token");
    let body = String::from_utf8(care_record_body())
        .expect("utf-8")
        .replace("9658218873", "9000000009")
        .replace("\"ENC\"", "\"SUM\"");
    let body: serde_json::Value = serde_json::from_str(&body).expect("json");
    let mut body = body;
    if let Some(params) = body["parameter"].as_array_mut() {
        params.retain(|p| p["name"] != "timePeriod");
    }
    let r = Req::dstu2(
        Interaction::GetCareRecord,
        "POST",
        "/Patient/$gpc.getcarerecord",
    )
    .header("Authorization", &format!("Bearer {token}"))
    .raw_body("application/json+fhir", body.to_string().as_bytes())
    .send(&h);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_no_store(&r);
    let v: serde_json::Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(v["resourceType"], "Bundle");
    assert_eq!(v["type"], "searchset");
    assert_eq!(v["entry"][0]["resource"]["resourceType"], "Composition");
    let div = v["entry"][0]["resource"]["section"][0]["text"]["div"]
        .as_str()
        .expect("div");
    assert!(div.contains("<h1>Summary</h1>"), "{div}");
    assert_eq!(r.audit.patient_id.as_deref(), Some("2"));
}

#[test]
fn getcarerecord_body_errors_are_400_and_422_in_dstu2() {
    let h = harness();
    let send = |content_type: &str, body: &[u8]| {
        Req::dstu2(
            Interaction::GetCareRecord,
            "POST",
            "/Patient/$gpc.getcarerecord",
        )
        .raw_body(content_type, body)
        .send(&h)
    };
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
    assert_dstu2_outcome(
        &send("application/json", &care_record_body()),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    );
}

#[test]
fn getcarerecord_needs_the_dstu2_token_profile() {
    let h = harness();
    let stu3_token = TokenSpec::for_interaction(Interaction::ReadPatient, CONSUMER_ODS, now())
        .encode()
        .expect("token");
    let r = Req::dstu2(
        Interaction::GetCareRecord,
        "POST",
        "/Patient/$gpc.getcarerecord",
    )
    .raw_body("application/json+fhir", &care_record_body())
    .token(&stu3_token)
    .send(&h);
    assert_dstu2_outcome(&r, 400, "BAD_REQUEST");
}

// ---------------------------------------------------------------------------
// SSP headers (§2.1; accessrecord §1.2)

const SSP_HEADERS: [&str; 5] = [
    "Ssp-TraceID",
    "Ssp-From",
    "Ssp-To",
    "Ssp-InteractionID",
    "Authorization",
];

#[test]
fn ssp_headers_missing_blank_or_duplicated_are_400_bad_request() {
    let h = harness();
    let base = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2");
    for name in SSP_HEADERS {
        assert_outcome(&base.clone().without(name).send(&h), 400, "BAD_REQUEST");
        assert_outcome(
            &base.clone().header(name, "  ").send(&h),
            400,
            "BAD_REQUEST",
        );
        let value = base
            .headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .expect("header");
        assert_outcome(
            &base.clone().add_header(name, &value).send(&h),
            400,
            "BAD_REQUEST",
        );
    }
}

#[test]
fn ssp_header_names_are_case_insensitive_and_extra_headers_are_accepted() {
    let h = harness();
    let mut r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2");
    r.headers = r
        .headers
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    let r = r.add_header("AdditionalHeader", "anything").send(&h);
    ok_json(&r, 200);
}

#[test]
fn r82_ssp_to_must_be_the_practice_asid() {
    let h = harness();
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .header("Ssp-To", "200000000359")
        .send(&h);
    let v = assert_outcome(&r, 400, "BAD_REQUEST");
    assert!(
        v["issue"][0]["diagnostics"]
            .as_str()
            .is_some_and(|d| d.contains("Ssp-To")),
        "{v}"
    );
    assert_eq!(r.audit.to_asid.as_deref(), Some("200000000359"));
}

#[test]
fn r82_interaction_id_must_match_url() {
    let h = harness();
    for (interaction_id, method, path) in [
        (
            Interaction::ReadPatient.interaction_id(),
            "GET",
            "/Appointment/1",
        ),
        (
            Interaction::ReadAppointment.interaction_id(),
            "GET",
            "/Patient/2",
        ),
        (
            Interaction::AmendAppointment.interaction_id(),
            "POST",
            "/Appointment",
        ),
        (
            Interaction::GetConformance.interaction_id(),
            "GET",
            "/metadata",
        ),
        (
            "urn:nhs:names:services:gpconnect:fhir:rest:read:patient",
            "GET",
            "/Patient/2",
        ),
    ] {
        let r = Req::stu3(Interaction::ReadPatient, method, path)
            .header("Ssp-InteractionID", interaction_id)
            .send(&h);
        assert_outcome(&r, 400, "BAD_REQUEST");
        assert_eq!(r.audit.interaction, None, "{interaction_id}");
        assert_eq!(
            r.audit.requested_interaction.as_deref(),
            Some(interaction_id)
        );
    }
    // The STU3 metadata interaction on the DSTU2 root.
    let r = Req::dstu2(Interaction::GetConformance, "GET", "/metadata")
        .header(
            "Ssp-InteractionID",
            Interaction::GetCapabilityStatement.interaction_id(),
        )
        .send(&h);
    assert_dstu2_outcome(&r, 400, "BAD_REQUEST");
}

// ---------------------------------------------------------------------------
// JWT (§3.3; accessrecord §1.3)

fn claims_for(interaction: Interaction) -> Value {
    TokenSpec::for_interaction(interaction, CONSUMER_ODS, now()).claims()
}

#[test]
fn jwt_missing_malformed_or_not_bearer_is_400() {
    let h = harness();
    let base = Req::stu3(Interaction::GetCapabilityStatement, "GET", "/metadata");
    for value in [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-jwt",
        "Bearer aGVsbG8.d29ybGQ.",
        "Bearer a.b.c.d",
    ] {
        let r = base.clone().header("Authorization", value).send(&h);
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
}

#[test]
fn jwt_exp_minus_iat_must_be_300() {
    let h = harness();
    for lifetime in [299, 301, -1] {
        let mut claims = claims_for(Interaction::GetCapabilityStatement);
        let iat = claims["iat"].as_i64().expect("iat");
        claims["exp"] = json!(iat + lifetime);
        let r = Req::stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
            .token(&unsigned_jwt(&claims))
            .send(&h);
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
}

#[test]
fn jwt_expired_is_400_and_iat_in_the_future_is_accepted() {
    let h = harness();
    let past = TokenSpec::for_interaction(
        Interaction::GetCapabilityStatement,
        CONSUMER_ODS,
        now() - jiff::SignedDuration::from_secs(600),
    );
    let r = Req::stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .token(&unsigned_jwt(&past.claims()))
        .send(&h);
    assert_outcome(&r, 400, "BAD_REQUEST");
    let future = TokenSpec::for_interaction(
        Interaction::GetCapabilityStatement,
        CONSUMER_ODS,
        now() + jiff::SignedDuration::from_secs(200),
    );
    let r = Req::stu3(Interaction::GetCapabilityStatement, "GET", "/metadata")
        .token(&unsigned_jwt(&future.claims()))
        .send(&h);
    ok_json(&r, 200);
    assert!(
        r.audit
            .jwt_notes
            .iter()
            .any(|n| n.contains("IssuedInFuture")),
        "{:?}",
        r.audit.jwt_notes
    );
}

#[test]
fn jwt_scope_must_fit_the_interaction() {
    let h = harness();
    // patient/*.read on register (needs patient/*.write); patient/*.write on A6.
    let mut claims = claims_for(Interaction::RegisterPatient);
    claims["requested_scope"] = json!("patient/*.read");
    let r = Req::stu3(
        Interaction::RegisterPatient,
        "POST",
        "/Patient/$gpc.registerpatient",
    )
    .json(&register_body("9000000017"))
    .token(&unsigned_jwt(&claims))
    .send(&h);
    assert_outcome(&r, 400, "BAD_REQUEST");

    let mut claims = claims_for(Interaction::RetrievePatientAppointments);
    claims["requested_scope"] = json!("patient/*.write");
    let r = Req::stu3(
        Interaction::RetrievePatientAppointments,
        "GET",
        "/Patient/2/Appointment",
    )
    .query("start=ge2026-11-25&start=le2026-12-05")
    .token(&unsigned_jwt(&claims))
    .send(&h);
    assert_outcome(&r, 400, "BAD_REQUEST");

    let mut claims = claims_for(Interaction::ReadPatient);
    claims["requested_scope"] = json!("badScope");
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&unsigned_jwt(&claims))
        .send(&h);
    assert_outcome(&r, 400, "BAD_REQUEST");
}

#[test]
fn jwt_missing_claim_is_400_and_invalid_embedded_resource_is_422() {
    let h = harness();
    let mut claims = claims_for(Interaction::ReadPatient);
    claims["aud"] = Value::Null;
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&unsigned_jwt(&claims))
        .send(&h);
    assert_outcome(&r, 400, "BAD_REQUEST");

    let mut claims = claims_for(Interaction::ReadPatient);
    claims["requesting_device"]["invalidField"] = json!("x");
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&unsigned_jwt(&claims))
        .send(&h);
    assert_outcome(&r, 422, "INVALID_RESOURCE");
}

#[test]
fn jwt_sub_must_equal_the_practitioner_id_unless_strict_sub_is_off() {
    let mut claims = claims_for(Interaction::ReadPatient);
    claims["sub"] = json!("someone-else");
    let token = unsigned_jwt(&claims);
    let h = harness();
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&token)
        .send(&h);
    assert_outcome(&r, 400, "BAD_REQUEST");
    let lenient = harness_with(EngineConfig {
        strict_sub: false,
        ..EngineConfig::new(software())
    });
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .token(&token)
        .send(&lenient);
    ok_json(&r, 200);
    assert!(
        r.audit
            .jwt_notes
            .iter()
            .any(|n| n.contains("SubjectMismatch"))
    );
}

// ---------------------------------------------------------------------------
// Content negotiation (§2.1, §2.2)

#[test]
fn unsupported_accept_or_format_is_415_rendered_in_json() {
    let h = harness();
    let base = Req::stu3(Interaction::GetCapabilityStatement, "GET", "/metadata");
    for r in [
        base.clone().header("Accept", "text/xml").send(&h),
        base.clone().header("Accept", "text/html").send(&h),
        base.clone().query("_format=text%2Fhtml").send(&h),
        base.clone().query("_format=foo").send(&h),
        base.clone()
            .header("Content-Type", "application/xml")
            .send(&h),
        // Negotiation failed, so JSON even though Accept names XML.
        base.clone()
            .header("Accept", "application/fhir+xml")
            .query("_format=foo")
            .send(&h),
    ] {
        assert_outcome(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    }
}

#[test]
fn errors_are_rendered_in_the_negotiated_format() {
    let h = harness();
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/999")
        .header("Accept", "application/fhir+xml")
        .send(&h);
    assert_xml_outcome(&r, 404, "PATIENT_NOT_FOUND");

    // Before negotiation succeeds, the hints still choose XML.
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/patient/2")
        .query("_format=xml")
        .send(&h);
    assert_xml_outcome(&r, 400, "BAD_REQUEST");
}

// ---------------------------------------------------------------------------
// Paths, verbs, practices (§1, §2.1)

#[test]
fn unknown_or_wrongly_cased_paths_are_400_bad_request() {
    let h = harness();
    for (method, path) in [
        ("GET", "/Metadata"),
        ("GET", "/patient/2"),
        ("GET", "/Patient/2/"),
        ("GET", "/Patient/2/_history/1"),
        ("GET", "/HealthcareService/1"),
        ("POST", "/Patient/$gpc.getCareRecord"),
        ("GET", ""),
        ("GET", "/"),
    ] {
        let r = Req::stu3(Interaction::ReadPatient, method, path).send(&h);
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
}

#[test]
fn wrong_verb_on_a_known_path_is_400_bad_request() {
    let h = harness();
    for (method, path) in [
        ("PATCH", "/metadata"),
        ("DELETE", "/metadata"),
        ("OPTIONS", "/metadata"),
        ("HEAD", "/metadata"),
        ("POST", "/Patient/2"),
        ("DELETE", "/Appointment/1"),
        ("get", "/metadata"),
    ] {
        let r = Req::stu3(Interaction::GetCapabilityStatement, method, path).send(&h);
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
}

#[test]
fn r80_an_id_that_cannot_exist_is_404_with_the_resources_code() {
    let h = harness();
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/a_b").send(&h);
    assert_outcome(&r, 404, "PATIENT_NOT_FOUND");
    let r = Req::stu3(Interaction::ReadAppointment, "GET", "/Appointment/").send(&h);
    assert_outcome(&r, 404, "NO_RECORD_FOUND");
}

#[test]
fn unknown_service_root_is_400_bad_request() {
    let h = harness();
    for path in [
        "/metadata",
        "/A00001/stu3/1/gpconnect/metadata",
        "/A00001/STU3/2/gpconnect/metadata",
        "/A00001/STU3/1/GPConnect/metadata",
        "/A00001/R4/1/gpconnect/metadata",
    ] {
        let r = Req::new(Interaction::GetCapabilityStatement, "GET", path).send(&h);
        assert_outcome(&r, 400, "BAD_REQUEST");
        assert_eq!(r.audit.practice_ods, None);
    }
}

#[test]
fn unknown_practice_is_404_organisation_not_found() {
    let h = harness();
    for path in [
        "/B99999/STU3/1/gpconnect/metadata",
        "/a00001/STU3/1/gpconnect/metadata",
        "/A0%30001/STU3/1/gpconnect/metadata",
        "//STU3/1/gpconnect/metadata",
    ] {
        let r = Req::new(Interaction::GetCapabilityStatement, "GET", path).send(&h);
        assert_outcome(&r, 404, "ORGANISATION_NOT_FOUND");
    }
    let r = Req::new(
        Interaction::GetConformance,
        "GET",
        "/B99999/DSTU2/0/gpconnect/metadata",
    )
    .send(&h);
    assert_dstu2_outcome(&r, 404, "ORGANISATION_NOT_FOUND");
}

#[test]
fn a_path_of_the_other_fhir_version_is_400() {
    let h = harness();
    let r = Req::dstu2(Interaction::ReadPatient, "GET", "/Patient/2").send(&h);
    assert_dstu2_outcome(&r, 400, "BAD_REQUEST");
    let r = Req::stu3(
        Interaction::GetCareRecord,
        "POST",
        "/Patient/$gpc.getcarerecord",
    )
    .raw_body("application/json+fhir", &care_record_body())
    .send(&h);
    assert_outcome(&r, 400, "BAD_REQUEST");
}

#[test]
fn malformed_query_is_400_bad_request() {
    let h = harness();
    let r = Req::stu3(Interaction::FindPatient, "GET", "/Patient")
        .query("identifier=%zz")
        .send(&h);
    assert_outcome(&r, 400, "BAD_REQUEST");
}

#[test]
fn a_request_target_with_its_query_is_accepted() {
    let h = harness();
    let r = Req::new(
        Interaction::FindPatient,
        "GET",
        &format!("{STU3_ROOT}/Patient?identifier=https://fhir.nhs.uk/Id/nhs-number%7C9000000009"),
    )
    .send(&h);
    assert_eq!(ok_json(&r, 200)["entry"][0]["resource"]["id"], "2");
}

// ---------------------------------------------------------------------------
// Bodies (§2.1, R8; ARCHITECTURE limits)

#[test]
fn oversized_body_is_413() {
    let h = harness_with(EngineConfig {
        max_body_bytes: 1024,
        ..EngineConfig::new(software())
    });
    let mut body = default_book_body();
    body["comment"] = json!("x".repeat(2000));
    let r = Req::stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .json(&body)
        .send(&h);
    assert_outcome(&r, 413, "BAD_REQUEST");
}

#[test]
fn malformed_json_or_xml_body_is_400() {
    let h = harness();
    for body in [
        &b"{\"resourceType\": \"Appointment\","[..],
        b"",
        b"{\"resourceType\" \"Appointment\"}",
    ] {
        let r = Req::stu3(Interaction::BookAppointment, "POST", "/Appointment")
            .raw_body("application/fhir+json", body)
            .send(&h);
        assert_outcome(&r, 400, "BAD_REQUEST");
    }
    // Without Accept, the error follows the body's Content-Type (§2.2).
    for body in [
        &b"<Appointment xmlns=\"http://hl7.org/fhir\">"[..],
        b"<!DOCTYPE x [<!ENTITY a \"b\">]><Appointment xmlns=\"http://hl7.org/fhir\"/>",
    ] {
        let r = Req::stu3(Interaction::BookAppointment, "POST", "/Appointment")
            .raw_body("application/fhir+xml", body)
            .send(&h);
        assert_xml_outcome(&r, 400, "BAD_REQUEST");
    }
}

#[test]
fn invalid_resource_body_is_422() {
    let h = harness();
    let mut unknown_element = default_book_body();
    unknown_element["unknownElement"] = json!("x");
    let wrong_type = json!({"resourceType": "Patient", "id": "1"});
    let mut reason = default_book_body();
    reason["reason"] = json!([{"text": "not allowed"}]);
    for body in [unknown_element, wrong_type, reason] {
        let r = Req::stu3(Interaction::BookAppointment, "POST", "/Appointment")
            .json(&body)
            .send(&h);
        assert_outcome(&r, 422, "INVALID_RESOURCE");
    }
}

#[test]
fn body_without_a_fhir_content_type_is_415() {
    let h = harness();
    let body = serde_json::to_vec(&default_book_body()).expect("json");
    let r = Req::stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .raw_body("application/json", &body)
        .send(&h);
    assert_outcome(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    let mut r = Req::stu3(Interaction::BookAppointment, "POST", "/Appointment")
        .raw_body("application/fhir+json", &body)
        .without("Content-Type");
    r.body = body;
    assert_outcome(&r.send(&h), 415, "UNSUPPORTED_MEDIA_TYPE");
}

// ---------------------------------------------------------------------------
// Enablement (R83)

fn switched(f: impl FnOnce(&mut gpconnect_core::store::PracticeSettings)) -> Harness {
    let h = harness();
    let mut record = testkit::practice_record();
    f(&mut record.settings);
    h.store
        .import(
            ODS,
            PracticeImport {
                practice: Some(record),
                ..PracticeImport::default()
            },
        )
        .expect("settings");
    h
}

#[test]
fn r83_gp_connect_switched_off_is_403_access_denied() {
    let h = switched(|s| s.gp_connect_enabled = false);
    let r = Req::stu3(Interaction::GetCapabilityStatement, "GET", "/metadata").send(&h);
    assert_outcome(&r, 403, "ACCESS DENIED");
}

#[test]
fn r83_appointments_switched_off_denies_a1_to_a6_only() {
    let h = switched(|s| s.appointments_enabled = false);
    let r = Req::stu3(Interaction::SearchFreeSlots, "GET", "/Slot")
        .query(slot_search_query())
        .send(&h);
    assert_outcome(&r, 403, "ACCESS DENIED");
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2").send(&h);
    ok_json(&r, 200);
}

#[test]
fn r83_access_denied_is_spelled_access_denied_in_1_2_7() {
    let h = harness_with(EngineConfig {
        edition: gpconnect_core::SpecEdition::Appointments127,
        ..EngineConfig::new(software())
    });
    let mut record = testkit::practice_record();
    record.settings.gp_connect_enabled = false;
    h.store
        .import(
            ODS,
            PracticeImport {
                practice: Some(record),
                ..PracticeImport::default()
            },
        )
        .expect("settings");
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2").send(&h);
    assert_outcome(&r, 403, "ACCESS_DENIED");
}

#[test]
fn r83_access_record_switched_off_denies_the_dstu2_endpoints() {
    let h = switched(|s| s.access_record_enabled = false);
    let r = Req::dstu2(Interaction::GetConformance, "GET", "/metadata").send(&h);
    assert_dstu2_outcome(&r, 403, "ACCESS_DENIED");
}

// ---------------------------------------------------------------------------
// Panics, audit, concurrency

/// A PDS adapter with a bug.
#[derive(Debug)]
struct PanickingPds;

impl Pds for PanickingPds {
    fn retrieve(&self, _nhs_number: &str) -> Result<Option<PdsRecord>, PdsError> {
        panic!("PDS adapter bug");
    }
}

#[test]
fn a_panic_in_an_adapter_is_answered_500_with_an_audit_record() {
    let store = Arc::new(testkit::memory_store(now()).expect("practice"));
    let engine = Engine::new(
        store,
        Arc::new(FixedClock::new(now())),
        Arc::new(PanickingPds),
        EngineConfig::new(software()),
    )
    .expect("engine");
    let h = Harness {
        engine,
        store: Arc::new(MemoryStore::new()),
        pds: Arc::new(LocalPds::new()),
    };
    let r = Req::stu3(
        Interaction::RegisterPatient,
        "POST",
        "/Patient/$gpc.registerpatient",
    )
    .json(&register_body("9000000017"))
    .send(&h);
    assert_outcome(&r, 500, "INTERNAL_SERVER_ERROR");
    assert_eq!(
        r.audit.interaction.as_deref(),
        Some(Interaction::RegisterPatient.interaction_id())
    );
    assert_eq!(r.audit.nhs_number.as_deref(), Some("9000000017"));
    let diagnostics = r.audit.diagnostics.as_deref().unwrap_or_default();
    assert!(diagnostics.contains("PDS adapter bug"), "{diagnostics}");
    assert!(
        !String::from_utf8_lossy(&r.body).contains("PDS adapter bug"),
        "the panic message stays out of the answer"
    );
    // The engine still answers afterwards.
    let r = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2").send(&h);
    ok_json(&r, 200);
}

#[test]
fn r84_every_call_is_audited_with_who_what_and_the_outcome() {
    let h = harness();
    let first = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2").send(&h);
    let a = &first.audit;
    assert_eq!(a.received_at, Some(now()));
    assert_eq!(
        a.trace_id.as_deref(),
        Some("09a01679-2564-0fb4-5129-aecc81ea2706")
    );
    assert_eq!(a.from_asid.as_deref(), Some("200000000359"));
    assert_eq!(a.to_asid.as_deref(), Some(ASID));
    assert_eq!(a.practice_ods.as_deref(), Some(ODS));
    assert_eq!(a.requesting_organisation_ods.as_deref(), Some(CONSUMER_ODS));
    assert_eq!(a.requesting_practitioner_id.as_deref(), Some("1"));
    assert_eq!(
        a.requesting_practitioner_sds_user_id.as_deref(),
        Some("111222333444")
    );
    assert_eq!(
        a.requesting_practitioner_role_profile_id.as_deref(),
        Some("444555666777")
    );
    assert_eq!(
        a.requesting_practitioner_name.as_deref(),
        Some("Dr Claire Jones")
    );
    assert!(a.requesting_device.is_some());
    assert_eq!(a.scope.as_deref(), Some("patient/*.read"));
    assert_eq!(a.status, 200);
    assert_eq!(a.method, "GET");
    let line = a.to_json_line();
    assert!(!line.contains('\n'));
    assert!(!line.contains("Bearer"), "the token is never logged");

    // A rejected call is audited too, with what was known.
    let second = Req::stu3(Interaction::ReadPatient, "GET", "/Patient/2")
        .without("Authorization")
        .send(&h);
    let b = &second.audit;
    assert_eq!(b.sequence, a.sequence + 1);
    assert_eq!(b.status, 400);
    assert_eq!(b.spine_code.as_deref(), Some("BAD_REQUEST"));
    assert!(
        b.diagnostics
            .as_deref()
            .is_some_and(|d| d.contains("Authorization"))
    );
    assert_eq!(
        b.trace_id.as_deref(),
        Some("09a01679-2564-0fb4-5129-aecc81ea2706")
    );
    assert_eq!(b.requesting_organisation_ods, None);
}

#[test]
fn r16_concurrent_books_of_one_slot_give_one_201_and_one_409() {
    let h = harness();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2).map(|_| s.spawn(|| book(&h).status)).collect();
        handles
            .into_iter()
            .map(|t| t.join().expect("no panic"))
            .collect()
    });
    let mut sorted = statuses.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, vec![201, 409], "{statuses:?}");
}

// ---------------------------------------------------------------------------
// Robustness

mod fuzz {
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    fn shared() -> &'static Harness {
        static HARNESS: OnceLock<Harness> = OnceLock::new();
        HARNESS.get_or_init(harness)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever arrives, `handle` answers without a panic (caught or
        /// not), with `Cache-Control: no-store`, an error status or success,
        /// and a `Content-Type` whenever there is a body.
        #[test]
        fn handle_never_panics_and_always_says_no_store(
            interaction in prop::sample::select(Interaction::ALL.to_vec()),
            method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "get", ""]),
            root in prop::sample::select(vec![
                STU3_ROOT, DSTU2_ROOT, "/A00001/stu3/1/gpconnect", "/B99999/STU3/1/gpconnect", "",
            ]),
            rel in r"(/(Patient|Appointment|Slot|metadata|Location|\$gpc\.registerpatient|\$gpc\.getcarerecord|[A-Za-z0-9.%_$-]{0,8})){0,3}[?#]?",
            query in r"([a-zA-Z_:%+=&|0-9.-]{0,12}){0,4}",
            accept in prop::sample::select(vec![
                "", "application/fhir+json", "application/fhir+xml", "text/xml", "*/*", "application/xml+fhir;q=0.5",
            ]),
            content_type in prop::sample::select(vec![
                "", "application/fhir+json", "application/fhir+xml", "application/json+fhir", "text/plain",
            ]),
            drop in 0usize..8,
            body in prop::collection::vec(any::<u8>(), 0..96),
            json_body in prop::sample::select(vec![
                String::new(),
                default_book_body().to_string(),
                register_body("9000000017").to_string(),
                String::from_utf8_lossy(&care_record_body()).into_owned(),
                "{\"resourceType\":\"Appointment\",\"id\":\"1\"}".to_owned(),
            ]),
        ) {
            let h = shared();
            let mut req = Req::new(interaction, method, &format!("{root}{rel}")).query(&query);
            if !accept.is_empty() {
                req = req.header("Accept", accept);
            }
            if let Some(name) = SSP_HEADERS.get(drop) {
                req = req.without(name);
            }
            let payload = if json_body.is_empty() { body } else { json_body.into_bytes() };
            if !content_type.is_empty() {
                req = req.raw_body(content_type, &payload);
            } else {
                req.body = payload;
            }
            let r = req.send(h);
            let diagnostics = r.audit.diagnostics.clone().unwrap_or_default();
            prop_assert!(!diagnostics.contains("(panic:"), "{}", diagnostics);
            prop_assert_eq!(r.header("Cache-Control"), Some("no-store"));
            prop_assert!((200..600).contains(&r.status));
            prop_assert_eq!(r.audit.status, r.status);
            prop_assert_eq!(r.audit.spine_code.is_some(), r.status >= 400);
            if !r.body.is_empty() {
                prop_assert!(r.header("Content-Type").is_some());
            }
        }
    }
}
