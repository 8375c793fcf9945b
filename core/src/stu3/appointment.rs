//! `Appointment`, profiled by GPConnect-Appointment-1: the body of book (A2),
//! amend (A4) and cancel (A5) requests, and of every appointment response
//! (A2–A6).
//!
//! Modelled although the use-case rules forbid consumers to send them, so the
//! rules can reject them precisely: `reason` and `specialty` (R8; ≤ 1 in the
//! profile, 0..* in STU3). `serviceCategory` and `serviceType` are ignored on
//! book/amend (R19) and populated by the provider (R18: schedule type and
//! slot type). The profile makes `description`, `start`, `end`, `slot` (1..*)
//! and `participant.actor` required; the codec keeps STU3's cardinalities
//! (only `status` and `participant.status` are 1..1 there) so R3 answers
//! their absence.
//!
//! Left out because GPConnect-Appointment-1 sets `max = 0` (digest §8.4; R8):
//! - `Appointment.appointmentType`
//! - `Appointment.indication`
//! - `Appointment.supportingInformation`
//! - `Appointment.incomingReferral`
//! - `Appointment.requestedPeriod`
//!
//! (An older GPConnect-Appointment-1 revision in STU3-FHIR-Assets also set
//! `serviceCategory`/`serviceType` to 0..0; 1.2.9 responses carry both, so
//! the model follows the 1.2.9 digest and examples.)

use super::resource::Resource;
use crate::fhir::datatypes::{CodeableConcept, Extension, Identifier, Meta, Narrative, Reference};
use crate::fhir::primitive::{Code, DateTime, Id, Instant};

fhir_resource! {
    /// A booking of one or more contiguous slots for a patient at a location
    /// (GPConnect-Appointment-1; A2–A6). The booking organisation is a
    /// contained Organization referenced by
    /// `Extension-GPConnect-BookingOrganisation-1` (R3, R4, R20).
    pub struct Appointment ("Appointment") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        identifier: vec Identifier = "identifier",
        status: req Code = "status",
        service_category: opt CodeableConcept = "serviceCategory",
        service_type: vec CodeableConcept = "serviceType",
        specialty: vec CodeableConcept = "specialty",
        reason: vec CodeableConcept = "reason",
        /// `unsignedInt` (0 = undefined, 1 highest, 9 lowest).
        priority: opt u32 = "priority",
        description: opt String = "description",
        start: opt Instant = "start",
        end: opt Instant = "end",
        /// STU3 `positiveInt`: the codec accepts 0 (there is no positiveInt
        /// primitive); a rule must reject 0 if it matters.
        minutes_duration: opt u32 = "minutesDuration",
        slot: vec Reference = "slot",
        created: opt DateTime = "created",
        comment: opt String = "comment",
        participant: vec AppointmentParticipant = "participant",
    }
}

fhir_struct! {
    /// A participant: the Patient, the Location and (where known) the
    /// Practitioner (R3, R5, R18). `status` is 1..1 in STU3.
    pub struct AppointmentParticipant {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        type_: vec CodeableConcept = "type",
        actor: opt Reference = "actor",
        required: opt Code = "required",
        status: req Code = "status",
    }
}
