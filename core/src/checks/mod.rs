//! Request checks: pure functions over request data (headers, JWT, NHS
//! number, FHIR dates), so rules are easy to test and time is an input.
