//! The one error type of the engine, and the Spine codes it carries.
//!
//! Every failure a consumer can see is a [`SpineCode`] (the code GP Connect
//! publishes in `Spine-ErrorOrWarningCode-1`), an HTTP status and free-text
//! diagnostics (digest §6). Other crates map their own errors into [`Error`]
//! once, and [`Error::to_operation_outcome_stu3`] /
//! [`Error::to_operation_outcome_dstu2`] turn it into the OperationOutcome
//! the spec shows.
//!
//! `Error` is a struct rather than an enum of variants because the Spine code
//! *is* the discriminant, and a few rules need a status that differs from the
//! code's default (e.g. Access Record HTML answers a `timePeriod` on SUM with
//! 400 INVALID_PARAMETER, digest accessrecord §4).

use std::fmt;

/// A Spine error or warning code (appointments digest §6.2, accessrecord §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SpineCode {
    /// Malformed request: headers, JWT, body syntax, verb, required search parameter.
    BadRequest,
    /// The submitted resource fails the profile (R3, R8, R26, ...).
    InvalidResource,
    /// A search or operation parameter is invalid (dates, prefixes, ranges).
    InvalidParameter,
    /// Unsupported identifier system on a find.
    InvalidIdentifierSystem,
    /// Malformed identifier value (non NHS-number identifiers).
    InvalidIdentifierValue,
    /// NHS number fails format or Modulus 11 (digest §8.3).
    InvalidNhsNumber,
    /// PDS trace failed on register (F4).
    InvalidPatientDemographics,
    /// ODS code is malformed (Access Record guidance).
    InvalidOdsCode,
    /// Organization read of an unknown id.
    OrganisationNotFound,
    /// Patient unknown, S-flagged, or outside the deceased window.
    PatientNotFound,
    /// Practitioner read of an unknown id.
    PractitionerNotFound,
    /// Catch-all not-found (Location, Appointment).
    NoRecordFound,
    /// Patient dissent (Access Record only; never for appointments, R24).
    NoPatientConsent,
    /// Organisation-level consent missing.
    NoOrganisationConsent,
    /// The provider is not authoritative for the record (Access Record).
    NonAuthoritative,
    /// Practice or capability switched off (R83).
    AccessDenied,
    /// The create would duplicate a resource: slot taken (R11), patient registered.
    DuplicateRejected,
    /// `If-Match` version mismatch (R30, R37).
    FhirConstraintViolation,
    /// A POSTed reference names a resource that does not exist (R10).
    ReferenceNotFound,
    /// Unsupported `Accept`, `_format` or `Content-Type` (digest §2.1 \[REC\]).
    UnsupportedMediaType,
    /// Unexpected failure, PDS unavailable, or data that cannot meet the profile (R86).
    InternalServerError,
    /// Operation or resource not implemented.
    NotImplemented,
}

/// The FHIR `IssueType` codes GP Connect errors use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueType {
    Invalid,
    Value,
    BusinessRule,
    NotFound,
    Forbidden,
    Duplicate,
    Conflict,
    NotSupported,
    Exception,
    Processing,
}

impl IssueType {
    /// The FHIR code, e.g. `not-found`.
    pub fn code(self) -> &'static str {
        match self {
            IssueType::Invalid => "invalid",
            IssueType::Value => "value",
            IssueType::BusinessRule => "business-rule",
            IssueType::NotFound => "not-found",
            IssueType::Forbidden => "forbidden",
            IssueType::Duplicate => "duplicate",
            IssueType::Conflict => "conflict",
            IssueType::NotSupported => "not-supported",
            IssueType::Exception => "exception",
            IssueType::Processing => "processing",
        }
    }
}

/// Which edition of GP Connect an error is reported for; a few codes are
/// spelled differently (digest §11.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SpecEdition {
    /// Foundations + Appointment Management 1.2.9 (STU3): `ACCESS DENIED`.
    #[default]
    Appointments129,
    /// 1.2.7 spelling: `ACCESS_DENIED`.
    Appointments127,
    /// Access Record HTML 0.7.x (DSTU2).
    AccessRecordHtml07,
}

