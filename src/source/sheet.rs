//! Workbooks (XLSX, XLSB, XLS, ODS) through calamine, on a background thread.
//!
//! calamine's streaming cell readers borrow the workbook, so the workbook, once opened on the
//! calling thread, moves to a worker thread that turns cells into rows and sends them in batches
//! over a bounded channel. The parse stage therefore holds only a few batches in memory, the
//! second core does the XML work, and a panic inside a reader ends as an `unreadable` error
//! instead of bringing the host down.

use std::fmt::Write as _;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use calamine::{CellErrorType, Data, DataRef, ExcelDateTime, Reader, SheetType, SheetVisible};

use crate::error::{Error, ErrorKind, Result};
use crate::issue::{Issue, IssueCode};
use crate::source::{Format, Row, RowSource, Seekable, SheetInfo, SheetSelector, SourceInfo};

/// Rows sent per message: the worker holds up to `AHEAD + 2` batches, in its own allocator arena.
const BATCH: usize = 128;
/// Batches the worker may run ahead.
const AHEAD: usize = 4;

enum Message {
    Rows(Vec<Row>),
    Failed(Error),
    Done,
}

/// The receiving end: rows of the chosen sheet.
pub(crate) struct SheetRows {
    rx: Receiver<Message>,
    batch: std::vec::IntoIter<Row>,
    worker: Option<JoinHandle<()>>,
    format: Format,
    done: bool,
}

/// A workbook opened, its sheet chosen: what the worker reads.
enum Workbook {
    Xlsx(calamine::Xlsx<Seekable>),
    Xlsb(calamine::Xlsb<Seekable>),
    Xls(calamine::Xls<Seekable>),
    Ods(calamine::Ods<Seekable>),
}

/// Opens a workbook, chooses its sheet and starts reading it on a worker thread.
///
/// The workbook is opened on the calling thread: opening reads its shared tables (an XLSX's
/// shared strings are most of the memory a read takes), and memory freed by the thread that
/// goes on to the next stages is memory those stages reuse — freed by a worker, it would stay
/// with the worker's allocator arena. A panic inside calamine, here or in the worker, ends as an
/// `unreadable` error instead of bringing the host down.
pub(crate) fn open(
    reader: Seekable,
    format: Format,
    selector: &SheetSelector,
    max_columns: usize,
) -> Result<(SourceInfo, SheetRows)> {
    let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| open_workbook(reader, format, selector)));
    let (workbook, name, info) = match opened {
        Ok(opened) => opened?,
        Err(panic) => return Err(Error::corrupt(format, panic_reason(panic.as_ref()))),
    };
    let (tx, rx) = mpsc::sync_channel(AHEAD);
    let worker = thread::Builder::new().name("user-import-sheet".into()).spawn(move || {
        if let Err(err) = read_sheet(workbook, &name, format, max_columns, &tx) {
            let _ = tx.send(Message::Failed(err));
        }
    })?;
    Ok((info, SheetRows { rx, batch: Vec::new().into_iter(), worker: Some(worker), format, done: false }))
}

/// What a panic inside calamine says, for a person.
fn panic_reason(panic: &(dyn std::any::Any + Send)) -> String {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("the reader stopped on damaged data: {detail}")
}

impl SheetRows {
    /// The next message; a worker that died without a word is a panic, reported as unreadable.
    fn receive(&mut self) -> Result<Option<Message>> {
        match self.rx.recv() {
            Ok(Message::Failed(err)) => {
                self.done = true;
                Err(err)
            }
            Ok(Message::Done) => {
                self.done = true;
                Ok(None)
            }
            Ok(message) => Ok(Some(message)),
            Err(_) => {
                self.done = true;
                let reason = match self.worker.take().map(JoinHandle::join) {
                    Some(Err(panic)) => panic_reason(panic.as_ref()),
                    _ => "the reader stopped unexpectedly".to_string(),
                };
                Err(Error::corrupt(self.format, reason))
            }
        }
    }
}

impl RowSource for SheetRows {
    fn next_row(&mut self, row: &mut Row) -> Result<bool> {
        loop {
            if let Some(next) = self.batch.next() {
                *row = next;
                return Ok(true);
            }
            if self.done {
                return Ok(false);
            }
            match self.receive()? {
                Some(Message::Rows(rows)) => self.batch = rows.into_iter(),
                Some(_) => {}
                None => return Ok(false),
            }
        }
    }
}

impl Drop for SheetRows {
    fn drop(&mut self) {
        // Dropping the receiver makes the worker's next send fail, so it stops promptly.
        // It is not joined here: a table dropped early must not wait for a large sheet.
        self.worker.take();
    }
}

