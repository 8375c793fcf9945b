//! The `Parameters` body of `$gpc.getcarerecord` (accessrecord §1.4), checked
//! row by row against the §4 error table, and the JWT `requested_record`
//! cross-check (§1.3).
//!
//! Order of the checks, so a request with several faults gets the answer the
//! provider suite expects for the one it is testing:
//!
//! 1. every parameter name is one of the three, exactly (a mis-cased
//!    `patientnhsnumber` is 422 even though `patientNHSNumber` is then
//!    missing);
//! 2. `patientNHSNumber`: cardinality and type (400), system (400
//!    INVALID_IDENTIFIER_SYSTEM), value (400 INVALID_NHS_NUMBER);
//! 3. `recordSection`: cardinality and type (400), system (wrong 400, empty
//!    422), code (422 INVALID_PARAMETER);
//! 4. `timePeriod`: at most one (400), refused on SUM/ALL/IMM (400
//!    INVALID_PARAMETER, business-rule), a `valuePeriod` (422), valid (422).
//!
//! NHS numbers are never echoed in diagnostics (they end up in logs).

use gpconnect_render::Section;

use crate::checks::datetime::{TimePeriod, parse_time_period};
use crate::checks::nhs_number::NhsNumber;
use crate::dstu2::profiles::{
    NHS_NUMBER_SYSTEM, PARAM_PATIENT_NHS_NUMBER, PARAM_RECORD_SECTION, PARAM_TIME_PERIOD,
    RECORD_SECTION_SYSTEM,
};
use crate::dstu2::{Parameters, ParametersParameter, ParametersParameterValue};
use crate::error::{Echo, Error, IssueType, SpineCode};

/// The parameter names of the operation, exact and case-sensitive.
pub const PARAMETER_NAMES: [&str; 3] = [
    PARAM_PATIENT_NHS_NUMBER,
    PARAM_RECORD_SECTION,
    PARAM_TIME_PERIOD,
];

/// A valid getcarerecord request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareRecordRequest {
    /// `patientNHSNumber`.
    pub nhs_number: NhsNumber,
    /// `recordSection`.
    pub section: Section,
    /// `timePeriod`, validated and expanded (only for sections that accept
    /// one).
    pub period: Option<TimePeriod>,
}

/// Check the body (see the module docs for the order and the codes).
///
/// # Errors
/// The §4 row of the first fault found.
pub fn parse_request(body: &Parameters) -> Result<CareRecordRequest, Error> {
    if let Some(p) = body
        .parameter
        .iter()
        .find(|p| !PARAMETER_NAMES.contains(&p.name.as_str()))
    {
        return Err(Error::invalid_parameter(format!(
            "{} is not a parameter of gpc.getcarerecord (names are case-sensitive: {})",
            Echo(&p.name),
            PARAMETER_NAMES.join(", ")
        )));
    }
    let nhs_number = nhs_number(body)?;
    let section = record_section(body)?;
    let period = time_period(body, section)?;
    Ok(CareRecordRequest {
        nhs_number,
        section,
        period,
    })
}

/// The one parameter named `name`, or 400 BAD_REQUEST when it is missing
/// or repeated (§4: the suite expects 400 for both; the spreadsheet's 422
/// for a missing NHS number is the \[CONFLICT\] the digest resolves to 400).
fn exactly_one<'b>(body: &'b Parameters, name: &str) -> Result<&'b ParametersParameter, Error> {
    let mut found = body.named(name);
    let first = found
        .next()
        .ok_or_else(|| Error::bad_request(format!("the {name} parameter is required")))?;
    if found.next().is_some() {
        return Err(Error::bad_request(format!(
            "the {name} parameter may be sent only once"
        )));
    }
    Ok(first)
}

