//! `Practitioner`, profiled by CareConnect-GPC-Practitioner-1: returned by
//! find (F5), read (F6) and the slot search `_include` (§4.3).
//!
//! F5/F6 say `telecom`, `address`, `birthDate`, `photo` and `qualification`
//! must NOT be populated. That is a population rule for the provider, not a
//! profile limit, so they are modelled (the response builder simply leaves
//! them empty).
//!
//! Left out because CareConnect-GPC-Practitioner-1 sets `max = 0` (R8):
//! - `Practitioner.communication` (the NHSCommunication extension replaces it)
//!
//! `name` is 1..1 in the profile but 0..* in STU3, so it stays a list (JSON
//! always carries an array).

use super::datatypes::{Attachment, HumanName};
use super::resource::Resource;
use crate::fhir::datatypes::{
    Address, CodeableConcept, ContactPoint, Extension, Identifier, Meta, Narrative, Period,
    Reference,
};
use crate::fhir::primitive::{Code, Date, Id};

fhir_resource! {
    /// A practitioner (CareConnect-GPC-Practitioner-1; F5, F6, and a
    /// Schedule actor in the slot search, §4.3).
    pub struct Practitioner ("Practitioner") {
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
        address: vec Address = "address",
        gender: opt Code = "gender",
        birth_date: opt Date = "birthDate",
        photo: vec Attachment = "photo",
        qualification: vec PractitionerQualification = "qualification",
    }
}

fhir_struct! {
    /// A qualification of the practitioner (F5/F6: must not be populated).
    pub struct PractitionerQualification {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        identifier: vec Identifier = "identifier",
        code: req CodeableConcept = "code",
        period: opt Period = "period",
        issuer: opt Reference = "issuer",
    }
}
