//! Reports of any stage, as JSON, CSV or an XLSX workbook (see [`Report`]).

mod json;
mod template;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::{self, Write};
use std::path::Path;

use rust_xlsxwriter::{Color, Format, Note, Workbook, Worksheet, XlsxError};

use crate::apply::{Outcome, Summary};
use crate::error::{Error, ErrorKind, Result};
use crate::issue::Issue;
use crate::mapping::{Mapping, MatchKind};
use crate::plan::Plan;
use crate::schema::{Field, Target};
use crate::source::SourceBuilder;
use crate::validate::Validation;

pub use template::{write_csv_template, write_xlsx_template, TEMPLATE_SHEET};

/// The header of the column the XLSX report adds after the data: each bad row's reasons. The map
/// stage ignores a column with this header, so a fixed report re-imports as it is.
pub const ERRORS_HEADER: &str = crate::mapping::REPORT_ERRORS_HEADER;

/// The name of the first sheet of the XLSX report. The parse stage's default sheet choice passes
/// over it, so a fixed report re-imports as it is.
pub const SUMMARY_SHEET: &str = crate::source::REPORT_SUMMARY_SHEET;

/// What the password column's header note says in an XLSX report.
const PASSWORD_NOTE: &str = "passwords are not copied into reports; type them again";

/// The most bad cells of an XLSX report that get a note with their reasons. rust_xlsxwriter
/// keeps every note in memory (a few kilobytes each, twice over while saving) until the workbook
/// is written, and nobody reads tens of thousands of notes one by one: beyond this, the cells are
/// still filled red, and every row's reasons stay in its Errors column.
pub const MAX_XLSX_NOTES: usize = 10_000;

/// The report of an import: counts, issues, mapping and custom fields, written as JSON, CSV or
/// an XLSX workbook a person fixes and imports again.
///
/// One [`Report`] value is built from any stage's result ([`Report::from_validation`],
/// [`Report::from_plan`], [`Report::from_outcome`]) and every format is written from it:
///
/// * [`Report::to_json`] / [`Report::write_json`]: the JSON contract of the design
///   (`summary`, `issues`, `mapping`, `custom_fields`);
/// * [`Report::write_csv`]: one line per issue;
/// * [`Report::write_xlsx`]: the rows of the file as they were sent, bad cells filled red with
///   the reason in a note, an `Errors` column, and a first `Summary` sheet;
/// * [`Display`](fmt::Display): one line for a person, e.g.
///   `1,204 rows: 1,180 created, 12 updated, 12 failed (8 invalid email, 4 unknown role)`.
///
/// Every text written to a CSV or XLSX cell that a spreadsheet program would take for a formula
/// (it starts with `=`, `+`, `-`, `@`, a tab or a carriage return) is neutralised with a leading
/// `'`, and XLSX cells are written as strings, never as formulas. Passwords never appear: issues
/// do not keep them, and the password column of the XLSX report is left empty.
///
/// ```
/// use user_import::{ImportConfig, Importer, MemoryDirectory, Report};
///
/// # fn main() -> Result<(), user_import::Error> {
/// let csv = "First Name,Last Name,Login,Email\nAda,Lovelace,ada,ada@example.com\nBob,B,bob,bob@\n";
/// let validation = Importer::new(ImportConfig::default()).validate_bytes(csv, &MemoryDirectory::new())?;
/// let report = Report::from_validation(&validation);
/// assert_eq!(report.to_string(), "2 rows: 1 valid, 1 invalid (1 invalid email)");
/// assert!(report.to_json().contains(r#""code": "invalid_email""#));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Report {
    /// The counts. For a validation only `rows`, `valid` and `invalid` are filled.
    pub summary: Summary,
    /// Every issue, file-level first, then by row and column.
    pub issues: Vec<Issue>,
    /// Every column of the file in order: its header and the field it maps to (`None` when
    /// unmapped), e.g. `("E-mail", Some("email"))`, `("Hire", Some("product:hire"))`.
    pub mapping: Vec<(String, Option<String>)>,
    /// The headers of the unknown columns offered or accepted as custom fields.
    pub custom_fields: Vec<String>,
}