impl SpineCode {
    /// Every code, for tables and tests.
    pub const ALL: [SpineCode; 22] = [
        SpineCode::BadRequest,
        SpineCode::InvalidResource,
        SpineCode::InvalidParameter,
        SpineCode::InvalidIdentifierSystem,
        SpineCode::InvalidIdentifierValue,
        SpineCode::InvalidNhsNumber,
        SpineCode::InvalidPatientDemographics,
        SpineCode::InvalidOdsCode,
        SpineCode::OrganisationNotFound,
        SpineCode::PatientNotFound,
        SpineCode::PractitionerNotFound,
        SpineCode::NoRecordFound,
        SpineCode::NoPatientConsent,
        SpineCode::NoOrganisationConsent,
        SpineCode::NonAuthoritative,
        SpineCode::AccessDenied,
        SpineCode::DuplicateRejected,
        SpineCode::FhirConstraintViolation,
        SpineCode::ReferenceNotFound,
        SpineCode::UnsupportedMediaType,
        SpineCode::InternalServerError,
        SpineCode::NotImplemented,
    ];

    /// The code as it goes on the wire in `details.coding[0].code`.
    pub fn code(self, edition: SpecEdition) -> &'static str {
        match self {
            SpineCode::BadRequest => "BAD_REQUEST",
            SpineCode::InvalidResource => "INVALID_RESOURCE",
            SpineCode::InvalidParameter => "INVALID_PARAMETER",
            SpineCode::InvalidIdentifierSystem => "INVALID_IDENTIFIER_SYSTEM",
            SpineCode::InvalidIdentifierValue => "INVALID_IDENTIFIER_VALUE",
            SpineCode::InvalidNhsNumber => "INVALID_NHS_NUMBER",
            SpineCode::InvalidPatientDemographics => "INVALID_PATIENT_DEMOGRAPHICS",
            SpineCode::InvalidOdsCode => "INVALID_ODS_CODE",
            SpineCode::OrganisationNotFound => "ORGANISATION_NOT_FOUND",
            SpineCode::PatientNotFound => "PATIENT_NOT_FOUND",
            SpineCode::PractitionerNotFound => "PRACTITIONER_NOT_FOUND",
            SpineCode::NoRecordFound => "NO_RECORD_FOUND",
            SpineCode::NoPatientConsent => "NO_PATIENT_CONSENT",
            // The spec tables say NO_ORGANISATION_CONSENT; the 0.7 spreadsheet
            // (Access Record) uses the CodeSystem's NO_ORGANISATIONAL_CONSENT.
            SpineCode::NoOrganisationConsent => match edition {
                SpecEdition::AccessRecordHtml07 => "NO_ORGANISATIONAL_CONSENT",
                _ => "NO_ORGANISATION_CONSENT",
            },
            SpineCode::NonAuthoritative => "NON_AUTHORITATIVE",
            SpineCode::AccessDenied => match edition {
                SpecEdition::Appointments129 => "ACCESS DENIED",
                _ => "ACCESS_DENIED",
            },
            SpineCode::DuplicateRejected => "DUPLICATE_REJECTED",
            SpineCode::FhirConstraintViolation => "FHIR_CONSTRAINT_VIOLATION",
            SpineCode::ReferenceNotFound => "REFERENCE_NOT_FOUND",
            SpineCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            SpineCode::InternalServerError => "INTERNAL_SERVER_ERROR",
            SpineCode::NotImplemented => "NOT_IMPLEMENTED",
        }
    }

    /// `details.coding[0].display`, as the digest §6.2 "display (spec)" column gives it.
    pub fn display(self) -> &'static str {
        match self {
            SpineCode::BadRequest => "Submitted request is malformed/invalid.",
            SpineCode::InvalidResource => "Submitted resource is not valid.",
            SpineCode::InvalidParameter => "Submitted parameter is not valid.",
            SpineCode::InvalidIdentifierSystem => "Invalid identifier system",
            SpineCode::InvalidIdentifierValue => "Invalid identifier value",
            SpineCode::InvalidNhsNumber => "NHS number invalid",
            SpineCode::InvalidPatientDemographics => "Invalid patient demographics",
            SpineCode::InvalidOdsCode => "Invalid ODS code",
            SpineCode::OrganisationNotFound => "Organisation record not found",
            SpineCode::PatientNotFound => "Patient record not found",
            SpineCode::PractitionerNotFound => "Practitioner record not found",
            SpineCode::NoRecordFound => "No record found",
            SpineCode::NoPatientConsent => "Patient has not provided consent to share data",
            SpineCode::NoOrganisationConsent => {
                "Organisation has not provided consent to share data"
            }
            SpineCode::NonAuthoritative => "Not authoritative",
            SpineCode::AccessDenied => "Access denied",
            SpineCode::DuplicateRejected => "Create would lead to creation of a duplicate resource",
            SpineCode::FhirConstraintViolation => "FHIR constraint violated",
            SpineCode::ReferenceNotFound => "Referenced resource not found.",
            SpineCode::UnsupportedMediaType => "Unsupported media type",
            SpineCode::InternalServerError => "Unexpected internal server error.",
            SpineCode::NotImplemented => "FHIR resource or operation not implemented at server",
        }
    }

    /// The HTTP status the code is normally sent with (digest §6.2).
    pub fn http_status(self) -> u16 {
        match self {
            SpineCode::BadRequest
            | SpineCode::InvalidIdentifierSystem
            | SpineCode::InvalidIdentifierValue
            | SpineCode::InvalidNhsNumber
            | SpineCode::InvalidPatientDemographics
            | SpineCode::InvalidOdsCode => 400,
            SpineCode::NoPatientConsent
            | SpineCode::NoOrganisationConsent
            | SpineCode::NonAuthoritative
            | SpineCode::AccessDenied => 403,
            SpineCode::OrganisationNotFound
            | SpineCode::PatientNotFound
            | SpineCode::PractitionerNotFound
            | SpineCode::NoRecordFound => 404,
            SpineCode::DuplicateRejected | SpineCode::FhirConstraintViolation => 409,
            SpineCode::UnsupportedMediaType => 415,
            SpineCode::InvalidResource
            | SpineCode::InvalidParameter
            | SpineCode::ReferenceNotFound => 422,
            SpineCode::InternalServerError => 500,
            SpineCode::NotImplemented => 501,
        }
    }

    /// The FHIR issue type that goes in `issue.code` (digest §6.2).
    pub fn issue_type(self) -> IssueType {
        match self {
            SpineCode::InvalidIdentifierSystem
            | SpineCode::InvalidIdentifierValue
            | SpineCode::InvalidNhsNumber
            | SpineCode::InvalidOdsCode => IssueType::Value,
            SpineCode::InvalidPatientDemographics => IssueType::BusinessRule,
            SpineCode::OrganisationNotFound
            | SpineCode::PatientNotFound
            | SpineCode::PractitionerNotFound
            | SpineCode::NoRecordFound => IssueType::NotFound,
            SpineCode::NoPatientConsent
            | SpineCode::NoOrganisationConsent
            | SpineCode::NonAuthoritative
            | SpineCode::AccessDenied => IssueType::Forbidden,
            SpineCode::DuplicateRejected => IssueType::Duplicate,
            SpineCode::FhirConstraintViolation => IssueType::Conflict,
            SpineCode::BadRequest
            | SpineCode::InvalidResource
            | SpineCode::InvalidParameter
            | SpineCode::ReferenceNotFound => IssueType::Invalid,
            SpineCode::UnsupportedMediaType | SpineCode::NotImplemented => IssueType::NotSupported,
            SpineCode::InternalServerError => IssueType::Exception,
        }
    }
}

