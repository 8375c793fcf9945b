//! The storage port's conformance suite (`gpconnect_storage::conformance`,
//! the same checks the memory, sled and host backends pass) against
//! PostgreSQL: every check gets a fresh store in a schema of its own.
#![cfg(gpconnect_pg_tests)]

mod support;

gpconnect_storage::conformance_tests!(support::temporary_store);
