//! The element codec: one description of each FHIR type drives both the JSON
//! (serde) and the XML (quick-xml) encodings.
//!
//! Every FHIR type implements [`Element`]. Complex types and resources get
//! their implementation from [`fhir_struct!`](crate::fhir_struct) and
//! [`fhir_resource!`](crate::fhir_resource), which take the element list in
//! schema order, so XML is written in schema order for free. Each element is
//! declared with a *cardinality kind* that names a module here: `opt` (0..1),
//! `req` (1..1), `vec` (0..*), `choice` (a `value[x]`), `attr` and
//! `req_attr` (XML attributes: `Element.id`, `Extension.url`). The modules
//! share one function set, so the macros stay small and the behaviour of a
//! kind lives in one place.
//!
//! Primitive ids and extensions (`_given` in JSON; `id`/`extension` on the
//! XML element) live in a per-struct side table, [`PrimitiveExtensions`], so
//! the common case keeps plain Rust fields (`Option<String>`, `Vec<String>`).
//!
//! JSON decoding is streaming: no `flatten`, no untagged enums, no buffering
//! except for a resource whose `resourceType` is not its first key.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::datatypes::Extension;
use super::xml::{XmlNode, XmlWriter};

/// The largest string any element may carry: FHIR says strings SHALL NOT
/// exceed 1 MB (digest §7).
pub const MAX_STRING_BYTES: usize = 1024 * 1024;

/// A FHIR type that can be read and written as JSON and XML.
pub trait Element: Sized {
    /// FHIR primitives carry `value` plus an optional `id` and extensions.
    const PRIMITIVE: bool = false;

    /// Decode from JSON (the value of one key).
    fn deserialize_element<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;

    /// Encode as the JSON value of one key.
    fn serialize_element<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;

    /// Write as the XML element `name`. Primitives receive their id and
    /// extensions in `ext`.
    fn write_xml(&self, name: &str, ext: Option<&PrimitiveExt>, w: &mut XmlWriter);

    /// Read from the XML element `node`. Primitives may return no value when
    /// the element only carries extensions.
    fn read_xml(node: &XmlNode<'_>) -> Result<(Option<Self>, Option<PrimitiveExt>), DecodeError>;
}

/// A FHIR primitive: a value with a lexical form, validated on the way in.
pub trait Primitive: Sized {
    /// The FHIR type name, for diagnostics.
    const FHIR_TYPE: &'static str;
    /// Parse the XML `value` attribute (and JSON strings for string-typed primitives).
    fn parse_lexical(s: &str) -> Result<Self, String>;
    /// The lexical form written to XML.
    fn lexical(&self) -> std::borrow::Cow<'_, str>;
}

/// An XML decode failure: where (element path, innermost last) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Path segments from the innermost outwards, e.g. `["given[1]", "name[0]"]`.
    segments: Vec<String>,
    message: String,
    /// Malformed XML (400) rather than an invalid resource (422).
    pub malformed: bool,
}

impl DecodeError {
    /// An invalid-resource error at the current element.
    pub fn invalid(message: impl Into<String>) -> Self {
        DecodeError {
            segments: Vec::new(),
            message: message.into(),
            malformed: false,
        }
    }

    /// A malformed-document error.
    pub fn malformed(message: impl Into<String>) -> Self {
        DecodeError {
            segments: Vec::new(),
            message: message.into(),
            malformed: true,
        }
    }

    /// Add the enclosing element to the path.
    pub fn within(mut self, name: &str, index: Option<usize>) -> Self {
        self.segments.push(match index {
            Some(i) => format!("{name}[{i}]"),
            None => name.to_owned(),
        });
        self
    }

    /// The dotted element path, outermost first (e.g. `Patient.name[0].given`).
    pub fn path(&self) -> String {
        let mut out = String::new();
        for (i, s) in self.segments.iter().rev().enumerate() {
            if i > 0 {
                out.push('.');
            }
            out.push_str(s);
        }
        out
    }

    /// The message without the path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.segments.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path(), self.message)
        }
    }
}

/// The id and extensions of one primitive value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrimitiveExt {
    /// `Element.id` of the primitive.
    pub id: Option<String>,
    /// Extensions on the primitive.
    pub extension: Vec<Extension>,
}

impl PrimitiveExt {
    fn is_empty(&self) -> bool {
        self.id.is_none() && self.extension.is_empty()
    }
}

