//! What the PostgreSQL tests share: the server they run against
//! (`GPCONNECT_TEST_POSTGRES_URL`, set by `.ci/run`) and fresh stores on it.
#![allow(dead_code)]

use gpconnect_postgres::{PgOptions, PgStore};

/// The URL of the test server.
pub fn url() -> String {
    std::env::var("GPCONNECT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("GPCONNECT_TEST_POSTGRES_URL names the PostgreSQL server to test against")
}

/// A fresh, empty store in a schema of its own, dropped with the store.
pub fn temporary_store() -> PgStore {
    temporary_store_with(PgOptions {
        pool_size: 4,
        ..PgOptions::default()
    })
}

/// [`temporary_store`] with `options` (its schema is replaced).
pub fn temporary_store_with(options: PgOptions) -> PgStore {
    PgStore::open_temporary(&url(), options).expect("a temporary PostgreSQL store")
}
