//! The parse stage over real files written by Excel-like tools (see tests/data/README.md).

mod common;

use std::time::{Duration, Instant};

use common::{assert_rows_eq, canonical_rows, fixture, parse, read_table, HEADER};
use user_import::{Format, HeaderRow, IssueCode, Limits, Severity, SheetSelector, SourceBuilder, TextEncoding};

fn assert_canonical(name: &str) -> common::Parsed {
    let parsed = parse(name);
    assert_eq!(parsed.headers, HEADER, "{name}: header");
    assert_eq!(parsed.info.header_row, 1, "{name}: header row");
    assert_rows_eq(name, &parsed.rows, &canonical_rows());
    assert!(parsed.issues.is_empty(), "{name}: {:?}", parsed.issues);
    parsed
}

#[test]
fn utf8_csv() {
    let parsed = assert_canonical("users.csv");
    assert_eq!(parsed.info.format, Format::Csv);
    assert_eq!(parsed.info.encoding, Some(TextEncoding::Utf8));
    assert_eq!(parsed.info.delimiter, Some(','));
}

#[test]
fn utf8_bom_csv_with_crlf() {
    let parsed = assert_canonical("users_bom.csv");
    assert_eq!(parsed.info.encoding, Some(TextEncoding::Utf8Bom));
}

#[test]
fn excel_unicode_text_is_utf16le_tab_separated() {
    let parsed = assert_canonical("users_utf16le.txt");
    assert_eq!(parsed.info.encoding, Some(TextEncoding::Utf16Le));
    assert_eq!(parsed.info.delimiter, Some('\t'));
}

#[test]
fn utf16be_csv() {
    let parsed = assert_canonical("users_utf16be.csv");
    assert_eq!(parsed.info.encoding, Some(TextEncoding::Utf16Be));
    assert_eq!(parsed.info.delimiter, Some(','));
}

#[test]
fn windows_1252_semicolon_csv_from_european_excel() {
    let parsed = assert_canonical("users_cp1252.csv");
    assert_eq!(parsed.info.encoding, Some(TextEncoding::Windows1252));
    assert_eq!(parsed.info.delimiter, Some(';'));
}

#[test]
fn semicolon_tab_and_pipe_delimiters_are_sniffed() {
    for (name, delimiter) in [("users_semicolon.csv", ';'), ("users_tab.tsv", '\t'), ("users_pipe.csv", '|')] {
        let parsed = assert_canonical(name);
        assert_eq!(parsed.info.delimiter, Some(delimiter), "{name}");
    }
}

#[test]
fn delimiter_and_encoding_can_be_forced() {
    let mut builder = SourceBuilder::new();
    builder.delimiter(b';').encoding(TextEncoding::Windows1252);
    let parsed = read_table(builder.from_path(fixture("users_cp1252.csv")).unwrap());
    assert_rows_eq("forced", &parsed.rows, &canonical_rows());
    // Forcing the wrong delimiter gives one column, not a crash.
    let mut builder = SourceBuilder::new();
    builder.delimiter(b'|').header_row(HeaderRow::At(1));
    let parsed = read_table(builder.from_path(fixture("users.csv")).unwrap());
    assert_eq!(parsed.headers.len(), 1);
}

#[test]
fn quoted_newlines_move_the_next_row_number() {
    let parsed = parse("quoted_newlines.csv");
    let numbers: Vec<u64> = parsed.rows.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [2, 4, 5, 6, 8]);
    assert_eq!(parsed.rows[0].1[1], "Love\nlace");
    assert_eq!(parsed.rows[2].1[1], "\"Zed\" Ng");
    assert_eq!(parsed.rows[3].1[1], "O'Brien\r\nSecond Line");
    assert_eq!(parsed.rows[4].1[0], "Élodie");
    assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
}

#[test]
fn ragged_rows_are_kept_and_flagged() {
    let parsed = parse("ragged.csv");
    assert_eq!(parsed.rows.len(), 3, "no row dropped");
    let short = &parsed.rows[0];
    assert_eq!((short.0, short.1.len()), (2, 4), "short rows are padded, not shifted");
    assert_eq!(short.1[..3], ["Ada", "Lovelace", "ada"]);
    assert_eq!(short.1[3], "");
    let long = &parsed.rows[1];
    assert_eq!(long.1.len(), 6, "extra cells are kept");
    assert_eq!(long.1[4..], ["extra1", "extra2"]);
    let ragged: Vec<_> = parsed.issues.iter().filter(|i| i.code == IssueCode::RaggedRow).collect();
    assert_eq!(ragged.len(), 2);
    assert_eq!((ragged[0].row, ragged[0].severity), (Some(2), Severity::Warning));
    assert_eq!((ragged[1].row, ragged[1].severity), (Some(3), Severity::Error));
    assert!(ragged[1].message.contains("6 cells but the header has 4"), "{}", ragged[1].message);
}

