//! Invariants of the parse stage over generated input.

mod common;

use proptest::prelude::*;
use user_import::{Format, IssueCode, SourceBuilder};

/// Opens `bytes` and reads every row; returns the number of rows read, or the file's issue code.
/// Whatever the bytes, this must return (not panic, not hang).
fn parse_all(bytes: Vec<u8>, format: Option<Format>) -> Result<usize, IssueCode> {
    let mut builder = SourceBuilder::new();
    if let Some(format) = format {
        builder.format(format);
    }
    let mut table = builder.from_bytes(bytes).map_err(|e| e.code())?;
    let width = table.headers().len();
    let mut rows = 0;
    for row in table.rows() {
        let row = row.map_err(|e| e.code())?;
        assert!(row.len() >= width, "rows are at least as wide as the header");
        for issue in row.issues() {
            assert_eq!(issue.row, Some(row.number()), "row issues carry their row");
            if let Some(i) = issue.column_index {
                assert!(issue.column.is_some(), "a cell issue names its column ({i})");
            }
        }
        rows += 1;
    }
    Ok(rows)
}

fn fixtures() -> Vec<Vec<u8>> {
    ["users.csv", "users.xlsx", "users.xls", "users.ods", "users_utf16le.txt", "formulas.xlsx", "title_rows.xlsx"]
        .iter()
        .map(|name| std::fs::read(common::fixture(name)).expect("fixture"))
        .collect()
}

/// Byte strings that start like each kind of file the parser knows, then anything.
fn prefixed_bytes() -> impl Strategy<Value = Vec<u8>> {
    let prefixes: Vec<&'static [u8]> = vec![
        b"",
        b"PK\x03\x04",
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
        b"\xEF\xBB\xBF",
        b"\xFF\xFE",
        b"\xFE\xFF",
        b"sep=;\n",
        b"First Name,Last Name,Login\n",
        b"\"",
    ];
    (proptest::sample::select(prefixes), proptest::collection::vec(any::<u8>(), 0..2048)).prop_map(|(prefix, rest)| {
        let mut bytes = prefix.to_vec();
        bytes.extend(rest);
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_give_a_table_or_a_file_issue(bytes in prefixed_bytes()) {
        if let Err(code) = parse_all(bytes, None) {
            prop_assert!(code.is_file_level(), "{code}");
        }
    }

    #[test]
    fn any_bytes_with_a_forced_format_never_panic(bytes in prefixed_bytes(), which in 0usize..5) {
        let format = [Format::Csv, Format::Xlsx, Format::Xls, Format::Ods, Format::Xlsb][which];
        let _ = parse_all(bytes, Some(format));
    }

    #[test]
    fn damaged_real_files_give_a_table_or_a_file_issue(
        which in 0usize..7,
        edits in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..8),
        cut in proptest::option::of(any::<proptest::sample::Index>()),
    ) {
        let mut bytes = fixtures().swap_remove(which);
        for (at, byte) in edits {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if let Some(cut) = cut {
            let len = cut.index(bytes.len());
            bytes.truncate(len);
        }
        if let Err(code) = parse_all(bytes, None) {
            prop_assert!(code.is_file_level(), "{code}");
        }
    }

    #[test]
    fn any_csv_text_keeps_every_non_blank_record(
        cells in proptest::collection::vec(proptest::collection::vec("[a-z0-9 ,;\"\n]{0,6}", 3), 1..20),
    ) {
        // Written by the csv crate, read back by us: every record with a value comes back.
        let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
        writer.write_record(["First Name", "Last Name", "Login"]).unwrap();
        for row in &cells {
            writer.write_record(row).unwrap();
        }
        let bytes = writer.into_inner().unwrap();
        let mut builder = SourceBuilder::new();
        builder.delimiter(b',').header_row(user_import::HeaderRow::At(1));
        let expected: Vec<&Vec<String>> = cells.iter().filter(|r| r.iter().any(|c| !c.trim().is_empty())).collect();
        match builder.from_bytes(bytes) {
            Ok(mut table) => {
                let rows: Vec<_> = table.rows().map(|r| r.unwrap()).collect();
                prop_assert_eq!(rows.len(), expected.len());
                for (row, want) in rows.iter().zip(expected) {
                    let got: Vec<&str> = row.iter().collect();
                    prop_assert_eq!(got, want.iter().map(String::as_str).collect::<Vec<_>>());
                }
            }
            Err(err) => {
                prop_assert_eq!(err.code(), IssueCode::Empty);
                prop_assert!(expected.is_empty());
            }
        }
    }
}
