//! Fixture tests of the DSTU2 (Access Record HTML 0.7.4) model against
//! realistic bodies written from the digest (accessrecord §1.1, §1.4, §1.5,
//! §4): every fixture goes JSON → model → XML → model → JSON and must come
//! back as the same model and the same JSON value; targeted assertions prove
//! the content was read; negative cases prove what the codec refuses.

use std::fmt::Debug;
use std::path::PathBuf;

use gpconnect_core::checks::format::{FhirFormat, FhirVersion};
use gpconnect_core::dstu2::profiles::{
    COMPOSITION_CLASS_CODE, COMPOSITION_PROFILE, COMPOSITION_TITLE, COMPOSITION_TYPE_CODE,
    DEVICE_TYPE_CODE, DEVICE_TYPE_DISPLAY, NHS_NUMBER_SYSTEM, ODS_ORGANIZATION_CODE_SYSTEM,
    OPERATION_DEFINITION_REFERENCE, OPERATION_NAME, PARAM_PATIENT_NHS_NUMBER, PARAM_RECORD_SECTION,
    PARAM_TIME_PERIOD, PATIENT_PROFILE, RECORD_SECTION_SYSTEM, SDS_USER_ID_SYSTEM,
};
use gpconnect_core::dstu2::{
    Bundle, Composition, Conformance, Device, OperationOutcome, Organization, Parameters,
    ParametersParameterValue, Patient, PatientDeceased, PatientMultipleBirth, Practitioner,
    RecordSection, Resource,
};
use gpconnect_core::fhir::datatypes::{ExtensionValue, Reference};
use gpconnect_core::fhir::{
    CodecError, FhirResource, Limits, from_json, from_xml, to_json, to_xml,
};
use gpconnect_core::{Error, SpineCode};
use serde_json::{Value, json};

const XHTML: &str = r#"xmlns="http://www.w3.org/1999/xhtml""#;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/dstu2")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn decode<T: FhirResource>(json: &str) -> Result<T, CodecError> {
    from_json(json.as_bytes(), Limits::REQUEST)
}

fn decode_xml<T: FhirResource>(xml: &str) -> Result<T, CodecError> {
    from_xml(xml.as_bytes(), Limits::REQUEST)
}

/// JSON → model → XML → model → JSON: both models are equal, the JSON is the
/// input's value, and the output decodes to the same model again.
fn round_trip<T: FhirResource + PartialEq + Debug>(json: &str) -> T {
    let model: T = decode(json).unwrap_or_else(|e| panic!("JSON decode: {e}"));
    let xml = to_xml(&model);
    let back: T = decode_xml(&xml).unwrap_or_else(|e| panic!("XML decode: {e}\n{xml}"));
    assert_eq!(back, model, "XML round trip changed the model:\n{xml}");
    let out = to_json(&back);
    let want: Value = serde_json::from_str(json).expect("fixture is JSON");
    let got: Value = serde_json::from_slice(&out).expect("output is JSON");
    assert_eq!(got, want, "JSON round trip changed the value");
    let again: T = from_json(&out, Limits::REQUEST).expect("output decodes");
    assert_eq!(again, model);
    model
}

/// The decode error's path and message, or a panic naming what came back.
fn invalid<T: Debug>(r: Result<T, CodecError>) -> (String, String) {
    match r {
        Err(CodecError::Invalid { path, message }) => (path, message),
        other => panic!("expected CodecError::Invalid, got {other:?}"),
    }
}

fn value_of<'a>(p: &'a Parameters, name: &str) -> &'a ParametersParameterValue {
    let mut it = p.named(name);
    let param = it.next().unwrap_or_else(|| panic!("no parameter {name}"));
    assert!(it.next().is_none(), "{name} repeats");
    param.value.as_ref().expect("parameter has a value")
}

// ---------------------------------------------------------------------------
// Request: Parameters (digest §1.4)