#[test]
fn blank_rows_are_skipped_not_counted() {
    let parsed = parse("blank_lines.csv");
    let numbers: Vec<u64> = parsed.rows.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, [2, 4, 7]);
}

#[test]
fn xlsx_xls_and_ods_read_numbers_and_dates_as_people_see_them() {
    for (name, format) in [("users.xlsx", Format::Xlsx), ("users.xls", Format::Xls), ("users.ods", Format::Ods)] {
        let parsed = assert_canonical(name);
        assert_eq!(parsed.info.format, format);
        assert_eq!(parsed.info.sheet.as_deref(), Some("Users"));
    }
}

#[test]
fn title_rows_above_the_header_are_skipped() {
    let parsed = parse("title_rows.xlsx");
    assert_eq!(parsed.info.header_row, 4);
    assert_eq!(parsed.headers, HEADER);
    let want: Vec<_> = canonical_rows().into_iter().map(|(n, r)| (n + 3, r)).collect();
    assert_rows_eq("title_rows.xlsx", &parsed.rows, &want);
}

#[test]
fn the_header_row_can_be_given() {
    let mut builder = SourceBuilder::new();
    builder.header_row(HeaderRow::At(4));
    let parsed = read_table(builder.from_path(fixture("title_rows.xlsx")).unwrap());
    assert_eq!(parsed.headers, HEADER);
    assert_eq!(parsed.rows.len(), 5);
    builder.header_row(HeaderRow::At(3));
    let err = builder.from_path(fixture("title_rows.xlsx")).unwrap_err();
    assert_eq!(err.code(), IssueCode::Empty);
    assert!(err.to_string().contains("row 3 is blank"), "{err}");
}

#[test]
fn a_hidden_first_sheet_is_passed_over() {
    let parsed = assert_canonical("hidden_first_sheet.xlsx");
    assert_eq!(parsed.info.sheet.as_deref(), Some("Users"));
    let sheets: Vec<(&str, bool)> = parsed.info.sheets.iter().map(|s| (s.name.as_str(), s.visible)).collect();
    assert_eq!(sheets, [("Notes", false), ("Users", true), ("Archive", true)]);
}

#[test]
fn sheets_are_chosen_by_name_or_index() {
    let mut builder = SourceBuilder::new();
    builder.sheet(SheetSelector::Name("archive".into()));
    let parsed = read_table(builder.from_path(fixture("hidden_first_sheet.xlsx")).unwrap());
    assert_eq!(parsed.info.sheet.as_deref(), Some("Archive"));
    assert_eq!(parsed.rows, [(2, vec!["charles".to_string(), "2019-05-01".to_string()])]);

    builder.sheet(SheetSelector::Index(0)).header_row(HeaderRow::At(2));
    let parsed = read_table(builder.from_path(fixture("hidden_first_sheet.xlsx")).unwrap());
    assert_eq!(parsed.info.sheet.as_deref(), Some("Notes"));
    assert_eq!(parsed.headers, ["Login Name"]);

    builder.sheet(SheetSelector::Name("Staff".into())).header_row(HeaderRow::Auto);
    let err = builder.from_path(fixture("hidden_first_sheet.xlsx")).unwrap_err();
    assert_eq!(err.code(), IssueCode::Unreadable);
    assert!(err.to_string().contains("there is no sheet 'Staff'; the workbook has: Notes, Users, Archive"), "{err}");
}

fn numbers_and_dates(name: &str) {
    let parsed = parse(name);
    assert_eq!(
        parsed.headers,
        ["Login Name", "Employee ID", "Ratio", "Joined", "Joined At", "Shift Start", "Active", "Big"]
    );
    let row2 = &parsed.rows[0].1;
    assert_eq!(
        row2,
        &["10045", "10045", "0.5", "2024-01-15", "2024-01-15T13:45:30", "08:30:00", "true", "123456789012"]
    );
    let row3 = &parsed.rows[1].1;
    // A midnight date-time cannot be told from a date by its value: it reads as the date.
    assert_eq!(row3, &["10045", "10046", "0.25", "2023-12-01", "2023-12-01", "17:00:00", "false", "9007199254740991"]);
}