/// Opens a workbook and chooses its sheet: the workbook, the sheet's name, and what the parse
/// stage tells about the file.
fn open_workbook(reader: Seekable, format: Format, selector: &SheetSelector) -> Result<(Workbook, String, SourceInfo)> {
    Ok(match format {
        Format::Xlsx => {
            let workbook = calamine::Xlsx::new(reader).map_err(|e| workbook_error(format, e))?;
            let (name, info) = choose(workbook.sheets_metadata(), selector, format)?;
            (Workbook::Xlsx(workbook), name, info)
        }
        Format::Xlsb => {
            let workbook = calamine::Xlsb::new(reader).map_err(|e| workbook_error(format, e))?;
            let (name, info) = choose(workbook.sheets_metadata(), selector, format)?;
            (Workbook::Xlsb(workbook), name, info)
        }
        Format::Xls => {
            // calamine would size its grids from what the file claims: check the claims first.
            let reader = super::xls::checked_workbook(reader)?;
            let workbook = calamine::Xls::new(reader).map_err(|e| match e {
                calamine::XlsError::Password => ErrorKind::Encrypted.into(),
                other => workbook_error(format, other),
            })?;
            let (name, info) = choose(workbook.sheets_metadata(), selector, format)?;
            (Workbook::Xls(workbook), name, info)
        }
        Format::Ods => {
            let workbook = calamine::Ods::new(reader).map_err(|e| workbook_error(format, e))?;
            let (name, info) = choose(workbook.sheets_metadata(), selector, format)?;
            (Workbook::Ods(workbook), name, info)
        }
        Format::Csv => return Err(Error::corrupt(format, "not a workbook")),
    })
}

/// Reads the chosen sheet's cells into rows, sent a batch at a time (on the worker thread).
fn read_sheet(
    workbook: Workbook,
    name: &str,
    format: Format,
    max_columns: usize,
    tx: &SyncSender<Message>,
) -> Result<()> {
    let mut out = Assembler::new(tx, max_columns);
    match workbook {
        Workbook::Xlsx(mut workbook) => {
            let mut cells = workbook.worksheet_cells_reader(name).map_err(|e| workbook_error(format, e))?;
            while let Some(cell) = cells.next_cell().map_err(|e| workbook_error(format, e))? {
                out.push(cell.get_position(), Value::from(cell.get_value()))?;
            }
        }
        Workbook::Xlsb(mut workbook) => {
            let mut cells = workbook.worksheet_cells_reader(name).map_err(|e| workbook_error(format, e))?;
            while let Some(cell) = cells.next_cell().map_err(|e| workbook_error(format, e))? {
                out.push(cell.get_position(), Value::from(cell.get_value()))?;
            }
        }
        Workbook::Xls(mut workbook) => {
            push_range(&mut out, &workbook.worksheet_range(name).map_err(|e| workbook_error(format, e))?)?
        }
        Workbook::Ods(mut workbook) => {
            push_range(&mut out, &workbook.worksheet_range(name).map_err(|e| workbook_error(format, e))?)?
        }
    }
    out.finish()
}

fn push_range(out: &mut Assembler<'_>, range: &calamine::Range<Data>) -> Result<()> {
    let Some((top, left)) = range.start() else {
        return Ok(());
    };
    for (r, cells) in range.rows().enumerate() {
        for (c, value) in cells.iter().enumerate() {
            let position = (top.saturating_add(r as u32), left.saturating_add(c as u32));
            out.push(position, Value::from(value))?;
        }
    }
    Ok(())
}

fn workbook_error(format: Format, err: impl std::fmt::Display) -> Error {
    let text = err.to_string();
    if text.contains("password protected") {
        return ErrorKind::Encrypted.into();
    }
    Error::corrupt(format, text)
}

/// Picks the sheet to read and describes the workbook.
fn choose(sheets: &[calamine::Sheet], selector: &SheetSelector, format: Format) -> Result<(String, SourceInfo)> {
    let names: Vec<String> = sheets.iter().map(|s| s.name.clone()).collect();
    let not_found =
        |requested: String| -> Error { ErrorKind::SheetNotFound { requested, available: names.clone() }.into() };
    let chosen = match selector {
        SheetSelector::FirstVisible => sheets
            .iter()
            .find(|s| {
                s.typ == SheetType::WorkSheet
                    && s.visible == SheetVisible::Visible
                    && s.name != super::REPORT_SUMMARY_SHEET
            })
            .or_else(|| sheets.iter().find(|s| s.typ == SheetType::WorkSheet))
            .ok_or_else(|| not_found("with cells (the workbook has no worksheet)".into()))?,
        SheetSelector::Name(name) => sheets
            .iter()
            .find(|s| s.name == *name)
            .or_else(|| sheets.iter().find(|s| s.name.trim().to_lowercase() == name.trim().to_lowercase()))
            .ok_or_else(|| not_found(format!("'{name}'")))?,
        SheetSelector::Index(i) => sheets.get(*i).ok_or_else(|| not_found(format!("number {i} (counting from 0)")))?,
    };
    let mut info = SourceInfo::new(format);
    info.sheet = Some(chosen.name.clone());
    info.sheets = sheets
        .iter()
        .map(|s| SheetInfo { name: s.name.clone(), visible: s.visible == SheetVisible::Visible })
        .collect();
    Ok((chosen.name.clone(), info))
}