#[test]
fn request_parameters_round_trip_and_carry_nhs_number_section_and_period() {
    let p: Parameters = round_trip(&fixture("parameters_getcarerecord.json"));
    assert_eq!(p.parameter.len(), 3);
    match value_of(&p, PARAM_PATIENT_NHS_NUMBER) {
        ParametersParameterValue::Identifier(id) => {
            assert_eq!(id.system.as_deref(), Some(NHS_NUMBER_SYSTEM));
            assert_eq!(id.value.as_deref(), Some("9658218873"));
        }
        other => panic!("{other:?}"),
    }
    match value_of(&p, PARAM_RECORD_SECTION) {
        ParametersParameterValue::CodeableConcept(cc) => {
            assert_eq!(cc.coding.len(), 1);
            assert_eq!(cc.coding[0].system.as_deref(), Some(RECORD_SECTION_SYSTEM));
            let code = cc.coding[0].code.as_ref().expect("code").as_str();
            assert_eq!(
                RecordSection::from_code(code),
                Some(RecordSection::Encounters)
            );
        }
        other => panic!("{other:?}"),
    }
    match value_of(&p, PARAM_TIME_PERIOD) {
        ParametersParameterValue::Period(period) => {
            assert_eq!(
                period.start.as_ref().map(|d| d.as_str()),
                Some("2014-02-03")
            );
            assert_eq!(period.end.as_ref().map(|d| d.as_str()), Some("2016-01-24"));
        }
        other => panic!("{other:?}"),
    }
    // The same request read as "any resource" is a Parameters.
    let any: Resource = decode(&fixture("parameters_getcarerecord.json")).expect("decodes");
    assert_eq!(any.resource_type(), "Parameters");
    assert_eq!(any, Resource::from(p));
}

#[test]
fn every_section_code_round_trips_with_and_without_a_time_period() {
    let base: Value =
        serde_json::from_str(&fixture("parameters_getcarerecord.json")).expect("JSON");
    for section in RecordSection::ALL {
        for with_period in [true, false] {
            let mut v = base.clone();
            v["parameter"][1]["valueCodeableConcept"]["coding"][0]["code"] = json!(section.code());
            v["parameter"][1]["valueCodeableConcept"]["coding"][0]["display"] =
                json!(section.title());
            v["parameter"][1]["valueCodeableConcept"]["text"] = json!(section.title());
            if !with_period {
                v["parameter"].as_array_mut().expect("array").truncate(2);
            }
            let p: Parameters = round_trip(&v.to_string());
            let ParametersParameterValue::CodeableConcept(cc) = value_of(&p, PARAM_RECORD_SECTION)
            else {
                panic!("recordSection is not a CodeableConcept");
            };
            let code = cc.coding[0].code.as_ref().expect("code").as_str();
            assert_eq!(RecordSection::from_code(code), Some(section));
            assert_eq!(cc.text.as_deref(), Some(section.title()));
            assert_eq!(p.named(PARAM_TIME_PERIOD).count(), usize::from(with_period));
        }
    }
}

#[test]
fn time_period_accepts_every_date_form_of_the_suite() {
    // Digest §1.4 / §5.2: YYYY, YYYY-MM, YYYY-MM-DD and a zoned dateTime, in any combination.
    let forms = ["2014", "2014-02", "2014-10-05", "2015-10-23T11:08:32+00:00"];
    let base: Value =
        serde_json::from_str(&fixture("parameters_getcarerecord.json")).expect("JSON");
    let mut periods = Vec::new();
    for start in forms {
        for end in forms {
            periods.push(json!({"start": start, "end": end}));
        }
        periods.push(json!({ "start": start }));
        periods.push(json!({ "end": start }));
    }
    for period in periods {
        let mut v = base.clone();
        v["parameter"][2]["valuePeriod"] = period.clone();
        let p: Parameters = round_trip(&v.to_string());
        let ParametersParameterValue::Period(got) = value_of(&p, PARAM_TIME_PERIOD) else {
            panic!("timePeriod is not a Period");
        };
        assert_eq!(
            got.start.as_ref().map(|d| d.as_str()),
            period["start"].as_str()
        );
        assert_eq!(got.end.as_ref().map(|d| d.as_str()), period["end"].as_str());
    }
}

