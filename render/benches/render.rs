//! Render throughput on a 5,000-item record (`sample::large_record`), in
//! MB/s of HTML output: the writer alone (`render_unguarded`), the guard
//! alone (ammonia + XHTML re-serialisation of that output), and both
//! (`render`). Summary and Medications views.
//!
//! `cargo bench -p gpconnect-render --bench render -- --quick`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_render::{
    RenderOptions, RenderRequest, Section, guard, render, render_unguarded, sample,
};
use jiff::civil::date;

fn bench(c: &mut Criterion) {
    let today = date(2025, 6, 10);
    let record = sample::large_record(today, 5_000);
    let options = RenderOptions::default();
    for section in [Section::Summary, Section::Medications] {
        let request = RenderRequest {
            section,
            period: None,
            today,
            transfer_since: None,
            options: &options,
        };
        let html = render_unguarded(&record, &request);
        let mut group = c.benchmark_group(format!("{}-5000", section.code()));
        group.throughput(Throughput::Bytes(html.len() as u64));
        group.bench_function("writer", |b| {
            b.iter(|| render_unguarded(black_box(&record), black_box(&request)))
        });
        group.bench_function("guard", |b| b.iter(|| guard::guard(black_box(&html))));
        group.bench_function("render", |b| {
            b.iter(|| render(black_box(&record), black_box(&request)))
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
