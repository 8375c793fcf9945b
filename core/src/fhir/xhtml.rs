//! Narrative XHTML (`Narrative.div`): validated once on the way in, then
//! carried verbatim between JSON (a string) and XML (an embedded element).
//!
//! The check follows FHIR's narrative rules (txt-1, txt-2, txt-3): a single
//! `div` root in the XHTML namespace, only basic formatting elements, no
//! scripts, forms, event handlers, or `javascript:`-style links, no DOCTYPE,
//! no entities other than XML's five and character references, and nesting
//! at most [`MAX_XHTML_DEPTH`] deep. Because the value is checked to be a
//! well-formed element, writing it verbatim into an XML document cannot
//! break (or inject into) the document around it.

use std::fmt;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

use super::codec::{DecodeError, Element, PrimitiveExt};
use super::xml::{XHTML_NS, XmlNode, XmlWriter};

/// Deepest nesting accepted inside a narrative.
pub const MAX_XHTML_DEPTH: usize = 64;

/// Largest narrative accepted or produced. Larger than the 1 MiB cap on
/// other strings: an Access Record section of a long-lived patient's record
/// (years of repeat issues) is one narrative of several MiB, and a request
/// body is bounded anyway ([`super::Limits`]).
pub const MAX_NARRATIVE_BYTES: usize = 32 * 1024 * 1024;

/// Validated narrative XHTML: `<div xmlns="http://www.w3.org/1999/xhtml">…</div>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Xhtml(String);

impl Xhtml {
    /// Validate and wrap an XHTML `div`.
    pub fn new(s: impl Into<String>) -> Result<Self, String> {
        let s = s.into();
        validate(&s)?;
        Ok(Xhtml(s))
    }

    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Xhtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const ALLOWED_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "b",
    "big",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "q",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "tt",
    "ul",
    "var",
];

const ALLOWED_ATTRIBUTES: &[&str] = &[
    "id",
    "class",
    "style",
    "title",
    "lang",
    "xml:lang",
    "dir",
    "href",
    "name",
    "src",
    "alt",
    "colspan",
    "rowspan",
    "width",
    "height",
    "border",
    "cellpadding",
    "cellspacing",
    "align",
    "valign",
    "scope",
    "span",
    "summary",
    "abbr",
    "headers",
];

/// Check a narrative `div` (see the module docs for the rules).
pub fn validate(s: &str) -> Result<(), String> {
    if s.len() > MAX_NARRATIVE_BYTES {
        return Err(format!(
            "narrative of {} bytes exceeds the {} byte limit",
            s.len(),
            MAX_NARRATIVE_BYTES
        ));
    }
    let mut reader = Reader::from_str(s);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut seen_root = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("narrative is not well-formed XHTML: {e}"))?;
        match event {
            Event::Start(e) => {
                check_element(&e, depth == 0, &mut seen_root)?;
                depth += 1;
                if depth > MAX_XHTML_DEPTH {
                    return Err(format!("narrative nests deeper than {MAX_XHTML_DEPTH}"));
                }
            }
            Event::Empty(e) => {
                check_element(&e, depth == 0, &mut seen_root)?;
                if depth == 0 {
                    // `<div/>`: the whole narrative; txt-2 requires content.
                    return Err("narrative div must not be empty".into());
                }
            }
            Event::End(_) => {
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                if depth == 0 && !t.chars().all(|c| c.is_ascii_whitespace()) {
                    return Err("text outside the narrative div".into());
                }
            }
            Event::GeneralRef(r) => {
                if depth == 0 {
                    return Err("text outside the narrative div".into());
                }
                let name: &str = &r;
                let ok = matches!(name, "amp" | "lt" | "gt" | "quot" | "apos") || r.is_char_ref();
                if !ok {
                    return Err(format!(
                        "entity '&{};' is not allowed (only XML's predefined entities)",
                        crate::error::Echo(name)
                    ));
                }
                if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| format!("bad character reference: {e}"))?;
                }
            }
            Event::CData(_) => {
                if depth == 0 {
                    return Err("text outside the narrative div".into());
                }
            }
            Event::Comment(_) => {}
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {
                return Err("declarations, processing instructions and DOCTYPEs are not allowed in a narrative".into());
            }
            Event::Eof => break,
        }
        if seen_root && depth == 0 {
            // Root closed: only whitespace may follow.
            loop {
                match reader
                    .read_event()
                    .map_err(|e| format!("narrative is not well-formed XHTML: {e}"))?
                {
                    Event::Eof => return Ok(()),
                    Event::Text(t) if t.chars().all(|c| c.is_ascii_whitespace()) => {}
                    Event::Comment(_) => {}
                    _ => return Err("content after the narrative div".into()),
                }
            }
        }
    }
    if !seen_root {
        return Err("narrative must be a div element".into());
    }
    Err("narrative div is not closed".into())
}

