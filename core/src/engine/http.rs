//! The request and response as plain data: what an HTTP server or the C
//! bindings hand to [`Engine::handle`](super::Engine::handle) and write back.
//!
//! **Why the request is borrowed.** The engine reads a request once, during
//! `handle`, and keeps nothing of it afterwards (the audit record copies the
//! few values it needs). Every host already owns the request in its own types
//! (a hyper `Request`, a C struct of pointers), so borrowing lets it pass a
//! view without copying headers or an up to 8 MiB body, and the C bindings can
//! hand over foreign memory for the duration of the call. The response, in
//! contrast, is built by the engine and outlives the call, so it is owned.

use jiff::Timestamp;

use super::audit::AuditRecord;

/// `Cache-Control`, sent as `no-store` on every response (digest §1.1, §2.3).
pub const CACHE_CONTROL: &str = "Cache-Control";
/// `Content-Type` of a response with a body.
pub const CONTENT_TYPE: &str = "Content-Type";
/// `ETag: W/"{versionId}"` on read, create and update (digest §8.1).
pub const ETAG: &str = "ETag";
/// `Last-Modified` on create (digest §2.3, R17).
pub const LAST_MODIFIED: &str = "Last-Modified";
/// `Location` on create (digest §8.1, R17).
pub const LOCATION: &str = "Location";
/// The value of `Cache-Control` on every response.
pub const NO_STORE: &str = "no-store";

/// One request, borrowed from the host for the duration of
/// [`Engine::handle`](super::Engine::handle).
///
/// Header values must be UTF-8: a host whose framework exposes raw bytes
/// should pass only the values that are valid UTF-8 (`HeaderValue::to_str`
/// in the `http` crate) — a dropped value then counts as absent, which is the
/// answer a malformed value would get anyway. Content and transfer codings are
/// the host's: it decodes a gzip or chunked request body before calling, and
/// gzips the response when the consumer sent `Accept-Encoding: gzip`
/// (digest §2.1 "SHALL support gzip"; accessrecord §1.2).
#[derive(Debug, Clone, Copy)]
pub struct HttpRequest<'a> {
    /// The method token as sent (`GET`, `POST`, ...; case-sensitive).
    pub method: &'a str,
    /// The full path, e.g. `/A00001/STU3/1/gpconnect/Patient/2`, not
    /// percent-decoded. A request-target with `?query` is accepted too: the
    /// part after `?` is then read as (more of) the query.
    pub path: &'a str,
    /// The raw query string without the `?`, still percent-encoded
    /// (`identifier=https%3A%2F%2Ffhir.nhs.uk%2FId%2Fnhs-number%7C9000000009`).
    pub query: &'a str,
    /// Header (name, value) pairs in request order; names in any case.
    pub headers: &'a [(&'a str, &'a str)],
    /// The request body (empty for GET), already decoded from any transfer
    /// or content coding.
    pub body: &'a [u8],
}

/// The engine's answer: what the host writes back, plus the audit record it
/// must persist (R84: every call is audited, failures included).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpResponse {
    /// The HTTP status.
    pub status: u16,
    /// Response headers, in the order to send them. Always includes
    /// `Cache-Control: no-store`; `Content-Type` whenever `body` is not
    /// empty.
    pub headers: Vec<(String, String)>,
    /// The body (a FHIR resource in the negotiated format), or empty (e.g.
    /// `Prefer: return=minimal`).
    pub body: Vec<u8>,
    /// What happened, for the audit trail. The host writes it, e.g. as one
    /// JSON line ([`AuditRecord::to_json_line`]).
    pub audit: AuditRecord,
}

impl HttpResponse {
    /// The value of the first header named `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `ETag` value for a version: always weak and quoted (digest §8.1).
pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

/// An HTTP-date (RFC 9110 §5.6.7 IMF-fixdate, as RFC 7231 §7.1.1.1), e.g.
/// `Wed, 25 Nov 2026 10:00:00 GMT`, for `Last-Modified`. `None` only for an
/// instant before year 1 or after 9999, which the header cannot carry.
pub fn http_date(at: Timestamp) -> Option<String> {
    jiff::fmt::rfc2822::DateTimePrinter::new()
        .timestamp_to_rfc9110_string(&at)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_is_weak_and_quoted() {
        assert_eq!(etag(636068818095315079), "W/\"636068818095315079\"");
    }

    #[test]
    fn last_modified_is_an_imf_fixdate() {
        let at: Timestamp = "2026-11-25T10:00:07Z".parse().expect("ts");
        assert_eq!(
            http_date(at).as_deref(),
            Some("Wed, 25 Nov 2026 10:00:07 GMT")
        );
    }

    #[test]
    fn response_headers_are_found_case_insensitively() {
        let r = HttpResponse {
            status: 200,
            headers: vec![(CACHE_CONTROL.to_owned(), NO_STORE.to_owned())],
            body: Vec::new(),
            audit: AuditRecord::default(),
        };
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.header("ETag"), None);
    }
}