#[test]
fn number_typed_logins_dates_times_and_booleans() {
    numbers_and_dates("numbers_dates.xlsx");
}

#[test]
fn the_1904_date_system_gives_the_same_dates() {
    numbers_and_dates("dates_1904.xlsx");
}

#[test]
fn formulas_read_as_their_cached_values_and_error_cells_are_flagged() {
    let parsed = parse("formulas.xlsx");
    let emails: Vec<&str> = parsed.rows.iter().map(|(_, r)| r[3].as_str()).collect();
    assert_eq!(emails, ["ada@example.com", "grace@example.com", "#N/A", "#DIV/0!", "zoe@example.com"]);
    let errors: Vec<(Option<u64>, Option<&str>, &IssueCode)> =
        parsed.issues.iter().map(|i| (i.row, i.column.as_deref(), &i.code)).collect();
    assert_eq!(
        errors,
        [
            (Some(4), Some("E-mail Address"), &IssueCode::InvalidValue),
            (Some(5), Some("E-mail Address"), &IssueCode::InvalidValue)
        ]
    );
    assert!(parsed.issues[0].message.contains("#N/A"));
    assert_eq!(parsed.issues[0].column_index, Some(3));
}

#[test]
fn ods_formulas_keep_their_results() {
    let parsed = parse("formulas.ods");
    assert_eq!(parsed.rows[0].1[3], "ada@example.com");
    assert_eq!(parsed.rows[1].1[3], "grace@example.com");
    assert_eq!(parsed.rows.len(), 5);
}

#[test]
fn trailing_formatted_rows_and_columns_are_ignored() {
    let parsed = assert_canonical("trailing_formatted.xlsx");
    assert_eq!(parsed.rows.len(), 5);
}

#[test]
fn empty_and_header_only_files_are_empty() {
    for name in ["empty.csv", "empty.xlsx", "header_only.csv", "header_only.xlsx"] {
        let err = SourceBuilder::new().from_path(fixture(name)).unwrap_err();
        assert_eq!(err.code(), IssueCode::Empty, "{name}: {err}");
        assert!(err.to_string().starts_with(&fixture(name).display().to_string()), "{err}");
    }
    let err = SourceBuilder::new().from_path(fixture("header_only.csv")).unwrap_err();
    assert!(err.to_string().contains("has a header (row 1) but no data rows"), "{err}");
}

#[test]
fn a_truncated_xlsx_is_unreadable() {
    let err = SourceBuilder::new().from_path(fixture("truncated.xlsx")).unwrap_err();
    assert_eq!(err.code(), IssueCode::Unreadable, "{err}");
    assert!(err.to_string().contains("damaged or incomplete"), "{err}");
}

#[test]
fn a_corrupt_xls_header_is_unreadable() {
    let err = SourceBuilder::new().from_path(fixture("xls_corrupt_header.xls")).unwrap_err();
    assert_eq!(err.code(), IssueCode::Unreadable, "{err}");
}

#[test]
fn a_png_named_csv_is_the_wrong_format() {
    let err = SourceBuilder::new().from_path(fixture("png_renamed.csv")).unwrap_err();
    assert_eq!(err.code(), IssueCode::WrongFormat);
    assert!(err.to_string().contains("this is a PNG image, not a spreadsheet or CSV file"), "{err}");
    assert_eq!(err.to_issue().code, IssueCode::WrongFormat);
}

#[test]
fn a_csv_named_xlsx_is_read_as_csv_with_a_warning() {
    let parsed = SourceBuilder::new().from_path(fixture("csv_named.xlsx")).unwrap();
    let warnings = parsed.issues().to_vec();
    let parsed = read_table(parsed);
    assert_eq!(parsed.info.format, Format::Csv);
    assert_rows_eq("csv_named.xlsx", &parsed.rows, &canonical_rows());
    assert_eq!(warnings.len(), 1);
    assert_eq!((warnings[0].code.clone(), warnings[0].severity), (IssueCode::WrongFormat, Severity::Warning));
}

