//! `.xls` workbooks are checked before calamine reads them.
//!
//! calamine parses every sheet of an `.xls` as soon as it opens the file, and sizes each sheet's
//! grid from what the file claims: the DIMENSIONS record is reserved up front, and the cells are
//! then laid out densely from the first to the last position. A 6 KB file claiming four billion
//! rows, or holding one cell in column 65,535 of row 65,535, makes it ask for terabytes — and a
//! failed allocation aborts the whole process: no panic handler, no worker thread contains it.
//!
//! So the workbook stream is read here (with the `cfb` crate) and walked the way calamine walks
//! it: the global records up to their end, then each sheet's records from the offset its
//! BOUNDSHEET record gives, nested substreams (embedded charts) skipped. A sheet whose DIMENSIONS
//! or whose cells span more than an `.xls` can hold (65,536 rows × 256 columns) is refused as
//! damaged. calamine then reads a new compound file holding only the checked stream, so it never
//! sees anything but what was checked.

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use crate::error::{Error, Result};
use crate::source::{Format, Seekable, SharedBytes};

/// Rows of a BIFF8 worksheet.
const XLS_ROWS: u64 = 65_536;
/// Columns of a BIFF8 worksheet.
const XLS_COLUMNS: u64 = 256;
/// The largest grid a genuine `.xls` sheet needs.
const MAX_GRID: u64 = XLS_ROWS * XLS_COLUMNS;

// BIFF record types (MS-XLS 2.3).
const BOF: u16 = 0x0809;
const EOF: u16 = 0x000A;
const FILEPASS: u16 = 0x002F;
const BOUNDSHEET: u16 = 0x0085;
const DIMENSIONS: u16 = 0x0200;
const MULRK: u16 = 0x00BD;
/// The records calamine turns into cells, each starting with its row and column (u16 each):
/// Number, Label, RString, BoolErr, Rk, LabelSst, Formula.
const CELLS: [u16; 7] = [0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006];

fn damaged(reason: impl std::fmt::Display) -> Error {
    Error::corrupt(Format::Xls, reason)
}

/// Reads the workbook stream of an `.xls`, checks it, and returns a compound file holding only
/// that stream, for calamine.
pub(crate) fn checked_workbook(mut reader: Seekable) -> Result<Seekable> {
    let file_len = reader.seek(SeekFrom::End(0))?;
    reader.seek(SeekFrom::Start(0))?;
    let mut compound = cfb::CompoundFile::open(&mut reader)
        .map_err(|e| damaged(format!("its compound-file structure is broken: {e}")))?;
    let name = ["/Workbook", "/Book"]
        .into_iter()
        .find(|name| compound.is_stream(name))
        .ok_or_else(|| damaged("it has no Workbook stream"))?;
    let mut stream = Vec::new();
    compound
        .open_stream(name)
        .and_then(|s| s.take(file_len.saturating_add(1)).read_to_end(&mut stream))
        .map_err(|e| damaged(format!("its Workbook stream cannot be read: {e}")))?;
    if stream.len() as u64 > file_len {
        return Err(damaged("its Workbook stream is longer than the file itself"));
    }
    drop(compound);
    check_workbook(&stream)?;

    let mut rebuilt = cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))
        .and_then(|mut out| {
            out.create_stream(name)?.write_all(&stream)?;
            out.flush()?;
            Ok(out.into_inner().into_inner())
        })
        .map_err(Error::from)?;
    rebuilt.shrink_to_fit();
    Ok(Seekable::Memory(Cursor::new(SharedBytes(Box::new(rebuilt)))))
}

/// The BIFF records of a stream, framed as calamine frames them (type, length, data); stops at a
/// record cut short (where calamine fails).
struct Records<'a>(&'a [u8]);

impl<'a> Iterator for Records<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let typ = u16_at(self.0, 0)?;
        let len = usize::from(u16_at(self.0, 2)?);
        let data = self.0.get(4..4 + len)?;
        self.0 = &self.0[4 + len..];
        Some((typ, data))
    }
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([*bytes.get(at)?, *bytes.get(at + 1)?, *bytes.get(at + 2)?, *bytes.get(at + 3)?]))
}

