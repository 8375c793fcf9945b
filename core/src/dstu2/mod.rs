//! FHIR DSTU2 (1.0.2) resources of GP Connect Access Record HTML 0.7.4
//! (`POST /Patient/$gpc.getcarerecord`, digest accessrecord §1).
//!
//! The model is declared only through the element macros of
//! [`crate::fhir`]: one declaration per type gives JSON and XML, with XML
//! written in DSTU2 schema order. Elements the GP Connect 0.7 profiles forbid
//! are not declared, so the codec refuses them with 422 INVALID_RESOURCE as
//! unknown elements; each module's docs list what it leaves out and any
//! leniency. Shared data types (Coding, Identifier, Reference, Narrative, ...)
//! come from [`crate::fhir::datatypes`]; [`HumanName`] (repeating `family`)
//! and [`Annotation`] are DSTU2's own.
//!
//! | resource | role (digest) |
//! |---|---|
//! | [`Parameters`] | getcarerecord request body (§1.4) |
//! | [`Bundle`] | success response, `searchset` (§1.5) |
//! | [`Composition`] | first entry; the record HTML in `section[0].text.div` (§1.5, §2) |
//! | [`Patient`], [`Practitioner`], [`Organization`], [`Device`], [`Location`] | the other entries (§1.5) |
//! | [`OperationOutcome`] | every error (§4), via [`crate::Error::to_operation_outcome_dstu2`] |
//! | [`Conformance`] | `GET /metadata` (§1.1) |
//!
//! Fixed URLs and codes are in [`profiles`].

pub mod bundle;
pub mod composition;
pub mod conformance;
pub mod datatypes;
pub mod device;
pub mod location;
pub mod operation_outcome;
pub mod organization;
pub mod parameters;
pub mod patient;
pub mod practitioner;
pub mod profiles;
pub mod resource;

pub use bundle::{
    Bundle, BundleEntry, BundleEntryRequest, BundleEntryResponse, BundleEntrySearch, BundleLink,
};
pub use composition::{Composition, CompositionAttester, CompositionEvent, CompositionSection};
pub use conformance::{
    Conformance, ConformanceContact, ConformanceDocument, ConformanceImplementation,
    ConformanceRest, ConformanceRestInteraction, ConformanceRestOperation, ConformanceRestResource,
    ConformanceRestResourceInteraction, ConformanceRestResourceSearchParam,
    ConformanceRestSecurity, ConformanceSoftware,
};
pub use datatypes::{Annotation, AnnotationAuthor, HumanName};
pub use device::Device;
pub use location::Location;
pub use operation_outcome::{OperationOutcome, OperationOutcomeIssue};
pub use organization::{Organization, OrganizationContact};
pub use parameters::{Parameters, ParametersParameter, ParametersParameterValue};
pub use patient::{
    Patient, PatientCommunication, PatientContact, PatientDeceased, PatientMultipleBirth,
};
pub use practitioner::{Practitioner, PractitionerPractitionerRole};
pub use profiles::RecordSection;
pub use resource::Resource;

#[cfg(test)]
mod roundtrip {
    use super::Resource;
    use crate::fhir::arbitrary::{Gen, Rng};
    use crate::fhir::{Limits, from_json, from_xml, to_json, to_xml};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Every DSTU2 resource of the model survives JSON → model → XML →
        /// model → JSON unchanged (issue 2, codecs).
        #[test]
        fn dstu2_resources_round_trip_json_xml_json(seed in any::<u64>()) {
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
