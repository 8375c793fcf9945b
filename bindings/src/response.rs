//! `gpc_response`: the engine's answer (status, headers, body, audit
//! record), read through accessors and freed with `gpc_response_free`.

use std::ffi::c_char;

use gpconnect_core::engine::HttpResponse;

use crate::error::gpc_result;
use crate::ffi::{FfiResult, guard, guard_value, text, write_out};
use crate::handle::Registry;

/// An answer of the engine (opaque). Made by `gpc_engine_handle` and the
/// typed calls; the caller owns it and frees it with `gpc_response_free`.
///
/// A response is immutable, so any thread may read it, and every pointer
/// its accessors give stays valid, unchanged, until it is freed.
#[derive(Debug)]
pub struct gpc_response {
    _private: [u8; 0],
}

/// Text held with a NUL after it, so a C caller can use it as a C string
/// too; the length given out excludes the NUL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CText(Vec<u8>);

impl CText {
    pub fn new(bytes: impl Into<Vec<u8>>) -> CText {
        let mut v = bytes.into();
        v.push(0);
        CText(v)
    }

    fn ptr(&self) -> *const u8 {
        self.0.as_ptr()
    }

    fn len(&self) -> usize {
        self.0.len() - 1
    }

    fn bytes(&self) -> &[u8] {
        &self.0[..self.len()]
    }
}

/// What a `gpc_response` handle refers to.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(CText, CText)>,
    pub body: CText,
    /// The audit record as one JSON line, for answers of
    /// `gpc_engine_handle`.
    pub audit: Option<CText>,
}

impl Response {
    pub fn from_http(r: HttpResponse) -> Response {
        Response {
            status: r.status,
            headers: r
                .headers
                .into_iter()
                .map(|(k, v)| (CText::new(k), CText::new(v)))
                .collect(),
            body: CText::new(r.body),
            audit: Some(CText::new(r.audit.to_json_line())),
        }
    }
}

pub(crate) static RESPONSES: Registry<Response> = Registry::new("gpc_response");

/// Registers `response` and hands it out through `out`.
///
/// # Safety
/// `out` must be NULL or valid for a write.
pub(crate) unsafe fn give(response: Response, out: *mut *mut gpc_response) -> FfiResult<()> {
    crate::ffi::out_ptr(out, "response_out")?;
    let handle = RESPONSES.insert::<gpc_response>(response);
    // SAFETY: checked non-NULL; the caller guarantees it is writable.
    unsafe { write_out(out, handle, "response_out") }
}

/// The HTTP status (e.g. 200, 201, 409), or 0 when `response` is NULL or
/// not live (see `gpc_last_error`).
#[unsafe(no_mangle)]
pub extern "C" fn gpc_response_status(response: *const gpc_response) -> u16 {
    guard_value("gpc_response_status", 0, || {
        Ok(RESPONSES.get(response, "response")?.status)
    })
}

/// How many headers the response has, or 0 when `response` is NULL or not
/// live. Every response has at least `Cache-Control`.
#[unsafe(no_mangle)]
pub extern "C" fn gpc_response_header_count(response: *const gpc_response) -> usize {
    guard_value("gpc_response_header_count", 0, || {
        Ok(RESPONSES.get(response, "response")?.headers.len())
    })
}

/// Header number `index` (0-based, in the order to send them): its name
/// and value, borrowed from the response (valid until it is freed, each
/// followed by a NUL not counted in the length). `GPC_RESULT_OUT_OF_RANGE`
/// when `index >= gpc_response_header_count(response)`.
///
/// # Safety
///
/// Each out-pointer must be a valid pointer to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_response_header(
    response: *const gpc_response,
    index: usize,
    name_out: *mut *const c_char,
    name_len_out: *mut usize,
    value_out: *mut *const c_char,
    value_len_out: *mut usize,
) -> gpc_result {
    guard("gpc_response_header", || {
        let r = RESPONSES.get(response, "response")?;
        let Some((name, value)) = r.headers.get(index) else {
            return Err(crate::ffi::FfiError::new(
                gpc_result::OutOfRange,
                format!(
                    "header index {index} is out of range: the response has {} headers",
                    r.headers.len()
                ),
            ));
        };
        for (out, what) in [(name_out, "name_out"), (value_out, "value_out")] {
            crate::ffi::out_ptr(out, what)?;
        }
        for (out, what) in [
            (name_len_out, "name_len_out"),
            (value_len_out, "value_len_out"),
        ] {
            crate::ffi::out_ptr(out, what)?;
        }
        // SAFETY: all four checked non-NULL above; the caller guarantees
        // they are writable. The pointers are into the registry's Arc,
        // which keeps them valid until the response is freed.
        unsafe {
            write_out(name_out, name.ptr().cast::<c_char>(), "name_out")?;
            write_out(name_len_out, name.len(), "name_len_out")?;
            write_out(value_out, value.ptr().cast::<c_char>(), "value_out")?;
            write_out(value_len_out, value.len(), "value_len_out")
        }
    })
}

