//! `Device`: the JWT `requesting_device` claim, a **base** STU3 Device (not
//! GP Connect-profiled; digest §3.2) with `identifier[]`, `model` and
//! `version`. An unknown field in the claim is 422 INVALID_RESOURCE (§3.3),
//! which is what decoding it with this model gives.
//!
//! No profile applies, so every STU3 element is modelled.

use super::datatypes::Annotation;
use super::resource::Resource;
use crate::fhir::datatypes::{
    CodeableConcept, ContactPoint, Extension, Identifier, Meta, Narrative, Reference,
};
use crate::fhir::primitive::Base64Binary;
use crate::fhir::primitive::{Code, DateTime, Id};

fhir_resource! {
    /// The consumer system making the request (JWT `requesting_device`).
    pub struct Device ("Device") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        identifier: vec Identifier = "identifier",
        udi: opt DeviceUdi = "udi",
        status: opt Code = "status",
        type_: opt CodeableConcept = "type",
        lot_number: opt String = "lotNumber",
        manufacturer: opt String = "manufacturer",
        manufacture_date: opt DateTime = "manufactureDate",
        expiration_date: opt DateTime = "expirationDate",
        model: opt String = "model",
        version: opt String = "version",
        patient: opt Reference = "patient",
        owner: opt Reference = "owner",
        contact: vec ContactPoint = "contact",
        location: opt Reference = "location",
        url: opt String = "url",
        note: vec Annotation = "note",
        safety: vec CodeableConcept = "safety",
    }
}

fhir_struct! {
    /// Unique Device Identifier (UDI) barcode data.
    pub struct DeviceUdi {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        device_identifier: opt String = "deviceIdentifier",
        name: opt String = "name",
        jurisdiction: opt String = "jurisdiction",
        carrier_hrf: opt String = "carrierHRF",
        carrier_aidc: opt Base64Binary = "carrierAIDC",
        issuer: opt String = "issuer",
        entry_type: opt Code = "entryType",
    }
}
