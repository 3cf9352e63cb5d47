//! Delimited text (CSV, TSV, Excel's "Unicode text") over `csv-core`.
//!
//! Text that is not UTF-8 is transcoded on the fly (`encoding_rs_io`); UTF-8 is read as it is.
//! Records are parsed by `csv-core` straight into a row's buffers. A record's row number is the
//! line on which it starts: blank lines before it are skipped here and counted, because the
//! `csv` crate's own positions point at the blank lines rather than at the record. Lines are
//! counted here too, as spreadsheet programs count them: `\n`, `\r\n` and a lone `\r` (the line
//! end of classic Mac files, which `csv-core` also ends records on but does not count) each end
//! one line.

use std::io::{BufRead, BufReader, Cursor, Read};

use csv_core::ReadRecordResult;
use encoding_rs_io::DecodeReaderBytesBuilder;

use crate::error::Result;
use crate::issue::{Issue, IssueCode};
use crate::source::{limit_error, sniff, Format, Row, RowSource, SharedBytes, SourceInfo, TextEncoding};

/// What the builder says about text files.
pub(crate) struct Options {
    pub(crate) encoding: Option<TextEncoding>,
    pub(crate) delimiter: Option<u8>,
    pub(crate) quote: u8,
}

/// Where the text comes from: a reader, or bytes in memory that can be read in place.
pub(crate) enum Stream {
    Read(Box<dyn Read + Send>),
    Memory(Cursor<SharedBytes>),
}

/// The text being read: bytes in memory (read in place, and split into blocks without a copy),
/// or a buffered stream.
pub(crate) enum Input {
    Memory(Cursor<SharedBytes>),
    Stream(Box<dyn BufRead + Send>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Memory(cursor) => cursor.read(buf),
            Input::Stream(stream) => stream.read(buf),
        }
    }
}

impl BufRead for Input {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self {
            Input::Memory(cursor) => cursor.fill_buf(),
            Input::Stream(stream) => stream.fill_buf(),
        }
    }

    fn consume(&mut self, n: usize) {
        match self {
            Input::Memory(cursor) => cursor.consume(n),
            Input::Stream(stream) => stream.consume(n),
        }
    }
}

/// Rows of a delimited text file.
pub(crate) struct DelimitedRows {
    pub(crate) input: Input,
    core: csv_core::Reader,
    pub(crate) encoding: TextEncoding,
    pub(crate) delimiter: u8,
    pub(crate) quote: u8,
    /// The record being parsed: bytes, and the end offset of each field. Both only grow.
    out: Vec<u8>,
    ends: Vec<usize>,
    /// False until the first record (a UTF-8 BOM may precede it).
    started: bool,
    /// The line the input has reached.
    pub(crate) lines: LineCounter,
}

/// Counts lines over a stream of byte slices: `\n`, `\r\n` and a lone `\r` each end one line,
/// also when a `\r\n` is split between two slices.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LineCounter {
    /// The current line, from 1.
    pub(crate) line: u64,
    /// The last byte seen was `\r` (already counted; a `\n` right after it is not).
    pub(crate) after_cr: bool,
}

impl LineCounter {
    fn new() -> Self {
        LineCounter { line: 1, after_cr: false }
    }

    /// Counts the line ends in the next bytes of the stream.
    pub(crate) fn advance(&mut self, bytes: &[u8]) {
        let Some(&last) = bytes.last() else {
            return;
        };
        // Every `\n`, and every `\r` not followed by `\n` in the slice; a `\r` at its end is
        // counted now and its `\n` skipped later.
        let lf = memchr::memchr_iter(b'\n', bytes).count() as u64;
        let lone_cr = if memchr::memchr(b'\r', bytes).is_some() {
            bytes.iter().zip(&bytes[1..]).filter(|&(&a, &b)| a == b'\r' && b != b'\n').count() as u64
                + u64::from(last == b'\r')
        } else {
            0
        };
        let continued_crlf = u64::from(self.after_cr && bytes[0] == b'\n');
        self.line = self.line.saturating_add(lf + lone_cr - continued_crlf);
        self.after_cr = last == b'\r';
    }
}

