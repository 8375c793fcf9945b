//! `Bundle`: the `searchset` answer of find (F2, F5, F7), the slot search
//! (A1, §4.3), retrieve (A6) and register (F4, profiled by
//! GPConnect-Searchset-Bundle-1).
//!
//! `Bundle` is a Resource, not a DomainResource: no `text`, `contained`,
//! `extension` or `modifierExtension`. `Bundle.entry.fullUrl` is modelled but
//! SHOULD NOT be populated (§1.1).
//!
//! Left out because GPConnect-Searchset-Bundle-1 sets `max = 0` (R8). GP
//! Connect 1.2.9 only ever sends searchset Bundles and never receives one
//! (the practice importer reads `collection` Bundles of the same shape), so
//! the model is the profiled shape:
//! - `Bundle.total`
//! - `Bundle.link` (`Bundle.entry.link` is allowed and kept; it reuses
//!   [`BundleLink`])
//! - `Bundle.entry.search`
//! - `Bundle.entry.request`
//! - `Bundle.entry.response`
//! - `Bundle.signature`

use super::resource::Resource;
use crate::fhir::datatypes::{Extension, Identifier, Meta};
use crate::fhir::primitive::{Code, Id};

fhir_resource! {
    /// A set of resources returned together (`type = searchset`; digest §1.1,
    /// §4.3, R56; GPConnect-Searchset-Bundle-1 for register). An empty search
    /// is a Bundle without entries (R63).
    pub struct Bundle ("Bundle") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        identifier: opt Identifier = "identifier",
        type_: req Code = "type",
        entry: vec BundleEntry = "entry",
    }
}

fhir_struct! {
    /// One resource of the Bundle.
    pub struct BundleEntry {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        link: vec BundleLink = "link",
        full_url: opt String = "fullUrl",
        resource: opt Resource = "resource",
    }
}

fhir_struct! {
    /// A link related to the entry (`relation`, `url`).
    pub struct BundleLink {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        relation: req String = "relation",
        url: req String = "url",
    }
}
