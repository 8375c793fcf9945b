//! The plumbing every exported function shares: the panic guard, the
//! conversion of C arguments (pointer + length) into Rust values with their
//! NULL and UTF-8 checks, and writing results through out-pointers.
//!
//! Every `unsafe` block of the crate that touches caller memory goes
//! through the small functions here, so the contracts are stated once.

use std::any::Any;
use std::ffi::c_char;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{gpc_result, set_last_error};

/// Why a call failed: the code it returns and the message
/// `gpc_last_error` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FfiError {
    pub code: gpc_result,
    pub message: String,
}

impl FfiError {
    pub fn new(code: gpc_result, message: impl Into<String>) -> FfiError {
        FfiError {
            code,
            message: message.into(),
        }
    }

    pub fn null(what: &str) -> FfiError {
        FfiError::new(gpc_result::NullParameter, format!("`{what}` is NULL"))
    }

    pub fn argument(message: impl Into<String>) -> FfiError {
        FfiError::new(gpc_result::InvalidArgument, message)
    }
}

/// `Result` of the Rust side of an exported function.
pub(crate) type FfiResult<T> = Result<T, FfiError>;

fn panic_text(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-text panic payload")
}

/// Runs the body of exported function `name`: a panic becomes
/// [`gpc_result::Panic`], an error its code; either sets the thread's last
/// error message.
pub(crate) fn guard(name: &str, body: impl FnOnce() -> FfiResult<()>) -> gpc_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => gpc_result::Ok,
        Ok(Err(e)) => {
            set_last_error(format!("{name}: {}", e.message));
            e.code
        }
        Err(payload) => {
            set_last_error(format!("{name}: panicked: {}", panic_text(&*payload)));
            gpc_result::Panic
        }
    }
}

/// [`guard`] for functions that return a value rather than a result:
/// `fallback` on any failure.
pub(crate) fn guard_value<T>(name: &str, fallback: T, body: impl FnOnce() -> FfiResult<T>) -> T {
    let mut out = None;
    let result = guard(name, || {
        out = Some(body()?);
        Ok(())
    });
    match (result, out) {
        (gpc_result::Ok, Some(v)) => v,
        _ => fallback,
    }
}

/// The `len` bytes at `ptr`, borrowed for the call. `(NULL, 0)` and
/// `(anything, 0)` are empty; NULL with a non-zero length is an error.
///
/// # Safety
/// When `len > 0` and `ptr` is not NULL, `ptr` must be valid for reads of
/// `len` bytes for `'a`, and not written to meanwhile.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> FfiResult<&'a [u8]> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(FfiError::new(
            gpc_result::NullParameter,
            format!("`{what}` is NULL but its length is {len}"),
        ));
    }
    // SAFETY: non-NULL, and the caller guarantees `len` readable bytes that
    // stay unchanged for 'a; `len` comes from the same caller (a C object
    // is at most isize::MAX bytes).
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// [`bytes`] as UTF-8 text.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(ptr: *const c_char, len: usize, what: &str) -> FfiResult<&'a str> {
    // SAFETY: the caller's contract, forwarded.
    let raw = unsafe { bytes(ptr.cast::<u8>(), len, what) }?;
    std::str::from_utf8(raw).map_err(|e| {
        FfiError::new(
            gpc_result::InvalidUtf8,
            format!("`{what}` is not UTF-8: {e}"),
        )
    })
}

/// Optional text: NULL (with any length... only 0 is sensible) is `None`.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn optional_text<'a>(
    ptr: *const c_char,
    len: usize,
    what: &str,
) -> FfiResult<Option<&'a str>> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's contract, forwarded.
    unsafe { text(ptr, len, what) }.map(Some)
}

/// Checks an out-pointer is not NULL.
pub(crate) fn out_ptr<T>(out: *mut T, what: &str) -> FfiResult<*mut T> {
    if out.is_null() {
        Err(FfiError::null(what))
    } else {
        Ok(out)
    }
}

