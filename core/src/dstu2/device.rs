//! `Device` (DSTU2 1.0.2) as profiled by `gpconnect-device-1`: the system
//! that generated the care record, the Composition's author (digest
//! accessrecord §1.5).
//!
//! Left out because `gpconnect-device-1` fixes them to `max = 0`, so the codec
//! rejects them with 422 as unknown elements: `Device.status`,
//! `Device.manufactureDate`, `Device.expiry`, `Device.udi`,
//! `Device.lotNumber`, `Device.patient`, `Device.contact`, `Device.url`.
//!
//! Profile rules the codec does not enforce (rules layer): at most one
//! identifier and one note; `type.coding` fixed to SNOMED 462240000
//! "Patient health record information system (physical object)" with no
//! `type.text`; `note.author[x]` and `note.time` absent.

use super::datatypes::Annotation;
use super::resource::Resource;
use crate::fhir::datatypes::{CodeableConcept, Extension, Identifier, Meta, Narrative, Reference};
use crate::fhir::primitive::{Code, Id};

fhir_resource! {
    /// The record-generating system (digest §1.5).
    pub struct Device ("Device") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Instance identifier (at most one in the profile).
        identifier: vec Identifier = "identifier",
        /// SNOMED 462240000 (1..1 in DSTU2 and in the profile).
        type_: req CodeableConcept = "type",
        /// Notes (at most one in the profile).
        note: vec Annotation = "note",
        /// Manufacturer name.
        manufacturer: opt String = "manufacturer",
        /// Model.
        model: opt String = "model",
        /// Software version.
        version: opt String = "version",
        /// The owning Organization.
        owner: opt Reference = "owner",
        /// Where the device is.
        location: opt Reference = "location",
    }
}
