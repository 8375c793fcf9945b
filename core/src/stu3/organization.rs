//! `Organization`, profiled by CareConnect-GPC-Organization-1: returned by
//! find (F7), read (F8) and every non-empty slot search (§4.3), and received
//! as the **contained booking organisation** of a book request (R3, R4).
//!
//! F7/F8 say `contact` and `endpoint` must NOT be populated (a population
//! rule; the profile allows them, so they are modelled). The profile makes
//! `name` 1..1 and `type` 0..1; the codec keeps STU3's 0..1 / 0..* so R4 can
//! answer a booking organisation without a name with its own 422.
//!
//! The profile sets no element of Organization itself to `max = 0` (only
//! `identifier:odsOrganisationCode.use/type/period/assigner` and
//! `address.state`/`contact.address.state`, which live on the shared
//! [`Identifier`] and [`Address`] types), so every STU3 element is modelled.

use super::datatypes::HumanName;
use super::resource::Resource;
use crate::fhir::datatypes::{
    Address, CodeableConcept, ContactPoint, Extension, Identifier, Meta, Narrative, Reference,
};
use crate::fhir::primitive::{Code, Id};

fhir_resource! {
    /// A GP practice or other organisation, identified by its ODS code
    /// (CareConnect-GPC-Organization-1; F7, F8, R4).
    pub struct Organization ("Organization") {
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
        type_: vec CodeableConcept = "type",
        name: opt String = "name",
        alias: vec String = "alias",
        telecom: vec ContactPoint = "telecom",
        address: vec Address = "address",
        part_of: opt Reference = "partOf",
        contact: vec OrganizationContact = "contact",
        endpoint: vec Reference = "endpoint",
    }
}

fhir_struct! {
    /// A contact person for the organisation (F7/F8: must not be populated).
    pub struct OrganizationContact {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        purpose: opt CodeableConcept = "purpose",
        name: opt HumanName = "name",
        telecom: vec ContactPoint = "telecom",
        address: opt Address = "address",
    }
}
