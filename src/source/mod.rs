//! The parse stage: bytes in, a [`Table`] out.
//!
//! A [`SourceBuilder`] opens a path, a reader or a byte buffer, detects the format **from the
//! bytes** (never from the file name), and gives a [`Table`]: the header cells and a streaming,
//! pull-based iterator of [`Row`]s, each carrying the row number a person sees in Excel or
//! LibreOffice (for CSV, the line on which the record starts).
//!
//! | format | read with | notes |
//! |---|---|---|
//! | CSV, TSV, text | `csv` crate; the validate stage reads UTF-8 in blocks of whole records, splitting lines without quotes in place and the others with `csv-core` (same rows, same numbers) | delimiter (`,` `;` tab `\|`), encoding (UTF-8, UTF-8 BOM, UTF-16 LE/BE, Windows-1252) sniffed; `sep=;` line honoured |
//! | XLSX, XLSM, XLSB | calamine, streaming cell reader | zip directory checked before anything is decompressed |
//! | XLS | calamine | the workbook stream is checked first: sheets claiming more than an .xls holds are refused |
//! | ODS | calamine | |
//!
//! Spreadsheet cells are normalised to text: whole numbers as `10045` (never `10045.0`), dates
//! as ISO 8601 (`2024-01-15`, `2024-01-15T13:45:30`, `08:30:00`) honouring the 1904 date
//! system, booleans as `true`/`false`, formulas as their stored result. An error cell (`#N/A`)
//! keeps its text and carries an `invalid_value` issue. Blank rows are skipped; trailing empty
//! rows and columns are ignored; rows with cells beyond the header, or (CSV) fewer cells than
//! the header, are kept and flagged `ragged_row`.
//!
//! ```
//! use user_import::SourceBuilder;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let data = "Acme users\n\nFirst Name;Last Name;Login\nAda;Lovelace;ada\n\"Grace\";Hopper;grace\n";
//! let mut table = SourceBuilder::new().from_bytes(data)?;
//! assert_eq!(table.info().delimiter, Some(';'));
//! assert_eq!(table.header_row(), 3);
//! assert_eq!(table.headers(), ["First Name", "Last Name", "Login"]);
//! let rows: Vec<_> = table.rows().collect::<Result<_, _>>()?;
//! assert_eq!(rows[1].number(), 5);
//! assert_eq!(rows[1].get(0), Some("Grace"));
//! # Ok(())
//! # }
//! ```

mod blocks;
mod delimited;
mod header;
mod sheet;
mod sniff;
mod xls;

use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::issue::{Issue, IssueCode};

pub(crate) use self::blocks::{Block, BlockReader, BlockRow, Blocks, RowView, Shape};
pub use self::sniff::column_letter;

/// The summary sheet of this crate's XLSX error reports: the default sheet choice passes over it.
pub(crate) const REPORT_SUMMARY_SHEET: &str = "Import summary";

/// How many bytes are read up front to detect the format, encoding and delimiter.
const SNIFF_BYTES: usize = 1 << 20;

/// The format of a file, as detected from its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Format {
    /// Delimited text: CSV, TSV, Excel's "Unicode text".
    Csv,
    /// Office Open XML workbook (`.xlsx`, `.xlsm`).
    Xlsx,
    /// Excel binary workbook (`.xlsb`).
    Xlsb,
    /// Excel 97-2003 workbook (`.xls`).
    Xls,
    /// OpenDocument spreadsheet (`.ods`).
    Ods,
}

impl Format {
    /// A short name, e.g. `"XLSX"`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "CSV",
            Format::Xlsx => "XLSX",
            Format::Xlsb => "XLSB",
            Format::Xls => "XLS",
            Format::Ods => "ODS",
        }
    }

    /// True for the spreadsheet formats (everything but CSV).
    pub fn is_spreadsheet(self) -> bool {
        self != Format::Csv
    }

    /// The format a file name's extension suggests (used only to warn about a mismatch).
    pub fn from_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "tsv" | "txt" | "tab" => Some(Format::Csv),
            "xlsx" | "xlsm" | "xltx" | "xltm" => Some(Format::Xlsx),
            "xlsb" => Some(Format::Xlsb),
            "xls" | "xlt" => Some(Format::Xls),
            "ods" | "ots" => Some(Format::Ods),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The character encoding of a text file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark (what Excel's "CSV UTF-8" writes).
    Utf8Bom,
    /// UTF-16 little-endian (what Excel's "Unicode text" writes).
    Utf16Le,
    /// UTF-16 big-endian.
    Utf16Be,
    /// Windows-1252 (Western European; what older Excel writes as "CSV").
    Windows1252,
}

