//! gpconnect-core: the GP Connect FHIR model, its JSON and XML codecs, the
//! errors every crate maps into, and the request checks.

pub mod checks;
pub mod error;

pub use error::{Error, IssueType, Result, SpineCode, SpecEdition};
