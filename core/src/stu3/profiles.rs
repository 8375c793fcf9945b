//! Canonical URLs the STU3 rules compare against or write (digest §8.2,
//! §8.4, §6.1), so no rule spells a URL by hand. All are case-sensitive and
//! exact; note the British spelling in `BookingOrganisation` and
//! `OrganisationType`, and the American one in `ods-organization-code`.

/// `meta.profile` values (§8.4).
pub mod profile {
    /// CareConnect-GPC-Patient-1 (F2, F3, F4).
    pub const PATIENT: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Patient-1";
    /// CareConnect-GPC-Practitioner-1 (F5, F6).
    pub const PRACTITIONER: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Practitioner-1";
    /// CareConnect-GPC-PractitionerRole-1 (F1 `profile[]`).
    pub const PRACTITIONER_ROLE: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-PractitionerRole-1";
    /// CareConnect-GPC-Organization-1 (F7, F8, the contained booking organisation, R4).
    pub const ORGANIZATION: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Organization-1";
    /// CareConnect-GPC-Location-1 (F9).
    pub const LOCATION: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/CareConnect-GPC-Location-1";
    /// GPConnect-Appointment-1 (A2–A6; R2 requires it on book).
    pub const APPOINTMENT: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Appointment-1";
    /// GPConnect-Slot-1 (§4.3).
    pub const SLOT: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Slot-1";
    /// GPConnect-Schedule-1 (§4.3).
    pub const SCHEDULE: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Schedule-1";
    /// GPConnect-OperationOutcome-1 (§6.1).
    pub const OPERATION_OUTCOME: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-OperationOutcome-1";
    /// GPConnect-Searchset-Bundle-1 (every searchset: finds, A1, A6, the F4 response).
    pub const SEARCHSET_BUNDLE: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/GPConnect-Searchset-Bundle-1";
    /// The register operation's definition (F1 `operation`, F4).
    pub const REGISTER_PATIENT_OPERATION: &str =
        "https://fhir.nhs.uk/STU3/OperationDefinition/GPConnect-RegisterPatient-Operation-1";
    /// The name of the register operation (`POST /Patient/$gpc.registerpatient`).
    pub const REGISTER_PATIENT_OPERATION_NAME: &str = "gpc.registerpatient";
    /// The one parameter of the register operation (F4; R65: exactly one).
    pub const REGISTER_PATIENT_PARAMETER: &str = "registerPatient";
}

/// Extension URLs (§8.4) and the `url`s of their sub-extensions.
pub mod extension {
    /// Booking organisation: `valueReference` to the contained Organization (`#1`; R3, R20).
    pub const BOOKING_ORGANISATION: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-BookingOrganisation-1";
    /// Practitioner role: `valueCodeableConcept` from CareConnect-SDSJobRoleName-1 (§4.3, R18).
    pub const PRACTITIONER_ROLE: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-PractitionerRole-1";
    /// Delivery channel: `valueCode` `In-person`, `Telephone`, `Video` (§4.3, R14, R18).
    pub const DELIVERY_CHANNEL: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-DeliveryChannel-2";
    /// Cancellation reason: `valueString` (R36, R38; must not be sent on book/amend, R9, R27).
    pub const APPOINTMENT_CANCELLATION_REASON: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-GPConnect-AppointmentCancellationReason-1";
    /// Registration details (complex; F2, F4).
    pub const REGISTRATION_DETAILS: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-RegistrationDetails-1";
    /// Sub-extension of [`REGISTRATION_DETAILS`]: `valuePeriod`.
    pub const REGISTRATION_PERIOD: &str = "registrationPeriod";
    /// Sub-extension of [`REGISTRATION_DETAILS`]: `valueCodeableConcept` (`T` on register).
    pub const REGISTRATION_TYPE: &str = "registrationType";
    /// Sub-extension of [`REGISTRATION_DETAILS`]: `valueReference` to a Location.
    pub const PREFERRED_BRANCH_SURGERY: &str = "preferredBranchSurgery";
    /// NHS communication (complex; F2, F4: at most one).
    pub const NHS_COMMUNICATION: &str =
        "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSCommunication-1";
    /// Sub-extension of [`NHS_COMMUNICATION`]: `valueCodeableConcept` (CareConnect-HumanLanguage-1).
    pub const NHS_COMMUNICATION_LANGUAGE: &str = "language";
    /// Sub-extension of [`NHS_COMMUNICATION`]: `valueBoolean`.
    pub const NHS_COMMUNICATION_INTERPRETER_REQUIRED: &str = "interpreterRequired";
    /// NHS number verification status, on the NHS-number identifier (§8.2).
    pub const NHS_NUMBER_VERIFICATION_STATUS: &str = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-CareConnect-GPC-NHSNumberVerificationStatus-1";
}

