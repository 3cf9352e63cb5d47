//! Inputs that once crashed, hung or broke an invariant (most found by the fuzz targets in
//! `fuzz/`), replayed from `tests/data/regressions/` with the behaviour they must keep.

mod common;

use user_import::{ImportConfig, Importer, MemoryDirectory, SourceBuilder};

fn regression(name: &str) -> Vec<u8> {
    std::fs::read(common::fixture(&format!("regressions/{name}"))).expect("regression input")
}

fn hq() -> Importer {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/configs/hq.toml");
    Importer::new(ImportConfig::from_path(path).expect("hq.toml"))
}

/// Found by the `pipeline` fuzz target: a UTF-16 file whose third record follows a lone CR (the
/// line end of classic Mac files). csv-core ends the record there but counts only LFs, so two
/// rows were both numbered 3 and the plan had two entries for one row.
#[test]
fn a_lone_carriage_return_starts_a_new_row_number() {
    let bytes = regression("lone_cr_utf16.csv");
    let parsed = common::read_table(SourceBuilder::new().from_bytes(bytes.clone()).unwrap());
    let numbers: Vec<u64> = parsed.rows.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [2, 3, 4]);
    assert_eq!(parsed.rows[2].1[2], "zoe");

    let plan = hq().plan_bytes(bytes, &MemoryDirectory::new()).unwrap();
    let rows: Vec<u64> = plan.rows().map(|r| r.row).collect();
    assert_eq!(rows, [2, 3, 4], "one plan entry per row");

    // A whole file with classic Mac line ends numbers its rows like one with LF line ends.
    let mac = "First Name,Last Name,Login Name\rAda,Lovelace,ada\r\rGrace,Hopper,grace\r";
    let parsed = common::read_table(SourceBuilder::new().from_bytes(mac).unwrap());
    assert_eq!(parsed.rows.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [2, 4]);
}

/// Found by reading calamine's .xls reader: users.xls with its DIMENSIONS record claiming
/// 4,294,967,295 rows. calamine reserved room for that many cells when opening the file; the
/// allocation failed and aborted the whole process (no panic to contain).
#[test]
fn an_xls_claiming_four_billion_rows_is_refused_not_a_process_abort() {
    let err = SourceBuilder::new().from_bytes(regression("xls_dimensions_4g_rows.xls")).unwrap_err();
    assert_eq!(err.code(), user_import::IssueCode::Unreadable);
    assert!(err.to_string().contains("sheet 1 claims 4294967295 rows × 9 columns"), "{err}");
}

/// The same with one cell of users.xls moved to row 65,536, column 65,535: calamine laid the
/// sheet out as a dense grid of 4.3 billion cells (137 GB) and aborted the process.
#[test]
fn an_xls_cell_in_a_far_corner_is_refused_not_a_process_abort() {
    let err = SourceBuilder::new().from_bytes(regression("xls_cell_in_far_corner.xls")).unwrap_err();
    assert_eq!(err.code(), user_import::IssueCode::Unreadable);
    assert!(err.to_string().contains("cells spread over 65536 rows × 65535 columns"), "{err}");
    // The file it came from still reads.
    let table = SourceBuilder::new().from_path(common::fixture("users.xls")).unwrap();
    assert_eq!(common::read_table(table).rows.len(), 5);
}
