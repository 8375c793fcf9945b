//! `Location`, profiled by CareConnect-GPC-Location-1: returned by read (F9)
//! and the slot search `_include` (§4.3); one per surgery (main or branch),
//! linked to the practice through `managingOrganization`; the 1.2.9 'unknown'
//! visit Location (R48) is one too.
//!
//! Note that STU3 `Location.address` is **0..1** (an object in JSON). Two of
//! the spec's examples send an array; they are rejected (digest §9).
//!
//! Left out:
//! - `Location.mode`: CareConnect-GPC-Location-1 sets `max = 0` (R8).
//! - `Location.position`: allowed by the profile, but `longitude`,
//!   `latitude` and `altitude` are `decimal`, which the codec has no
//!   primitive for. No GP Connect 1.2.9 interaction or example uses it, and
//!   consumers never send a Location, so only the provider's own data could
//!   carry it; such data is rejected as an unknown element rather than
//!   modelled with a lossy number type.

use super::resource::Resource;
use crate::fhir::datatypes::{
    Address, CodeableConcept, Coding, ContactPoint, Extension, Identifier, Meta, Narrative,
    Reference,
};
use crate::fhir::primitive::{Code, Id};

fhir_resource! {
    /// A surgery (main or branch) where appointments take place
    /// (CareConnect-GPC-Location-1; F9, the Schedule actor, R3's Location
    /// participant).
    pub struct Location ("Location") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        identifier: vec Identifier = "identifier",
        status: opt Code = "status",
        operational_status: opt Coding = "operationalStatus",
        name: opt String = "name",
        alias: vec String = "alias",
        description: opt String = "description",
        type_: opt CodeableConcept = "type",
        telecom: vec ContactPoint = "telecom",
        address: opt Address = "address",
        physical_type: opt CodeableConcept = "physicalType",
        managing_organization: opt Reference = "managingOrganization",
        part_of: opt Reference = "partOf",
        endpoint: vec Reference = "endpoint",
    }
}
