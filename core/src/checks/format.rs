//! Content negotiation: which FHIR syntax to answer in, and whether a request
//! body is labelled as FHIR (appointments digest §2.1–§2.3, accessrecord §1.2).
//!
//! Decisions on points the spec leaves open:
//! - **Canonical out, aliases in.** Responses always carry the version's
//!   canonical type (STU3 `application/fhir+json`, DSTU2 `application/json+fhir`,
//!   plus `;charset=utf-8`). `Accept` and `_format` also take the other FHIR
//!   version's spelling (the STU3 guidance page still shows the DSTU2 types,
//!   digest §11.13) and plain `application/json` / `application/xml` (FHIR's own
//!   `_format` list); `_format` also takes `json` / `xml`.
//! - **`text/xml` is refused** (415) in `Accept` and `_format` although FHIR
//!   lists it, because the assurance suite expects 415 for it (FhirBase.feature).
//! - **`Content-Type` must name FHIR** (either version's spelling): the suite
//!   expects 415 for `application/json`, `application/xml` and `text/xml`,
//!   even on a GET, so [`negotiate`] checks a present `Content-Type` whatever
//!   decides the response format.
//! - **Wildcards express no preference**: an `Accept` that only reaches our
//!   formats through `*/*` or `application/*` falls through to `Content-Type`
//!   and then JSON, as if absent. Equal q-values are broken by the more
//!   specific range, then by order in the header, then JSON.
//! - **`_format` survives form decoding**: `application/fhir+json` sent
//!   unencoded arrives as `application/fhir json`; the space is read as `+`.
//! - A `charset` other than UTF-8 is unsupported: all bodies are UTF-8 (§2.2).

use std::borrow::Cow;

use crate::error::{Echo, Error, SpineCode};

/// The FHIR release an interaction belongs to; it fixes the MIME spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FhirVersion {
    /// FHIR 3.0.1: Foundations and Appointment Management 1.2.x.
    #[default]
    Stu3,
    /// FHIR 1.0.2: Access Record HTML 0.7.x.
    Dstu2,
}

impl FhirVersion {
    /// The version segment of the service root URL (`STU3` / `DSTU2`).
    pub fn name(self) -> &'static str {
        match self {
            FhirVersion::Stu3 => "STU3",
            FhirVersion::Dstu2 => "DSTU2",
        }
    }

    /// The FHIR release number the CapabilityStatement/Conformance declares.
    pub fn fhir_release(self) -> &'static str {
        match self {
            FhirVersion::Stu3 => "3.0.1",
            FhirVersion::Dstu2 => "1.0.2",
        }
    }
}

/// A FHIR wire syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FhirFormat {
    /// JSON: SHALL be supported, and the default (§2.2).
    #[default]
    Json,
    /// XML: SHOULD be supported; the suite expects it everywhere (§2.2).
    Xml,
}

impl FhirFormat {
    /// The canonical MIME type for this syntax in `version`, without parameters.
    pub fn mime_type(self, version: FhirVersion) -> &'static str {
        match (version, self) {
            (FhirVersion::Stu3, FhirFormat::Json) => "application/fhir+json",
            (FhirVersion::Stu3, FhirFormat::Xml) => "application/fhir+xml",
            (FhirVersion::Dstu2, FhirFormat::Json) => "application/json+fhir",
            (FhirVersion::Dstu2, FhirFormat::Xml) => "application/xml+fhir",
        }
    }
}

/// The response `Content-Type`, always with `charset=utf-8` (digest §2.3,
/// accessrecord §1.2), written without a space as the spec's examples do.
pub fn response_content_type(format: FhirFormat, version: FhirVersion) -> &'static str {
    match (version, format) {
        (FhirVersion::Stu3, FhirFormat::Json) => "application/fhir+json;charset=utf-8",
        (FhirVersion::Stu3, FhirFormat::Xml) => "application/fhir+xml;charset=utf-8",
        (FhirVersion::Dstu2, FhirFormat::Json) => "application/json+fhir;charset=utf-8",
        (FhirVersion::Dstu2, FhirFormat::Xml) => "application/xml+fhir;charset=utf-8",
    }
}

