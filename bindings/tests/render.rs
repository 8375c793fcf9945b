//! `gpc_render_section` gives exactly the render crate's view for every
//! section, from the record and request as JSON, and refuses JSON that
//! does not match the model.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_char};

use gpconnect_ffi::error::{gpc_last_error, gpc_result};
use gpconnect_ffi::render::gpc_render_section;
use gpconnect_ffi::response::{
    gpc_response, gpc_response_body, gpc_response_free, gpc_response_header_value,
    gpc_response_status,
};
use gpconnect_render::{RenderOptions, RenderRequest, Section, render, sample};
use jiff::civil::date;

/// The call's result, and the response's status, content type and body.
fn call(record: &[u8], request: &str) -> Result<(u16, String, String), (gpc_result, String)> {
    let mut response: *mut gpc_response = std::ptr::null_mut();
    // SAFETY: our own slices and out-pointer.
    let rc = unsafe {
        gpc_render_section(
            record.as_ptr(),
            record.len(),
            request.as_ptr().cast::<c_char>(),
            request.len(),
            &mut response,
        )
    };
    if rc != gpc_result::Ok {
        let mut buf = [0 as c_char; 512];
        let mut n = 0;
        // SAFETY: a local buffer.
        unsafe { gpc_last_error(buf.as_mut_ptr(), buf.len(), &mut n) };
        // SAFETY: NUL-terminated by gpc_last_error.
        let message = unsafe { CStr::from_ptr(buf.as_ptr()) };
        return Err((rc, message.to_string_lossy().into_owned()));
    }
    let (mut body, mut len) = (std::ptr::null(), 0);
    let (mut ct, mut ct_len) = (std::ptr::null(), 0);
    // SAFETY: a live response and our out-pointers; the borrowed bytes are
    // copied before the response is freed.
    let out = unsafe {
        assert_eq!(
            gpc_response_body(response, &mut body, &mut len),
            gpc_result::Ok
        );
        assert_eq!(
            gpc_response_header_value(response, c"Content-Type".as_ptr(), 12, &mut ct, &mut ct_len),
            gpc_result::Ok
        );
        (
            gpc_response_status(response),
            String::from_utf8_lossy(std::slice::from_raw_parts(ct.cast::<u8>(), ct_len))
                .into_owned(),
            String::from_utf8_lossy(std::slice::from_raw_parts(body, len)).into_owned(),
        )
    };
    gpc_response_free(response);
    Ok(out)
}

#[test]
fn every_section_is_the_render_crates_view() {
    let today = date(2030, 3, 1);
    let record = sample::rich_record(today);
    let json = serde_json::to_vec(&record).expect("record JSON");
    let options = RenderOptions::default();
    for section in Section::ALL {
        let code = section.code();
        let expected = render(
            &record,
            &RenderRequest {
                section,
                period: None,
                today,
                transfer_since: None,
                options: &options,
            },
        );
        let request = format!(r#"{{"section":"{code}","today":"2030-03-01"}}"#);
        let (status, content_type, body) = call(&json, &request).expect("rendered");
        assert_eq!(status, 200, "{code}");
        assert_eq!(content_type, "application/xhtml+xml;charset=utf-8");
        assert_eq!(body, expected, "{code}");
    }
}

#[test]
fn period_transfer_and_options_reach_the_view() {
    let today = date(2030, 3, 1);
    let record = sample::rich_record(today);
    let json = serde_json::to_vec(&record).expect("record JSON");
    let options: RenderOptions =
        serde_json::from_str(r#"{"contentBanners":[{"place":{"section":"ENC"},"text":"From C"}]}"#)
            .expect("options");
    let expected = render(
        &record,
        &RenderRequest {
            section: Section::Encounters,
            period: Some(gpconnect_render::DatePeriod {
                start: Some(date(2029, 1, 1)),
                end: None,
            }),
            today,
            transfer_since: Some(date(2030, 1, 2)),
            options: &options,
        },
    );
    let request = r#"{"section":"ENC","today":"2030-03-01","period":{"start":"2029-01-01","end":null},
        "transferSince":"2030-01-02","options":{"contentBanners":[{"place":{"section":"ENC"},"text":"From C"}]}}"#;
    let (_, _, body) = call(&json, request).expect("rendered");
    assert_eq!(body, expected);
    assert!(body.contains("From C"));
}

#[test]
fn json_that_does_not_match_the_model_is_an_invalid_argument() {
    let cases: [(&[u8], &str, &str); 5] = [
        (
            b"{}",
            r#"{"section":"XYZ","today":"2030-03-01"}"#,
            "request_json",
        ),
        (b"{}", r#"{"section":"ENC"}"#, "today"),
        (
            b"{}",
            r#"{"section":"ENC","today":"2030-03-01","colour":1}"#,
            "colour",
        ),
        (
            br#"{"encounterz":[]}"#,
            r#"{"section":"ENC","today":"2030-03-01"}"#,
            "record_json",
        ),
        (
            b"\xff",
            r#"{"section":"ENC","today":"2030-03-01"}"#,
            "record_json",
        ),
    ];
    for (record, request, named) in cases {
        let (rc, message) = call(record, request).expect_err(request);
        assert_eq!(rc, gpc_result::InvalidArgument, "{request}");
        assert!(message.contains(named), "{message} should name {named}");
    }
    // The empty record renders every section's empty view.
    let (status, _, body) = call(b"{}", r#"{"section":"SUM","today":"2030-03-01"}"#).expect("ok");
    assert_eq!(status, 200);
    assert!(
        body.starts_with("<div xmlns=\"http://www.w3.org/1999/xhtml\">"),
        "{body}"
    );
}