impl Report {
    /// The report of a validation (no plan yet: nothing is created or updated).
    pub fn from_validation(validation: &Validation) -> Report {
        let summary = Summary {
            rows: validation.rows(),
            valid: validation.valid(),
            invalid: validation.invalid(),
            ..Summary::default()
        };
        Report::new(summary, validation.issues().to_vec(), validation.mapping())
    }

    /// The report of a plan (a dry run): what applying it would create, update, and so on.
    pub fn from_plan(plan: &Plan) -> Report {
        let mut report = Report::from_plan_without_issues(plan);
        report.issues = plan.collect_issues();
        report
    }

    /// The report of a plan that is no longer needed: [`Report::from_plan`] without copying its
    /// issues (what a dry run of a large file wants).
    ///
    /// ```
    /// use user_import::{ImportConfig, Importer, MemoryDirectory, Plan, Report};
    ///
    /// # fn main() -> Result<(), user_import::Error> {
    /// let importer = Importer::new(ImportConfig::default());
    /// let directory = MemoryDirectory::new();
    /// let validation = importer.validate_bytes("Login,First Name,Last Name,Email\nada,Ada,L,ada@\n", &directory)?;
    /// let plan = Plan::new(validation, importer.config(), &directory)?;
    /// let copied = Report::from_plan(&plan);
    /// let moved = Report::from_plan_owned(plan);
    /// assert_eq!(moved, copied);
    /// assert_eq!(moved.summary.failed, 1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_plan_owned(plan: Plan) -> Report {
        let mut report = Report::from_plan_without_issues(&plan);
        report.issues = plan.into_issues();
        report
    }

    /// [`Report::from_plan`] with no issues yet.
    fn from_plan_without_issues(plan: &Plan) -> Report {
        let planned = plan.summary();
        let summary = Summary {
            rows: planned.rows,
            valid: planned.valid,
            invalid: planned.invalid,
            created: planned.create,
            updated: planned.update,
            unchanged: planned.unchanged,
            skipped: planned.skip,
            failed: planned.fail,
        };
        Report::new(summary, Vec::new(), plan.mapping())
    }

    /// The report of an applied plan: what was created, updated, and so on.
    pub fn from_outcome(plan: &Plan, outcome: &Outcome) -> Report {
        Report::new(outcome.summary, outcome.issues.clone(), plan.mapping())
    }

    fn new(summary: Summary, issues: Vec<Issue>, mapping: &Mapping) -> Report {
        let columns = mapping.columns();
        let custom_fields = columns
            .iter()
            .filter(|c| (c.how == MatchKind::Unmapped || c.how == MatchKind::CustomField) && !c.header.is_empty())
            .map(|c| c.header.clone())
            .collect();
        let mapping = columns.iter().map(|c| (c.header.clone(), c.target.as_ref().map(Target::to_string))).collect();
        Report { summary, issues, mapping, custom_fields }
    }

    /// The report as JSON, in the contract's shape:
    /// `{"summary": {...}, "issues": [...], "mapping": [{"column", "field"}], "custom_fields": [...]}`.
    pub fn to_json(&self) -> String {
        let mut bytes = Vec::new();
        // Writing to memory cannot fail, and every piece written is UTF-8.
        let _ = json::write_report(self, &mut bytes);
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// Writes [`Report::to_json`] to a writer, buffered here (as `csv` buffers): a `File` can be
    /// passed as it is.
    pub fn write_json(&self, writer: impl Write) -> io::Result<()> {
        let mut writer = io::BufWriter::with_capacity(64 * 1024, writer);
        json::write_report(self, &mut writer)?;
        writer.flush()
    }

    /// Writes the issues as CSV, one line each, under the header
    /// `row,column,field,code,severity,message,value` (texts a spreadsheet program would take
    /// for a formula are neutralised, see [`Report`]).
    pub fn write_csv(&self, writer: impl Write) -> io::Result<()> {
        let mut csv = csv::Writer::from_writer(writer);
        csv.write_record(["row", "column", "field", "code", "severity", "message", "value"])?;
        for issue in &self.issues {
            let row = issue.row.map(|r| r.to_string()).unwrap_or_default();
            let code = issue.code.to_string();
            let cells = [
                row.as_str(),
                issue.column.as_deref().unwrap_or(""),
                issue.field.as_deref().unwrap_or(""),
                code.as_str(),
                issue.severity.as_str(),
                issue.message.as_str(),
                issue.value.as_deref().unwrap_or(""),
            ];
            csv.write_record(cells.map(neutralize).iter().map(|c| c.as_bytes()))?;
        }
        csv.flush()
    }

    /// Writes the XLSX report: a first sheet `Summary` (the counts, the issues by code, the
    /// file-level issues), then the file's own rows as they were sent — re-read from `source`
    /// with the same `source_options` — with each bad cell filled red and its reasons in a note,
    /// and an `Errors` column after the data on each bad row. Valid rows are left plain.
    ///
    /// The header and the cells keep their original texts (neutralised), so a person fixes the
    /// red cells and imports the sheet again; the password column is left empty (its header
    /// note says why).
    ///
    /// The source is read twice (a first pass finds the widest row) and the data sheet written a
    /// row at a time through a temporary file, so memory holds the issues, not the file.
    ///
    /// The first [`MAX_XLSX_NOTES`] bad cells get their note; the `Summary` sheet says so when
    /// there are more.
    pub fn write_xlsx(
        &self,
        source: impl AsRef<Path>,
        source_options: &SourceBuilder,
        out: impl AsRef<Path>,
    ) -> Result<()> {
        self.write_xlsx_with_notes(source.as_ref(), source_options, out.as_ref(), MAX_XLSX_NOTES)
    }

    fn write_xlsx_with_notes(
        &self,
        source: &Path,
        source_options: &SourceBuilder,
        out: &Path,
        max_notes: usize,
    ) -> Result<()> {
        // Issues by row, and by (row, column).
        let mut by_row: HashMap<u64, Vec<&Issue>> = HashMap::new();
        for issue in self.issues.iter() {
            if let Some(row) = issue.row {
                by_row.entry(row).or_default().push(issue);
            }
        }
        // A first pass finds the widest row (the Errors column comes after it), counts the red
        // cells, and checks that the rows come in order, as they do unless a hand-made workbook
        // stores them otherwise: then the data sheet is written a row at a time through a
        // temporary file (rust_xlsxwriter's constant-memory mode), so a report of a million rows
        // holds neither the file nor the sheet in memory. The second pass writes the rows as it
        // reads them.
        let (width, bad_cells, in_order) = {
            let mut table = source_options.from_path(source)?;
            let (mut width, mut bad_cells, mut last, mut in_order) =
                (table.headers().len(), 0, table.header_row(), true);
            for row in table.rows() {
                let row = row?;
                width = width.max(row.len());
                if let Some(issues) = by_row.get(&row.number()) {
                    bad_cells += (0..row.len()).filter(|&i| cell_reasons(issues, i).next().is_some()).count();
                }
                in_order &= row.number() > last;
                last = row.number();
            }
            (width, bad_cells, in_order)
        };
        let mut table = source_options.from_path(source)?;
        let headers = table.headers().to_vec();
        let header_row = table.header_row().saturating_sub(1);
        let sheet_name = table
            .info()
            .sheet
            .clone()
            .filter(|name| !name.trim().eq_ignore_ascii_case(SUMMARY_SHEET))
            .unwrap_or_else(|| "Users".to_string());

        let password = self.mapping.iter().position(|(_, field)| field.as_deref() == Some(Field::Password.key()));
        let errors_col = col(width)?;

        let mut notes_left = max_notes;

        let mut workbook = Workbook::new();
        let bold = Format::new().set_bold();
        let bad = Format::new().set_background_color(Color::RGB(0xFFC7CE)).set_font_color(Color::RGB(0x9C0006));

        let summary = workbook.add_worksheet();
        summary.set_name(SUMMARY_SHEET).map_err(write_error)?;
        let notes = (bad_cells > max_notes).then_some((max_notes, bad_cells));
        self.write_summary_sheet(summary, &bold, &sheet_name, notes).map_err(write_error)?;

        // The sheet's temporary file (unnamed: gone when closed) goes beside the report, in a
        // directory the report is written to anyway and on disk, where the system's temporary
        // directory may be memory (tmpfs). When it cannot, the system's temporary directory is
        // used, and without either the sheet is kept in memory instead.
        if in_order {
            let beside = out.parent().filter(|dir| !dir.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let _ = workbook.set_tempdir(beside);
        }
        if !(in_order && workbook.add_worksheet_with_constant_memory().is_ok()) {
            workbook.add_worksheet();
        }
        let data = workbook.worksheet_from_index(1).map_err(write_error)?;
        if data.set_name(&sheet_name).is_err() {
            data.set_name("Users").map_err(write_error)?;
        }
        data.set_column_width(errors_col, 60).map_err(write_error)?;
        let header_at = row_num(header_row)?;
        for (i, header) in headers.iter().enumerate() {
            data.write_string_with_format(header_at, col(i)?, xlsx_text(header), &bold).map_err(write_error)?;
        }
        data.write_string_with_format(header_at, errors_col, ERRORS_HEADER, &bold).map_err(write_error)?;
        if let Some(p) = password {
            data.insert_note(header_at, col(p)?, &note(PASSWORD_NOTE)).map_err(write_error)?;
        }

        for row in table.rows() {
            let row = row?;
            let number = row.number();
            let at = row_num(number.saturating_sub(1))?;
            let issues = by_row.get(&number).map(Vec::as_slice).unwrap_or_default();
            for (i, cell) in row.iter().enumerate() {
                let reasons: Vec<&str> = cell_reasons(issues, i).collect();
                let text = if Some(i) == password { "" } else { cell };
                if reasons.is_empty() {
                    if !text.is_empty() {
                        data.write_string(at, col(i)?, xlsx_text(text)).map_err(write_error)?;
                    }
                } else {
                    data.write_string_with_format(at, col(i)?, xlsx_text(text), &bad).map_err(write_error)?;
                    if notes_left > 0 {
                        notes_left -= 1;
                        data.insert_note(at, col(i)?, &note(&reasons.join("\n"))).map_err(write_error)?;
                    }
                }
            }
            if !issues.is_empty() {
                let reasons: Vec<String> = issues.iter().map(|issue| row_reason(issue)).collect();
                data.write_string(at, errors_col, xlsx_text(&reasons.join("; "))).map_err(write_error)?;
            }
        }
        data.set_active(true);
        workbook.save(out).map_err(write_error)?;
        Ok(())
    }

    /// `notes`: how many bad cells have a note, of how many, when not all do.
    fn write_summary_sheet(
        &self,
        sheet: &mut Worksheet,
        bold: &Format,
        data_sheet: &str,
        notes: Option<(usize, usize)>,
    ) -> std::result::Result<(), XlsxError> {
        sheet.write_string_with_format(0, 0, "Import report", bold)?;
        sheet.write_string(1, 0, xlsx_text(&self.to_string()))?;
        sheet.write_string_with_format(3, 0, "Count", bold)?;
        sheet.write_string_with_format(3, 1, "Rows", bold)?;
        let mut at = 4;
        for (name, count) in self.summary.named() {
            sheet.write_string(at, 0, name)?;
            sheet.write_number(at, 1, count as f64)?;
            at += 1;
        }
        at += 1;
        sheet.write_string_with_format(at, 0, "Issue code", bold)?;
        sheet.write_string_with_format(at, 1, "Issues", bold)?;
        for (code, count) in self.counts_by_code(false) {
            at += 1;
            sheet.write_string(at, 0, xlsx_text(&code))?;
            sheet.write_number(at, 1, count as f64)?;
        }
        let file_level: Vec<&Issue> = self.issues.iter().filter(|i| i.row.is_none()).collect();
        if !file_level.is_empty() {
            at += 2;
            sheet.write_string_with_format(at, 0, "File-level issues", bold)?;
            for issue in file_level {
                at += 1;
                sheet.write_string(at, 0, xlsx_text(issue.code.as_str()))?;
                sheet.write_string(at, 1, xlsx_text(&issue.to_string()))?;
            }
        }
        at += 2;
        let hint = format!(
            "The sheet '{data_sheet}' holds the rows as they were sent: fix the red cells (their notes say why), \
             then import this file again as it is: this sheet and the '{ERRORS_HEADER}' column are ignored."
        );
        sheet.write_string(at, 0, xlsx_text(&hint))?;
        if let Some((noted, bad)) = notes {
            at += 1;
            let text = format!(
                "The first {} of the {} red cells have a note with their reasons; the '{ERRORS_HEADER}' column of \
                 every row lists them all.",
                thousands(noted as u64),
                thousands(bad as u64)
            );
            sheet.write_string(at, 0, xlsx_text(&text))?;
        }
        sheet.set_column_width(0, 24)?;
        sheet.set_column_width(1, 12)?;
        Ok(())
    }

    /// Issues by code, most frequent first (ties in code order); `errors_only` leaves warnings out.
    fn counts_by_code(&self, errors_only: bool) -> Vec<(String, usize)> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for issue in self.issues.iter().filter(|i| !errors_only || i.is_error()) {
            *counts.entry(issue.code.to_string()).or_insert(0) += 1;
        }
        let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        counts
    }
}

