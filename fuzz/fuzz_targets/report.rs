//! (d) The report writers (JSON, CSV, XLSX) on arbitrary issue values, counts and mappings.
//!
//! Checked: the JSON parses back with every issue; the CSV reads back with one line per issue,
//! each cell as written after neutralisation (no cell starts with `=`, `+`, `-`, `@`, tab or
//! CR); the XLSX report of a fixed source file is written.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use user_import::{neutralize, ImportConfig, Importer, Issue, IssueCode, MemoryDirectory, Report, Severity};
use user_import_fuzz::contain_reader_panics;

const SOURCE: &str = "First Name,Last Name,Login Name,Password,Email\n\
Ada,Lovelace,ada,Analytical#1,ada@example.com\n\
=cmd,+1,-1,@x,\"\tTab\"\n\
Grace,Hopper,grace,,grace@\n";

#[derive(Debug, Arbitrary)]
struct Input {
    counts: [u32; 8],
    issues: Vec<ArbitraryIssue>,
    mapping: Vec<(String, Option<String>)>,
    custom_fields: Vec<String>,
}

#[derive(Debug, Arbitrary)]
struct ArbitraryIssue {
    /// A small row (one of the source's) or any row.
    row: Option<Result<u8, u64>>,
    column: Option<(u16, String)>,
    field: Option<String>,
    /// A built-in code (by index) or a host's own.
    code: Result<u8, String>,
    warning: bool,
    message: String,
    value: Option<String>,
}

impl ArbitraryIssue {
    fn issue(self) -> Issue {
        let code = match self.code {
            Ok(i) => IssueCode::BUILT_IN[usize::from(i) % IssueCode::BUILT_IN.len()].clone(),
            Err(name) => IssueCode::Custom(name),
        };
        let severity = if self.warning { Severity::Warning } else { Severity::Error };
        let mut issue = Issue::new(code, severity, self.message);
        match self.row {
            Some(Ok(small)) => issue = issue.at_row(u64::from(small)),
            Some(Err(any)) => issue = issue.at_row(any),
            None => {}
        }
        if let Some((index, header)) = self.column {
            issue = issue.in_column(usize::from(index), header);
        }
        if let Some(field) = self.field {
            issue = issue.for_field(field);
        }
        if let Some(value) = self.value {
            issue = issue.with_value(value);
        }
        issue
    }
}

struct Fixture {
    dir: PathBuf,
    source: PathBuf,
    importer: Importer,
    report: Report,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("user-import-fuzz-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let source = dir.join("source.csv");
        std::fs::write(&source, SOURCE).expect("the source file");
        let importer = Importer::new(ImportConfig::default());
        let validation = importer.validate_path(&source, &MemoryDirectory::new()).expect("the source validates");
        let report = Report::from_validation(&validation);
        Fixture { dir, source, importer, report }
    })
}

fuzz_target!(|input: Input| {
    contain_reader_panics();
    let fixture = fixture();
    let mut report = fixture.report.clone();
    let c = input.counts.map(u64::from);
    report.summary.rows = c[0];
    report.summary.valid = c[1];
    report.summary.invalid = c[2];
    report.summary.created = c[3];
    report.summary.updated = c[4];
    report.summary.unchanged = c[5];
    report.summary.skipped = c[6];
    report.summary.failed = c[7];
    report.issues = input.issues.into_iter().map(ArbitraryIssue::issue).collect();
    report.mapping = input.mapping;
    report.custom_fields = input.custom_fields;

    let _ = report.to_string();
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("the JSON report parses");
    assert_eq!(json["issues"].as_array().map(Vec::len), Some(report.issues.len()));
    assert_eq!(json["summary"]["failed"].as_u64(), Some(c[7]));

    let mut csv = Vec::new();
    report.write_csv(&mut csv).expect("the CSV report is written to memory");
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(csv.as_slice());
    let mut lines = 0;
    for (record, issue) in reader.records().zip(&report.issues) {
        let record = record.expect("the CSV report reads back");
        let message = record.get(5).expect("a message cell");
        assert_eq!(message, neutralize(&issue.message), "the message as written");
        for cell in record.iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a cell not neutralised: {cell:?}");
        }
        lines += 1;
    }
    assert_eq!(lines, report.issues.len(), "one line per issue");

    let out = fixture.dir.join("report.xlsx");
    report
        .write_xlsx(&fixture.source, &fixture.importer.source_builder(), &out)
        .unwrap_or_else(|err| panic!("the XLSX report is written: {err}"));
});
