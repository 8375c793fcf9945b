//! gpconnect-core: the GP Connect FHIR model, its JSON and XML codecs, the
//! errors every crate maps into, and the request checks.

#[macro_use]
pub mod fhir;
pub mod checks;
pub mod dstu2;
pub mod error;
pub mod stu3;

pub use error::{Error, IssueType, Result, SpecEdition, SpineCode};