/// Checks every sheet the global records name.
fn check_workbook(stream: &[u8]) -> Result<()> {
    let mut sheets = Vec::new();
    for (typ, data) in Records(stream) {
        match typ {
            // Encrypted: the sheets are not readable, and calamine says the workbook is protected.
            FILEPASS if u16_at(data, 0).is_some_and(|kind| kind != 0) => return Ok(()),
            BOUNDSHEET => sheets.extend(u32_at(data, 0)),
            EOF => break,
            _ => {}
        }
    }
    for (n, offset) in sheets.into_iter().enumerate() {
        if let Some(sheet) = usize::try_from(offset).ok().and_then(|at| stream.get(at..)) {
            check_sheet(sheet).map_err(|claim| {
                damaged(format!(
                    "sheet {} claims {claim}, more than the 65,536 rows × 256 columns an .xls file can hold",
                    n + 1
                ))
            })?;
        }
    }
    Ok(())
}

/// The extent of the cells seen so far.
#[derive(Default)]
struct Extent(Option<(u16, u16, u16, u16)>);

impl Extent {
    fn add(&mut self, row: u16, col: u16) {
        self.0 = Some(match self.0 {
            None => (row, row, col, col),
            Some((r0, r1, c0, c1)) => (r0.min(row), r1.max(row), c0.min(col), c1.max(col)),
        });
    }

    fn grid(&self) -> Option<(u64, u64)> {
        let (r0, r1, c0, c1) = self.0?;
        Some((u64::from(r1 - r0) + 1, u64::from(c1 - c0) + 1))
    }
}

/// Walks one sheet's records as calamine does; `Err` says what the sheet claims when too much.
fn check_sheet(sheet: &[u8]) -> std::result::Result<(), String> {
    let mut seen_bof = false;
    let mut depth = 0usize;
    let mut cells = Extent::default();
    for (typ, data) in Records(sheet) {
        if depth > 0 {
            match typ {
                BOF => depth += 1,
                EOF => depth -= 1,
                _ => {}
            }
            continue;
        }
        match typ {
            BOF if seen_bof => depth += 1,
            BOF => seen_bof = true,
            DIMENSIONS => {
                if let Some((rows, cols)) = reserved(data) {
                    if rows.saturating_mul(cols) > MAX_GRID {
                        return Err(format!("{rows} rows × {cols} columns in its dimensions"));
                    }
                }
            }
            MULRK => {
                if let (Some(row), Some(first), Some(last)) =
                    (u16_at(data, 0), u16_at(data, 2), data.len().checked_sub(2).and_then(|at| u16_at(data, at)))
                {
                    cells.add(row, first);
                    cells.add(row, last);
                }
            }
            typ if CELLS.contains(&typ) => {
                if let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) {
                    cells.add(row, col);
                }
            }
            EOF => break,
            _ => {}
        }
        if let Some((rows, cols)) = cells.grid() {
            if rows * cols > MAX_GRID {
                return Err(format!("cells spread over {rows} rows × {cols} columns"));
            }
        }
    }
    Ok(())
}

