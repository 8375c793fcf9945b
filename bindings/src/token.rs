//! `gpc_token_bearer`: minting the unsigned GP Connect access token a
//! consumer sends, for test programs and demonstrations.

use std::ffi::c_char;

use gpconnect_core::checks::headers::Interaction;
use gpconnect_core::checks::jwt::{JwtProfile, Scope};
use gpconnect_core::engine::token::TokenSpec;
use jiff::Timestamp;

use crate::error::gpc_result;
use crate::ffi::{FfiError, guard, optional_text, text, write_whole_c_string};

/// Writes an `Authorization` header value, `Bearer <token>`, for
/// `interaction_id` (e.g.
/// `urn:nhs:names:services:gpconnect:fhir:rest:search:slot-1`), issued at
/// `issued_at` (seconds since the Unix epoch; it expires 300 s later) by a
/// user of the organisation `requesting_ods`, with the specification's
/// example user and device.
///
/// `requested_record` is what Access Record (DSTU2) tokens must name: the
/// patient's NHS number for getcarerecord, an ODS code for the
/// organisation-scoped DSTU2 metadata; ignored for STU3 interactions (may
/// be NULL).
///
/// The value and a NUL are written to `buf` only if they fit whole;
/// `*out_n` is set to the value's length either way
/// (`GPC_RESULT_BUFFER_TOO_SMALL` when `len <= *out_n`). 4096 bytes always
/// suffice for the example claims.
///
/// GP Connect tokens are unsigned: providers trust them only because the
/// Spine Security Proxy vouches for the consumer. This is for tests and
/// demonstrations; a provider never mints tokens for real consumers.
///
/// # Safety
///
/// Each (pointer, length) pair must be readable for its length; `buf` must
/// be writable for `len` bytes; `out_n` must be a valid pointer to write
/// to.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn gpc_token_bearer(
    interaction_id: *const c_char,
    interaction_id_len: usize,
    requesting_ods: *const c_char,
    requesting_ods_len: usize,
    issued_at: i64,
    requested_record: *const c_char,
    requested_record_len: usize,
    buf: *mut c_char,
    len: usize,
    out_n: *mut usize,
) -> gpc_result {
    guard("gpc_token_bearer", || {
        // SAFETY: the caller's contract, for each pair.
        let (id, ods, record) = unsafe {
            (
                text(interaction_id, interaction_id_len, "interaction_id")?,
                text(requesting_ods, requesting_ods_len, "requesting_ods")?,
                optional_text(requested_record, requested_record_len, "requested_record")?,
            )
        };
        let interaction = Interaction::from_interaction_id(id).ok_or_else(|| {
            FfiError::argument(format!(
                "`interaction_id` {id:?} is not a GP Connect interaction"
            ))
        })?;
        let at = Timestamp::from_second(issued_at).map_err(|e| {
            FfiError::argument(format!("`issued_at` {issued_at} is out of range: {e}"))
        })?;
        let mut spec = TokenSpec::for_interaction(interaction, ods, at);
        if spec.profile == JwtProfile::AccessRecordHtml {
            if let Some(record) = record {
                spec = match spec.scope {
                    Scope::PatientRead => spec.with_requested_patient(record),
                    _ => spec.with_requested_organization(record),
                };
            }
        }
        let bearer = spec
            .bearer()
            .map_err(|e| FfiError::argument(format!("cannot mint this token: {e}")))?;
        // SAFETY: the caller's contract.
        unsafe { write_whole_c_string(&bearer, buf, len, out_n) }
    })
}
