//! STU3-only data types.
//!
//! The data types STU3 shares with DSTU2 ([`Extension`], [`Coding`],
//! [`CodeableConcept`], [`Period`], [`Identifier`], [`Reference`],
//! [`ContactPoint`], [`Address`], `Meta`, `Narrative`) live in
//! [`crate::fhir::datatypes`]. This module adds what only the STU3 model
//! needs:
//!
//! - [`HumanName`] — STU3 made `family` a single string (DSTU2 repeats it).
//! - [`Attachment`] — `Practitioner.photo` (CareConnect-GPC-Practitioner-1
//!   leaves it at 0..*; F5/F6 say "must NOT populate", which is a rule, not a
//!   profile limit).
//! - [`Annotation`] — `Device.note` (the JWT `requesting_device` is a base STU3
//!   Device, digest §3.2).
//! - [`ContactDetail`] — `CapabilityStatement.contact`.
//!
//! No STU3 element modelled here needs `decimal`. The ones that would
//! (`Location.position`, `UsageContext.value[x]` as Quantity/Range) are left
//! out of their resources; see those modules.
//!
//! [`Extension`]: crate::fhir::datatypes::Extension
//! [`Coding`]: crate::fhir::datatypes::Coding
//! [`CodeableConcept`]: crate::fhir::datatypes::CodeableConcept
//! [`Period`]: crate::fhir::datatypes::Period
//! [`Identifier`]: crate::fhir::datatypes::Identifier
//! [`Reference`]: crate::fhir::datatypes::Reference
//! [`ContactPoint`]: crate::fhir::datatypes::ContactPoint
//! [`Address`]: crate::fhir::datatypes::Address

use crate::fhir::datatypes::{ContactPoint, Extension, Period, Reference};
use crate::fhir::primitive::{Base64Binary, Code, DateTime};

fhir_struct! {
    /// A person's name, STU3 shape: one `family` string, repeating `given`,
    /// `prefix` and `suffix`. CareConnect-GPC-Patient-1 requires one name with
    /// `use = official` and a `family` (enforced by the register rule R65,
    /// which answers 400 BAD_REQUEST, so the codec does not require them).
    pub struct HumanName {
        id: attr String = "id",
        extension: vec Extension = "extension",
        use_: opt Code = "use",
        text: opt String = "text",
        family: opt String = "family",
        given: vec String = "given",
        prefix: vec String = "prefix",
        suffix: vec String = "suffix",
        period: opt Period = "period",
    }
}

fhir_struct! {
    /// Content by value (`data`) or by reference (`url`), e.g. a
    /// practitioner's photo (`Practitioner.photo`, which F5/F6 say must not
    /// be populated; the profile still allows it, so the model keeps it).
    pub struct Attachment {
        id: attr String = "id",
        extension: vec Extension = "extension",
        content_type: opt Code = "contentType",
        language: opt Code = "language",
        data: opt Base64Binary = "data",
        url: opt String = "url",
        size: opt u32 = "size",
        hash: opt Base64Binary = "hash",
        title: opt String = "title",
        creation: opt DateTime = "creation",
    }
}

fhir_choice! {
    /// `Annotation.author[x]`: who wrote the note (the reference is boxed
    /// to keep the enum small).
    pub enum AnnotationAuthor {
        Reference(Reference) = "authorReference",
        String(String) = "authorString",
    }
}

fhir_struct! {
    /// A text note with author and time (`Device.note`).
    pub struct Annotation {
        id: attr String = "id",
        extension: vec Extension = "extension",
        author: choice AnnotationAuthor = "author",
        time: opt DateTime = "time",
        text: req String = "text",
    }
}

fhir_struct! {
    /// A name and contact points of a person or organisation to contact
    /// (`CapabilityStatement.contact`: the provider software vendor, F1).
    pub struct ContactDetail {
        id: attr String = "id",
        extension: vec Extension = "extension",
        name: opt String = "name",
        telecom: vec ContactPoint = "telecom",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_validated_and_kept_verbatim() {
        assert!(Base64Binary::new("aGVsbG8=").is_ok());
        assert_eq!(
            Base64Binary::new("aGVs\nbG8=").map(|b| b.as_str().to_owned()),
            Ok("aGVs\nbG8=".to_owned())
        );
        assert_eq!(
            Base64Binary::new("aGVs bG8=").and_then(|b| b.decode()),
            Ok(b"hello".to_vec())
        );
        assert!(Base64Binary::new("").is_err());
        assert!(Base64Binary::new("   ").is_err());
        assert!(Base64Binary::new("aGVsbG8").is_err(), "missing padding");
        assert!(Base64Binary::new("a*==").is_err());
        assert_eq!(
            Base64Binary::encode(b"hello").map(|b| b.as_str().to_owned()),
            Some("aGVsbG8=".to_owned())
        );
        assert_eq!(Base64Binary::encode(b""), None);
    }
}
