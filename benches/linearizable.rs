//! The linearizability checker's speed on histories of a simulated
//! linearizable register: 5 processes with overlapping operations on 100
//! keys, 2% of them timing out (`info`), at 1,000, 10,000 and 100,000
//! operations; and the same histories with one stale read, which makes them
//! not linearizable (the search must then exhaust the orders of the key
//! with the stale read up to that read). Criterion reports operations
//! checked per second, so a flat throughput means linear growth.
//!
//! Run: `cargo bench --bench linearizable`.

#[path = "../tests/common/register_history.rs"]
mod register_history;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use faultline::linearizable::{check_register, Budget, Verdict};
use register_history::Shape;

const LENGTHS: [usize; 3] = [1_000, 10_000, 100_000];

fn shape(operations: usize) -> Shape {
    Shape {
        operations,
        keys: 100,
        processes: 5,
        info_per_mille: 20,
    }
}

fn bench_check(c: &mut Criterion) {
    let mut group = c.benchmark_group("linearizable_register_100_keys_5_processes");
    group.sample_size(10);
    for operations in LENGTHS {
        let history = register_history::linearizable(shape(operations), 1);
        let broken = register_history::with_stale_read(&history)
            .expect("the generated history has a read to make stale");
        let variants = [
            ("linearizable", history, Verdict::Linearizable),
            ("stale_read", broken, Verdict::NotLinearizable),
        ];
        group.throughput(Throughput::Elements(operations as u64));
        for (name, history, expected) in variants {
            let report = check_register(&history, &Budget::default()).unwrap();
            assert_eq!(report.verdict, expected, "{report}");
            group.bench_with_input(BenchmarkId::new(name, operations), &history, |b, h| {
                b.iter(|| check_register(h, &Budget::default()).unwrap().verdict)
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
