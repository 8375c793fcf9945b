//! `Binary` (STU3 3.0.1): raw content with its MIME type. GP Connect's
//! Foundations and Appointments APIs never exchange one; the practice import
//! carries each patient's Access Record clinical record in one
//! (`docs/import.md`): `contentType`
//! `application/vnd.gpconnect.clinical-record+json`, `securityContext` →
//! the Patient, `content` the record's JSON.
//!
//! `Binary` is a plain Resource in STU3 (not a DomainResource): it has no
//! `text`, `contained` or extensions, so sending them is an unknown element
//! (422). Every element is modelled.

use crate::fhir::datatypes::{Meta, Reference};
use crate::fhir::primitive::{Base64Binary, Code, Id};

fhir_resource! {
    /// Raw content of a MIME type (STU3 `Binary`).
    pub struct Binary ("Binary") {
        id: opt Id = "id",
        meta: opt Meta = "meta",
        implicit_rules: opt String = "implicitRules",
        language: opt Code = "language",
        /// MIME type of the content (1..1).
        content_type: req Code = "contentType",
        /// The resource whose access rules apply to this content (for the
        /// import's clinical records, the Patient).
        security_context: opt Reference = "securityContext",
        /// The content, base64-encoded (1..1).
        content: req Base64Binary = "content",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::{Limits, from_json, from_xml, to_json, to_xml};

    #[test]
    fn a_binary_round_trips_through_json_and_xml() {
        let json = br#"{"resourceType":"Binary","id":"cr-2","contentType":"application/vnd.gpconnect.clinical-record+json","securityContext":{"reference":"Patient/2"},"content":"e30="}"#;
        let b: Binary = from_json(json, Limits::REQUEST).expect("decodes");
        assert_eq!(
            b.content_type.as_str(),
            "application/vnd.gpconnect.clinical-record+json"
        );
        assert_eq!(b.content.decode().as_deref(), Ok(&b"{}"[..]));
        assert_eq!(to_json(&b), json.to_vec());
        let xml = to_xml(&b);
        assert!(xml.contains(r#"<content value="e30="/>"#), "{xml}");
        let back: Binary = from_xml(xml.as_bytes(), Limits::REQUEST).expect("xml decodes");
        assert_eq!(back, b);
    }

    #[test]
    fn content_and_content_type_are_required_and_text_is_unknown() {
        for bad in [
            &br#"{"resourceType":"Binary","content":"e30="}"#[..],
            br#"{"resourceType":"Binary","contentType":"text/plain"}"#,
            br#"{"resourceType":"Binary","contentType":"text/plain","content":"not base64!"}"#,
            br#"{"resourceType":"Binary","contentType":"text/plain","content":"e30=","text":{"status":"generated","div":"<div>x</div>"}}"#,
        ] {
            let e = from_json::<Binary>(bad, Limits::REQUEST).expect_err("refused");
            assert!(
                matches!(e, crate::fhir::CodecError::Invalid { .. }),
                "{}: {e}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