/// The value of the first header named `name` (ASCII case-insensitive),
/// borrowed from the response as with `gpc_response_header`; `*value_out`
/// is set to NULL and `*value_len_out` to 0 when there is no such header.
///
/// # Safety
///
/// `name` must be valid for reads of `name_len` bytes; the out-pointers must
/// be valid pointers to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_response_header_value(
    response: *const gpc_response,
    name: *const c_char,
    name_len: usize,
    value_out: *mut *const c_char,
    value_len_out: *mut usize,
) -> gpc_result {
    guard("gpc_response_header_value", || {
        let r = RESPONSES.get(response, "response")?;
        // SAFETY: the caller's contract.
        let name = unsafe { text(name, name_len, "name") }?;
        crate::ffi::out_ptr(value_out, "value_out")?;
        crate::ffi::out_ptr(value_len_out, "value_len_out")?;
        let found = r
            .headers
            .iter()
            .find(|(k, _)| k.bytes().eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v);
        let (ptr, len) = match found {
            Some(v) => (v.ptr().cast::<c_char>(), v.len()),
            None => (std::ptr::null(), 0),
        };
        // SAFETY: both checked non-NULL above; the caller guarantees they
        // are writable.
        unsafe {
            write_out(value_out, ptr, "value_out")?;
            write_out(value_len_out, len, "value_len_out")
        }
    })
}

/// The body (a FHIR resource in the negotiated format, an
/// OperationOutcome, HTML, or empty), borrowed from the response: valid
/// until it is freed, followed by a NUL byte not counted in `*len_out`, so
/// a JSON, XML or HTML body can be used as a C string.
///
/// # Safety
///
/// The out-pointers must be valid pointers to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_response_body(
    response: *const gpc_response,
    body_out: *mut *const u8,
    len_out: *mut usize,
) -> gpc_result {
    guard("gpc_response_body", || {
        let r = RESPONSES.get(response, "response")?;
        crate::ffi::out_ptr(body_out, "body_out")?;
        crate::ffi::out_ptr(len_out, "len_out")?;
        // SAFETY: both checked non-NULL; the caller guarantees they are
        // writable; the body lives as long as the registry's Arc.
        unsafe {
            write_out(body_out, r.body.ptr(), "body_out")?;
            write_out(len_out, r.body.len(), "len_out")
        }
    })
}

/// The audit record of a `gpc_engine_handle` answer as one JSON line
/// (every call must be audited, failures included: persist it), borrowed
/// and NUL-terminated like the body. Answers of the typed calls carry
/// none: `*json_out` is set to NULL and `*len_out` to 0.
///
/// # Safety
///
/// The out-pointers must be valid pointers to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_response_audit_json(
    response: *const gpc_response,
    json_out: *mut *const c_char,
    len_out: *mut usize,
) -> gpc_result {
    guard("gpc_response_audit_json", || {
        let r = RESPONSES.get(response, "response")?;
        crate::ffi::out_ptr(json_out, "json_out")?;
        crate::ffi::out_ptr(len_out, "len_out")?;
        let (ptr, len) = match &r.audit {
            Some(a) => (a.ptr().cast::<c_char>(), a.len()),
            None => (std::ptr::null(), 0),
        };
        // SAFETY: both checked non-NULL; the caller guarantees they are
        // writable.
        unsafe {
            write_out(json_out, ptr, "json_out")?;
            write_out(len_out, len, "len_out")
        }
    })
}

/// Frees a response. NULL is ignored; so is a response already freed
/// (reported through `gpc_last_error` only). Every pointer its accessors
/// gave becomes invalid.
#[unsafe(no_mangle)]
pub extern "C" fn gpc_response_free(response: *mut gpc_response) {
    if response.is_null() {
        return;
    }
    let _ = guard("gpc_response_free", || {
        drop(RESPONSES.remove(response, "response")?);
        Ok(())
    });
}