fn check_element(e: &BytesStart<'_>, is_root: bool, seen_root: &mut bool) -> Result<(), String> {
    let name = e.name();
    let name: &str = name.as_ref();
    if is_root {
        if *seen_root || name != "div" {
            return Err("narrative must be a single div element".into());
        }
        *seen_root = true;
    }
    if !ALLOWED_ELEMENTS.contains(&name) {
        return Err(format!("element <{name}> is not allowed in a narrative"));
    }
    let mut has_ns = false;
    for a in e.attributes() {
        let a = a.map_err(|e| format!("bad attribute: {e}"))?;
        let key: &str = a.key.as_ref();
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad attribute value: {e}"))?;
        if key == "xmlns" {
            if value != XHTML_NS {
                return Err(format!("narrative namespace must be {XHTML_NS}"));
            }
            has_ns = true;
            continue;
        }
        if !ALLOWED_ATTRIBUTES.contains(&key) {
            return Err(format!(
                "attribute '{key}' is not allowed on <{name}> in a narrative"
            ));
        }
        if matches!(key, "href" | "src") && is_script_url(&value) {
            return Err(format!("a scripted {key} is not allowed in a narrative"));
        }
        if key == "style" && is_active_style(&value) {
            return Err("style must not load or run anything".into());
        }
    }
    if is_root && !has_ns {
        return Err(format!("narrative div must declare xmlns=\"{XHTML_NS}\""));
    }
    Ok(())
}

fn is_script_url(value: &str) -> bool {
    let v: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect();
    v.starts_with("javascript:") || v.starts_with("vbscript:") || v.starts_with("data:")
}

fn is_active_style(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    v.contains("url(") || v.contains("expression") || v.contains("javascript") || v.contains('\\')
}

impl Element for Xhtml {
    fn deserialize_element<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Xhtml;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an XHTML div as a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Xhtml, E> {
                Xhtml::new(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }

    fn serialize_element<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }

    fn write_xml(&self, _name: &str, _ext: Option<&PrimitiveExt>, w: &mut XmlWriter) {
        w.raw(&self.0);
    }

    fn read_xml(node: &XmlNode<'_>) -> Result<(Option<Self>, Option<PrimitiveExt>), DecodeError> {
        let raw = node
            .raw
            .ok_or_else(|| DecodeError::invalid("div must be in the XHTML namespace"))?;
        Xhtml::new(raw)
            .map(|x| (Some(x), None))
            .map_err(DecodeError::invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = r#"xmlns="http://www.w3.org/1999/xhtml""#;

    #[test]
    fn a_plain_div_is_valid() {
        assert!(
            Xhtml::new(format!(
                "<div {NS}><p>Hello &amp; <b>bye</b>&#160;</p></div>"
            ))
            .is_ok()
        );
    }

    /// A long-lived patient's Medications section is several MiB.
    #[test]
    fn a_narrative_may_exceed_the_string_cap_up_to_its_own_limit() {
        let row = "<tr><td>Repeat</td><td>Omeprazole 20mg</td></tr>";
        let rows = row.repeat(3 * 1024 * 1024 / row.len());
        let html = format!("<div {NS}><table><tbody>{rows}</tbody></table></div>");
        assert!(html.len() > super::super::codec::MAX_STRING_BYTES);
        assert!(Xhtml::new(html).is_ok());
        let huge = format!("<div {NS}><p>{}</p></div>", "x".repeat(MAX_NARRATIVE_BYTES));
        assert!(Xhtml::new(huge).is_err());
    }

    #[test]
    fn script_and_event_handlers_are_rejected() {
        assert!(Xhtml::new(format!("<div {NS}><script>alert(1)</script></div>")).is_err());
        assert!(Xhtml::new(format!(r#"<div {NS}><p onclick="x()">a</p></div>"#)).is_err());
        assert!(
            Xhtml::new(format!(
                r#"<div {NS}><a href=" JavaScript:alert(1)">a</a></div>"#
            ))
            .is_err()
        );
        assert!(
            Xhtml::new(format!(
                r#"<div {NS}><p style="background:url(x)">a</p></div>"#
            ))
            .is_err()
        );
    }

    #[test]
    fn the_root_must_be_one_namespaced_div() {
        assert!(Xhtml::new("<div><p>a</p></div>").is_err());
        assert!(Xhtml::new(format!("<p {NS}>a</p>")).is_err());
        assert!(Xhtml::new(format!("<div {NS}>a</div><div {NS}>b</div>")).is_err());
        assert!(Xhtml::new(format!("<div {NS}>a")).is_err());
        assert!(Xhtml::new("plain text").is_err());
        assert!(Xhtml::new(format!("<div {NS}/>")).is_err());
    }

    #[test]
    fn unknown_entities_and_doctypes_are_rejected() {
        assert!(Xhtml::new(format!("<div {NS}>&nbsp;</div>")).is_err());
        assert!(Xhtml::new(format!("<!DOCTYPE x><div {NS}>a</div>")).is_err());
    }
}
