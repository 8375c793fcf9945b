//! Codec tests over a small model declared with the same macros.

use super::datatypes::{Extension, HumanNameForTest, Identifier, Meta, Narrative, Reference};
use super::primitive::{Code, Date, Id};
use super::{CodecError, Limits, from_json, from_xml, to_json, to_xml};

fhir_resource! {
    /// A cut-down Patient.
    pub struct TestPatient ("TestPatient") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        text: opt Narrative = "text",
        contained: vec TestResource = "contained",
        extension: vec Extension = "extension",
        identifier: vec Identifier = "identifier",
        active: opt bool = "active",
        name: vec HumanNameForTest = "name",
        gender: opt Code = "gender",
        birth_date: opt Date = "birthDate",
        managing_organization: opt Reference = "managingOrganization",
    }
}

fhir_resource! {
    /// A cut-down Organization.
    pub struct TestOrganization ("TestOrganization") {
        id: opt Id = "id",
        name: opt String = "name",
    }
}

fhir_resource_enum! {
    /// Both.
    pub enum TestResource { TestPatient, TestOrganization }
}

const PATIENT: &str = r##"{
  "resourceType": "TestPatient",
  "id": "2",
  "meta": {"versionId": "1469444400000", "profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1"]},
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>Jo &amp; co</p></div>"},
  "contained": [{"resourceType": "TestOrganization", "id": "1", "name": "Test <Org>"}],
  "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9476719931",
     "extension": [{"url": "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSNumberVerificationStatus-1",
        "valueCodeableConcept": {"coding": [{"system": "https://fhir.nhs.uk/CareConnect-NHSNumberVerificationStatus-1", "code": "01", "display": "Number present and verified"}]}}]}],
  "active": true,
  "name": [{"use": "official", "family": "Dawes", "given": ["Minnie", "Jo"], "_given": [null, {"id": "g2", "extension": [{"url": "http://example.org/x", "valueString": "a\nb\"c"}]}]}],
  "gender": "female",
  "birthDate": "1952-05-31",
  "_birthDate": {"extension": [{"url": "http://example.org/t", "valueDateTime": "1952-05-31T10:00:00+01:00"}]},
  "managingOrganization": {"reference": "#1"}
}"##;

fn parse(s: &str) -> Result<TestPatient, CodecError> {
    from_json::<TestPatient>(s.as_bytes(), Limits::REQUEST)
}

#[test]
fn json_round_trips_through_xml_unchanged() {
    let p = parse(PATIENT).unwrap();
    assert_eq!(p.name[0].given, vec!["Minnie".to_owned(), "Jo".to_owned()]);
    let ext = p.name[0]
        .primitive_extensions
        .get("given", Some(1))
        .unwrap();
    assert_eq!(ext.id.as_deref(), Some("g2"));
    let xml = to_xml(&p);
    let back: TestPatient = from_xml(xml.as_bytes(), Limits::REQUEST).unwrap();
    assert_eq!(back, p, "{xml}");
    let json = to_json(&back);
    let again = parse(std::str::from_utf8(&json).unwrap()).unwrap();
    assert_eq!(again, p);
    let a: serde_json::Value = serde_json::from_str(PATIENT).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(a, b);
}