impl fmt::Display for Report {
    /// `1,204 rows: 1,180 created, 12 updated, 12 failed (8 invalid email, 4 unknown role)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.summary;
        let outcome = [
            (s.created, "created"),
            (s.updated, "updated"),
            (s.unchanged, "unchanged"),
            (s.skipped, "skipped"),
            (s.failed, "failed"),
        ];
        let parts: Vec<(u64, &str)> = if outcome.iter().all(|(n, _)| *n == 0) {
            vec![(s.valid, "valid"), (s.invalid, "invalid")]
        } else {
            outcome.to_vec()
        };
        let row_word = if s.rows == 1 { "row" } else { "rows" };
        write!(f, "{} {row_word}", thousands(s.rows))?;
        let parts: Vec<String> =
            parts.into_iter().filter(|(n, _)| *n > 0).map(|(n, word)| format!("{} {word}", thousands(n))).collect();
        if !parts.is_empty() {
            write!(f, ": {}", parts.join(", "))?;
        }
        let codes: Vec<String> = self
            .counts_by_code(true)
            .into_iter()
            .map(|(code, n)| {
                let name = code.strip_prefix("custom:").unwrap_or(&code).replace('_', " ");
                format!("{} {name}", thousands(n as u64))
            })
            .collect();
        if !codes.is_empty() {
            write!(f, " ({})", codes.join(", "))?;
        }
        Ok(())
    }
}