impl TextEncoding {
    /// The usual name, e.g. `"UTF-16LE"`.
    pub fn name(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 with BOM",
            TextEncoding::Utf16Le => "UTF-16LE",
            TextEncoding::Utf16Be => "UTF-16BE",
            TextEncoding::Windows1252 => "Windows-1252",
        }
    }
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which sheet of a workbook to read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SheetSelector {
    /// The first visible worksheet (hidden sheets, and the summary sheet of this crate's error
    /// reports, are skipped).
    #[default]
    FirstVisible,
    /// The sheet with this name (exact, then ignoring case and surrounding spaces).
    Name(String),
    /// The sheet at this 0-based position, hidden sheets included.
    Index(usize),
}

/// Where the header row is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum HeaderRow {
    /// Found automatically: among the first 20 non-blank rows, the one whose cells best match
    /// the known field names and aliases (title rows and banners above it are skipped).
    #[default]
    Auto,
    /// At this row number, as a person sees it (1-based).
    At(u64),
}

/// Which limit of [`Limits`] an error concerns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_file_bytes`].
    FileBytes,
    /// [`Limits::max_uncompressed_bytes`].
    UncompressedBytes,
    /// [`Limits::max_compression_ratio`].
    CompressionRatio,
    /// [`Limits::max_rows`].
    Rows,
    /// [`Limits::max_columns`].
    Columns,
    /// [`Limits::max_cell_chars`].
    CellChars,
}

impl Limit {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Limit::FileBytes => "the file size in bytes",
            Limit::UncompressedBytes => "the uncompressed size of the workbook in bytes",
            Limit::CompressionRatio => "the compression ratio of a part of the workbook (a zip bomb?)",
            Limit::Rows => "the number of data rows",
            Limit::Columns => "the number of columns",
            Limit::CellChars => "the length of a cell in characters",
        }
    }

    pub(crate) fn field_name(self) -> &'static str {
        match self {
            Limit::FileBytes => "max_file_bytes",
            Limit::UncompressedBytes => "max_uncompressed_bytes",
            Limit::CompressionRatio => "max_compression_ratio",
            Limit::Rows => "max_rows",
            Limit::Columns => "max_columns",
            Limit::CellChars => "max_cell_chars",
        }
    }
}

/// Limits that protect the host from huge or hostile files. The defaults accept any genuine
/// file up to a few million rows.
///
/// ```
/// use user_import::Limits;
///
/// let mut limits = Limits::default();
/// limits.max_rows = 10_000;
/// assert_eq!(limits.max_cell_chars, 32_767);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Limits {
    /// Largest file accepted, in bytes (default 2 GiB).
    pub max_file_bytes: u64,
    /// Largest total uncompressed size of an XLSX/XLSB/ODS, checked from the zip directory
    /// before anything is decompressed (default 4 GiB).
    pub max_uncompressed_bytes: u64,
    /// Largest ratio of uncompressed to compressed size of one part larger than 1 MiB
    /// (default 200; real workbooks stay under 30, zip bombs reach 1000).
    pub max_compression_ratio: u64,
    /// Most data rows (default 10 million).
    pub max_rows: u64,
    /// Most columns (default 16,384, Excel's own limit): a header wider than this refuses the
    /// file (`too_large`); the cells of a data row beyond it are dropped and the row flagged.
    pub max_columns: usize,
    /// Longest cell, in characters (default 32,767, Excel's own limit); longer cells are cut
    /// and flagged `too_large`.
    pub max_cell_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 2 << 30,
            max_uncompressed_bytes: 4 << 30,
            max_compression_ratio: 200,
            max_rows: 10_000_000,
            max_columns: 16_384,
            max_cell_chars: 32_767,
        }
    }
}

/// A sheet of a workbook.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SheetInfo {
    /// Its name.
    pub name: String,
    /// False for hidden and very hidden sheets.
    pub visible: bool,
}

