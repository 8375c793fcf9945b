//! `Organization` (DSTU2 1.0.2) as profiled by `gpconnect-organization-1`
//! (digest accessrecord §1.5): the registered practice, which the Patient's
//! `managingOrganization` (and the Composition's `custodian`) point at.
//!
//! Every DSTU2 element is modelled: the digest records no element the profile
//! forbids. Profile rules the codec does not enforce (rules layer):
//! `meta.profile` and `meta.versionId`; at most one
//! `http://fhir.nhs.net/Id/ods-organization-code` identifier.

use super::datatypes::HumanName;
use super::resource::Resource;
use crate::fhir::datatypes::{
    Address, CodeableConcept, ContactPoint, Extension, Identifier, Meta, Narrative, Reference,
};
use crate::fhir::primitive::{Code, Id};

fhir_struct! {
    /// A contact person for the organisation.
    pub struct OrganizationContact {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// The purpose of the contact.
        purpose: opt CodeableConcept = "purpose",
        /// The contact's name.
        name: opt HumanName = "name",
        /// Contact details.
        telecom: vec ContactPoint = "telecom",
        /// Visiting or postal address.
        address: opt Address = "address",
    }
}

fhir_resource! {
    /// The GP practice (digest §1.5), identified by its ODS code.
    pub struct Organization ("Organization") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// ODS organisation / site codes.
        identifier: vec Identifier = "identifier",
        /// Whether the record is in active use.
        active: opt bool = "active",
        /// Kind of organisation.
        type_: opt CodeableConcept = "type",
        /// Name, e.g. the practice name.
        name: opt String = "name",
        /// Contact details.
        telecom: vec ContactPoint = "telecom",
        /// Addresses.
        address: vec Address = "address",
        /// The organisation this one is part of.
        part_of: opt Reference = "partOf",
        /// Contact people.
        contact: vec OrganizationContact = "contact",
    }
}