/// Chooses the response syntax: `_format` > `Accept` > `Content-Type` > JSON
/// (digest §2.2). An unsupported `_format` or `Accept`, or a present
/// `Content-Type` that is not FHIR, is 415 UNSUPPORTED_MEDIA_TYPE (§2.1 \[REC\]).
/// Empty or blank values count as absent.
pub fn negotiate(
    format_param: Option<&str>,
    accept: Option<&str>,
    content_type: Option<&str>,
    version: FhirVersion,
) -> Result<FhirFormat, Error> {
    // Checked first so a bad body label is reported even when `_format` or
    // `Accept` decide the answer (suite: GET /metadata + application/xml → 415).
    let body_format = match non_blank(content_type) {
        Some(ct) => Some(content_type_format(ct).ok_or_else(|| bad_content_type(ct, version))?),
        None => None,
    };
    if let Some(value) = non_blank(format_param) {
        return format_param_format(value).ok_or_else(|| {
            unsupported(format!(
                "_format {} is not supported; use {}",
                Echo(value),
                supported(version)
            ))
        });
    }
    if let Some(value) = non_blank(accept) {
        match accept_choice(value) {
            Some(AcceptChoice::Format(format)) => return Ok(format),
            Some(AcceptChoice::NoPreference) => {}
            None => {
                return Err(unsupported(format!(
                    "Accept {} offers no supported format; use {}",
                    Echo(value),
                    supported(version)
                )));
            }
        }
    }
    Ok(body_format.unwrap_or_default())
}

/// Checks the `Content-Type` of a POST/PUT body: it must be a FHIR MIME type
/// (either version's spelling) in UTF-8, else 415 (digest §2.1, accessrecord §1.2).
pub fn check_request_content_type(
    content_type: Option<&str>,
    version: FhirVersion,
) -> Result<FhirFormat, Error> {
    match non_blank(content_type) {
        Some(ct) => content_type_format(ct).ok_or_else(|| bad_content_type(ct, version)),
        None => Err(unsupported(format!(
            "Content-Type is required on a request body; use {}",
            supported(version)
        ))),
    }
}

/// The syntax to render an error in when [`negotiate`] itself failed or has
/// not run: the first usable hint among `_format`, `Accept`, `Content-Type`,
/// else JSON. Never fails, so every error can still be answered.
pub fn error_format(
    format_param: Option<&str>,
    accept: Option<&str>,
    content_type: Option<&str>,
) -> FhirFormat {
    if let Some(format) = non_blank(format_param).and_then(format_param_format) {
        return format;
    }
    if let Some(AcceptChoice::Format(format)) = non_blank(accept).and_then(accept_choice) {
        return format;
    }
    non_blank(content_type)
        .and_then(content_type_format)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Parsing

/// What an `Accept` header asks for once q-values are weighed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AcceptChoice {
    Format(FhirFormat),
    /// Only wildcards reach our formats, with equal weight.
    NoPreference,
}

/// How a media range matched one of our formats: specificity (3 exact,
/// 2 `application/*`, 1 `*/*`), weight in thousandths, position in the list.
#[derive(Debug, Clone, Copy)]
struct Match {
    specificity: u8,
    q: u16,
    position: usize,
}

/// Weighs an `Accept` list per RFC 9110 §12.5.1; `None` if nothing we serve
/// is acceptable. Malformed ranges are skipped rather than failing the list.
fn accept_choice(accept: &str) -> Option<AcceptChoice> {
    let mut best: [Option<Match>; 2] = [None, None];
    for (position, range) in split_unquoted(accept, ',').into_iter().enumerate() {
        let Some(media) = parse_media(range) else {
            continue;
        };
        let mut q = 1000;
        let mut well_formed = true;
        for (name, value) in &media.params {
            if name.eq_ignore_ascii_case("q") {
                match parse_q(value) {
                    Some(weight) => q = weight,
                    None => well_formed = false,
                }
            }
        }
        if !well_formed || !charset_is_utf8(&media) {
            continue;
        }
        let (formats, specificity): (&[FhirFormat], u8) = if media.ty == "*" && media.sub == "*" {
            (&[FhirFormat::Json, FhirFormat::Xml], 1)
        } else if media.ty.eq_ignore_ascii_case("application") && media.sub == "*" {
            (&[FhirFormat::Json, FhirFormat::Xml], 2)
        } else {
            match classify(&media, true) {
                Some(FhirFormat::Json) => (&[FhirFormat::Json], 3),
                Some(FhirFormat::Xml) => (&[FhirFormat::Xml], 3),
                None => continue,
            }
        };
        for &format in formats {
            let slot = &mut best[format as usize];
            let better = match slot {
                None => true,
                Some(cur) => {
                    specificity > cur.specificity || (specificity == cur.specificity && q > cur.q)
                }
            };
            if better {
                *slot = Some(Match {
                    specificity,
                    q,
                    position,
                });
            }
        }
    }
    let [json, xml] = best.map(|m| m.filter(|m| m.q > 0));
    match (json, xml) {
        (None, None) => None,
        (Some(_), None) => Some(AcceptChoice::Format(FhirFormat::Json)),
        (None, Some(_)) => Some(AcceptChoice::Format(FhirFormat::Xml)),
        (Some(j), Some(x)) => {
            let xml_wins = if j.q != x.q {
                x.q > j.q
            } else if j.specificity < 3 && x.specificity < 3 {
                return Some(AcceptChoice::NoPreference);
            } else if j.specificity != x.specificity {
                x.specificity > j.specificity
            } else {
                x.position < j.position
            };
            Some(AcceptChoice::Format(if xml_wins {
                FhirFormat::Xml
            } else {
                FhirFormat::Json
            }))
        }
    }
}

