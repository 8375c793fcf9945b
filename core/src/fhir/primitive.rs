//! FHIR primitive types, validated on the way in.
//!
//! `string`, `uri` and `markdown` are plain `String`s (the model keeps them
//! exact, including empty strings, so rules such as R38 can answer with their
//! own code). Types with a lexical grammar get a newtype that can only hold a
//! valid value: [`Code`], [`Id`], [`Date`], [`DateTime`], [`Instant`],
//! [`Time`]. Every string is capped at [`MAX_STRING_BYTES`] and may not carry
//! control characters other than tab, CR and LF (FHIR "string" rules), which
//! also keeps every value representable in XML.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

use super::codec::{
    DecodeError, Element, MAX_STRING_BYTES, Primitive, PrimitiveExt, read_primitive_node,
    write_primitive_node,
};
use super::xml::{XmlNode, XmlWriter};
use crate::checks::datetime;
use crate::error::Echo;

/// Check the rules every FHIR string obeys.
fn check_string(s: &str) -> Result<(), String> {
    if s.len() > MAX_STRING_BYTES {
        return Err(format!(
            "string of {} bytes exceeds the {} byte limit",
            s.len(),
            MAX_STRING_BYTES
        ));
    }
    // Control characters are single bytes in UTF-8, so a byte scan suffices.
    if let Some(b) = s
        .bytes()
        .find(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        return Err(format!("control character U+{b:04X} is not allowed"));
    }
    Ok(())
}

/// How a primitive looks in JSON.
#[derive(Debug, Clone, Copy)]
enum JsonShape {
    String,
    Bool,
    Integer,
}

struct PrimitiveVisitor<T>(JsonShape, std::marker::PhantomData<T>);

impl<T: Primitive> PrimitiveVisitor<T> {
    fn parse<E: de::Error>(s: &str) -> Result<T, E> {
        T::parse_lexical(s).map_err(E::custom)
    }
}

impl<'de, T: Primitive + FromJsonScalar> Visitor<'de> for PrimitiveVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            JsonShape::String => write!(f, "a JSON string ({})", T::FHIR_TYPE),
            JsonShape::Bool => f.write_str("true or false"),
            JsonShape::Integer => write!(f, "a JSON integer ({})", T::FHIR_TYPE),
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        match self.0 {
            JsonShape::String => Self::parse(v),
            _ => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
        }
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        match self.0 {
            JsonShape::Bool => {
                T::from_bool(v).ok_or_else(|| E::invalid_type(de::Unexpected::Bool(v), &self))
            }
            _ => Err(E::invalid_type(de::Unexpected::Bool(v), &self)),
        }
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        match self.0 {
            JsonShape::Integer => T::from_i64(v).map_err(E::custom),
            _ => Err(E::invalid_type(de::Unexpected::Signed(v), &self)),
        }
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        match self.0 {
            JsonShape::Integer => {
                T::from_i64(i64::try_from(v).map_err(|_| E::custom("integer out of range"))?)
                    .map_err(E::custom)
            }
            _ => Err(E::invalid_type(de::Unexpected::Unsigned(v), &self)),
        }
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Err(E::invalid_type(de::Unexpected::Float(v), &self))
    }
}

/// Conversions from JSON scalars other than strings.
trait FromJsonScalar: Sized {
    fn from_bool(_v: bool) -> Option<Self> {
        None
    }
    fn from_i64(_v: i64) -> Result<Self, String> {
        Err("not an integer type".into())
    }
}

macro_rules! primitive_element {
    ($ty:ty, $shape:ident) => {
        impl Element for $ty {
            const PRIMITIVE: bool = true;

            fn deserialize_element<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = PrimitiveVisitor::<$ty>(JsonShape::$shape, std::marker::PhantomData);
                match JsonShape::$shape {
                    JsonShape::String => d.deserialize_str(v),
                    JsonShape::Bool => d.deserialize_bool(v),
                    JsonShape::Integer => d.deserialize_i64(v),
                }
            }

            fn serialize_element<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                self.serialize_json(s)
            }

            fn write_xml(&self, name: &str, ext: Option<&PrimitiveExt>, w: &mut XmlWriter) {
                write_primitive_node(name, Some(&self.lexical()), ext, w);
            }

            fn read_xml(
                node: &XmlNode<'_>,
            ) -> Result<(Option<Self>, Option<PrimitiveExt>), DecodeError> {
                let (value, ext) = read_primitive_node(node)?;
                let value = match value {
                    Some(v) => {
                        Some(<$ty as Primitive>::parse_lexical(v).map_err(DecodeError::invalid)?)
                    }
                    None => None,
                };
                Ok((value, ext))
            }
        }
    };
}

