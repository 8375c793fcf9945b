//! The FHIR machinery shared by both versions: the element codec, primitive
//! types, shared data types, narrative XHTML, and the JSON/XML entry points.

#[cfg(test)]
pub mod arbitrary;
pub mod codec;
pub mod datatypes;
pub mod json;
#[macro_use]
pub mod macros;
pub mod primitive;
pub mod xhtml;
pub mod xml;

use crate::error::Error;

pub use codec::{Element, FhirResource};
pub use json::{from_json, from_xml, to_json, to_xml};

/// Wire format of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// FHIR JSON.
    Json,
    /// FHIR XML.
    Xml,
}

/// Decode `bytes` in `format`.
pub fn decode<T: FhirResource>(
    bytes: &[u8],
    format: Format,
    limits: Limits,
) -> Result<T, CodecError> {
    match format {
        Format::Json => from_json(bytes, limits),
        Format::Xml => from_xml(bytes, limits),
    }
}

/// Encode `v` in `format`.
pub fn encode<T: FhirResource>(v: &T, format: Format) -> Vec<u8> {
    match format {
        Format::Json => to_json(v),
        Format::Xml => to_xml(v).into_bytes(),
    }
}

/// Bounds on what a decode will read, so hostile input cannot use unbounded
/// memory. Nesting is bounded separately (serde_json's 128 levels; XML
/// [`xml::MAX_DEPTH`]); every string is at most [`codec::MAX_STRING_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest body accepted, in bytes.
    pub max_bytes: usize,
}

impl Limits {
    /// Request bodies (book, amend, register, getcarerecord): 8 MiB.
    pub const REQUEST: Limits = Limits {
        max_bytes: 8 * 1024 * 1024,
    };
    /// Bulk loads (practice import): 256 MiB.
    pub const IMPORT: Limits = Limits {
        max_bytes: 256 * 1024 * 1024,
    };

    fn check(self, len: usize) -> Result<(), CodecError> {
        if len > self.max_bytes {
            Err(CodecError::TooLarge {
                len,
                max: self.max_bytes,
            })
        } else {
            Ok(())
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::REQUEST
    }
}

/// Why a body could not be decoded. Callers that own a parameter's error
/// code (e.g. `timePeriod` → INVALID_PARAMETER) can inspect the path; the
/// default mapping into [`Error`] is below.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// Not well-formed JSON or XML: 400 BAD_REQUEST.
    #[error("{0}")]
    Malformed(String),
    /// Well-formed but not a valid resource of the model: 422 INVALID_RESOURCE.
    #[error("{path}: {message}")]
    Invalid {
        /// Element path, e.g. `Appointment.participant[0].foo`.
        path: String,
        /// What is wrong there.
        message: String,
    },
    /// Larger than [`Limits::max_bytes`]: 413 with BAD_REQUEST.
    #[error("body of {len} bytes exceeds the {max} byte limit")]
    TooLarge {
        /// Body size.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Self {
        match &e {
            CodecError::Malformed(_) => Error::bad_request(e.to_string()),
            CodecError::Invalid { .. } => Error::invalid_resource(e.to_string()),
            CodecError::TooLarge { .. } => Error::bad_request(e.to_string()).with_status(413),
        }
    }
}

#[cfg(test)]
mod tests;
