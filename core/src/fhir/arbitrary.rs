//! Random FHIR values for property tests (test builds only).
//!
//! The model macros implement [`Gen`] for every type they declare, so the
//! round-trip properties cover every element of every resource without a
//! hand-written strategy per type. Values are drawn from a seeded generator
//! (the proptest case supplies the seed), include hostile text (XML
//! specials, quotes, newlines, non-BMP characters), primitive ids and
//! extensions, and nest until [`MAX_DEPTH`].

use super::codec::{Choice, Element, PrimitiveExt, PrimitiveExtensions};
use super::datatypes::{Extension, ExtensionValue};
use super::primitive::{Base64Binary, Code, Date, DateTime, Id, Instant, Time};
use super::xhtml::Xhtml;

/// Optional elements stop being generated below this depth.
pub const MAX_DEPTH: u32 = 5;

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability 1/`n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// Pick one of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A type that can produce random valid values of itself.
pub trait Gen: Sized {
    /// A random value; `depth` is how deep in the resource it sits.
    fn gen_value(rng: &mut Rng, depth: u32) -> Self;
}

const TEXT_PIECES: &[&str] = &[
    "a",
    "Z",
    "9",
    " ",
    "Smith",
    "O'Neil",
    "<",
    ">",
    "&",
    "\"",
    "'",
    "&amp;",
    "\n",
    "\r\n",
    "\t",
    "é",
    "Ω",
    "€",
    "😀",
    "<script>alert(1)</script>",
    "]]>",
    "--",
    "{",
    "}",
    "\\",
    "/",
];

impl Gen for String {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        let n = rng.below(6);
        (0..n).map(|_| *rng.pick(TEXT_PIECES)).collect()
    }
}

impl Gen for bool {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        rng.one_in(2)
    }
}

impl Gen for i32 {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        *rng.pick(&[0, 1, -1, 42, i32::MAX, i32::MIN])
    }
}

impl Gen for u32 {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        *rng.pick(&[0, 1, 7, 1000, u32::MAX])
    }
}

fn token(rng: &mut Rng, alphabet: &[u8], len: usize) -> String {
    (0..len).map(|_| *rng.pick(alphabet) as char).collect()
}

const ID_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.";

impl Gen for Id {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        let max = if rng.one_in(10) { 64 } else { 8 };
        let len = 1 + rng.below(max);
        Id::new(token(rng, ID_CHARS, len)).unwrap_or_default()
    }
}

impl Gen for Code {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        let words = 1 + rng.below(2);
        let s: Vec<String> = (0..words)
            .map(|_| {
                let len = 1 + rng.below(8);
                token(rng, b"abcdefghijklmnopqrstuvwxyzABC-_0123456789", len)
            })
            .collect();
        Code::new(s.join(" ")).unwrap_or_default()
    }
}

fn gen_date(rng: &mut Rng) -> String {
    let y = 1900 + rng.below(200);
    let m = 1 + rng.below(12);
    let d = 1 + rng.below(28);
    match rng.below(3) {
        0 => format!("{y:04}"),
        1 => format!("{y:04}-{m:02}"),
        _ => format!("{y:04}-{m:02}-{d:02}"),
    }
}

fn gen_instant(rng: &mut Rng) -> String {
    let y = 1900 + rng.below(200);
    let m = 1 + rng.below(12);
    let d = 1 + rng.below(28);
    let (h, mi, s) = (rng.below(24), rng.below(60), rng.below(60));
    let frac = if rng.one_in(4) { ".123" } else { "" };
    let off = *rng.pick(&["Z", "+00:00", "+01:00", "-05:30"]);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{off}")
}

impl Gen for Date {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        Date::new(gen_date(rng)).unwrap_or_default()
    }
}

impl Gen for DateTime {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        let s = if rng.one_in(2) {
            gen_date(rng)
        } else {
            gen_instant(rng)
        };
        DateTime::new(s).unwrap_or_default()
    }
}

impl Gen for Instant {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        Instant::new(gen_instant(rng)).unwrap_or_default()
    }
}

impl Gen for Time {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        Time::new(format!(
            "{:02}:{:02}:{:02}",
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ))
        .unwrap_or_default()
    }
}

impl Gen for Xhtml {
    fn gen_value(rng: &mut Rng, depth: u32) -> Self {
        let text = String::gen_value(rng, depth);
        let mut escaped = String::new();
        for c in text.chars() {
            match c {
                '<' => escaped.push_str("&lt;"),
                '>' => escaped.push_str("&gt;"),
                '&' => escaped.push_str("&amp;"),
                c => escaped.push(c),
            }
        }
        let body = match rng.below(3) {
            0 => format!("<p>{escaped}</p>"),
            1 => format!("<table><tr><th>Date</th><td class=\"x\">{escaped}</td></tr></table>"),
            _ => format!("<h2>Title</h2><p><b>{escaped}</b><br/></p>"),
        };
        Xhtml::new(format!(
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">{body}</div>"
        ))
        .unwrap_or_default()
    }
}

impl Gen for Base64Binary {
    fn gen_value(rng: &mut Rng, _depth: u32) -> Self {
        let len = 1 + rng.below(12);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        Base64Binary::encode(&bytes).unwrap_or_default()
    }
}

impl<T: Gen> Gen for Box<T> {
    fn gen_value(rng: &mut Rng, depth: u32) -> Self {
        Box::new(T::gen_value(rng, depth))
    }
}

/// A random non-empty id/extension set for a primitive.
fn gen_primitive_ext(rng: &mut Rng, depth: u32) -> PrimitiveExt {
    let id = rng.one_in(2).then(|| token(rng, ID_CHARS, 4));
    let mut extension = Vec::new();
    if id.is_none() || rng.one_in(2) {
        extension.push(Extension {
            url: "http://example.org/fhir/StructureDefinition/x".to_owned(),
            value: Some(ExtensionValue::String(String::gen_value(rng, depth + 1))),
            ..Default::default()
        });
    }
    PrimitiveExt { id, extension }
}

fn maybe_ext<T: Element>(
    rng: &mut Rng,
    depth: u32,
    exts: &mut PrimitiveExtensions,
    element: &'static str,
    index: Option<usize>,
) {
    if T::PRIMITIVE && depth < MAX_DEPTH && rng.one_in(8) {
        let e = gen_primitive_ext(rng, depth);
        exts.set(element, index, e);
    }
}

/// 0..1 element.
pub fn opt<T: Gen + Element>(
    rng: &mut Rng,
    depth: u32,
    exts: &mut PrimitiveExtensions,
    json: &'static str,
) -> Option<T> {
    let v = (depth < MAX_DEPTH && rng.one_in(2)).then(|| T::gen_value(rng, depth + 1));
    if v.is_some() || rng.one_in(4) {
        maybe_ext::<T>(rng, depth, exts, json, None);
    }
    v
}

/// 1..1 element.
pub fn req<T: Gen + Element>(
    rng: &mut Rng,
    depth: u32,
    exts: &mut PrimitiveExtensions,
    json: &'static str,
) -> T {
    let v = T::gen_value(rng, depth + 1);
    maybe_ext::<T>(rng, depth, exts, json, None);
    v
}

/// 0..* element.
pub fn vec<T: Gen + Element>(
    rng: &mut Rng,
    depth: u32,
    exts: &mut PrimitiveExtensions,
    json: &'static str,
) -> Vec<T> {
    if depth >= MAX_DEPTH {
        return Vec::new();
    }
    let n = rng.below(3);
    (0..n)
        .map(|i| {
            let v = T::gen_value(rng, depth + 1);
            maybe_ext::<T>(rng, depth, exts, json, Some(i));
            v
        })
        .collect()
}

/// `value[x]` element.
pub fn choice<T: Gen + Choice>(
    rng: &mut Rng,
    depth: u32,
    exts: &mut PrimitiveExtensions,
    _json: &'static str,
) -> Option<T> {
    if depth >= MAX_DEPTH || rng.one_in(3) {
        return None;
    }
    let v = T::gen_value(rng, depth + 1);
    if T::key_is_primitive(v.key()) && rng.one_in(6) {
        let e = gen_primitive_ext(rng, depth);
        exts.set(v.key(), None, e);
    }
    Some(v)
}

/// Optional attribute (`Element.id`).
pub fn attr<T: Gen>(
    rng: &mut Rng,
    depth: u32,
    _exts: &mut PrimitiveExtensions,
    _json: &'static str,
) -> Option<T> {
    rng.one_in(4).then(|| T::gen_value(rng, depth + 1))
}

/// Required attribute (`Extension.url`).
pub fn req_attr<T: Gen>(
    rng: &mut Rng,
    depth: u32,
    _exts: &mut PrimitiveExtensions,
    _json: &'static str,
) -> T {
    T::gen_value(rng, depth + 1)
}
