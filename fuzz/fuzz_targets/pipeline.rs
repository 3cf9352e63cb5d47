//! (b) The whole pipeline on arbitrary CSV text with a fixed configuration
//! (`examples/configs/hq.toml`): parse, map, validate, hierarchy, plan, report, apply into a
//! memory store, and the same file again.
//!
//! Checked: every row ends in exactly one outcome and the counts add up; issues are sorted and
//! name real columns; the reports are written; the second import of the same file writes
//! nothing.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use user_import::{apply, ApplyOptions, ErrorPolicy, ImportConfig, Importer, MemoryStore, Report};
use user_import_fuzz::{check_error, contain_reader_panics};

fn importer() -> &'static Importer {
    static IMPORTER: OnceLock<Importer> = OnceLock::new();
    IMPORTER.get_or_init(|| {
        let config = ImportConfig::from_toml_str(include_str!("../../examples/configs/hq.toml"))
            .expect("the shipped hq.toml loads");
        Importer::new(config)
    })
}

fn options() -> ApplyOptions {
    let mut options = ApplyOptions::default();
    options.policy = ErrorPolicy::ContinueAsIs;
    options.passwords.memory_kib = 8;
    options.passwords.iterations = 1;
    options
}

fuzz_target!(|data: &[u8]| {
    contain_reader_panics();
    if data.len() > 64 << 10 {
        return;
    }
    let importer = importer();
    let mut store = MemoryStore::new();
    let plan = match importer.plan_bytes(data.to_vec(), &store) {
        Ok(plan) => plan,
        Err(err) => return check_error(&err),
    };
    let summary = plan.summary();
    assert_eq!(summary.valid + summary.invalid, summary.rows);
    assert_eq!(summary.create + summary.update + summary.unchanged + summary.skip + summary.fail, summary.rows);
    let rows: Vec<u64> = plan.rows().map(|r| r.row).collect();
    assert_eq!(rows.len() as u64, summary.rows);
    assert!(rows.windows(2).all(|w| w[0] < w[1]), "rows in file order, each once: {rows:?}");
    let headers = plan.mapping().columns().len();
    let mut last = (false, 0u64);
    for issue in plan.issues() {
        let at = (issue.row.is_some(), issue.row.unwrap_or(0));
        assert!(at >= last, "issues sorted: file-level first, then by row ({issue:?})");
        last = at;
        if let Some(row) = issue.row {
            assert!(rows.binary_search(&row).is_ok(), "an issue on a row that is not a data row: {issue:?}");
        }
        if let Some(index) = issue.column_index {
            assert!(issue.column.as_deref().is_some_and(|c| !c.is_empty()), "{issue:?}");
            assert!(index < headers.max(16_384), "{issue:?}");
        }
    }

    let report = Report::from_plan(&plan);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("the JSON report parses");
    assert_eq!(json["issues"].as_array().map(Vec::len), Some(plan.issues().len()));
    let mut csv = Vec::new();
    report.write_csv(&mut csv).expect("the CSV report is written");
    let _ = report.to_string();

    let outcome = match apply(&plan, &mut store, &options()) {
        Ok(outcome) => outcome,
        Err(err) => return check_error(&err),
    };
    let s = outcome.summary;
    assert_eq!(s.created + s.updated + s.unchanged + s.skipped + s.failed, s.rows);
    assert_eq!(outcome.rows.len() as u64, s.rows);
    assert_eq!(store.len() as u64, s.created, "a new store holds exactly the users created");
    assert!(!store.in_transaction());
    if outcome.refused.is_some() {
        assert!(store.is_empty(), "a refused import writes nothing");
        return;
    }

    // The same file again (the first was written): nothing to create or update, nothing written.
    let users: Vec<_> = store.users().cloned().collect();
    let log = store.log().len();
    let again = importer.plan_bytes(data.to_vec(), &store).expect("the file was read once already");
    let second = again.summary();
    assert_eq!((second.create, second.update), (0, 0), "a second import of the same file changes nothing");
    let outcome = apply(&again, &mut store, &options()).expect("a plan that writes nothing applies");
    assert_eq!((outcome.summary.created, outcome.summary.updated), (0, 0));
    assert_eq!(store.users().cloned().collect::<Vec<_>>(), users);
    assert_eq!(store.log().len(), log, "not even a log entry");
});
