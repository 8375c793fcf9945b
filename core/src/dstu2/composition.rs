//! `Composition` (DSTU2 1.0.2) as profiled by
//! `gpconnect-carerecord-composition-1`: the first entry of the getcarerecord
//! Bundle, carrying the requested record section as HTML in
//! `section[0].text.div` (digest accessrecord §1.5, §2).
//!
//! Left out because the profile forbids it (`max = 0`), so the codec rejects
//! it with 422: `Composition.identifier`.
//!
//! Leniency, documented: `type` is `0..1` here although DSTU2 makes it
//! `1..1`; the spec's own sample response omits it and the digest (§1.5) and
//! suite only check it *if present*. `author` is `1..*` in DSTU2; the codec
//! accepts none (a Vec cannot say "at least one"), so the response builder
//! and rules own that minimum, as they own "exactly one section".

use super::resource::Resource;
use crate::fhir::datatypes::{CodeableConcept, Extension, Meta, Narrative, Period, Reference};
use crate::fhir::primitive::{Code, DateTime, Id};

fhir_struct! {
    /// A participant who attested the composition (not used by getcarerecord).
    pub struct CompositionAttester {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// personal | professional | legal | official (1..*).
        mode: vec Code = "mode",
        /// When attested.
        time: opt DateTime = "time",
        /// Who attested.
        party: opt Reference = "party",
    }
}

fhir_struct! {
    /// The clinical service(s) documented (not used by getcarerecord).
    pub struct CompositionEvent {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Code(s) for the main clinical acts.
        code: vec CodeableConcept = "code",
        /// The period covered.
        period: opt Period = "period",
        /// The event(s) being documented.
        detail: vec Reference = "detail",
    }
}

fhir_struct! {
    /// A section: in getcarerecord exactly one, whose `code.coding[0]` names
    /// the record section (`gpconnect-record-section-1`, e.g. `ENC`), whose
    /// `title` and `code.text` are the section title, and whose
    /// `text.div` is the record HTML (digest §1.5, §2).
    pub struct CompositionSection {
        id: attr String = "id",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// Section title, e.g. `Encounters`.
        title: opt String = "title",
        /// The record section code.
        code: opt CodeableConcept = "code",
        /// The record HTML: `status` = `generated`, `div` = the view.
        text: opt Narrative = "text",
        /// working | snapshot | changes.
        mode: opt Code = "mode",
        /// Order of the section entries.
        ordered_by: opt CodeableConcept = "orderedBy",
        /// Resources the section refers to.
        entry: vec Reference = "entry",
        /// Why the section is empty.
        empty_reason: opt CodeableConcept = "emptyReason",
        /// Nested sections.
        section: vec CompositionSection = "section",
    }
}

fhir_resource! {
    /// The care record document header (digest §1.5): `title` = `Patient Care
    /// Record`, `status` = `final`, `date` = now, `subject` → the Patient
    /// entry, `author` → the Device entry, `custodian` → the Organization.
    pub struct Composition ("Composition") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        text: opt Narrative = "text",
        contained: vec Resource = "contained",
        extension: vec Extension = "extension",
        modifier_extension: vec Extension = "modifierExtension",
        /// When the composition was made (1..1).
        date: req DateTime = "date",
        /// SNOMED 425173008 "record extract (record artifact)" if present.
        type_: opt CodeableConcept = "type",
        /// SNOMED 700232004 "general medical service (qualifier value)" if present.
        class_: opt CodeableConcept = "class",
        /// `Patient Care Record` (1..1).
        title: req String = "title",
        /// preliminary | final | amended | entered-in-error (1..1).
        status: req Code = "status",
        /// Confidentiality code.
        confidentiality: opt Code = "confidentiality",
        /// The Patient entry (1..1).
        subject: req Reference = "subject",
        /// The Device (spec) or Practitioner (demonstrator) entry.
        author: vec Reference = "author",
        /// Attesters.
        attester: vec CompositionAttester = "attester",
        /// The Organization entry.
        custodian: opt Reference = "custodian",
        /// Documented events.
        event: vec CompositionEvent = "event",
        /// Related encounter.
        encounter: opt Reference = "encounter",
        /// The sections (exactly one in getcarerecord).
        section: vec CompositionSection = "section",
    }
}