/// A text made safe for a spreadsheet cell: one that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return (a formula, or a formula in disguise) gets a leading `'`.
///
/// ```
/// use user_import::neutralize;
///
/// assert_eq!(neutralize("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
/// assert_eq!(neutralize("Ada"), "Ada");
/// ```
pub fn neutralize(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// `1204` → `"1,204"`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An issue in a row's `Errors` cell: the column first when it concerns one.
fn row_reason(issue: &Issue) -> String {
    match &issue.column {
        Some(column) => format!("{column}: {}", issue.message),
        None => issue.message.clone(),
    }
}

/// The messages of a row's issues about the cell in `column`: a red cell when there are any.
fn cell_reasons<'a>(issues: &'a [&'a Issue], column: usize) -> impl Iterator<Item = &'a str> + 'a {
    issues.iter().filter(move |issue| issue.column_index == Some(column)).map(|issue| issue.message.as_str())
}

fn note(text: &str) -> Note {
    Note::new(clip(neutralize(text), MAX_NOTE_TEXT)).set_author("user-import").add_author_prefix(false)
}

/// Excel's longest cell text, in UTF-16 code units.
const MAX_CELL_TEXT: usize = 32_767;
/// The longest note rust_xlsxwriter writes (Excel's limit less its own markup).
const MAX_NOTE_TEXT: usize = MAX_CELL_TEXT - 54;

/// A text for an XLSX cell: neutralised, and cut (ending with `…`) to what a cell holds, so
/// that a huge value in a hostile file cannot stop the whole report from being written.
pub(crate) fn xlsx_text(text: &str) -> Cow<'_, str> {
    clip(neutralize(text), MAX_CELL_TEXT)
}

