//! The guard: a second, independent line of defence behind the writer.
//!
//! The writer's output goes through `ammonia` configured from nothing
//! ([`ammonia::Builder::empty`]) with exactly the elements, attributes,
//! ids and classes of accessrecord §2.1 and §2.6. Ammonia serialises HTML5
//! (`<br>`, `&nbsp;`), which is not XHTML, so its output is read back by a
//! strict reader for exactly that serialisation (html5ever's: start tags
//! with double-quoted attributes, end tags, text with `&amp;` `&lt;` `&gt;`
//! `&quot;` `&nbsp;`) and written again through the crate's own
//! `Writer`. Anything the reader does not expect is an error, never
//! passed through.
//!
//! For the writer's own output the guard is an identity (tested); its cost
//! is measured separately in the bench.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use crate::section::Table;
use crate::xhtml::{Attr, Class, TABLES, Tag, Writer, XHTML_NS};

/// Why the guard refused its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The sanitised markup held something the strict reader does not
    /// accept (a bug in the writer or a change in ammonia's output).
    #[error("sanitised markup not understood at byte {at}: {what}")]
    Unexpected {
        /// Byte offset in ammonia's output.
        at: usize,
        /// What was wrong.
        what: &'static str,
    },
}

fn builder() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let tags: HashSet<&'static str> = Tag::ALL.iter().map(|t| t.name()).collect();
        let tag_attributes: HashMap<&'static str, HashSet<&'static str>> = HashMap::from([
            ("div", HashSet::from(["xmlns"])),
            ("table", HashSet::from(["id"])),
            ("td", HashSet::from(["colspan"])),
        ]);
        let banner: HashSet<&'static str> = Class::ALL
            .iter()
            .filter(|c| c.is_banner())
            .map(|c| c.name())
            .collect();
        let cell: HashSet<&'static str> = Class::ALL
            .iter()
            .filter(|c| !c.is_banner())
            .map(|c| c.name())
            .collect();
        let mut b = ammonia::Builder::empty();
        b.tags(tags)
            .generic_attributes(HashSet::new())
            .tag_attributes(tag_attributes)
            .allowed_classes(HashMap::from([("div", banner), ("td", cell)]))
            .url_schemes(HashSet::new())
            .link_rel(None)
            .strip_comments(true)
            .attribute_filter(|element: &str, attribute: &str, value: &str| {
                let ok = match (element, attribute) {
                    ("div", "xmlns") => value == XHTML_NS,
                    ("table", "id") => TABLES.iter().any(|t| t.id() == value),
                    ("td", "colspan") => value == "7" || value == "9",
                    ("div" | "td", "class") => true,
                    _ => false,
                };
                ok.then_some(Cow::Borrowed(value))
            });
        b
    })
}

/// Sanitises `html` with ammonia and re-serialises the result as XHTML.
pub fn guard(html: &str) -> Result<String, GuardError> {
    let sanitised = builder().clean(html).to_string();
    rewrite(&sanitised, html.len())
}