/// JSON output of a primitive.
trait SerializeJson {
    fn serialize_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

// --- string -----------------------------------------------------------------

impl Primitive for String {
    const FHIR_TYPE: &'static str = "string";
    fn parse_lexical(s: &str) -> Result<Self, String> {
        check_string(s)?;
        Ok(s.to_owned())
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}
impl FromJsonScalar for String {}
impl SerializeJson for String {
    fn serialize_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}
primitive_element!(String, String);

// --- boolean ----------------------------------------------------------------

impl Primitive for bool {
    const FHIR_TYPE: &'static str = "boolean";
    fn parse_lexical(s: &str) -> Result<Self, String> {
        match s {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("{} is not a boolean", Echo(s))),
        }
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Borrowed(if *self { "true" } else { "false" })
    }
}
impl FromJsonScalar for bool {
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
}
impl SerializeJson for bool {
    fn serialize_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bool(*self)
    }
}
primitive_element!(bool, Bool);

// --- integer / unsignedInt / positiveInt -----------------------------------

impl Primitive for i32 {
    const FHIR_TYPE: &'static str = "integer";
    fn parse_lexical(s: &str) -> Result<Self, String> {
        let ok = !s.is_empty()
            && s.strip_prefix('-')
                .unwrap_or(s)
                .bytes()
                .all(|b| b.is_ascii_digit());
        if !ok {
            return Err(format!("{} is not an integer", Echo(s)));
        }
        s.parse::<i32>()
            .map_err(|_| format!("{} is out of range", Echo(s)))
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}
impl FromJsonScalar for i32 {
    fn from_i64(v: i64) -> Result<Self, String> {
        i32::try_from(v).map_err(|_| format!("{v} is out of range for integer"))
    }
}
impl SerializeJson for i32 {
    fn serialize_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(*self)
    }
}
primitive_element!(i32, Integer);

impl Primitive for u32 {
    const FHIR_TYPE: &'static str = "unsignedInt";
    fn parse_lexical(s: &str) -> Result<Self, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{} is not an unsigned integer", Echo(s)));
        }
        s.parse::<u32>()
            .map_err(|_| format!("{} is out of range", Echo(s)))
    }
    fn lexical(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}
impl FromJsonScalar for u32 {
    fn from_i64(v: i64) -> Result<Self, String> {
        u32::try_from(v).map_err(|_| format!("{v} is out of range for unsignedInt"))
    }
}
impl SerializeJson for u32 {
    fn serialize_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(*self)
    }
}
primitive_element!(u32, Integer);

// --- validated string newtypes ---------------------------------------------

macro_rules! string_newtype {
    ($(#[$m:meta])* $name:ident, $fhir:literal, $check:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Validate and wrap a value.
            pub fn new(s: impl Into<String>) -> Result<Self, String> {
                let s = s.into();
                check_string(&s)?;
                let check: fn(&str) -> bool = $check;
                if check(&s) {
                    Ok($name(s))
                } else {
                    Err(format!("{} is not a valid {}", Echo(&s), $fhir))
                }
            }

            /// The value.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The value, owned.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl TryFrom<&str> for $name {
            type Error = String;
            fn try_from(s: &str) -> Result<Self, String> {
                $name::new(s)
            }
        }

        impl Primitive for $name {
            const FHIR_TYPE: &'static str = $fhir;
            fn parse_lexical(s: &str) -> Result<Self, String> {
                $name::new(s)
            }
            fn lexical(&self) -> Cow<'_, str> {
                Cow::Borrowed(&self.0)
            }
        }
        impl FromJsonScalar for $name {}
        impl SerializeJson for $name {
            fn serialize_json<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        primitive_element!($name, String);
    };
}

/// FHIR `code`: no leading or trailing whitespace, single spaces only.
fn is_valid_code(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(char::is_whitespace)
        && !s.ends_with(char::is_whitespace)
        && !s.contains("  ")
        && !s.chars().any(|c| c.is_whitespace() && c != ' ')
}

