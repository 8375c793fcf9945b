//! The STU3 resources of GP Connect Foundations and Appointment Management
//! 1.2.9 as one enum: the type of `contained`, `Bundle.entry.resource` and
//! `Parameters.parameter.resource`, and what a handler decodes when the
//! resource type is not known in advance (R8: a wrong or unsupported
//! `resourceType` is 422 INVALID_RESOURCE).

use super::{
    Appointment, Binary, Bundle, CapabilityStatement, Device, Location, OperationOutcome,
    Organization, Parameters, Patient, Practitioner, PractitionerRole, Schedule, Slot,
};

fhir_resource_enum! {
    /// Any STU3 resource this engine reads or writes.
    pub enum Resource {
        Patient,
        Practitioner,
        PractitionerRole,
        Organization,
        Location,
        Schedule,
        Slot,
        Appointment,
        Bundle,
        OperationOutcome,
        CapabilityStatement,
        Parameters,
        Device,
        Binary,
    }
}
