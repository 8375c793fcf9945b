//! Appointment Management 1.2.9 (A1–A6): slot search, book, read, amend,
//! cancel and retrieve, as operations over the storage port.

pub mod availability;
pub mod search;