/// A cell value from either of calamine's cell types.
enum Value<'a> {
    Empty,
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    DateTime(ExcelDateTime),
    Iso(&'a str),
    DurationIso(&'a str),
    Error(&'a CellErrorType),
}

impl<'a> From<&'a Data> for Value<'a> {
    fn from(data: &'a Data) -> Self {
        match data {
            Data::Empty => Value::Empty,
            Data::String(s) => Value::Text(s),
            Data::Int(i) => Value::Int(*i),
            Data::Float(f) => Value::Float(*f),
            Data::Bool(b) => Value::Bool(*b),
            Data::DateTime(d) => Value::DateTime(*d),
            Data::DateTimeIso(s) => Value::Iso(s),
            Data::DurationIso(s) => Value::DurationIso(s),
            Data::Error(e) => Value::Error(e),
        }
    }
}

impl<'a> From<&'a DataRef<'a>> for Value<'a> {
    fn from(data: &'a DataRef<'a>) -> Self {
        match data {
            DataRef::Empty => Value::Empty,
            DataRef::String(s) => Value::Text(s),
            DataRef::SharedString(s) => Value::Text(s),
            DataRef::Int(i) => Value::Int(*i),
            DataRef::Float(f) => Value::Float(*f),
            DataRef::Bool(b) => Value::Bool(*b),
            DataRef::DateTime(d) => Value::DateTime(*d),
            DataRef::DateTimeIso(s) => Value::Iso(s),
            DataRef::DurationIso(s) => Value::DurationIso(s),
            DataRef::Error(e) => Value::Error(e),
        }
    }
}

/// Writes a cell's value as the text a person means by it.
fn write_value(value: &Value<'_>, out: &mut String) {
    match value {
        Value::Empty => {}
        Value::Text(s) => out.push_str(s),
        Value::Int(i) => out.push_str(itoa::Buffer::new().format(*i)),
        Value::Float(f) => write_number(*f, out),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::DateTime(d) => write_datetime(d, out),
        Value::Iso(s) => out.push_str(s.strip_suffix(".000").unwrap_or(s)),
        Value::DurationIso(s) => write_iso_duration(s, out),
        Value::Error(e) => {
            let _ = write!(out, "{e}");
        }
    }
}

/// Whole numbers without a fraction (`10045`, never `10045.0` or `1.0045E4`); other numbers
/// rounded to the 15 significant digits a spreadsheet shows.
pub(crate) fn write_number(f: f64, out: &mut String) {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.2e18 {
        out.push_str(itoa::Buffer::new().format(f as i64));
    } else if f.is_finite() {
        let rounded: f64 = format!("{f:.14e}").parse().unwrap_or(f);
        let _ = write!(out, "{rounded}");
    } else {
        let _ = write!(out, "{f}");
    }
}

/// ISO 8601: `2024-01-15` for a date, `08:30:00` for a time of day, `2024-01-15T13:45:30` for
/// both; durations as `hh:mm:ss` (hours may pass 24). Milliseconds only when present.
fn write_datetime(d: &ExcelDateTime, out: &mut String) {
    let value = d.as_f64();
    if d.is_duration() {
        write_seconds((value * 86_400.0).round() as i64, out);
        return;
    }
    let (year, month, day, hour, minute, second, milli) = d.to_ymd_hms_milli();
    let has_time = value.fract() != 0.0;
    let has_date = value >= 1.0;
    if has_date || !has_time {
        let _ = write!(out, "{year:04}-{month:02}-{day:02}");
    }
    if has_time {
        if has_date {
            out.push('T');
        }
        let _ = write!(out, "{hour:02}:{minute:02}:{second:02}");
        if milli != 0 {
            let _ = write!(out, ".{milli:03}");
        }
    }
}

fn write_seconds(total: i64, out: &mut String) {
    let sign = if total < 0 { "-" } else { "" };
    let total = total.unsigned_abs();
    let _ = write!(out, "{sign}{:02}:{:02}:{:02}", total / 3600, total / 60 % 60, total % 60);
}

/// ODS durations (`PT08H30M00S`) as `08:30:00`; anything else as it is.
fn write_iso_duration(s: &str, out: &mut String) {
    let parse = || -> Option<i64> {
        let rest = s.strip_prefix("PT")?;
        let (hours, rest) = rest.split_once('H')?;
        let (minutes, rest) = rest.split_once('M')?;
        let seconds = rest.strip_suffix('S')?;
        let seconds: f64 = seconds.parse().ok()?;
        Some(hours.parse::<i64>().ok()? * 3600 + minutes.parse::<i64>().ok()? * 60 + seconds.round() as i64)
    };
    match parse() {
        Some(total) => write_seconds(total, out),
        None => out.push_str(s),
    }
}

/// Turns a stream of positioned cells (row by row) into rows, and sends them in batches.
struct Assembler<'a> {
    tx: &'a SyncSender<Message>,
    batch: Vec<Row>,
    row: Option<Row>,
    row_index: u32,
    next_column: usize,
    max_columns: usize,
    text: String,
}

