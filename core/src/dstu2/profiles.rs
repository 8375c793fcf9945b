//! The fixed URLs and codes of Access Record HTML 0.7.x (DSTU2), in one
//! place so the request rules, the response builder and the tests cannot
//! drift apart. Sources: digest accessrecord §1.1, §1.3, §1.4, §1.5, §4.
//!
//! MIME types and the FHIR release (`1.0.2`) live in
//! [`crate::checks::format`] (`FhirFormat::mime_type`, `FhirVersion::fhir_release`);
//! interaction URNs in [`crate::checks::headers`].

// --- StructureDefinition profiles (meta.profile), digest §1.5 and §4 -------

/// `meta.profile` of the getcarerecord Composition.
pub const COMPOSITION_PROFILE: &str =
    "http://fhir.nhs.net/StructureDefinition/gpconnect-carerecord-composition-1";
/// `meta.profile` of the Patient entry.
pub const PATIENT_PROFILE: &str = "http://fhir.nhs.net/StructureDefinition/gpconnect-patient-1";
/// `meta.profile` of the Practitioner entry.
pub const PRACTITIONER_PROFILE: &str =
    "http://fhir.nhs.net/StructureDefinition/gpconnect-practitioner-1";
/// `meta.profile` of the Organization entry.
pub const ORGANIZATION_PROFILE: &str =
    "http://fhir.nhs.net/StructureDefinition/gpconnect-organization-1";
/// `meta.profile` of the Device entry.
pub const DEVICE_PROFILE: &str = "http://fhir.nhs.net/StructureDefinition/gpconnect-device-1";
/// `meta.profile` of a Location entry, if one is sent.
pub const LOCATION_PROFILE: &str = "http://fhir.nhs.net/StructureDefinition/gpconnect-location-1";
/// `meta.profile` of the response Bundle.
pub const SEARCHSET_BUNDLE_PROFILE: &str =
    "http://fhir.nhs.net/StructureDefinition/gpconnect-searchset-bundle-1";
/// `meta.profile` of every error OperationOutcome (digest §4).
pub const OPERATION_OUTCOME_PROFILE: &str =
    "http://fhir.nhs.net/StructureDefinition/gpconnect-operationoutcome-1";

// --- Identifier systems ----------------------------------------------------

/// Patient NHS number: the `patientNHSNumber` parameter and `Patient.identifier`.
pub const NHS_NUMBER_SYSTEM: &str = "http://fhir.nhs.net/Id/nhs-number";
/// Organisation ODS code (at most one per Organization).
pub const ODS_ORGANIZATION_CODE_SYSTEM: &str = "http://fhir.nhs.net/Id/ods-organization-code";
/// ODS site code (allowed on Organization).
pub const ODS_SITE_CODE_SYSTEM: &str = "http://fhir.nhs.net/Id/ods-site-code";
/// Practitioner SDS user id in resources (at most one per Practitioner).
pub const SDS_USER_ID_SYSTEM: &str = "http://fhir.nhs.net/Id/sds-user-id";
/// Practitioner SDS user id **in the JWT** `requesting_practitioner`:
/// deliberately without `/Id/` (digest §1.3).
pub const JWT_SDS_USER_ID_SYSTEM: &str = "http://fhir.nhs.net/sds-user-id";
/// Practitioner SDS role profile id (at most one per Practitioner).
pub const SDS_ROLE_PROFILE_ID_SYSTEM: &str = "http://fhir.nhs.net/Id/sds-role-profile-id";

// --- Value sets / code systems ---------------------------------------------

/// The record section codes (`recordSection` coding system, `section.code`).
pub const RECORD_SECTION_SYSTEM: &str = "http://fhir.nhs.net/ValueSet/gpconnect-record-section-1";
/// Spine error codes in `OperationOutcome.issue.details.coding` (digest §4).
pub const ERROR_OR_WARNING_CODE_SYSTEM: &str =
    "http://fhir.nhs.net/ValueSet/gpconnect-error-or-warning-code-1";
/// Practitioner role codes (`practitionerRole.role`, JWT practitioner role).
pub const SDS_JOB_ROLE_NAME_SYSTEM: &str = "http://fhir.nhs.net/ValueSet/sds-job-role-name-1";
/// SNOMED CT.
pub const SNOMED_SYSTEM: &str = "http://snomed.info/sct";

// --- Fixed codes and texts of the response, digest §1.5 --------------------

/// `Composition.title`.
pub const COMPOSITION_TITLE: &str = "Patient Care Record";
/// `Composition.status`.
pub const COMPOSITION_STATUS: &str = "final";
/// `Composition.type` SNOMED code.
pub const COMPOSITION_TYPE_CODE: &str = "425173008";
/// `Composition.type` display and text.
pub const COMPOSITION_TYPE_DISPLAY: &str = "record extract (record artifact)";
/// `Composition.class` SNOMED code.
pub const COMPOSITION_CLASS_CODE: &str = "700232004";
/// `Composition.class` display and text.
pub const COMPOSITION_CLASS_DISPLAY: &str = "general medical service (qualifier value)";
/// `Composition.section.text.status`.
pub const SECTION_TEXT_STATUS: &str = "generated";
/// `Device.type` SNOMED code.
pub const DEVICE_TYPE_CODE: &str = "462240000";
/// `Device.type` display.
pub const DEVICE_TYPE_DISPLAY: &str = "Patient health record information system (physical object)";
/// `Bundle.type` of the response.
pub const BUNDLE_TYPE: &str = "searchset";