#[test]
fn a_zip_bomb_is_refused_before_decompressing() {
    let started = Instant::now();
    let err = SourceBuilder::new().from_path(fixture("zip_bomb.xlsx")).unwrap_err();
    assert_eq!(err.code(), IssueCode::TooLarge, "{err}");
    assert!(err.to_string().contains("expands"), "{err}");
    // A guard against a hang, not a benchmark: the check reads only the zip directory.
    assert!(started.elapsed() < Duration::from_secs(5));
    // The total-size limit applies too.
    let mut limits = Limits::default();
    limits.max_uncompressed_bytes = 100 << 20;
    limits.max_compression_ratio = u64::MAX;
    let err = SourceBuilder::new().limits(limits).from_path(fixture("zip_bomb.xlsx")).unwrap_err();
    assert!(err.to_string().contains("uncompressed size"), "{err}");
}

#[test]
fn limits_on_rows_columns_cells_and_size_are_enforced() {
    let mut limits = Limits::default();
    limits.max_rows = 3;
    let mut table = SourceBuilder::new().limits(limits).from_path(fixture("users.csv")).unwrap();
    let results: Vec<_> = table.rows().collect();
    assert_eq!(results.len(), 4);
    let err = results[3].as_ref().unwrap_err();
    assert_eq!(err.code(), IssueCode::TooLarge);

    let mut limits = Limits::default();
    limits.max_cell_chars = 4;
    let parsed = read_table(SourceBuilder::new().limits(limits).from_path(fixture("users.csv")).unwrap());
    assert_eq!(parsed.rows[0].1[1], "Love");
    let cut = parsed.issues.iter().find(|i| i.code == IssueCode::TooLarge).unwrap();
    assert_eq!((cut.row, cut.column.as_deref()), (Some(2), Some("Last Name")));

    // A header wider than the column limit refuses the file, whatever its format.
    let mut limits = Limits::default();
    limits.max_columns = 5;
    for name in ["users.csv", "users.xlsx", "users.ods", "users.xls"] {
        let err = SourceBuilder::new().limits(limits.clone()).from_path(fixture(name)).unwrap_err();
        assert_eq!(err.code(), IssueCode::TooLarge, "{name}");
        assert!(
            err.to_string().contains("number of columns exceeds the limit of 5 (the header, row 1, has"),
            "{name}: {err}"
        );
    }

    let mut limits = Limits::default();
    limits.max_file_bytes = 100;
    let err = SourceBuilder::new().limits(limits.clone()).from_path(fixture("users.csv")).unwrap_err();
    assert_eq!(err.code(), IssueCode::TooLarge);
    let bytes = std::fs::read(fixture("users.csv")).unwrap();
    let err = SourceBuilder::new().limits(limits).from_reader(std::io::Cursor::new(bytes)).map(read_table);
    match err {
        Err(e) => assert_eq!(e.code(), IssueCode::TooLarge),
        Ok(_) => panic!("a stream over the limit must fail"),
    }
}

#[test]
fn readers_and_bytes_read_like_paths() {
    for name in ["users.csv", "users_utf16le.txt", "users.xlsx", "users.ods", "users.xls"] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        let from_bytes = read_table(SourceBuilder::new().from_bytes(bytes.clone()).unwrap());
        let from_reader = read_table(SourceBuilder::new().from_reader(std::io::Cursor::new(bytes)).unwrap());
        let from_path = parse(name);
        assert_eq!(from_bytes, from_path, "{name}");
        assert_eq!(from_reader, from_path, "{name}");
    }
}

#[test]
fn a_table_dropped_early_does_not_wait_for_the_whole_workbook() {
    let mut table = SourceBuilder::new().from_path(fixture("users.xlsx")).unwrap();
    let first = table.rows().next().unwrap().unwrap();
    assert_eq!(first.number(), 2);
    drop(table);
}

#[test]
fn a_reader_panic_inside_calamine_ends_as_unreadable() {
    // A damaged XLS on which calamine 0.38 fails an assertion while the workbook is opened (on
    // the calling thread, inside the library's catch_unwind): it ends as an error, not a panic.
    let result = SourceBuilder::new().from_path(fixture("regressions/xls_reader_panic.xls")).map(read_table);
    let err = result.expect_err("the damaged file must be refused");
    assert_eq!(err.code(), IssueCode::Unreadable);
    assert!(err.to_string().contains("damaged"), "{err}");
}