/// `text` cut to at most `max` UTF-16 code units (what Excel counts), `…` included.
fn clip(text: Cow<'_, str>, max: usize) -> Cow<'_, str> {
    // A UTF-8 string never has more UTF-16 units than bytes.
    if text.len() <= max {
        return text;
    }
    let mut units = 0;
    let mut end = text.len();
    for (at, c) in text.char_indices() {
        if units + c.len_utf16() > max - 1 {
            end = at;
            break;
        }
        units += c.len_utf16();
    }
    if end == text.len() {
        return text;
    }
    Cow::Owned(format!("{}…", &text[..end]))
}

pub(crate) fn write_error(err: XlsxError) -> Error {
    Error::new(ErrorKind::Write(err.to_string()))
}

pub(crate) fn col(index: usize) -> Result<u16> {
    u16::try_from(index)
        .map_err(|_| Error::new(ErrorKind::Write(format!("column {} is beyond a worksheet", index + 1))))
}

pub(crate) fn row_num(index: u64) -> Result<u32> {
    u32::try_from(index).map_err(|_| Error::new(ErrorKind::Write(format!("row {} is beyond a worksheet", index + 1))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::IssueCode;

    fn report(summary: Summary, issues: Vec<Issue>) -> Report {
        Report { summary, issues, mapping: Vec::new(), custom_fields: Vec::new() }
    }

    #[test]
    fn xlsx_notes_stop_at_the_limit_and_the_summary_says_so() {
        use calamine::Reader;
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("users.csv");
        let rows: String = (0..5).map(|i| format!("Ada,Lovelace,ada{i},ada{i}@\n")).collect();
        std::fs::write(&source, format!("First Name,Last Name,Login,Email\n{rows}")).unwrap();
        let importer = crate::Importer::new(crate::ImportConfig::default());
        let validation = importer.validate_path(&source, &crate::MemoryDirectory::new()).unwrap();
        let report = Report::from_validation(&validation);
        assert_eq!(report.issues.iter().filter(|i| i.column_index.is_some()).count(), 5, "{:?}", report.issues);

        let notes_and_summary = |max_notes: usize| {
            let out = dir.path().join(format!("report-{max_notes}.xlsx"));
            report.write_xlsx_with_notes(&source, &importer.source_builder(), &out, max_notes).unwrap();
            let mut zip = zip::ZipArchive::new(std::fs::File::open(&out).unwrap()).unwrap();
            let mut comments = String::new();
            zip.by_name("xl/comments1.xml").unwrap().read_to_string(&mut comments).unwrap();
            let mut workbook = calamine::open_workbook_auto(&out).unwrap();
            let summary = workbook.worksheet_range(SUMMARY_SHEET).unwrap();
            let texts: Vec<String> = summary.rows().filter_map(|r| r.first().map(|c| c.to_string())).collect();
            let data = workbook.worksheet_range("Users").unwrap();
            let errors: Vec<String> = data.rows().skip(1).map(|r| r[4].to_string()).collect();
            (comments.matches("<comment ").count(), texts, errors)
        };
        let (notes, summary, errors) = notes_and_summary(2);
        assert_eq!(notes, 2);
        assert!(summary.iter().any(|t| t.starts_with("The first 2 of the 5 red cells have a note")), "{summary:?}");
        assert!(
            errors.iter().all(|e| e.contains("is not an email address")),
            "every row keeps its reasons: {errors:?}"
        );
        let (notes, summary, _) = notes_and_summary(MAX_XLSX_NOTES);
        assert_eq!(notes, 5);
        assert!(!summary.iter().any(|t| t.contains("red cells have a note")), "{summary:?}");
    }

    /// Counts the writes that reach the writer given (each would be a system call on a file).
    #[derive(Default)]
    struct CountingWriter {
        bytes: Vec<u8>,
        writes: usize,
        flushed: bool,
    }

    impl Write for CountingWriter {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.writes += 1;
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            self.flushed = true;
            Ok(())
        }
    }

    #[test]
    fn the_json_report_reaches_its_writer_in_a_few_large_writes() {
        let issues: Vec<Issue> = (0..5_000u64)
            .map(|row| {
                Issue::error(IssueCode::InvalidEmail, format!("'user{row}@' is not an email address"))
                    .at_row(row + 2)
                    .for_field("email")
                    .with_value(format!("user{row}@"))
            })
            .collect();
        let report = report(Summary { rows: 5_000, invalid: 5_000, ..Summary::default() }, issues);
        let mut out = CountingWriter::default();
        report.write_json(&mut out).unwrap();
        assert_eq!(String::from_utf8(out.bytes.clone()).unwrap(), report.to_json());
        // About 1.2 MB: a few dozen writes of the buffer, not one per token (~200,000).
        assert!(out.writes < 100, "{} writes for {} bytes", out.writes, out.bytes.len());
        assert!(out.flushed);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_204), "1,204");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }

    #[test]
    fn display_lists_non_zero_counts_and_codes_by_frequency() {
        let mut issues = Vec::new();
        for row in 0..8 {
            issues.push(Issue::error(IssueCode::InvalidEmail, "x").at_row(row + 2));
        }
        for row in 0..4 {
            issues.push(Issue::error(IssueCode::UnknownRole, "x").at_row(row + 20));
        }
        issues.push(Issue::warning(IssueCode::RaggedRow, "x").at_row(30));
        let summary = Summary {
            rows: 1204,
            valid: 1192,
            invalid: 12,
            created: 1180,
            updated: 12,
            failed: 12,
            ..Summary::default()
        };
        assert_eq!(
            report(summary, issues).to_string(),
            "1,204 rows: 1,180 created, 12 updated, 12 failed (8 invalid email, 4 unknown role)"
        );
        let validation = Summary { rows: 3, valid: 3, ..Summary::default() };
        assert_eq!(report(validation, Vec::new()).to_string(), "3 rows: 3 valid");
        assert_eq!(report(Summary::default(), Vec::new()).to_string(), "0 rows");
        let custom = vec![Issue::error(IssueCode::Custom("needs_end_date".into()), "x").at_row(2)];
        let one = Summary { rows: 1, invalid: 1, ..Summary::default() };
        assert_eq!(report(one, custom).to_string(), "1 row: 1 invalid (1 needs end date)");
    }

    #[test]
    fn xlsx_texts_are_cut_to_what_a_cell_holds() {
        assert_eq!(xlsx_text("=1"), "'=1");
        let long = "é".repeat(40_000);
        let cut = xlsx_text(&long);
        assert_eq!(cut.encode_utf16().count(), MAX_CELL_TEXT);
        assert!(cut.ends_with("é…"));
        let emoji = format!("={}", "😀".repeat(20_000));
        let cut = xlsx_text(&emoji);
        assert!(cut.starts_with("'=😀") && cut.ends_with('…'));
        assert!(cut.encode_utf16().count() <= MAX_CELL_TEXT);
        let exact = "a".repeat(MAX_CELL_TEXT);
        assert_eq!(xlsx_text(&exact), exact);
    }

    #[test]
    fn neutralises_formula_starts_only() {
        for text in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralize(text), format!("'{text}"));
        }
        for text in ["", "Ada", "a=b", " =1", "'=1"] {
            assert_eq!(neutralize(text), text);
        }
    }
}
