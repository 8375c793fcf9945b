//! Shared by the integration tests: the structural checker (the output
//! parsed as XML with quick-xml and held to accessrecord §2.1 and §2.6), a
//! small tree to query, and the read-back normalisation.
#![allow(dead_code)]

pub mod fixture;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// Element names the views may use (accessrecord §2.1).
pub const ELEMENTS: [&str; 12] = [
    "div", "h1", "h2", "p", "table", "thead", "tbody", "tr", "th", "td", "strong", "br",
];
/// Table ids (accessrecord §2.6).
pub const IDS: [&str; 16] = [
    "adm-tab",
    "all-tab-curr",
    "all-tab-hist",
    "cli-tab",
    "enc-tab",
    "imm-tab",
    "med-tab-acu-med",
    "med-tab-curr-rep",
    "med-tab-dis-rep",
    "med-tab-all-sum",
    "med-tab-all-iss",
    "obs-tab",
    "prb-tab-act",
    "prb-tab-majinact",
    "prb-tab-othinact",
    "ref-tab",
];
/// Classes on banner divs.
pub const BANNER_CLASSES: [&str; 4] = [
    "content-banner",
    "date-banner",
    "exclusion-banner",
    "gptransfer-banner",
];
/// Classes on td.
pub const CELL_CLASSES: [&str; 2] = ["date-column", "med-item-column"];
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";

/// A parsed element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Node>,
}

/// A child: an element or a run of text (entity references resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|c| match c {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// Every descendant element named `name`, in document order.
    pub fn find_all<'a>(&'a self, name: &str) -> Vec<&'a Element> {
        let mut out = Vec::new();
        fn walk<'a>(e: &'a Element, name: &str, out: &mut Vec<&'a Element>) {
            for c in e.elements() {
                if c.name == name {
                    out.push(c);
                }
                walk(c, name, out);
            }
        }
        walk(self, name, &mut out);
        out
    }

    /// The text of the element, with `<br/>` read as `\n`.
    pub fn text(&self) -> String {
        let mut s = String::new();
        fn walk(e: &Element, s: &mut String) {
            for c in &e.children {
                match c {
                    Node::Text(t) => s.push_str(t),
                    Node::Element(b) if b.name == "br" => s.push('\n'),
                    Node::Element(e) => walk(e, s),
                }
            }
        }
        walk(self, &mut s);
        s
    }

    /// The tables, in document order.
    pub fn tables(&self) -> Vec<&Element> {
        self.find_all("table")
    }

    pub fn table_ids(&self) -> Vec<String> {
        self.tables()
            .iter()
            .map(|t| t.attr("id").unwrap_or("").to_owned())
            .collect()
    }

    /// The `th` texts of a table.
    pub fn headers(&self) -> Vec<String> {
        self.find_all("th").iter().map(|th| th.text()).collect()
    }

    /// The body rows of a table, each as its `td` elements.
    pub fn rows(&self) -> Vec<Vec<&Element>> {
        self.find_all("tbody")
            .iter()
            .flat_map(|b| b.elements().filter(|tr| tr.name == "tr"))
            .map(|tr| tr.elements().collect())
            .collect()
    }

    /// The body rows as text, without medication group rows.
    pub fn row_texts(&self) -> Vec<Vec<String>> {
        self.rows()
            .into_iter()
            .filter(|r| !(r.len() == 1 && r[0].attr("colspan").is_some()))
            .map(|r| r.iter().map(|td| td.text()).collect())
            .collect()
    }

    /// The banner divs that are direct children: (class, text).
    pub fn banners(&self) -> Vec<(String, String)> {
        self.elements()
            .filter(|e| e.name == "div")
            .filter_map(|e| e.attr("class").map(|c| (c.to_owned(), e.text())))
            .collect()
    }

    /// The subsection div whose h2 reads `heading`.
    pub fn subsection(&self, heading: &str) -> Option<&Element> {
        self.find_all("div").into_iter().find(|d| {
            d.elements()
                .next()
                .is_some_and(|h| h.name == "h2" && h.text() == heading)
        })
    }

    /// The h2 texts, in order.
    pub fn h2s(&self) -> Vec<String> {
        self.find_all("h2").iter().map(|h| h.text()).collect()
    }
}