/// What the parse stage found out about a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SourceInfo {
    /// The detected (or forced) format.
    pub format: Format,
    /// Text files: the encoding read.
    pub encoding: Option<TextEncoding>,
    /// Text files: the delimiter.
    pub delimiter: Option<char>,
    /// Workbooks: the sheet read.
    pub sheet: Option<String>,
    /// Workbooks: every sheet, in order.
    pub sheets: Vec<SheetInfo>,
    /// The header row, as a person sees it.
    pub header_row: u64,
}

impl SourceInfo {
    fn new(format: Format) -> Self {
        SourceInfo { format, encoding: None, delimiter: None, sheet: None, sheets: Vec::new(), header_row: 0 }
    }
}

/// One row of a table: its cells as text and the number a person sees.
///
/// Cells are stored contiguously (one allocation per row), like `csv::StringRecord`. Rows
/// coming out of a [`Table`] are at least as wide as the header (short spreadsheet rows are
/// padded with empty cells).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Row {
    number: u64,
    cells: Cells,
    issues: Vec<Issue>,
}

/// Cell texts stored contiguously: one string and the end offset of each cell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cells {
    text: String,
    ends: Vec<usize>,
}

impl Cells {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }

    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &str> + '_ {
        (0..self.ends.len()).map(move |i| self.get(i).unwrap_or(""))
    }

    pub(crate) fn push_field(&mut self, field: &str) {
        self.text.push_str(field);
        self.ends.push(self.text.len());
    }

    /// Appends a cell written in place by `write` (no intermediate string).
    pub(crate) fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        write(&mut self.text);
        self.ends.push(self.text.len());
    }

    pub(crate) fn truncate(&mut self, n: usize) {
        if n < self.ends.len() {
            self.ends.truncate(n);
            self.text.truncate(self.ends.last().copied().unwrap_or(0));
        }
    }

    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    /// Replaces the cell at `i` (slow path: rebuilds the row).
    pub(crate) fn set(&mut self, i: usize, field: &str) {
        let mut cells: Vec<String> = self.iter().map(str::to_string).collect();
        if let Some(cell) = cells.get_mut(i) {
            *cell = field.to_string();
        }
        self.clear();
        for cell in &cells {
            self.push_field(cell);
        }
    }

    /// Replaces the cells by a whole record: `text` holds the cells end to end and `ends` the
    /// end offset of each (ascending, on char boundaries, the last one `text.len()`).
    pub(crate) fn set_record(&mut self, text: &str, ends: &[usize]) {
        self.text.clear();
        self.text.push_str(text);
        self.ends.clear();
        self.ends.extend_from_slice(ends);
    }
}

impl Row {
    /// A row with this number and these cells (for hosts that build tables themselves).
    ///
    /// ```
    /// let row = user_import::Row::new(2, ["Ada", "Lovelace"]);
    /// assert_eq!(row.get(1), Some("Lovelace"));
    /// ```
    pub fn new<I, T>(number: u64, cells: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let mut row = Row { number, ..Row::default() };
        for cell in cells {
            row.cells.push_field(cell.as_ref());
        }
        row
    }

    /// The row number as a person sees it (1-based; CSV: the line where the record starts).
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The number of cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// True if the row has no cells at all.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The text of the cell at a 0-based column index.
    pub fn get(&self, column: usize) -> Option<&str> {
        self.cells.get(column)
    }

    /// The cells' texts, in column order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &str> + '_ {
        self.cells.iter()
    }

    /// What the parse stage found wrong with this row (ragged, error cells, encoding, limits).
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// Takes the row's issues out, leaving it with none.
    pub fn take_issues(&mut self) -> Vec<Issue> {
        std::mem::take(&mut self.issues)
    }

    /// True if the parse stage flagged the cell at this column (e.g. an `#N/A` error cell).
    pub fn cell_has_issue(&self, column: usize) -> bool {
        self.issues.iter().any(|issue| issue.column_index == Some(column))
    }

    /// True if every cell is empty or white space.
    pub fn is_blank(&self) -> bool {
        // The cells are stored end to end: all blank exactly when their concatenation is.
        self.cells.text.trim().is_empty()
    }

    /// Adds an issue to the row (its row number is set for you).
    pub fn push_issue(&mut self, issue: Issue) {
        self.issues.push(issue.at_row(self.number));
    }

    pub(crate) fn clear(&mut self) {
        self.number = 0;
        self.cells.clear();
        self.issues.clear();
    }
}

