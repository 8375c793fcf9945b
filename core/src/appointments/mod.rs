//! Appointment Management 1.2.9 (A1–A6): slot search, book, read, amend,
//! cancel and retrieve, as operations over the storage port.

pub mod amend;
pub mod availability;
pub mod book;
pub mod cancel;
mod change;
#[cfg(test)]
pub mod fixtures;
pub mod read;
pub mod response;
pub mod retrieve;
pub mod rules;
pub mod search;