/// `Identifier.system` values (§8.2).
pub mod identifier_system {
    /// NHS number (Patient).
    pub const NHS_NUMBER: &str = "https://fhir.nhs.uk/Id/nhs-number";
    /// ODS organisation code (Organization, `searchFilter`, JWT organisation).
    pub const ODS_ORGANIZATION_CODE: &str = "https://fhir.nhs.uk/Id/ods-organization-code";
    /// ODS site code (Location; not used for routing).
    pub const ODS_SITE_CODE: &str = "https://fhir.nhs.uk/Id/ods-site-code";
    /// SDS user id (Practitioner, JWT).
    pub const SDS_USER_ID: &str = "https://fhir.nhs.uk/Id/sds-user-id";
    /// SDS role profile id (JWT practitioner).
    pub const SDS_ROLE_PROFILE_ID: &str = "https://fhir.nhs.uk/Id/sds-role-profile-id";
    /// Local organisation code (used by the test suite).
    pub const LOCAL_ORGANIZATION_CODE: &str = "https://fhir.nhs.uk/Id/local-organization-code";
    /// Local location identifier (used by the test suite).
    pub const LOCAL_LOCATION_IDENTIFIER: &str = "https://fhir.nhs.uk/Id/local-location-identifier";
}

/// Code systems (`Coding.system`) and the error-code URLs (§6.1, §8.2, §8.4).
pub mod code_system {
    /// Organisation type `searchFilter` and booking organisation `type`
    /// (`gp-practice`, `urgent-care`).
    pub const ORGANISATION_TYPE: &str =
        "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-OrganisationType-1";
    /// Delivery channel codes (`In-person`, `Telephone`, `Video`).
    pub const DELIVERY_CHANNEL: &str =
        "https://fhir.nhs.uk/STU3/CodeSystem/GPConnect-DeliveryChannel-1";
    /// SDS job role names (392 codes in 1.2.9), e.g. `R0260`.
    pub const SDS_JOB_ROLE_NAME: &str =
        "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-SDSJobRoleName-1";
    /// NHS number verification status (`01` "Number present and verified").
    pub const NHS_NUMBER_VERIFICATION_STATUS: &str =
        "https://fhir.nhs.uk/CareConnect-NHSNumberVerificationStatus-1";
    /// Registration type (`T` = temporary).
    pub const REGISTRATION_TYPE: &str = "https://fhir.nhs.uk/CareConnect-RegistrationType-1";
    /// Human language (NHSCommunication `language`).
    pub const HUMAN_LANGUAGE: &str =
        "https://fhir.nhs.uk/STU3/CodeSystem/CareConnect-HumanLanguage-1";
    /// Spine error codes, as the 1.2.x examples write `details.coding.system`
    /// (a ValueSet URL; §6.1).
    pub const SPINE_ERROR_OR_WARNING_CODE_VALUE_SET: &str =
        "https://fhir.nhs.uk/STU3/ValueSet/Spine-ErrorOrWarningCode-1";
    /// Spine error codes, the real CodeSystem URL (§6.1).
    pub const SPINE_ERROR_OR_WARNING_CODE: &str =
        "https://fhir.nhs.uk/STU3/CodeSystem/Spine-ErrorOrWarningCode-1";
    /// SNOMED CT (Appointment `reason` binding).
    pub const SNOMED_CT: &str = "http://snomed.info/sct";
}

/// Value sets (§4.3, §8.4).
pub mod value_set {
    /// Practitioner roles a bookable schedule or slot may carry.
    pub const PRACTITIONER_ROLE: &str =
        "https://fhir.nhs.uk/STU3/ValueSet/GPConnect-PractitionerRole-1";
    /// Delivery channels (extensible binding).
    pub const DELIVERY_CHANNEL: &str =
        "https://fhir.nhs.uk/STU3/ValueSet/GPConnect-DeliveryChannel-1";
    /// Organisation types.
    pub const ORGANISATION_TYPE: &str =
        "https://fhir.nhs.uk/STU3/ValueSet/GPConnect-OrganisationType-1";
}