impl fmt::Debug for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Rows may hold passwords: show the shape, not the cells.
        f.debug_struct("Row")
            .field("number", &self.number)
            .field("cells", &self.cells.len())
            .field("issues", &self.issues)
            .finish()
    }
}

/// Anything that yields raw rows: the built-in readers, or a host's own source (an API page, a
/// database query) entering the pipeline through [`Table::from_source`].
///
/// `next_row` overwrites `row` with the next row and returns `Ok(false)` at the end. It may
/// return blank rows and rows of any width: the [`Table`] skips, pads and flags them.
pub trait RowSource: Send {
    /// Reads the next row into `row`.
    fn next_row(&mut self, row: &mut Row) -> Result<bool>;
}

/// A `RowSource` over an in-memory list of rows.
struct VecSource(std::vec::IntoIter<Row>);

impl RowSource for VecSource {
    fn next_row(&mut self, row: &mut Row) -> Result<bool> {
        match self.0.next() {
            Some(next) => {
                *row = next;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// A parsed file: its header and a stream of data rows.
///
/// Rows are read on demand ([`Table::rows`] or the allocation-reusing [`Table::read_row`]), so a
/// file of millions of rows is never held in memory by the parse stage. Workbooks are read on a
/// background thread that stays a few hundred rows ahead.
pub struct Table {
    info: SourceInfo,
    headers: Vec<String>,
    source: Source,
    pending: VecDeque<Row>,
    limits: Limits,
    short_rows_are_ragged: bool,
    data_rows: u64,
    issues: Vec<Issue>,
    finished: bool,
}

impl fmt::Debug for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Table")
            .field("info", &self.info)
            .field("headers", &self.headers)
            .field("data_rows_read", &self.data_rows)
            .finish_non_exhaustive()
    }
}

impl Table {
    /// A table over a host's own rows (the header is given, every row is data).
    ///
    /// ```
    /// use user_import::{Row, Table};
    ///
    /// # fn main() -> Result<(), user_import::Error> {
    /// let mut table = Table::from_rows(["Login", "Email"], vec![Row::new(2, ["ada", "ada@example.com"])]);
    /// let row = table.rows().next().unwrap()?;
    /// assert_eq!(row.get(1), Some("ada@example.com"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_rows<H: Into<String>>(headers: impl IntoIterator<Item = H>, rows: Vec<Row>) -> Table {
        Table::from_source(headers, VecSource(rows.into_iter()))
    }

    /// A table over any [`RowSource`]: the host's own format, an API page, a database query.
    pub fn from_source<H: Into<String>>(
        headers: impl IntoIterator<Item = H>,
        source: impl RowSource + 'static,
    ) -> Table {
        let headers: Vec<String> = headers.into_iter().map(Into::into).collect();
        let mut info = SourceInfo::new(Format::Csv);
        info.header_row = 1;
        Table {
            info,
            headers,
            source: Source::Other(Box::new(source)),
            pending: VecDeque::new(),
            limits: Limits::default(),
            short_rows_are_ragged: false,
            data_rows: 0,
            issues: Vec::new(),
            finished: false,
        }
    }

    /// What was detected: format, encoding, delimiter, sheet, header row.
    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// The header cells, trimmed, trailing empty cells removed.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The header's row number, as a person sees it.
    pub fn header_row(&self) -> u64 {
        self.info.header_row
    }

    /// File-level notes found while opening (warnings such as a misleading file extension).
    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    /// The number of data rows read so far.
    pub fn rows_read(&self) -> u64 {
        self.data_rows
    }

    /// Reads the next data row into `row`, reusing its allocation; `Ok(false)` at the end.
    ///
    /// This is the fast path; [`Table::rows`] is the convenient one.
    pub fn read_row(&mut self, row: &mut Row) -> Result<bool> {
        if self.finished {
            return Ok(false);
        }
        loop {
            if let Some(next) = self.pending.pop_front() {
                *row = next;
            } else {
                row.clear();
                match self.source.next_row(row) {
                    Ok(true) => {}
                    Ok(false) => {
                        self.finished = true;
                        return Ok(false);
                    }
                    Err(err) => {
                        self.finished = true;
                        return Err(err);
                    }
                }
            }
            if row.is_blank() {
                continue;
            }
            self.data_rows += 1;
            if self.data_rows > self.limits.max_rows {
                self.finished = true;
                return Err(Error::too_large(
                    Limit::Rows,
                    self.limits.max_rows,
                    format!("row {} is data row {}", row.number, self.data_rows),
                ));
            }
            self.shape(row);
            return Ok(true);
        }
    }

    /// An iterator over the remaining data rows.
    pub fn rows(&mut self) -> Rows<'_> {
        Rows { table: self }
    }

