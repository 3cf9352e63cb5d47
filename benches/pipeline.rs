//! Parse + map + validate against raw CSV reading of the same bytes, in one group.
//!
//! The 1,000,000-row users CSV of `benches/support/data.rs` (~2% deliberately wrong rows), with
//! a config that checks what a real import checks: required names and login, email, roles from a
//! catalog, time zone, status, password policy, a custom date field, duplicates. One thread.
//! Run with `cargo bench --bench pipeline`; the ratio of the two lines is the figure that counts.

#[path = "support/data.rs"]
mod data;

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use user_import::{Importer, MemoryDirectory};

fn validate_1m(c: &mut Criterion) {
    let path = data::cached("users_1m.csv", || data::users_csv(1_000_000));
    let bytes: Arc<[u8]> = std::fs::read(path).expect("bench data").into();
    let importer = Importer::new(data::bench_config());
    let directory = MemoryDirectory::new();
    let mut group = c.benchmark_group("validate_csv_1m_rows");
    group.sample_size(10).measurement_time(Duration::from_secs(30)).throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("raw csv ByteRecord", |b| b.iter(|| black_box(data::raw_csv_fields(&bytes))));
    group.bench_function("parse + map + validate (1 thread)", |b| {
        b.iter(|| {
            let validation = importer.validate_bytes(Arc::clone(&bytes), &directory).expect("validation");
            black_box((validation.valid(), validation.issues().len()))
        })
    });
    group.finish();
}

criterion_group!(benches, validate_1m);
criterion_main!(benches);
