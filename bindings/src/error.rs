//! Results and error messages: [`gpc_result`], [`gpc_error`] (what a code
//! means) and [`gpc_last_error`] (what went wrong in this thread's latest
//! failed call).

use std::cell::RefCell;
use std::ffi::c_char;

use crate::ffi::{FfiError, guard, write_c_string};

/// The result of every `gpc_*` function that can fail.
///
/// A GP Connect error (404, 409, 422, ...) is not a `gpc_result`: it is an
/// answer, carried by the `gpc_response` as its status and
/// OperationOutcome, and the call returns `GPC_RESULT_OK`. A `gpc_result`
/// other than OK means the call itself failed: the caller passed something
/// unusable, a handle is not live, or the engine could not run.
///
/// Values are stable: new ones are only ever added at the end.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum gpc_result {
    /// Success.
    Ok = 0,
    /// A pointer argument that must not be NULL was NULL (a NULL pointer
    /// with a non-zero length, or a NULL handle or out-pointer).
    NullParameter = 1,
    /// A text argument was not valid UTF-8.
    InvalidUtf8 = 2,
    /// A handle is not live: already freed or closed, or never returned by
    /// this library (detected on a best-effort basis; see the README).
    InvalidHandle = 3,
    /// An argument has a value the function cannot use (a malformed
    /// timestamp, an unknown interaction id, an invalid configuration, a
    /// host storage table with a missing callback, ...).
    InvalidArgument = 4,
    /// The caller's buffer is too small; the out-length says how large it
    /// must be.
    BufferTooSmall = 5,
    /// An index is past the end (e.g. a header index >= the header count).
    OutOfRange = 6,
    /// The storage could not be opened or failed (I/O, a host storage
    /// callback reporting failure, a corrupt record).
    Storage = 7,
    /// The library panicked: a bug. The call had no effect that can be
    /// relied on; the handles stay usable.
    Panic = 8,
}

impl gpc_result {
    /// What the code means, in one sentence.
    pub fn description(self) -> &'static str {
        match self {
            gpc_result::Ok => "success",
            gpc_result::NullParameter => "a required pointer argument was NULL",
            gpc_result::InvalidUtf8 => "a text argument was not valid UTF-8",
            gpc_result::InvalidHandle => {
                "a handle was not live (already freed or closed, or not from this library)"
            }
            gpc_result::InvalidArgument => "an argument had a value the function cannot use",
            gpc_result::BufferTooSmall => "the buffer was too small",
            gpc_result::OutOfRange => "an index was out of range",
            gpc_result::Storage => "the storage could not be opened or failed",
            gpc_result::Panic => "the library panicked (a bug); the call had no reliable effect",
        }
    }

    /// The code with this numeric value, if any.
    pub fn from_u32(value: u32) -> Option<gpc_result> {
        [
            gpc_result::Ok,
            gpc_result::NullParameter,
            gpc_result::InvalidUtf8,
            gpc_result::InvalidHandle,
            gpc_result::InvalidArgument,
            gpc_result::BufferTooSmall,
            gpc_result::OutOfRange,
            gpc_result::Storage,
            gpc_result::Panic,
        ]
        .into_iter()
        .find(|r| *r as u32 == value)
    }
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records the message of a failed call for [`gpc_last_error`].
pub(crate) fn set_last_error(message: String) {
    // A thread being torn down has no last error to keep.
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = message);
}

fn last_error() -> String {
    LAST_ERROR
        .try_with(|e| e.borrow().clone())
        .unwrap_or_default()
}

/// Writes what `result` means into `buf` as a NUL-terminated string, with
/// `snprintf` semantics: at most `len - 1` bytes and a NUL are written
/// (nothing when `len` is 0; then `buf` may be NULL), truncated at a
/// character boundary, and `*out_n` is set to the length of the whole
/// message without the NUL, so `*out_n >= len` means it was truncated.
///
/// An unknown `result` value is described as such (and the call succeeds).
///
/// # Safety
///
/// `buf` must be valid for writes of `len` bytes (or `len` is 0), and
/// `out_n` must be a valid pointer to a `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_error(
    result: u32,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> gpc_result {
    guard("gpc_error", || {
        let message = match gpc_result::from_u32(result) {
            Some(r) => r.description().to_owned(),
            None => format!("unknown gpc_result value {result}"),
        };
        // SAFETY: the caller's contract, forwarded.
        unsafe { write_c_string(&message, buf, len, out_n) }
    })
}

/// Writes the message of the latest call on this thread that returned a
/// result other than `GPC_RESULT_OK` (the empty string if there was none),
/// with the same `snprintf` semantics as `gpc_error`. The message names the
/// function and what was wrong, e.g. `gpc_engine_open_sled: storage failure:
/// ... (store at /var/lib/gp)`. Successful calls leave it unchanged, as
/// with `errno`.
///
/// # Safety
///
/// As `gpc_error`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn gpc_last_error(
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> gpc_result {
    let message = last_error();
    // Not through `guard`: a failure here must not replace the message
    // being read.
    let outcome = std::panic::catch_unwind(|| {
        // SAFETY: the caller's contract, forwarded.
        unsafe { write_c_string(&message, buf, len, out_n) }
    });
    match outcome {
        Ok(Ok(())) => gpc_result::Ok,
        Ok(Err(FfiError { code, .. })) => code,
        Err(_) => gpc_result::Panic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_value() {
        for value in 0..=8 {
            let r = gpc_result::from_u32(value).expect("a code");
            assert_eq!(r as u32, value);
            assert!(!r.description().is_empty());
        }
        assert_eq!(gpc_result::from_u32(9), None);
        assert_eq!(gpc_result::from_u32(u32::MAX), None);
    }
}
