//! Two threads give exactly what one gives: the same validation, plan and reports.
//!
//! The file is the benchmarks' generated users file (100,000 rows: enough for the two-thread
//! superior lookups and many read-ahead batches), with about 2% wrong rows and a superior forest,
//! plus a few rows that make cycles, self-references and blank lines.

#[path = "../benches/support/data.rs"]
mod data;

use user_import::{ImportConfig, Importer, MemoryDirectory, Plan, Report, User};

fn report_with(threads: usize, bytes: &[u8], directory: &MemoryDirectory) -> (String, String, Vec<u8>, String) {
    let mut config: ImportConfig = data::bench_config();
    config.options.threads = threads;
    let importer = Importer::new(config);
    let validation = importer.validate_bytes(bytes.to_vec(), directory).expect("validation");
    let validation_json = Report::from_validation(&validation).to_json();
    let plan = Plan::new(validation, importer.config(), directory).expect("plan");
    let report = Report::from_plan(&plan);
    let mut csv = Vec::new();
    report.write_csv(&mut csv).expect("csv report");
    // The report of the plan consumed, its blocked users' issues written once the records are gone.
    let owned = Report::from_plan_owned(plan).to_json();
    (validation_json, report.to_json(), csv, owned)
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
    // Many users blocked by a superior, whose issues the plan writes when the report asks.
    assert!(one.1.matches("\"superior_not_imported\"").count() > 4096, "the forest blocks many users");
    assert_eq!(one.0, two.0, "validation reports differ");
    assert_eq!(one.1, two.1, "plan reports differ");
    assert_eq!(one.2, two.2, "CSV reports differ");
    assert_eq!(one.3, one.1, "a plan's report differs from its report once consumed");
    assert_eq!(two.3, one.1, "plan reports differ once the plan is consumed");
}

/// The validate stage reads UTF-8 delimited text a block at a time, and other text row by row:
/// the same file in UTF-8 (from memory and from a stream) and in UTF-16 gives the same
/// validation, on one thread and on two.
#[test]
fn blocks_and_rows_give_the_same_validation() {
    let mut bytes = data::users_csv(20_000);
    bytes.extend_from_slice(
        b"\"Lovelace, Ada\",\"A \"\"Q\"\"\",quoted.a,quoted.a@example.com,,\"Admin;Editor\",,UTC,active,1,2020-01-01\r\n\
          Multi,\"line\nname\",multi.b,multi.b@example.com,,Admin,,UTC,active,2,2020-01-01\r\n\r\n\
          Short,S,short.c\n\
          Long,L,long.d,long.d@example.com,,Admin,,UTC,active,3,2020-01-01,extra,,\n\
          ,,,,,,,,,,\n\
          Lone,CR,lone.e,lone.e@example.com,,Admin,,UTC,active,4,2020-01-01\rLast,Row,last.f,last.f@example.com,,Viewer,,UTC,active,5,2020-01-01",
    );
    // The same text in UTF-16 (little-endian, with its BOM) is read row by row.
    let text = String::from_utf8(bytes.clone()).expect("UTF-8");
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let directory = MemoryDirectory::new();
    let json = |v: &user_import::Validation| Report::from_validation(v).to_json();
    for threads in [1, 2] {
        let mut config: ImportConfig = data::bench_config();
        config.options.threads = threads;
        let importer = Importer::new(config);
        let by_blocks = importer.validate_bytes(bytes.clone(), &directory).expect("validation");
        let by_rows = importer.validate_bytes(utf16.clone(), &directory).expect("validation");
        let mut stream = importer.source_builder().from_reader(std::io::Cursor::new(bytes.clone())).expect("stream");
        let mapping = importer.map(&stream).expect("mapping");
        let streamed = importer.validate(&mut stream, mapping, &directory).expect("validation");

        assert!(json(&by_rows).contains("ragged_row"), "the file has what it should");
        assert_eq!(by_blocks.rows(), 20_006);
        assert!(json(&by_blocks) == json(&by_rows), "{threads} thread(s): blocks and rows differ");
        assert!(json(&streamed) == json(&by_rows), "{threads} thread(s): a stream and rows differ");
        assert_eq!(by_blocks.records(), by_rows.records());
    }
}