/// One entry of the side table: which element (and which repetition).
#[derive(Debug, Clone, PartialEq)]
pub struct PrimitiveExtEntry {
    /// JSON name of the element (`given`, `valueString`).
    pub element: &'static str,
    /// Position in a repeating element.
    pub index: Option<usize>,
    /// The id and extensions.
    pub ext: PrimitiveExt,
}

/// Primitive ids and extensions of one struct, kept apart from the fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PrimitiveExtensions(Vec<PrimitiveExtEntry>);

impl PrimitiveExtensions {
    /// No entries (the common case).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The id and extensions of `element` (at `index` for repeating ones).
    pub fn get(&self, element: &str, index: Option<usize>) -> Option<&PrimitiveExt> {
        self.0
            .iter()
            .find(|e| e.element == element && e.index == index)
            .map(|e| &e.ext)
    }

    /// Set (or replace) the id and extensions of an element.
    pub fn set(&mut self, element: &'static str, index: Option<usize>, ext: PrimitiveExt) {
        self.0
            .retain(|e| !(e.element == element && e.index == index));
        if !ext.is_empty() {
            self.0.push(PrimitiveExtEntry {
                element,
                index,
                ext,
            });
        }
    }

    /// All entries.
    pub fn entries(&self) -> &[PrimitiveExtEntry] {
        &self.0
    }

    fn has(&self, element: &str) -> bool {
        self.0.iter().any(|e| e.element == element)
    }

    fn max_index(&self, element: &str) -> Option<usize> {
        if self.0.is_empty() {
            return None;
        }
        self.0
            .iter()
            .filter(|e| e.element == element)
            .filter_map(|e| e.index)
            .max()
    }
}

// ---------------------------------------------------------------------------
// serde plumbing

/// Serialize any [`Element`] through serde.
#[derive(Debug)]
pub struct Ser<'a, T>(pub &'a T);

impl<T: Element> Serialize for Ser<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_element(s)
    }
}

/// Deserialize any [`Element`] through serde.
#[derive(Debug)]
pub struct ElementSeed<T>(PhantomData<T>);

impl<T> Default for ElementSeed<T> {
    fn default() -> Self {
        ElementSeed(PhantomData)
    }
}

impl<'de, T: Element> DeserializeSeed<'de> for ElementSeed<T> {
    type Value = T;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        T::deserialize_element(d)
    }
}

/// A JSON object key, borrowed from the input where possible.
#[derive(Debug)]
pub enum Key<'de> {
    /// Borrowed from the input.
    Borrowed(&'de str),
    /// Unescaped into a new string.
    Owned(String),
}

impl Key<'_> {
    /// The key text.
    pub fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

/// Seed that reads a [`Key`].
#[derive(Debug, Default)]
pub struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an element name")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v))
    }
}

/// Split `_name` into `(true, "name")`.
pub fn split_ext_key(key: &str) -> (bool, &str) {
    match key.strip_prefix('_') {
        Some(rest) => (true, rest),
        None => (false, key),
    }
}

/// The error for a key no element of the type answers to (R8).
pub fn unknown_element<E: de::Error>(key: &str) -> E {
    E::custom(format_args!("unknown element '{key}'"))
}

/// Seed for a non-empty JSON array of elements (an empty array reads as absent).
struct VecSeed<T>(PhantomData<T>);

impl<'de, T: Element> DeserializeSeed<'de> for VecSeed<T> {
    type Value = Vec<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Element> Visitor<'de> for VecSeed<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(ElementSeed::<T>::default())? {
            out.push(v);
        }
        Ok(out)
    }
}

/// Seed for `_name` arrays: `[null, {"extension": [...]}]`.
struct ExtVecSeed;

impl<'de> DeserializeSeed<'de> for ExtVecSeed {
    type Value = Vec<Option<PrimitiveExt>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ExtVecSeed {
    type Value = Vec<Option<PrimitiveExt>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of primitive extensions or nulls")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(OptionalExtSeed)? {
            out.push(v);
        }
        Ok(out)
    }
}

struct OptionalExtSeed;

impl<'de> DeserializeSeed<'de> for OptionalExtSeed {
    type Value = Option<PrimitiveExt>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for OptionalExtSeed {
    type Value = Option<PrimitiveExt>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null or a primitive extension object")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        PrimitiveExt::deserialize_element(d).map(Some)
    }
}

struct ExtSeq<'a> {
    exts: &'a PrimitiveExtensions,
    element: &'static str,
    len: usize,
}

impl Serialize for ExtSeq<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len))?;
        for i in 0..self.len {
            match self.exts.get(self.element, Some(i)) {
                Some(e) => seq.serialize_element(&Ser(e))?,
                None => seq.serialize_element(&())?,
            }
        }
        seq.end()
    }
}

