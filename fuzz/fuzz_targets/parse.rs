//! (a) The parse stage on arbitrary bytes, with every format hint.
//!
//! The first byte chooses the options: bits 0-2 the format hint (none, CSV, XLSX, XLSB, XLS,
//! ODS), bit 3 a reader instead of bytes, bits 4-5 the header row (auto, 1, 3, 1000), bit 6 tight
//! limits. The rest is the file. Whatever it holds, opening it gives a table or a file-level
//! error, every row is at least as wide as the header, and every issue names its row and column.
#![no_main]

use libfuzzer_sys::fuzz_target;
use user_import::{Format, HeaderRow, Limits, SourceBuilder};
use user_import_fuzz::{check_error, contain_reader_panics, split_options};

/// Rows read at most per input (the property does not change after that).
const MAX_ROWS: usize = 20_000;

fuzz_target!(|data: &[u8]| {
    contain_reader_panics();
    let (options, file) = split_options(data);
    let mut builder = SourceBuilder::new();
    match options & 0b111 {
        1 => {
            builder.format(Format::Csv);
        }
        2 => {
            builder.format(Format::Xlsx);
        }
        3 => {
            builder.format(Format::Xlsb);
        }
        4 => {
            builder.format(Format::Xls);
        }
        5 => {
            builder.format(Format::Ods);
        }
        _ => {}
    }
    match (options >> 4) & 0b11 {
        1 => {
            builder.header_row(HeaderRow::At(1));
        }
        2 => {
            builder.header_row(HeaderRow::At(3));
        }
        3 => {
            builder.header_row(HeaderRow::At(1000));
        }
        _ => {}
    }
    if options & 0b100_0000 != 0 {
        let mut limits = Limits::default();
        limits.max_rows = 50;
        limits.max_columns = 20;
        limits.max_cell_chars = 40;
        limits.max_file_bytes = 64 << 10;
        limits.max_uncompressed_bytes = 1 << 20;
        builder.limits(limits);
    }
    let file = file.to_vec();
    let opened =
        if options & 0b1000 != 0 { builder.from_reader(std::io::Cursor::new(file)) } else { builder.from_bytes(file) };
    let mut table = match opened {
        Ok(table) => table,
        Err(err) => return check_error(&err),
    };
    let width = table.headers().len();
    let _ = format!("{table:?} {:?}", table.info());
    for issue in table.issues() {
        assert!(!issue.message.is_empty(), "{issue:?}");
    }
    for (read, row) in table.rows().enumerate() {
        let row = match row {
            Ok(row) => row,
            Err(err) => return check_error(&err),
        };
        assert!(row.len() >= width, "row {} has {} cells, the header {width}", row.number(), row.len());
        for issue in row.issues() {
            assert_eq!(issue.row, Some(row.number()), "{issue:?}");
            if issue.column_index.is_some() {
                assert!(issue.column.as_deref().is_some_and(|c| !c.is_empty()), "{issue:?}");
            }
        }
        if read >= MAX_ROWS {
            break;
        }
    }
});
