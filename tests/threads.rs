//! Two threads give exactly what one gives: the same validation, plan and reports.
//!
//! The file is the benchmarks' generated users file (100,000 rows: enough for the two-thread
//! superior lookups and many read-ahead batches), with about 2% wrong rows and a superior forest,
//! plus a few rows that make cycles, self-references and blank lines.

#[path = "../benches/support/data.rs"]
mod data;

use user_import::{ImportConfig, Importer, MemoryDirectory, Plan, Report, User};

fn report_with(threads: usize, bytes: &[u8], directory: &MemoryDirectory) -> (String, String, Vec<u8>) {
    let mut config: ImportConfig = data::bench_config();
    config.options.threads = threads;
    let importer = Importer::new(config);
    let validation = importer.validate_bytes(bytes.to_vec(), directory).expect("validation");
    let validation_json = Report::from_validation(&validation).to_json();
    let plan = Plan::new(validation, importer.config(), directory).expect("plan");
    let report = Report::from_plan(&plan);
    let mut csv = Vec::new();
    report.write_csv(&mut csv).expect("csv report");
    (validation_json, report.to_json(), csv)
}

#[test]
fn two_threads_give_the_same_validation_plan_and_reports_as_one() {
    let mut bytes = data::users_csv(100_000);
    // Cycles, a self-reference and blank lines among the generated rows.
    bytes.extend_from_slice(
        b"Ann,A,cyc.a,cyc.a@example.com,,Admin,cyc.b,UTC,active,1,2020-01-01\n\n\
          Bob,B,cyc.b,cyc.b@example.com,,Admin,CYC.A,UTC,active,2,2020-01-01\n\
          Cid,C,self.c,self.c@example.com,,Admin,Self.C,UTC,active,3,2020-01-01\n\
          Dee,D,under.boss,under.boss@example.com,,Admin,boss.outside,UTC,active,4,2020-01-01\n",
    );
    let mut directory = MemoryDirectory::new();
    directory.insert(User::new("boss.outside", "Boss", "Outside"));
    directory.insert(User::new("user0000042", "Already", "Here"));

    let one = report_with(1, &bytes, &directory);
    let two = report_with(2, &bytes, &directory);
    assert!(one.1.contains("hierarchy_cycle") && one.1.contains("self_reference"), "the file has what it should");
    assert!(one.1.contains("superior_not_found"), "the generated file names missing superiors");
    assert_eq!(one.0, two.0, "validation reports differ");
    assert_eq!(one.1, two.1, "plan reports differ");
    assert_eq!(one.2, two.2, "CSV reports differ");
}