/// Writes `value` through the out-pointer `out`.
///
/// # Safety
/// `out` must be NULL or valid for a write of a `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T, what: &str) -> FfiResult<()> {
    let out = out_ptr(out, what)?;
    // SAFETY: non-NULL, and the caller guarantees it is writable.
    unsafe { out.write(value) };
    Ok(())
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary.
fn prefix_within(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Writes `message` as a NUL-terminated C string with `snprintf` semantics
/// (see `gpc_error`).
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes when `len > 0`; `out_n`
/// must be NULL or valid for a write.
pub(crate) unsafe fn write_c_string(
    message: &str,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> FfiResult<()> {
    let out_n = out_ptr(out_n, "out_n")?;
    if len > 0 {
        if buf.is_null() {
            return Err(FfiError::new(
                gpc_result::NullParameter,
                format!("`buf` is NULL but its length is {len}"),
            ));
        }
        let fits = prefix_within(message, len - 1);
        // SAFETY: `buf` is valid for `len` bytes and `fits.len() + 1 <= len`;
        // `fits` is our own memory, so the regions do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(fits.as_ptr(), buf.cast::<u8>(), fits.len());
            buf.add(fits.len()).write(0);
        }
    }
    // SAFETY: checked non-NULL above; the caller guarantees it is writable.
    unsafe { out_n.write(message.len()) };
    Ok(())
}

/// Writes `value` and a NUL into `buf` only if it fits whole; otherwise
/// [`gpc_result::BufferTooSmall`]. `*out_n` gets `value.len()` either way.
///
/// # Safety
/// As [`write_c_string`].
pub(crate) unsafe fn write_whole_c_string(
    value: &str,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> FfiResult<()> {
    let out_n = out_ptr(out_n, "out_n")?;
    // SAFETY: checked non-NULL; the caller guarantees it is writable.
    unsafe { out_n.write(value.len()) };
    if value.len() >= len {
        return Err(FfiError::new(
            gpc_result::BufferTooSmall,
            format!(
                "the value is {} bytes and needs a buffer of {}, but `len` is {len}",
                value.len(),
                value.len() + 1
            ),
        ));
    }
    // SAFETY: the caller's contract, forwarded; it fits, so nothing is cut.
    unsafe { write_c_string(value, buf, len, out_n) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_caught_and_described() {
        let r = guard("gpc_test", || panic!("boom {}", 42));
        assert_eq!(r, gpc_result::Panic);
        let mut buf = [0 as c_char; 64];
        let mut n = 0;
        // SAFETY: a local buffer and out-length.
        let r = unsafe { crate::error::gpc_last_error(buf.as_mut_ptr(), buf.len(), &mut n) };
        assert_eq!(r, gpc_result::Ok);
        // SAFETY: gpc_last_error NUL-terminated it.
        let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(s.to_str(), Ok("gpc_test: panicked: boom 42"));
        assert_eq!(n, s.to_bytes().len());
        assert_eq!(guard_value("gpc_test", 7u16, || panic!("again")), 7);
    }

    #[test]
    fn text_checks_null_and_utf8() {
        // SAFETY: (NULL, 0) is always allowed.
        assert_eq!(unsafe { text(std::ptr::null(), 0, "s") }, Ok(""));
        // SAFETY: NULL with a length is refused before any read.
        let e = unsafe { text(std::ptr::null(), 3, "s") }.expect_err("NULL");
        assert_eq!(e.code, gpc_result::NullParameter);
        let bad = [0x66u8, 0xff, 0x6f];
        // SAFETY: a local array of that length.
        let e = unsafe { text(bad.as_ptr().cast(), bad.len(), "s") }.expect_err("not UTF-8");
        assert_eq!(e.code, gpc_result::InvalidUtf8);
    }

    #[test]
    fn c_strings_are_truncated_on_a_character_boundary() {
        let mut buf = [0x7f as c_char; 4];
        let mut n = 0;
        // SAFETY: a local buffer of that length.
        unsafe { write_c_string("aé€", buf.as_mut_ptr(), buf.len(), &mut n) }.expect("write");
        assert_eq!(n, "aé€".len());
        // "a" (1) + "é" (2) fit in 3 bytes; "€" would not.
        let written: Vec<u8> = buf.iter().map(|b| *b as u8).collect();
        assert_eq!(written, [b'a', 0xc3, 0xa9, 0]);
        // Length only.
        // SAFETY: len 0 writes nothing.
        unsafe { write_c_string("abc", std::ptr::null_mut(), 0, &mut n) }.expect("len");
        assert_eq!(n, 3);
        // SAFETY: a local buffer.
        let e = unsafe { write_whole_c_string("abcd", buf.as_mut_ptr(), 4, &mut n) }
            .expect_err("too small");
        assert_eq!((e.code, n), (gpc_result::BufferTooSmall, 4));
    }
}
