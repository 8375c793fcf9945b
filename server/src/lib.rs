//! gpconnect-server: the reference GP Connect provider over HTTP.
//!
//! A thin adapter: every request is handed, as plain data, to
//! [`gpconnect_core::engine::Engine::handle`], which does all GP Connect
//! handling (routing by practice, SSP headers, JWT, negotiation, the
//! interactions, OperationOutcomes). What lives here is what belongs to
//! HTTP and to running a process:
//!
//! - [`app`]: the axum router — request bodies read up to the limit (a
//!   larger body is answered 413 by the engine, without reading the rest),
//!   gzip request and response bodies, the blocking engine call off the
//!   async runtime, and the audit line of every call;
//! - [`audit`]: the audit trail, one JSON line per call (R84);
//! - [`demo`]: a demo practice relative to the day it runs;
//! - [`serve`]: opening the sled store, importing practices, listening,
//!   and shutting down gracefully (in-flight requests finish, the store is
//!   flushed and closed cleanly).

pub mod app;
pub mod audit;
pub mod demo;
pub mod serve;

pub use serve::{ServeOptions, ServerError};