/// Reads html5ever's serialisation of an allowed fragment and writes it
/// again as XHTML.
fn rewrite(html: &str, capacity: usize) -> Result<String, GuardError> {
    let err = |at: usize, what: &'static str| GuardError::Unexpected { at, what };
    let bytes = html.as_bytes();
    let mut w = Writer::with_capacity(capacity);
    let mut stack: Vec<Tag> = Vec::new();
    let mut roots = 0usize;
    let mut text = String::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            let end = html[i..].find('<').map_or(html.len(), |n| i + n);
            if stack.is_empty() {
                return Err(err(i, "text outside the root"));
            }
            text.clear();
            decode_into(&html[i..end], &mut text).map_err(|n| err(i + n, "unknown entity"))?;
            w.text(&text);
            i = end;
            continue;
        }
        let close = html[i..]
            .find('>')
            .map(|n| i + n)
            .ok_or(err(i, "unterminated tag"))?;
        let inner = &html[i + 1..close];
        if let Some(name) = inner.strip_prefix('/') {
            let tag = Tag::from_name(name).ok_or(err(i, "unknown end tag"))?;
            if stack.pop() != Some(tag) {
                return Err(err(i, "unbalanced end tag"));
            }
            w.close(tag);
        } else {
            let (name, mut rest) = inner.split_once(' ').unwrap_or((inner, ""));
            let tag = Tag::from_name(name).ok_or(err(i, "unknown element"))?;
            if stack.is_empty() {
                roots += 1;
                if roots > 1 || tag != Tag::Div {
                    return Err(err(i, "not a single root div"));
                }
            }
            let mut attrs: Vec<Attr> = Vec::new();
            while !rest.is_empty() {
                let (attr_name, after) = rest
                    .split_once("=\"")
                    .ok_or(err(i, "malformed attribute"))?;
                let (raw, after) = after.split_once('"').ok_or(err(i, "malformed attribute"))?;
                rest = after.strip_prefix(' ').unwrap_or(after);
                if !after.is_empty() && !after.starts_with(' ') {
                    return Err(err(i, "malformed attribute"));
                }
                let mut value = String::new();
                decode_into(raw, &mut value).map_err(|_| err(i, "unknown entity"))?;
                let attr = match (tag, attr_name) {
                    (Tag::Div, "xmlns") if stack.is_empty() && value == XHTML_NS => Attr::Xmlns,
                    (Tag::Table, "id") => Attr::Id(
                        TABLES
                            .into_iter()
                            .find(|t: &Table| t.id() == value)
                            .ok_or(err(i, "unknown id"))?,
                    ),
                    (Tag::Td, "colspan") if value == "7" || value == "9" => {
                        Attr::Colspan(if value == "7" { 7 } else { 9 })
                    }
                    (Tag::Div | Tag::Td, "class") => {
                        let class = Class::from_name(&value).ok_or(err(i, "unknown class"))?;
                        if class.is_banner() != (tag == Tag::Div) {
                            return Err(err(i, "class on the wrong element"));
                        }
                        Attr::Class(class)
                    }
                    _ => return Err(err(i, "attribute not allowed")),
                };
                attrs.push(attr);
            }
            attrs.sort_by_key(|a| match a {
                Attr::Xmlns => 0,
                Attr::Id(_) => 1,
                Attr::Colspan(_) => 2,
                Attr::Class(_) => 3,
            });
            w.open(tag, &attrs);
            if tag != Tag::Br {
                stack.push(tag);
            }
        }
        i = close + 1;
    }
    if !stack.is_empty() || roots != 1 {
        return Err(err(html.len(), "unclosed elements"));
    }
    Ok(w.finish())
}

/// Decodes the entities html5ever writes; `Err(offset)` on any other `&`.
fn decode_into(s: &str, out: &mut String) -> Result<(), usize> {
    let mut rest = s;
    let mut offset = 0;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp..];
        let (entity, c) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&quot;", '"'),
            ("&nbsp;", '\u{A0}'),
        ]
        .into_iter()
        .find(|(e, _)| after.starts_with(e))
        .ok_or(offset + amp)?;
        out.push(c);
        rest = &after[entity.len()..];
        offset += amp + entity.len();
    }
    out.push_str(rest);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_strips_what_the_allow_list_does_not_hold() {
        let out = guard(
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><h1 onclick="x">T</h1><script>alert(1)</script><a href="javascript:x">link</a><img src=x onerror=alert(1)><div class="date-banner evil" style="x"><p>a&nbsp;b<br>c</p></div><table id="evil"><tbody><tr><td class="med-item-column" colspan="3">x</td></tr></tbody></table></div>"#,
        )
        .unwrap();
        assert_eq!(
            out,
            "<div xmlns=\"http://www.w3.org/1999/xhtml\"><h1>T</h1>link<div class=\"date-banner\"><p>a\u{A0}b<br/>c</p></div><table><tbody><tr><td class=\"med-item-column\">x</td></tr></tbody></table></div>"
        );
    }

    #[test]
    fn guard_refuses_a_fragment_without_a_single_root_div() {
        assert!(guard("text").is_err());
        assert!(guard("<div></div><div></div>").is_err());
        assert!(guard("<p>x</p>").is_err());
    }

    #[test]
    fn decode_knows_only_html5ever_entities() {
        let mut s = String::new();
        decode_into("a&amp;b&lt;&gt;&quot;&nbsp;", &mut s).unwrap();
        assert_eq!(s, "a&b<>\"\u{A0}");
        assert_eq!(decode_into("x&copy;", &mut String::new()), Err(1));
    }
}
