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

/// Found by the blocks property test in CI: a record whose fields are not UTF-8 but whose bytes
/// joined are (`\xC3` and `\xA9` on either side of commas make 'é') in a file read as UTF-8 (as
/// one is whose first 64 KB are). Its cells were taken as text with ends inside a character: they
/// came out wrong, and fitting such a row to the header could panic (the property test's case).
/// The row is read as Windows-1252 and flagged, by the row source and by the validate stage alike.
#[test]
fn a_character_split_by_commas_is_a_stray_row_not_a_panic() {
    let bytes = regression("character_split_by_commas.csv");
    let utf8 = || {
        let mut builder = SourceBuilder::new();
        builder.encoding(user_import::TextEncoding::Utf8);
        builder.from_bytes(bytes.clone()).unwrap()
    };
    let parsed = common::read_table(utf8());
    assert_eq!(parsed.rows.len(), 2);
    assert_eq!(parsed.rows[1].0, 5);
    assert_eq!(parsed.rows[1].1[..4], ["Ã©", "", "", "Ã"], "the whole row as Windows-1252");
    assert!(parsed.issues.iter().any(|i| i.code == user_import::IssueCode::Encoding), "{:?}", parsed.issues);

    let importer = Importer::new(ImportConfig::default());
    let mut table = utf8();
    let mapping = importer.map(&table).unwrap();
    let validation = importer.validate(&mut table, mapping, &MemoryDirectory::new()).unwrap();
    assert_eq!(validation.rows(), 2);
    let flagged = validation.issues().iter().any(|i| i.row == Some(5) && i.code == user_import::IssueCode::Encoding);
    assert!(flagged, "{:?}", validation.issues());
}
