//! FHIR XML: a bounded element tree read with quick-xml, and a writer.
//!
//! Reading builds a small tree ([`XmlNode`]) that borrows from the input,
//! then the generated [`Element::read_xml`](super::codec::Element::read_xml)
//! impls walk it. The reader refuses what a hostile peer could use against
//! us: a DOCTYPE (so no entity expansion), processing instructions, unknown
//! entities, elements outside the FHIR namespace, nesting deeper than
//! [`MAX_DEPTH`], and more than [`MAX_NODES`] elements. A narrative `div`
//! (XHTML namespace) is kept verbatim as a slice of the input and checked by
//! [`xhtml`](super::xhtml).
//!
//! Elements are accepted in any order (a documented leniency); they are
//! always written in schema order.

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::codec::DecodeError;

/// The FHIR XML namespace.
pub const FHIR_NS: &str = "http://hl7.org/fhir";
/// The XHTML namespace of narrative `div`s.
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";
/// Deepest element nesting accepted (FHIR resources in GP Connect nest ~12 deep).
pub const MAX_DEPTH: usize = 64;
/// Most elements accepted in one document (a 100-entry Bundle has ~10,000).
pub const MAX_NODES: usize = 1_000_000;

/// One FHIR XML element.
#[derive(Debug, Clone, PartialEq)]
pub struct XmlNode<'a> {
    /// Element name (no prefix).
    pub name: &'a str,
    /// Attributes other than namespace declarations, unescaped.
    pub attrs: Vec<(&'a str, Cow<'a, str>)>,
    /// Child elements in document order.
    pub children: Vec<XmlNode<'a>>,
    /// For an XHTML `div`: the element verbatim, from `<div` to `</div>`.
    pub raw: Option<&'a str>,
}

impl<'a> XmlNode<'a> {
    fn new(name: &'a str) -> Self {
        XmlNode {
            name,
            attrs: Vec::new(),
            children: Vec::new(),
            raw: None,
        }
    }
}

fn malformed(e: impl std::fmt::Display) -> DecodeError {
    DecodeError::malformed(format!("malformed XML: {e}"))
}

/// Parse a FHIR XML document into its root element.
pub fn parse_document(input: &str) -> Result<XmlNode<'_>, DecodeError> {
    let mut reader = Reader::from_str(input);
    {
        let cfg = reader.config_mut();
        cfg.trim_text(true);
        cfg.check_end_names = true;
        cfg.expand_empty_elements = false;
    }
    let mut stack: Vec<XmlNode<'_>> = Vec::new();
    let mut root: Option<XmlNode<'_>> = None;
    let mut nodes = 0usize;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(malformed)?;
        match event {
            Event::Decl(_) | Event::Comment(_) => {}
            Event::DocType(_) => {
                return Err(DecodeError::malformed(
                    "a DOCTYPE is not allowed in FHIR XML",
                ));
            }
            Event::PI(_) => {
                return Err(DecodeError::malformed(
                    "processing instructions are not allowed in FHIR XML",
                ));
            }
            Event::Start(start) | Event::Empty(start) if root.is_some() => {
                let _ = start;
                return Err(DecodeError::malformed("content after the root element"));
            }
            Event::Start(start) => {
                nodes += 1;
                if nodes > MAX_NODES {
                    return Err(DecodeError::malformed("too many elements"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(DecodeError::malformed(format!(
                        "elements nest deeper than {MAX_DEPTH}"
                    )));
                }
                let (name, is_div) = element_name(&start, input, stack.is_empty())?;
                if is_div {
                    let tag_start = locate_tag_start(input, before);
                    reader.read_to_end(start.name()).map_err(malformed)?;
                    let end = reader.buffer_position() as usize;
                    let mut node = XmlNode::new(name);
                    node.raw = Some(
                        input
                            .get(tag_start..end)
                            .ok_or_else(|| malformed("bad div span"))?,
                    );
                    attach(&mut stack, node, &mut root)?;
                } else {
                    let mut node = XmlNode::new(name);
                    node.attrs = attributes(&start, input)?;
                    stack.push(node);
                }
            }
            Event::Empty(start) => {
                nodes += 1;
                if nodes > MAX_NODES {
                    return Err(DecodeError::malformed("too many elements"));
                }
                let (name, is_div) = element_name(&start, input, stack.is_empty())?;
                let mut node = XmlNode::new(name);
                if is_div {
                    let tag_start = locate_tag_start(input, before);
                    let end = reader.buffer_position() as usize;
                    node.raw = Some(
                        input
                            .get(tag_start..end)
                            .ok_or_else(|| malformed("bad div span"))?,
                    );
                } else {
                    node.attrs = attributes(&start, input)?;
                }
                attach(&mut stack, node, &mut root)?;
            }
            Event::End(_) => {
                let node = stack
                    .pop()
                    .ok_or_else(|| DecodeError::malformed("unbalanced end tag"))?;
                attach(&mut stack, node, &mut root)?;
            }
            Event::Text(t) => {
                if !t.chars().all(|c| c.is_ascii_whitespace()) {
                    return Err(DecodeError::invalid(
                        "text content is only allowed inside a narrative div",
                    ));
                }
            }
            Event::CData(_) | Event::GeneralRef(_) => {
                return Err(DecodeError::invalid(
                    "text content is only allowed inside a narrative div",
                ));
            }
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(DecodeError::malformed("unexpected end of document"));
    }
    root.ok_or_else(|| DecodeError::malformed("the document has no root element"))
}

/// Where the tag that ended at the current position began: skip whitespace
/// the reader consumed before it.
fn locate_tag_start(input: &str, before: usize) -> usize {
    let bytes = input.as_bytes();
    let mut i = before;
    while i < bytes.len() && bytes[i] != b'<' {
        i += 1;
    }
    i
}

fn attach<'a>(
    stack: &mut [XmlNode<'a>],
    node: XmlNode<'a>,
    root: &mut Option<XmlNode<'a>>,
) -> Result<(), DecodeError> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(node),
        None => {
            if root.is_some() {
                return Err(DecodeError::malformed("more than one root element"));
            }
            *root = Some(node);
        }
    }
    Ok(())
}

