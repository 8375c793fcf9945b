//! Render throughput on a 5,000-item record (`sample::large_record`), in
//! MB/s of HTML output: the writer alone (`render_unguarded`), the guard
//! alone (ammonia + XHTML re-serialisation of that output), and both
//! (`render`), for the Summary and Medications views.
//!
//! `render/<view>-5000/{writer,guard,render}`; criterion's throughput is
//! bytes of the writer's HTML. The summary prints MB/s and the share of
//! `render` time spent in the guard.
//!
//! Run: `cargo bench -p gpconnect-benches --bench render`.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gpconnect_benches::{Rates, criterion};
use gpconnect_render::{
    RenderOptions, RenderRequest, Section, guard, render, render_unguarded, sample,
};
use jiff::civil::date;

#[global_allocator]
static ALLOCATOR: gpconnect_benches::ServerAllocator = mimalloc::MiMalloc;

const ITEMS: usize = 5_000;

fn bench(c: &mut Criterion) {
    let today = date(2025, 6, 10);
    let record = sample::large_record(today, ITEMS);
    let options = RenderOptions::default();
    let rates = Rates::default();
    let mut sizes = Vec::new();
    for section in [Section::Summary, Section::Medications] {
        let request = RenderRequest {
            section,
            period: None,
            today,
            transfer_since: None,
            options: &options,
        };
        let html = render_unguarded(&record, &request);
        let view = format!("{}-{ITEMS}", section.code());
        sizes.push((view.clone(), html.len()));
        let mut group = c.benchmark_group(format!("render/{view}"));
        group.throughput(Throughput::Bytes(html.len() as u64));
        let id = format!("{view}/writer");
        group.bench_function("writer", |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(render_unguarded(black_box(&record), black_box(&request)));
                }
                rates.record(&id, iters, started.elapsed())
            })
        });
        let id = format!("{view}/guard");
        group.bench_function("guard", |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(guard::guard(black_box(&html)).expect("guard"));
                }
                rates.record(&id, iters, started.elapsed())
            })
        });
        let id = format!("{view}/render");
        group.bench_function("render", |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    black_box(render(black_box(&record), black_box(&request)));
                }
                rates.record(&id, iters, started.elapsed())
            })
        });
        group.finish();
    }

    eprintln!(
        "\n== render: {ITEMS}-item record (MB/s of HTML over every timed call, warm-up included) =="
    );
    for (view, bytes) in &sizes {
        for part in ["writer", "guard", "render"] {
            let id = format!("{view}/{part}");
            let Some(r) = rates.rate(&id) else { continue };
            eprintln!(
                "{id:<28} {:>8.1} MB/s  {:>8.2} ms/view",
                r * *bytes as f64 / 1e6,
                1e3 / r
            );
        }
        let (Some(g), Some(all)) = (
            rates.rate(&format!("{view}/guard")),
            rates.rate(&format!("{view}/render")),
        ) else {
            continue;
        };
        eprintln!("{view:<28} guard is {:.0}% of render time", 100.0 * all / g);
    }
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = bench
}
criterion_main!(benches);
