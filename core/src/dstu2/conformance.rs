//! `Conformance` (DSTU2 1.0.2): the `GET [base]/metadata` answer of an Access
//! Record HTML server (digest accessrecord §1.1). It must list operation
//! `gpc.getcarerecord` with `definition.reference` =
//! `OperationDefinition/gpc.getcarerecord`, the formats
//! `application/xml+fhir` and `application/json+fhir`, and a `version` equal
//! to the configured GP Connect spec version (§1.2).
//!
//! Left out (422 as unknown elements), because GP Connect Access Record is a
//! REST-only API that uses neither:
//! - `Conformance.messaging` (messaging endpoints and events);
//! - `Conformance.rest.security.certificate` (its `blob` is `base64Binary`,
//!   which has no primitive here; the spec's own example leaves it empty,
//!   which FHIR does not allow anyway).

use super::resource::Resource;
use crate::fhir::datatypes::{
    CodeableConcept, ContactPoint, Extension, Meta, Narrative, Reference,
};
use crate::fhir::primitive::{Code, DateTime, Id};

fhir_struct! {
    /// A contact for the publisher.
    pub struct ConformanceContact {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Name of the individual.
        name: opt String = "name",
        /// Contact details.
        telecom: vec ContactPoint = "telecom",
    }
}

fhir_struct! {
    /// The software the statement describes.
    pub struct ConformanceSoftware {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Software name (1..1).
        name: req String = "name",
        /// Software version.
        version: opt String = "version",
        /// Release date.
        release_date: opt DateTime = "releaseDate",
    }
}

fhir_struct! {
    /// The installation the statement describes (for `kind` = `instance`).
    pub struct ConformanceImplementation {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Describes the installation (1..1).
        description: req String = "description",
        /// The service root, e.g. `https://provider.nhs.uk/GP0001/DSTU2/0/gpconnect`.
        url: opt String = "url",
    }
}

fhir_struct! {
    /// Security information (CORS, services) of the REST endpoint.
    pub struct ConformanceRestSecurity {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Whether CORS headers are added.
        cors: opt bool = "cors",
        /// OAuth | SMART-on-FHIR | NTLM | Basic | Kerberos | Certificates.
        service: vec CodeableConcept = "service",
        /// General description of the security.
        description: opt String = "description",
    }
}

fhir_struct! {
    /// A supported interaction on one resource type.
    pub struct ConformanceRestResourceInteraction {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// read | vread | update | delete | history-instance | ... (1..1).
        code: req Code = "code",
        /// Anything special about it.
        documentation: opt String = "documentation",
    }
}

fhir_struct! {
    /// A supported search parameter (per resource, or system-wide).
    pub struct ConformanceRestResourceSearchParam {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Parameter name (1..1).
        name: req String = "name",
        /// Its SearchParameter definition.
        definition: opt String = "definition",
        /// number | date | string | token | reference | composite | quantity | uri (1..1).
        type_: req Code = "type",
        /// Server-specific usage.
        documentation: opt String = "documentation",
        /// Types of resource (for a reference parameter).
        target: vec Code = "target",
        /// Supported modifiers.
        modifier: vec Code = "modifier",
        /// Supported chained names.
        chain: vec String = "chain",
    }
}

fhir_struct! {
    /// A resource type served on the REST interface (Access Record HTML
    /// serves none: it only has the getcarerecord operation).
    pub struct ConformanceRestResource {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// The resource type (1..1).
        type_: req Code = "type",
        /// Base profile for all uses of the resource.
        profile: opt Reference = "profile",
        /// Supported interactions (1..* in DSTU2).
        interaction: vec ConformanceRestResourceInteraction = "interaction",
        /// no-version | versioned | versioned-update.
        versioning: opt Code = "versioning",
        /// Whether vRead can return past versions.
        read_history: opt bool = "readHistory",
        /// Whether update can create.
        update_create: opt bool = "updateCreate",
        /// Conditional create support.
        conditional_create: opt bool = "conditionalCreate",
        /// Conditional update support.
        conditional_update: opt bool = "conditionalUpdate",
        /// not-supported | single | multiple.
        conditional_delete: opt Code = "conditionalDelete",
        /// Supported `_include` values.
        search_include: vec String = "searchInclude",
        /// Supported `_revinclude` values.
        search_rev_include: vec String = "searchRevInclude",
        /// Supported search parameters.
        search_param: vec ConformanceRestResourceSearchParam = "searchParam",
    }
}