impl<'a> Assembler<'a> {
    fn new(tx: &'a SyncSender<Message>, max_columns: usize) -> Self {
        Assembler {
            tx,
            batch: Vec::with_capacity(BATCH),
            row: None,
            row_index: 0,
            next_column: 0,
            max_columns,
            text: String::new(),
        }
    }

    fn send(&self, message: Message) -> Result<()> {
        // The table was dropped: stop reading.
        self.tx.send(message).map_err(|_| Error::empty("the reader was closed"))
    }

    fn push(&mut self, (row_index, column): (u32, u32), value: Value<'_>) -> Result<()> {
        if matches!(value, Value::Empty) || matches!(value, Value::Text(s) if s.is_empty()) {
            return Ok(());
        }
        if self.row.is_none() || row_index != self.row_index {
            self.flush()?;
            self.row = Some(Row { number: u64::from(row_index) + 1, ..Row::default() });
            self.row_index = row_index;
            self.next_column = 0;
        }
        let column = column as usize;
        let Some(row) = self.row.as_mut() else {
            return Ok(());
        };
        if column >= self.max_columns {
            if !row.issues.iter().any(|i| i.code == IssueCode::TooLarge) {
                let msg = format!(
                    "the row has cells beyond column {}; they are not read (limit max_columns)",
                    self.max_columns
                );
                row.push_issue(Issue::error(IssueCode::TooLarge, msg));
            }
            return Ok(());
        }
        if column < self.next_column {
            // Cells out of order (rare, hand-made files): rebuild the row.
            self.text.clear();
            write_value(&value, &mut self.text);
            row.cells.set(column, &self.text);
        } else {
            while self.next_column < column {
                row.cells.push_field("");
                self.next_column += 1;
            }
            row.cells.push_with(|text| write_value(&value, text));
            self.next_column += 1;
        }
        if let Value::Error(e) = value {
            let msg = format!("the cell shows the error {e} (a formula that failed); type the value itself");
            let issue = Issue::error(IssueCode::InvalidValue, msg)
                .at_row(row.number)
                .in_column(column, "")
                .with_value(e.to_string());
            row.issues.push(issue);
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if let Some(row) = self.row.take() {
            self.batch.push(row);
            if self.batch.len() >= BATCH {
                let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
                self.send(Message::Rows(batch))?;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        self.flush()?;
        if !self.batch.is_empty() {
            let batch = std::mem::take(&mut self.batch);
            self.send(Message::Rows(batch))?;
        }
        self.send(Message::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::ExcelDateTimeType;

    fn text(value: Value<'_>) -> String {
        let mut out = String::new();
        write_value(&value, &mut out);
        out
    }

    #[test]
    fn numbers_read_as_people_see_them() {
        assert_eq!(text(Value::Float(10045.0)), "10045");
        assert_eq!(text(Value::Float(0.5)), "0.5");
        assert_eq!(text(Value::Float(0.1 + 0.2)), "0.3");
        assert_eq!(text(Value::Float(123456789012.0)), "123456789012");
        assert_eq!(text(Value::Float(-3.0)), "-3");
        assert_eq!(text(Value::Int(9_007_199_254_740_991)), "9007199254740991");
        assert_eq!(text(Value::Bool(true)), "true");
    }

    #[test]
    fn dates_are_iso_8601_in_both_date_systems() {
        let date =
            |v: f64, is_1904: bool| text(Value::DateTime(ExcelDateTime::new(v, ExcelDateTimeType::DateTime, is_1904)));
        assert_eq!(date(45306.0, false), "2024-01-15");
        assert_eq!(date(43844.0, true), "2024-01-15");
        assert_eq!(date(45_306.573_263_888_89, false), "2024-01-15T13:45:30");
        assert_eq!(date(0.354166666666667, false), "08:30:00");
        let duration = Value::DateTime(ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false));
        assert_eq!(text(duration), "36:00:00");
        assert_eq!(text(Value::DurationIso("PT08H30M00S")), "08:30:00");
        assert_eq!(text(Value::Iso("2024-01-15T13:45:30.000")), "2024-01-15T13:45:30");
    }
}
