//! Codec throughput: the 100-entry searchset Bundle of
//! [`gpconnect_benches::bundle`] parsed and written as typed STU3 JSON and
//! XML, beside `serde_json::Value` parsing and writing of the same JSON
//! bytes in the same run: the limit a typed parser should reach (issue 2
//! target: typed parse at least 1.0x `Value` parse).
//!
//! `codec/json/{typed_parse,value_parse,typed_write,value_write}` and
//! `codec/xml/{typed_parse,typed_write}`; criterion's throughput is bytes
//! of the document. The summary prints MB/s of every bench and the typed ÷
//! `Value` ratios.
//!
//! Run: `cargo bench -p gpconnect-benches --bench codec`.

use std::hint::black_box;
use std::time::Instant;

use criterion::measurement::WallTime;
use criterion::{Bencher, Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_benches::bundle::{ENTRIES, searchset};
use gpconnect_benches::{Rates, criterion};
use gpconnect_core::fhir::{Limits, from_json, from_xml, to_json, to_xml};
use gpconnect_core::stu3::Bundle;
use serde_json::Value;

#[global_allocator]
static ALLOCATOR: gpconnect_benches::ServerAllocator = mimalloc::MiMalloc;

/// Time `iters` calls of `f` and record them under `id`.
fn timed<O>(b: &mut Bencher<'_, WallTime>, rates: &Rates, id: &str, mut f: impl FnMut() -> O) {
    b.iter_custom(|iters| {
        let started = Instant::now();
        for _ in 0..iters {
            black_box(f());
        }
        rates.record(id, iters, started.elapsed())
    });
}

fn codec(c: &mut Criterion) {
    let doc = searchset();
    let rates = Rates::default();

    let mut g = c.benchmark_group("codec/json");
    g.throughput(Throughput::Bytes(doc.json.len() as u64));
    g.bench_function("typed_parse", |b| {
        timed(b, &rates, "json/typed_parse", || {
            let bundle: Bundle = from_json(black_box(&doc.json), Limits::REQUEST).expect("parse");
            assert_eq!(bundle.entry.len(), ENTRIES);
            bundle
        })
    });
    g.bench_function("value_parse", |b| {
        timed(b, &rates, "json/value_parse", || {
            serde_json::from_slice::<Value>(black_box(&doc.json)).expect("parse")
        })
    });
    g.bench_function("typed_write", |b| {
        timed(b, &rates, "json/typed_write", || {
            to_json(black_box(&doc.typed))
        })
    });
    g.bench_function("value_write", |b| {
        timed(b, &rates, "json/value_write", || {
            serde_json::to_vec(black_box(&doc.value)).expect("write")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("codec/xml");
    g.throughput(Throughput::Bytes(doc.xml.len() as u64));
    g.bench_function("typed_parse", |b| {
        timed(b, &rates, "xml/typed_parse", || {
            let bundle: Bundle = from_xml(black_box(&doc.xml), Limits::REQUEST).expect("parse");
            assert_eq!(bundle.entry.len(), ENTRIES);
            bundle
        })
    });
    g.bench_function("typed_write", |b| {
        timed(b, &rates, "xml/typed_write", || {
            to_xml(black_box(&doc.typed))
        })
    });
    g.finish();

    eprintln!(
        "\n== codec: {ENTRIES}-entry searchset Bundle, JSON {} bytes, XML {} bytes \
         (MB/s over every timed call, warm-up included) ==",
        doc.json.len(),
        doc.xml.len()
    );
    let rows: [(&str, usize, Option<&str>); 6] = [
        ("json/typed_parse", doc.json.len(), Some("json/value_parse")),
        ("json/value_parse", doc.json.len(), None),
        ("json/typed_write", doc.json.len(), Some("json/value_write")),
        ("json/value_write", doc.json.len(), None),
        ("xml/typed_parse", doc.xml.len(), None),
        ("xml/typed_write", doc.xml.len(), None),
    ];
    for (id, bytes, limit) in rows {
        let Some(r) = rates.rate(id) else { continue };
        let mb = r * bytes as f64 / 1e6;
        // Same bytes on both sides, so the ratio of rates is the ratio of
        // throughputs.
        match limit.and_then(|l| rates.rate(l).map(|lr| (l, lr))) {
            Some((l, lr)) => eprintln!("{id:<20} {mb:>9.1} MB/s  {:>6.2}x {l}", r / lr),
            None => eprintln!("{id:<20} {mb:>9.1} MB/s"),
        }
    }
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = codec
}
criterion_main!(benches);