/// The rows and columns calamine reserves for a DIMENSIONS record (MS-XLS 2.4.90), computed as
/// an optimised build of calamine computes them (u32 arithmetic that wraps).
fn reserved(data: &[u8]) -> Option<(u64, u64)> {
    let (first_row, last_row, first_col, last_col) = match data.len() {
        10 => (
            u32::from(u16_at(data, 0)?),
            u32::from(u16_at(data, 2)?),
            u32::from(u16_at(data, 4)?),
            u32::from(u16_at(data, 6)?),
        ),
        14 | 16 => (u32_at(data, 0)?, u32_at(data, 4)?, u32::from(u16_at(data, 8)?), u32::from(u16_at(data, 10)?)),
        _ => return None,
    };
    let first_col = if first_col > 0xFF || last_col < first_col { 0 } else { first_col };
    let (start, end) = if last_row >= 1 && last_col >= 1 {
        ((first_row, first_col), (last_row - 1, last_col - 1))
    } else {
        ((first_row, first_col), (first_row, first_col))
    };
    let rows = end.0.wrapping_sub(start.0).wrapping_add(1);
    let cols = end.1.wrapping_sub(start.1).wrapping_add(1);
    Some((u64::from(rows), u64::from(cols)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut out = typ.to_le_bytes().to_vec();
        out.extend((data.len() as u16).to_le_bytes());
        out.extend(data);
        out
    }

    fn dimensions(first_row: u32, last_row: u32, first_col: u16, last_col: u16) -> Vec<u8> {
        let mut data = first_row.to_le_bytes().to_vec();
        data.extend(last_row.to_le_bytes());
        data.extend(first_col.to_le_bytes());
        data.extend(last_col.to_le_bytes());
        data.extend([0, 0]);
        record(DIMENSIONS, &data)
    }

    fn cell(row: u16, col: u16) -> Vec<u8> {
        let mut data = row.to_le_bytes().to_vec();
        data.extend(col.to_le_bytes());
        data.extend([0; 6]);
        record(0x00FD, &data)
    }

    fn sheet(records: &[Vec<u8>]) -> Vec<u8> {
        let mut out = record(BOF, &[0; 16]);
        for r in records {
            out.extend(r);
        }
        out.extend(record(EOF, &[]));
        out
    }

    #[test]
    fn genuine_sizes_pass() {
        assert_eq!(check_sheet(&sheet(&[dimensions(0, 65_536, 0, 256), cell(0, 0), cell(65_535, 255)])), Ok(()));
        assert_eq!(check_sheet(&sheet(&[dimensions(0, 0, 0, 0)])), Ok(()));
        assert_eq!(reserved(&dimensions(0, 6, 0, 9)[4..]), Some((6, 9)));
    }

    #[test]
    fn claims_beyond_an_xls_are_refused() {
        let err = check_sheet(&sheet(&[dimensions(0, u32::MAX, 0, 9)])).unwrap_err();
        assert_eq!(err, "4294967295 rows × 9 columns in its dimensions");
        // A first row after the last one wraps around in calamine's arithmetic.
        assert!(check_sheet(&sheet(&[dimensions(10, 5, 0, 9)])).is_err());
        let err = check_sheet(&sheet(&[cell(0, 0), cell(65_535, 65_534)])).unwrap_err();
        assert_eq!(err, "cells spread over 65536 rows × 65535 columns");
    }

    #[test]
    fn nested_substreams_are_skipped_as_calamine_skips_them() {
        let chart = [record(BOF, &[0; 16]), cell(0, 60_000), cell(60_000, 0), record(EOF, &[])].concat();
        assert_eq!(check_sheet(&sheet(&[chart, cell(1, 1)])), Ok(()));
    }

    #[test]
    fn sheets_are_found_through_their_boundsheet_records() {
        let bad = sheet(&[dimensions(0, u32::MAX, 0, 9)]);
        let mut globals = record(BOF, &[0; 16]);
        let boundsheet_at = globals.len();
        globals.extend(record(BOUNDSHEET, &[0; 8]));
        globals.extend(record(EOF, &[]));
        let offset = globals.len() as u32;
        globals[boundsheet_at + 4..boundsheet_at + 8].copy_from_slice(&offset.to_le_bytes());
        let stream = [globals.clone(), bad].concat();
        let err = check_workbook(&stream).unwrap_err();
        assert!(err.to_string().contains("sheet 1 claims 4294967295 rows"), "{err}");
        // An encrypted workbook is left to calamine, which says it is protected.
        let encrypted = [record(BOF, &[0; 16]), record(FILEPASS, &[1, 0]), stream].concat();
        assert!(check_workbook(&encrypted).is_ok());
    }
}