    /// Fits a raw row to the header: see [`shape_row`].
    fn shape(&mut self, row: &mut Row) {
        shape_row(row, &self.shape_params());
    }

    /// How rows are fitted to the header.
    fn shape_params(&self) -> Shape<'_> {
        Shape { headers: &self.headers, limits: &self.limits, short_rows_are_ragged: self.short_rows_are_ragged }
    }

    /// The rest of the table as blocks of whole records parsed in place, for the validate
    /// stage's fast path: only UTF-8 delimited text qualifies (other tables give `None`). The
    /// rows already read ahead (while the header was found) come first, as rows. Once the blocks
    /// are read, [`Table::finish_blocks`] says how many data rows they held.
    pub(crate) fn blocks(&mut self) -> Option<(Vec<Row>, Blocks<'_>, Shape<'_>)> {
        if self.finished {
            return None;
        }
        let Source::Delimited(rows) = &mut self.source else {
            return None;
        };
        let blocks = Blocks::new(rows)?;
        let pending: Vec<Row> = self.pending.drain(..).collect();
        self.finished = true;
        let shape =
            Shape { headers: &self.headers, limits: &self.limits, short_rows_are_ragged: self.short_rows_are_ragged };
        Some((pending, blocks, shape))
    }

    /// Records the data rows read through [`Table::blocks`] (the pending rows included).
    pub(crate) fn finish_blocks(&mut self, data_rows: u64) {
        self.data_rows = data_rows;
    }

    /// The most data rows a table may have.
    pub(crate) fn max_rows(&self) -> u64 {
        self.limits.max_rows
    }

    /// True when the rows are already read ahead on a thread of their own (a workbook's sheet):
    /// a further reading thread would only pass them on, and hold a few more batches.
    pub(crate) fn reads_ahead(&self) -> bool {
        matches!(self.source, Source::Sheet(_))
    }
}

/// Fits a raw row to the header: trailing empty cells dropped, short rows padded, ragged rows
/// and over-long cells flagged, issues given their column names.
pub(crate) fn shape_row(row: &mut Row, shape: &Shape<'_>) {
    let width = shape.headers.len();
    let limits = shape.limits;
    let mut len = row.cells.len();
    while len > width && row.cells.get(len - 1).is_some_and(|c| c.trim().is_empty()) {
        len -= 1;
    }
    if len < row.cells.len() {
        row.cells.truncate(len);
    }
    if len > limits.max_columns {
        row.cells.truncate(limits.max_columns);
        let msg =
            format!("the row has {len} cells; only the first {} are read (limit max_columns)", limits.max_columns);
        row.push_issue(Issue::error(IssueCode::TooLarge, msg));
        len = limits.max_columns;
    }
    if len > width {
        let extra = row.cells.iter().skip(width).filter(|c| !c.trim().is_empty()).count();
        let msg = format!(
            "the row has {len} cells but the header has {width}: {extra} value(s) beyond column {} have no header (a missing quote or an extra delimiter?)",
            column_letter(width.saturating_sub(1))
        );
        row.push_issue(Issue::error(IssueCode::RaggedRow, msg));
    } else if len < width {
        if shape.short_rows_are_ragged {
            let msg =
                format!("the row has {len} cells but the header has {width}; the missing cells are read as empty");
            row.push_issue(Issue::warning(IssueCode::RaggedRow, msg));
        }
        for _ in len..width {
            row.cells.push_field("");
        }
    }
    let max_chars = limits.max_cell_chars;
    if row.cells.text.len() > max_chars
        && row.cells.iter().any(|c| c.len() > max_chars && c.chars().count() > max_chars)
    {
        let mut cut = Cells::default();
        for (i, cell) in row.cells.iter().enumerate() {
            let chars = cell.chars().count();
            if cell.len() > max_chars && chars > max_chars {
                let end = cell.char_indices().nth(max_chars).map_or(cell.len(), |(at, _)| at);
                cut.push_field(&cell[..end]);
                let msg = format!(
                    "the cell holds {chars} characters; only the first {max_chars} are kept (limit max_cell_chars)"
                );
                row.issues.push(Issue::error(IssueCode::TooLarge, msg).at_row(row.number).in_column(i, ""));
            } else {
                cut.push_field(cell);
            }
        }
        row.cells = cut;
    }
    for issue in row.issues.iter_mut() {
        if let Some(index) = issue.column_index {
            if issue.column.as_deref().is_none_or(str::is_empty) {
                issue.column = Some(header_name(shape.headers, index).into());
            }
        }
    }
}

