//! `OperationOutcome` (DSTU2 1.0.2) as profiled by
//! `gpconnect-operationoutcome-1`, and the one mapping from the engine's
//! [`Error`] to it (digest accessrecord §4): every Access Record error answer
//! is built by [`Error::to_operation_outcome_dstu2`].

use super::profiles::{ERROR_OR_WARNING_CODE_SYSTEM, OPERATION_OUTCOME_PROFILE};
use super::resource::Resource;
use crate::error::{Error, SpecEdition};
use crate::fhir::datatypes::{CodeableConcept, Coding, Extension, Meta, Narrative};
use crate::fhir::primitive::{Code, Id};

fhir_struct! {
    /// One issue: in GP Connect exactly one per error, severity `error`
    /// (digest §4).
    pub struct OperationOutcomeIssue {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// fatal | error | warning | information (1..1).
        severity: req Code = "severity",
        /// The FHIR IssueType, e.g. `not-found` (1..1).
        code: req Code = "code",
        /// `coding[0]` = the Spine code in `gpconnect-error-or-warning-code-1`.
        details: opt CodeableConcept = "details",
        /// Free-text detail for the developer.
        diagnostics: opt String = "diagnostics",
        /// XPath of the element(s) at fault.
        location: vec String = "location",
    }
}

fhir_resource! {
    /// The body of every Access Record HTML error response (digest §4).
    pub struct OperationOutcome ("OperationOutcome") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// The issues (1..*).
        issue: vec OperationOutcomeIssue = "issue",
    }
}

