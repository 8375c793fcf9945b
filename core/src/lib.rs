//! gpconnect-core: the GP Connect FHIR model, its JSON and XML codecs, the
//! errors every crate maps into, and the request checks.
//!
//! - [`stu3`]: Foundations + Appointment Management 1.2.9 resources;
//!   [`dstu2`]: Access Record HTML 0.7.4 resources.
//! - [`fhir`]: decode and encode any of them as JSON or XML
//!   ([`fhir::decode`], [`fhir::encode`]). Decoding is bounded: bodies up to
//!   [`fhir::Limits::REQUEST`] (8 MiB), strings up to 1 MiB, JSON nesting 128,
//!   XML nesting [`fhir::xml::MAX_DEPTH`] and [`fhir::xml::MAX_NODES`]
//!   elements; a DOCTYPE, processing instruction or unknown entity is
//!   refused, so entity expansion cannot happen.
//! - [`Error`]: a Spine code, HTTP status and diagnostics; every crate maps
//!   into it, and it becomes the OperationOutcome of either FHIR version.
//! - [`checks`]: SSP headers and routing, content negotiation, the JWT, NHS
//!   numbers and FHIR dates in UK local time, as pure functions.
//! - [`accessrecord`]: Access Record HTML `$gpc.getcarerecord` over the
//!   storage port, rendering with `gpconnect-render`.
//! - [`engine`]: the transport-neutral front door. [`engine::Engine::handle`]
//!   takes one HTTP request as plain data and gives the whole answer
//!   (status, headers, OperationOutcome or resource, audit record).

#[macro_use]
pub mod fhir;
pub mod accessrecord;
pub mod appointments;
pub mod checks;
pub mod clock;
pub mod dstu2;
pub mod engine;
pub mod error;
pub mod foundations;
pub mod import;
pub mod operation;
pub mod population;
pub mod store;
pub mod stu3;
pub mod testkit;

pub use error::{Error, IssueType, Result, SpecEdition, SpineCode};