impl Element for PrimitiveExt {
    fn deserialize_element<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PrimitiveExt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a primitive extension object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PrimitiveExt, A::Error> {
                let mut out = PrimitiveExt::default();
                let mut id = None;
                let mut extension = None;
                while let Some(key) = map.next_key_seed(KeySeed)? {
                    match key.as_str() {
                        "id" => opt::de_value::<String, A>(&mut id, &mut map, "id")?,
                        "extension" => {
                            vec::de_value::<Extension, A>(&mut extension, &mut map, "extension")?
                        }
                        other => return Err(unknown_element(other)),
                    }
                }
                out.id = id;
                out.extension = extension.unwrap_or_default();
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }

    fn serialize_element<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(id) = &self.id {
            map.serialize_entry("id", id)?;
        }
        if !self.extension.is_empty() {
            map.serialize_entry("extension", &SerSlice(&self.extension))?;
        }
        map.end()
    }

    fn write_xml(&self, _name: &str, _ext: Option<&PrimitiveExt>, _w: &mut XmlWriter) {
        // Primitive extensions are written by the primitive's own element.
    }

    fn read_xml(_node: &XmlNode<'_>) -> Result<(Option<Self>, Option<PrimitiveExt>), DecodeError> {
        Err(DecodeError::invalid(
            "primitive extensions are read with their primitive",
        ))
    }
}

/// Serialize a slice of elements as a JSON array.
#[derive(Debug)]
pub struct SerSlice<'a, T>(pub &'a [T]);

impl<T: Element> Serialize for SerSlice<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for v in self.0 {
            seq.serialize_element(&Ser(v))?;
        }
        seq.end()
    }
}

fn reject_ext_on_complex<E: de::Error, T: Element>(json: &str) -> Result<(), E> {
    if T::PRIMITIVE {
        Ok(())
    } else {
        Err(E::custom(format_args!("unknown element '_{json}'")))
    }
}

fn duplicate<E: de::Error>(json: &str) -> E {
    E::custom(format_args!("element '{json}' appears more than once"))
}

// ---------------------------------------------------------------------------
// XML helpers shared by the kinds

/// Read the primitive-extension children (`extension`) and `id` attribute of
/// a primitive element; `value` is returned raw for the caller to parse.
pub fn read_primitive_node<'a>(
    node: &'a XmlNode<'_>,
) -> Result<(Option<&'a str>, Option<PrimitiveExt>), DecodeError> {
    let mut value = None;
    let mut ext = PrimitiveExt::default();
    for (name, v) in &node.attrs {
        match *name {
            "value" => value = Some(v.as_ref()),
            "id" => ext.id = Some(v.to_string()),
            other => {
                return Err(DecodeError::invalid(format!("unknown attribute '{other}'")));
            }
        }
    }
    for (i, child) in node.children.iter().enumerate() {
        if child.name != "extension" {
            return Err(DecodeError::invalid(format!(
                "unknown element '{}'",
                child.name
            )));
        }
        let (v, _) = Extension::read_xml(child).map_err(|e| e.within("extension", Some(i)))?;
        if let Some(v) = v {
            ext.extension.push(v);
        }
    }
    if value.is_none() && ext.is_empty() {
        return Err(DecodeError::invalid("primitive element has no value"));
    }
    Ok((value, (!ext.is_empty()).then_some(ext)))
}

/// Write a primitive element: `<name id=".." value=".."><extension/></name>`.
pub fn write_primitive_node(
    name: &str,
    value: Option<&str>,
    ext: Option<&PrimitiveExt>,
    w: &mut XmlWriter,
) {
    w.open_start(name);
    if let Some(id) = ext.and_then(|e| e.id.as_deref()) {
        w.attr("id", id);
    }
    if let Some(v) = value {
        w.attr("value", v);
    }
    match ext {
        Some(e) if !e.extension.is_empty() => {
            w.close_start();
            for x in &e.extension {
                x.write_xml("extension", None, w);
            }
            w.end(name);
        }
        _ => w.close_empty(),
    }
}

// ---------------------------------------------------------------------------
// The cardinality kinds. Each module offers the same functions:
// `matches`, `de_value`, `de_ext`, `finish`, `ser`, `write_attr`,
// `write_child`, `read_attr`, `read_child`.

/// 0..1 element.
pub mod opt {
    use super::*;

    /// Accumulator while decoding.
    pub type Acc<T> = Option<T>;

