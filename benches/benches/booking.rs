//! Booking throughput beside its physical limits, in one run.
//!
//! `booking/*`: single-slot bookings per second on `MemoryStore`,
//! `SledStore` with `Durability::Buffered`, `Durability::Immediate`
//! (`sled_durable`: acknowledged once sled's flush has written it to the
//! device) and `Durability::Synced` (`sled_synced`: and `fdatasync`ed),
//! from 1, 2 and 8 client threads, each
//! booking slots of its own schedule (the cancels that free them between
//! rounds are not timed). Beside them, on the same disk (the system temp
//! directory, `TMPDIR`) and in the same run:
//!
//! - `raw_fsync/N`: N threads each overwriting 1 KiB of its own file and
//!   calling `File::sync_data`: the disk's durable-write rate;
//! - `raw_sled_insert1_flush/N`: raw sled `insert` of one appointment-sized
//!   value, then `flush`: the floor of any durable write on sled;
//! - `raw_sled_insert7_flush/N`: as many keys as one booking writes, then
//!   one `flush`;
//! - `raw_sled_tx6_flush/N`: one sled multi-tree transaction writing six
//!   keys, then `flush`: the floor of a design with a sled transaction per
//!   command, which `SledStore` does not use (see its module docs).
//!
//! - `raw_fsync_after/N`: the fsync loop again after the stores, so the two
//!   passes bracket the store figures on a disk whose speed drifts.
//!
//! At the end a summary prints each rate and its ratio to its limit.
//! Run: `cargo bench -p gpconnect-benches --bench booking`
//! (`GPCONNECT_BENCH_QUICK=1` for a short run).

use std::io::{Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_benches::*;
use gpconnect_storage::{Durability, MemoryStore};

#[global_allocator]
static ALLOCATOR: gpconnect_benches::ServerAllocator = mimalloc::MiMalloc;

const THREADS: [usize; 3] = [1, 2, MAX_THREADS];

/// Run `work(thread, n)` on `threads` threads sharing `iters` items and
/// return the wall time until all are done.
fn on_threads(threads: usize, iters: u64, work: impl Fn(usize, usize) + Sync) -> Duration {
    let per_thread = split(iters, threads);
    let work = &work;
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (t, &n) in per_thread.iter().enumerate() {
            scope.spawn(move || work(t, n));
        }
    });
    started.elapsed()
}

/// Raw sled: `insert` `keys` appointment-sized values, then `flush`.
fn raw_sled(
    db: &sled::Db,
    value: &[u8],
    next: &AtomicU64,
    keys: usize,
    threads: usize,
    iters: u64,
) -> Duration {
    on_threads(threads, iters, |_, n| {
        for _ in 0..n {
            for _ in 0..keys {
                let k = next.fetch_add(1, Ordering::Relaxed);
                db.insert(k.to_be_bytes(), value).expect("insert");
            }
            db.flush().expect("flush");
        }
    })
}

/// One multi-tree transaction writing a key in each of `trees`, then
/// `flush` (sled pins its log for every transaction, so this floor sits
/// below plain inserts).
fn raw_sled_tx(
    trees: &[sled::Tree],
    value: &[u8],
    next: &AtomicU64,
    threads: usize,
    iters: u64,
) -> Duration {
    use sled::Transactional;
    on_threads(threads, iters, |_, n| {
        for _ in 0..n {
            let k = next.fetch_add(1, Ordering::Relaxed).to_be_bytes();
            trees
                .transaction(
                    |tx| -> sled::transaction::ConflictableTransactionResult<(), ()> {
                        for t in tx {
                            t.insert(&k[..], value)?;
                        }
                        Ok(())
                    },
                )
                .expect("transaction");
            trees[0].flush().expect("flush");
        }
    })
}

/// Each thread overwrites 1 KiB of its own file, then `sync_data`.
fn raw_fsync(files: &[std::fs::File], threads: usize, iters: u64) -> Duration {
    let block = [0x5au8; 1024];
    on_threads(threads, iters, |t, n| {
        let mut f = &files[t];
        for _ in 0..n {
            f.seek(SeekFrom::Start(0)).expect("seek");
            f.write_all(&block).expect("write");
            f.sync_data().expect("sync_data");
        }
    })
}