/// The `value[x]` name a parameter was sent with, for diagnostics.
fn sent_as(p: &ParametersParameter) -> &'static str {
    match &p.value {
        Some(v) => match v {
            ParametersParameterValue::Boolean(_) => "valueBoolean",
            ParametersParameterValue::Integer(_) => "valueInteger",
            ParametersParameterValue::UnsignedInt(_) => "valueUnsignedInt",
            ParametersParameterValue::String(_) => "valueString",
            ParametersParameterValue::Uri(_) => "valueUri",
            ParametersParameterValue::Markdown(_) => "valueMarkdown",
            ParametersParameterValue::Code(_) => "valueCode",
            ParametersParameterValue::Id(_) => "valueId",
            ParametersParameterValue::Date(_) => "valueDate",
            ParametersParameterValue::DateTime(_) => "valueDateTime",
            ParametersParameterValue::Instant(_) => "valueInstant",
            ParametersParameterValue::Time(_) => "valueTime",
            ParametersParameterValue::Annotation(_) => "valueAnnotation",
            ParametersParameterValue::Identifier(_) => "valueIdentifier",
            ParametersParameterValue::CodeableConcept(_) => "valueCodeableConcept",
            ParametersParameterValue::Coding(_) => "valueCoding",
            ParametersParameterValue::Period(_) => "valuePeriod",
            ParametersParameterValue::HumanName(_) => "valueHumanName",
            ParametersParameterValue::Address(_) => "valueAddress",
            ParametersParameterValue::ContactPoint(_) => "valueContactPoint",
            ParametersParameterValue::Reference(_) => "valueReference",
            ParametersParameterValue::Meta(_) => "valueMeta",
        },
        None if p.resource.is_some() => "a resource",
        None if !p.part.is_empty() => "parts",
        None => "no value",
    }
}

fn nhs_number(body: &Parameters) -> Result<NhsNumber, Error> {
    let p = exactly_one(body, PARAM_PATIENT_NHS_NUMBER)?;
    let Some(ParametersParameterValue::Identifier(identifier)) = &p.value else {
        return Err(Error::bad_request(format!(
            "{PARAM_PATIENT_NHS_NUMBER} must be a valueIdentifier, not {}",
            sent_as(p)
        )));
    };
    match identifier.system.as_deref() {
        Some(NHS_NUMBER_SYSTEM) => {}
        Some(s) if !s.trim().is_empty() => {
            return Err(Error::new(
                SpineCode::InvalidIdentifierSystem,
                format!(
                    "{PARAM_PATIENT_NHS_NUMBER} has the system {}; it must be {NHS_NUMBER_SYSTEM}",
                    Echo(s)
                ),
            ));
        }
        _ => {
            return Err(Error::new(
                SpineCode::InvalidIdentifierSystem,
                format!("{PARAM_PATIENT_NHS_NUMBER} has no system; it must be {NHS_NUMBER_SYSTEM}"),
            ));
        }
    }
    NhsNumber::parse(identifier.value.as_deref().unwrap_or_default())
}

fn record_section(body: &Parameters) -> Result<Section, Error> {
    let p = exactly_one(body, PARAM_RECORD_SECTION)?;
    let Some(ParametersParameterValue::CodeableConcept(concept)) = &p.value else {
        return Err(Error::bad_request(format!(
            "{PARAM_RECORD_SECTION} must be a valueCodeableConcept, not {}",
            sent_as(p)
        )));
    };
    let coding = match concept.coding.as_slice() {
        [one] => one,
        [] => {
            return Err(Error::invalid_parameter(format!(
                "{PARAM_RECORD_SECTION} needs a coding of {RECORD_SECTION_SYSTEM}"
            )));
        }
        _ => {
            return Err(Error::bad_request(format!(
                "{PARAM_RECORD_SECTION} must have exactly one coding: one section per request"
            )));
        }
    };
    match coding.system.as_deref().map(str::trim) {
        Some(RECORD_SECTION_SYSTEM) => {}
        None | Some("") => {
            return Err(Error::invalid_parameter(format!(
                "{PARAM_RECORD_SECTION} has no coding system; it must be {RECORD_SECTION_SYSTEM}"
            )));
        }
        Some(other) => {
            return Err(Error::bad_request(format!(
                "{PARAM_RECORD_SECTION} has the coding system {}; it must be {RECORD_SECTION_SYSTEM}",
                Echo(other)
            )));
        }
    }
    let code = coding.code.as_ref().map(|c| c.as_str()).unwrap_or_default();
    Section::from_code(code).ok_or_else(|| {
        Error::invalid_parameter(format!(
            "{} is not a record section of {RECORD_SECTION_SYSTEM} (codes are upper case: {})",
            Echo(code),
            Section::ALL.map(Section::code).join(", ")
        ))
    })
}