/// Validate the element's name and namespace; returns whether it is an XHTML div.
fn element_name<'a>(
    start: &BytesStart<'_>,
    input: &'a str,
    is_root: bool,
) -> Result<(&'a str, bool), DecodeError> {
    let qname = start.name();
    let raw: &[u8] = qname.as_ref().as_bytes();
    // Borrow the name from the input so the tree can outlive the event.
    let name = borrow_from_input(input, raw).ok_or_else(|| malformed("element name"))?;
    if name.contains(':') {
        return Err(DecodeError::invalid(format!(
            "prefixed element '{name}': use the default FHIR namespace"
        )));
    }
    let mut ns: Option<Cow<'_, str>> = None;
    for a in start.attributes() {
        let a = a.map_err(malformed)?;
        let key: &str = a.key.as_ref();
        if key == "xmlns" {
            ns = Some(
                a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(malformed)?,
            );
        } else if key.starts_with("xmlns:") {
            return Err(DecodeError::invalid(
                "namespace prefixes are not supported in FHIR XML",
            ));
        }
    }
    if name == "div" && ns.as_deref() == Some(XHTML_NS) {
        return Ok((name, true));
    }
    match ns.as_deref() {
        Some(FHIR_NS) => {}
        Some(other) => {
            return Err(DecodeError::invalid(format!(
                "element '{name}' is in namespace '{other}', not {FHIR_NS}"
            )));
        }
        None if is_root => {
            return Err(DecodeError::invalid(format!(
                "the root element must be in the FHIR namespace {FHIR_NS}"
            )));
        }
        None => {}
    }
    Ok((name, false))
}

fn attributes<'a>(
    start: &BytesStart<'_>,
    input: &'a str,
) -> Result<Vec<(&'a str, Cow<'a, str>)>, DecodeError> {
    let mut out = Vec::new();
    for a in start.attributes() {
        let a = a.map_err(malformed)?;
        let key: &str = a.key.as_ref();
        if key == "xmlns" {
            continue;
        }
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(malformed)?;
        let key = leak_key(key)
            .ok_or_else(|| DecodeError::invalid(format!("unknown attribute '{key}'")))?;
        out.push((key, reborrow(input, value)));
    }
    Ok(out)
}

/// FHIR XML uses four attribute names; map them to static strings so the
/// tree does not borrow from a temporary event.
fn leak_key(key: &str) -> Option<&'static str> {
    match key {
        "value" => Some("value"),
        "id" => Some("id"),
        "url" => Some("url"),
        _ => None,
    }
}

/// Find `raw` (a slice of the reader's buffer) inside `input` by address.
/// `Reader::from_str` borrows every name from the input, so this always
/// succeeds for names; `None` means the reader copied it.
fn borrow_from_input<'a>(input: &'a str, raw: &[u8]) -> Option<&'a str> {
    let base = input.as_ptr() as usize;
    let p = raw.as_ptr() as usize;
    if p >= base && p + raw.len() <= base + input.len() {
        input.get(p - base..p - base + raw.len())
    } else {
        None
    }
}

/// Tie an attribute value to the input's lifetime: borrowed values point
/// into the input; unescaped ones are already owned.
fn reborrow<'a>(input: &'a str, value: Cow<'_, str>) -> Cow<'a, str> {
    match value {
        Cow::Borrowed(s) => match borrow_from_input(input, s.as_bytes()) {
            Some(b) => Cow::Borrowed(b),
            None => Cow::Owned(s.to_owned()),
        },
        Cow::Owned(s) => Cow::Owned(s),
    }
}