    /// Does JSON key / XML name `name` belong to this element?
    pub fn matches<T>(name: &str, json: &str) -> bool {
        name == json
    }

    /// Decode the JSON value of the element.
    pub fn de_value<'de, T: Element, A: MapAccess<'de>>(
        acc: &mut Option<T>,
        map: &mut A,
        json: &str,
    ) -> Result<(), A::Error> {
        if acc.is_some() {
            return Err(duplicate(json));
        }
        *acc = Some(map.next_value_seed(ElementSeed::<T>::default())?);
        Ok(())
    }

    /// Decode the JSON `_name` of the element.
    pub fn de_ext<'de, T: Element, A: MapAccess<'de>>(
        exts: &mut PrimitiveExtensions,
        map: &mut A,
        json: &'static str,
        _name: &str,
    ) -> Result<(), A::Error> {
        reject_ext_on_complex::<A::Error, T>(json)?;
        if exts.has(json) {
            return Err(duplicate(&format!("_{json}")));
        }
        let e = map.next_value_seed(ElementSeed::<PrimitiveExt>::default())?;
        exts.set(json, None, e);
        Ok(())
    }

    /// Turn the accumulator into the field value.
    pub fn finish<T>(
        acc: Option<T>,
        _exts: &PrimitiveExtensions,
        _json: &str,
    ) -> Result<Option<T>, String> {
        Ok(acc)
    }

    /// Encode as JSON.
    pub fn ser<T: Element, M: SerializeMap>(
        map: &mut M,
        json: &'static str,
        v: &Option<T>,
        exts: &PrimitiveExtensions,
    ) -> Result<(), M::Error> {
        if let Some(v) = v {
            map.serialize_entry(json, &Ser(v))?;
        }
        if T::PRIMITIVE {
            if let Some(e) = exts.get(json, None) {
                map.serialize_entry(&format!("_{json}"), &Ser(e))?;
            }
        }
        Ok(())
    }

    /// Attributes: none for a child element.
    pub fn write_attr<T: Element>(_w: &mut XmlWriter, _json: &str, _v: &Option<T>) {}

    /// Write as an XML child.
    pub fn write_child<T: Element>(
        w: &mut XmlWriter,
        json: &'static str,
        v: &Option<T>,
        exts: &PrimitiveExtensions,
    ) {
        let ext = if T::PRIMITIVE {
            exts.get(json, None)
        } else {
            None
        };
        match v {
            Some(v) => v.write_xml(json, ext, w),
            None => {
                if let Some(e) = ext {
                    write_primitive_node(json, None, Some(e), w);
                }
            }
        }
    }

    /// Attributes: none for a child element.
    pub fn read_attr<T: Element>(
        _acc: &mut Option<T>,
        _name: &str,
        _v: &str,
    ) -> Result<bool, DecodeError> {
        Ok(false)
    }

    /// Read one XML child.
    pub fn read_child<T: Element>(
        acc: &mut Option<T>,
        exts: &mut PrimitiveExtensions,
        json: &'static str,
        node: &XmlNode<'_>,
    ) -> Result<(), DecodeError> {
        if acc.is_some() || exts.get(json, None).is_some() {
            return Err(DecodeError::invalid(format!(
                "element '{json}' appears more than once"
            )));
        }
        let (v, e) = T::read_xml(node).map_err(|e| e.within(json, None))?;
        *acc = v;
        if let Some(e) = e {
            exts.set(json, None, e);
        }
        Ok(())
    }
}

/// 1..1 element.
pub mod req {
    use super::*;

    /// Accumulator while decoding.
    pub type Acc<T> = Option<T>;

    /// Does JSON key / XML name `name` belong to this element?
    pub fn matches<T>(name: &str, json: &str) -> bool {
        name == json
    }

    /// Decode the JSON value of the element.
    pub fn de_value<'de, T: Element, A: MapAccess<'de>>(
        acc: &mut Option<T>,
        map: &mut A,
        json: &str,
    ) -> Result<(), A::Error> {
        opt::de_value(acc, map, json)
    }

    /// Decode the JSON `_name` of the element.
    pub fn de_ext<'de, T: Element, A: MapAccess<'de>>(
        exts: &mut PrimitiveExtensions,
        map: &mut A,
        json: &'static str,
        name: &str,
    ) -> Result<(), A::Error> {
        opt::de_ext::<T, A>(exts, map, json, name)
    }