/// `_format`: one media type (no wildcards, no list) or `json` / `xml`.
fn format_param_format(value: &str) -> Option<FhirFormat> {
    let value = value.trim_ascii();
    if value.eq_ignore_ascii_case("json") {
        return Some(FhirFormat::Json);
    }
    if value.eq_ignore_ascii_case("xml") {
        return Some(FhirFormat::Xml);
    }
    // Undo form decoding of an unencoded `+` in the type itself.
    let value: Cow<'_, str> = match value.split_once(';') {
        Some((essence, rest)) if essence.contains(' ') => {
            Cow::Owned(format!("{};{rest}", essence.trim_ascii().replace(' ', "+")))
        }
        None if value.contains(' ') => Cow::Owned(value.replace(' ', "+")),
        _ => Cow::Borrowed(value),
    };
    let media = parse_media(&value)?;
    if media
        .params
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("q"))
        || !charset_is_utf8(&media)
    {
        return None;
    }
    classify(&media, true)
}

/// A request body label: a FHIR MIME type (either spelling) in UTF-8.
fn content_type_format(value: &str) -> Option<FhirFormat> {
    let media = parse_media(value)?;
    if !charset_is_utf8(&media) {
        return None;
    }
    classify(&media, false)
}

/// A parsed `type/subtype *( ; name=value )`, borrowed from the header.
#[derive(Debug)]
struct Media<'a> {
    ty: &'a str,
    sub: &'a str,
    params: Vec<(&'a str, Cow<'a, str>)>,
}

/// Parses one media type (RFC 9110 §8.3.1); `None` if malformed. Type,
/// subtype and parameter names are tokens; values are tokens or quoted strings.
fn parse_media(s: &str) -> Option<Media<'_>> {
    let mut parts = split_unquoted(s, ';').into_iter();
    let (ty, sub) = parts.next()?.trim_ascii().split_once('/')?;
    if !is_token(ty) || !is_token(sub) {
        return None;
    }
    let mut params = Vec::new();
    for part in parts {
        let part = part.trim_ascii();
        if part.is_empty() {
            continue; // a stray `;` is harmless
        }
        let (name, value) = part.split_once('=')?;
        let (name, value) = (name.trim_ascii(), value.trim_ascii());
        if !is_token(name) {
            return None;
        }
        let value = if value.starts_with('"') {
            unquote(value)?
        } else if is_token(value) {
            Cow::Borrowed(value)
        } else {
            return None;
        };
        params.push((name, value));
    }
    Some(Media { ty, sub, params })
}

/// Maps a concrete media type to a syntax. FHIR spellings of both versions
/// always count; plain `application/json|xml` only where `generic` allows.
fn classify(media: &Media<'_>, generic: bool) -> Option<FhirFormat> {
    if !media.ty.eq_ignore_ascii_case("application") {
        return None;
    }
    let is = |s: &str| media.sub.eq_ignore_ascii_case(s);
    if is("fhir+json") || is("json+fhir") || (generic && is("json")) {
        Some(FhirFormat::Json)
    } else if is("fhir+xml") || is("xml+fhir") || (generic && is("xml")) {
        Some(FhirFormat::Xml)
    } else {
        None
    }
}