/// FHIR `id`: `[A-Za-z0-9\-\.]{1,64}` (R80).
pub fn is_valid_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

string_newtype!(
    /// FHIR `code`.
    Code,
    "code",
    is_valid_code
);
impl Code {
    /// A code the specification fixes (`error`, `searchset`, `In-person`):
    /// infallible for callers; its validity is checked in debug builds, and
    /// the tests of each constant's user cover release builds.
    pub fn from_static(s: &'static str) -> Code {
        debug_assert!(is_valid_code(s), "invalid code constant {s:?}");
        Code(s.to_owned())
    }
}

string_newtype!(
    /// FHIR `id`: a logical id, `[A-Za-z0-9\-\.]{1,64}` (R80).
    Id,
    "id",
    is_valid_id
);
string_newtype!(
    /// FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    Date,
    "date",
    datetime::is_valid_date
);
string_newtype!(
    /// FHIR `dateTime`: a partial date, or a date-time with a zone offset.
    DateTime,
    "dateTime",
    datetime::is_valid_date_time
);
string_newtype!(
    /// FHIR `instant`: a full date-time with seconds and a zone offset.
    Instant,
    "instant",
    datetime::is_valid_instant
);
string_newtype!(
    /// FHIR `time`: `hh:mm:ss(.s+)?`.
    Time,
    "time",
    datetime::is_valid_time
);

/// FHIR `base64Binary`: standard alphabet, padded; whitespace between
/// groups is allowed and kept, so a round trip never changes the lexical form.
fn is_valid_base64(s: &str) -> bool {
    use base64::Engine as _;
    let compact = without_whitespace(s);
    !compact.is_empty()
        && base64::engine::general_purpose::STANDARD
            .decode(compact)
            .is_ok()
}

fn without_whitespace(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect()
}

string_newtype!(
    /// FHIR `base64Binary` (`Attachment.data`, `Device.udi.carrierAIDC`).
    Base64Binary,
    "base64Binary",
    is_valid_base64
);

impl Base64Binary {
    /// Base64-encode `bytes`; `None` for no bytes (FHIR values are never empty).
    pub fn encode(bytes: &[u8]) -> Option<Self> {
        use base64::Engine as _;
        (!bytes.is_empty())
            .then(|| Base64Binary(base64::engine::general_purpose::STANDARD.encode(bytes)))
    }

    /// The decoded bytes (cannot fail for a constructed value; no `unwrap`).
    pub fn decode(&self) -> Result<Vec<u8>, String> {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(without_whitespace(&self.0))
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r80_ids_are_limited_to_64_fhir_id_characters() {
        assert!(Id::new("abc-1.2").is_ok());
        assert!(Id::new("a".repeat(64)).is_ok());
        assert!(Id::new("a".repeat(65)).is_err());
        assert!(Id::new("").is_err());
        assert!(Id::new("45555g55555").is_ok());
        assert!(Id::new("a b").is_err());
        assert!(Id::new("a/b").is_err());
    }

    #[test]
    fn codes_reject_surrounding_and_double_whitespace() {
        assert!(Code::new("booked").is_ok());
        assert!(Code::new("In-person").is_ok());
        assert!(Code::new("a b").is_ok());
        assert!(Code::new(" a").is_err());
        assert!(Code::new("a ").is_err());
        assert!(Code::new("a  b").is_err());
        assert!(Code::new("a\tb").is_err());
        assert!(Code::new("").is_err());
    }

    #[test]
    fn strings_over_one_megabyte_are_rejected() {
        let big = "x".repeat(MAX_STRING_BYTES + 1);
        assert!(String::parse_lexical(&big).is_err());
        assert!(String::parse_lexical(&big[..MAX_STRING_BYTES]).is_ok());
    }

    #[test]
    fn strings_reject_control_characters_but_keep_newlines() {
        assert!(String::parse_lexical("a\nb\r\n\tc").is_ok());
        assert!(String::parse_lexical("a\u{1}b").is_err());
        assert!(String::parse_lexical("").is_ok());
    }

    #[test]
    fn integers_have_strict_lexical_forms() {
        assert_eq!(i32::parse_lexical("-12"), Ok(-12));
        assert!(i32::parse_lexical("+12").is_err());
        assert!(i32::parse_lexical("1.0").is_err());
        assert!(u32::parse_lexical("-1").is_err());
        assert!(u32::parse_lexical("99999999999").is_err());
    }
}
