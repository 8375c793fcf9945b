//! `Schedule`, profiled by GPConnect-Schedule-1: returned by the slot search
//! (§4.3) for the slots it returns.
//!
//! `actor[]` references the Location where the appointment takes place and
//! optionally a Practitioner; `planningHorizon.start` is 1..1 in the profile;
//! `serviceCategory.text` carries the **schedule type** (R18); the
//! practitioner role travels in `Extension-GPConnect-PractitionerRole-1`.
//! "No specialty" and "no comment" (§4.3, test suite) are population rules:
//! the profile allows both, so they are modelled.
//!
//! Left out because GPConnect-Schedule-1 sets `max = 0` (digest §4.3; R8):
//! - `Schedule.active`
//! - `Schedule.serviceType`
//!
//! (The older GPConnect-Schedule-1 revision in STU3-FHIR-Assets also set
//! `serviceCategory` to 0..0; 1.2.9 populates it with the schedule type, so
//! the model follows the 1.2.9 digest and examples.)

use super::resource::Resource;
use crate::fhir::datatypes::{
    CodeableConcept, Extension, Identifier, Meta, Narrative, Period, Reference,
};
use crate::fhir::primitive::{Code, Id};

fhir_resource! {
    /// The bookable time of a Location (and optionally a Practitioner) that
    /// Slots belong to (GPConnect-Schedule-1; §4.3).
    pub struct Schedule ("Schedule") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        identifier: vec Identifier = "identifier",
        service_category: opt CodeableConcept = "serviceCategory",
        specialty: vec CodeableConcept = "specialty",
        actor: vec Reference = "actor",
        planning_horizon: opt Period = "planningHorizon",
        comment: opt String = "comment",
    }
}