fn booking(c: &mut Criterion) {
    let rates = Rates::default();
    let mut g = c.benchmark_group("booking");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    let (warm, measure) = times(Duration::from_secs(1), Duration::from_secs(5));
    g.warm_up_time(warm);
    g.measurement_time(measure);

    let raw_dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<std::fs::File> = (0..MAX_THREADS)
        .map(|t| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(true)
                .read(true)
                .write(true)
                .open(raw_dir.path().join(format!("fsync{t}")))
                .expect("open fsync file")
        })
        .collect();
    for threads in THREADS {
        let id = format!("raw_fsync/{threads}");
        g.bench_function(BenchmarkId::new("raw_fsync", threads), |b| {
            b.iter_custom(|iters| rates.record(&id, iters, raw_fsync(&files, threads, iters)))
        });
    }

    let value = appointment_sized_value();
    let db = sled::Config::new()
        .path(raw_dir.path().join("sled"))
        .mode(sled::Mode::HighThroughput)
        .cache_capacity(256 * 1024 * 1024)
        .open()
        .expect("raw sled");
    let next = AtomicU64::new(0);
    for threads in THREADS {
        for keys in [1, BOOKING_KEYS] {
            let name = format!("raw_sled_insert{keys}_flush");
            let id = format!("{name}/{threads}");
            g.bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter_custom(|iters| {
                    rates.record(
                        &id,
                        iters,
                        raw_sled(&db, &value, &next, keys, threads, iters),
                    )
                })
            });
        }
    }
    let trees: Vec<sled::Tree> = (0..6)
        .map(|i| db.open_tree(format!("t{i}")).expect("tree"))
        .collect();
    for threads in THREADS {
        let id = format!("raw_sled_tx6_flush/{threads}");
        g.bench_function(BenchmarkId::new("raw_sled_tx6_flush", threads), |b| {
            b.iter_custom(|iters| {
                rates.record(
                    &id,
                    iters,
                    raw_sled_tx(&trees, &value, &next, threads, iters),
                )
            })
        });
    }
    drop(trees);
    drop(db);

    let memory = BookingBench::new(MemoryStore::new());
    for threads in THREADS {
        let id = format!("memory/{threads}");
        g.bench_function(BenchmarkId::new("memory", threads), |b| {
            b.iter_custom(|iters| rates.record(&id, iters, memory.run(threads, iters)))
        });
    }
    drop(memory);

    for (name, durability) in [
        ("sled_buffered", Durability::Buffered),
        ("sled_durable", Durability::Immediate),
        ("sled_synced", Durability::Synced),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let bench = BookingBench::new(sled_store(&dir, durability));
        for threads in THREADS {
            let id = format!("{name}/{threads}");
            g.bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter_custom(|iters| rates.record(&id, iters, bench.run(threads, iters)))
            });
        }
    }
    // The disk again, last: a shared machine's disk drifts during a run, and
    // the two passes bracket the store figures.
    for threads in THREADS {
        let id = format!("raw_fsync_after/{threads}");
        g.bench_function(BenchmarkId::new("raw_fsync_after", threads), |b| {
            b.iter_custom(|iters| rates.record(&id, iters, raw_fsync(&files, threads, iters)))
        });
    }
    drop(files);
    g.finish();

    let mut rows = Vec::new();
    for threads in THREADS {
        let fsync = Some(format!("raw_fsync/{threads}"));
        let sled1 = Some(format!("raw_sled_insert1_flush/{threads}"));
        let sled7 = Some(format!("raw_sled_insert{BOOKING_KEYS}_flush/{threads}"));
        rows.push((format!("raw_fsync/{threads}"), None));
        rows.push((format!("raw_sled_insert1_flush/{threads}"), fsync.clone()));
        rows.push((
            format!("raw_sled_insert{BOOKING_KEYS}_flush/{threads}"),
            fsync.clone(),
        ));
        rows.push((format!("raw_sled_tx6_flush/{threads}"), sled1.clone()));
        rows.push((format!("memory/{threads}"), None));
        rows.push((format!("sled_buffered/{threads}"), sled7.clone()));
        // The target: durable booking >= 0.9x raw insert + flush.
        rows.push((format!("sled_durable/{threads}"), sled1));
        rows.push((format!("sled_durable/{threads}"), sled7));
        rows.push((format!("sled_durable/{threads}"), fsync.clone()));
        // Synced pays a real fdatasync per group: its floor is the disk's.
        rows.push((format!("sled_synced/{threads}"), fsync));
        rows.push((format!("raw_fsync_after/{threads}"), None));
    }
    // Group commit: N durable clients against one.
    for name in ["sled_durable", "sled_synced"] {
        for threads in &THREADS[1..] {
            rows.push((format!("{name}/{threads}"), Some(format!("{name}/1"))));
        }
    }
    rates.print("booking", &rows);
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = booking
}
criterion_main!(benches);
