//! Storage backends of the gpconnect storage port
//! ([`PracticeStore`](gpconnect_core::store::PracticeStore)).
//!
//! - [`MemoryStore`]: the in-memory reference implementation (defined in
//!   core, because it defines the port's semantics), re-exported here.
//! - [`SledStore`]: the embedded, durable backend on sled, with the same
//!   observable semantics as the reference (versions and ids included),
//!   group commit for durable throughput, and crash-safe id and version
//!   counters. See [`sled_store`] for how and why.
//! - [`host`]: an example of an adapter in the shape a GP system's own
//!   database adapter takes (rows in tables, one lock as the transaction),
//!   used as the third backend of the conformance suite.
//! - [`conformance`]: the conformance suite of the port, public so a host
//!   system can run it against its own adapter.
//!
//! # Tests
//!
//! `cargo test -p gpconnect-storage` runs the conformance suite against all
//! three backends (sled in both durability modes), a race test (8 threads,
//! 10^5 booking attempts), a model-based property test and a crash test:
//! the crash test re-runs its own binary as a child that books continuously
//! on a durable [`SledStore`], kills it with SIGKILL at a random moment,
//! reopens the store and checks every acknowledged booking survived and no
//! slot is double-booked. It runs 20 kill cycles by default; for more:
//!
//! ```text
//! GPCONNECT_CRASH_CYCLES=200 cargo test -p gpconnect-storage --test crash -- --nocapture
//! ```
//!
//! `cargo bench -p gpconnect-storage` measures booking throughput (1 and 8
//! clients, both durabilities, beside raw sled insert+flush) and slot
//! search over a 21,000-slot practice.

pub mod conformance;
pub mod host;
pub mod sled_store;

pub use gpconnect_core::store::memory::MemoryStore;
pub use sled_store::{Durability, SledOptions, SledStore};