fhir_struct! {
    /// A supported system-level interaction.
    pub struct ConformanceRestInteraction {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// transaction | search-system | history-system (1..1).
        code: req Code = "code",
        /// Anything special about it.
        documentation: opt String = "documentation",
    }
}

fhir_struct! {
    /// A supported operation: `gpc.getcarerecord` → `OperationDefinition/gpc.getcarerecord`.
    pub struct ConformanceRestOperation {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// The operation name without `$` (1..1).
        name: req String = "name",
        /// The OperationDefinition (1..1).
        definition: req Reference = "definition",
    }
}

fhir_struct! {
    /// The REST endpoint's capabilities.
    pub struct ConformanceRest {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// client | server (1..1).
        mode: req Code = "mode",
        /// General description.
        documentation: opt String = "documentation",
        /// Security information.
        security: opt ConformanceRestSecurity = "security",
        /// Resource types served.
        resource: vec ConformanceRestResource = "resource",
        /// System-level interactions.
        interaction: vec ConformanceRestInteraction = "interaction",
        /// not-supported | batch | transaction | both.
        transaction_mode: opt Code = "transactionMode",
        /// System-wide search parameters.
        search_param: vec ConformanceRestResourceSearchParam = "searchParam",
        /// Operations, e.g. `gpc.getcarerecord`.
        operation: vec ConformanceRestOperation = "operation",
        /// Compartments served.
        compartment: vec String = "compartment",
    }
}

fhir_struct! {
    /// A document profile supported.
    pub struct ConformanceDocument {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// producer | consumer (1..1).
        mode: req Code = "mode",
        /// Description of the support.
        documentation: opt String = "documentation",
        /// The document profile (1..1).
        profile: req Reference = "profile",
    }
}

fhir_resource! {
    /// The server's conformance statement (digest §1.1).
    pub struct Conformance ("Conformance") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Canonical URL of the statement.
        url: opt String = "url",
        /// The GP Connect spec version (the suite compares it, digest §1.2).
        version: opt String = "version",
        /// Informal name.
        name: opt String = "name",
        /// draft | active | retired.
        status: opt Code = "status",
        /// For testing only.
        experimental: opt bool = "experimental",
        /// Publisher name.
        publisher: opt String = "publisher",
        /// Publisher contacts.
        contact: vec ConformanceContact = "contact",
        /// Publication date (1..1).
        date: req DateTime = "date",
        /// Description.
        description: opt String = "description",
        /// Why it is needed.
        requirements: opt String = "requirements",
        /// Use restrictions.
        copyright: opt String = "copyright",
        /// instance | capability | requirements (1..1).
        kind: req Code = "kind",
        /// The software.
        software: opt ConformanceSoftware = "software",
        /// The installation.
        implementation: opt ConformanceImplementation = "implementation",
        /// `1.0.2` (1..1).
        fhir_version: req Id = "fhirVersion",
        /// no | extensions | elements | both (1..1).
        accept_unknown: req Code = "acceptUnknown",
        /// `application/xml+fhir`, `application/json+fhir` (1..*).
        format: vec Code = "format",
        /// Supported profiles.
        profile: vec Reference = "profile",
        /// REST capabilities.
        rest: vec ConformanceRest = "rest",
        /// Supported document profiles.
        document: vec ConformanceDocument = "document",
    }
}
