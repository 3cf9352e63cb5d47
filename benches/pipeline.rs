//! The whole pipeline against raw reading of the same bytes, each in the same group.
//!
//! Input: the 1,000,000-row users CSV and the 100,000-row users XLSX of `benches/support/data.rs`
//! (~2% deliberately wrong rows, a superior forest), validated with a config that checks what a
//! real import checks: required names and login, email, roles from a catalog, time zone, status,
//! password policy, a custom date field, duplicates, superiors.
//!
//! * `validate_csv_1m_rows`: parse + map + validate (the records kept, as a plan needs them), and
//!   file → validation report as JSON (what `user-import validate` does: the records counted,
//!   not kept), one thread and two, against raw `csv::ByteRecord` reading.
//! * `end_to_end_csv_1m_rows`: parse → map → validate → hierarchy → plan → JSON report, one
//!   thread and two, against raw `csv::ByteRecord` reading.
//! * `end_to_end_xlsx_100k_rows`: the same pipeline on the workbook, against calamine's
//!   `worksheet_range` of the same bytes.
//! * `stages_csv_1m_rows`: where the one-thread end-to-end time goes — each stage on its own (its
//!   input made by the stages before it, outside the measurement, and its output dropped outside
//!   it too), against raw `csv::ByteRecord` reading in the same group.
//!
//! Run with `cargo bench --bench pipeline`; the ratios of the lines to their group's baseline are
//! the figures that count (`benches/README.md` keeps them).

#[path = "support/data.rs"]
mod data;

use std::hint::black_box;
use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use calamine::Reader;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use user_import::{Importer, MemoryDirectory, Plan, Report};

/// An importer of the benchmark config, on `threads` threads.
fn importer(threads: usize) -> Importer {
    let mut config = data::bench_config();
    config.options.threads = threads;
    Importer::new(config)
}

/// File bytes → parse → map → validate → hierarchy → plan → JSON report (written to a sink). The
/// plan is not needed after its report, so the report takes its issues without a copy
/// ([`Report::from_plan_owned`], as the CLI's dry run does).
fn end_to_end(importer: &Importer, bytes: &Arc<[u8]>, directory: &MemoryDirectory) -> usize {
    let validation = importer.validate_bytes(Arc::clone(bytes), directory).expect("validation");
    let plan = Plan::new(validation, importer.config(), directory).expect("plan");
    let report = Report::from_plan_owned(plan);
    report.write_json(std::io::sink()).expect("report");
    report.summary.rows as usize
}

/// File bytes → parse → map → validate → JSON report (written to a sink), no store: what the
/// CLI's `validate` does ([`Importer::check_bytes`]).
fn validation_report(importer: &Importer, bytes: &Arc<[u8]>, directory: &MemoryDirectory) -> usize {
    let report = importer.check_bytes(Arc::clone(bytes), directory).expect("validation");
    report.write_json(std::io::sink()).expect("report");
    report.summary.rows as usize
}

fn validate_csv(c: &mut Criterion) {
    let path = data::cached("users_1m.csv", || data::users_csv(1_000_000));
    let bytes: Arc<[u8]> = std::fs::read(path).expect("bench data").into();
    let directory = MemoryDirectory::new();
    let mut group = c.benchmark_group("validate_csv_1m_rows");
    group.sample_size(10).measurement_time(Duration::from_secs(30)).throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("raw csv ByteRecord", |b| b.iter(|| black_box(data::raw_csv_fields(&bytes))));
    for threads in [1, 2] {
        let importer = importer(threads);
        group.bench_function(format!("parse + map + validate ({threads} thread)"), |b| {
            b.iter(|| {
                let validation = importer.validate_bytes(Arc::clone(&bytes), &directory).expect("validation");
                black_box((validation.valid(), validation.issues().len()))
            })
        });
        group.bench_function(format!("file to validation report ({threads} thread)"), |b| {
            b.iter(|| black_box(validation_report(&importer, &bytes, &directory)))
        });
    }
    group.finish();
}

fn end_to_end_csv(c: &mut Criterion) {
    let path = data::cached("users_1m.csv", || data::users_csv(1_000_000));
    let bytes: Arc<[u8]> = std::fs::read(path).expect("bench data").into();
    let directory = MemoryDirectory::new();
    let mut group = c.benchmark_group("end_to_end_csv_1m_rows");
    group.sample_size(10).measurement_time(Duration::from_secs(40)).throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("raw csv ByteRecord", |b| b.iter(|| black_box(data::raw_csv_fields(&bytes))));
    for threads in [1, 2] {
        let importer = importer(threads);
        group.bench_function(format!("file to plan and JSON report ({threads} thread)"), |b| {
            b.iter(|| black_box(end_to_end(&importer, &bytes, &directory)))
        });
    }
    group.finish();
}

fn end_to_end_xlsx(c: &mut Criterion) {
    let path = data::cached("users_100k.xlsx", || data::users_xlsx(100_000));
    let bytes: Arc<[u8]> = std::fs::read(path).expect("bench data").into();
    let directory = MemoryDirectory::new();
    let mut group = c.benchmark_group("end_to_end_xlsx_100k_rows");
    group.sample_size(10).measurement_time(Duration::from_secs(20)).throughput(Throughput::Elements(100_000));
    group.bench_function("raw calamine worksheet_range", |b| {
        b.iter(|| {
            let mut workbook = calamine::Xlsx::new(Cursor::new(Arc::clone(&bytes))).expect("xlsx");
            let range = workbook.worksheet_range("Users").expect("range");
            black_box(range.get_size())
        })
    });
    for threads in [1, 2] {
        let importer = importer(threads);
        group.bench_function(format!("file to plan and JSON report ({threads} thread)"), |b| {
            b.iter(|| black_box(end_to_end(&importer, &bytes, &directory)))
        });
    }
    group.finish();
}

/// The stages of [`end_to_end`] one by one, on one thread: validate (parse + map + validate), the
/// plan (hierarchy included), the report's issues taken from the plan, the JSON written.
fn stages_csv(c: &mut Criterion) {
    let path = data::cached("users_1m.csv", || data::users_csv(1_000_000));
    let bytes: Arc<[u8]> = std::fs::read(path).expect("bench data").into();
    let directory = MemoryDirectory::new();
    let importer = importer(1);
    let validate = || importer.validate_bytes(Arc::clone(&bytes), &directory).expect("validation");
    let plan_of = |validation| Plan::new(validation, importer.config(), &directory).expect("plan");
    let plan = || plan_of(validate());
    let mut group = c.benchmark_group("stages_csv_1m_rows");
    group.sample_size(10).measurement_time(Duration::from_secs(30)).throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("raw csv ByteRecord", |b| b.iter(|| black_box(data::raw_csv_fields(&bytes))));
    group.bench_function("validate", |b| b.iter_batched(|| (), |()| validate(), BatchSize::PerIteration));
    group.bench_function("plan", |b| b.iter_batched(validate, plan_of, BatchSize::PerIteration));
    group.bench_function("report", |b| b.iter_batched(plan, Report::from_plan_owned, BatchSize::PerIteration));
    let report = Report::from_plan_owned(plan());
    group.bench_function("JSON", |b| b.iter(|| report.write_json(std::io::sink()).expect("report")));
    group.finish();
}

criterion_group!(benches, validate_csv, end_to_end_csv, end_to_end_xlsx, stages_csv);
criterion_main!(benches);