impl Error {
    /// The Access Record HTML (DSTU2) OperationOutcome for this error (digest
    /// accessrecord §4): `meta.profile` = `gpconnect-operationoutcome-1`; one
    /// issue with severity `error`, `code` = the error's issue type,
    /// `details.coding[0]` = the Spine code in its Access Record 0.7 spelling
    /// (e.g. `NO_ORGANISATIONAL_CONSENT`) with a non-empty display (the suite
    /// requires one), and the diagnostics when there are any.
    ///
    /// Diagnostics are always representable (see [`Error::new`]).
    pub fn to_operation_outcome_dstu2(&self) -> OperationOutcome {
        let spine = self.code();
        let diagnostics = self.diagnostics().to_owned();
        OperationOutcome {
            meta: Some(Meta {
                profile: vec![OPERATION_OUTCOME_PROFILE.to_owned()],
                ..Meta::default()
            }),
            issue: vec![OperationOutcomeIssue {
                severity: Code::from_static("error"),
                code: Code::from_static(self.issue_type().code()),
                details: Some(CodeableConcept {
                    coding: vec![Coding {
                        system: Some(ERROR_OR_WARNING_CODE_SYSTEM.to_owned()),
                        code: Some(Code::from_static(
                            spine.code(SpecEdition::AccessRecordHtml07),
                        )),
                        display: Some(spine.display().to_owned()),
                        ..Coding::default()
                    }],
                    ..CodeableConcept::default()
                }),
                diagnostics: (!diagnostics.is_empty()).then_some(diagnostics),
                ..OperationOutcomeIssue::default()
            }],
            ..OperationOutcome::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{IssueType, SpineCode};
    use crate::fhir::codec::MAX_STRING_BYTES;
    use crate::fhir::{Limits, from_json, from_xml, to_json, to_xml};

    fn json_string(e: &Error) -> String {
        String::from_utf8(to_json(&e.to_operation_outcome_dstu2())).unwrap()
    }

    #[test]
    fn patient_not_found_is_exactly_the_spec_shape() {
        let e = Error::new(
            SpineCode::PatientNotFound,
            "No patient found for NHS number 9658218873",
        );
        assert_eq!(e.status(), 404);
        assert_eq!(
            json_string(&e),
            concat!(
                r#"{"resourceType":"OperationOutcome","#,
                r#""meta":{"profile":["http://fhir.nhs.net/StructureDefinition/gpconnect-operationoutcome-1"]},"#,
                r#""issue":[{"severity":"error","code":"not-found","#,
                r#""details":{"coding":[{"system":"http://fhir.nhs.net/ValueSet/gpconnect-error-or-warning-code-1","#,
                r#""code":"PATIENT_NOT_FOUND","display":"Patient record not found"}]},"#,
                r#""diagnostics":"No patient found for NHS number 9658218873"}]}"#
            )
        );
    }

    #[test]
    fn invalid_parameter_is_exactly_the_spec_shape() {
        let e = Error::invalid_parameter(
            "recordSection code 'sum' is not in gpconnect-record-section-1",
        );
        assert_eq!(e.status(), 422);
        assert_eq!(
            json_string(&e),
            concat!(
                r#"{"resourceType":"OperationOutcome","#,
                r#""meta":{"profile":["http://fhir.nhs.net/StructureDefinition/gpconnect-operationoutcome-1"]},"#,
                r#""issue":[{"severity":"error","code":"invalid","#,
                r#""details":{"coding":[{"system":"http://fhir.nhs.net/ValueSet/gpconnect-error-or-warning-code-1","#,
                r#""code":"INVALID_PARAMETER","display":"Submitted parameter is not valid."}]},"#,
                r#""diagnostics":"recordSection code 'sum' is not in gpconnect-record-section-1"}]}"#
            )
        );
    }

    #[test]
    fn the_issue_type_override_is_used() {
        // timePeriod on SUM: 400, INVALID_PARAMETER, issue business-rule (digest §4).
        let e = Error::invalid_parameter("timePeriod is not allowed for SUM")
            .with_status(400)
            .with_issue_type(IssueType::BusinessRule);
        let oo = e.to_operation_outcome_dstu2();
        assert_eq!(oo.issue[0].code.as_str(), "business-rule");
        let coding = &oo.issue[0].details.as_ref().unwrap().coding[0];
        assert_eq!(coding.code.as_ref().unwrap().as_str(), "INVALID_PARAMETER");
    }

    #[test]
    fn every_code_has_its_access_record_spelling_and_a_display_and_round_trips() {
        for spine in SpineCode::ALL {
            let e = Error::new(spine, "x");
            let oo = e.to_operation_outcome_dstu2();
            let issue = &oo.issue[0];
            assert_eq!(issue.severity.as_str(), "error");
            assert_eq!(issue.code.as_str(), spine.issue_type().code(), "{spine:?}");
            let coding = &issue.details.as_ref().unwrap().coding[0];
            assert_eq!(
                coding.code.as_ref().unwrap().as_str(),
                spine.code(SpecEdition::AccessRecordHtml07)
            );
            assert!(!coding.display.as_deref().unwrap().is_empty(), "{spine:?}");
            let json = to_json(&oo);
            assert_eq!(
                from_json::<OperationOutcome>(&json, Limits::REQUEST).unwrap(),
                oo
            );
            let xml = to_xml(&oo);
            assert_eq!(
                from_xml::<OperationOutcome>(xml.as_bytes(), Limits::REQUEST).unwrap(),
                oo
            );
        }
        let consent =
            Error::new(SpineCode::NoOrganisationConsent, "x").to_operation_outcome_dstu2();
        let coding = &consent.issue[0].details.as_ref().unwrap().coding[0];
        assert_eq!(
            coding.code.as_ref().unwrap().as_str(),
            "NO_ORGANISATIONAL_CONSENT"
        );
        let denied = Error::new(SpineCode::AccessDenied, "x").to_operation_outcome_dstu2();
        let coding = &denied.issue[0].details.as_ref().unwrap().coding[0];
        assert_eq!(coding.code.as_ref().unwrap().as_str(), "ACCESS_DENIED");
    }

    #[test]
    fn empty_diagnostics_are_left_out() {
        let oo = Error::bad_request("").to_operation_outcome_dstu2();
        assert_eq!(oo.issue[0].diagnostics, None);
        assert!(
            !String::from_utf8(to_json(&oo))
                .unwrap()
                .contains("diagnostics")
        );
    }

    #[test]
    fn hostile_diagnostics_stay_representable() {
        let e = Error::bad_request("bad header value 'a\u{0}b\u{1b}[31m'\nnext line\ttab");
        let oo = e.to_operation_outcome_dstu2();
        assert_eq!(
            oo.issue[0].diagnostics.as_deref(),
            Some("bad header value 'a\u{fffd}b\u{fffd}[31m'\nnext line\ttab")
        );
        let back = from_json::<OperationOutcome>(&to_json(&oo), Limits::REQUEST).unwrap();
        assert_eq!(back, oo);

        let huge = Error::internal("é".repeat(MAX_STRING_BYTES));
        let d = huge.to_operation_outcome_dstu2().issue[0]
            .diagnostics
            .clone()
            .unwrap();
        let max = Error::MAX_DIAGNOSTICS_BYTES;
        assert!(d.len() <= max && d.len() > max - 2);
        assert!(d.chars().all(|c| c == 'é'));
    }
}
