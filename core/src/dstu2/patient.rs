//! `Patient` (DSTU2 1.0.2) as profiled by `gpconnect-patient-1`: the one
//! Patient entry of the getcarerecord Bundle (digest accessrecord §1.5).
//!
//! Left out because the profile forbids them (digest §1.5: "Never `photo`,
//! `animal` or `link`"), so the codec rejects them with 422 as unknown
//! elements: `Patient.photo`, `Patient.animal`, `Patient.link`.
//!
//! Profile rules the codec does not enforce (rules layer): exactly one
//! `meta.profile`, a `meta.versionId`, one NHS-number identifier with a valid
//! check digit, `telecom` with system and value, at most one `careProvider`.

use super::datatypes::HumanName;
use super::resource::Resource;
use crate::fhir::datatypes::{
    Address, CodeableConcept, ContactPoint, Extension, Identifier, Meta, Narrative, Period,
    Reference,
};
use crate::fhir::primitive::{Code, Date, DateTime, Id};

fhir_choice! {
    /// `Patient.deceased[x]`. GP Connect 0.7.4 requires `deceasedDateTime`
    /// when a date of death is recorded (digest §1.5); the suite rejects the
    /// boolean form, which is kept so such input reaches the rules.
    pub enum PatientDeceased {
        /// `deceasedBoolean`.
        Boolean(bool) = "deceasedBoolean",
        /// `deceasedDateTime`: the date of death.
        DateTime(DateTime) = "deceasedDateTime",
    }
}

fhir_choice! {
    /// `Patient.multipleBirth[x]`.
    pub enum PatientMultipleBirth {
        /// `multipleBirthBoolean`.
        Boolean(bool) = "multipleBirthBoolean",
        /// `multipleBirthInteger`: birth order.
        Integer(i32) = "multipleBirthInteger",
    }
}

fhir_struct! {
    /// A contact party (next of kin, guardian, ...).
    pub struct PatientContact {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// The kind of relationship.
        relationship: vec CodeableConcept = "relationship",
        /// The contact's name.
        name: opt HumanName = "name",
        /// Contact details.
        telecom: vec ContactPoint = "telecom",
        /// The contact's address.
        address: opt Address = "address",
        /// male | female | other | unknown.
        gender: opt Code = "gender",
        /// An Organization entry, when the contact is an organisation.
        organization: opt Reference = "organization",
        /// When the contact is valid.
        period: opt Period = "period",
    }
}

fhir_struct! {
    /// A language the patient may be addressed in.
    pub struct PatientCommunication {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// The language (1..1).
        language: req CodeableConcept = "language",
        /// Whether it is the preferred language.
        preferred: opt bool = "preferred",
    }
}

fhir_resource! {
    /// The patient whose record is returned (digest §1.5): NHS number,
    /// name, gender, birthDate, `deceasedDateTime` when recorded,
    /// `careProvider` → the Practitioner entry, `managingOrganization` → the
    /// Organization entry.
    pub struct Patient ("Patient") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// The NHS number (`http://fhir.nhs.net/Id/nhs-number`).
        identifier: vec Identifier = "identifier",
        /// Whether the record is in active use.
        active: opt bool = "active",
        /// Names (family repeats in DSTU2).
        name: vec HumanName = "name",
        /// Contact details.
        telecom: vec ContactPoint = "telecom",
        /// male | female | other | unknown.
        gender: opt Code = "gender",
        /// Date of birth.
        birth_date: opt Date = "birthDate",
        /// Date of death (`deceasedDateTime`) or a flag.
        deceased: choice PatientDeceased = "deceased",
        /// Addresses.
        address: vec Address = "address",
        /// Marital status.
        marital_status: opt CodeableConcept = "maritalStatus",
        /// Multiple-birth flag or order.
        multiple_birth: choice PatientMultipleBirth = "multipleBirth",
        /// Contact parties.
        contact: vec PatientContact = "contact",
        /// Languages.
        communication: vec PatientCommunication = "communication",
        /// The usual GP: a Practitioner entry (at most one in GP Connect).
        care_provider: vec Reference = "careProvider",
        /// The registered practice: the Organization entry.
        managing_organization: opt Reference = "managingOrganization",
    }
}