impl fmt::Display for SpineCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code(SpecEdition::default()))
    }
}

/// A failure the consumer sees: Spine code, HTTP status, diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} ({status}): {diagnostics}")]
pub struct Error {
    code: SpineCode,
    status: u16,
    issue_type: IssueType,
    diagnostics: String,
}

/// `Result` with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with the code's default status and issue type.
    ///
    /// Diagnostics may quote hostile input, so they are made representable
    /// here, once: control characters a FHIR string may not hold become
    /// U+FFFD, and the text is cut to [`Error::MAX_DIAGNOSTICS_BYTES`].
    pub fn new(code: SpineCode, diagnostics: impl Into<String>) -> Self {
        Error {
            code,
            status: code.http_status(),
            issue_type: code.issue_type(),
            diagnostics: representable(diagnostics.into()),
        }
    }

    /// Longest diagnostics kept.
    pub const MAX_DIAGNOSTICS_BYTES: usize = 16 * 1024;

    /// Override the HTTP status where a rule sends a code with a non-default
    /// status (e.g. 400 INVALID_PARAMETER for a `timePeriod` on SUM).
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Override the issue type (e.g. `business-rule` for the SUM `timePeriod` rule).
    pub fn with_issue_type(mut self, issue_type: IssueType) -> Self {
        self.issue_type = issue_type;
        self
    }

    /// 400 BAD_REQUEST.
    pub fn bad_request(diagnostics: impl Into<String>) -> Self {
        Self::new(SpineCode::BadRequest, diagnostics)
    }

    /// 422 INVALID_RESOURCE.
    pub fn invalid_resource(diagnostics: impl Into<String>) -> Self {
        Self::new(SpineCode::InvalidResource, diagnostics)
    }

    /// 422 INVALID_PARAMETER.
    pub fn invalid_parameter(diagnostics: impl Into<String>) -> Self {
        Self::new(SpineCode::InvalidParameter, diagnostics)
    }

    /// 500 INTERNAL_SERVER_ERROR.
    pub fn internal(diagnostics: impl Into<String>) -> Self {
        Self::new(SpineCode::InternalServerError, diagnostics)
    }

    /// The Spine code.
    pub fn code(&self) -> SpineCode {
        self.code
    }

    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The FHIR issue type for `issue.code`.
    pub fn issue_type(&self) -> IssueType {
        self.issue_type
    }

    /// Free-text diagnostics (SHALL for 422 codes and INTERNAL_SERVER_ERROR).
    pub fn diagnostics(&self) -> &str {
        &self.diagnostics
    }
}