/// Builds FHIR XML. Elements are opened with [`XmlWriter::open_start`],
/// given attributes, and closed with [`XmlWriter::end`], which writes `/>`
/// when nothing was written inside.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
    pending: bool,
    depth: usize,
    rooted: bool,
}

impl XmlWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    fn flush_pending(&mut self) {
        if self.pending {
            self.out.push('>');
            self.pending = false;
        }
    }

    /// Open `<name`; the first element of the document gets the FHIR namespace.
    pub fn open_start(&mut self, name: &str) {
        self.flush_pending();
        self.out.push('<');
        self.out.push_str(name);
        if !self.rooted {
            self.rooted = true;
            self.out.push_str(" xmlns=\"");
            self.out.push_str(FHIR_NS);
            self.out.push('"');
        }
        self.pending = true;
        self.depth += 1;
    }

    /// Add ` key="value"` to the open start tag.
    pub fn attr(&mut self, key: &str, value: &str) {
        debug_assert!(self.pending, "attribute outside a start tag");
        self.out.push(' ');
        self.out.push_str(key);
        self.out.push_str("=\"");
        escape_attr(&mut self.out, value);
        self.out.push('"');
    }

    /// Close the start tag (if still open) so children can follow.
    pub fn close_start(&mut self) {
        self.flush_pending();
    }

    /// End the element: `/>` if nothing was written inside, else `</name>`.
    pub fn end(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        if self.pending {
            self.out.push_str("/>");
            self.pending = false;
        } else {
            self.out.push_str("</");
            self.out.push_str(name);
            self.out.push('>');
        }
    }

    /// Same as [`XmlWriter::end`] for an element with no children.
    pub fn close_empty(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.out.push_str("/>");
        self.pending = false;
    }

    /// Write already-validated XHTML verbatim (a narrative `div`).
    pub fn raw(&mut self, xhtml: &str) {
        self.flush_pending();
        self.out.push_str(xhtml);
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Escape an attribute value; tab, CR and LF become character references so
/// attribute-value normalisation cannot change them.
fn escape_attr(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            '\t' => out.push_str("&#x9;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctype_is_rejected_so_entities_cannot_expand() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><Patient xmlns="http://hl7.org/fhir"><id value="&lol;"/></Patient>"#;
        let e = parse_document(xml).unwrap_err();
        assert!(e.malformed, "{e}");
        assert!(e.to_string().contains("DOCTYPE"));
    }

    #[test]
    fn unknown_entities_are_rejected() {
        let xml = r#"<Patient xmlns="http://hl7.org/fhir"><id value="&foo;"/></Patient>"#;
        assert!(parse_document(xml).is_err());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut xml = String::from(r#"<Patient xmlns="http://hl7.org/fhir">"#);
        for _ in 0..100 {
            xml.push_str("<extension>");
        }
        for _ in 0..100 {
            xml.push_str("</extension>");
        }
        xml.push_str("</Patient>");
        let e = parse_document(&xml).unwrap_err();
        assert!(e.to_string().contains("deeper"), "{e}");
    }

    #[test]
    fn the_root_must_be_in_the_fhir_namespace() {
        assert!(parse_document("<Patient/>").is_err());
        assert!(parse_document(r#"<Patient xmlns="urn:other"/>"#).is_err());
        assert!(parse_document(r#"<Patient xmlns="http://hl7.org/fhir"/>"#).is_ok());
    }

    #[test]
    fn xhtml_div_is_kept_verbatim() {
        let div = r#"<div xmlns="http://www.w3.org/1999/xhtml"><p>a &amp; <b>b</b></p></div>"#;
        let xml = format!(
            r#"<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/>  {div}</text></Patient>"#
        );
        let root = parse_document(&xml).unwrap();
        let text = &root.children[0];
        assert_eq!(text.children[1].raw, Some(div));
    }

    #[test]
    fn attribute_values_round_trip_through_escaping() {
        let mut w = XmlWriter::new();
        w.open_start("Patient");
        w.open_start("id");
        w.attr("value", "a\"b<c>&d\ne\r\tf");
        w.end("id");
        w.end("Patient");
        let out = w.finish();
        let root = parse_document(&out).unwrap();
        assert_eq!(root.children[0].attrs[0].1, "a\"b<c>&d\ne\r\tf");
    }

    #[test]
    fn text_outside_a_div_is_rejected() {
        let xml = r#"<Patient xmlns="http://hl7.org/fhir">hello</Patient>"#;
        assert!(parse_document(xml).is_err());
    }
}