    /// The element is required (FHIR cardinality 1..1).
    pub fn finish<T>(acc: Option<T>, _exts: &PrimitiveExtensions, json: &str) -> Result<T, String> {
        acc.ok_or_else(|| format!("missing required element '{json}'"))
    }

    /// Encode as JSON.
    pub fn ser<T: Element, M: SerializeMap>(
        map: &mut M,
        json: &'static str,
        v: &T,
        exts: &PrimitiveExtensions,
    ) -> Result<(), M::Error> {
        map.serialize_entry(json, &Ser(v))?;
        if T::PRIMITIVE {
            if let Some(e) = exts.get(json, None) {
                map.serialize_entry(&format!("_{json}"), &Ser(e))?;
            }
        }
        Ok(())
    }

    /// Attributes: none for a child element.
    pub fn write_attr<T: Element>(_w: &mut XmlWriter, _json: &str, _v: &T) {}

    /// Write as an XML child.
    pub fn write_child<T: Element>(
        w: &mut XmlWriter,
        json: &'static str,
        v: &T,
        exts: &PrimitiveExtensions,
    ) {
        let ext = if T::PRIMITIVE {
            exts.get(json, None)
        } else {
            None
        };
        v.write_xml(json, ext, w);
    }

    /// Attributes: none for a child element.
    pub fn read_attr<T: Element>(
        _acc: &mut Option<T>,
        _name: &str,
        _v: &str,
    ) -> Result<bool, DecodeError> {
        Ok(false)
    }

    /// Read one XML child.
    pub fn read_child<T: Element>(
        acc: &mut Option<T>,
        exts: &mut PrimitiveExtensions,
        json: &'static str,
        node: &XmlNode<'_>,
    ) -> Result<(), DecodeError> {
        opt::read_child(acc, exts, json, node)
    }
}

/// 0..* element. An empty JSON array reads as absent (FHIR forbids empty
/// arrays; accepting them is a documented leniency, and they are never written).
pub mod vec {
    use super::*;

    /// Accumulator while decoding.
    pub type Acc<T> = Option<Vec<T>>;

    /// Does JSON key / XML name `name` belong to this element?
    pub fn matches<T>(name: &str, json: &str) -> bool {
        name == json
    }

    /// Decode the JSON array of the element.
    pub fn de_value<'de, T: Element, A: MapAccess<'de>>(
        acc: &mut Option<Vec<T>>,
        map: &mut A,
        json: &str,
    ) -> Result<(), A::Error> {
        if acc.is_some() {
            return Err(duplicate(json));
        }
        *acc = Some(map.next_value_seed(VecSeed::<T>(PhantomData))?);
        Ok(())
    }

    /// Decode the JSON `_name` array of the element.
    pub fn de_ext<'de, T: Element, A: MapAccess<'de>>(
        exts: &mut PrimitiveExtensions,
        map: &mut A,
        json: &'static str,
        _name: &str,
    ) -> Result<(), A::Error> {
        reject_ext_on_complex::<A::Error, T>(json)?;
        if exts.has(json) {
            return Err(duplicate(&format!("_{json}")));
        }
        let list = map.next_value_seed(ExtVecSeed)?;
        for (i, e) in list.into_iter().enumerate() {
            if let Some(e) = e {
                exts.set(json, Some(i), e);
            }
        }
        Ok(())
    }

    /// Turn the accumulator into the field value. Every `_name` entry must
    /// line up with a value: this model does not keep extension-only
    /// repetitions of a primitive array.
    pub fn finish<T>(
        acc: Option<Vec<T>>,
        exts: &PrimitiveExtensions,
        json: &str,
    ) -> Result<Vec<T>, String> {
        let v = acc.unwrap_or_default();
        if let Some(max) = exts.max_index(json) {
            if max >= v.len() {
                return Err(format!("'_{json}' has more entries than '{json}'"));
            }
        }
        Ok(v)
    }

    /// Encode as JSON.
    pub fn ser<T: Element, M: SerializeMap>(
        map: &mut M,
        json: &'static str,
        v: &[T],
        exts: &PrimitiveExtensions,
    ) -> Result<(), M::Error> {
        if v.is_empty() {
            return Ok(());
        }
        map.serialize_entry(json, &SerSlice(v))?;
        if T::PRIMITIVE && exts.has(json) {
            map.serialize_entry(
                &format!("_{json}"),
                &ExtSeq {
                    exts,
                    element: json,
                    len: v.len(),
                },
            )?;
        }
        Ok(())
    }

    /// Attributes: none for a child element.
    pub fn write_attr<T: Element>(_w: &mut XmlWriter, _json: &str, _v: &[T]) {}