fn charset_is_utf8(media: &Media<'_>) -> bool {
    media
        .params
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("charset"))
        .all(|(_, value)| value.eq_ignore_ascii_case("utf-8"))
}

/// An RFC 9110 qvalue in thousandths: `0[.ddd]` or `1[.000]`.
fn parse_q(s: &str) -> Option<u16> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac
        .bytes()
        .zip([100u16, 10, 1])
        .map(|(b, scale)| u16::from(b - b'0') * scale)
        .sum::<u16>();
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// RFC 9110 `token`.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

// ---------------------------------------------------------------------------
// Helpers shared with `headers`

/// Splits `s` at `sep` outside double-quoted strings (RFC 9110 §5.6.4), so a
/// quoted `,` or `;` in a parameter value does not split the list.
pub(super) fn split_unquoted(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if in_quotes && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_quotes = !in_quotes;
        } else if c == sep && !in_quotes {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// The content of a quoted string with `\x` escapes resolved; `None` unless
/// `s` is exactly one well-formed quoted string.
pub(super) fn unquote(s: &str) -> Option<Cow<'_, str>> {
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains(['\\', '"']) {
        return Some(Cow::Borrowed(inner));
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            _ => out.push(c),
        }
    }
    Some(Cow::Owned(out))
}

fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim_ascii).filter(|v| !v.is_empty())
}

fn supported(version: FhirVersion) -> String {
    format!(
        "{} or {}",
        FhirFormat::Json.mime_type(version),
        FhirFormat::Xml.mime_type(version)
    )
}

fn unsupported(diagnostics: String) -> Error {
    Error::new(SpineCode::UnsupportedMediaType, diagnostics)
}