/// Sniffs encoding and delimiter from `head`, then reads the whole `stream` (which starts with
/// those same bytes).
pub(crate) fn open(options: &Options, stream: Stream, head: &[u8]) -> Result<(SourceInfo, DelimitedRows)> {
    let encoding = options.encoding.unwrap_or_else(|| sniff::encoding(head));
    let sample = sniff::decode_sample(head, encoding);
    let sep = sniff::sep_line(&sample);
    let delimiter = options.delimiter.or(sep).unwrap_or_else(|| {
        sniff::delimiter(&sample, options.quote, matches!(encoding, TextEncoding::Utf16Le | TextEncoding::Utf16Be))
    });
    let input = match (encoding, stream) {
        // The BOM is dropped by `skip_blank_lines`. Bytes in memory are read in place.
        (TextEncoding::Utf8 | TextEncoding::Utf8Bom, Stream::Memory(memory)) => Input::Memory(memory),
        (TextEncoding::Utf8 | TextEncoding::Utf8Bom, Stream::Read(read)) => {
            Input::Stream(Box::new(BufReader::with_capacity(1 << 16, read)))
        }
        (other, stream) => {
            let read: Box<dyn Read + Send> = match stream {
                Stream::Memory(memory) => Box::new(memory),
                Stream::Read(read) => read,
            };
            let decoded = DecodeReaderBytesBuilder::new()
                .encoding(Some(sniff::encoding_rs(other)))
                .bom_override(true)
                .build(read);
            Input::Stream(Box::new(BufReader::with_capacity(1 << 16, decoded)))
        }
    };
    let core = csv_core::ReaderBuilder::new().delimiter(delimiter).quote(options.quote).build();
    let mut info = SourceInfo::new(Format::Csv);
    info.encoding = Some(encoding);
    info.delimiter = Some(char::from(delimiter));
    let mut rows = DelimitedRows {
        input,
        core,
        encoding,
        delimiter,
        quote: options.quote,
        out: vec![0; 1 << 12],
        ends: vec![0; 64],
        started: false,
        lines: LineCounter::new(),
    };
    if sep.is_some() {
        // Excel's `sep=;` line is an instruction, not a row.
        let mut skipped = Row::default();
        rows.next_row(&mut skipped)?;
    }
    Ok((info, rows))
}

impl DelimitedRows {
    /// Skips the line ends before a record, counting them; false at the end of the input.
    fn skip_blank_lines(&mut self) -> Result<bool> {
        loop {
            let buf = self.input.fill_buf().map_err(limit_error)?;
            if buf.is_empty() {
                return Ok(false);
            }
            if !self.started {
                self.started = true;
                if buf.starts_with(b"\xEF\xBB\xBF") {
                    self.input.consume(3);
                    continue;
                }
            }
            let n = buf.iter().take_while(|&&b| b == b'\n' || b == b'\r').count();
            self.lines.advance(&buf[..n]);
            let all = n == buf.len();
            self.input.consume(n);
            if !all {
                return Ok(true);
            }
        }
    }

    /// Parses one record into `self.out`/`self.ends` (grown as needed); returns their used
    /// lengths.
    fn read_record(&mut self) -> Result<(usize, usize)> {
        let (mut outlen, mut endlen) = (0, 0);
        loop {
            let buf = self.input.fill_buf().map_err(limit_error)?;
            let (result, nin, nout, nend) =
                self.core.read_record(buf, &mut self.out[outlen..], &mut self.ends[endlen..]);
            self.lines.advance(&buf[..nin]);
            self.input.consume(nin);
            outlen += nout;
            endlen += nend;
            match result {
                ReadRecordResult::Record | ReadRecordResult::End => return Ok((outlen, endlen)),
                other => make_room(&other, &mut self.out, &mut self.ends),
            }
        }
    }
}

impl RowSource for DelimitedRows {
    fn next_row(&mut self, row: &mut Row) -> Result<bool> {
        if !self.skip_blank_lines()? {
            return Ok(false);
        }
        row.number = self.lines.line;
        let (outlen, endlen) = self.read_record()?;
        fill_row(row, &self.out[..outlen], &self.ends[..endlen], self.encoding);
        Ok(true)
    }
}

/// Fills `row` with a record parsed by `csv-core`: `bytes` holds the fields end to end and
/// `ends` the end offset of each. The row's number is already set.
pub(crate) fn fill_row(row: &mut Row, bytes: &[u8], ends: &[usize], encoding: TextEncoding) {
    // The fields end to end can be valid UTF-8 when the fields are not: `\xC3` and `\xA9` on
    // either side of a delimiter join into 'é'. Every field end must fall between characters.
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) if ends.iter().all(|&end| text.is_char_boundary(end)) => {
            row.cells.set_record(text, ends);
            if encoding != TextEncoding::Utf8 && encoding != TextEncoding::Utf8Bom {
                flag_replacement_chars(row);
            }
        }
        _ => {
            // A UTF-8 file with a stray Windows-1252 row (pasted from an old file): read
            // that row as Windows-1252 and say so.
            row.cells.clear();
            let mut start = 0;
            for &end in ends {
                let field = bytes.get(start..end).unwrap_or_default();
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(field);
                row.cells.push_field(&text);
                start = end;
            }
            row.push_issue(Issue::warning(
                IssueCode::Encoding,
                "the row is not valid UTF-8 although the rest of the file is; it was read as Windows-1252: check its accented letters",
            ));
        }
    }
}