    /// Write every repetition as an XML child.
    pub fn write_child<T: Element>(
        w: &mut XmlWriter,
        json: &'static str,
        v: &[T],
        exts: &PrimitiveExtensions,
    ) {
        for (i, item) in v.iter().enumerate() {
            let ext = if T::PRIMITIVE {
                exts.get(json, Some(i))
            } else {
                None
            };
            item.write_xml(json, ext, w);
        }
    }

    /// Attributes: none for a child element.
    pub fn read_attr<T: Element>(
        _acc: &mut Option<Vec<T>>,
        _name: &str,
        _v: &str,
    ) -> Result<bool, DecodeError> {
        Ok(false)
    }

    /// Read one XML child (one repetition).
    pub fn read_child<T: Element>(
        acc: &mut Option<Vec<T>>,
        exts: &mut PrimitiveExtensions,
        json: &'static str,
        node: &XmlNode<'_>,
    ) -> Result<(), DecodeError> {
        let list = acc.get_or_insert_with(Vec::new);
        let i = list.len();
        let (v, e) = T::read_xml(node).map_err(|e| e.within(json, Some(i)))?;
        match v {
            Some(v) => list.push(v),
            None => {
                return Err(
                    DecodeError::invalid("a repeating primitive must carry a value")
                        .within(json, Some(i)),
                );
            }
        }
        if let Some(e) = e {
            exts.set(json, Some(i), e);
        }
        Ok(())
    }
}

/// A FHIR choice type (`value[x]`) as a Rust enum; 0..1.
pub trait Choice: Sized {
    /// The static JSON key for a key such as `valueString`, if it is a variant.
    fn key_for(name: &str) -> Option<&'static str>;
    /// Whether the variant named by `key` is a primitive.
    fn key_is_primitive(key: &str) -> bool;
    /// Decode the variant named by `key` from the map's next value.
    fn de_variant<'de, A: MapAccess<'de>>(key: &str, map: &mut A) -> Result<Self, A::Error>;
    /// The JSON key of this value's variant.
    fn key(&self) -> &'static str;
    /// Encode the value of this variant.
    fn ser_value<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
    /// Write as the XML element named by [`Choice::key`].
    fn write_xml(&self, ext: Option<&PrimitiveExt>, w: &mut XmlWriter);
    /// Read the variant named by `key` from XML.
    fn read_xml(
        key: &str,
        node: &XmlNode<'_>,
    ) -> Result<(Option<Self>, Option<PrimitiveExt>), DecodeError>;
}

/// `value[x]`-style element (0..1).
pub mod choice {
    use super::*;

    /// Accumulator while decoding.
    pub type Acc<T> = Option<T>;

    /// Does JSON key / XML name `name` name one of the variants?
    pub fn matches<T: Choice>(name: &str, _json: &str) -> bool {
        T::key_for(name).is_some()
    }

    /// Decode the JSON value of the variant.
    pub fn de_value<'de, T: Choice, A: MapAccess<'de>>(
        acc: &mut Option<T>,
        map: &mut A,
        name: &str,
    ) -> Result<(), A::Error> {
        if acc.is_some() {
            return Err(E2::custom(format_args!(
                "more than one choice element; '{name}' repeats it"
            )));
        }
        *acc = Some(T::de_variant(name, map)?);
        Ok(())
    }

    use de::Error as E2;

    /// Decode the JSON `_valueX` of a primitive variant.
    pub fn de_ext<'de, T: Choice, A: MapAccess<'de>>(
        exts: &mut PrimitiveExtensions,
        map: &mut A,
        _json: &'static str,
        name: &str,
    ) -> Result<(), A::Error> {
        let key = T::key_for(name).ok_or_else(|| unknown_element::<A::Error>(name))?;
        if !T::key_is_primitive(key) {
            return Err(unknown_element(&format!("_{name}")));
        }
        if exts.has(key) {
            return Err(duplicate(&format!("_{key}")));
        }
        let e = map.next_value_seed(ElementSeed::<PrimitiveExt>::default())?;
        exts.set(key, None, e);
        Ok(())
    }

    /// Turn the accumulator into the field value.
    pub fn finish<T: Choice>(
        acc: Option<T>,
        exts: &PrimitiveExtensions,
        json: &str,
    ) -> Result<Option<T>, String> {
        // An extension-only choice would lose its type; this model keeps values.
        if acc.is_none()
            && exts
                .entries()
                .iter()
                .any(|e| e.element.starts_with(json) && T::key_for(e.element).is_some())
        {
            return Err(format!("'{json}[x]' has extensions but no value"));
        }
        Ok(acc)
    }

