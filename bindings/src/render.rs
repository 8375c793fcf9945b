//! `gpc_render_section`: an Access Record HTML section from a host's own
//! clinical record, without a store or a request: the render crate's view
//! behind the C ABI.

use std::ffi::c_char;

use gpconnect_core::engine::{CACHE_CONTROL, CONTENT_TYPE, NO_STORE};
use gpconnect_render::{ClinicalRecord, DatePeriod, RenderOptions, RenderRequest, Section};
use jiff::civil::Date;
use serde::Deserialize;

use crate::error::gpc_result;
use crate::ffi::{FfiError, bytes, guard, out_ptr};
use crate::response::{CText, Response, gpc_response};

/// What to render (the `request_json` of `gpc_render_section`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RenderArgs {
    section: Section,
    today: Date,
    #[serde(default)]
    period: Option<DatePeriod>,
    #[serde(default)]
    transfer_since: Option<Date>,
    #[serde(default)]
    options: RenderOptions,
}

fn parse<'de, T: Deserialize<'de>>(json: &'de [u8], what: &str) -> Result<T, FfiError> {
    serde_json::from_slice(json)
        .map_err(|e| FfiError::argument(format!("`{what}` is not a valid {what}: {e}")))
}

/// Renders one Access Record section (the `text.div` a getcarerecord
/// Composition carries: one line of XHTML, every string escaped and
/// sanitised) from a clinical record the host supplies.
///
/// - `record_json`: the patient's record in the render model's JSON
///   (`ClinicalRecord` of the render crate, camelCase fields, every list
///   optional: `{"encounters": [{"date": "2030-02-01", "title": "...",
///   "details": "..."}], "problems": [...], ...}`).
/// - `request_json`: `{"section": "ENC", "today": "2030-03-01"}` plus,
///   optionally, `"period": {"start": "2029-01-01", "end": "2029-12-31"}`
///   (inclusive days; ignored for SUM, ALL and IMM), `"transferSince":
///   "2030-01-02"` (record in transit) and `"options"` (`RenderOptions`:
///   banners, emergency codes).
///
/// Answers a response with status 200, `Content-Type:
/// application/xhtml+xml;charset=utf-8` and the div as its body. Either JSON
/// not matching its model (an unknown field, a bad date or section) is
/// `GPC_RESULT_INVALID_ARGUMENT`, with the line and column in
/// `gpc_last_error`.
///
/// # Safety
///
/// Each (pointer, length) pair must be readable for its length;
/// `response_out` must be a valid pointer to write to.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_render_section(
    record_json: *const u8,
    record_json_len: usize,
    request_json: *const c_char,
    request_json_len: usize,
    response_out: *mut *mut gpc_response,
) -> gpc_result {
    guard("gpc_render_section", || {
        out_ptr(response_out, "response_out")?;
        // SAFETY: the caller's contract, for each pair.
        let (record, request) = unsafe {
            (
                bytes(record_json, record_json_len, "record_json")?,
                bytes(request_json.cast::<u8>(), request_json_len, "request_json")?,
            )
        };
        let record: ClinicalRecord = parse(record, "record_json")?;
        let args: RenderArgs = parse(request, "request_json")?;
        let html = gpconnect_render::render(
            &record,
            &RenderRequest {
                section: args.section,
                period: args.period,
                today: args.today,
                transfer_since: args.transfer_since,
                options: &args.options,
            },
        );
        let response = Response {
            status: 200,
            headers: vec![
                (
                    CText::new(CONTENT_TYPE),
                    CText::new("application/xhtml+xml;charset=utf-8"),
                ),
                (CText::new(CACHE_CONTROL), CText::new(NO_STORE)),
            ],
            body: CText::new(html),
            audit: None,
        };
        // SAFETY: checked non-NULL; the caller guarantees it is writable.
        unsafe { crate::response::give(response, response_out) }
    })
}