/// Parses `html` and checks it against the allow-list, or says why not.
/// Checks: no `\n` `\r` `\t`; only XML 1.0 characters; entity references
/// only `&amp;` `&lt;` `&gt;` `&quot;` or numeric; well-formed XML with one
/// root `div`; elements ⊂ [`ELEMENTS`]; no CDATA, comments, PIs, doctype;
/// attributes: `xmlns` (XHTML) on the root only, `id` ⊂ [`IDS`] on table
/// only, `class` on div (banner classes) and td (cell classes) only,
/// `colspan` 7 or 9 on a `med-item-column` td only; `br` empty.
pub fn parse(html: &str) -> Result<Element, String> {
    if let Some(c) = html.chars().find(|c| matches!(c, '\n' | '\r' | '\t')) {
        return Err(format!("forbidden character {c:?}"));
    }
    if let Some(c) = html.chars().find(|&c| {
        !(c == '\u{9}'
            || c == '\u{A}'
            || c == '\u{D}'
            || ('\u{20}'..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}')
    }) {
        return Err(format!("character not allowed in XML 1.0: {c:?}"));
    }
    let mut rest = html;
    while let Some(i) = rest.find('&') {
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or("unterminated entity reference")?;
        let name = &after[..end];
        let numeric = name.strip_prefix('#').is_some_and(|n| {
            n.strip_prefix('x').map_or(
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
                |h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()),
            )
        });
        if !numeric && !matches!(name, "amp" | "lt" | "gt" | "quot") {
            return Err(format!("entity &{name}; not allowed"));
        }
        rest = &after[end..];
    }

    let mut reader = Reader::from_str(html);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed at {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) => {
                let el = element(&e, stack.is_empty() && root.is_none())?;
                if el.name == "br" {
                    return Err("<br> must be self-closed".into());
                }
                stack.push(el);
            }
            Event::Empty(e) => {
                let el = element(&e, false)?;
                if el.name != "br" {
                    return Err(format!("<{}/> is not allowed empty", el.name));
                }
                stack
                    .last_mut()
                    .ok_or("<br/> outside the root")?
                    .children
                    .push(Node::Element(el));
            }
            Event::End(_) => {
                let el = stack.pop().ok_or("unbalanced end")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => push_text(&mut stack, &t.xml10_content())?,
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c,
                    None => match &*r.xml10_content() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        other => return Err(format!("entity &{other};")),
                    },
                };
                push_text(&mut stack, c.encode_utf8(&mut [0; 4]))?;
            }
            Event::Eof => break,
            other => return Err(format!("not allowed: {other:?}")),
        }
    }
    if !stack.is_empty() {
        return Err("unclosed elements".into());
    }
    let root = root.ok_or("no root")?;
    if root.name != "div" {
        return Err("the root is not a div".into());
    }
    Ok(root)
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), String> {
    let top = stack.last_mut().ok_or("text outside the root")?;
    if let Some(Node::Text(t)) = top.children.last_mut() {
        t.push_str(text);
    } else {
        top.children.push(Node::Text(text.to_owned()));
    }
    Ok(())
}

fn element(e: &BytesStart, root: bool) -> Result<Element, String> {
    let name: String = e.name().as_ref().to_owned();
    if !ELEMENTS.contains(&name.as_str()) {
        return Err(format!("element <{name}> not allowed"));
    }
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let key: String = a.key.as_ref().to_owned();
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| e.to_string())?
            .into_owned();
        let ok = match (name.as_str(), key.as_str()) {
            ("div", "xmlns") => root && value == XHTML_NS,
            ("div", "class") => BANNER_CLASSES.contains(&value.as_str()),
            ("table", "id") => IDS.contains(&value.as_str()),
            ("td", "class") => CELL_CLASSES.contains(&value.as_str()),
            ("td", "colspan") => value == "7" || value == "9",
            _ => false,
        };
        if !ok {
            return Err(format!("attribute {key}={value:?} not allowed on <{name}>"));
        }
        attrs.push((key, value));
    }
    let has = |k: &str| attrs.iter().any(|(n, _)| n == k);
    if has("colspan")
        && !attrs
            .iter()
            .any(|(n, v)| n == "class" && v == "med-item-column")
    {
        return Err("colspan without med-item-column".into());
    }
    Ok(Element {
        name,
        attrs,
        children: Vec::new(),
    })
}

/// [`parse`], panicking with the reason and the start of the markup.
pub fn check(html: &str) -> Element {
    match parse(html) {
        Ok(root) => root,
        Err(why) => panic!(
            "structural check failed: {why}\n{}",
            html.chars().take(2000).collect::<String>()
        ),
    }
}

/// What a reader gets back from a text field (an implementation separate
/// from the crate's, on purpose): `\r\n`, `\r`, `\n` → `\n`; tab → space;
/// characters XML 1.0 forbids (C0 controls, U+FFFE, U+FFFF) → U+FFFD.
pub fn norm(s: &str) -> String {
    let s = s.replace("\r\n", "\n").replace('\r', "\n");
    s.chars()
        .map(|c| match c {
            '\n' => '\n',
            '\t' => ' ',
            c if (c as u32) < 0x20 => '\u{FFFD}',
            '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}