/// The header text of a column, or its letter when the header cell is empty or missing.
pub(crate) fn header_name(headers: &[String], index: usize) -> String {
    match headers.get(index) {
        Some(h) if !h.is_empty() => h.clone(),
        _ => format!("column {}", column_letter(index)),
    }
}

/// The iterator returned by [`Table::rows`].
#[derive(Debug)]
pub struct Rows<'a> {
    table: &'a mut Table,
}

impl Iterator for Rows<'_> {
    type Item = Result<Row>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut row = Row::default();
        match self.table.read_row(&mut row) {
            Ok(true) => Some(Ok(row)),
            Ok(false) => None,
            Err(err) => Some(Err(err)),
        }
    }
}

/// Where a table's rows come from: delimited text (which the validate stage can also read a
/// block at a time), or any other row source.
enum Source {
    Delimited(Box<delimited::DelimitedRows>),
    /// A workbook's sheet, read by calamine on a worker thread of its own.
    Sheet(Box<sheet::SheetRows>),
    Other(Box<dyn RowSource>),
}

impl Source {
    fn next_row(&mut self, row: &mut Row) -> Result<bool> {
        match self {
            Source::Delimited(rows) => rows.next_row(row),
            Source::Sheet(rows) => rows.next_row(row),
            Source::Other(source) => source.next_row(row),
        }
    }
}

/// Opens files into [`Table`]s. Options are set once; one builder opens many files.
///
/// ```
/// use user_import::{HeaderRow, SheetSelector, SourceBuilder};
///
/// let mut builder = SourceBuilder::new();
/// builder.sheet(SheetSelector::Name("Users".into())).header_row(HeaderRow::At(1));
/// ```
#[derive(Clone, Debug, Default)]
pub struct SourceBuilder {
    format: Option<Format>,
    encoding: Option<TextEncoding>,
    delimiter: Option<u8>,
    quote: Option<u8>,
    sheet: SheetSelector,
    header_row: HeaderRow,
    header_names: Option<Vec<String>>,
    limits: Limits,
}

impl SourceBuilder {
    /// A builder with every option automatic.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forces the format instead of detecting it (a file that is plainly something else is
    /// still refused).
    pub fn format(&mut self, format: Format) -> &mut Self {
        self.format = Some(format);
        self
    }

    /// Forces the text encoding instead of sniffing it.
    pub fn encoding(&mut self, encoding: TextEncoding) -> &mut Self {
        self.encoding = Some(encoding);
        self
    }

    /// Forces the delimiter of text files instead of sniffing it.
    pub fn delimiter(&mut self, delimiter: u8) -> &mut Self {
        self.delimiter = Some(delimiter);
        self
    }

    /// Sets the quote character of text files (default `"`; doubled inside a quoted field).
    pub fn quote(&mut self, quote: u8) -> &mut Self {
        self.quote = Some(quote);
        self
    }

    /// Chooses the sheet of a workbook (default: the first visible one).
    pub fn sheet(&mut self, sheet: SheetSelector) -> &mut Self {
        self.sheet = sheet;
        self
    }

    /// Gives the header row, or lets it be found (the default).
    pub fn header_row(&mut self, header_row: HeaderRow) -> &mut Self {
        self.header_row = header_row;
        self
    }

    /// The column names the header row is recognised by (default: the built-in fields' names and
    /// aliases). Names are compared after [`normalize_name`](crate::normalize_name).
    pub fn header_names<I, S>(&mut self, names: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.header_names = Some(names.into_iter().map(|n| crate::schema::normalize_name(n.as_ref())).collect());
        self
    }

    /// Sets the limits.
    pub fn limits(&mut self, limits: Limits) -> &mut Self {
        self.limits = limits;
        self
    }