#[test]
fn xml_is_written_in_schema_order_with_the_fhir_namespace() {
    let p = parse(PATIENT).unwrap();
    let xml = to_xml(&p);
    assert!(
        xml.starts_with(r#"<TestPatient xmlns="http://hl7.org/fhir"><id value="2"/><meta>"#),
        "{xml}"
    );
    let i_ident = xml.find("<identifier>").unwrap();
    let i_name = xml.find("<name>").unwrap();
    let i_birth = xml.find("<birthDate").unwrap();
    assert!(i_ident < i_name && i_name < i_birth);
    assert!(xml.contains(r#"<contained><TestOrganization><id value="1"/><name value="Test &lt;Org&gt;"/></TestOrganization></contained>"#), "{xml}");
    assert!(xml.contains(r#"<given id="g2" value="Jo"><extension url="http://example.org/x"><valueString value="a&#xA;b&quot;c"/></extension></given>"#), "{xml}");
}

#[test]
fn r8_unknown_element_is_invalid_with_its_path() {
    let bad = PATIENT.replace(
        r#""family": "Dawes""#,
        r#""family": "Dawes", "nickname": "x""#,
    );
    match parse(&bad) {
        Err(CodecError::Invalid { path, message }) => {
            assert_eq!(path, "TestPatient.name[0]");
            assert!(message.contains("unknown element 'nickname'"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_xml_element_is_invalid_with_its_path() {
    let xml = r#"<TestPatient xmlns="http://hl7.org/fhir"><name><family value="x"/><nickname value="y"/></name></TestPatient>"#;
    match from_xml::<TestPatient>(xml.as_bytes(), Limits::REQUEST) {
        Err(CodecError::Invalid { path, message }) => {
            assert_eq!(path, "TestPatient.name[0]");
            assert!(message.contains("nickname"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_json_is_malformed_not_invalid() {
    for s in [
        "",
        "{",
        r#"{"resourceType": "TestPatient""#,
        "[1,2]x",
        "\u{0}",
    ] {
        match parse(s) {
            Err(CodecError::Malformed(_)) => {}
            Err(CodecError::Invalid { .. }) if s == "[1,2]x" => {}
            other => panic!("{s:?}: {other:?}"),
        }
    }
}

#[test]
fn wrong_types_and_values_are_invalid() {
    for (from, to, path) in [
        (
            r#""active": true"#,
            r#""active": "true""#,
            "TestPatient.active",
        ),
        (
            r#""gender": "female""#,
            r#""gender": " female""#,
            "TestPatient.gender",
        ),
        (r#""id": "2""#, r#""id": "2/3""#, "TestPatient.id"),
        (
            r#""birthDate": "1952-05-31""#,
            r#""birthDate": null"#,
            "TestPatient.birthDate",
        ),
    ] {
        let bad = PATIENT.replace(from, to);
        match parse(&bad) {
            Err(CodecError::Invalid { path: p, .. }) => assert_eq!(p, path, "{to}"),
            other => panic!("{to}: {other:?}"),
        }
    }
}

#[test]
fn wrong_resource_type_and_duplicates_are_invalid() {
    assert!(matches!(
        parse(&PATIENT.replace(
            r#""resourceType": "TestPatient""#,
            r#""resourceType": "Basic""#
        )),
        Err(CodecError::Invalid { .. })
    ));
    assert!(matches!(
        parse(&PATIENT.replace(
            r#""gender": "female""#,
            r#""gender": "female", "gender": "male""#
        )),
        Err(CodecError::Invalid { .. })
    ));
    assert!(matches!(
        parse(r#"{"id": "1"}"#),
        Err(CodecError::Invalid { .. })
    ));
}

#[test]
fn resource_type_need_not_come_first_in_contained() {
    let s = PATIENT.replace(
        r#"{"resourceType": "TestOrganization", "id": "1", "name": "Test <Org>"}"#,
        r#"{"id": "1", "name": "Test <Org>", "resourceType": "TestOrganization"}"#,
    );
    let p = parse(&s).unwrap();
    assert_eq!(p, parse(PATIENT).unwrap());
    assert_eq!(p.contained[0].resource_type(), "TestOrganization");
}

#[test]
fn hostile_narrative_is_rejected() {
    let s = PATIENT.replace("<p>Jo &amp; co</p>", "<script>alert(1)</script>");
    assert!(matches!(parse(&s), Err(CodecError::Invalid { .. })));
}

#[test]
fn oversized_bodies_and_strings_are_refused() {
    let big = format!(
        r#"{{"resourceType":"TestOrganization","name":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let r = from_json::<TestOrganization>(big.as_bytes(), Limits::REQUEST);
    assert!(matches!(r, Err(CodecError::Invalid { .. })), "{r:?}");
    let r = from_json::<TestOrganization>(big.as_bytes(), Limits { max_bytes: 1024 });
    assert!(matches!(r, Err(CodecError::TooLarge { .. })));
}

#[test]
fn deep_json_nesting_is_refused_without_overflow() {
    let mut s = String::from(r#"{"resourceType":"TestPatient","extension":"#);
    for _ in 0..10_000 {
        s.push_str(r#"[{"url":"u","extension":"#);
    }
    let r = parse(&s);
    assert!(r.is_err());
}

#[test]
fn invalid_utf8_is_malformed() {
    let mut b = br#"{"resourceType":"TestOrganization","name":""#.to_vec();
    b.extend_from_slice(&[0xff, 0xfe]);
    b.extend_from_slice(br#""}"#);
    assert!(matches!(
        from_json::<TestOrganization>(&b, Limits::REQUEST),
        Err(CodecError::Malformed(_))
    ));
    assert!(matches!(
        from_xml::<TestOrganization>(&b, Limits::REQUEST),
        Err(CodecError::Malformed(_))
    ));
}

mod roundtrip {
    use super::*;
    use crate::fhir::arbitrary::{Gen, Rng};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn generated_resources_round_trip_json_xml_json(seed in any::<u64>()) {
            let r = TestResource::gen_value(&mut Rng::new(seed), 0);
            let json = to_json(&r);
            let from_json: TestResource = from_json(&json, Limits::IMPORT).map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&json))))?;
            prop_assert_eq!(&from_json, &r);
            let xml = to_xml(&from_json);
            let from_xml: TestResource = from_xml(xml.as_bytes(), Limits::IMPORT).map_err(|e| TestCaseError::fail(format!("{e}: {xml}")))?;
            prop_assert_eq!(&from_xml, &r);
            prop_assert_eq!(to_json(&from_xml), json);
        }
    }
}

mod hostile {
    use super::*;
    use crate::fhir::arbitrary::{Gen, Rng};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = from_json::<TestResource>(&bytes, Limits::REQUEST);
            let _ = from_xml::<TestResource>(&bytes, Limits::REQUEST);
        }

        #[test]
        fn truncated_documents_are_errors_not_panics(seed in any::<u64>(), cut in any::<prop::sample::Index>()) {
            let r = TestResource::gen_value(&mut Rng::new(seed), 0);
            let json = to_json(&r);
            let xml = to_xml(&r).into_bytes();
            let j = cut.index(json.len());
            let x = cut.index(xml.len());
            prop_assert!(from_json::<TestResource>(&json[..j], Limits::REQUEST).is_err());
            prop_assert!(from_xml::<TestResource>(&xml[..x], Limits::REQUEST).is_err());
        }

        #[test]
        fn corrupted_documents_never_panic(seed in any::<u64>(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
            let r = TestResource::gen_value(&mut Rng::new(seed), 0);
            let mut json = to_json(&r);
            let mut xml = to_xml(&r).into_bytes();
            let j = at.index(json.len());
            json[j] = byte;
            let x = at.index(xml.len());
            xml[x] = byte;
            let _ = from_json::<TestResource>(&json, Limits::REQUEST);
            let _ = from_xml::<TestResource>(&xml, Limits::REQUEST);
        }
    }

    #[test]
    fn billion_laughs_is_refused_before_expansion() {
        let xml = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<TestOrganization xmlns="http://hl7.org/fhir"><name value="&lol2;"/></TestOrganization>"#;
        match from_xml::<TestOrganization>(xml.as_bytes(), Limits::REQUEST) {
            Err(CodecError::Malformed(m)) => assert!(m.contains("DOCTYPE"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn external_entity_is_refused() {
        let xml = r#"<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><TestOrganization xmlns="http://hl7.org/fhir"><name value="&xxe;"/></TestOrganization>"#;
        assert!(matches!(
            from_xml::<TestOrganization>(xml.as_bytes(), Limits::REQUEST),
            Err(CodecError::Malformed(_))
        ));
    }

    #[test]
    fn ten_megabyte_string_is_refused_with_a_clear_error() {
        let body = format!(
            r#"{{"resourceType":"TestOrganization","name":"{}"}}"#,
            "a".repeat(10 * 1024 * 1024)
        );
        let e = crate::Error::from(
            from_json::<TestOrganization>(body.as_bytes(), Limits::IMPORT).unwrap_err(),
        );
        assert_eq!(e.code(), crate::SpineCode::InvalidResource);
        assert_eq!(e.status(), 422);
        assert!(
            e.diagnostics().contains("TestOrganization.name"),
            "{}",
            e.diagnostics()
        );
        let e = crate::Error::from(
            from_json::<TestOrganization>(body.as_bytes(), Limits::REQUEST).unwrap_err(),
        );
        assert_eq!(e.status(), 413);
    }

    #[test]
    fn malformed_bodies_map_to_400_bad_request() {
        for body in [
            &b"{\"resourceType\":\"TestOrganization\""[..],
            b"<TestOrganization xmlns=\"http://hl7.org/fhir\">",
            b"\xff\xfe",
        ] {
            let e = crate::Error::from(
                crate::fhir::decode::<TestOrganization>(
                    body,
                    if body[0] == b'<' {
                        crate::fhir::Format::Xml
                    } else {
                        crate::fhir::Format::Json
                    },
                    Limits::REQUEST,
                )
                .unwrap_err(),
            );
            assert_eq!(
                (e.code(), e.status()),
                (crate::SpineCode::BadRequest, 400),
                "{}",
                e.diagnostics()
            );
        }
    }

    #[test]
    fn deep_xml_nesting_is_refused() {
        let mut xml = String::from(r#"<TestPatient xmlns="http://hl7.org/fhir">"#);
        for _ in 0..100_000 {
            xml.push_str("<extension url=\"u\">");
        }
        assert!(matches!(
            from_xml::<TestPatient>(xml.as_bytes(), Limits::IMPORT),
            Err(CodecError::Malformed(_))
        ));
    }
}
