//! FHIR data types that STU3 (GP Connect 1.2.x) and DSTU2 (Access Record
//! HTML 0.7.x) share element-for-element, as far as GP Connect uses them.
//! `HumanName` differs (`family` is repeating in DSTU2), so each version
//! module defines its own.
//!
//! Leniency, documented: [`Reference`] carries STU3's `identifier`, which
//! DSTU2 lacks; a DSTU2 reference with an identifier is accepted.

use super::primitive::{Code, Date, DateTime, Instant, Time};
use super::xhtml::Xhtml;
use crate::{fhir_choice, fhir_struct};

fhir_choice! {
    /// `Extension.value[x]`: the value types GP Connect extensions use.
    pub enum ExtensionValue {
        Boolean(bool) = "valueBoolean",
        Integer(i32) = "valueInteger",
        String(String) = "valueString",
        Uri(String) = "valueUri",
        Date(Date) = "valueDate",
        DateTime(DateTime) = "valueDateTime",
        Instant(Instant) = "valueInstant",
        Time(Time) = "valueTime",
        Code(Code) = "valueCode",
        Coding(Coding) = "valueCoding",
        CodeableConcept(CodeableConcept) = "valueCodeableConcept",
        Identifier(Box<Identifier>) = "valueIdentifier",
        Period(Period) = "valuePeriod",
        Reference(Reference) = "valueReference",
    }
}

fhir_struct! {
    /// An extension: a `url` and either a value or nested extensions
    /// (e.g. `Extension-CareConnect-GPC-RegistrationDetails-1`).
    pub struct Extension {
        id: attr String = "id",
        extension: vec Extension = "extension",
        url: req_attr String = "url",
        value: choice ExtensionValue = "value",
    }
}

fhir_struct! {
    /// A code from a code system.
    pub struct Coding {
        id: attr String = "id",
        extension: vec Extension = "extension",
        system: opt String = "system",
        version: opt String = "version",
        code: opt Code = "code",
        display: opt String = "display",
        user_selected: opt bool = "userSelected",
    }
}

fhir_struct! {
    /// Codings plus text (`serviceType[0].text` carries the slot type, R18).
    pub struct CodeableConcept {
        id: attr String = "id",
        extension: vec Extension = "extension",
        coding: vec Coding = "coding",
        text: opt String = "text",
    }
}

fhir_struct! {
    /// A start and/or end.
    pub struct Period {
        id: attr String = "id",
        extension: vec Extension = "extension",
        start: opt DateTime = "start",
        end: opt DateTime = "end",
    }
}

fhir_struct! {
    /// A business identifier (NHS number, ODS code, SDS user id, ...).
    pub struct Identifier {
        id: attr String = "id",
        extension: vec Extension = "extension",
        use_: opt Code = "use",
        type_: opt CodeableConcept = "type",
        system: opt String = "system",
        value: opt String = "value",
        period: opt Period = "period",
        assigner: opt Box<Reference> = "assigner",
    }
}

fhir_struct! {
    /// A reference to another resource: local relative only in GP Connect (R87).
    pub struct Reference {
        id: attr String = "id",
        extension: vec Extension = "extension",
        reference: opt String = "reference",
        /// Boxed: rarely present, and it would double every reference's size.
        identifier: opt Box<Identifier> = "identifier",
        display: opt String = "display",
    }
}

fhir_struct! {
    /// A phone number, email, etc. (R89: `system`, `value` and `use` set).
    pub struct ContactPoint {
        id: attr String = "id",
        extension: vec Extension = "extension",
        system: opt Code = "system",
        value: opt String = "value",
        use_: opt Code = "use",
        rank: opt u32 = "rank",
        period: opt Period = "period",
    }
}

fhir_struct! {
    /// A postal address (R89: `line`, `city`, `district`, `postalCode`, `country`; no `text`).
    pub struct Address {
        id: attr String = "id",
        extension: vec Extension = "extension",
        use_: opt Code = "use",
        type_: opt Code = "type",
        text: opt String = "text",
        line: vec String = "line",
        city: opt String = "city",
        district: opt String = "district",
        state: opt String = "state",
        postal_code: opt String = "postalCode",
        country: opt String = "country",
        period: opt Period = "period",
    }
}

fhir_struct! {
    /// Resource metadata: `versionId` (the ETag, R81), `profile`.
    pub struct Meta {
        id: attr String = "id",
        extension: vec Extension = "extension",
        version_id: opt super::primitive::Id = "versionId",
        last_updated: opt Instant = "lastUpdated",
        profile: vec String = "profile",
        security: vec Coding = "security",
        tag: vec Coding = "tag",
    }
}

fhir_struct! {
    /// Human-readable XHTML (Access Record HTML puts the record view here).
    pub struct Narrative {
        id: attr String = "id",
        extension: vec Extension = "extension",
        status: req Code = "status",
        div: req Xhtml = "div",
    }
}

impl<T: super::codec::Element> super::codec::Element for Box<T> {
    const PRIMITIVE: bool = T::PRIMITIVE;
    fn deserialize_element<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize_element(d).map(Box::new)
    }
    fn serialize_element<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize_element(s)
    }
    fn write_xml(
        &self,
        name: &str,
        ext: Option<&super::codec::PrimitiveExt>,
        w: &mut super::xml::XmlWriter,
    ) {
        (**self).write_xml(name, ext, w)
    }
    fn read_xml(
        node: &super::xml::XmlNode<'_>,
    ) -> Result<(Option<Self>, Option<super::codec::PrimitiveExt>), super::codec::DecodeError> {
        T::read_xml(node).map(|(v, e)| (v.map(Box::new), e))
    }
}

#[cfg(test)]
fhir_struct! {
    /// STU3-shaped name, for the codec tests.
    pub struct HumanNameForTest {
        id: attr String = "id",
        extension: vec Extension = "extension",
        use_: opt Code = "use",
        text: opt String = "text",
        family: opt String = "family",
        given: vec String = "given",
        period: opt Period = "period",
    }
}