    /// The limits in force.
    pub fn get_limits(&self) -> &Limits {
        &self.limits
    }

    /// Opens a file. Its name appears in every error; an extension that disagrees with the
    /// content gives a warning, never a different reading.
    pub fn from_path(&self, path: impl AsRef<Path>) -> Result<Table> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let open = || -> Result<Table> {
            let file = File::open(path)?;
            let len = file.metadata()?.len();
            if len > self.limits.max_file_bytes {
                return Err(Error::too_large(Limit::FileBytes, self.limits.max_file_bytes, len));
            }
            let mut table = self.open(Input::File(file))?;
            if let Some(named) = Format::from_extension(path) {
                let read = table.info.format;
                if named != read && !(named == Format::Csv && read == Format::Csv) {
                    table.issues.push(Issue::warning(
                        IssueCode::WrongFormat,
                        format!("the file is named as {named} but holds {read} data; it was read as {read}"),
                    ));
                }
            }
            Ok(table)
        };
        open().map_err(|err| err.with_file(name))
    }

    /// Opens a stream. Text is read as it comes; a workbook is read into memory first (up to
    /// [`Limits::max_file_bytes`]).
    pub fn from_reader<R: Read + Send + 'static>(&self, reader: R) -> Result<Table> {
        self.open(Input::Reader(Box::new(reader)))
    }

    /// Opens bytes already in memory (an upload): a `Vec<u8>`, a `&'static [u8]` or `str`, an
    /// `Arc<[u8]>` shared with the host… Nothing is copied.
    pub fn from_bytes<B: AsRef<[u8]> + Send + Sync + 'static>(&self, bytes: B) -> Result<Table> {
        let len = bytes.as_ref().len();
        if len as u64 > self.limits.max_file_bytes {
            return Err(Error::too_large(Limit::FileBytes, self.limits.max_file_bytes, len));
        }
        self.open(Input::Bytes(SharedBytes(Box::new(bytes))))
    }

    fn open(&self, input: Input) -> Result<Table> {
        let (head, input) = input.read_head(SNIFF_BYTES)?;
        let kind = sniff::detect(&head)?;
        let format = match (kind, self.format) {
            (sniff::Kind::Text, Some(forced)) if forced.is_spreadsheet() => {
                return Err(Error::wrong_format("delimited text", format!("it was opened as {forced}")));
            }
            (sniff::Kind::Text, _) => Format::Csv,
            (sniff::Kind::Zip, _) | (sniff::Kind::Cfb, _) => Format::Xlsx,
        };
        let (info, source, short_rows_are_ragged) = match (kind, format) {
            (sniff::Kind::Text, _) => {
                let options = delimited::Options {
                    encoding: self.encoding,
                    delimiter: self.delimiter,
                    quote: self.quote.unwrap_or(b'"'),
                };
                let sample = head.clone();
                let reader = input.into_stream(head, self.limits.max_file_bytes);
                let (info, source) = delimited::open(&options, reader, &sample)?;
                (info, Source::Delimited(Box::new(source)), true)
            }
            (sniff::Kind::Zip, _) => {
                let mut reader = input.into_seekable(head, self.limits.max_file_bytes)?;
                let detected = sniff::inspect_zip(&mut reader, &self.limits)?;
                let (info, source) = sheet::open(reader, detected, &self.sheet, self.limits.max_columns)?;
                (info, Source::Sheet(Box::new(source)), false)
            }
            (sniff::Kind::Cfb, _) => {
                let mut reader = input.into_seekable(head, self.limits.max_file_bytes)?;
                sniff::inspect_cfb(&mut reader)?;
                let (info, source) = sheet::open(reader, Format::Xls, &self.sheet, self.limits.max_columns)?;
                (info, Source::Sheet(Box::new(source)), false)
            }
        };
        let known: HashSet<String> = match &self.header_names {
            Some(names) => names.iter().cloned().collect(),
            None => crate::schema::builtin_header_names().into_iter().collect(),
        };
        let mut table = Table {
            info,
            headers: Vec::new(),
            source,
            pending: VecDeque::new(),
            limits: self.limits.clone(),
            short_rows_are_ragged,
            data_rows: 0,
            issues: Vec::new(),
            finished: false,
        };
        header::locate(&mut table, self.header_row, &known)?;
        Ok(table)
    }
}

