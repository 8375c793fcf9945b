//! FHIR DSTU2 (1.0.2) data types that differ from STU3, or that only the
//! DSTU2 profiles of Access Record HTML use. Everything else (Coding,
//! Identifier, Reference, Narrative, ...) is shared from
//! [`crate::fhir::datatypes`].
//!
//! No DSTU2 profile of Access Record HTML 0.7.x needs a `decimal`; the one
//! decimal element of the base resources modelled here
//! (`Bundle.entry.search.score`) is left out (see [`super::bundle`]).

use crate::fhir::datatypes::{Extension, Period, Reference};
use crate::fhir::primitive::{Code, DateTime};

fhir_struct! {
    /// A person's name in DSTU2 shape: unlike STU3, `family` **repeats**
    /// (DSTU2 1.0.2 `HumanName.family` is `0..*`). Patient, Practitioner and
    /// contact names in the getcarerecord Bundle use it (digest accessrecord
    /// §1.5: name with family and given is mandatory for the Patient).
    pub struct HumanName {
        id: attr String = "id",
        extension: vec Extension = "extension",
        /// usual | official | temp | nickname | anonymous | old | maiden.
        use_: opt Code = "use",
        /// The whole name as it should be displayed.
        text: opt String = "text",
        /// Family name(s): repeating in DSTU2.
        family: vec String = "family",
        /// Given names, in order.
        given: vec String = "given",
        /// Titles before the name (`Mr`, `Dr`).
        prefix: vec String = "prefix",
        /// Qualifications after the name.
        suffix: vec String = "suffix",
        /// When the name was in use.
        period: opt Period = "period",
    }
}

fhir_choice! {
    /// `Annotation.author[x]`: who wrote the note.
    pub enum AnnotationAuthor {
        /// A Practitioner, Patient or RelatedPerson (boxed: the shared
        /// `Reference` is large, as it carries STU3's `identifier`).
        Reference(Reference) = "authorReference",
        /// Free-text author.
        String(String) = "authorString",
    }
}

fhir_struct! {
    /// A text note with optional author and time. `Device.note` of
    /// `gpconnect-device-1` uses it (the profile fixes author and time to
    /// `0..0`; the data type keeps them, so enforcing that is a rules-layer job).
    pub struct Annotation {
        id: attr String = "id",
        extension: vec Extension = "extension",
        /// Who wrote the note.
        author: choice AnnotationAuthor = "author",
        /// When the note was written.
        time: opt DateTime = "time",
        /// The note itself (1..1).
        text: req String = "text",
    }
}