// --- The operation, digest §1.1 and §1.4 ----------------------------------

/// The operation name as the Conformance lists it (no `$`; case-sensitive).
pub const OPERATION_NAME: &str = "gpc.getcarerecord";
/// `Conformance.rest.operation.definition.reference`.
pub const OPERATION_DEFINITION_REFERENCE: &str = "OperationDefinition/gpc.getcarerecord";
/// Parameter: the patient's NHS number (`valueIdentifier`, 1..1).
pub const PARAM_PATIENT_NHS_NUMBER: &str = "patientNHSNumber";
/// Parameter: the record section (`valueCodeableConcept`, 1..1).
pub const PARAM_RECORD_SECTION: &str = "recordSection";
/// Parameter: the date filter (`valuePeriod`, 0..1).
pub const PARAM_TIME_PERIOD: &str = "timePeriod";

/// A record section of value set `gpconnect-record-section-1` (digest §1.4):
/// one per getcarerecord call. `INV` and `PAT` belong to the 0.5 value set
/// and are not sections of 0.7; Emergency Codes has no code of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordSection {
    /// `SUM` Summary.
    Summary,
    /// `ENC` Encounters.
    Encounters,
    /// `CLI` Clinical Items.
    ClinicalItems,
    /// `PRB` Problems and Issues.
    Problems,
    /// `ALL` Allergies and Adverse Reactions.
    Allergies,
    /// `MED` Medications.
    Medications,
    /// `REF` Referrals.
    Referrals,
    /// `OBS` Observations.
    Observations,
    /// `IMM` Immunisations.
    Immunisations,
    /// `ADM` Administrative Items.
    AdministrativeItems,
}

impl RecordSection {
    /// Every section, in the value set's order.
    pub const ALL: [RecordSection; 10] = [
        RecordSection::Summary,
        RecordSection::Encounters,
        RecordSection::ClinicalItems,
        RecordSection::Problems,
        RecordSection::Allergies,
        RecordSection::Medications,
        RecordSection::Referrals,
        RecordSection::Observations,
        RecordSection::Immunisations,
        RecordSection::AdministrativeItems,
    ];

    /// The code (`SUM`, `ENC`, ...).
    pub fn code(self) -> &'static str {
        match self {
            RecordSection::Summary => "SUM",
            RecordSection::Encounters => "ENC",
            RecordSection::ClinicalItems => "CLI",
            RecordSection::Problems => "PRB",
            RecordSection::Allergies => "ALL",
            RecordSection::Medications => "MED",
            RecordSection::Referrals => "REF",
            RecordSection::Observations => "OBS",
            RecordSection::Immunisations => "IMM",
            RecordSection::AdministrativeItems => "ADM",
        }
    }

    /// The title: `section.title`, `code.coding[0].display`, `code.text` and
    /// the HTML `h1`. The suite's titles win over the old value-set file
    /// (digest §1.4 \[CONFLICT\]).
    pub fn title(self) -> &'static str {
        match self {
            RecordSection::Summary => "Summary",
            RecordSection::Encounters => "Encounters",
            RecordSection::ClinicalItems => "Clinical Items",
            RecordSection::Problems => "Problems and Issues",
            RecordSection::Allergies => "Allergies and Adverse Reactions",
            RecordSection::Medications => "Medications",
            RecordSection::Referrals => "Referrals",
            RecordSection::Observations => "Observations",
            RecordSection::Immunisations => "Immunisations",
            RecordSection::AdministrativeItems => "Administrative Items",
        }
    }

    /// Whether a `timePeriod` is accepted; a period on SUM, ALL or IMM is
    /// answered with 400 (digest §1.4, §4).
    pub fn accepts_time_period(self) -> bool {
        !matches!(
            self,
            RecordSection::Summary | RecordSection::Allergies | RecordSection::Immunisations
        )
    }

    /// The section for an exact, case-sensitive code: `sum` or `Sum` is not
    /// `SUM` (digest §1.4: 422 INVALID_PARAMETER).
    pub fn from_code(code: &str) -> Option<RecordSection> {
        RecordSection::ALL.into_iter().find(|s| s.code() == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_codes_are_exact_and_case_sensitive() {
        for s in RecordSection::ALL {
            assert_eq!(RecordSection::from_code(s.code()), Some(s));
            assert_eq!(RecordSection::from_code(&s.code().to_lowercase()), None);
        }
        for bad in ["", "Sum", "sUm", "ZZZ", "INV", "PAT", " SUM"] {
            assert_eq!(RecordSection::from_code(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_sum_all_and_imm_refuse_a_time_period() {
        let refusing: Vec<_> = RecordSection::ALL
            .into_iter()
            .filter(|s| !s.accepts_time_period())
            .map(RecordSection::code)
            .collect();
        assert_eq!(refusing, ["SUM", "ALL", "IMM"]);
    }

    #[test]
    fn titles_follow_the_suite() {
        assert_eq!(
            RecordSection::Allergies.title(),
            "Allergies and Adverse Reactions"
        );
        assert_eq!(RecordSection::Problems.title(), "Problems and Issues");
    }
}
