//! `Location` (DSTU2 1.0.2) as profiled by `gpconnect-location-1`: a
//! surgery the getcarerecord Bundle may carry (digest accessrecord §1.5,
//! "Location, if present").
//!
//! Left out: `position` (its coordinates are `decimal`, which this model
//! does not carry; GP Connect does not use it), so it is refused with 422.

use super::resource::Resource;
use crate::fhir::datatypes::{
    Address, CodeableConcept, ContactPoint, Extension, Identifier, Meta, Narrative, Reference,
};
use crate::fhir::primitive::{Code, Id};

fhir_resource! {
    /// A physical place: the main or a branch surgery.
    pub struct Location ("Location") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// ODS site codes and local identifiers.
        identifier: vec Identifier = "identifier",
        /// `active | suspended | inactive`.
        status: opt Code = "status",
        /// The surgery's name.
        name: opt String = "name",
        /// Further description.
        description: opt String = "description",
        /// `instance | kind`.
        mode: opt Code = "mode",
        /// Type of function performed.
        type_: opt CodeableConcept = "type",
        /// Contact details.
        telecom: vec ContactPoint = "telecom",
        /// The surgery's address (0..1 in DSTU2).
        address: opt Address = "address",
        /// Physical form (building, room, ...).
        physical_type: opt CodeableConcept = "physicalType",
        /// The practice that runs it.
        managing_organization: opt Reference = "managingOrganization",
        /// A larger location it is part of.
        part_of: opt Reference = "partOf",
    }
}