fn bad_content_type(value: &str, version: FhirVersion) -> Error {
    unsupported(format!(
        "Content-Type {} is not a FHIR media type; use {} (charset utf-8)",
        Echo(value),
        supported(version)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use FhirFormat::{Json, Xml};
    use FhirVersion::{Dstu2, Stu3};
    use proptest::prelude::*;

    fn neg(f: Option<&str>, a: Option<&str>, c: Option<&str>) -> Result<FhirFormat, Error> {
        negotiate(f, a, c, Stu3)
    }

    fn assert_415(r: Result<FhirFormat, Error>) {
        match r {
            Err(e) => {
                assert_eq!(e.code(), SpineCode::UnsupportedMediaType, "{e}");
                assert_eq!(e.status(), 415);
            }
            Ok(f) => panic!("expected 415, got {f:?}"),
        }
    }

    #[test]
    fn default_is_json_without_format_accept_or_content_type() {
        assert_eq!(neg(None, None, None), Ok(Json));
        assert_eq!(neg(Some(""), Some("  "), Some("")), Ok(Json));
    }

    #[test]
    fn format_param_overrides_accept() {
        let r = neg(
            Some("application/fhir+xml"),
            Some("application/fhir+json"),
            Some("application/fhir+json"),
        );
        assert_eq!(r, Ok(Xml));
        let r = neg(
            Some("application/fhir+json"),
            Some("application/fhir+xml"),
            None,
        );
        assert_eq!(r, Ok(Json));
    }

    #[test]
    fn accept_overrides_content_type() {
        let r = neg(
            None,
            Some("application/fhir+json"),
            Some("application/fhir+xml"),
        );
        assert_eq!(r, Ok(Json));
        let r = neg(
            None,
            Some("application/fhir+xml"),
            Some("application/fhir+json"),
        );
        assert_eq!(r, Ok(Xml));
    }

    #[test]
    fn content_type_decides_without_accept_or_format() {
        assert_eq!(neg(None, None, Some("application/fhir+xml")), Ok(Xml));
        assert_eq!(neg(None, None, Some("application/fhir+json")), Ok(Json));
        let dstu2 = negotiate(None, None, Some("application/xml+fhir"), Dstu2);
        assert_eq!(dstu2, Ok(Xml));
    }

    #[test]
    fn format_param_short_forms_and_aliases() {
        for (value, want) in [
            ("json", Json),
            ("xml", Xml),
            ("JSON", Json),
            ("application/json", Json),
            ("application/xml", Xml),
            ("application/json+fhir", Json),
            ("application/xml+fhir", Xml),
            ("application/fhir+xml;charset=utf-8", Xml),
        ] {
            assert_eq!(neg(Some(value), None, None), Ok(want), "{value}");
        }
    }

    #[test]
    fn format_param_survives_form_decoding_of_plus() {
        assert_eq!(neg(Some("application/fhir json"), None, None), Ok(Json));
        assert_eq!(
            neg(Some("application/fhir xml; charset=utf-8"), None, None),
            Ok(Xml)
        );
    }

    #[test]
    fn unsupported_format_param_is_415() {
        for value in [
            "text/xml",
            "application/pdf",
            "*/*",
            "application/*",
            "html",
            "application/fhir+json;q=1",
        ] {
            assert_415(neg(Some(value), Some("application/fhir+json"), None));
        }
    }

    #[test]
    fn unsupported_accept_is_415() {
        for value in [
            "text/xml",
            "text/html, image/png",
            "text/*",
            "garbage",
            "application/fhir+json;charset=latin1",
        ] {
            assert_415(neg(None, Some(value), Some("application/fhir+json")));
        }
    }

    #[test]
    fn accept_wildcards_mean_default() {
        assert_eq!(neg(None, Some("*/*"), None), Ok(Json));
        assert_eq!(
            neg(None, Some("*/*"), Some("application/fhir+xml")),
            Ok(Xml)
        );
        assert_eq!(
            neg(None, Some("application/*"), Some("application/fhir+xml")),
            Ok(Xml)
        );
        assert_eq!(neg(None, Some("text/html, */*;q=0.8"), None), Ok(Json));
    }

    #[test]
    fn accept_q_values_are_weighed() {
        let r = neg(
            None,
            Some("application/fhir+json;q=0.5, application/fhir+xml"),
            None,
        );
        assert_eq!(r, Ok(Xml));
        let r = neg(
            None,
            Some("application/fhir+xml;q=0, */*"),
            Some("application/fhir+xml"),
        );
        assert_eq!(r, Ok(Json));
        let r = neg(
            None,
            Some("application/fhir+json;q=0.9, */*;q=0.1"),
            Some("application/fhir+xml"),
        );
        assert_eq!(r, Ok(Json));
        assert_415(neg(
            None,
            Some("application/fhir+json;q=0, application/fhir+xml;q=0.000"),
            None,
        ));
    }

    #[test]
    fn accept_ties_go_to_specific_then_first_listed() {
        let r = neg(
            None,
            Some("application/fhir+xml, application/fhir+json"),
            None,
        );
        assert_eq!(r, Ok(Xml));
        let r = neg(
            None,
            Some("*/*, application/fhir+xml"),
            Some("application/fhir+json"),
        );
        assert_eq!(r, Ok(Xml));
    }

    #[test]
    fn accept_tolerates_params_whitespace_and_case() {
        for value in [
            "application/fhir+json;charset=utf-8",
            "application/fhir+json; charset=utf-8",
            "  Application/FHIR+JSON ; Charset=\"UTF-8\" ; q=1.000 ",
            "application/fhir+json;q=0.5;ext=\"a,b;c\"",
            ",application/fhir+json,",
        ] {
            assert_eq!(neg(None, Some(value), None), Ok(Json), "{value}");
        }
    }

    #[test]
    fn accept_takes_other_version_and_plain_aliases() {
        assert_eq!(neg(None, Some("application/xml+fhir"), None), Ok(Xml));
        assert_eq!(neg(None, Some("application/json"), None), Ok(Json));
        assert_eq!(neg(None, Some("application/xml"), None), Ok(Xml));
        assert_eq!(
            negotiate(None, Some("application/fhir+xml"), None, Dstu2),
            Ok(Xml)
        );
    }

    #[test]
    fn accept_skips_malformed_ranges() {
        let r = neg(
            None,
            Some("application/fhir+xml;q=2, application/fhir+json;q=.5, application/fhir+json"),
            None,
        );
        assert_eq!(r, Ok(Json));
        assert_415(neg(None, Some("application/fhir+xml;q=abc"), None));
    }

    #[test]
    fn non_fhir_content_type_is_415_even_when_accept_decides() {
        for ct in [
            "application/xml",
            "application/json",
            "applicaiton/json",
            "text/xml",
        ] {
            assert_415(neg(None, Some("application/fhir+json"), Some(ct)));
            assert_415(neg(Some("json"), None, Some(ct)));
            assert_415(negotiate(None, None, Some(ct), Dstu2));
        }
    }

    #[test]
    fn request_content_type_must_be_fhir() {
        for (ct, want) in [
            ("application/fhir+json", Json),
            ("application/fhir+xml;charset=utf-8", Xml),
            ("application/fhir+json; charset=UTF-8", Json),
            ("application/json+fhir", Json),
            ("APPLICATION/XML+FHIR", Xml),
        ] {
            assert_eq!(check_request_content_type(Some(ct), Stu3), Ok(want), "{ct}");
            assert_eq!(
                check_request_content_type(Some(ct), Dstu2),
                Ok(want),
                "{ct}"
            );
        }
        for ct in [
            "application/json",
            "application/xml",
            "text/xml",
            "*/*",
            "application/*",
            "application/fhir+json;charset=iso-8859-1",
            "application/fhir+json, application/fhir+xml",
            "application / fhir+json",
            "application/fhir+json;charset",
            "",
        ] {
            assert_415(check_request_content_type(Some(ct), Stu3));
        }
        assert_415(check_request_content_type(None, Stu3));
    }

    #[test]
    fn response_content_type_is_canonical_with_charset() {
        assert_eq!(
            response_content_type(Json, Stu3),
            "application/fhir+json;charset=utf-8"
        );
        assert_eq!(
            response_content_type(Xml, Stu3),
            "application/fhir+xml;charset=utf-8"
        );
        assert_eq!(
            response_content_type(Json, Dstu2),
            "application/json+fhir;charset=utf-8"
        );
        assert_eq!(
            response_content_type(Xml, Dstu2),
            "application/xml+fhir;charset=utf-8"
        );
        for v in [Stu3, Dstu2] {
            for f in [Json, Xml] {
                assert!(response_content_type(f, v).starts_with(f.mime_type(v)));
            }
        }
    }

    #[test]
    fn unsupported_diagnostics_name_the_versions_types() {
        let Err(e) = negotiate(Some("text/xml"), None, None, Dstu2) else {
            panic!("expected an error");
        };
        assert!(e.diagnostics().contains("application/json+fhir"), "{e}");
    }

    #[test]
    fn error_format_uses_first_usable_hint() {
        assert_eq!(
            error_format(Some("text/xml"), Some("application/fhir+xml"), None),
            Xml
        );
        assert_eq!(
            error_format(None, Some("text/xml"), Some("application/fhir+xml")),
            Xml
        );
        assert_eq!(
            error_format(Some("xml"), Some("application/fhir+json"), None),
            Xml
        );
        assert_eq!(error_format(None, None, Some("text/xml")), Json);
    }

    #[test]
    fn helpers_handle_quotes_and_long_values() {
        assert_eq!(
            split_unquoted(r#"a,"b,c",d"#, ','),
            vec!["a", r#""b,c""#, "d"]
        );
        assert_eq!(unquote(r#""a\"b""#).as_deref(), Some("a\"b"));
        assert_eq!(unquote(r#""a"b""#), None);
        assert_eq!(unquote(r#""a\"#), None);
        let long = "é".repeat(100);
        assert!(Echo(&long).to_string().chars().count() < 70);
        assert_eq!(parse_q("0.125"), Some(125));
        assert_eq!(parse_q("1."), Some(1000));
        assert_eq!(parse_q("1.001"), None);
        assert_eq!(parse_q("0.1234"), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(
            f in proptest::option::of(".*"),
            a in proptest::option::of(".*"),
            c in proptest::option::of(".*"),
        ) {
            for v in [Stu3, Dstu2] {
                let _ = negotiate(f.as_deref(), a.as_deref(), c.as_deref(), v);
                let _ = check_request_content_type(c.as_deref(), v);
            }
            let _ = error_format(f.as_deref(), a.as_deref(), c.as_deref());
        }

        #[test]
        fn media_grammar_fuzz_never_panics(s in r#"[a-zA-Z/+*;,="\\ .0-9qé-]{0,40}"#) {
            let _ = negotiate(Some(&s), Some(&s), None, Stu3);
            let _ = negotiate(None, Some(&s), Some(&s), Stu3);
            let _ = split_unquoted(&s, ';');
            let _ = unquote(&s);
            let _ = Echo(&s).to_string();
        }
    }
}
