//! Loading a practice from a FHIR Bundle (in progress).
