//! Parse-stage throughput against the raw readers it is built on, in the same group.
//!
//! * CSV: 1,000,000 generated users (~125 MB). Baseline: `csv::Reader::read_byte_record` over the
//!   same bytes (no UTF-8 check, no row numbers). Ours: `SourceBuilder::from_bytes`, every row
//!   read as text with its exact row number.
//! * XLSX: 100,000 generated users. Baseline: calamine `worksheet_range` (the whole sheet in
//!   memory). Ours: the streaming parse stage reading every row.
//!
//! The ratio of the two lines of a group is the figure that counts: these machines are small and
//! noisy. Run with `cargo bench --bench parse`.

#[path = "support/data.rs"]
mod data;

use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use calamine::Reader;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use user_import::{Row, SourceBuilder};

fn csv_rows(c: &mut Criterion) {
    let path = data::cached("users_1m.csv", || data::users_csv(1_000_000));
    let bytes: Arc<[u8]> = std::fs::read(path).expect("bench data").into();
    let mut group = c.benchmark_group("parse_csv_1m_rows");
    group.sample_size(10).measurement_time(Duration::from_secs(20)).throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("raw csv ByteRecord", |b| b.iter(|| black_box(data::raw_csv_fields(&bytes))));
    group.bench_function("user-import parse stage", |b| b.iter(|| black_box(parse_all(&bytes))));
    group.finish();
}

/// The parse stage over the whole input, reusing one row; returns the number of cells read.
fn parse_all(bytes: &Arc<[u8]>) -> usize {
    let mut table = SourceBuilder::new().from_bytes(Arc::clone(bytes)).expect("table");
    let mut row = Row::default();
    let mut fields = 0usize;
    while table.read_row(&mut row).expect("row") {
        fields += row.len();
    }
    fields
}

fn xlsx_rows(c: &mut Criterion) {
    let path = data::cached("users_100k.xlsx", || data::users_xlsx(100_000));
    let bytes: Arc<[u8]> = std::fs::read(path).expect("bench data").into();
    let mut group = c.benchmark_group("parse_xlsx_100k_rows");
    group.sample_size(10).measurement_time(Duration::from_secs(20)).throughput(Throughput::Elements(100_000));
    group.bench_function("raw calamine worksheet_range", |b| {
        b.iter(|| {
            let mut workbook = calamine::Xlsx::new(Cursor::new(Arc::clone(&bytes))).expect("xlsx");
            let range = workbook.worksheet_range("Users").expect("range");
            black_box(range.get_size())
        })
    });
    group.bench_function("user-import parse stage", |b| b.iter(|| black_box(parse_all(&bytes))));
    group.finish();
}

criterion_group!(benches, csv_rows, xlsx_rows);
criterion_main!(benches);
