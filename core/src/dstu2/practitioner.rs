//! `Practitioner` (DSTU2 1.0.2) as profiled by `gpconnect-practitioner-1`
//! (digest accessrecord §1.5): the usual GP the Patient's `careProvider`
//! points at.
//!
//! Left out because the profile forbids them (digest §1.5: "no
//! `photo`/`qualification`"), so the codec rejects them with 422 as unknown
//! elements: `Practitioner.photo`, `Practitioner.qualification`.
//!
//! Profile rules the codec does not enforce (rules layer): `meta.profile` and
//! `meta.versionId`; at most one `sds-user-id` and one `sds-role-profile-id`
//! identifier; role codings with system, code and display.

use super::datatypes::HumanName;
use super::resource::Resource;
use crate::fhir::datatypes::{
    Address, CodeableConcept, ContactPoint, Extension, Identifier, Meta, Narrative, Period,
    Reference,
};
use crate::fhir::primitive::{Code, Date, Id};

fhir_struct! {
    /// A role the practitioner holds at an organisation (DSTU2 backbone
    /// `Practitioner.practitionerRole`; STU3 moved this to PractitionerRole).
    pub struct PractitionerPractitionerRole {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// The organisation the role is held at (an Organization entry).
        managing_organization: opt Reference = "managingOrganization",
        /// The role (`http://fhir.nhs.net/ValueSet/sds-job-role-name-1`).
        role: opt CodeableConcept = "role",
        /// Specialties.
        specialty: vec CodeableConcept = "specialty",
        /// When the role is held.
        period: opt Period = "period",
        /// Locations the role is exercised at.
        location: vec Reference = "location",
        /// HealthcareServices provided in the role.
        healthcare_service: vec Reference = "healthcareService",
    }
}

fhir_resource! {
    /// A GP or other clinician (digest §1.5): SDS user id, a single name,
    /// roles at the practice.
    pub struct Practitioner ("Practitioner") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// SDS user id / role profile id.
        identifier: vec Identifier = "identifier",
        /// Whether the record is in active use.
        active: opt bool = "active",
        /// The single name (0..1 in DSTU2).
        name: opt HumanName = "name",
        /// Contact details.
        telecom: vec ContactPoint = "telecom",
        /// Addresses.
        address: vec Address = "address",
        /// male | female | other | unknown.
        gender: opt Code = "gender",
        /// Date of birth.
        birth_date: opt Date = "birthDate",
        /// Roles at organisations.
        practitioner_role: vec PractitionerPractitionerRole = "practitionerRole",
        /// Languages spoken.
        communication: vec CodeableConcept = "communication",
    }
}
