//! Booking throughput on PostgreSQL beside sled, in the same run.
//!
//! The workload is `gpconnect-benches`' booking bench (its
//! `BookingBench` driver): each client thread books single slots of its
//! own schedule (1,024 per timed round), every booking counting against one
//! slot-count limit key shared by all clients (as every booking of one
//! consumer organisation on one day does); between timed rounds (untimed)
//! the bookings are cancelled so the slots are free again. Bookings are
//! durable when acknowledged in every row: PostgreSQL with `fsync` and
//! `synchronous_commit` on (as `.ci/run` starts it), like
//! `Durability::Synced`; `Durability::Immediate` survives `kill -9` but
//! not power loss (see its docs).
//!
//! - `sled_immediate/{1,8}`, `sled_synced/{1,8}`: `SledStore`, group
//!   commit.
//! - `postgres/{1,8}`: `PgStore` (a temporary schema on the server at
//!   `GPCONNECT_TEST_POSTGRES_URL`; skipped when it is unset).
//! - `postgres_own_limit/8`: the same with one limit key per client, so
//!   the clients share no row: what the shared counter costs on PostgreSQL,
//!   where its row lock is held until the commit's WAL flush.
//!
//! Run (with a server, e.g. the one `.ci/run` starts):
//!
//! ```text
//! GPCONNECT_TEST_POSTGRES_URL=postgres://gpconnect@127.0.0.1:54329/gpconnect_test \
//!     cargo bench -p gpconnect-postgres --bench book
//! ```

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_benches::{BookingBench, MAX_THREADS, criterion, sled_store, times};
use gpconnect_postgres::{PgOptions, PgStore};
use gpconnect_storage::Durability;

fn book(c: &mut Criterion) {
    let mut g = c.benchmark_group("book");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    let (warm, measure) = times(Duration::from_secs(1), Duration::from_secs(6));
    g.warm_up_time(warm);
    g.measurement_time(measure);

    for (name, durability) in [
        ("sled_immediate", Durability::Immediate),
        ("sled_synced", Durability::Synced),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let sled = BookingBench::new(sled_store(&dir, durability));
        for threads in [1, MAX_THREADS] {
            g.bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter_custom(|iters| sled.run(threads, iters))
            });
        }
    }

    match std::env::var("GPCONNECT_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => {
            let open = || {
                PgStore::open_temporary(
                    &url,
                    PgOptions {
                        pool_size: MAX_THREADS as u32 + 2,
                        ..PgOptions::default()
                    },
                )
                .expect("open a temporary PostgreSQL store")
            };
            let pg = BookingBench::new(open());
            for threads in [1, MAX_THREADS] {
                g.bench_function(BenchmarkId::new("postgres", threads), |b| {
                    b.iter_custom(|iters| pg.run(threads, iters))
                });
            }
            drop(pg);
            let pg = BookingBench::new(open()).with_own_limit_keys();
            g.bench_function(BenchmarkId::new("postgres_own_limit", MAX_THREADS), |b| {
                b.iter_custom(|iters| pg.run(MAX_THREADS, iters))
            });
        }
        _ => eprintln!("GPCONNECT_TEST_POSTGRES_URL is not set: no PostgreSQL rows"),
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = book
}
criterion_main!(benches);
