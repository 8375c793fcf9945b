//! Request checks: pure functions over request data (headers, JWT, NHS
//! number, FHIR dates), so rules are easy to test and time is an input.

pub mod datetime;
pub mod format;
pub mod headers;
pub mod jwt;
pub mod nhs_number;
