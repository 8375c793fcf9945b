//! `Bundle` (DSTU2 1.0.2): the getcarerecord success response, a `searchset`
//! whose first entry is the Composition (digest accessrecord §1.5, profile
//! `gpconnect-searchset-bundle-1`).
//!
//! DSTU2 `Bundle` is a plain Resource: no `text`, `contained` or root
//! extensions. Left out (422 as unknown elements):
//! - `Bundle.signature`: GP Connect never signs bundles, and its
//!   `base64Binary` blob has no primitive here.
//! - `Bundle.entry.search.score`: a `decimal`, and the model has no decimal
//!   primitive; getcarerecord does not rank its entries.

use super::resource::Resource;
use crate::fhir::datatypes::{Extension, Meta};
use crate::fhir::primitive::{Code, Id, Instant};

fhir_struct! {
    /// A link (`self`, `next`, ...) of the bundle or of one entry.
    pub struct BundleLink {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Link relation (`self`, `next`, ...).
        relation: req String = "relation",
        /// The URL.
        url: req String = "url",
    }
}

fhir_struct! {
    /// Search information of a `searchset` entry.
    pub struct BundleEntrySearch {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// match | include | outcome.
        mode: opt Code = "mode",
    }
}

fhir_struct! {
    /// The request of a `batch`/`transaction` entry (not used by
    /// getcarerecord; modelled for completeness of the entry).
    pub struct BundleEntryRequest {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// GET | POST | PUT | DELETE.
        method: req Code = "method",
        /// URL relative to the service root.
        url: req String = "url",
        /// For managing cache currency.
        if_none_match: opt String = "ifNoneMatch",
        /// For managing update contention.
        if_modified_since: opt Instant = "ifModifiedSince",
        /// For managing update contention.
        if_match: opt String = "ifMatch",
        /// For conditional creates.
        if_none_exist: opt String = "ifNoneExist",
    }
}

fhir_struct! {
    /// The response of a `batch-response`/`transaction-response` entry.
    pub struct BundleEntryResponse {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// HTTP status, e.g. `200 OK`.
        status: req String = "status",
        /// The location, if the operation returned one.
        location: opt String = "location",
        /// The ETag, if any.
        etag: opt String = "etag",
        /// Server's date-time modified.
        last_modified: opt Instant = "lastModified",
    }
}

fhir_struct! {
    /// One entry: `fullUrl` plus the resource. In getcarerecord every
    /// `reference` in the bundle must equal some entry's `fullUrl` exactly
    /// (digest §1.5), e.g. `Patient/2`.
    pub struct BundleEntry {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Links of this entry.
        link: vec BundleLink = "link",
        /// The resource's URL (relative in GP Connect: `Patient/2`).
        full_url: opt String = "fullUrl",
        /// The resource.
        resource: opt Resource = "resource",
        /// Search mode of a `searchset` entry.
        search: opt BundleEntrySearch = "search",
        /// Request of a `batch`/`transaction` entry.
        request: opt BundleEntryRequest = "request",
        /// Response of a `*-response` entry.
        response: opt BundleEntryResponse = "response",
    }
}

fhir_resource! {
    /// The getcarerecord response (digest §1.5): `type` = `searchset`,
    /// Composition first, then exactly one Patient, plus Practitioner,
    /// Organization and Device entries.
    pub struct Bundle ("Bundle") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        /// document | message | transaction | ... | searchset | collection.
        type_: req Code = "type",
        /// Number of matches, for a searchset.
        total: opt u32 = "total",
        /// Links of the bundle.
        link: vec BundleLink = "link",
        /// The entries, Composition first.
        entry: vec BundleEntry = "entry",
    }
}

impl Bundle {
    /// The entry whose `fullUrl` is exactly `full_url`: how a reference inside
    /// a getcarerecord bundle resolves (digest §1.5).
    pub fn resolve(&self, full_url: &str) -> Option<&BundleEntry> {
        self.entry
            .iter()
            .find(|e| e.full_url.as_deref() == Some(full_url))
    }

    /// The resources of the entries, in order (entries without one are skipped).
    pub fn resources(&self) -> impl Iterator<Item = &Resource> {
        self.entry.iter().filter_map(|e| e.resource.as_ref())
    }
}
