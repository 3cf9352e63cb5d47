//! The same users, whatever tool wrote the file, give the same table.

mod common;

use common::{fixture, parse, read_table};
use user_import::SourceBuilder;

#[test]
fn csv_xlsx_xls_and_ods_give_identical_tables() {
    let reference = parse("users.csv");
    for name in [
        "users.xlsx",
        "users.xls",
        "users.ods",
        "users_bom.csv",
        "users_utf16le.txt",
        "users_utf16be.csv",
        "users_cp1252.csv",
        "users_semicolon.csv",
        "users_tab.tsv",
        "users_pipe.csv",
        "hidden_first_sheet.xlsx",
        "trailing_formatted.xlsx",
        "csv_named.xlsx",
    ] {
        let parsed = parse(name);
        assert_eq!(parsed.headers, reference.headers, "{name}");
        assert_eq!(parsed.rows, reference.rows, "{name}");
        assert_eq!(parsed.issues, reference.issues, "{name}");
    }
}

#[test]
fn reading_twice_gives_the_same_table() {
    let builder = SourceBuilder::new();
    let once = read_table(builder.from_path(fixture("users.xlsx")).unwrap());
    let twice = read_table(builder.from_path(fixture("users.xlsx")).unwrap());
    assert_eq!(once, twice);
}
