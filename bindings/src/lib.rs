//! gpconnect-ffi: the C ABI of gpconnect, so a GP system written in C, C++,
//! Delphi or C# (P/Invoke) links the engine in-process.
//!
//! The header is `include/gpconnect.h` (generated from this crate by
//! cbindgen, committed, checked in sync by `tests/header.rs`); the
//! conventions (ownership, NULL, threading, errors, ABI stability) and a C
//! quick start are in `README.md`. In short:
//!
//! - opaque handles (`gpc_engine`, `gpc_engine_options`, `gpc_response`)
//!   made by the library and freed by the caller with their own function;
//!   the library checks every handle against its registry of live handles
//!   before use ([`handle`]);
//! - every function that can fail returns a [`gpc_result`]; the message of
//!   the latest failure on the thread is [`gpc_last_error`]'s;
//! - every exported function catches panics (→ `GPC_RESULT_PANIC`) and
//!   checks every pointer for NULL;
//! - arguments are borrowed (pointer + length) for the call only.
//!
//! [`gpc_result`]: error::gpc_result
//! [`gpc_last_error`]: error::gpc_last_error

// The workspace denies unsafe code; a C ABI cannot exist without it
// (reading caller memory, writing through out-pointers, calling host
// callbacks). Every unsafe block here is small and says why it is sound in
// a `// SAFETY:` comment; caller memory is only touched through the
// helpers of `ffi`.
#![allow(unsafe_code)]
// C type names follow the C convention of the header (`gpc_engine`).
#![allow(non_camel_case_types)]

// In this order in the header.
pub mod conformance;
pub mod engine;
pub mod error;
mod ffi;
pub mod handle;
pub mod host;
pub mod render;
pub mod response;
pub mod token;
pub mod typed;
