//! `Parameters`: the body of the register operation (F4,
//! GPConnect-RegisterPatient-Operation-1), one parameter `registerPatient`
//! whose `resource` is the Patient.
//!
//! `Parameters` is a Resource, not a DomainResource. It has no GP Connect
//! profile, so every STU3 element is modelled. `value[x]` covers the types
//! an operation parameter can carry except those needing `decimal`
//! (`valueDecimal`, `valueQuantity`, ...) and a few GP Connect never uses
//! (`valueOid`, `valuePositiveInt` as its own type, `valueSignature`, ...);
//! those are rejected as unknown elements (R8).

use super::datatypes::{Annotation, Attachment, HumanName};
use super::resource::Resource;
use crate::fhir::datatypes::{
    Address, CodeableConcept, Coding, ContactPoint, Extension, Identifier, Meta, Period, Reference,
};
use crate::fhir::primitive::Base64Binary;
use crate::fhir::primitive::{Code, Date, DateTime, Id, Instant, Time};

fhir_choice! {
    /// `Parameters.parameter.value[x]`.
    pub enum ParametersParameterValue {
        Base64Binary(Base64Binary) = "valueBase64Binary",
        Boolean(bool) = "valueBoolean",
        Code(Code) = "valueCode",
        Date(Date) = "valueDate",
        DateTime(DateTime) = "valueDateTime",
        Id(Id) = "valueId",
        Instant(Instant) = "valueInstant",
        Integer(i32) = "valueInteger",
        Markdown(String) = "valueMarkdown",
        String(String) = "valueString",
        Time(Time) = "valueTime",
        UnsignedInt(u32) = "valueUnsignedInt",
        Uri(String) = "valueUri",
        Address(Address) = "valueAddress",
        Annotation(Annotation) = "valueAnnotation",
        Attachment(Attachment) = "valueAttachment",
        CodeableConcept(CodeableConcept) = "valueCodeableConcept",
        Coding(Coding) = "valueCoding",
        ContactPoint(ContactPoint) = "valueContactPoint",
        HumanName(HumanName) = "valueHumanName",
        Identifier(Identifier) = "valueIdentifier",
        Period(Period) = "valuePeriod",
        Reference(Reference) = "valueReference",
        Meta(Meta) = "valueMeta",
    }
}

fhir_resource! {
    /// Operation input or output (F4: `registerPatient` → Patient).
    pub struct Parameters ("Parameters") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        parameter: vec ParametersParameter = "parameter",
    }
}

fhir_struct! {
    /// One named parameter: a value, a resource, or parts.
    pub struct ParametersParameter {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        name: req String = "name",
        value: choice ParametersParameterValue = "value",
        resource: opt Resource = "resource",
        part: vec ParametersParameter = "part",
    }
}