#[test]
fn time_period_without_a_zone_or_garbage_is_invalid_at_its_path() {
    // Digest §1.4: a dateTime without an offset, or `abcd`, is refused; the
    // operation maps this path to 422 INVALID_PARAMETER.
    for bad in ["2015-10-23T11:08:32", "abcd", "2016-02-30"] {
        let json = fixture("parameters_getcarerecord.json")
            .replace(r#""start": "2014-02-03""#, &format!(r#""start": "{bad}""#));
        let (path, message) = invalid(decode::<Parameters>(&json));
        assert_eq!(path, "Parameters.parameter[2].valuePeriod.start", "{bad}");
        assert!(message.contains("dateTime"), "{bad}: {message}");

        let xml = format!(
            r#"<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="timePeriod"/><valuePeriod><start value="{bad}"/></valuePeriod></parameter></Parameters>"#
        );
        let (path, _) = invalid(decode_xml::<Parameters>(&xml));
        assert_eq!(path, "Parameters.parameter[0].valuePeriod.start", "{bad}");
    }
}

#[test]
fn hand_written_xml_request_reads_like_its_json() {
    let from_json_model: Parameters = round_trip(&fixture("parameters_summary.json"));
    let from_xml_model: Parameters =
        decode_xml(&fixture("parameters_summary.xml")).expect("XML decodes");
    assert_eq!(from_xml_model, from_json_model);
    // Parameter order is kept as sent (the suite sends them in any order).
    assert_eq!(from_xml_model.parameter[0].name, PARAM_RECORD_SECTION);
    assert_eq!(from_xml_model.parameter[1].name, PARAM_PATIENT_NHS_NUMBER);
}

#[test]
fn unknown_parameter_elements_are_invalid_with_their_path() {
    let json = fixture("parameters_getcarerecord.json").replace(
        r#""name": "recordSection","#,
        r#""name": "recordSection", "valueSet": "x","#,
    );
    let (path, message) = invalid(decode::<Parameters>(&json));
    assert_eq!(path, "Parameters.parameter[1]");
    assert!(message.contains("unknown element 'valueSet'"), "{message}");

    // A value type the model does not carry is unknown too.
    let json = fixture("parameters_getcarerecord.json").replace(
        r#""valuePeriod": {"#,
        r#""valueDecimal": 1.5, "valuePeriod": {"#,
    );
    let (path, message) = invalid(decode::<Parameters>(&json));
    assert_eq!(path, "Parameters.parameter[2]");
    assert!(
        message.contains("unknown element 'valueDecimal'"),
        "{message}"
    );

    // Two value[x] on one parameter.
    let json = fixture("parameters_getcarerecord.json").replace(
        r#""name": "timePeriod","#,
        r#""name": "timePeriod", "valueString": "2014","#,
    );
    let (path, message) = invalid(decode::<Parameters>(&json));
    assert_eq!(path, "Parameters.parameter[2]");
    assert!(message.contains("more than one choice"), "{message}");

    // DSTU2 Parameters is a plain Resource: no narrative or extensions at its root.
    for key in ["text", "extension", "contained"] {
        let json = fixture("parameters_getcarerecord.json").replace(
            r#""resourceType": "Parameters","#,
            &format!(r#""resourceType": "Parameters", "{key}": [],"#),
        );
        let (path, message) = invalid(decode::<Parameters>(&json));
        assert_eq!(path, "Parameters", "{key}");
        assert!(
            message.contains(&format!("unknown element '{key}'")),
            "{message}"
        );
    }

    let xml = r#"<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="recordSection"/><valueSet value="x"/></parameter></Parameters>"#;
    let (path, message) = invalid(decode_xml::<Parameters>(xml));
    assert_eq!(path, "Parameters.parameter[0]");
    assert!(message.contains("unknown element 'valueSet'"), "{message}");
}

#[test]
fn a_body_that_is_not_parameters_is_invalid() {
    // Digest §4: a body that is not a Parameters resource → 422 INVALID_RESOURCE.
    let (path, message) = invalid(decode::<Parameters>(&fixture(
        "operation_outcome_patient_not_found.json",
    )));
    assert_eq!(path, "Parameters");
    assert!(message.contains("resourceType"), "{message}");
    let e = Error::from(CodecError::Invalid { path, message });
    assert_eq!(e.code(), SpineCode::InvalidResource);
    assert_eq!(e.status(), 422);
}

// ---------------------------------------------------------------------------
// Response: the getcarerecord Bundle (digest §1.5)

fn bundle() -> Bundle {
    round_trip(&fixture("bundle_getcarerecord.json"))
}

fn resource_at(b: &Bundle, i: usize) -> &Resource {
    b.entry[i].resource.as_ref().expect("entry has a resource")
}

fn composition(b: &Bundle) -> &Composition {
    match resource_at(b, 0) {
        Resource::Composition(c) => c,
        other => panic!("first entry is a {}", other.resource_type()),
    }
}

fn only<'a, T>(b: &'a Bundle, pick: impl Fn(&'a Resource) -> Option<&'a T>) -> &'a T {
    let mut found = b.resources().filter_map(pick);
    let first = found.next().expect("present");
    assert!(found.next().is_none(), "exactly one");
    first
}

fn patient(b: &Bundle) -> &Patient {
    only(b, |r| match r {
        Resource::Patient(p) => Some(&**p),
        _ => None,
    })
}

#[test]
fn care_record_bundle_round_trips_with_the_composition_first() {
    let b = bundle();
    assert_eq!(b.type_.as_str(), "searchset");
    assert_eq!(b.entry.len(), 5);
    let kinds: Vec<_> = b.resources().map(Resource::resource_type).collect();
    assert_eq!(
        kinds,
        [
            "Composition",
            "Patient",
            "Practitioner",
            "Organization",
            "Device"
        ]
    );
    // Read as "any resource" it is the same Bundle.
    let any: Resource = decode(&fixture("bundle_getcarerecord.json")).expect("decodes");
    assert_eq!(any, Resource::from(b));
}

#[test]
fn composition_carries_the_section_code_title_and_html() {
    let b = bundle();
    let c = composition(&b);
    let meta = c.meta.as_ref().expect("meta");
    assert_eq!(meta.profile, [COMPOSITION_PROFILE]);
    assert_eq!(c.title, COMPOSITION_TITLE);
    assert_eq!(c.status.as_str(), "final");
    assert_eq!(c.date.as_str(), "2024-03-14T10:15:30+00:00");
    let ty = c.type_.as_ref().expect("type");
    assert_eq!(
        ty.coding[0].code.as_ref().map(|c| c.as_str()),
        Some(COMPOSITION_TYPE_CODE)
    );
    let class = c.class_.as_ref().expect("class");
    assert_eq!(
        class.coding[0].code.as_ref().map(|c| c.as_str()),
        Some(COMPOSITION_CLASS_CODE)
    );

    assert_eq!(c.section.len(), 1);
    let s = &c.section[0];
    let section = RecordSection::Encounters;
    assert_eq!(s.title.as_deref(), Some(section.title()));
    let code = s.code.as_ref().expect("section code");
    assert_eq!(
        code.coding[0].system.as_deref(),
        Some(RECORD_SECTION_SYSTEM)
    );
    assert_eq!(
        code.coding[0].code.as_ref().map(|c| c.as_str()),
        Some(section.code())
    );
    assert_eq!(code.coding[0].display.as_deref(), Some(section.title()));
    assert_eq!(code.text.as_deref(), Some(section.title()));

    let text = s.text.as_ref().expect("section text");
    assert_eq!(text.status.as_str(), "generated");
    let div = text.div.as_str();
    assert!(
        div.starts_with(&format!("<div {XHTML}><h1>Encounters</h1>")),
        "{div}"
    );
    assert!(div.contains(
        r#"<table id="enc-tab"><thead><tr><th>Date</th><th>Title</th><th>Details</th></tr></thead>"#
    ));
    assert!(div.contains(r#"<td class="date-column">07-Jul-2015</td>"#));
    assert!(div.contains("inhaler technique checked &amp; peak flow"));
    assert!(div.contains("<br/>"));
    // Digest §5.1 item 9: no newlines or tabs anywhere in the div.
    assert!(!div.contains(['\n', '\r', '\t']));
    // The XML carries the same markup verbatim, inside <text> after <status>.
    let xml = to_xml(&b);
    assert!(
        xml.contains(&format!(r#"<text><status value="generated"/>{div}</text>"#)),
        "{xml}"
    );
}

#[test]
fn every_reference_in_the_bundle_resolves_to_an_entry_full_url() {
    let b = bundle();
    let c = composition(&b);
    let p = patient(&b);
    let pr = only(&b, |r| match r {
        Resource::Practitioner(x) => Some(&**x),
        _ => None,
    });
    let d = only(&b, |r| match r {
        Resource::Device(x) => Some(&**x),
        _ => None,
    });
    let expect = |r: Option<&Reference>, kind: &str| {
        let target = r
            .and_then(|r| r.reference.as_deref())
            .unwrap_or_else(|| panic!("missing {kind} reference"));
        let entry = b
            .resolve(target)
            .unwrap_or_else(|| panic!("{target} is no entry's fullUrl"));
        let res = entry.resource.as_ref().expect("resource");
        assert_eq!(res.resource_type(), kind, "{target}");
    };
    expect(Some(&c.subject), "Patient");
    expect(c.author.first(), "Device");
    expect(c.custodian.as_ref(), "Organization");
    expect(p.care_provider.first(), "Practitioner");
    expect(p.managing_organization.as_ref(), "Organization");
    expect(
        pr.practitioner_role[0].managing_organization.as_ref(),
        "Organization",
    );
    expect(d.owner.as_ref(), "Organization");
    // Each entry's fullUrl is its type and id.
    for e in &b.entry {
        let r = e.resource.as_ref().expect("resource");
        let id = match r {
            Resource::Composition(x) => x.id.as_ref(),
            Resource::Patient(x) => x.id.as_ref(),
            Resource::Practitioner(x) => x.id.as_ref(),
            Resource::Organization(x) => x.id.as_ref(),
            Resource::Device(x) => x.id.as_ref(),
            other => panic!("unexpected {}", other.resource_type()),
        }
        .expect("id");
        assert_eq!(
            e.full_url.as_deref(),
            Some(format!("{}/{}", r.resource_type(), id.as_str()).as_str())
        );
    }
    assert!(b.resolve("Patient/2").is_none());
}

#[test]
fn patient_practitioner_organization_and_device_content_is_read() {
    let b = bundle();
    let p = patient(&b);
    assert_eq!(p.meta.as_ref().expect("meta").profile, [PATIENT_PROFILE]);
    assert_eq!(
        p.meta
            .as_ref()
            .and_then(|m| m.version_id.as_ref())
            .map(|v| v.as_str()),
        Some("1521806400000")
    );
    assert_eq!(p.identifier.len(), 1);
    assert_eq!(p.identifier[0].system.as_deref(), Some(NHS_NUMBER_SYSTEM));
    assert_eq!(p.identifier[0].value.as_deref(), Some("9658220290"));
    assert_eq!(p.name[0].family, ["Bisset"]);
    assert_eq!(p.name[0].given, ["Dan"]);
    assert_eq!(p.name[0].prefix, ["Mr"]);
    assert_eq!(p.gender.as_ref().map(|g| g.as_str()), Some("male"));
    assert_eq!(
        p.birth_date.as_ref().map(|d| d.as_str()),
        Some("1934-11-02")
    );
    match &p.deceased {
        Some(PatientDeceased::DateTime(d)) => assert_eq!(d.as_str(), "2024-03-01T09:30:00+00:00"),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.multiple_birth, Some(PatientMultipleBirth::Boolean(false)));
    assert_eq!(p.contact[0].name.as_ref().expect("name").given, ["Ann"]);
    assert_eq!(p.communication[0].preferred, Some(true));
    match &p.extension[0].value {
        Some(ExtensionValue::Period(period)) => {
            assert_eq!(
                period.start.as_ref().map(|d| d.as_str()),
                Some("1962-07-13T00:00:00+01:00")
            );
        }
        other => panic!("{other:?}"),
    }

    let pr: &Practitioner = only(&b, |r| match r {
        Resource::Practitioner(x) => Some(&**x),
        _ => None,
    });
    let sds: Vec<_> = pr
        .identifier
        .iter()
        .filter(|i| i.system.as_deref() == Some(SDS_USER_ID_SYSTEM))
        .collect();
    assert_eq!(sds.len(), 1);
    assert_eq!(sds[0].value.as_deref(), Some("G13579135"));
    assert_eq!(pr.name.as_ref().expect("name").family, ["Gilbert"]);
    let role = pr.practitioner_role[0].role.as_ref().expect("role");
    assert_eq!(
        role.coding[0].code.as_ref().map(|c| c.as_str()),
        Some("R0260")
    );
    assert_eq!(
        role.coding[0].display.as_deref(),
        Some("General Medical Practitioner")
    );

    let o: &Organization = only(&b, |r| match r {
        Resource::Organization(x) => Some(&**x),
        _ => None,
    });
    assert_eq!(
        o.identifier[0].system.as_deref(),
        Some(ODS_ORGANIZATION_CODE_SYSTEM)
    );
    assert_eq!(o.identifier[0].value.as_deref(), Some("A20047"));
    assert_eq!(o.name.as_deref(), Some("Bridge Street Surgery"));

    let d: &Device = only(&b, |r| match r {
        Resource::Device(x) => Some(&**x),
        _ => None,
    });
    assert_eq!(
        d.type_.coding[0].code.as_ref().map(|c| c.as_str()),
        Some(DEVICE_TYPE_CODE)
    );
    assert_eq!(
        d.type_.coding[0].display.as_deref(),
        Some(DEVICE_TYPE_DISPLAY)
    );
    assert_eq!(d.note[0].text, "Generated the care record section");
    assert_eq!(d.version.as_deref(), Some("0.1.0"));
}

/// Positions of `needles` in `hay`, asserting each is present and that they
/// appear in the given order.
fn assert_in_order(hay: &str, needles: &[&str]) {
    let mut last = 0;
    for n in needles {
        let at = hay[last..]
            .find(n)
            .unwrap_or_else(|| panic!("{n} missing or out of order in\n{hay}"));
        last += at + n.len();
    }
}

fn xml_of(b: &Bundle, kind: &str) -> String {
    let r = b
        .resources()
        .find(|r| r.resource_type() == kind)
        .expect("present");
    match r {
        Resource::Composition(x) => to_xml(&**x),
        Resource::Patient(x) => to_xml(&**x),
        Resource::Practitioner(x) => to_xml(&**x),
        Resource::Organization(x) => to_xml(&**x),
        Resource::Device(x) => to_xml(&**x),
        other => panic!("unexpected {}", other.resource_type()),
    }
}

#[test]
fn xml_is_written_in_dstu2_schema_order() {
    let b = bundle();
    let xml = to_xml(&b);
    assert!(xml.starts_with(r#"<Bundle xmlns="http://hl7.org/fhir"><id value="48b4dc58-9c04-470d-a819-16fbb433daf9"/><meta>"#), "{xml}");
    assert_in_order(
        &xml,
        &[
            "<meta>",
            r#"<type value="searchset"/>"#,
            "<entry>",
            r#"<fullUrl value="Composition/77bf75df-3853-4b47-ab53-5edce53f8ee6"/>"#,
            "<resource><Composition>",
        ],
    );
    assert_in_order(
        &xml_of(&b, "Composition"),
        &[
            "<id ",
            "<meta>",
            "<date ",
            "<type>",
            "<class>",
            "<title ",
            "<status ",
            "<subject>",
            "<author>",
            "<custodian>",
            "<section>",
            "<title ",
            "<code>",
            "<text>",
        ],
    );
    assert_in_order(
        &xml_of(&b, "Patient"),
        &[
            "<id ",
            "<meta><versionId ",
            "<profile ",
            "<extension url=",
            "<identifier>",
            "<active ",
            "<name><use ",
            "<text ",
            "<family ",
            "<given ",
            "<prefix ",
            "<telecom>",
            "<gender ",
            "<birthDate ",
            "<deceasedDateTime ",
            "<address>",
            "<maritalStatus>",
            "<multipleBirthBoolean ",
            "<contact><relationship>",
            "<name>",
            "<telecom>",
            "<communication><language>",
            "<preferred ",
            "<careProvider>",
            "<managingOrganization>",
        ],
    );
    assert_in_order(
        &xml_of(&b, "Practitioner"),
        &[
            "<identifier>",
            "<name>",
            "<gender ",
            "<practitionerRole><managingOrganization>",
            "<role>",
            "<communication>",
        ],
    );
    assert_in_order(
        &xml_of(&b, "Organization"),
        &["<identifier>", "<name ", "<telecom>", "<address>"],
    );
    assert_in_order(
        &xml_of(&b, "Device"),
        &[
            "<identifier>",
            "<type>",
            "<note><text ",
            "<manufacturer ",
            "<model ",
            "<version ",
            "<owner>",
        ],
    );
}

// ---------------------------------------------------------------------------
// Conformance (digest §1.1) and OperationOutcome (§4)

#[test]
fn conformance_lists_the_operation_and_both_formats() {
    let c: Conformance = round_trip(&fixture("conformance.json"));
    assert_eq!(c.fhir_version.as_str(), FhirVersion::Dstu2.fhir_release());
    assert_eq!(c.version.as_deref(), Some("0.7.4"));
    let formats: Vec<_> = c.format.iter().map(|f| f.as_str()).collect();
    assert_eq!(
        formats,
        [
            FhirFormat::Xml.mime_type(FhirVersion::Dstu2),
            FhirFormat::Json.mime_type(FhirVersion::Dstu2),
        ]
    );
    assert_eq!(c.rest.len(), 1);
    assert_eq!(c.rest[0].mode.as_str(), "server");
    let op = &c.rest[0].operation[0];
    assert_eq!(op.name, OPERATION_NAME);
    assert_eq!(
        op.definition.reference.as_deref(),
        Some(OPERATION_DEFINITION_REFERENCE)
    );
    assert_eq!(c.profile.len(), 8);
    let xml = to_xml(&c);
    assert_in_order(
        &xml,
        &[
            "<version ",
            "<name ",
            "<status ",
            "<experimental ",
            "<publisher ",
            "<contact>",
            "<date ",
            "<description ",
            "<copyright ",
            "<kind ",
            "<software>",
            "<implementation>",
            "<fhirVersion ",
            "<acceptUnknown ",
            "<format ",
            "<profile>",
            "<rest><mode ",
            "<security><cors ",
            "<operation><name ",
            "<definition>",
        ],
    );
}

#[test]
fn operation_outcome_fixture_is_what_the_error_mapping_produces() {
    let oo: OperationOutcome = round_trip(&fixture("operation_outcome_patient_not_found.json"));
    let mapped = Error::new(
        SpineCode::PatientNotFound,
        "No patient record for NHS number 9658220142",
    )
    .to_operation_outcome_dstu2();
    assert_eq!(mapped, oo);
    let issue = &oo.issue[0];
    assert_eq!(issue.severity.as_str(), "error");
    assert_eq!(issue.code.as_str(), "not-found");
    let coding = &issue.details.as_ref().expect("details").coding[0];
    assert_eq!(
        coding.code.as_ref().map(|c| c.as_str()),
        Some("PATIENT_NOT_FOUND")
    );
    assert!(!coding.display.as_deref().unwrap_or_default().is_empty());
}

// ---------------------------------------------------------------------------
// What the codec refuses

#[test]
fn forbidden_patient_elements_are_invalid_with_their_exact_path() {
    // Digest §1.5: never photo, animal or link (gpconnect-patient-1).
    let photo = r#""photo": [{"contentType": "image/png", "data": "iVBORw0KGgo="}],"#;
    let json = fixture("bundle_getcarerecord.json").replace(
        r#""gender": "male","#,
        &format!("{photo} \"gender\": \"male\","),
    );
    let (path, message) = invalid(decode::<Bundle>(&json));
    assert_eq!(path, "Bundle.entry[1].resource");
    assert_eq!(message, "unknown element 'photo'");

    let bundle_xml = to_xml(&bundle()).replacen(
        r#"<gender value="male"/>"#,
        r#"<photo><contentType value="image/png"/></photo><gender value="male"/>"#,
        1,
    );
    let (path, message) = invalid(decode_xml::<Bundle>(&bundle_xml));
    assert_eq!(path, "Bundle.entry[1].resource.Patient");
    assert_eq!(message, "unknown element 'photo'");

    for (key, value) in [
        ("photo", r#"[{"contentType": "image/png"}]"#),
        ("animal", r#"{"species": {"text": "Dog"}}"#),
        (
            "link",
            r#"[{"other": {"reference": "Patient/3"}, "type": "seealso"}]"#,
        ),
    ] {
        let json = format!(r#"{{"resourceType": "Patient", "id": "18", "{key}": {value}}}"#);
        let (path, message) = invalid(decode::<Patient>(&json));
        assert_eq!(path, "Patient", "{key}");
        assert_eq!(message, format!("unknown element '{key}'"));
        let (path, _) = invalid(decode::<Resource>(&json));
        assert_eq!(path, "Patient", "{key}");
    }
    let xml = r#"<Patient xmlns="http://hl7.org/fhir"><id value="18"/><animal><species><text value="Dog"/></species></animal></Patient>"#;
    let (path, message) = invalid(decode_xml::<Patient>(xml));
    assert_eq!(path, "Patient");
    assert_eq!(message, "unknown element 'animal'");
}

#[test]
fn elements_other_profiles_forbid_are_invalid() {
    for (rt, key, value) in [
        ("Practitioner", "photo", r#"[{"contentType": "image/png"}]"#),
        (
            "Practitioner",
            "qualification",
            r#"[{"code": {"text": "MRCGP"}}]"#,
        ),
        ("Device", "status", r#""available""#),
        ("Device", "udi", r#""(01)00123""#),
        ("Device", "lotNumber", r#""L1""#),
        ("Device", "url", r#""https://example.invalid""#),
        ("Device", "patient", r#"{"reference": "Patient/18"}"#),
        (
            "Device",
            "contact",
            r#"[{"system": "phone", "value": "1"}]"#,
        ),
        ("Composition", "identifier", r#"{"value": "1"}"#),
        ("Bundle", "signature", r#"{"when": "2024-01-01T00:00:00Z"}"#),
        ("Conformance", "messaging", r#"[{"documentation": "x"}]"#),
    ] {
        let json = format!(r#"{{"resourceType": "{rt}", "{key}": {value}}}"#);
        let (path, message) = invalid(decode::<Resource>(&json));
        assert_eq!(path, rt, "{rt}.{key}");
        assert_eq!(message, format!("unknown element '{key}'"), "{rt}.{key}");
    }
}

#[test]
fn a_section_div_with_script_is_rejected() {
    let good = "<h1>Encounters</h1>";
    for evil in [
        "<h1>Encounters</h1><script>alert(1)</script>",
        r#"<h1 onclick="alert(1)">Encounters</h1>"#,
        "<h1>Encounters</h1><iframe src=\"https://example.invalid\"></iframe>",
        "<h1>Encounters&nbsp;</h1>",
    ] {
        let json = fixture("bundle_getcarerecord.json").replace(good, &evil.replace('"', "\\\""));
        let (path, message) = invalid(decode::<Bundle>(&json));
        assert_eq!(
            path, "Bundle.entry[0].resource.section[0].text.div",
            "{evil}"
        );
        assert!(!message.is_empty());

        let xml = to_xml(&bundle()).replace(good, evil);
        let (path, _) = invalid(decode_xml::<Bundle>(&xml));
        assert_eq!(
            path, "Bundle.entry[0].resource.Composition.section[0].text.div",
            "{evil}"
        );
    }
}

#[test]
fn a_div_without_the_xhtml_namespace_is_rejected() {
    // DSTU2-era producers (the spec's sample, the demonstrator) often omit
    // xmlns on the div; this codec requires it, so our renderer must emit it.
    let json = fixture("bundle_getcarerecord.json").replace(
        r#"<div xmlns=\"http://www.w3.org/1999/xhtml\"><h1>"#,
        "<div><h1>",
    );
    let (path, message) = invalid(decode::<Bundle>(&json));
    assert_eq!(path, "Bundle.entry[0].resource.section[0].text.div");
    assert!(message.contains("xmlns"), "{message}");
}

#[test]
fn an_unsupported_resource_in_an_entry_is_invalid() {
    let json = fixture("bundle_getcarerecord.json").replacen(
        r#""resourceType": "Device""#,
        r#""resourceType": "Appointment""#,
        1,
    );
    let (path, message) = invalid(decode::<Bundle>(&json));
    assert_eq!(path, "Bundle.entry[4].resource");
    assert!(message.contains("unsupported resourceType"), "{message}");
    assert!(message.contains("Appointment"), "{message}");
}

#[test]
fn dstu2_names_repeat_family_and_reject_the_stu3_shape() {
    // STU3 writes `family` as a string; DSTU2 as an array (digest §1.3, §1.5).
    let json = r#"{"resourceType": "Practitioner", "name": {"family": "Gilbert"}}"#;
    let (path, message) = invalid(decode::<Practitioner>(json));
    assert_eq!(path, "Practitioner.name.family");
    assert!(message.contains("array"), "{message}");
    let json = r#"{"resourceType": "Practitioner", "name": {"family": ["Gilbert", "Smith"]}}"#;
    let p: Practitioner = round_trip(json);
    assert_eq!(p.name.expect("name").family, ["Gilbert", "Smith"]);
}

#[test]
fn device_type_and_composition_core_elements_are_required() {
    let (_, message) = invalid(decode::<Device>(r#"{"resourceType": "Device"}"#));
    assert!(
        message.contains("missing required element 'type'"),
        "{message}"
    );
    let json = r#"{"resourceType": "Composition", "date": "2024-03-14T10:15:30+00:00", "title": "Patient Care Record", "status": "final"}"#;
    let (_, message) = invalid(decode::<Composition>(json));
    assert!(
        message.contains("missing required element 'subject'"),
        "{message}"
    );
}