fn time_period(body: &Parameters, section: Section) -> Result<Option<TimePeriod>, Error> {
    let mut found = body.named(PARAM_TIME_PERIOD);
    let Some(p) = found.next() else {
        return Ok(None);
    };
    if found.next().is_some() {
        return Err(Error::bad_request(format!(
            "the {PARAM_TIME_PERIOD} parameter may be sent only once"
        )));
    }
    if !section.accepts_time_period() {
        return Err(Error::invalid_parameter(format!(
            "the {} section ({}) does not accept a {PARAM_TIME_PERIOD}",
            section.code(),
            section.title()
        ))
        .with_status(400)
        .with_issue_type(IssueType::BusinessRule));
    }
    let Some(ParametersParameterValue::Period(period)) = &p.value else {
        return Err(Error::invalid_parameter(format!(
            "{PARAM_TIME_PERIOD} must be a valuePeriod, not {}",
            sent_as(p)
        )));
    };
    parse_time_period(
        period.start.as_ref().map(|d| d.as_str()),
        period.end.as_ref().map(|d| d.as_str()),
    )
    .map(Some)
}

/// The JWT's `requested_record` NHS number against the body's (§1.3): a
/// token for another patient cannot read this patient's record. Compared
/// exactly, as both are FHIR identifier values (no separators).
///
/// # Errors
/// 400 BAD_REQUEST on a mismatch (the §4 table allows BAD_REQUEST or
/// INVALID_NHS_NUMBER; the body's number is valid, the token is what is
/// wrong).
pub fn check_requested_record(
    requested_nhs_number: Option<&str>,
    nhs_number: &NhsNumber,
) -> Result<(), Error> {
    match requested_nhs_number {
        Some(n) if n != nhs_number.as_str() => Err(Error::bad_request(
            "the JWT requested_record NHS number is not the patientNHSNumber of the body",
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::datatypes::{CodeableConcept, Coding, Identifier, Period};
    use crate::fhir::primitive::{Code, DateTime};

    fn param(name: &str, value: ParametersParameterValue) -> ParametersParameter {
        ParametersParameter {
            name: name.to_owned(),
            value: Some(value),
            ..Default::default()
        }
    }

    fn nhs(value: &str) -> ParametersParameter {
        param(
            PARAM_PATIENT_NHS_NUMBER,
            ParametersParameterValue::Identifier(Identifier {
                system: Some(NHS_NUMBER_SYSTEM.to_owned()),
                value: Some(value.to_owned()),
                ..Default::default()
            }),
        )
    }

    fn section(system: Option<&str>, code: &str) -> ParametersParameter {
        param(
            PARAM_RECORD_SECTION,
            ParametersParameterValue::CodeableConcept(CodeableConcept {
                coding: vec![Coding {
                    system: system.map(str::to_owned),
                    code: Code::new(code).ok(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
        )
    }

    fn period(start: &str) -> ParametersParameter {
        param(
            PARAM_TIME_PERIOD,
            ParametersParameterValue::Period(Period {
                start: DateTime::new(start).ok(),
                ..Default::default()
            }),
        )
    }

    fn parse(parameters: Vec<ParametersParameter>) -> Result<CareRecordRequest, (u16, SpineCode)> {
        parse_request(&Parameters {
            parameter: parameters,
            ..Default::default()
        })
        .map_err(|e| (e.status(), e.code()))
    }

    const VALID: &str = "9000000009";

    #[test]
    fn a_valid_body_gives_the_number_section_and_expanded_period() {
        let r = parse(vec![
            period("2016-02"),
            section(Some(RECORD_SECTION_SYSTEM), "MED"),
            nhs(VALID),
        ])
        .expect("valid");
        assert_eq!(r.nhs_number.as_str(), VALID);
        assert_eq!(r.section, Section::Medications);
        assert_eq!(
            r.period.and_then(|p| p.start_date()),
            Some(jiff::civil::date(2016, 2, 1))
        );
        let r = parse(vec![
            nhs(VALID),
            section(Some(RECORD_SECTION_SYSTEM), "SUM"),
        ])
        .expect("valid");
        assert_eq!(r.period, None);
    }

    #[test]
    fn an_unknown_name_wins_over_every_other_fault() {
        let mut bad = nhs("1234567891");
        bad.name = "patientnhsnumber".to_owned();
        assert_eq!(parse(vec![bad]), Err((422, SpineCode::InvalidParameter)));
    }

    #[test]
    fn the_nhs_number_is_checked_before_the_section() {
        assert_eq!(
            parse(vec![
                nhs("1234567891"),
                section(Some(RECORD_SECTION_SYSTEM), "sum")
            ]),
            Err((400, SpineCode::InvalidNhsNumber))
        );
    }

    #[test]
    fn a_period_on_summary_is_refused_before_it_is_parsed() {
        let e = parse_request(&Parameters {
            parameter: vec![
                nhs(VALID),
                section(Some(RECORD_SECTION_SYSTEM), "SUM"),
                param(
                    PARAM_TIME_PERIOD,
                    ParametersParameterValue::Period(Period::default()),
                ),
            ],
            ..Default::default()
        })
        .expect_err("refused");
        assert_eq!(
            (e.status(), e.code(), e.issue_type()),
            (400, SpineCode::InvalidParameter, IssueType::BusinessRule)
        );
    }

    #[test]
    fn section_system_absent_or_blank_is_422_and_wrong_is_400() {
        for system in [None, Some(""), Some("  ")] {
            assert_eq!(
                parse(vec![nhs(VALID), section(system, "SUM")]),
                Err((422, SpineCode::InvalidParameter)),
                "{system:?}"
            );
        }
        assert_eq!(
            parse(vec![nhs(VALID), section(Some("http://example.org"), "SUM")]),
            Err((400, SpineCode::BadRequest))
        );
    }

    #[test]
    fn a_parameter_sent_as_a_resource_or_parts_is_wrongly_typed() {
        let as_parts = ParametersParameter {
            name: PARAM_PATIENT_NHS_NUMBER.to_owned(),
            part: vec![nhs(VALID)],
            ..Default::default()
        };
        let e = parse_request(&Parameters {
            parameter: vec![as_parts, section(Some(RECORD_SECTION_SYSTEM), "SUM")],
            ..Default::default()
        })
        .expect_err("parts");
        assert_eq!(e.status(), 400);
        assert!(
            e.diagnostics().ends_with("not parts"),
            "{}",
            e.diagnostics()
        );
    }

    #[test]
    fn diagnostics_never_echo_the_nhs_number() {
        for parameters in [
            vec![
                nhs("9000000008"),
                section(Some(RECORD_SECTION_SYSTEM), "SUM"),
            ],
            vec![
                param(
                    PARAM_PATIENT_NHS_NUMBER,
                    ParametersParameterValue::String("9000000008".into()),
                ),
                section(Some(RECORD_SECTION_SYSTEM), "SUM"),
            ],
        ] {
            let e = parse_request(&Parameters {
                parameter: parameters,
                ..Default::default()
            })
            .expect_err("refused");
            assert!(
                !e.diagnostics().contains("9000000008"),
                "{}",
                e.diagnostics()
            );
        }
    }

    #[test]
    fn the_requested_record_must_be_this_patient() {
        let n = NhsNumber::parse(VALID).expect("valid");
        assert!(check_requested_record(None, &n).is_ok());
        assert!(check_requested_record(Some(VALID), &n).is_ok());
        for other in ["9476719931", "", " 9000000009"] {
            let e = check_requested_record(Some(other), &n).expect_err("other");
            assert_eq!((e.status(), e.code()), (400, SpineCode::BadRequest));
            assert!(!e.diagnostics().contains(VALID));
        }
    }
}
