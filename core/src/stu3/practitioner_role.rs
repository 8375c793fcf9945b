//! `PractitionerRole`, profiled by CareConnect-GPC-PractitionerRole-1 (listed
//! in the CapabilityStatement `profile[]`, F1). No 1.2.9 interaction returns
//! one; the practitioner's role on a Schedule or Appointment travels in the
//! `Extension-GPConnect-PractitionerRole-1` extension instead.
//!
//! The profile sets no element to `max = 0` (only
//! `code:sdsJobRoleName.coding.version/userSelected`, which live on the shared
//! [`Coding`](crate::fhir::datatypes::Coding)), so every STU3 element is
//! modelled.

use super::resource::Resource;
use crate::fhir::datatypes::{
    CodeableConcept, ContactPoint, Extension, Identifier, Meta, Narrative, Period, Reference,
};
use crate::fhir::primitive::{Code, Id, Time};

fhir_resource! {
    /// The roles a practitioner performs at an organisation
    /// (CareConnect-GPC-PractitionerRole-1; `code` sliced by the SDS Job
    /// Role Name code system).
    pub struct PractitionerRole ("PractitionerRole") {
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
        period: opt Period = "period",
        practitioner: opt Reference = "practitioner",
        organization: opt Reference = "organization",
        code: vec CodeableConcept = "code",
        specialty: vec CodeableConcept = "specialty",
        location: vec Reference = "location",
        healthcare_service: vec Reference = "healthcareService",
        telecom: vec ContactPoint = "telecom",
        available_time: vec PractitionerRoleAvailableTime = "availableTime",
        not_available: vec PractitionerRoleNotAvailable = "notAvailable",
        availability_exceptions: opt String = "availabilityExceptions",
        endpoint: vec Reference = "endpoint",
    }
}

fhir_struct! {
    /// Days and times the practitioner is available in this role.
    pub struct PractitionerRoleAvailableTime {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        days_of_week: vec Code = "daysOfWeek",
        all_day: opt bool = "allDay",
        available_start_time: opt Time = "availableStartTime",
        available_end_time: opt Time = "availableEndTime",
    }
}

fhir_struct! {
    /// A period when the practitioner is not available in this role.
    pub struct PractitionerRoleNotAvailable {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        description: req String = "description",
        during: opt Period = "during",
    }
}