/// Where the bytes come from.
enum Input {
    File(File),
    Bytes(SharedBytes),
    Reader(Box<dyn Read + Send>),
}

/// Bytes owned in any form the host has them.
pub(crate) struct SharedBytes(Box<dyn AsRef<[u8]> + Send + Sync>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        (*self.0).as_ref()
    }
}

impl Input {
    /// Reads up to `n` bytes for sniffing. For in-memory bytes the head is a copy of the start.
    fn read_head(self, n: usize) -> Result<(Vec<u8>, Input)> {
        match self {
            Input::Bytes(bytes) => {
                let all = bytes.as_ref();
                let head = all[..all.len().min(n)].to_vec();
                Ok((head, Input::Bytes(bytes)))
            }
            Input::File(mut file) => {
                let head = read_up_to(&mut file, n)?;
                Ok((head, Input::File(file)))
            }
            Input::Reader(mut reader) => {
                let head = read_up_to(&mut reader, n)?;
                Ok((head, Input::Reader(reader)))
            }
        }
    }

    /// A stream of the whole input (the head first), limited to `max` bytes.
    fn into_stream(self, head: Vec<u8>, max: u64) -> delimited::Stream {
        match self {
            Input::Bytes(bytes) => delimited::Stream::Memory(Cursor::new(bytes)),
            Input::File(file) => {
                delimited::Stream::Read(Box::new(LimitReader::new(Cursor::new(head).chain(file), max)))
            }
            Input::Reader(reader) => {
                delimited::Stream::Read(Box::new(LimitReader::new(Cursor::new(head).chain(reader), max)))
            }
        }
    }

    /// A seekable view of the whole input, for the workbook readers.
    fn into_seekable(self, head: Vec<u8>, max: u64) -> Result<Seekable> {
        match self {
            Input::Bytes(bytes) => Ok(Seekable::Memory(Cursor::new(bytes))),
            Input::File(mut file) => {
                file.seek(SeekFrom::Start(0))?;
                Ok(Seekable::File(BufReader::with_capacity(1 << 16, file)))
            }
            Input::Reader(reader) => {
                let mut bytes = head;
                LimitReader::new(reader, max.saturating_sub(bytes.len() as u64))
                    .read_to_end(&mut bytes)
                    .map_err(limit_error)?;
                Ok(Seekable::Memory(Cursor::new(SharedBytes(Box::new(bytes)))))
            }
        }
    }
}

fn read_up_to(reader: &mut impl Read, n: usize) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(n.min(1 << 16));
    reader.take(n as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// A workbook's bytes: a file or memory.
pub(crate) enum Seekable {
    File(BufReader<File>),
    Memory(Cursor<SharedBytes>),
}

impl Read for Seekable {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Seekable::File(f) => f.read(buf),
            Seekable::Memory(m) => m.read(buf),
        }
    }
}

impl Seek for Seekable {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Seekable::File(f) => f.seek(pos),
            Seekable::Memory(m) => m.seek(pos),
        }
    }
}

/// The marker carried by the I/O error a [`LimitReader`] raises.
#[derive(Debug)]
pub(crate) struct FileTooLarge(pub u64);

impl fmt::Display for FileTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the file is larger than {} bytes", self.0)
    }
}

impl std::error::Error for FileTooLarge {}

/// Turns the I/O error of a [`LimitReader`] into the `too_large` error it stands for.
pub(crate) fn limit_error(err: io::Error) -> Error {
    if let Some(marker) = err.get_ref().and_then(|e| e.downcast_ref::<FileTooLarge>()) {
        return Error::too_large(Limit::FileBytes, marker.0, "more bytes than that");
    }
    Error::from(err)
}

/// A reader that fails once more than `max` bytes have been read.
struct LimitReader<R> {
    inner: R,
    max: u64,
    read: u64,
}

impl<R> LimitReader<R> {
    fn new(inner: R, max: u64) -> Self {
        LimitReader { inner, max, read: 0 }
    }
}

impl<R: Read> Read for LimitReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.max {
            return Err(io::Error::other(FileTooLarge(self.max)));
        }
        Ok(n)
    }
}

impl From<FileTooLarge> for ErrorKind {
    fn from(marker: FileTooLarge) -> Self {
        ErrorKind::TooLarge { limit: Limit::FileBytes, max: marker.0, found: "more bytes than that".into() }
    }
}