    /// Encode as JSON.
    pub fn ser<T: Choice, M: SerializeMap>(
        map: &mut M,
        _json: &'static str,
        v: &Option<T>,
        exts: &PrimitiveExtensions,
    ) -> Result<(), M::Error> {
        if let Some(v) = v {
            v.ser_value(map)?;
            if let Some(e) = exts.get(v.key(), None) {
                map.serialize_entry(&format!("_{}", v.key()), &Ser(e))?;
            }
        }
        Ok(())
    }

    /// Attributes: none for a child element.
    pub fn write_attr<T: Choice>(_w: &mut XmlWriter, _json: &str, _v: &Option<T>) {}

    /// Write as an XML child named after the variant.
    pub fn write_child<T: Choice>(
        w: &mut XmlWriter,
        _json: &'static str,
        v: &Option<T>,
        exts: &PrimitiveExtensions,
    ) {
        if let Some(v) = v {
            v.write_xml(exts.get(v.key(), None), w);
        }
    }

    /// Attributes: none for a child element.
    pub fn read_attr<T: Choice>(
        _acc: &mut Option<T>,
        _name: &str,
        _v: &str,
    ) -> Result<bool, DecodeError> {
        Ok(false)
    }

    /// Read the variant from an XML child.
    pub fn read_child<T: Choice>(
        acc: &mut Option<T>,
        exts: &mut PrimitiveExtensions,
        json: &'static str,
        node: &XmlNode<'_>,
    ) -> Result<(), DecodeError> {
        if acc.is_some() {
            return Err(DecodeError::invalid(format!(
                "more than one '{json}[x]' element"
            )));
        }
        let key = T::key_for(node.name)
            .ok_or_else(|| DecodeError::invalid(format!("unknown element '{}'", node.name)))?;
        let (v, e) = T::read_xml(key, node).map_err(|e| e.within(key, None))?;
        match v {
            Some(v) => *acc = Some(v),
            None => {
                return Err(DecodeError::invalid(format!(
                    "'{json}[x]' has extensions but no value"
                )));
            }
        }
        if let Some(e) = e {
            exts.set(key, None, e);
        }
        Ok(())
    }
}

/// An optional XML attribute (`Element.id` of complex types); a plain key in JSON.
pub mod attr {
    use super::*;

    /// Accumulator while decoding.
    pub type Acc<T> = Option<T>;

    /// JSON key match.
    pub fn matches<T>(name: &str, json: &str) -> bool {
        name == json
    }

    /// Decode the JSON value.
    pub fn de_value<'de, T: Element + Primitive, A: MapAccess<'de>>(
        acc: &mut Option<T>,
        map: &mut A,
        json: &str,
    ) -> Result<(), A::Error> {
        opt::de_value(acc, map, json)
    }

    /// Attributes carry no primitive extensions.
    pub fn de_ext<'de, T, A: MapAccess<'de>>(
        _exts: &mut PrimitiveExtensions,
        _map: &mut A,
        json: &'static str,
        _name: &str,
    ) -> Result<(), A::Error> {
        Err(unknown_element(&format!("_{json}")))
    }

    /// Turn the accumulator into the field value.
    pub fn finish<T>(
        acc: Option<T>,
        _exts: &PrimitiveExtensions,
        _json: &str,
    ) -> Result<Option<T>, String> {
        Ok(acc)
    }

    /// Encode as JSON.
    pub fn ser<T: Element, M: SerializeMap>(
        map: &mut M,
        json: &'static str,
        v: &Option<T>,
        _exts: &PrimitiveExtensions,
    ) -> Result<(), M::Error> {
        if let Some(v) = v {
            map.serialize_entry(json, &Ser(v))?;
        }
        Ok(())
    }

    /// Write as an XML attribute.
    pub fn write_attr<T: Primitive>(w: &mut XmlWriter, json: &str, v: &Option<T>) {
        if let Some(v) = v {
            w.attr(json, &v.lexical());
        }
    }

    /// Not a child element.
    pub fn write_child<T>(
        _w: &mut XmlWriter,
        _json: &'static str,
        _v: &Option<T>,
        _exts: &PrimitiveExtensions,
    ) {
    }

    /// Read the XML attribute if `name` is ours.
    pub fn read_attr<T: Primitive>(
        acc: &mut Option<T>,
        name: &str,
        v: &str,
    ) -> Result<bool, DecodeError> {
        *acc = Some(T::parse_lexical(v).map_err(|m| DecodeError::invalid(m).within(name, None))?);
        Ok(true)
    }