/// `s` as a valid FHIR string of at most [`Error::MAX_DIAGNOSTICS_BYTES`].
fn representable(s: String) -> String {
    let clean = |c: char| (c as u32) >= 0x20 || matches!(c, '\t' | '\n' | '\r');
    if s.len() <= Error::MAX_DIAGNOSTICS_BYTES && s.chars().all(clean) {
        return s;
    }
    let mut out = String::with_capacity(s.len().min(Error::MAX_DIAGNOSTICS_BYTES));
    for c in s.chars() {
        let c = if clean(c) {
            c
        } else {
            char::REPLACEMENT_CHARACTER
        };
        if out.len() + c.len_utf8() > Error::MAX_DIAGNOSTICS_BYTES {
            break;
        }
        out.push(c);
    }
    out
}

/// Untrusted input echoed into diagnostics: quoted, escaped, and cut to
/// [`Echo::MAX_CHARS`] characters, so a hostile value can neither bloat an
/// OperationOutcome nor inject control characters into logs.
#[derive(Debug, Clone, Copy)]
pub struct Echo<'a>(pub &'a str);

impl Echo<'_> {
    /// Most characters echoed.
    pub const MAX_CHARS: usize = 64;
}

impl fmt::Display for Echo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.char_indices().nth(Self::MAX_CHARS) {
            Some((cut, _)) => write!(f, "{:?}…", &self.0[..cut]),
            None => write!(f, "{:?}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_quotes_escapes_and_cuts_hostile_input() {
        assert_eq!(Echo("a\"b\n").to_string(), r#""a\"b\n""#);
        let long = "x".repeat(1000);
        assert_eq!(Echo(&long).to_string().chars().count(), Echo::MAX_CHARS + 3);
    }

    #[test]
    fn every_code_has_a_display_and_an_error_status() {
        for code in SpineCode::ALL {
            assert!(!code.display().is_empty(), "{code:?}");
            assert!((400..=501).contains(&code.http_status()), "{code:?}");
        }
    }

    #[test]
    fn access_denied_is_spelled_per_edition() {
        assert_eq!(
            SpineCode::AccessDenied.code(SpecEdition::Appointments129),
            "ACCESS DENIED"
        );
        assert_eq!(
            SpineCode::AccessDenied.code(SpecEdition::Appointments127),
            "ACCESS_DENIED"
        );
    }

    #[test]
    fn diagnostics_are_always_representable_as_a_fhir_string() {
        let e = Error::bad_request("a\u{0}b\u{1b}[31m\n");
        assert_eq!(e.diagnostics(), "a\u{fffd}b\u{fffd}[31m\n");
        let e = Error::bad_request("é".repeat(20_000));
        assert!(e.diagnostics().len() <= Error::MAX_DIAGNOSTICS_BYTES);
        assert!(e.diagnostics().chars().all(|c| c == 'é'));
    }

    #[test]
    fn if_match_mismatch_is_409_conflict() {
        let e = Error::new(SpineCode::FhirConstraintViolation, "version 3 != 4");
        assert_eq!(e.status(), 409);
        assert_eq!(e.issue_type(), IssueType::Conflict);
    }

    #[test]
    fn status_can_be_overridden_for_access_record_rules() {
        let e = Error::invalid_parameter("timePeriod not allowed for SUM").with_status(400);
        assert_eq!(e.status(), 400);
        assert_eq!(e.code(), SpineCode::InvalidParameter);
    }
}
