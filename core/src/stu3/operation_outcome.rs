//! `OperationOutcome`, profiled by GPConnect-OperationOutcome-1, and the one
//! mapping from the engine's [`Error`] to it (digest §6.1).
//!
//! The shape every error response takes:
//! - `meta.profile` = GPConnect-OperationOutcome-1 (meta must be present);
//! - exactly one `issue`, `severity` `error`, `code` = the error's FHIR
//!   issue type (§6.2);
//! - `details.coding` has exactly one coding with `system`, `code` and
//!   `display` (the test suite checks code and display);
//! - `diagnostics` = the error's free text (omitted when empty: FHIR strings
//!   may not be empty).
//!
//! The coding `system` is configurable (§6.1 \[REC\]): the 1.2.x examples use
//! the ValueSet URL, the CodeSystem URL is what the profile fixes and later
//! specs use. The code's spelling depends on the edition (`ACCESS DENIED` in
//! 1.2.9, `ACCESS_DENIED` in 1.2.7; §11.3).
//!
//! The profile sets only `issue.details.coding.version`/`userSelected` to
//! `max = 0`; they live on the shared [`Coding`], so nothing is left out of
//! the resource itself.

use super::profiles;
use super::resource::Resource;
use crate::error::{Error, SpecEdition};
use crate::fhir::datatypes::{CodeableConcept, Coding, Extension, Meta, Narrative};
use crate::fhir::primitive::{Code, Id};

fhir_resource! {
    /// The body of every error response (GPConnect-OperationOutcome-1; §6).
    pub struct OperationOutcome ("OperationOutcome") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        issue: vec OperationOutcomeIssue = "issue",
    }
}

fhir_struct! {
    /// One issue: severity, FHIR issue type, Spine code, diagnostics.
    pub struct OperationOutcomeIssue {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        severity: req Code = "severity",
        code: req Code = "code",
        details: opt CodeableConcept = "details",
        diagnostics: opt String = "diagnostics",
        location: vec String = "location",
        expression: vec String = "expression",
    }
}

/// Which URL goes in `issue.details.coding.system` (digest §6.1 \[REC\]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ErrorCodeSystem {
    /// `https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1`, as the
    /// 1.2.x spec examples show (the default, for fidelity with 1.2.x).
    #[default]
    ValueSet,
    /// `https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1`, the
    /// real CodeSystem (fixed by GPConnect-OperationOutcome-1; used by 1.6+).
    CodeSystem,
}

impl ErrorCodeSystem {
    /// The URL.
    pub fn url(self) -> &'static str {
        match self {
            ErrorCodeSystem::ValueSet => {
                profiles::code_system::SPINE_ERROR_OR_WARNING_CODE_VALUE_SET
            }
            ErrorCodeSystem::CodeSystem => profiles::code_system::SPINE_ERROR_OR_WARNING_CODE,
        }
    }
}

/// How errors are rendered as OperationOutcomes: the coding system URL and
/// the spec edition (which picks code spellings such as `ACCESS DENIED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OutcomeOptions {
    /// `details.coding.system`.
    pub system: ErrorCodeSystem,
    /// Spec edition for code spellings.
    pub edition: SpecEdition,
}

