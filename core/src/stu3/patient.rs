//! `Patient`, profiled by CareConnect-GPC-Patient-1: returned by find (F2),
//! read (F3) and register (F4), and received inside the register
//! `Parameters` (F4).
//!
//! Every element the profile allows is modelled, including those F4 says the
//! consumer must not send (`active`, `deceased[x]`, `maritalStatus`,
//! `multipleBirth[x]`, `contact`, `generalPractitioner`,
//! `managingOrganization`, `link`): the register rule (R65) has to see them to
//! answer 422 INVALID_RESOURCE, and the read/find responses populate
//! `active`, `contact` (§8.5) and `managingOrganization`.
//!
//! Left out because CareConnect-GPC-Patient-1 sets `max = 0` (so the codec
//! rejects them as unknown elements, 422 INVALID_RESOURCE, R8; for register
//! that is exactly R65's answer, with the element named in the path):
//! - `Patient.photo`
//! - `Patient.animal`
//! - `Patient.communication` (the NHSCommunication extension replaces it)
//!
//! Profile limits on shared data types (`identifier:nhsNumber.use/type/
//! period/assigner`, `address.state`, `maritalStatus.coding.version/
//! userSelected`, `maritalStatus.text` 0..0) are slice- or path-specific and
//! cannot be expressed on the shared [`Identifier`], [`Address`] and
//! [`CodeableConcept`] types; rules check them where they matter.

use super::datatypes::HumanName;
use super::resource::Resource;
use crate::fhir::datatypes::{
    Address, CodeableConcept, ContactPoint, Extension, Identifier, Meta, Narrative, Period,
    Reference,
};
use crate::fhir::primitive::{Code, Date, DateTime, Id};

fhir_choice! {
    /// `Patient.deceased[x]`: a flag or the date and time of death. A
    /// deceased patient is never "active" (F2) and cannot be registered (F4).
    pub enum PatientDeceased {
        Boolean(bool) = "deceasedBoolean",
        DateTime(DateTime) = "deceasedDateTime",
    }
}

fhir_choice! {
    /// `Patient.multipleBirth[x]`: a flag or the birth order. F2 says
    /// `multipleBirthBoolean` must not be populated; F4 (R65) rejects both.
    pub enum PatientMultipleBirth {
        Boolean(bool) = "multipleBirthBoolean",
        Integer(i32) = "multipleBirthInteger",
    }
}

fhir_resource! {
    /// A patient registered (or being registered) at the practice
    /// (CareConnect-GPC-Patient-1; F2, F3, F4).
    pub struct Patient ("Patient") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        identifier: vec Identifier = "identifier",
        active: opt bool = "active",
        name: vec HumanName = "name",
        telecom: vec ContactPoint = "telecom",
        gender: opt Code = "gender",
        birth_date: opt Date = "birthDate",
        deceased: choice PatientDeceased = "deceased",
        address: vec Address = "address",
        marital_status: opt CodeableConcept = "maritalStatus",
        multiple_birth: choice PatientMultipleBirth = "multipleBirth",
        contact: vec PatientContact = "contact",
        general_practitioner: vec Reference = "generalPractitioner",
        managing_organization: opt Reference = "managingOrganization",
        link: vec PatientLink = "link",
    }
}

fhir_struct! {
    /// A contact party of the patient, e.g. next of kin (digest §8.5:
    /// `relationship[].text` SHALL be set, `relationship.coding` SHALL NOT;
    /// name, telecom, address, gender, organization and period where
    /// available). F4 rejects it on register (R65).
    pub struct PatientContact {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        relationship: vec CodeableConcept = "relationship",
        name: opt HumanName = "name",
        telecom: vec ContactPoint = "telecom",
        address: opt Address = "address",
        gender: opt Code = "gender",
        organization: opt Reference = "organization",
        period: opt Period = "period",
    }
}

fhir_struct! {
    /// A link to another Patient resource about the same person
    /// (`replaced-by`, `replaces`, `refer`, `seealso`). Allowed by the
    /// profile; GP Connect gives it no use-case meaning.
    pub struct PatientLink {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        other: req Reference = "other",
        type_: req Code = "type",
    }
}
