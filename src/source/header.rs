//! Finding the header row: given, or the best match among the first rows.

use std::collections::{HashSet, VecDeque};

use crate::error::{Error, ErrorKind, Result};
use crate::issue::IssueCode;
use crate::schema::normalize_name;
use crate::source::{HeaderRow, Limit, Row, Table};

/// How many non-blank rows are looked at when the header is found automatically.
pub(crate) const HEADER_WINDOW: usize = 20;

/// Reads rows until the header is found, stores it in the table with the rows read after it,
/// and checks that at least one data row follows.
pub(crate) fn locate(table: &mut Table, at: HeaderRow, known: &HashSet<String>) -> Result<()> {
    let mut window: Vec<Row> = Vec::new();
    let header_index = match at {
        HeaderRow::At(n) => {
            loop {
                let mut row = Row::default();
                if !table.source.next_row(&mut row)? || row.number > n {
                    return Err(ErrorKind::HeaderRowMissing(n).into());
                }
                if row.number == n {
                    if row.is_blank() {
                        return Err(ErrorKind::HeaderRowMissing(n).into());
                    }
                    window.push(row);
                    break;
                }
            }
            0
        }
        HeaderRow::Auto => {
            while window.len() < HEADER_WINDOW {
                let mut row = Row::default();
                if !table.source.next_row(&mut row)? {
                    break;
                }
                if !row.is_blank() {
                    window.push(row);
                }
            }
            if window.is_empty() {
                return Err(Error::empty(match &table.info.sheet {
                    Some(sheet) => format!("the sheet '{sheet}' has no cells with a value"),
                    None => "the file holds no rows, only blank lines".to_string(),
                }));
            }
            best_header(&window, known)
        }
    };
    let mut rows = window.into_iter().skip(header_index);
    let header = rows.next().ok_or_else(|| Error::empty("the file has no header row"))?;
    table.info.header_row = header.number;
    // No column is named by more than an Excel cell holds: a hostile file's huge header cell is
    // cut there (the data cells have their own, possibly lower, limit).
    let max_chars = table.limits.max_cell_chars.max(EXCEL_CELL_CHARS);
    let mut headers: Vec<String> = header.iter().map(|cell| clean_header(first_chars(cell, max_chars))).collect();
    while headers.last().is_some_and(String::is_empty) {
        headers.pop();
    }
    // A header wider than the limit (a workbook reader drops the cells beyond it and flags the
    // row) names columns no row could be read in full: no users file is that wide.
    let max = table.limits.max_columns;
    if headers.len() > max || header.issues().iter().any(|i| i.code == IssueCode::TooLarge) {
        let found = format!("the header, row {}, has {} cells or more", header.number, headers.len().max(max + 1));
        return Err(Error::too_large(Limit::Columns, max as u64, found));
    }
    table.headers = headers;
    table.pending = rows.filter(|row| !row.is_blank()).collect::<VecDeque<_>>();
    if table.pending.is_empty() {
        loop {
            let mut row = Row::default();
            if !table.source.next_row(&mut row)? {
                return Err(Error::empty(format!(
                    "the file has a header (row {}) but no data rows",
                    table.info.header_row
                )));
            }
            if !row.is_blank() {
                table.pending.push_back(row);
                break;
            }
        }
    }
    Ok(())
}

/// A header cell as the columns are named: trimmed (no-break spaces and a stray BOM too),
/// inner white space folded to one space.
pub(crate) fn clean_header(cell: &str) -> String {
    let cell = cell.trim_start_matches('\u{FEFF}');
    cell.split(|c: char| c.is_whitespace() || c == '\u{A0}')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The most characters an Excel cell holds.
const EXCEL_CELL_CHARS: usize = 32_767;

/// The longest cell compared with the known column names when the header is looked for.
const MAX_NAME_BYTES: usize = 1024;

/// The first `max` characters of `text`.
fn first_chars(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    text.char_indices().nth(max).map_or(text, |(at, _)| &text[..at])
}

/// The index of the row that looks most like a header.
///
/// The score of a row is the number of its cells that name a known field. The best score wins
/// (the earliest row on a tie). When no row names a known field, the first row with at least
/// half as many filled cells as the widest row (and at least two) is taken: a banner or a title
/// fills one cell, a header fills them all.
fn best_header(window: &[Row], known: &HashSet<String>) -> usize {
    // No field is named by a kilobyte of text: such cells (a hostile file's huge values) are not
    // worth normalising.
    let names = |cell: &&str| cell.len() <= MAX_NAME_BYTES && known.contains(&normalize_name(cell));
    let scores: Vec<usize> = window.iter().map(|row| row.iter().filter(names).count()).collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    if best > 0 {
        return scores.iter().position(|&s| s == best).unwrap_or(0);
    }
    let filled: Vec<usize> = window.iter().map(|row| row.iter().filter(|c| !c.trim().is_empty()).count()).collect();
    let widest = filled.iter().copied().max().unwrap_or(0);
    let needed = widest.div_ceil(2).max(2).min(widest);
    filled.iter().position(|&n| n >= needed).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> HashSet<String> {
        crate::schema::builtin_header_names().into_iter().collect()
    }

    #[test]
    fn the_row_naming_most_fields_wins() {
        let window = vec![
            Row::new(1, ["Acme Corp user import"]),
            Row::new(2, ["Exported January"]),
            Row::new(4, ["First Name", "Last Name", "Login Name", "E-mail"]),
            Row::new(5, ["Ada", "Lovelace", "ada", "ada@example.com"]),
        ];
        assert_eq!(best_header(&window, &known()), 2);
    }

    #[test]
    fn without_known_names_the_first_full_row_wins() {
        let window = vec![
            Row::new(1, ["Quarterly export"]),
            Row::new(2, ["Colour", "Size", "Weight"]),
            Row::new(3, ["red", "L", "3"]),
        ];
        assert_eq!(best_header(&window, &known()), 1);
        let single = vec![Row::new(1, ["only"]), Row::new(2, ["one"])];
        assert_eq!(best_header(&single, &known()), 0);
    }

    #[test]
    fn huge_cells_are_not_names_and_are_cut() {
        let huge = "Login Name ".repeat(200);
        let window = vec![Row::new(1, [huge.as_str(), "x"]), Row::new(2, ["Login Name", "Email"])];
        assert_eq!(best_header(&window, &known()), 1);
        assert_eq!(first_chars("Élodie", 2), "Él");
        assert_eq!(first_chars("Ada", 5), "Ada");
    }

    #[test]
    fn header_cells_are_cleaned() {
        assert_eq!(clean_header("\u{FEFF} First\u{A0}\u{A0}Name \t"), "First Name");
        assert_eq!(clean_header("   "), "");
    }
}