impl Error {
    /// The OperationOutcome the spec shows for this error (digest §6.1).
    /// The HTTP status to send with it is [`Error::status`].
    pub fn to_operation_outcome_stu3(&self, opts: &OutcomeOptions) -> OperationOutcome {
        let code = self.code();
        let diagnostics = self.diagnostics();
        let issue = OperationOutcomeIssue {
            severity: Code::from_static("error"),
            code: Code::from_static(self.issue_type().code()),
            details: Some(CodeableConcept {
                coding: vec![Coding {
                    system: Some(opts.system.url().to_owned()),
                    code: Some(Code::from_static(code.code(opts.edition))),
                    display: Some(code.display().to_owned()),
                    ..Coding::default()
                }],
                ..CodeableConcept::default()
            }),
            diagnostics: (!diagnostics.is_empty()).then(|| diagnostics.to_owned()),
            ..OperationOutcomeIssue::default()
        };
        OperationOutcome {
            meta: Some(Meta {
                profile: vec![profiles::profile::OPERATION_OUTCOME.to_owned()],
                ..Meta::default()
            }),
            issue: vec![issue],
            ..OperationOutcome::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{IssueType, SpineCode};
    use crate::fhir::{Limits, from_json, from_xml, to_json, to_xml};

    fn json(oo: &OperationOutcome) -> serde_json::Value {
        serde_json::from_slice(&to_json(oo)).unwrap()
    }

    #[test]
    fn duplicate_rejected_is_the_spec_shape() {
        let e = Error::new(SpineCode::DuplicateRejected, "Slot/1 is no longer free");
        assert_eq!(e.status(), 409);
        let oo = e.to_operation_outcome_stu3(&OutcomeOptions::default());
        assert_eq!(
            json(&oo),
            serde_json::json!({
                "resourceType": "OperationOutcome",
                "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"]},
                "issue": [{
                    "severity": "error",
                    "code": "duplicate",
                    "details": {"coding": [{
                        "system": "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1",
                        "code": "DUPLICATE_REJECTED",
                        "display": "Create would lead to creation of a duplicate resource"
                    }]},
                    "diagnostics": "Slot/1 is no longer free"
                }]
            })
        );
    }

    #[test]
    fn access_denied_is_spelled_per_edition_and_system_is_configurable() {
        let e = Error::new(
            SpineCode::AccessDenied,
            "Appointment Management is disabled",
        );
        assert_eq!(e.status(), 403);
        let oo = e.to_operation_outcome_stu3(&OutcomeOptions::default());
        assert_eq!(
            json(&oo),
            serde_json::json!({
                "resourceType": "OperationOutcome",
                "meta": {"profile": ["https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1"]},
                "issue": [{
                    "severity": "error",
                    "code": "forbidden",
                    "details": {"coding": [{
                        "system": "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1",
                        "code": "ACCESS DENIED",
                        "display": "Access denied"
                    }]},
                    "diagnostics": "Appointment Management is disabled"
                }]
            })
        );
        let oo = e.to_operation_outcome_stu3(&OutcomeOptions {
            system: ErrorCodeSystem::CodeSystem,
            edition: SpecEdition::Appointments127,
        });
        let coding = &oo.issue[0].details.as_ref().unwrap().coding[0];
        assert_eq!(
            coding.system.as_deref(),
            Some("https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1")
        );
        assert_eq!(coding.code.as_ref().unwrap().as_str(), "ACCESS_DENIED");
    }

    #[test]
    fn overridden_issue_type_is_used_and_empty_diagnostics_are_omitted() {
        let e = Error::invalid_parameter("").with_issue_type(IssueType::BusinessRule);
        let v = json(&e.to_operation_outcome_stu3(&OutcomeOptions::default()));
        assert_eq!(v["issue"][0]["code"], "business-rule");
        assert_eq!(
            v["issue"][0]["details"]["coding"][0]["code"],
            "INVALID_PARAMETER"
        );
        assert!(v["issue"][0].get("diagnostics").is_none(), "{v}");
    }

    #[test]
    fn every_code_renders_one_coding_and_round_trips_through_xml() {
        for code in SpineCode::ALL {
            let oo = Error::new(code, "why").to_operation_outcome_stu3(&OutcomeOptions::default());
            assert_eq!(oo.issue.len(), 1);
            assert_eq!(oo.issue[0].severity.as_str(), "error");
            assert!(!oo.issue[0].code.as_str().is_empty(), "{code:?}");
            let coding = &oo.issue[0].details.as_ref().unwrap().coding;
            assert_eq!(coding.len(), 1, "{code:?}");
            assert!(
                coding[0].code.is_some() && coding[0].display.is_some(),
                "{code:?}"
            );
            let xml = to_xml(&oo);
            let back: OperationOutcome = from_xml(xml.as_bytes(), Limits::REQUEST).unwrap();
            assert_eq!(back, oo, "{xml}");
            let again: OperationOutcome = from_json(&to_json(&oo), Limits::REQUEST).unwrap();
            assert_eq!(again, oo);
        }
    }
}
