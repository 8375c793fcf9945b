//! Every DSTU2 resource of Access Record HTML as one enum: the type of
//! `Bundle.entry.resource`, `Parameters.parameter.resource` and `contained`,
//! and a decode target for "any resource" (e.g. telling a body that is not a
//! Parameters apart from a malformed one, digest accessrecord §4).

use super::bundle::Bundle;
use super::composition::Composition;
use super::conformance::Conformance;
use super::device::Device;
use super::location::Location;
use super::operation_outcome::OperationOutcome;
use super::organization::Organization;
use super::parameters::Parameters;
use super::patient::Patient;
use super::practitioner::Practitioner;

fhir_resource_enum! {
    /// A DSTU2 resource of Access Record HTML 0.7.x; any other `resourceType`
    /// is refused with 422.
    pub enum Resource {
        Parameters,
        Bundle,
        Composition,
        Patient,
        Practitioner,
        Organization,
        Device,
        Location,
        OperationOutcome,
        Conformance,
    }
}
