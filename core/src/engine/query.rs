//! Decoding the raw query string into the `(name, value)` pairs the
//! operations take.
//!
//! Rules (FHIR http "search": the query is `application/x-www-form-urlencoded`
//! style; WHATWG URL "urlencoded parser"):
//! - pairs are separated by `&`; empty pieces (`a=1&&b=2`, a trailing `&`)
//!   are skipped;
//! - a piece without `=` is a name with an empty value;
//! - `+` is a space, and `%XX` is the byte `XX`, in names and values alike.
//!   FHIR clients must therefore send the `+` of a UTC offset as `%2B`; see
//!   [`restore_offset_plus`] for the one place a raw `+` is recovered;
//! - a `%` not followed by two hex digits, or decoded bytes that are not
//!   UTF-8, make the query malformed: 400 BAD_REQUEST. (WHATWG keeps such
//!   text literally; refusing it means no parameter value is ever a guess.)
//!
//! Order is kept: the operations give repeated parameters meaning (`start`
//! twice on A6, `_include:recurse` several times on A1).

use std::borrow::Cow;

use crate::error::{Echo, Error};

/// A decoded `(name, value)` pair.
pub type QueryPair<'q> = (Cow<'q, str>, Cow<'q, str>);

/// Decodes `raw` (without the leading `?`) into pairs, in order.
///
/// # Errors
/// 400 BAD_REQUEST for a malformed percent escape or non-UTF-8 bytes.
pub fn decode_query(raw: &str) -> Result<Vec<QueryPair<'_>>, Error> {
    let mut out = Vec::new();
    for piece in raw.split('&') {
        if piece.is_empty() {
            continue;
        }
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        out.push((decode_component(name)?, decode_component(value)?));
    }
    Ok(out)
}

/// One form-urlencoded component: `+` → space, `%XX` → byte, UTF-8 checked.
fn decode_component(s: &str) -> Result<Cow<'_, str>, Error> {
    if !s.contains(['+', '%']) {
        return Ok(Cow::Borrowed(s));
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hi = bytes.get(i + 1).and_then(|h| hex(*h));
                let lo = bytes.get(i + 2).and_then(|l| hex(*l));
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(Error::bad_request(format!(
                        "the query has a malformed percent escape in {}",
                        Echo(s)
                    )));
                };
                out.push(hi << 4 | lo);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map(Cow::Owned).map_err(|_| {
        Error::bad_request(format!(
            "the query component {} does not decode to UTF-8",
            Echo(s)
        ))
    })
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A date-time search value whose UTC offset `+` was sent unencoded reaches
/// us with a space in its place (`ge2026-11-26T09:00:00 00:00`). No FHIR date
/// or dateTime holds a space, so a space there can only be that `+`: this puts
/// it back. Used for the `start`/`end` values of A1 and A6 only, where
/// consumers commonly forget to write `%2B`. Any other value is unchanged.
pub fn restore_offset_plus(value: &str) -> Cow<'_, str> {
    if value.contains(' ') {
        Cow::Owned(value.replace(' ', "+"))
    } else {
        Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SpineCode;
    use proptest::prelude::*;

    fn pairs(raw: &str) -> Vec<(String, String)> {
        decode_query(raw)
            .expect("decodes")
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn percent_escapes_and_plus_are_decoded_in_names_and_values() {
        assert_eq!(
            pairs("identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9000000009"),
            vec![p(
                "identifier",
                "https://fhir.nhs.uk/Id/nhs-number|9000000009"
            )]
        );
        assert_eq!(
            pairs("_format=application%2Ffhir%2Bxml&a+b=c+d&%5Fx=%c3%a9"),
            vec![
                p("_format", "application/fhir+xml"),
                p("a b", "c d"),
                p("_x", "é")
            ]
        );
    }

    #[test]
    fn order_and_repeats_are_kept_and_empty_pieces_skipped() {
        assert_eq!(
            pairs("&start=ge2026-01-01&&start=le2026-01-02&flag&="),
            vec![
                p("start", "ge2026-01-01"),
                p("start", "le2026-01-02"),
                p("flag", ""),
                p("", ""),
            ]
        );
        assert!(pairs("").is_empty());
    }

    #[test]
    fn a_value_keeps_everything_after_the_first_equals() {
        assert_eq!(pairs("a=b=c"), vec![p("a", "b=c")]);
    }

    #[test]
    fn malformed_escapes_and_non_utf8_are_bad_request() {
        for raw in ["a=%", "a=%2", "a=%zz", "%g1=x", "a=%ff", "a=%c3"] {
            let e = decode_query(raw).expect_err(raw);
            assert_eq!(
                (e.status(), e.code()),
                (400, SpineCode::BadRequest),
                "{raw}"
            );
        }
    }

    #[test]
    fn untouched_components_are_borrowed() {
        let q = decode_query("status=free").expect("decodes");
        assert!(matches!(q[0].1, Cow::Borrowed("free")));
    }

    #[test]
    fn unencoded_offset_plus_is_restored_in_dates_only_where_asked() {
        assert_eq!(
            restore_offset_plus("ge2026-11-26T09:00:00 00:00"),
            "ge2026-11-26T09:00:00+00:00"
        );
        assert_eq!(restore_offset_plus("le2026-11-26"), "le2026-11-26");
    }

    proptest! {
        #[test]
        fn decoding_never_panics_and_encoded_text_round_trips(raw in ".*", text in "\\PC*") {
            let _ = decode_query(&raw);
            let mut encoded = String::new();
            for b in text.bytes() {
                encoded.push_str(&format!("%{b:02X}"));
            }
            let raw = format!("k={encoded}");
            let decoded = decode_query(&raw).expect("valid escapes");
            prop_assert_eq!(decoded.len(), 1);
            prop_assert_eq!(decoded[0].1.as_ref(), text.as_str());
        }
    }
}
