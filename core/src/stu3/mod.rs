//! FHIR STU3 resources of GP Connect Foundations and Appointment Management
//! 1.2.9, declared with the [`fhir`](crate::fhir) macros.
//!
//! One module per resource, each element in STU3 3.0.1 schema order (XML is
//! written in declaration order). What goes in:
//!
//! - every element the GP Connect profile (CareConnect-GPC-*-1,
//!   GPConnect-*-1) allows, including those a use case forbids consumers to
//!   send (e.g. `Appointment.reason`, `specialty`; `Patient.active`,
//!   `contact`, ...), so the rules can reject them with their own code;
//! - cardinalities from **base STU3** (`req` only where STU3 says 1..1).
//!   Minimums a profile adds (e.g. `Appointment.start`, `Organization.name`)
//!   are checked by the rules, because the spec answers some of them with
//!   codes other than 422 (R65: a missing family name is 400 BAD_REQUEST).
//!
//! What stays out: elements a profile sets to `max = 0`, so the codec
//! rejects them as unknown elements (422 INVALID_RESOURCE, R8), and the two
//! elements that would need a `decimal` primitive (`Location.position`,
//! `CapabilityStatement.useContext`). Each module lists its omissions.
//!
//! Deliberate leniency, beyond the codec's own (empty JSON arrays read as
//! absent; XML elements in any order): `positiveInt`
//! (`Appointment.minutesDuration`) is read as an unsigned integer, so 0 is
//! accepted; there is no positiveInt primitive. Nothing else: the spec
//! examples that are not valid STU3 (digest §9) are rejected, not repaired.

pub mod appointment;
pub mod binary;
pub mod bundle;
pub mod capability_statement;
pub mod datatypes;
pub mod device;
pub mod location;
pub mod operation_outcome;
pub mod organization;
pub mod parameters;
pub mod patient;
pub mod practitioner;
pub mod practitioner_role;
pub mod profiles;
pub mod resource;
pub mod schedule;
pub mod slot;

pub use appointment::*;
pub use binary::*;
pub use bundle::*;
pub use capability_statement::*;
pub use datatypes::*;
pub use device::*;
pub use location::*;
pub use operation_outcome::*;
pub use organization::*;
pub use parameters::*;
pub use patient::*;
pub use practitioner::*;
pub use practitioner_role::*;
pub use resource::Resource;
pub use schedule::*;
pub use slot::*;

/// The data types STU3 shares with DSTU2, re-exported so STU3 code can take
/// everything from `stu3`.
pub use crate::fhir::datatypes::{
    Address, CodeableConcept, Coding, ContactPoint, Extension, ExtensionValue, Identifier, Meta,
    Narrative, Period, Reference,
};
/// The primitives the STU3 model uses.
pub use crate::fhir::primitive::{Code, Date, DateTime, Id, Instant, Time};

#[cfg(test)]
mod roundtrip {
    use super::Resource;
    use crate::fhir::arbitrary::{Gen, Rng};
    use crate::fhir::{Limits, from_json, from_xml, to_json, to_xml};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Every STU3 resource of the model survives JSON → model → XML →
        /// model → JSON unchanged (issue 2, codecs).
        #[test]
        fn stu3_resources_round_trip_json_xml_json(seed in any::<u64>()) {
            let r = Resource::gen_value(&mut Rng::new(seed), 0);
            let json = to_json(&r);
            let a: Resource = from_json(&json, Limits::IMPORT)
                .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&json))))?;
            prop_assert_eq!(&a, &r);
            let xml = to_xml(&a);
            let b: Resource = from_xml(xml.as_bytes(), Limits::IMPORT)
                .map_err(|e| TestCaseError::fail(format!("{e}: {xml}")))?;
            prop_assert_eq!(&b, &r);
            prop_assert_eq!(to_json(&b), json);
        }
    }
}
