//! `CapabilityStatement`: the answer of `GET /metadata` (F1), built from the
//! spec's template (`fhirVersion` 3.0.1, `acceptUnknown` both, JSON and XML
//! formats, `rest[0].mode` server, `security.cors` true, Appointment
//! `updateCreate` false, the `gpc.registerpatient` operation).
//!
//! There is no GP Connect profile for it, so the base STU3 resource is
//! modelled, with one exception:
//! - `CapabilityStatement.useContext` is left out: its `UsageContext.value[x]`
//!   may be a Quantity or Range, which need `decimal`. GP Connect's template
//!   does not use it, and only the provider writes this resource.
//!
//! The spec's template is not valid STU3 as published: its placeholder
//! `software.releaseDate` (`"[Provider Software Release Date]"`) is not a
//! `dateTime`. Fill the placeholders before serving it.

use super::datatypes::ContactDetail;
use super::resource::Resource;
use crate::fhir::datatypes::{CodeableConcept, Coding, Extension, Meta, Narrative, Reference};
use crate::fhir::primitive::Base64Binary;
use crate::fhir::primitive::{Code, DateTime, Id};

fhir_resource! {
    /// What this server implements (F1).
    pub struct CapabilityStatement ("CapabilityStatement") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        url: opt String = "url",
        version: opt String = "version",
        name: opt String = "name",
        title: opt String = "title",
        status: req Code = "status",
        experimental: opt bool = "experimental",
        date: req DateTime = "date",
        publisher: opt String = "publisher",
        contact: vec ContactDetail = "contact",
        description: opt String = "description",
        jurisdiction: vec CodeableConcept = "jurisdiction",
        purpose: opt String = "purpose",
        copyright: opt String = "copyright",
        kind: req Code = "kind",
        instantiates: vec String = "instantiates",
        software: opt CapabilityStatementSoftware = "software",
        implementation: opt CapabilityStatementImplementation = "implementation",
        fhir_version: req Id = "fhirVersion",
        accept_unknown: req Code = "acceptUnknown",
        format: vec Code = "format",
        patch_format: vec Code = "patchFormat",
        implementation_guide: vec String = "implementationGuide",
        profile: vec Reference = "profile",
        rest: vec CapabilityStatementRest = "rest",
        messaging: vec CapabilityStatementMessaging = "messaging",
        document: vec CapabilityStatementDocument = "document",
    }
}

fhir_struct! {
    /// The provider software (name and version are checked by the test suite).
    pub struct CapabilityStatementSoftware {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        name: req String = "name",
        version: opt String = "version",
        release_date: opt DateTime = "releaseDate",
    }
}

fhir_struct! {
    /// A specific installation.
    pub struct CapabilityStatementImplementation {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        description: req String = "description",
        url: opt String = "url",
    }
}

fhir_struct! {
    /// The RESTful endpoint (`mode` server).
    pub struct CapabilityStatementRest {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        mode: req Code = "mode",
        documentation: opt String = "documentation",
        security: opt CapabilityStatementRestSecurity = "security",
        resource: vec CapabilityStatementRestResource = "resource",
        interaction: vec CapabilityStatementRestInteraction = "interaction",
        search_param: vec CapabilityStatementRestResourceSearchParam = "searchParam",
        operation: vec CapabilityStatementRestOperation = "operation",
        compartment: vec String = "compartment",
    }
}

fhir_struct! {
    /// Security settings (`cors` true in GP Connect).
    pub struct CapabilityStatementRestSecurity {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        cors: opt bool = "cors",
        service: vec CodeableConcept = "service",
        description: opt String = "description",
        certificate: vec CapabilityStatementRestSecurityCertificate = "certificate",
    }
}

fhir_struct! {
    /// A certificate of the server.
    pub struct CapabilityStatementRestSecurityCertificate {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        type_: opt Code = "type",
        blob: opt Base64Binary = "blob",
    }
}

fhir_struct! {
    /// A resource type the server supports, with its interactions and
    /// search parameters (F1 resource list).
    pub struct CapabilityStatementRestResource {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        type_: req Code = "type",
        profile: opt Reference = "profile",
        documentation: opt String = "documentation",
        interaction: vec CapabilityStatementRestResourceInteraction = "interaction",
        versioning: opt Code = "versioning",
        read_history: opt bool = "readHistory",
        update_create: opt bool = "updateCreate",
        conditional_create: opt bool = "conditionalCreate",
        conditional_read: opt Code = "conditionalRead",
        conditional_update: opt bool = "conditionalUpdate",
        conditional_delete: opt Code = "conditionalDelete",
        reference_policy: vec Code = "referencePolicy",
        search_include: vec String = "searchInclude",
        search_rev_include: vec String = "searchRevInclude",
        search_param: vec CapabilityStatementRestResourceSearchParam = "searchParam",
    }
}

fhir_struct! {
    /// A type-level interaction (`read`, `search-type`, `create`, `update`, ...).
    pub struct CapabilityStatementRestResourceInteraction {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        code: req Code = "code",
        documentation: opt String = "documentation",
    }
}

fhir_struct! {
    /// A search parameter (`identifier` token, Slot `start`/`end`/`status`/
    /// `searchFilter`); also used for `rest.searchParam`.
    pub struct CapabilityStatementRestResourceSearchParam {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        name: req String = "name",
        definition: opt String = "definition",
        type_: req Code = "type",
        documentation: opt String = "documentation",
    }
}

fhir_struct! {
    /// A system-level interaction (`transaction`, `search-system`, ...).
    pub struct CapabilityStatementRestInteraction {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        code: req Code = "code",
        documentation: opt String = "documentation",
    }
}

fhir_struct! {
    /// An operation (`gpc.registerpatient` → GPConnect-RegisterPatient-Operation-1).
    pub struct CapabilityStatementRestOperation {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        name: req String = "name",
        definition: req Reference = "definition",
    }
}

fhir_struct! {
    /// Messaging support (GP Connect is RESTful only; modelled for completeness).
    pub struct CapabilityStatementMessaging {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        endpoint: vec CapabilityStatementMessagingEndpoint = "endpoint",
        reliable_cache: opt u32 = "reliableCache",
        documentation: opt String = "documentation",
        supported_message: vec CapabilityStatementMessagingSupportedMessage = "supportedMessage",
        event: vec CapabilityStatementMessagingEvent = "event",
    }
}

fhir_struct! {
    /// Where messages are received.
    pub struct CapabilityStatementMessagingEndpoint {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        protocol: req Coding = "protocol",
        address: req String = "address",
    }
}

fhir_struct! {
    /// A message definition the system supports.
    pub struct CapabilityStatementMessagingSupportedMessage {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        mode: req Code = "mode",
        definition: req Reference = "definition",
    }
}

fhir_struct! {
    /// A message event the system supports (deprecated in STU3).
    pub struct CapabilityStatementMessagingEvent {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        code: req Coding = "code",
        category: opt Code = "category",
        mode: req Code = "mode",
        focus: req Code = "focus",
        request: req Reference = "request",
        response: req Reference = "response",
        documentation: opt String = "documentation",
    }
}

fhir_struct! {
    /// A document profile the system supports.
    pub struct CapabilityStatementDocument {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        mode: req Code = "mode",
        documentation: opt String = "documentation",
        profile: req Reference = "profile",
    }
}