fn flag_replacement_chars(row: &mut Row) {
    let flagged: Vec<usize> =
        row.cells.iter().enumerate().filter(|(_, c)| c.contains('\u{FFFD}')).map(|(i, _)| i).collect();
    for i in flagged {
        let issue = Issue::warning(
            IssueCode::Encoding,
            "the cell holds bytes that are not valid text in the file's encoding; they were replaced by \u{FFFD}",
        )
        .at_row(row.number)
        .in_column(i, "");
        row.issues.push(issue);
    }
}

/// After csv-core stopped reading a record: doubles its output buffer or its table of field
/// ends, whichever it filled (nothing for the other results).
pub(super) fn make_room(result: &ReadRecordResult, out: &mut Vec<u8>, ends: &mut Vec<usize>) {
    match result {
        ReadRecordResult::OutputFull => out.resize((out.len() * 2).max(64), 0),
        ReadRecordResult::OutputEndsFull => ends.resize((ends.len() * 2).max(8), 0),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn lines(data: &str) -> Vec<(u64, Vec<String>)> {
        let options = Options { encoding: None, delimiter: None, quote: b'"' };
        let stream = Stream::Read(Box::new(Cursor::new(data.as_bytes().to_vec())));
        let (_, mut rows) = open(&options, stream, data.as_bytes()).unwrap();
        let mut out = Vec::new();
        let mut row = Row::default();
        while rows.next_row(&mut row).unwrap() {
            out.push((row.number(), row.iter().map(str::to_string).collect()));
        }
        out
    }

    #[test]
    fn records_are_numbered_by_the_line_they_start_on() {
        assert_eq!(lines("\u{FEFF}\n\nx\n")[0], (3, vec!["x".to_string()]));
        let got = lines("a,b\n\nc,d\r\n\r\n\r\ne,f\r\n\"g\nh\",i\nj,k");
        let numbers: Vec<u64> = got.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [1, 3, 6, 7, 9]);
        assert_eq!(got[3].1, ["g\nh", "i"]);
        assert_eq!(got[4].1, ["j", "k"]);
    }

    /// The second row of a file read as UTF-8.
    fn second_utf8_row(data: &[u8]) -> Row {
        let options = Options { encoding: Some(TextEncoding::Utf8), delimiter: None, quote: b'"' };
        let (_, mut rows) =
            open(&options, Stream::Memory(Cursor::new(SharedBytes(Box::new(data.to_vec())))), data).unwrap();
        let mut row = Row::default();
        assert!(rows.next_row(&mut row).unwrap());
        assert!(rows.next_row(&mut row).unwrap());
        row
    }

    #[test]
    fn a_stray_windows_1252_row_is_read_and_flagged() {
        let row = second_utf8_row(b"a,b\nM\xFCller,x\n");
        assert_eq!(row.get(0), Some("Müller"));
        assert_eq!(row.issues()[0].code, IssueCode::Encoding);
    }

    #[test]
    fn a_character_split_by_a_delimiter_is_not_utf8() {
        // b"\xC3" and b"\xA9" are each invalid UTF-8; side by side they would be 'é'.
        let row = second_utf8_row(b"a,b\n\xC3,\xA9a\n");
        assert_eq!(row.iter().collect::<Vec<_>>(), ["\u{C3}", "\u{A9}a"]);
        assert_eq!(row.issues()[0].code, IssueCode::Encoding);
    }

    #[test]
    fn lone_carriage_returns_end_lines_as_in_classic_mac_files() {
        let numbers = |data: &str| lines(data).iter().map(|(n, _)| *n).collect::<Vec<u64>>();
        assert_eq!(numbers("a,b\rc,d\r\re,f\r"), [1, 2, 4]);
        assert_eq!(numbers("a\r\nb\rc\n\rd"), [1, 2, 3, 5]);
        assert_eq!(numbers("\"x\ry\",1\rz,2"), [1, 3]);
    }

    #[test]
    fn a_crlf_split_between_two_reads_is_one_line_end() {
        let mut counter = LineCounter::new();
        for part in [&b"a\r"[..], b"\nb\r", b"", b"\r", b"\n", b"c\n"] {
            counter.advance(part);
        }
        // a CRLF, b CR, CRLF, c LF: four line ends.
        assert_eq!(counter.line, 5);
    }

    #[test]
    fn an_excel_sep_line_is_not_a_row() {
        let got = lines("sep=;\na;b\n1;2\n");
        assert_eq!(got, [(2, vec!["a".to_string(), "b".to_string()]), (3, vec!["1".into(), "2".into()])]);
    }
}