    /// Attributes are never children.
    pub fn read_child<T>(
        _acc: &mut Option<T>,
        _exts: &mut PrimitiveExtensions,
        json: &'static str,
        _node: &XmlNode<'_>,
    ) -> Result<(), DecodeError> {
        Err(DecodeError::invalid(format!(
            "'{json}' must be an attribute"
        )))
    }
}

/// A required XML attribute (`Extension.url`); a plain key in JSON.
pub mod req_attr {
    use super::*;

    /// Accumulator while decoding.
    pub type Acc<T> = Option<T>;

    /// JSON key match.
    pub fn matches<T>(name: &str, json: &str) -> bool {
        name == json
    }

    /// Decode the JSON value.
    pub fn de_value<'de, T: Element + Primitive, A: MapAccess<'de>>(
        acc: &mut Option<T>,
        map: &mut A,
        json: &str,
    ) -> Result<(), A::Error> {
        opt::de_value(acc, map, json)
    }

    /// Attributes carry no primitive extensions.
    pub fn de_ext<'de, T, A: MapAccess<'de>>(
        exts: &mut PrimitiveExtensions,
        map: &mut A,
        json: &'static str,
        name: &str,
    ) -> Result<(), A::Error> {
        attr::de_ext::<T, A>(exts, map, json, name)
    }

    /// The attribute is required.
    pub fn finish<T>(acc: Option<T>, _exts: &PrimitiveExtensions, json: &str) -> Result<T, String> {
        acc.ok_or_else(|| format!("missing required element '{json}'"))
    }

    /// Encode as JSON.
    pub fn ser<T: Element, M: SerializeMap>(
        map: &mut M,
        json: &'static str,
        v: &T,
        _exts: &PrimitiveExtensions,
    ) -> Result<(), M::Error> {
        map.serialize_entry(json, &Ser(v))
    }

    /// Write as an XML attribute.
    pub fn write_attr<T: Primitive>(w: &mut XmlWriter, json: &str, v: &T) {
        w.attr(json, &v.lexical());
    }

    /// Not a child element.
    pub fn write_child<T>(
        _w: &mut XmlWriter,
        _json: &'static str,
        _v: &T,
        _exts: &PrimitiveExtensions,
    ) {
    }

    /// Read the XML attribute.
    pub fn read_attr<T: Primitive>(
        acc: &mut Option<T>,
        name: &str,
        v: &str,
    ) -> Result<bool, DecodeError> {
        attr::read_attr(acc, name, v)
    }

    /// Attributes are never children.
    pub fn read_child<T>(
        acc: &mut Option<T>,
        exts: &mut PrimitiveExtensions,
        json: &'static str,
        node: &XmlNode<'_>,
    ) -> Result<(), DecodeError> {
        attr::read_child(acc, exts, json, node)
    }
}

/// [`FhirResource::TYPE`] of a per-version enum of resources.
pub const ANY_RESOURCE: &str = "Resource";

/// A FHIR resource type: `resourceType` in JSON, the root element in XML.
pub trait FhirResource: Element {
    /// The `resourceType` (`"Resource"` for a per-version enum of resources).
    const TYPE: &'static str;
    /// Read from the resource's own XML element (the document root, or the
    /// child of `contained` / `resource`).
    fn read_root(node: &XmlNode<'_>) -> Result<Self, DecodeError>;
    /// Write the resource's own XML element.
    fn write_root(&self, w: &mut XmlWriter);
}

/// Marks the element path inside a buffered resource in an error message
/// (a resource whose `resourceType` is not its first key is decoded from a
/// buffered value, out of reach of the outer path tracking).
const NESTED_PATH_MARK: char = '\u{1e}';

/// An error from inside a buffered resource, carrying its inner path.
pub fn nested_error<E: de::Error>(inner_path: &str, e: &impl fmt::Display) -> E {
    if inner_path.is_empty() || inner_path == "." {
        E::custom(e)
    } else {
        E::custom(format_args!(
            "{NESTED_PATH_MARK}{inner_path}{NESTED_PATH_MARK}{e}"
        ))
    }
}

/// Split a message made by [`nested_error`] into `(inner path, message)`.
pub(crate) fn split_nested_error(message: &str) -> (Option<&str>, &str) {
    let mut parts = message.splitn(3, NESTED_PATH_MARK);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(""), Some(path), Some(rest)) => (Some(path), rest),
        _ => (None, message),
    }
}
