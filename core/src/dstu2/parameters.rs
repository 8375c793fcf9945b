//! `Parameters` (DSTU2 1.0.2): the body of `POST /Patient/$gpc.getcarerecord`
//! (digest accessrecord §1.4, profile `gpconnect-carerecord-operation-1`).
//!
//! `Parameters` is a plain Resource in DSTU2 (not a DomainResource), so it
//! has no `text`, `contained` or extensions at its root; sending them is an
//! unknown element (422). The codec only checks the shape: which parameter
//! names are allowed, their cardinality and their value types are the
//! operation's rules (digest §4), which need the path-free model this gives.

use super::datatypes::{Annotation, HumanName};
use super::resource::Resource;
use crate::fhir::datatypes::{
    Address, CodeableConcept, Coding, ContactPoint, Extension, Identifier, Meta, Period, Reference,
};
use crate::fhir::primitive::{Code, Date, DateTime, Id, Instant, Time};

fhir_choice! {
    /// `Parameters.parameter.value[x]`: the DSTU2 value types an operation
    /// parameter can carry. getcarerecord uses `valueIdentifier`
    /// (patientNHSNumber), `valueCodeableConcept` (recordSection) and
    /// `valuePeriod` (timePeriod); the others are accepted so that a wrongly
    /// typed parameter (e.g. the NHS number as `valueString`, digest §4) reaches
    /// the operation's rules and gets their error code rather than a codec 422.
    /// Not modelled (422 as unknown elements): `valueDecimal`,
    /// `valueBase64Binary`, `valueOid`, `valuePositiveInt`, `valueAttachment`,
    /// `valueQuantity`, `valueRange`, `valueRatio`, `valueSampledData`,
    /// `valueSignature`, `valueTiming`.
    pub enum ParametersParameterValue {
        /// `valueBoolean`.
        Boolean(bool) = "valueBoolean",
        /// `valueInteger`.
        Integer(i32) = "valueInteger",
        /// `valueUnsignedInt`.
        UnsignedInt(u32) = "valueUnsignedInt",
        /// `valueString`.
        String(String) = "valueString",
        /// `valueUri`.
        Uri(String) = "valueUri",
        /// `valueMarkdown`.
        Markdown(String) = "valueMarkdown",
        /// `valueCode`.
        Code(Code) = "valueCode",
        /// `valueId`.
        Id(Id) = "valueId",
        /// `valueDate`.
        Date(Date) = "valueDate",
        /// `valueDateTime`.
        DateTime(DateTime) = "valueDateTime",
        /// `valueInstant`.
        Instant(Instant) = "valueInstant",
        /// `valueTime`.
        Time(Time) = "valueTime",
        /// `valueAnnotation`.
        Annotation(Annotation) = "valueAnnotation",
        /// `valueIdentifier`: patientNHSNumber.
        Identifier(Identifier) = "valueIdentifier",
        /// `valueCodeableConcept`: recordSection.
        CodeableConcept(CodeableConcept) = "valueCodeableConcept",
        /// `valueCoding`.
        Coding(Coding) = "valueCoding",
        /// `valuePeriod`: timePeriod.
        Period(Period) = "valuePeriod",
        /// `valueHumanName`.
        HumanName(HumanName) = "valueHumanName",
        /// `valueAddress`.
        Address(Address) = "valueAddress",
        /// `valueContactPoint`.
        ContactPoint(ContactPoint) = "valueContactPoint",
        /// `valueReference`.
        Reference(Reference) = "valueReference",
        /// `valueMeta`.
        Meta(Meta) = "valueMeta",
    }
}

fhir_struct! {
    /// One named parameter: a value, a resource, or parts (DSTU2
    /// `Parameters.parameter`, whose `part` has the same shape).
    pub struct ParametersParameter {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Parameter name, case-sensitive (`patientNHSNumber`, `recordSection`, `timePeriod`).
        name: req String = "name",
        /// The value, if the parameter is a simple type.
        value: choice ParametersParameterValue = "value",
        /// The value, if the parameter is a whole resource.
        resource: opt Resource = "resource",
        /// Named parts of a multi-part parameter.
        part: vec ParametersParameter = "part",
    }
}

fhir_resource! {
    /// The getcarerecord request body (digest accessrecord §1.4): the
    /// operation's parameters, in any order.
    pub struct Parameters ("Parameters") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        /// The parameters.
        parameter: vec ParametersParameter = "parameter",
    }
}

impl Parameters {
    /// Every parameter named exactly `name` (names are case-sensitive, digest §1.4).
    pub fn named<'s>(&'s self, name: &str) -> impl Iterator<Item = &'s ParametersParameter> {
        self.parameter.iter().filter(move |p| p.name == name)
    }
}
