//! `Slot`, profiled by GPConnect-Slot-1: returned by the slot search (§4.3)
//! and referenced from `Appointment.slot` (R10, R11, R13, R14).
//!
//! `serviceType[0].text` carries the practice-defined **slot type** (SHALL,
//! §4.3/R18); the delivery channel travels in
//! `Extension-GPConnect-DeliveryChannel-2`. "Must NOT have specialty" and "no
//! comment" (§4.3) are population rules; the profile allows both
//! (`specialty` ≤ 1), so they are modelled. `schedule`, `status`, `start` and
//! `end` are 1..1 in STU3 and therefore required by the codec; `start`/`end`
//! are `instant`s (seconds and a zone offset are mandatory).
//!
//! Left out because GPConnect-Slot-1 sets `max = 0` (digest §4.3; R8):
//! - `Slot.serviceCategory`
//! - `Slot.appointmentType`
//!
//! (The older GPConnect-Slot-1 revision in STU3-FHIR-Assets also set
//! `serviceType` to 0..0; 1.2.9 populates it with the slot type, so the model
//! follows the 1.2.9 digest and examples.)

use super::resource::Resource;
use crate::fhir::datatypes::{CodeableConcept, Extension, Identifier, Meta, Narrative, Reference};
use crate::fhir::primitive::{Code, Id, Instant};

fhir_resource! {
    /// A bookable (or booked) interval of a Schedule (GPConnect-Slot-1; §4).
    pub struct Slot ("Slot") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        identifier: vec Identifier = "identifier",
        service_type: vec CodeableConcept = "serviceType",
        specialty: vec CodeableConcept = "specialty",
        schedule: req Reference = "schedule",
        status: req Code = "status",
        start: req Instant = "start",
        end: req Instant = "end",
        overbooked: opt bool = "overbooked",
        comment: opt String = "comment",
    }
}
